"""Deployment files agree with the code.

`.env.example` lists every setting with its default; the Dockerfile and compose file
pin their images, health-check `/healthz`, make Slack HTTP mode reachable and bootstrap
an empty store; the CLI prints its version and shows flags as flags. No Docker engine
runs here, so the files are checked as text and the commands they run are run for real.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings
from bot.settings import Settings

# Core settings, and each platform's beside its adapter: one .env serves them all.
SETTINGS = (Settings, DiscordSettings, SlackSettings)

ROOT = Path(__file__).resolve().parents[2]


def _env_example() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, commented out)."""
    out: dict[str, tuple[str, bool]] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if m:
            name = m.group(2)
            assert name not in out, f"{name} listed twice"
            out[name] = (m.group(3).strip(), bool(m.group(1)))
    return out


def test_env_example_lists_every_setting_with_its_default() -> None:
    listed = _env_example()
    fields = {name: f for cls in SETTINGS for name, f in cls.model_fields.items()}
    assert set(listed) == {name.upper() for name in fields}, "add new settings to .env.example"
    for name, field in fields.items():
        value, commented = listed[name.upper()]
        if field.default_factory is not None:
            # Machine-dependent defaults (user data / cache dirs) are documented, not fixed.
            assert commented and value == "", name
            continue
        assert not commented, name
        default = field.default
        expected = "" if default is None else str(default)
        assert value == expected, f"{name.upper()}: .env.example says {value!r}, default is {expected!r}"
    # And it parses: loading it gives exactly the defaults.
    for cls in SETTINGS:
        loaded = cls(_env_file=str(ROOT / ".env.example"))
        defaults = cls(_env_file=None)
        for name in cls.model_fields:
            want, got = getattr(defaults, name), getattr(loaded, name)
            assert got == want or (want is None and got in ("", None)), name


def test_dockerfile_is_slim_non_root_cached_and_health_checked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11\.\d+-slim-bookworm$", text, re.M)
    deps = text.index("COPY pyproject.toml")
    code = text.index("COPY bot ")
    assert deps < text.index("pip install .") < code, "dependency layer before the source"
    assert re.search(r"^USER slipstream$", text, re.M)
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'CMD ["sh", "-c", "slipstream db upgrade && slipstream bootstrap && exec slipstream run"]' in text


def test_compose_has_bot_postgres_and_optional_ollama() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    services = re.findall(r"^  ([a-z]+):$", text, re.M)
    assert services[:3] == ["bot", "db", "ollama"]
    bot = text[text.index("\n  bot:\n"):text.index("\n  db:\n")]
    assert "DATABASE_URL: postgresql://" in bot and "condition: service_healthy" in bot
    assert "image: postgres:" in text and "pg_isready" in text
    ollama = text[text.index("\n  ollama:\n"):]
    assert 'profiles: ["ollama"]' in ollama


# ---------------------------------------------------------------------- images, ports, health

# An exact tag names a patch release: `16.6-alpine3.21`, `3.11.11-slim-bookworm`, `0.5.4`.
_EXACT_TAG = re.compile(r"^\d+\.\d+(\.\d+)?(-[a-z]+[0-9.]*)*$")


def _images() -> list[str]:
    docker = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    compose = re.findall(r"^\s+image:\s*(\S+)", (ROOT / "docker-compose.yml").read_text(), re.M)
    # Our own image (built from the Dockerfile) is not pulled, so it is not pinned.
    return docker + [i for i in compose if not i.startswith("slipstream:")]


def test_base_images_are_pinned_by_exact_tag() -> None:
    images = _images()
    assert len(images) == 3, images  # python, postgres, ollama
    for image in images:
        name, _, tag = image.partition(":")
        assert "@sha256:" in image or _EXACT_TAG.match(tag), f"{image} is not pinned to an exact tag"
        assert tag != "latest" and tag, image


def test_healthcheck_probes_healthz() -> None:
    text = (ROOT / "Dockerfile").read_text()
    check = text[text.index("HEALTHCHECK"):]
    check = check[: check.index("\n\n")]
    assert "/healthz" in check and "METRICS_PORT" in check
    # urlopen raises on a non-2xx answer, so a 503 from /healthz makes the check fail.
    assert "urllib.request.urlopen" in check and "|| exit 1" in check


def test_slack_http_mode_is_reachable_from_compose() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    bot = text[text.index("\n  bot:\n"):text.index("\n  db:\n")]
    assert re.search(r"^\s+SLACK_HOST: 0\.0\.0\.0$", bot, re.M), "Slack must listen on all interfaces in the container"
    port = re.search(r'^\s+SLACK_PORT: "(\d+)"$', bot, re.M)
    assert port, "SLACK_PORT set in compose"
    published = re.findall(r'^\s+- "(?:[\d.]+:)?(\d+):(\d+)"', bot, re.M)
    assert (port.group(1), port.group(1)) in published, f"port {port.group(1)} not published: {published}"
    docker = (ROOT / "Dockerfile").read_text()
    assert "SLACK_HOST=0.0.0.0" in docker and re.search(r"^EXPOSE .*\b3000\b", docker, re.M)


# ---------------------------------------------------------------------- CLI


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "slipstream.cli", *args], capture_output=True,
                          text=True, timeout=120, env=full, cwd=ROOT)


def test_version_flag_prints_the_package_version() -> None:
    from importlib.metadata import version

    out = _cli("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"slipstream {version('slipstream')}"


@pytest.mark.parametrize("command", [(), ("run",), ("demo",), ("ingest",)])
def test_help_shows_on_off_options_as_flags(command: tuple[str, ...]) -> None:
    out = _cli(*command, "--help")
    assert out.returncode == 0, out.stderr
    assert "<bool>" not in out.stdout, out.stdout
    assert "--help" in out.stdout
    flag = {(): "--version", ("run",): "--console", ("demo",): "--no-replay", ("ingest",): "--offline"}[command]
    assert flag in out.stdout
    # A value-taking option still shows its type.
    if command == ("ingest",):
        assert re.search(r"--year\b.*<int>", out.stdout)


# ---------------------------------------------------------------------- first-start bootstrap


def _counts(engine: Engine) -> dict[str, int]:
    from storage.stats import table_counts

    return table_counts(engine)


def test_bootstrap_imports_into_an_empty_store_once(engine: Engine, tmp_path: Path) -> None:
    from slipstream.bootstrap import bootstrap_if_empty

    assert sum(_counts(engine).values()) == 0
    first = bootstrap_if_empty(engine, work_dir=tmp_path)
    assert first.imported and first.ok, first
    after = _counts(engine)
    # The bundled history (2023 calendar and results) and the Monza race's laps.
    assert after["event"] == 22 and after["result"] > 0 and after["lap"] > 0, after
    second = bootstrap_if_empty(engine, work_dir=tmp_path)
    assert not second.imported and "left alone" in second.reason
    assert _counts(engine) == after


def test_bootstrap_leaves_a_filled_store_alone(engine: Engine, tmp_path: Path) -> None:
    from slipstream.bootstrap import bootstrap_if_empty
    from storage.demo import demo_data_dir
    from storage.history import import_history

    # An admin's own data: here the history alone (no FastF1 laps).
    import_history(engine, demo_data_dir() / "ergast")
    before = _counts(engine)
    assert before["lap"] == 0 and before["event"] > 0
    outcome = bootstrap_if_empty(engine, work_dir=tmp_path)
    assert not outcome.imported
    assert _counts(engine) == before, "the bundled race must not be mixed into a filled store"


def test_bootstrap_command_on_a_fresh_volume(tmp_path: Path) -> None:
    """What the Docker CMD runs: `db upgrade`, then `bootstrap` twice (a restart)."""
    from storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'data' / 'slipstream.db'}"
    (tmp_path / "data").mkdir()
    env = {"DATABASE_URL": url, "FASTF1_CACHE_DIR": str(tmp_path / "ff1"), "SLIPSTREAM_BOOTSTRAP": "1"}
    assert _cli("db", "upgrade", env=env).returncode == 0
    first = _cli("bootstrap", env=env)
    assert first.returncode == 0, first.stderr
    assert "bootstrap: imported the bundled data" in first.stderr
    again = _cli("bootstrap", env=env)
    assert again.returncode == 0 and "left alone" in again.stderr, again.stderr
    off = _cli("bootstrap", env={**env, "SLIPSTREAM_BOOTSTRAP": "0"})
    assert off.returncode == 0 and "bootstrap: off" in off.stderr
    eng = make_engine(url)
    try:
        counts = _counts(eng)
    finally:
        eng.dispose()
    assert counts["event"] == 22 and counts["lap"] > 0
