"""When does ingestion try a session? Season / event-wide: once it has ENDED (end_utc, else
start + the type's typical duration, + a margin). A single named session: always.

Real FastF1 loader on the Monza 2023 cache fixture, real SQLite store; `now` is injected so
the 2023 race can be "running" or "just finished".
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from storage.db import init_db, make_engine
from storage.ingest import (
    ENDED_MARGIN,
    ChildRunner,
    IngestError,
    expected_end,
    ingest,
    ingest_session,
    ingest_session_async,
    session_ended,
)
from storage.models import IngestRun, Lap

UTC = dt.UTC
RACE_START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=UTC)  # Monza 2023, round 14
RACE = "2023/14/R"


def _laps(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Lap)).scalar_one())


def _race_runs(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(IngestRun).where(IngestRun.target == RACE)
            ).scalar_one()
        )


def test_expected_end_and_margin() -> None:
    start = RACE_START
    # No end time in the schedule: the type's typical duration.
    assert expected_end("R", start) == start + dt.timedelta(hours=2)
    assert expected_end("Q", start) == start + dt.timedelta(hours=1)
    assert expected_end("S", start) == start + dt.timedelta(hours=1)
    assert expected_end("FP2", start) == start + dt.timedelta(hours=1)
    # A known end wins (a red-flagged race running long, a short sprint shootout).
    late = start + dt.timedelta(hours=3, minutes=10)
    assert expected_end("R", start, late) == late
    assert expected_end("R", None) is None
    end = start + dt.timedelta(hours=2)
    # The scheduler's first attempt (end + 30 min) is past the margin; the end itself is not.
    assert ENDED_MARGIN < dt.timedelta(minutes=30)
    assert session_ended("R", start, None, now=end + dt.timedelta(minutes=30)) is True
    assert session_ended("R", start, None, now=end) is False
    assert session_ended("R", start, None, now=end + ENDED_MARGIN) is True
    assert session_ended("R", start, late, now=end + dt.timedelta(minutes=30)) is False
    assert session_ended("R", None, None, now=end) is None


def test_race_ended_30_min_ago_is_taken_by_the_season_wide_call(
    sqlite_engine: Engine, monza_cache: Path
) -> None:
    """The old rule (started >= 3 h ago) would have skipped it until 16:00."""
    now = RACE_START + dt.timedelta(hours=2, minutes=30)  # scheduler's first attempt
    with ChildRunner() as runner:
        rep = ingest(sqlite_engine, 2023, cache_dir=monza_cache, runner=runner, now=now)
        by_label = {s.target: s for s in rep.sessions}
        assert by_label[RACE].outcome == "added", by_label[RACE]
        assert _laps(sqlite_engine) == 958
        # Earlier sessions were tried (not in this cache: skipped cheaply); later ones wait.
        assert by_label["2023/14/Q"].reason == "not in the offline cache"
        assert RACE not in rep.pending and "2023/15/R" in rep.pending
        assert all(int(p.split("/")[1]) >= 15 for p in rep.pending), rep.pending
        assert rep.ok

        # Inside the margin after the end: not yet, the race is not touched.
        runs = _race_runs(sqlite_engine)
        early = ingest(sqlite_engine, 2023, "Monza", cache_dir=monza_cache, runner=runner,
                       now=RACE_START + dt.timedelta(hours=2, minutes=5))
        assert RACE in early.pending and RACE not in {s.target for s in early.sessions}
        assert "2023/14/Q" in {s.target for s in early.sessions}
        assert _race_runs(sqlite_engine) == runs


def test_running_race_skipped_season_wide_but_attempted_singly(
    sqlite_engine: Engine, monza_cache: Path, tmp_path: Path
) -> None:
    running = RACE_START + dt.timedelta(hours=1)
    with ChildRunner() as runner:
        # Season-wide and event-wide while the race runs: it is pending, never attempted.
        rep = ingest(sqlite_engine, 2023, cache_dir=monza_cache, runner=runner, now=running)
        assert RACE in rep.pending and RACE not in {s.target for s in rep.sessions}
        ev = ingest(sqlite_engine, 2023, "Monza", cache_dir=monza_cache, runner=runner, now=running)
        assert ev.pending == [RACE]
        assert [s.target for s in ev.sessions] == [f"2023/14/{t}" for t in ("FP1", "FP2", "FP3", "Q")]
        assert _race_runs(sqlite_engine) == 0 and _laps(sqlite_engine) == 0

        # Named singly, it is attempted at once: the data decides (here: all of it is there).
        out = ingest_session(sqlite_engine, 2023, "Monza", "race", cache_dir=monza_cache,
                             runner=runner)
        assert (out.target, out.outcome) == (RACE, "added") and out.load_s is not None
        assert _laps(sqlite_engine) == 958

        # The service's path (`ingest` with year + round + type) is a single session too,
        # whatever `now` says; unchanged now, so skipped cheaply on the cache fingerprint.
        again = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache, runner=runner,
                       now=running)
        assert again.pending == [] and [(s.target, s.outcome) for s in again.sessions] == [
            (RACE, "skipped")
        ]
        assert again.sessions[0].reason == "unchanged (cache files)"

        # Async variant, off the event loop.
        out2 = asyncio.run(ingest_session_async(sqlite_engine, 2023, 14, "R",
                                                cache_dir=monza_cache, runner=runner))
        assert (out2.outcome, out2.reason) == ("skipped", "unchanged (cache files)")
        assert _race_runs(sqlite_engine) == 3

        # Nothing published for that session yet (offline cache lacks it): skipped, reported.
        q = ingest_session(sqlite_engine, 2023, 14, "Q", cache_dir=monza_cache, runner=runner)
        assert (q.outcome, q.reason) == ("skipped", "not in the offline cache")

        # Bad input raises before anything is written.
        with pytest.raises(IngestError, match="unknown event"):
            ingest_session(sqlite_engine, 2023, "Atlantis", "R", cache_dir=monza_cache, runner=runner)
        with pytest.raises(IngestError, match="unknown session"):
            ingest_session(sqlite_engine, 2023, 14, "FP9", cache_dir=monza_cache, runner=runner)
        with pytest.raises(IngestError, match="cache dir not found"):
            ingest_session(sqlite_engine, 2023, 14, "R", cache_dir=tmp_path / "nope", runner=runner)

        # On an empty store, a single session syncs the schedule first (FastF1, once).
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        try:
            init_db(fresh)
            first = ingest_session(fresh, 2023, "Italian Grand Prix", "R", cache_dir=monza_cache,
                                   runner=runner)
            assert first.outcome == "added" and _laps(fresh) == 958
            with fresh.connect() as conn:
                sched = conn.execute(
                    text("select count(*) from ingest_run where kind = 'schedule' and outcome = 'added'")
                ).scalar_one()
            assert sched == 1
        finally:
            fresh.dispose()
