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
from typing import TYPE_CHECKING, Any

import typer

from bot.model import ChannelPoster
from bot.settings import Settings

if TYPE_CHECKING:  # the wiring pulls in the whole bot: imported when `run` runs, not for --help
    from slipstream.wiring import App, Platforms

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


async def serve(
    settings: Settings,
    *,
    console: bool = False,
    stop: asyncio.Event | None = None,
    platforms: Platforms | None = None,
) -> int:
    """Run until `stop` is set or a signal arrives; returns the process exit code.

    Settings and the store are checked before anything starts: a bad one prints
    one line on stderr and returns 2. `platforms` defaults to the environment's.
    Everything is built once, by `build_app`, and closed once, by `App.aclose`.
    """
    from slipstream.wiring import StartupError, build_app, load_platforms

    t0 = time.perf_counter()
    try:
        platforms = platforms if platforms is not None else load_platforms()
        built = await asyncio.to_thread(
            build_app, settings, create_store=False, service=True, platforms=platforms
        )
    except StartupError as exc:
        print(f"slipstream: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        return await _serve(built, console=console, stop=stop or asyncio.Event(), t0=t0)
    finally:
        await built.aclose()


async def _serve(built: App, *, console: bool, stop: asyncio.Event, t0: float) -> int:
    from bot.resolve import warm_up
    from slipstream.metrics import MeteredDispatcher, db_ping, start_http
    from storage.migrate import status as schema_status

    settings, engine, service, metrics = built.settings, built.engine, built.service, built.metrics
    assert service is not None and metrics is not None  # build_app(service=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    dispatcher = MeteredDispatcher(built.dispatcher, metrics)
    # Indexes the first questions need, built before any platform connects; then the
    # long-lived heap is frozen so full garbage collections stop walking it.
    await warm_up(built.store)

    def poster_ready(poster: ChannelPoster) -> None:
        service.add_poster(poster)
        log.info("poster ready: %s", poster.platform)

    adapters: dict[str, asyncio.Task[Any]] = {}
    discord, slack = built.platforms.discord, built.platforms.slack
    if discord is not None:
        from adapters.discord import run_discord

        adapters["discord"] = asyncio.create_task(
            run_discord(discord, dispatcher, stop=stop, poster_ready=poster_ready,
                        moderator_role_ids=discord.moderator_roles(),
                        message_content=discord.discord_message_content),
            name="discord",
        )
    if slack is not None:
        from adapters.slack import run_slack

        adapters["slack"] = asyncio.create_task(
            run_slack(slack, dispatcher, stop=stop, poster_ready=poster_ready), name="slack"
        )
    if console or not adapters:
        # No platform configured: the console is the adapter (highlights print here too).
        from adapters.console import run_console

        adapters["console"] = asyncio.create_task(
            run_console(settings, dispatcher, stop=stop, poster_ready=poster_ready), name="console"
        )

    async def health() -> dict[str, Any]:
        db_ok, schema = False, None
        try:
            db_ok = await asyncio.wait_for(asyncio.to_thread(db_ping, engine), 3)
            schema = (await asyncio.wait_for(asyncio.to_thread(schema_status, engine), 3)).current
        except Exception:
            db_ok = False
        dead = [n for n, t in adapters.items() if t.done() and n != "console" and not stop.is_set()]
        return {
            "status": "ok" if db_ok else "error",
            "db": db_ok,
            "schema": schema,  # the store's migration revision
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
    # 3. the caller's App.aclose() then closes the LLM client, the store and the engine.
    log.info("slipstream: stopped")
    print("slipstream: stopped", file=sys.stderr, flush=True)
    return code
