# Slipstream: the bot service (`slipstream run`).
# Slim, non-root, dependency layer cached separately from the source.
# Base image pinned by exact tag (Python patch release and Debian release): a rebuild
# never picks up a different interpreter or distribution behind our back.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FASTF1_CACHE_DIR=/data/fastf1 \
    DATABASE_URL=sqlite:////data/slipstream.db \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9108 \
    SLACK_HOST=0.0.0.0 \
    SLACK_PORT=3000 \
    SLIPSTREAM_BOOTSTRAP=1

WORKDIR /app

# 1. Dependencies only: this layer is rebuilt when pyproject.toml changes, not on every code edit.
#    Empty package stubs let pip resolve and install the project's dependencies.
COPY pyproject.toml README.md ./
RUN mkdir -p bot adapters storage prompts slipstream \
    && touch bot/__init__.py adapters/__init__.py storage/__init__.py prompts/__init__.py slipstream/__init__.py \
    && pip install . \
    && pip uninstall -y slipstream \
    && rm -rf bot adapters storage prompts slipstream build *.egg-info

# 2. The code (no dependency resolution: already installed above).
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY prompts ./prompts
COPY slipstream ./slipstream
RUN pip install --no-deps . && rm -rf build *.egg-info

# Non-root user; /data holds the FastF1 cache (and the SQLite store when no PostgreSQL is used).
RUN useradd --create-home --uid 10001 slipstream \
    && mkdir -p /data/fastf1 && chown -R slipstream:slipstream /data
USER slipstream
VOLUME ["/data"]
# 9108: /healthz and /metrics; 3000: Slack HTTP mode (Events API, slash commands).
EXPOSE 9108 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('METRICS_PORT', '9108'), timeout=4)" || exit 1

# SIGTERM (docker stop) shuts down cleanly: replies finish, pending posts flush, leadership is released.
# `db upgrade` creates the store on a fresh volume and migrates an existing one (replicas starting
# together take turns on a lock); `run` itself refuses a missing SQLite store (a typo'd path).
# `bootstrap` then imports the bundled 2023 history and calendar into an empty store only
# (a filled store is left alone; SLIPSTREAM_BOOTSTRAP=0 skips it).
# `exec` replaces the shell with `run`, so `run` itself receives the SIGTERM.
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "slipstream db upgrade && slipstream bootstrap && exec slipstream run"]
