"""Two workers (two `build_app` apps, separate dispatchers) on one store: an event is
answered once and rate limits hold across them (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text

from bot.model import ChannelRef, Incoming, UserRef
from slipstream.wiring import App, build_app
from tests.core.conftest import NOW, RecordingResponder, make_settings


def _incoming(event_id: str, *, platform: str = "slack", user: str = "U1", channel: str = "C1") -> Incoming:
    return Incoming(
        event_id=event_id,
        channel=ChannelRef(platform, f"{platform}:T1:{channel}"),  # type: ignore[arg-type]
        user=UserRef(platform, f"{platform}:T1:{user}", name=user),  # type: ignore[arg-type]
        text="/f1 help",
        kind="message",
    )


async def _workers(url: str, **overrides: object) -> tuple[App, App]:
    settings = make_settings(url, **overrides)
    return build_app(settings, clock=lambda: NOW), build_app(settings, clock=lambda: NOW)


async def _answered(app: App, inc: Incoming) -> bool:
    r = RecordingResponder()
    await app.dispatcher.handle(inc, r)
    return bool(r.sent)


async def test_same_event_on_two_workers_is_answered_once(db_url: str) -> None:
    a, b = await _workers(db_url)
    try:
        for eid in ("slack:Ev01", "slack:cmd:trig.1", "discord:i:111", "discord:m:222"):
            # Both at once, as two workers receiving a delivery and its retry.
            got = await asyncio.gather(_answered(a, _incoming(eid)), _answered(b, _incoming(eid)))
            assert sorted(got) == [False, True], eid
            # A later replay to either worker: nothing (the claim holds; the LRU in front too).
            assert not await _answered(a, _incoming(eid)) and not await _answered(b, _incoming(eid))
        # Console ids are per process, never shared: each worker answers its own.
        assert await _answered(a, _incoming("console:1:1", platform="console"))
        assert await _answered(b, _incoming("console:1:1", platform="console"))
    finally:
        await a.aclose()
        await b.aclose()


async def test_rate_limits_hold_across_two_workers(db_url: str) -> None:
    a, b = await _workers(db_url, rate_user_per_min=3, rate_channel_per_min=5)
    try:
        n = iter(range(1000))
        # One user alternating between the workers: 3 answers, not 6.
        replies = []
        for i in range(8):
            r = RecordingResponder()
            await (a if i % 2 else b).dispatcher.handle(_incoming(f"slack:Ev{next(n)}"), r)
            replies.append(r.sent[0].text)
        assert sum("faster than I can answer" not in t for t in replies) == 3
        assert "faster than I can answer" in replies[-1]
        # The channel's budget (5) is shared too: two more users get 2 answers between them.
        others = []
        for i, user in enumerate(["U2", "U2", "U3", "U3"]):
            r = RecordingResponder()
            await (a if i % 2 else b).dispatcher.handle(_incoming(f"slack:Ev{next(n)}", user=user), r)
            others.append(r.sent[0].text)
        assert sum("This channel is asking a lot" in t for t in others) == 2
    finally:
        await a.aclose()
        await b.aclose()


async def test_store_errors_fail_open_with_one_log_line(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    a, b = await _workers(db_url, rate_user_per_min=2)
    try:
        with a.engine.begin() as conn:  # a store that lost the tables: every claim and count fails
            conn.execute(text("DROP TABLE event_claim"))
            conn.execute(text("DROP TABLE rate_count"))
        caplog.set_level(logging.WARNING)
        r = RecordingResponder()
        await a.dispatcher.handle(_incoming("slack:Ev77"), r)
        assert r.sent and "faster than I can answer" not in r.sent[0].text  # answered anyway
        warnings = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.WARNING]
        assert any("could not claim" in w for w in warnings) and any("this process only" in w for w in warnings)
        assert not any(rec.exc_info for rec in caplog.records)  # one line each, no traceback
        # The local fallback still limits: 2 per minute in this process.
        texts = []
        for i in range(2):
            r = RecordingResponder()
            await a.dispatcher.handle(_incoming(f"slack:Ev8{i}"), r)
            texts.append(r.sent[0].text)
        assert "faster than I can answer" in texts[-1]
    finally:
        await a.aclose()
        await b.aclose()
