"""Core fixtures: the app on a real SQLite store holding the bundled demo data.

`demo_url` (tests/conftest.py) is a private copy of the demo store, built once
per run, so tests never see each other's writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine

from bot.model import ChannelRef, Incoming, PlatformLimits, Privilege, Reply, UserRef
from bot.settings import Settings
from slipstream.wiring import App, build_app
from storage.db import make_engine

# A fixed "now" after the 2023 season: answers and countdowns do not drift with the wall clock.
NOW = dt.datetime(2023, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_url)
    try:
        yield eng
    finally:
        eng.dispose()


def make_settings(url: str, **overrides: object) -> Settings:
    base = {"database_url": url, "llm_base_url": None, "rate_user_per_min": 0, "rate_channel_per_min": 0}
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture
async def app(demo_url: str) -> AsyncIterator[App]:
    a = build_app(make_settings(demo_url), clock=lambda: NOW)
    try:
        yield a
    finally:
        await a.aclose()


class RecordingResponder:
    """A Responder that keeps what the core sent (the adapters' job is tested elsewhere)."""

    limits = PlatformLimits(max_text=2000, edit_interval_s=0.0)

    def __init__(self) -> None:
        self.sent: list[Reply] = []
        self.edits: list[tuple[str, Reply]] = []
        self.deferred = 0

    async def defer(self) -> None:
        self.deferred += 1

    async def send(self, reply: Reply) -> str | None:
        self.sent.append(reply)
        return str(len(self.sent))

    async def edit(self, message_id: str, reply: Reply) -> None:
        self.edits.append((message_id, reply))
        self.sent[int(message_id) - 1] = reply

    @property
    def text(self) -> str:
        """All sent text, cards included (what a user would read)."""
        parts = []
        for r in self.sent:
            parts.append(r.text)
            for c in r.cards:
                parts += [c.title, c.description] + [f"{f.name} {f.value}" for f in c.fields]
        return "\n".join(parts)


_counter = iter(range(1, 10**9))


def incoming(
    text: str = "",
    *,
    user: str = "u1",
    channel: str = "c1",
    privilege: Privilege = Privilege.USER,
    is_bot: bool = False,
    event_id: str | None = None,
    kind: str = "message",
    conversation_id: str | None = None,
) -> Incoming:
    return Incoming(
        event_id=event_id or f"ev{next(_counter)}",
        channel=ChannelRef("console", f"console:local:{channel}"),
        user=UserRef("console", f"console:{user}", name=user, is_bot=is_bot, privilege=privilege),
        text=text,
        kind=kind,  # type: ignore[arg-type]
        conversation_id=conversation_id,
    )


async def ask(app: App, text: str, **kw: object) -> RecordingResponder:
    r = RecordingResponder()
    await app.dispatcher.handle(incoming(text, **kw), r)  # type: ignore[arg-type]
    return r
