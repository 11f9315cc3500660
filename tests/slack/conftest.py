"""Slack-area fixtures: the fake Slack platform and a web client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.slack import make_web_client
from tests.fakes.slack_server import FakeSlack

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user("U0MEMBER", name="Member")
        fake.add_user("U0ADMIN", admin=True, name="Admin")
        yield fake


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def poster_client(fake_slack: FakeSlack):
    """The client `run_slack` gives `SlackPoster`: no automatic retries of its own."""
    return make_web_client(BOT_TOKEN, base_url=fake_slack.api_url, rate_limit_retries=0)


# ---------------------------------------------------------------------- harness
import asyncio  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from adapters.slack import SlackAdapter, run_slack  # noqa: E402
from adapters.slack.settings import SlackSettings  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.slack_server import event_body, signed_headers, slash_command_body  # noqa: E402


@dataclass
class Posted:
    """What our signed HTTP request got back, and how fast."""

    status: int
    body: str
    elapsed_s: float


@dataclass
class SlackRun:
    """A running `run_slack` (HTTP or Socket Mode) wired to a dispatcher, plus request helpers."""

    fake: FakeSlack
    adapter: SlackAdapter
    session: aiohttp.ClientSession
    posters: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    async def post_raw(self, body: str, headers: dict[str, str]) -> Posted:
        start = time.perf_counter()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as resp:
            text = await resp.text()
        return Posted(resp.status, text, time.perf_counter() - start)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> Posted:
        body = json.dumps(event_body(event, event_id=event_id))
        headers = signed_headers(
            secret, body, content_type="application/json", timestamp=timestamp, retry_num=retry_num
        )
        return await self.post_raw(body, headers)

    async def command(
        self,
        text: str,
        *,
        user: str = "U0MEMBER",
        channel: str = "C0GENERAL",
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> Posted:
        body = slash_command_body(
            text, user=user, channel=channel, response_url=self.fake.response_url
        )
        headers = signed_headers(
            secret, body, content_type="application/x-www-form-urlencoded", timestamp=timestamp
        )
        return await self.post_raw(body, headers)

    async def settle(self) -> None:
        """Wait until every answer in flight is finished."""
        await self.adapter.drain(timeout_s=20)


@pytest.fixture
async def start_slack(
    fake_slack: FakeSlack, http_session: aiohttp.ClientSession
) -> AsyncIterator[Callable[..., Awaitable[SlackRun]]]:
    """`await start_slack(dispatcher, socket_mode=False)` -> SlackRun; stopped at teardown."""
    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(dispatcher: Any, *, socket_mode: bool = False) -> SlackRun:
        settings = SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=None if socket_mode else SIGNING_SECRET,
            slack_app_token=APP_TOKEN if socket_mode else None,
            slack_host="127.0.0.1",
            slack_port=0,
            slack_api_base_url=fake_slack.api_url,
        )
        stop = asyncio.Event()
        ready: asyncio.Future[SlackAdapter] = asyncio.get_running_loop().create_future()
        posters: list[Any] = []
        task = asyncio.create_task(
            run_slack(
                settings,
                dispatcher,
                stop=stop,
                poster_ready=posters.append,
                started=ready.set_result,
            )
        )
        stops.append((stop, task))
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises the start-up error
        adapter = ready.result()
        if socket_mode:
            await fake_slack.wait_socket()
        return SlackRun(fake_slack, adapter, http_session, posters)

    yield start
    for stop, task in stops:
        stop.set()
        await asyncio.wait_for(task, 20)


# ---------------------------------------------------------------------- the real app on demo data
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the bundled demo data (2023 history + Monza 2023), built once per run."""
    from storage.db import init_db, make_engine
    from storage.demo import load_demo

    root = tmp_path_factory.mktemp("slack-demo")
    path = root / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    load_demo(engine, work_dir=root / "work")
    engine.dispose()
    return path


@pytest.fixture
def demo_db_url(demo_db_file: Path, tmp_path: Path) -> str:
    """A private copy of the demo database for one test."""
    dest = tmp_path / "demo.db"
    shutil.copy(demo_db_file, dest)
    return f"sqlite:///{dest}"


@pytest.fixture
async def demo_app(demo_db_url: str):
    """`await demo_app(llm_base_url=None)` -> slipstream.wiring.App on a copy of the demo data."""
    from slipstream.wiring import build_app

    apps = []

    async def make(**overrides: Any):
        settings = Settings(
            database_url=demo_db_url, rate_user_per_min=1000, rate_channel_per_min=1000, **overrides
        )
        app = build_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.aclose()
