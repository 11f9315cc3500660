"""The pure planner: back-off, chain order, ledger-driven re-planning."""

from __future__ import annotations

import datetime as dt

from bot.scheduling import Policy, backoff, parse_offsets, plan
from storage.jobs import LedgerEntry, SessionSlot

UTC = dt.UTC
START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=UTC)
END = START + dt.timedelta(hours=2)
RACE = SessionSlot(70, 2023, 14, "R", "Race", "Italian Grand Prix", START, END)


def keys(jobs):
    return [(j.key, j.run_at) for j in jobs if j.kind != "schedule"]


def test_backoff_grows_and_caps() -> None:
    p = Policy()
    assert [backoff(n, p) for n in (1, 2, 3, 4, 5, 6, 7)] == [
        dt.timedelta(minutes=m) for m in (10, 20, 40, 80, 160, 180, 180)]


def test_plan_follows_the_ledger() -> None:
    p = Policy()
    before = START - dt.timedelta(hours=2)
    jobs = plan([RACE], before, {}, policy=p, reminder_offsets={"R": frozenset({60, 10})})
    assert keys(jobs) == [
        ("reminder:70:60", START - dt.timedelta(minutes=60)),
        ("reminder:70:10", START - dt.timedelta(minutes=10)),
        ("live:70", START - dt.timedelta(minutes=2)),
        ("ingest:70:1", END + dt.timedelta(minutes=30)),
    ]
    after = END + dt.timedelta(hours=1)
    failed = {
        "ingest:70:1": LedgerEntry("ingest:70:1", "failed", END + dt.timedelta(minutes=31)),
        "live:70": LedgerEntry("live:70", "done", END),
    }
    assert keys(plan([RACE], after, failed, policy=p)) == [
        ("ingest:70:2", END + dt.timedelta(minutes=41))]
    done = failed | {"ingest:70:2": LedgerEntry("ingest:70:2", "done", END + dt.timedelta(minutes=42))}
    assert keys(plan([RACE], after, done, policy=p)) == [
        ("pulse:70", END + dt.timedelta(minutes=42)), ("final:70", END + dt.timedelta(hours=24))]
    done |= {"pulse:70": LedgerEntry("pulse:70", "done", END + dt.timedelta(minutes=43))}
    assert [k for k, _ in keys(plan([RACE], after, done, policy=p))] == ["summary:70", "final:70"]
    # A claim whose holder died (lease expired) is planned again; a live lease is not.
    running = {"ingest:70:1": LedgerEntry("ingest:70:1", "running", lease_until=after + dt.timedelta(minutes=5))}
    assert keys(plan([RACE], after, running, policy=p)) == []  # (the live window is over too)
    expired = {"ingest:70:1": LedgerEntry("ingest:70:1", "running", lease_until=after - dt.timedelta(minutes=5))}
    assert ("ingest:70:1", END + dt.timedelta(minutes=30)) in keys(plan([RACE], after, expired, policy=p))
    # Missed reminders are dropped; old sessions are history, not work.
    assert not [k for k, _ in keys(plan([RACE], START - dt.timedelta(minutes=30), {}, policy=p,
                                        reminder_offsets={"R": frozenset({60})})) if k.startswith("reminder")]
    assert keys(plan([RACE], END + dt.timedelta(days=10), {}, policy=p)) == []


def test_parse_offsets() -> None:
    assert parse_offsets("10, 60,10") == [60, 10]
    for bad in ("", "soon", "0", "2000"):
        try:
            parse_offsets(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
