"""All 16 session folders (15 loadable) of the shared 2019-2023 cache: one broken race fails clearly, the rest land."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage.db import init_db, make_engine
from storage.ingest import ChildRunner, IngestReport, ingest

YEARS = (2019, 2020, 2021, 2022, 2023)


@pytest.fixture(scope="module")
def shared_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path, list[IngestReport]]]:
    """One ingest over the whole shared cache into a SQLite store (expensive: shared by the module)."""
    base = tmp_path_factory.mktemp("shared")
    cache = base / "cache"
    shutil.copytree(shared_data / "fastf1-cache" / "sessions-2019-2023", cache)
    engine = make_engine(f"sqlite:///{base / 'store.db'}")
    init_db(engine)
    with ChildRunner() as runner:  # one FastF1 child for all seasons (it survives the broken race)
        reports = [ingest(engine, y, cache_dir=cache, runner=runner) for y in YEARS]
    yield engine, cache, reports
    engine.dispose()


def _loaded(reports: list[IngestReport]) -> list[Any]:
    return [s for r in reports for s in r.sessions if s.reason != "not in the offline cache"]


def test_broken_bahrain_fails_clearly_others_succeed(shared_run: tuple[Engine, Path, list[IngestReport]]) -> None:
    engine, _, reports = shared_run
    loaded = _loaded(reports)
    assert len(loaded) == 16  # 15 loadable sessions + the broken 2021 Bahrain race
    failed = [s for s in loaded if s.outcome == "failed"]
    assert [s.target for s in failed] == ["2021/1/R"]
    assert "did not load" in (failed[0].reason or "")
    assert sorted(s.outcome for s in loaded if s.outcome != "failed") == ["added"] * 15
    with engine.connect() as conn:
        st = conn.execute(text(
            "select s.status, s.last_error, s.content_hash, (select count(*) from lap l where l.session_id = s.id) "
            "from race_session s join event e on e.id = s.event_id where e.year = 2021 and e.round = 1 "
            "and s.type = 'R'")).one()
        assert st[0] == "failed" and "did not load" in st[1] and st[2] is None and st[3] == 0
        ok = conn.execute(text("select count(*) from race_session where status = 'ingested'")).scalar_one()
        assert ok == 15
        # Sessions with empty DriverId in this cache still map to one driver per code per season.
        dups = conn.execute(text(
            "select count(*) from (select e.year, sd.code from session_driver sd "
            "join race_session s on s.id = sd.session_id join event e on e.id = s.event_id "
            "group by e.year, sd.code having count(distinct sd.driver_id) > 1) x")).scalar_one()
        assert dups == 0
        # This cache has no grid / points / status (no Jolpica data): they stay NULL.
        assert conn.execute(text(
            "select count(*) from result r join race_session s on s.id = r.session_id "
            "join event e on e.id = s.event_id where e.year = 2019 and s.type = 'R' "
            "and (r.points is not null or r.grid is not null)")).scalar_one() == 0


def test_rerun_skips_everything_and_history_fills_gaps(
    shared_run: tuple[Engine, Path, list[IngestReport]], shared_data: Path
) -> None:
    from storage.history import import_history

    engine, cache, _ = shared_run
    again = [ingest(engine, y, cache_dir=cache) for y in YEARS]
    outcomes = sorted((s.outcome, s.target) for s in _loaded(again))
    assert [o for o, _ in outcomes].count("skipped") == 15
    assert ("failed", "2021/1/R") in outcomes
    # Skipped on the cache files' fingerprint, without starting FastF1 (the time that
    # takes per session is bench/bench_ingest.py's "unchanged re-ingest" figure).
    assert all(s.reason == "unchanged (cache files)" and s.child_s is None
               for s in _loaded(again) if s.outcome == "skipped")

    import_history(engine, shared_data / "ergast-csv", years=[2019])
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select d.ref, r.position, r.grid, r.points, r.status, "
            "(select count(*) from lap l where l.session_id = s.id and l.driver_id = d.id) "
            "from result r join driver d on d.id = r.driver_id join race_session s on s.id = r.session_id "
            "join event e on e.id = s.event_id where e.year = 2019 and e.round = 5 and s.type = 'R' "
            "order by r.position_order limit 2")).all()
        assert [tuple(r) for r in rows] == [("hamilton", 1, 2, 26.0, "Finished", 66),
                                            ("bottas", 2, 1, 18.0, "Finished", 66)]
        assert conn.execute(text("select count(*) from driver")).scalar_one() == \
            conn.execute(text("select count(distinct ref) from driver")).scalar_one()
