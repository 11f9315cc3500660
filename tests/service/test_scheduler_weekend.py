"""The scheduler on a fake clock over the real 2023 Italian GP weekend (schedule and race data
from the recorded FastF1 cache, ingested through the real child-process ingest)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, select, text

from bot.scheduling import Policy
from slipstream.service import Service, ServiceConfig, make_schedule_sync, make_store_ingest
from storage.service_models import JobRun, ReminderSubscription
from tests.conftest import MONZA_CACHE
from tests.service.helpers import (
    FakeClock,
    FilePoster,
    monza_sessions,
    publish_race_data,
    read_posts,
    run_until,
    schedule_only_cache,
)

UTC = dt.UTC
THURSDAY = dt.datetime(2023, 8, 31, 0, 0, tzinfo=UTC)
RACE_START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=UTC)
RACE_END = dt.datetime(2023, 9, 3, 15, 0, tzinfo=UTC)
POLICY = Policy(max_attempts=3, live_types=frozenset())


def _service(engine: Engine, clock: FakeClock, cache: Path, posts: Path) -> Service:
    return Service(
        engine,
        clock=clock,
        config=ServiceConfig(policy=POLICY),
        ingest=make_store_ingest(engine, cache, offline=True, timeout_s=120),
        schedule_sync=make_schedule_sync(engine, cache, offline=True, timeout_s=120),
        posters={"console": FilePoster("console", posts)},
        autowake=False,
    )


def _subscribe(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            ReminderSubscription.__table__.insert(),  # type: ignore[attr-defined]
            [{"channel_id": "console:local:pit", "session_types": "Q,R", "offsets_min": "60,10",
              "active": True}],
        )


def _ledger(engine: Engine) -> dict[str, JobRun]:
    with engine.connect() as conn:
        rows = conn.execute(select(JobRun)).all()
    return {r.key: JobRun.model_validate(r._mapping) for r in rows}


async def test_weekend_jobs_fire_in_order_retry_and_survive_restart(
    engine: Engine, tmp_path: Path
) -> None:
    cache = schedule_only_cache(MONZA_CACHE, tmp_path / "cache")
    posts = tmp_path / "posts.jsonl"
    _subscribe(engine)
    clock = FakeClock(THURSDAY)

    # --- first process: Thursday until just after the first race ingest attempt
    first = _service(engine, clock, cache, posts)
    await first.start_leading()
    await run_until(first, clock, RACE_END + dt.timedelta(minutes=35))
    ids = monza_sessions(engine)
    assert set(ids) >= {"FP1", "FP2", "FP3", "Q", "R"}, "the daily schedule sync loaded the weekend"
    r, q = ids["R"], ids["Q"]
    keys = [k for k, _ in first.history]
    # Reminders before qualifying and the race, in time order, before anything of the race.
    assert keys.index(f"reminder:{q}:60") < keys.index(f"reminder:{q}:10") < keys.index(
        f"reminder:{r}:60") < keys.index(f"reminder:{r}:10") < keys.index(f"ingest:{r}:1")
    # The race data is not published yet: attempt 1 is incomplete and reported as failed.
    assert dict(first.history)[f"ingest:{r}:1"] == "failed"
    ledger = _ledger(engine)
    assert json.loads(ledger[f"ingest:{r}:1"].result or "{}")["complete"] is False
    # Qualifying never gets data in this cache: retried with growing back-off, then given up.
    q_runs = [ledger[f"ingest:{q}:{n}"] for n in (1, 2, 3)]
    assert all(j.status == "failed" for j in q_runs)
    gaps = [(b.started_at - a.finished_at) for a, b in zip(q_runs, q_runs[1:], strict=False)]
    assert gaps == [dt.timedelta(minutes=10), dt.timedelta(minutes=20)]
    assert f"ingest:{q}:4" not in ledger
    assert [p["key"] for p in read_posts(posts)] == [
        f"reminder:{q}:60:console:local:pit", f"reminder:{q}:10:console:local:pit",
        f"reminder:{r}:60:console:local:pit", f"reminder:{r}:10:console:local:pit",
    ]

    # --- "restart": the first process stops; only the ledger remains in the database
    await first.stop_leading(flush=True)

    publish_race_data(MONZA_CACHE, cache)  # F1 publishes the timing data
    second = _service(engine, clock, cache, posts)
    await second.start_leading()
    # The new process rebuilt its jobs from the calendar and the ledger: the retry is planned
    # one back-off (10 min) after attempt 1 finished, with the scheduler's own settings.
    assert second.scheduler is not None
    jobs = {j.id: j for j in second.scheduler.get_jobs()}
    retry = jobs[f"ingest:{r}:2"]
    assert retry.next_run_time == ledger[f"ingest:{r}:1"].finished_at + dt.timedelta(minutes=10)
    assert isinstance(retry.trigger, DateTrigger)
    assert (retry.coalesce, retry.max_instances, retry.misfire_grace_time) == (True, 1, None)
    assert f"ingest:{r}:1" not in jobs and f"reminder:{r}:10" not in jobs, "what ran is not planned again"
    await run_until(second, clock, RACE_END + dt.timedelta(days=2))
    await second.stop_leading(flush=True)

    keys2 = [k for k, _ in second.history]
    assert keys2.index(f"ingest:{r}:2") < keys2.index(f"pulse:{r}") < keys2.index(
        f"summary:{r}") < keys2.index(f"final:{r}") < keys2.index(f"pulse_final:{r}")
    assert dict(second.history)[f"ingest:{r}:2"] == "done"
    # Track Pulse ran on the real race: it found highlights; the final re-run found none new.
    assert json.loads(_ledger(engine)[f"pulse:{r}"].result or "{}")["highlights"] > 20
    assert json.loads(_ledger(engine)[f"pulse_final:{r}"].result or "{}")["highlights"] == 0
    # Attempt 2 ran one back-off (10 min) after attempt 1.
    ledger = _ledger(engine)
    assert ledger[f"ingest:{r}:2"].started_at == ledger[f"ingest:{r}:1"].finished_at + dt.timedelta(minutes=10)
    assert ledger[f"final:{r}"].started_at == RACE_END + dt.timedelta(hours=24)
    # Nothing ran twice, across both processes: every key once in the histories and the ledger.
    all_keys = keys + keys2
    assert len(all_keys) == len(set(all_keys))
    assert all(j.attempts == 1 for j in ledger.values())
    # Nothing was lost: every reminder key posted exactly once, the race is in the store.
    assert len(read_posts(posts)) == 4
    with engine.connect() as conn:
        laps = conn.execute(text("SELECT count(*) FROM lap WHERE session_id = :s"), {"s": r}).scalar()
    assert laps == 958


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_abandoned_job_is_rerun_once_after_its_lease(engine: Engine, tmp_path: Path) -> None:
    """A process that died mid-job left a `running` row: the next leader re-runs it after the lease."""
    cache = schedule_only_cache(MONZA_CACHE, tmp_path / "cache")
    publish_race_data(MONZA_CACHE, cache)
    clock = FakeClock(THURSDAY)
    svc = _service(engine, clock, cache, tmp_path / "posts.jsonl")
    await svc.start_leading()
    await run_until(svc, clock, RACE_END)  # schedule known, nothing of the race ran
    r = monza_sessions(engine)["R"]
    from storage.jobs import claim_job

    at = RACE_END + dt.timedelta(minutes=30)
    assert claim_job(engine, f"ingest:{r}:1", "ingest", r, "dead-process", at, 600)
    assert not claim_job(engine, f"ingest:{r}:1", "ingest", r, "other", at, 600), "lease still held"
    await run_until(svc, clock, at + dt.timedelta(minutes=5))
    assert f"ingest:{r}:1" not in dict(svc.history), "not re-run while the lease holds"
    clock.set(at + dt.timedelta(minutes=11))  # lease expired; the periodic re-plan finds it
    await svc.reconcile()
    await run_until(svc, clock, at + dt.timedelta(minutes=15))
    assert dict(svc.history)[f"ingest:{r}:1"] == "done"
    assert _ledger(engine)[f"ingest:{r}:1"].attempts == 2
    await svc.stop_leading(flush=True)


async def test_schedule_sync_that_cannot_load_fails_in_one_line_and_is_replanned(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache without the season, or no cache at all: a failed job, one log line, no traceback.

    (CI once caught a traceback here: FastF1 refused a cache directory that did not exist yet;
    on-line syncs now create it, see `test_run`.)"""
    empty = tmp_path / "fresh" / "ff1"
    empty.mkdir(parents=True)
    missing = tmp_path / "nowhere"
    clock = FakeClock(dt.datetime(2023, 8, 31, 7, 0, tzinfo=UTC))
    caplog.set_level("WARNING", logger="slipstream.service")

    # This offline cache has no 2023 schedule in it.
    service = Service(engine, clock=clock, config=ServiceConfig(policy=POLICY), autowake=False,
                      schedule_sync=make_schedule_sync(engine, empty, offline=True, timeout_s=120))
    await service.run_job("schedule:2023-08-31", kind="schedule")
    row = _ledger(engine)["schedule:2023-08-31"]
    assert row.status == "failed"
    assert "schedule 2023" in json.loads(row.result or "{}")["error"]

    # An offline cache that is not there at all is reported as such.
    service.schedule_sync = make_schedule_sync(engine, missing, offline=True, timeout_s=120)
    await service.run_job("schedule:2023-09-01", kind="schedule")
    assert "cache dir not found" in json.loads(_ledger(engine)["schedule:2023-09-01"].result or "{}")["error"]

    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info is None for r in failures), "one line each, no traceback"
    # A failed sync is not retried in a loop: the plan moves on to the next day's sync.
    planned = [j.key for j in await asyncio.to_thread(service._plan) if j.kind == "schedule"]
    assert planned == ["schedule:2023-09-01"]
