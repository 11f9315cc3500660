"""`slipstream run` refreshes the current season's calendar when it starts (issue 14 item 8).

The daily sync runs once a UTC day at `sync_at`; a service restarted after it (or started
before 06:00) would answer `/f1 next` from an old calendar for hours. On the real clock the
leader now runs a schedule job at start, through the real FastF1 child, in the ledger. With
no network (here: an offline cache without the current season) it is one warning line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.scheduling import Policy
from slipstream.service import Service, ServiceConfig, make_schedule_sync
from storage.jobs import claim_job, finish_job
from storage.service_models import JobRun


def _start_rows(engine: Engine) -> list[JobRun]:
    with engine.connect() as conn:
        rows = conn.execute(select(JobRun)).all()
    return [JobRun.model_validate(r._mapping) for r in rows if r.key.startswith("schedule:start:")]


def _service(engine: Engine, cache: Path, *, at_start: bool) -> Service:
    return Service(engine, config=ServiceConfig(policy=Policy(live_types=frozenset()),
                                                sync_schedule_at_start=at_start),
                   schedule_sync=make_schedule_sync(engine, cache, offline=True, timeout_s=120))


async def test_calendar_sync_at_start_even_after_todays_daily_sync(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    now = dt.datetime.now(dt.UTC)
    # Today's daily sync already ran (a restart later the same day): nothing else would sync.
    daily = f"schedule:{now.date().isoformat()}"
    assert claim_job(engine, daily, "schedule", None, "earlier", now, 60)
    assert finish_job(engine, daily, "earlier", "done", now, {"events": 1})
    empty = tmp_path / "ff1"
    empty.mkdir()
    caplog.set_level("WARNING", logger="slipstream.service")

    service = _service(engine, empty, at_start=True)
    await service.start_leading()
    try:
        for _ in range(600):  # the FastF1 child takes a few seconds to start and give up
            if _start_rows(engine) and _start_rows(engine)[0].status != "running":
                break
            await asyncio.sleep(0.1)
    finally:
        await service.stop_leading(flush=True)
    (row,) = _start_rows(engine)
    assert row.kind == "schedule" and row.status == "failed"
    assert f"schedule {now.year}" in json.loads(row.result or "{}")["error"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "schedule:start:" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is None, "one line, no traceback"


async def test_no_sync_at_start_when_turned_off(engine: Engine, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    daily = f"schedule:{now.date().isoformat()}"
    assert claim_job(engine, daily, "schedule", None, "earlier", now, 60)
    assert finish_job(engine, daily, "earlier", "done", now, {"events": 1})
    service = _service(engine, tmp_path, at_start=False)
    await service.start_leading()
    await service.stop_leading(flush=True)
    assert _start_rows(engine) == []
