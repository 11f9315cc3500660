"""Discord test harness: the real discord.py client (via `run_discord`) against `FakeDiscord`.

Every wait races the client task (`watch=`), so a client that dies fails the
test at once instead of hanging it until a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest

from adapters.discord import DiscordPoster, SlipstreamClient, run_discord
from adapters.discord.settings import DiscordSettings
from bot.model import ChannelPoster
from bot.settings import Settings
from tests.fakes.discord_server import FakeDiscord, Recorded
from tests.fakes.openai_server import openai_server  # noqa: F401  (fixture)


@dataclass
class RunningBot:
    fake: FakeDiscord
    task: asyncio.Task[None]
    stop: asyncio.Event
    dispatcher: Any
    poster: DiscordPoster | None = None
    client: SlipstreamClient | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def wait_request(
        self, predicate: Any, *, timeout_s: float = 10.0, start: int = 0
    ) -> Recorded:
        return await self.fake.wait_for_request(
            predicate, timeout_s=timeout_s, start=start, watch=self.task
        )

    async def wait_until(self, check: Any, *, timeout_s: float = 10.0) -> Any:
        return await self.fake.wait_until(check, timeout_s=timeout_s, watch=self.task)

    def mark(self) -> int:
        """Index into fake.requests: wait only for requests after this point."""
        return len(self.fake.requests)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    try:
        yield fake
    finally:
        # run_discord points discord.py's class-level endpoints at the fake: put them back.
        discord.http.Route.BASE = saved[0]
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved[1]
        await fake.close()


def discord_settings(fake: FakeDiscord, **overrides: Any) -> DiscordSettings:
    return DiscordSettings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=fake.token,
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
        **overrides,
    )


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, dispatcher: Any, settings: DiscordSettings | None = None, **kwargs: Any
) -> AsyncIterator[RunningBot]:
    """Start `run_discord` against the fake; yield once the guild is ready; stop cleanly."""
    stop = asyncio.Event()
    holder: dict[str, Any] = {}

    def poster_ready(poster: ChannelPoster) -> None:
        holder["poster"] = poster

    def client_ready(client: SlipstreamClient) -> None:
        holder["client"] = client

    task = asyncio.create_task(
        run_discord(
            settings or discord_settings(fake),
            dispatcher,
            stop=stop,
            poster_ready=poster_ready,
            client_ready=client_ready,
            **kwargs,
        ),
        name="discord-client-under-test",
    )
    bot = RunningBot(fake=fake, task=task, stop=stop, dispatcher=dispatcher)
    body_failed = False
    try:
        await bot.wait_until(lambda: fake.connected.is_set() and "client" in holder)
        bot.client = holder["client"]
        bot.poster = holder.get("poster")
        # The guild must be in the client's cache before events referencing it arrive.
        await bot.wait_until(
            lambda: bot.client is not None and bot.client.get_guild(fake.guild_id) is not None
        )
        yield bot
    except BaseException:
        body_failed = True
        raise
    finally:
        stop.set()
        await asyncio.wait({task}, timeout=10)
        if not task.done():
            task.cancel()
        # A client that died is a failure even if the test body did not notice.
        if (
            not body_failed
            and task.done()
            and not task.cancelled()
            and task.exception() is not None
        ):
            raise task.exception()  # type: ignore[misc]


def make_dispatcher(tmp_path: Any, registry: Any = None, **settings_overrides: Any) -> Any:
    """The core's real Dispatcher over a real (empty) SQLite store and the given registry."""
    from bot.app import BotDeps
    from bot.dispatch import Dispatcher
    from bot.registry import Registry
    from storage.db import init_db, make_engine
    from storage.store import Store

    engine = make_engine(f"sqlite:///{tmp_path / 'discord-test.db'}")
    init_db(engine)
    settings = Settings(**settings_overrides)
    deps = BotDeps(
        settings=settings,
        store=Store(engine),
        registry=registry if registry is not None else Registry(),
    )
    return Dispatcher(deps)


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The bundled demo data (2023 history + Monza 2023 FastF1) loaded once into a SQLite file."""
    from storage.db import init_db, make_engine
    from storage.demo import load_demo

    path = tmp_path_factory.mktemp("discord-demo") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    report = load_demo(engine, work_dir=path.parent)
    engine.dispose()
    assert report.ok, report
    return path


@pytest.fixture
def demo_db_url(demo_db_template: Any, tmp_path: Any) -> str:
    """A private copy of the demo store for one test."""
    import shutil

    dst = tmp_path / "demo.db"
    shutil.copyfile(demo_db_template, dst)
    return f"sqlite:///{dst}"


def build_demo_app(fake: FakeDiscord, db_url: str, **overrides: Any) -> Any:
    """The bot as `slipstream run` wires it (`build_app`), on the demo data, pointed at the fake."""
    from slipstream.wiring import build_app

    return build_app(Settings(database_url=db_url, **overrides))
