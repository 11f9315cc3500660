"""APScheduler firing by itself on the real clock (the production mode), within a second."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.scheduling import Policy
from slipstream.service import Service, ServiceConfig
from storage.models import Event, Season
from storage.models import Session as RaceSession
from storage.service_models import ReminderSubscription
from tests.service.helpers import FilePoster, read_posts


def _race_starting_at(engine: Engine, start: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(Season.__table__.insert(), [{"year": start.year}])  # type: ignore[attr-defined]
        conn.execute(Event.__table__.insert(),  # type: ignore[attr-defined]
                     [{"id": 1, "year": start.year, "round": 1, "name": "Test Grand Prix"}])
        conn.execute(RaceSession.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": 1, "event_id": 1, "type": "R", "name": "Race", "start_utc": start,
             "end_utc": start + dt.timedelta(hours=2), "status": "scheduled"}])
        conn.execute(ReminderSubscription.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_id": "console:local:pit", "session_types": "R", "offsets_min": "60",
             "active": True}])


async def test_reminder_job_fires_on_the_real_clock(engine: Engine, tmp_path: Path) -> None:
    # The 60-minute reminder falls due 0.8 s from now.
    start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=60, seconds=0.8)
    _race_starting_at(engine, start)
    posts = tmp_path / "posts.jsonl"
    service = Service(engine, config=ServiceConfig(policy=Policy(live_types=frozenset())),
                      posters={"console": FilePoster("console", posts)})
    await service.start_leading()
    try:
        assert service.scheduler is not None
        job = service.scheduler.get_job("reminder:1:60")
        assert job is not None and isinstance(job.trigger, DateTrigger)
        assert job.next_run_time == start - dt.timedelta(minutes=60)
        # A reminder later than the policy's grace would be wrong: APScheduler drops it.
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 300)
        assert read_posts(posts) == [], "not due yet"
        replan = service.scheduler.get_job("reconcile")
        assert replan is not None and isinstance(replan.trigger, IntervalTrigger)
        assert replan.trigger.interval == dt.timedelta(seconds=ServiceConfig().reconcile_every_s)
        for _ in range(60):  # up to 3 s: the job is due after 0.8 s (posts, then records)
            if ("reminder:1:60", "done") in service.history:
                break
            await asyncio.sleep(0.05)
        assert ("reminder:1:60", "done") in service.history
        (post,) = read_posts(posts)
        assert post["key"] == "reminder:1:60:console:local:pit"
        assert "starts in 1 hour, " in post["text"] and post["text"].endswith(" UTC.")
        assert service.scheduler.get_job("reminder:1:60") is None, "a date job fires once"
        # The re-plan after the job plans what follows (the ingest after the race), not it again.
        ingest = service.scheduler.get_job("ingest:1:1")
        assert ingest is not None
        assert ingest.next_run_time == start + dt.timedelta(hours=2, minutes=30)
    finally:
        await service.stop_leading(flush=True)
    assert service.scheduler is None
