"""The one lease convention (`storage.outbox`) on the real tables, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, select

from storage import outbox
from storage.jobs import claim_job, finish_job, load_ledger, renew_job
from storage.models import Event, Season
from storage.models import Session as RaceSession
from storage.reminders import (
    claim_reminders,
    enqueue_reminders,
    finish_reminder,
    retry_reminder_after,
)
from storage.service_models import JobRun, ReminderSent, ReminderSubscription

UTC = dt.UTC
START = dt.datetime(2030, 5, 1, 13, 0, tzinfo=UTC)
NOW = START - dt.timedelta(minutes=60)


def _race_with_subscribers(engine: Engine, channels: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(Season.__table__.insert(), [{"year": 2030}])  # type: ignore[attr-defined]
        conn.execute(Event.__table__.insert(),  # type: ignore[attr-defined]
                     [{"id": 1, "year": 2030, "round": 5, "name": "Test Grand Prix"}])
        conn.execute(RaceSession.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": 1, "event_id": 1, "type": "R", "name": "Race", "start_utc": START,
             "status": "scheduled"}])
        conn.execute(ReminderSubscription.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_id": c, "session_types": "R", "offsets_min": "60", "active": True}
            for c in channels])


def test_reminder_claims_split_between_claimers_and_expire(engine: Engine) -> None:
    console = [f"console:local:c{i}" for i in range(5)]
    _race_with_subscribers(engine, [*console, "slack:T1:C1"])
    assert enqueue_reminders(engine, 1, 60, NOW) == 6
    assert enqueue_reminders(engine, 1, 60, NOW) == 0  # "do nothing on conflict", counted

    first = claim_reminders(engine, ["console"], now=NOW, lease_s=60, limit=3)
    second = claim_reminders(engine, ["console"], now=NOW, lease_s=60, limit=10)
    assert [r.channel_id for r in first] == console[:3]
    assert [r.channel_id for r in second] == console[3:], "the rest; the slack row waits for its adapter"
    assert claim_reminders(engine, ["console"], now=NOW, lease_s=60) == []
    assert all(r.attempts == 1 and r.info is not None and r.info.start_utc == START for r in first)
    assert first[0].idempotency_key == "reminder:1:60:console:local:c0"

    finish_reminder(engine, first[0].id, "sent", sent_at=NOW, message_id="m1")
    retry_reminder_after(engine, first[1].id, NOW + dt.timedelta(minutes=10))  # rate limited
    # The claimers "died": after the lease, the unfinished rows are claimable again, once more
    # counted, except the one sent and the one held back until later.
    later = NOW + dt.timedelta(seconds=61)
    again = claim_reminders(engine, ["console", "slack"], now=later, lease_s=3600)
    assert sorted(r.channel_id for r in again) == sorted([*console[2:], "slack:T1:C1"])
    assert {r.channel_id: r.attempts for r in again}["console:local:c2"] == 2
    retried = claim_reminders(engine, ["console"], now=NOW + dt.timedelta(minutes=11), lease_s=60)
    assert [r.channel_id for r in retried] == [console[1]]
    with engine.connect() as conn:
        sent = conn.execute(select(ReminderSent.status, ReminderSent.claimed_until, ReminderSent.message_id)
                            .where(ReminderSent.id == first[0].id)).one()
    assert sent == ("sent", None, "m1")


def test_concurrent_claimers_never_take_the_same_row(engine: Engine) -> None:
    channels = [f"console:local:c{i:02d}" for i in range(40)]
    _race_with_subscribers(engine, channels)
    enqueue_reminders(engine, 1, 60, NOW)

    def claim(_: int) -> list[int]:
        got: list[int] = []
        while batch := claim_reminders(engine, ["console"], now=NOW, lease_s=60, limit=3):
            got.extend(r.id for r in batch)
        return got

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(claim, range(4)))
    taken = [i for r in results for i in r]
    assert len(taken) == 40 and len(set(taken)) == 40


def test_job_ledger_claim_renew_finish(engine: Engine) -> None:
    t0 = dt.datetime(2030, 5, 1, 16, 0, tzinfo=UTC)
    assert claim_job(engine, "ingest:1:1", "ingest", 1, "a", t0, 600)
    assert not claim_job(engine, "ingest:1:1", "ingest", 1, "b", t0 + dt.timedelta(minutes=5), 600)
    assert renew_job(engine, "ingest:1:1", "a", t0 + dt.timedelta(minutes=20))
    assert not renew_job(engine, "ingest:1:1", "b", t0 + dt.timedelta(hours=1)), "not b's lease"
    # The renewed lease holds past the first one; after it, b takes the abandoned key over.
    assert not claim_job(engine, "ingest:1:1", "ingest", 1, "b", t0 + dt.timedelta(minutes=15), 600)
    assert claim_job(engine, "ingest:1:1", "ingest", 1, "b", t0 + dt.timedelta(minutes=21), 600)
    # The old owner waking up cannot record its outcome over the new owner's run.
    assert not finish_job(engine, "ingest:1:1", "a", "done", t0 + dt.timedelta(minutes=22), {})
    assert finish_job(engine, "ingest:1:1", "b", "done", t0 + dt.timedelta(minutes=30), {"n": 1})
    # Done is final: never claimable again, whatever the time.
    assert not claim_job(engine, "ingest:1:1", "ingest", 1, "c", t0 + dt.timedelta(days=9), 600)
    entry = load_ledger(engine, [1])["ingest:1:1"]
    assert entry.status == "done" and entry.lease_until is None
    assert entry.finished_at == t0 + dt.timedelta(minutes=30)
    with engine.connect() as conn:
        row = conn.execute(select(JobRun.attempts, JobRun.owner).where(JobRun.key == "ingest:1:1")).one()
    assert tuple(row) == (2, "b")


def test_unix_seconds_lease_column(engine: Engine) -> None:
    """A table keeping its lease as UNIX seconds (as Track Pulse's deliveries do) uses the
    same calls with aware datetimes; the conversion is the module's."""
    meta = MetaData()
    work = Table("outbox_test_work", meta, Column("id", Integer, primary_key=True),
                 Column("status", String(16), index=True), Column("lease_until", Float),
                 Column("owner", String(32)), Column("attempts", Integer, default=0))
    meta.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(work.insert(), [{"id": i, "status": "pending", "attempts": 0} for i in range(1, 4)])
        q = outbox.LeaseTable(work, key="id", lease="lease_until", open=work.c.status == "pending",
                              attempts="attempts", owner="owner", unix=True)
        with engine.begin() as conn:
            assert outbox.claim_due(conn, q, now=NOW, lease_s=30, owner="w1", limit=2) == [1, 2]
            assert outbox.claim_due(conn, q, now=NOW, lease_s=30, owner="w2") == [3]
            lease = conn.execute(select(work.c.lease_until).where(work.c.id == 1)).scalar_one()
            assert lease == NOW.timestamp() + 30
            assert outbox.finish(conn, q, 1, owner="w1", values={"status": "done"})
            assert not outbox.finish(conn, q, 3, owner="w1", values={"status": "done"}), "w2's row"
            late = NOW + dt.timedelta(seconds=31)
            assert outbox.claim_due(conn, q, now=late, lease_s=30, owner="w3") == [2, 3]
    finally:
        meta.drop_all(engine)
