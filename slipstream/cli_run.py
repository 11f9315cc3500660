"""`slipstream run`: the whole service in one process.

Starts the adapters whose credentials are set (Discord, Slack; the console when
asked or when no platform is configured), the leader election (the leader runs
the scheduler, the highlight deliverer and the reminder sender), and the
`/healthz` + `/metrics` endpoint. SIGINT / SIGTERM stop it cleanly: adapters
stop taking new events, in-flight replies finish, pending deliveries get one
more flush, leadership is released, the database is closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import typer

from bot.model import ChannelPoster
from bot.settings import Settings

log = logging.getLogger("slipstream.run")

DRAIN_S = 10.0  # in-flight replies get this long to finish on shutdown


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        console: bool = typer.Option(False, "--console", help="Also chat in this terminal."),
        log_level: str = typer.Option("", "--log-level", help="Override LOG_LEVEL."),
    ) -> None:
        """Run the bot: adapters, scheduler, Track Pulse delivery, health and metrics."""
        settings = Settings()
        level = (log_level or settings.log_level).upper()
        logging.getLogger().setLevel(getattr(logging, level, logging.INFO))
        code = asyncio.run(serve(settings, console=console))
        raise typer.Exit(code)


def _deliverer_factory() -> Callable[..., Any] | None:
    try:
        from bot.pulse.deliver import Deliverer
    except ImportError:
        log.warning("Track Pulse deliverer not installed: highlights will not be posted")
        return None

    def make(engine: Any, posters: Any) -> Any:
        return Deliverer(engine, posters)

    return make


async def serve(settings: Settings, *, console: bool = False, stop: asyncio.Event | None = None) -> int:
    """Run until `stop` is set or a signal arrives; returns the process exit code."""
    from bot.policy import install_hooks
    from slipstream.metrics import MeteredDispatcher, Metrics, db_ping, start_http
    from slipstream.service import Service, default_pulse, make_schedule_sync, make_store_ingest
    from slipstream.wiring import build_app
    from storage.db import init_db

    t0 = time.perf_counter()
    try:
        role_ids = settings.discord_moderator_roles()
    except ValueError as exc:
        print(f"slipstream: {exc}", file=sys.stderr, flush=True)
        return 2
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    built = build_app(settings)
    engine = built.engine
    await asyncio.to_thread(init_db, engine)
    install_hooks(built.deps, engine)
    metrics = Metrics()
    metrics.watch_llm(built.deps.llm)
    metrics.watch_store(engine)
    dispatcher = MeteredDispatcher(built.dispatcher, metrics)

    posters: dict[str, ChannelPoster] = {}

    def poster_ready(poster: ChannelPoster) -> None:
        service.add_poster(poster)
        log.info("poster ready: %s", poster.platform)

    cache_dir = settings.fastf1_cache_dir
    service = Service(
        engine,
        pulse=default_pulse(engine, built.deps.llm),
        ingest=make_store_ingest(engine, cache_dir, offline=False),
        schedule_sync=make_schedule_sync(engine, cache_dir, offline=False),
        posters=posters,
        deliverer_factory=_deliverer_factory(),
        metrics=metrics,
    )

    adapters: dict[str, asyncio.Task[Any]] = {}
    if settings.discord_token:
        from adapters.discord import run_discord

        adapters["discord"] = asyncio.create_task(
            run_discord(settings, dispatcher, stop=stop, poster_ready=poster_ready,
                        moderator_role_ids=role_ids,
                        message_content=settings.discord_message_content),
            name="discord",
        )
    if settings.slack_bot_token:
        from adapters.slack import run_slack

        adapters["slack"] = asyncio.create_task(
            run_slack(settings, dispatcher, stop=stop, poster_ready=poster_ready), name="slack"
        )
    if console or not adapters:
        # No platform configured: the console is the adapter (highlights print here too).
        from adapters.console import run_console

        adapters["console"] = asyncio.create_task(
            run_console(settings, dispatcher, stop=stop, poster_ready=poster_ready), name="console"
        )

    async def health() -> dict[str, Any]:
        db_ok = False
        try:
            db_ok = await asyncio.wait_for(asyncio.to_thread(db_ping, engine), 3)
        except Exception:
            db_ok = False
        dead = [n for n, t in adapters.items() if t.done() and n != "console" and not stop.is_set()]
        return {
            "status": "ok" if db_ok else "error",
            "db": db_ok,
            "leader": service.is_leader,
            "adapters": {n: ("stopped" if t.done() else "running") for n, t in adapters.items()},
            "failed_adapters": dead,
            "uptime_s": round(time.perf_counter() - t0, 1),
        }

    runner = await start_http(metrics, settings.metrics_host, settings.metrics_port, health=health)
    service_task = asyncio.create_task(service.run(stop), name="service")
    log.info("slipstream ready in %.2f s (adapters: %s; health on http://%s:%s/healthz)",
             time.perf_counter() - t0, ", ".join(adapters) or "none",
             settings.metrics_host, settings.metrics_port)
    print(f"slipstream: ready ({', '.join(adapters) or 'no adapters'})", file=sys.stderr, flush=True)

    code = 0
    await stop.wait()
    log.info("slipstream: stopping")
    # 1. adapters see `stop` and stop taking events; in-flight replies get time to finish.
    if not await dispatcher.drain(DRAIN_S):
        log.warning("stopping with %d replies still in flight", dispatcher.in_flight)
    for name, task in adapters.items():
        try:
            await asyncio.wait_for(task, DRAIN_S)
        except TimeoutError:
            log.warning("adapter %s did not stop in time; cancelling", name)
            task.cancel()
        except Exception:
            log.exception("adapter %s ended with an error", name)
            code = 1
    # 2. the service flushes pending deliveries and releases leadership.
    try:
        await asyncio.wait_for(service_task, DRAIN_S + 5)
    except Exception:
        log.exception("service stop failed")
        code = 1
    await runner.cleanup()
    llm = built.deps.llm
    if llm is not None and hasattr(llm, "aclose"):
        await llm.aclose()
    await asyncio.to_thread(engine.dispose)
    log.info("slipstream: stopped")
    print("slipstream: stopped", file=sys.stderr, flush=True)
    return code
