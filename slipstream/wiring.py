"""The one place where dependencies are built, connected and torn down.

`build_app(settings)` returns an `App`: engine (schema at head), store, registry,
deps, dispatcher, and for `slipstream run` the service, its metrics and the
platform settings. `App.aclose()` is the one teardown; every entry point calls
it. Start-up problems (a malformed or unreachable `DATABASE_URL`, a store that
does not exist where one is expected, a database newer than the code, bad
platform settings) raise `StartupError`, whose message is one line for the user.
Nothing here imports pandas or FastF1 (the bot process stays small), and the LLM
client (openai) is only imported when `LLM_BASE_URL` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.app import BotDeps, Clock, utc_now
from bot.charts import Charts
from bot.commands import register_all
from bot.conversation import ConversationHandler
from bot.dispatch import Dispatcher
from bot.lab.service import RaceLab
from bot.model import ChannelPoster
from bot.predict.service import Predictor
from bot.registry import Registry
from bot.settings import Settings
from storage.db import init_db, make_engine
from storage.migrate import SchemaTooNew
from storage.store import Store

if TYPE_CHECKING:  # imported only by `slipstream run` (APScheduler, aiohttp, adapters)
    from adapters.discord.settings import DiscordSettings
    from adapters.slack.settings import SlackSettings
    from slipstream.metrics import Metrics
    from slipstream.service import Service

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A setting or the store is unusable; the message is one line for the user (exit 2)."""


@dataclass(slots=True)
class Platforms:
    """Platform settings, validated; None for a platform that is not configured."""

    discord: DiscordSettings | None = None
    slack: SlackSettings | None = None


@dataclass(slots=True)
class App:
    settings: Settings
    engine: Engine
    store: Store
    registry: Registry
    deps: BotDeps
    dispatcher: Dispatcher
    platforms: Platforms = field(default_factory=Platforms)
    # Only for `slipstream run` (build_app(..., service=True)).
    service: Service | None = None
    metrics: Metrics | None = None
    posters: dict[str, ChannelPoster] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Release everything build_app made (LLM client, store writer, engine).

        Each step runs even if an earlier one failed: a broken LLM connection on the
        way out must not keep queued memory writes from landing in the store.
        """
        if self.deps.charts is not None:
            self.deps.charts.close()  # the drawing thread; nothing queued is lost
        if self.deps.predictor is not None:
            self.deps.predictor.close()  # the model thread; a running update finishes first
        if self.deps.lab is not None:
            self.deps.lab.close()  # the simulation worker process; nothing is stored there
        if self.deps.llm is not None and hasattr(self.deps.llm, "aclose"):
            try:
                await self.deps.llm.aclose()
            except Exception:
                log.warning("closing the LLM client failed", exc_info=True)
        try:
            await asyncio.to_thread(self.store.close)  # queued memory writes land before the engine goes
        finally:
            await asyncio.to_thread(self.engine.dispose)

    def close(self) -> None:
        """`aclose` for synchronous entry points (no event loop running)."""
        asyncio.run(self.aclose())


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for in-memory)."""
    database = make_url(url).database
    return None if database in (None, "", ":memory:") else Path(database)


def open_store(url: str, *, create: bool) -> Engine:
    """An engine on `url` with the schema at head, or StartupError.

    With `create=False` a SQLite file that does not exist is refused: a typo in
    the path must not silently become a new, empty store.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StartupError(
            f"DATABASE_URL is malformed: {url!r} "
            "(expected sqlite:///PATH or postgresql://USER@HOST/DB)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise StartupError(f"DATABASE_URL: unsupported database {backend!r} (use SQLite or PostgreSQL)")
    shown = parsed.render_as_string(hide_password=True)
    if backend == "sqlite" and not create:
        path = _sqlite_path(url)
        if path is not None and not path.exists():
            raise StartupError(
                f"no store at {path}: create it with `slipstream demo` (demo data) or "
                "`slipstream db upgrade` (empty), or fix DATABASE_URL"
            )
    try:
        engine = make_engine(url)
    except Exception as exc:  # bad driver options etc.: still one line
        raise StartupError(f"DATABASE_URL {shown}: {_one_line(exc)}") from None
    try:
        init_db(engine)
    except SchemaTooNew as exc:
        engine.dispose()
        raise StartupError(str(exc)) from None
    except DBAPIError as exc:
        engine.dispose()
        raise StartupError(f"cannot open the database {shown}: {_one_line(exc)}") from None
    return engine


def _inspect_only(url: str, *, create: bool) -> Engine:
    """An engine on `url` without touching the schema (still refusing a missing SQLite file)."""
    try:
        path = _sqlite_path(url) if make_url(url).get_backend_name() == "sqlite" else None
    except ArgumentError:
        raise StartupError(f"DATABASE_URL is malformed: {url!r}") from None
    if path is not None and not create and not path.exists():
        raise StartupError(f"no store at {path} (DATABASE_URL)")
    return make_engine(url)


def load_platforms() -> Platforms:
    """Discord and Slack settings from the environment, checked; StartupError on a bad one."""
    from adapters.discord.settings import DiscordSettings
    from adapters.slack.settings import SlackSettings

    try:
        discord, slack = DiscordSettings(), SlackSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        where = str(err["loc"][0]).upper() if err.get("loc") else exc.title
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise StartupError(f"{where}: {msg}" if err.get("loc") else msg) from None
    return Platforms(discord if discord.configured else None, slack if slack.configured else None)


def build_llm(settings: Settings) -> tuple[object | None, object | None]:
    """(LLMClient, PromptRenderer) when an LLM is configured, else (None, None)."""
    if not settings.llm_base_url:
        return None, None
    from bot.llm import LLMClient
    from bot.prompting import PromptRenderer

    return LLMClient.from_settings(settings), PromptRenderer()


def _build_service(app: App) -> None:
    """The leader's service (scheduler, deliverer, reminders) and the process's metrics."""
    from bot.pulse.deliver import Deliverer
    from slipstream.metrics import Metrics
    from slipstream.service import Service, default_pulse, make_schedule_sync, make_store_ingest

    engine, cache_dir = app.engine, app.settings.fastf1_cache_dir
    metrics = Metrics()
    metrics.watch_llm(app.deps.llm)
    metrics.watch_store(engine)
    app.metrics = metrics
    app.service = Service(
        engine,
        pulse=default_pulse(engine, app.deps.llm, app.deps.predictor),
        ingest=make_store_ingest(engine, cache_dir, offline=False),
        schedule_sync=make_schedule_sync(engine, cache_dir, offline=False),
        posters=app.posters,
        deliverer_factory=Deliverer,
        metrics=metrics,
        on_results=app.deps.predictor.fold_new_results if app.deps.predictor is not None else None,
    )


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock = utc_now,
    init_schema: bool = True,
    create_store: bool = True,
    service: bool = False,
    platforms: Platforms | None = None,
) -> App:
    """Wire engine → store → registry → deps → dispatcher (→ service); StartupError if unusable.

    `create_store=False` refuses a SQLite file that does not exist (`ask`, `chat`,
    `run`); `service=True` also builds what `slipstream run` needs.
    """
    if engine is None and init_schema:
        engine = open_store(settings.database_url, create=create_store)
    elif engine is None:  # inspection only (`db current`): never migrate, never create
        engine = _inspect_only(settings.database_url, create=create_store)
    elif init_schema:
        try:
            init_db(engine)
        except SchemaTooNew as exc:
            raise StartupError(str(exc)) from None
    store = Store(engine)
    registry = Registry()
    register_all(registry)
    llm, prompts = build_llm(settings)
    deps = BotDeps(
        settings=settings,
        store=store,
        registry=registry,
        llm=llm,
        prompts=prompts,
        clock=clock,
        conversation=ConversationHandler(),
        charts=Charts(store),
        predictor=Predictor(store),
        # The worker process starts on the first what-if, not here (`ask` never pays for it).
        lab=RaceLab(store, workers=settings.lab_workers, timeout_s=settings.lab_timeout_s,
                    runs=settings.lab_runs),
    )
    # Stored moderators and per-channel settings apply on every path (chat, ask, adapters).
    from bot.policy import install_hooks

    install_hooks(deps, engine)
    app = App(settings, engine, store, registry, deps, Dispatcher(deps),
              platforms=platforms if platforms is not None else Platforms())
    if service:
        _build_service(app)
    return app


@contextmanager
def opened(settings: Settings, *, create_store: bool, init_schema: bool = True) -> Iterator[App]:
    """`build_app` for a synchronous command, closed by `App.close` however it ends."""
    app = build_app(settings, create_store=create_store, init_schema=init_schema)
    try:
        yield app
    finally:
        app.close()


__all__ = ["App", "Platforms", "StartupError", "build_app", "build_llm", "load_platforms", "open_store", "opened"]
