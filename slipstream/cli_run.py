"""`slipstream run`: the whole service in one process.

Starts the adapters whose credentials are set (Discord, Slack; the console when
asked or when no platform is configured), the leader election (the leader runs
the scheduler, the highlight deliverer and the reminder sender), and the
`/healthz` + `/metrics` endpoint ("ok" only when the database and every configured
adapter are up; "ready" is printed only then). SIGINT / SIGTERM stop it cleanly:
adapters stop taking new events, in-flight answers get `SHUTDOWN_GRACE_S` to finish
and the rest are marked "interrupted" (`bot.inflight`), pending deliveries get one
more flush, leadership is released, the database is closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import typer

from bot.model import ChannelPoster
from bot.settings import Settings

if TYPE_CHECKING:  # the wiring pulls in the whole bot: imported when `run` runs, not for --help
    from bot.health import HealthBoard
    from slipstream.wiring import App, Platforms

log = logging.getLogger("slipstream.run")

DRAIN_S = 10.0  # adapters and the service get this long to stop once answers are settled


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
    from bot.health import HealthBoard
    from bot.inflight import InFlight
    from bot.resolve import warm_up
    from slipstream.metrics import MeteredDispatcher, start_http

    settings, service, metrics = built.settings, built.service, built.metrics
    assert service is not None and metrics is not None  # build_app(service=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Adapters see the in-flight tracker: on shutdown it finishes or marks every answer.
    dispatcher = InFlight(MeteredDispatcher(built.dispatcher, metrics))
    board = HealthBoard()
    release = asyncio.Event()  # set once answers are finished or marked: adapters may disconnect
    # Indexes the first questions need, built before any platform connects; then the
    # long-lived heap is frozen so full garbage collections stop walking it.
    await warm_up(built.store)
    if built.deps.lab is not None:  # the Race Lab worker (and numpy in it) before the first what-if
        try:
            await built.deps.lab.warm()
        except Exception:  # it starts on the first what-if instead
            log.warning("race lab worker did not start", exc_info=True)

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
                        message_content=discord.discord_message_content,
                        on_state=board.expect("discord"), release=release),
            name="discord",
        )
    if slack is not None:
        from adapters.slack import run_slack

        adapters["slack"] = asyncio.create_task(
            run_slack(slack, dispatcher, stop=stop, poster_ready=poster_ready,
                      on_state=board.expect("slack"), release=release),
            name="slack",
        )
    if console or not adapters:
        # No platform configured: the console is the adapter (highlights print here too).
        from adapters.console import run_console

        board.expect("console")(True, "running")
        adapters["console"] = asyncio.create_task(
            run_console(settings, dispatcher, stop=stop, poster_ready=poster_ready), name="console"
        )
    for name, task in adapters.items():
        if name == "console":
            continue  # the console ends at end of input; the service keeps running (not a failure)
        task.add_done_callback(lambda t, n=name: _adapter_ended(board, n, t, stop))

    service_task = asyncio.create_task(service.run(stop), name="service")
    board.expect("scheduler")(True, "running")
    service_task.add_done_callback(lambda t: board.set("scheduler", False, _ended(t)))
    health = _health_check(built, board, t0)
    runner = await start_http(metrics, settings.metrics_host, settings.metrics_port, health=health)
    ready = asyncio.create_task(_announce_ready(board, adapters, health, t0, settings), name="ready")

    code = 0
    await stop.wait()
    ready.cancel()
    log.info("slipstream: stopping")
    # 1. adapters stop taking events (Slack HTTP answers 503); in-flight answers get the
    #    grace period, the rest are marked "interrupted"; then adapters may disconnect.
    try:
        await dispatcher.shutdown(settings.shutdown_grace_s)
    finally:
        release.set()
    for name, task in adapters.items():
        try:
            await asyncio.wait_for(task, DRAIN_S)
        except TimeoutError:
            log.warning("adapter %s did not stop in time; cancelling", name)
            task.cancel()
        except Exception as exc:
            if board.snapshot().get(name, {}).get("up") is False:
                log.warning("adapter %s was down: %s", name, exc)  # already reported when it failed
            else:
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


def _ended(task: asyncio.Task[Any]) -> str:
    """Why a task that should run for the process's life ended (one line)."""
    if task.cancelled():
        return "stopped"
    exc = task.exception()
    return f"stopped: {type(exc).__name__}: {exc}"[:200] if exc is not None else "stopped"


def _adapter_ended(board: HealthBoard, name: str, task: asyncio.Task[Any], stop: asyncio.Event) -> None:
    if stop.is_set():
        return  # a clean stop: health no longer matters
    down = board.down_parts()
    if name in down and down[name] != "not connected yet":
        return  # the adapter said why (e.g. "login failed: 401 Unauthorized"): keep that
    board.set(name, False, _ended(task))


def _health_check(built: App, board: HealthBoard, t0: float) -> Callable[[], Awaitable[dict[str, Any]]]:
    """`/healthz`: "ok" only when the database and every configured part are up."""
    from slipstream.metrics import db_ping
    from storage.migrate import status as schema_status

    service = built.service
    assert service is not None

    async def health() -> dict[str, Any]:
        db_ok, schema, db_error = False, None, ""
        try:
            db_ok = await asyncio.wait_for(asyncio.to_thread(db_ping, built.engine), 3)
            schema = (await asyncio.wait_for(asyncio.to_thread(schema_status, built.engine), 3)).current
        except Exception as exc:
            db_ok, db_error = False, f"{type(exc).__name__}: {exc}"[:200]
        down = board.down_parts()
        if not db_ok:
            down = {"database": db_error or "no answer", **down}
        parts = board.snapshot()
        return {
            "status": "ok" if not down else "error",
            "db": db_ok,
            "schema": schema,  # the store's migration revision
            "leader": service.is_leader,
            "adapters": {n: ("up" if p["up"] else "down") for n, p in parts.items() if n != "scheduler"},
            "parts": parts,
            "down": [f"{n}: {why}" for n, why in down.items()],  # e.g. "discord: login failed: 401 ..."
            "uptime_s": round(time.perf_counter() - t0, 1),
        }

    return health


async def _announce_ready(
    board: HealthBoard,
    adapters: dict[str, asyncio.Task[Any]],
    health: Callable[[], Awaitable[dict[str, Any]]],
    t0: float,
    settings: Settings,
) -> None:
    """Print "ready" once everything configured is up; until then, say once what is down."""
    told: dict[str, str] = {}
    while True:
        board.changed.clear()
        body = await health()
        if body["status"] == "ok":
            break
        for line in body["down"]:
            name, _, why = line.partition(": ")
            if told.get(name) != why and why != "not connected yet":
                told[name] = why
                log.warning("not ready: %s", line)
                print(f"slipstream: waiting, {line}", file=sys.stderr, flush=True)
        try:
            await asyncio.wait_for(board.changed.wait(), 5)
        except TimeoutError:
            pass  # re-check the database now and then
    names = ", ".join(adapters) or "no adapters"
    log.info("slipstream ready in %.2f s (adapters: %s; health on http://%s:%s/healthz)",
             time.perf_counter() - t0, names, settings.metrics_host, settings.metrics_port)
    print(f"slipstream: ready ({names})", file=sys.stderr, flush=True)
