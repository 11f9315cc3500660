"""The production live feed (`slipstream.live.IngestLiveFeed`) on the recorded Monza 2023 cache:
real child-process ingest, real store, real Track Pulse, the service's real live job.

The race "goes live" the way it does in production: the schedule is known, the
timing files are not there yet (nothing to load), then a broken copy appears
(FastF1 fails in its child), then the real files (everything lands at once).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.pulse.detectors import detect_all
from bot.scheduling import Policy
from slipstream.live import IngestLiveFeed
from slipstream.service import Service, ServiceConfig, make_schedule_sync, make_store_ingest
from storage import pulse_store
from storage.jobs import SessionSlot, load_slots
from storage.models import Lap
from storage.pulse_models import PulseDelivery, PulseHighlightRow
from storage.service_models import JobRun
from tests.service.helpers import FakeClock, publish_race_data, schedule_only_cache

UTC = dt.UTC
RACE_START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=UTC)
RACE_END = dt.datetime(2023, 9, 3, 15, 0, tzinfo=UTC)
RACE_DIR = Path("2023/2023-09-03_Italian_Grand_Prix/2023-09-03_Race")
CHANNEL = "console:local:pit"


async def _race_slot(engine: Engine, cache: Path) -> SessionSlot:
    """The weekend's schedule in the store (real FastF1 schedule load), and the race's slot."""
    await make_schedule_sync(engine, cache, offline=True, timeout_s=120)(2023)
    slots = load_slots(
        engine, RACE_START - dt.timedelta(hours=1), RACE_START + dt.timedelta(hours=1)
    )
    (race,) = [s for s in slots if s.type == "R"]
    return race


def _stored_laps(engine: Engine, session_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Lap).where(Lap.session_id == session_id)
            ).scalar_one()
        )


async def test_feed_polls_nothing_yet_failure_then_laps_then_cheap(
    sqlite_engine: Engine, monza_cache: Path, tmp_path: Path
) -> None:
    engine = sqlite_engine
    cache = schedule_only_cache(monza_cache, tmp_path / "live-cache")
    race = await _race_slot(engine, cache)
    feed = IngestLiveFeed(engine, cache, offline=True, interval_s=0.0, timeout_s=60)
    state = feed.state(race.session_id)
    try:
        # 1. Nothing published yet: no laps, no error, reported.
        assert await feed.poll(race) == 0
        assert (
            state.polls[-1].outcome == "skipped"
            and "not in the offline cache" in state.polls[-1].reason
        )

        # 2. The files appear but the lap data is broken: FastF1 fails in its child; reported, no raise.
        publish_race_data(monza_cache, cache)
        laps_file = cache / RACE_DIR / "_extended_timing_data.ff1pkl"
        laps_file.write_bytes(b"not a pickle")
        assert await feed.poll(race) == 0
        assert (
            state.polls[-1].outcome == "failed" and "FastF1 load failed" in state.polls[-1].reason
        )
        assert _stored_laps(engine, race.session_id) == 0 and not state.complete

        # 3. Retried at the next poll once the data is good: every lap lands and is reported.
        shutil.copy2(monza_cache / RACE_DIR / "_extended_timing_data.ff1pkl", laps_file)
        assert await feed.poll(race) == 958
        assert state.polls[-1].outcome == "added" and state.complete
        assert _stored_laps(engine, race.session_id) == 958

        # 4. Unchanged: nothing new, and cheap (cache fingerprint, no FastF1 load, no write).
        assert await feed.poll(race) == 0
        last = state.polls[-1]
        assert last.outcome == "skipped" and last.laps == 958 and last.seconds < 0.5, last

        # 5. Never more often than the interval: a throttled poll does not ingest at all.
        feed.interval_s = 3600.0
        n_attempts = len(state.attempts)
        assert await feed.poll(race) == 0
        assert state.polls[-1].outcome == "throttled" and len(state.attempts) == n_attempts
        assert state.failures == 1

        # finished(): only after the end, with complete data and an unchanged last poll.
        feed.clock = lambda: RACE_END - dt.timedelta(minutes=1)
        assert not feed.finished(race)
        feed.clock = lambda: RACE_END + dt.timedelta(minutes=1)
        assert feed.finished(race)
    finally:
        await feed.end(race)
    assert feed._runner is None, "the FastF1 worker is released when the window ends"

    # An unknown session and a missing cache dir: failed polls, reported, never raised.
    ghost = SessionSlot(999_999, 2023, 14, "R", "Race", "Italian Grand Prix", RACE_START, RACE_END)
    assert await feed.poll(ghost) == 0
    assert feed.state(ghost.session_id).polls[-1].reason == "session not in the stored schedule"
    nowhere = IngestLiveFeed(engine, tmp_path / "no-such-cache", offline=True, interval_s=0.0)
    assert await nowhere.poll(race) == 0
    assert "cache dir not found" in nowhere.state(race.session_id).polls[-1].reason
    assert await nowhere.poll(race) == 0 and nowhere.state(race.session_id).failures == 2


async def test_service_live_job_with_ingest_feed_posts_monza_highlights_once(
    engine: Engine, monza_cache: Path, tmp_path: Path
) -> None:
    cache = schedule_only_cache(monza_cache, tmp_path / "live-cache")
    race = await _race_slot(engine, cache)
    pulse_store.subscribe(engine, CHANNEL, min_priority="low")
    clock = FakeClock(RACE_START - dt.timedelta(minutes=2))
    service = Service(
        engine,
        clock=clock,
        config=ServiceConfig(
            policy=Policy(live_types=frozenset({"R"})), live_poll_s=0.02, live_ingest_interval_s=0.0
        ),
        ingest=make_store_ingest(engine, cache, offline=True, timeout_s=120),
        autowake=False,
    )
    # Production wiring: no live_feed given, the store ingest's cache and mode are used.
    feed = service.live_feed
    assert isinstance(feed, IngestLiveFeed) and feed.cache_dir == cache and feed.offline
    assert feed.interval_s == 0.0 and feed.timeout_s == ServiceConfig().live_ingest_timeout_s
    state = feed.state(race.session_id)

    async def race_goes_on() -> None:
        # The feed's state is plain data read between polls, hence sleep-polling here.
        while len(state.attempts) < 2:  # noqa: ASYNC110 - the live job polls: nothing there yet
            await asyncio.sleep(0.02)
        publish_race_data(monza_cache, cache)  # the timing data becomes available
        while sum(1 for p in state.attempts if p.outcome == "skipped" and p.laps == 958) < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # several unchanged polls after the laps landed
        clock.set(RACE_END + dt.timedelta(minutes=1))  # chequered flag: finished() ends the job

    await service.start_leading()
    try:
        await asyncio.wait_for(asyncio.gather(service.tick(), race_goes_on()), 90)
    finally:
        await service.stop_leading(flush=False)

    with engine.connect() as conn:
        live = conn.execute(select(JobRun).where(JobRun.key == f"live:{race.session_id}")).one()
        keys = list(
            conn.execute(
                select(PulseHighlightRow.key).where(PulseHighlightRow.session_id == race.session_id)
            ).scalars()
        )
        deliveries = conn.execute(
            select(PulseDelivery.idempotency_key, PulseDelivery.highlight_id).where(
                PulseDelivery.channel_id == CHANNEL
            )
        ).all()
        lead_id = conn.execute(
            select(PulseHighlightRow.id).where(
                PulseHighlightRow.session_id == race.session_id,
                PulseHighlightRow.key == "lead_change:15:VER",
            )
        ).scalar_one()
    assert live.status == "done"
    assert '"laps": 958' in live.result and '"pulse_runs": 1' in live.result, live.result
    assert len(state.attempts) >= 6 and feed._runner is None
    # The live run found exactly what a whole-race detection finds, each once.
    whole = {h.key for h in detect_all(pulse_store.load_feed(engine, race.session_id))}
    assert len(keys) == len(set(keys)) and set(keys) == whole
    assert "lead_change:15:VER" in keys
    # Queued for the channel once: one delivery row per highlight, the lead change in exactly one.
    hl_ids = [h for _, h in deliveries]
    assert deliveries and len(hl_ids) == len(set(hl_ids))
    assert sum(1 for _, h in deliveries if h == lead_id) == 1
    # Track Pulse again on the same laps (as a further poll would): nothing new.
    assert await service.pulse(race.session_id) == 0
