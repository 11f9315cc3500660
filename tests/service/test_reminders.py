"""Reminder messages and the reminder outbox (real SQLite / PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from adapters.console.render import render_plain
from bot.reminders import ReminderSender, reminder_reply
from storage.models import Event, Season
from storage.models import Session as RaceSession
from storage.reminders import ReminderInfo, enqueue_reminders
from storage.service_models import ReminderSent, ReminderSubscription
from tests.service.helpers import FakeClock, FilePoster, read_posts

START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=dt.UTC)
INFO = ReminderInfo(1, 2023, "Italian Grand Prix", "Race", START)


def test_reminder_reply_is_platform_neutral() -> None:
    reply = reminder_reply(INFO, 60)
    (when,) = reply.local_times
    assert when.at == START and when.unix == int(START.timestamp())
    # The core writes no platform markup: the time is a marker the adapters render.
    assert reply.text == f"⏱️ **2023 Italian Grand Prix: Race** starts in 1 hour, {when.marker}."
    assert "<t:" not in reply.text and "<!date" not in reply.text
    assert reply.with_utc_times().text.endswith("starts in 1 hour, Sun 03 Sep 13:00 UTC.")
    assert reply.with_utc_times().local_times == ()
    assert "starts in 10 minutes" in reminder_reply(INFO, 10).text
    # Sent late, it says the time actually left, not the subscribed offset.
    late = reminder_reply(INFO, 60, now=START - dt.timedelta(minutes=52)).text
    assert "starts in 52 minutes" in late
    # Two replies never share a marker (text cannot guess one).
    assert reminder_reply(INFO, 60).local_times[0].marker != when.marker


def test_console_renders_utc_and_relative_time() -> None:
    reply = reminder_reply(INFO, 60)
    text = render_plain(reply, now=START - dt.timedelta(minutes=60))
    assert text == "⏱️ **2023 Italian Grand Prix: Race** starts in 1 hour, Sun 03 Sep 13:00 UTC (in 1 hour)."
    assert render_plain(reply, now=START - dt.timedelta(minutes=7)).endswith("UTC (in 7 minutes).")
    assert render_plain(reply, now=START + dt.timedelta(hours=3)).endswith("UTC (3 hours ago).")
    assert "SLIPTIME" not in render_plain(reply)


async def test_enqueue_once_and_send_once_per_channel(engine: Engine, tmp_path) -> None:
    with engine.begin() as conn:
        conn.execute(Season.__table__.insert(), [{"year": 2023}])
        conn.execute(Event.__table__.insert(), [{"id": 1, "year": 2023, "round": 14, "name": "Italian Grand Prix"}])
        conn.execute(RaceSession.__table__.insert(), [
            {"id": 1, "event_id": 1, "type": "R", "name": "Race", "start_utc": START, "status": "scheduled"},
            {"id": 2, "event_id": 1, "type": "FP1", "name": "Practice 1", "start_utc": START, "status": "scheduled"}])
        conn.execute(ReminderSubscription.__table__.insert(), [
            {"channel_id": "console:local:a", "session_types": "Q,R", "offsets_min": "60,10", "active": True},
            {"channel_id": "console:local:b", "session_types": "R", "offsets_min": "10", "active": True},
            {"channel_id": "console:local:c", "session_types": "R", "offsets_min": "60", "active": False}])
    now = START - dt.timedelta(minutes=60)
    assert enqueue_reminders(engine, 1, 60, now) == 1  # only channel a wants 60 min
    assert enqueue_reminders(engine, 1, 60, now) == 0  # a second run (or process) adds nothing
    assert enqueue_reminders(engine, 2, 60, now) == 0  # nobody follows practice
    clock = FakeClock(now)
    posts = tmp_path / "posts.jsonl"
    sender = ReminderSender(engine, {"console": FilePoster("console", posts)}, clock=clock)
    other = ReminderSender(engine, {"console": FilePoster("console", posts)}, clock=clock)
    assert await sender.run_once() == 1
    assert await other.run_once() == 0
    clock.set(START - dt.timedelta(minutes=10))
    assert enqueue_reminders(engine, 1, 10, clock()) == 2
    assert await sender.run_once() + await other.run_once() == 2
    keys = sorted(p["key"] for p in read_posts(posts))
    assert keys == ["reminder:1:10:console:local:a", "reminder:1:10:console:local:b",
                    "reminder:1:60:console:local:a"]
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(select(ReminderSent.status))} == {"sent"}
    # A reminder still pending when the session starts is recorded as skipped, not posted late.
    with engine.begin() as conn:
        conn.execute(ReminderSubscription.__table__.update().values(offsets_min="60,10,5"))
    enqueue_reminders(engine, 1, 5, clock())
    clock.set(START + dt.timedelta(minutes=1))
    assert await sender.run_once() == 0
    with engine.connect() as conn:
        assert conn.execute(select(ReminderSent.status).where(ReminderSent.offset_min == 5)).scalar() == "skipped"
    assert len(read_posts(posts)) == 3
