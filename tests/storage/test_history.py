"""Ergast CSV history import: demo subset (always) and the whole shared set (shared_data)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage import queries
from storage.demo import load_demo
from storage.history import HistoryError, import_history
from tests.storage.conftest import demo_ergast

TABLES = ["season", "circuit", "event", "race_session", "driver", "constructor", "result",
          "pit_stop", "driver_standing", "constructor_standing", "ingest_run"]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"select count(*) from {t}")).scalar_one() for t in TABLES}


def _csv_standings(csv_dir: Path, year: int, rnd: int) -> list[tuple[str, float, int]]:
    """Driver standings after a round, straight from the CSV files: (driverRef, points, position)."""
    race_id = next(r["raceId"] for r in csv.DictReader((csv_dir / "races.csv").open())
                   if int(r["year"]) == year and int(r["round"]) == rnd)
    refs = {r["driverId"]: r["driverRef"] for r in csv.DictReader((csv_dir / "drivers.csv").open())}
    rows = [(refs[r["driverId"]], float(r["points"]), int(r["position"]))
            for r in csv.DictReader((csv_dir / "driver_standings.csv").open()) if r["raceId"] == race_id]
    return sorted(rows, key=lambda r: r[2])


def _db_standings(engine: Engine, year: int, rnd: int) -> list[tuple[str, float, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select d.ref, s.points, s.position from driver_standing s join driver d on d.id = s.driver_id "
            "where s.year = :y and s.round = :r order by s.position"), {"y": year, "r": rnd}).all()
    return [(r[0], float(r[1]), r[2]) for r in rows]


def test_demo_subset_import_is_idempotent_and_matches_csv(engine: Engine) -> None:
    rep = import_history(engine, demo_ergast())
    assert rep.rows["driver_standing"] > 0
    first = _counts(engine)
    assert first["event"] == 22 and first["season"] == 1
    standings = _db_standings(engine, 2023, 14)
    assert standings == _csv_standings(demo_ergast(), 2023, 14)
    assert standings[0][0] == "max_verstappen" and standings[0][1] == 364.0
    import_history(engine, demo_ergast())
    again = _counts(engine)
    assert again.pop("ingest_run") == first.pop("ingest_run") + 1  # one audit row per import
    assert again == first
    with engine.connect() as conn:
        # The Monza race from history: grid, status, points, total time (NULL stays NULL).
        ver = conn.execute(text(
            "select r.grid, r.points, r.status, r.time_ms, r.gap_ms from result r "
            "join driver d on d.id = r.driver_id join race_session s on s.id = r.session_id "
            "join event e on e.id = s.event_id where e.year = 2023 and e.round = 14 and s.type = 'R' "
            "and d.code = 'VER'")).one()
        assert tuple(ver) == (2, 25.0, "Finished", 4421143, None)
        q = conn.execute(text(
            "select r.q3_ms from result r join driver d on d.id = r.driver_id "
            "join race_session s on s.id = r.session_id join event e on e.id = s.event_id "
            "where e.year = 2023 and e.round = 14 and s.type = 'Q' and d.code = 'SAI'")).scalar_one()
        assert q == 80294  # 1:20.294, pole


def test_load_demo_fills_fastf1_session_and_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    rep = load_demo(engine, work_dir=tmp_path)
    assert rep.ok and rep.ingest.added == 1
    counts = _counts(engine)
    again = load_demo(engine, work_dir=tmp_path)
    after = _counts(engine)
    assert after.pop("ingest_run") > counts.pop("ingest_run")  # the attempts are audited
    assert again.ingest.skipped == 1 and after == counts
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select d.code, r.grid, r.points, count(l.id) from result r join driver d on d.id = r.driver_id "
            "join race_session s on s.id = r.session_id join event e on e.id = s.event_id "
            "left join lap l on l.session_id = s.id and l.driver_id = d.id "
            "where e.year = 2023 and e.round = 14 and s.type = 'R' group by d.code, r.grid, r.points "
            "order by r.points desc")).all()
        # FastF1 laps and history results meet on the same driver rows.
        assert rows[0][:3] == ("VER", 2, 25.0) and rows[0][3] == 51
        assert conn.execute(text("select count(*) from driver")).scalar_one() == 22
    # The demo store answers "final" for Monza (history + FastF1), through the bot's read API.
    ev = queries.event_by_round(engine, 2023, 14)
    race = queries.session_for(engine, ev.id, "R") if ev else None
    assert race is not None and race.classification == "final"
    assert race.history_at is not None and race.ingested_at is not None and race.status == "ingested"


def _copy_demo(tmp_path: Path) -> Path:
    dest = tmp_path / "csv"
    shutil.copytree(demo_ergast(), dest)
    return dest


@pytest.mark.parametrize(
    ("file", "line", "mutate", "message"),
    [
        ("results.csv", 5, lambda cols: cols.__setitem__(5, "first"), "grid is not an integer: 'first'"),
        ("races.csv", 3, lambda cols: cols.__setitem__(5, "2023-13-45"), "date is not a date"),
        ("driver_standings.csv", 7, lambda cols: cols.append("extra"), "fields, header has"),
        ("pit_stops.csv", 4, lambda cols: cols.__setitem__(1, "999999"), "driverId 999999 not in drivers.csv"),
    ],
)
def test_corrupt_row_names_file_and_line_and_writes_nothing(
    module_engine: Engine, tmp_path: Path, file: str, line: int, mutate: Any, message: str
) -> None:
    # One store per backend for all cases (a PostgreSQL database each would cost more
    # than the test): each case starts from, and must leave, an empty store.
    engine = module_engine
    assert set(_counts(engine).values()) == {0}
    csv_dir = _copy_demo(tmp_path)
    path = csv_dir / file
    rows = list(csv.reader(path.open()))
    mutate(rows[line - 1])
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    with pytest.raises(HistoryError) as err:
        import_history(engine, csv_dir)
    assert f"{file} line {line}" in str(err.value) and message in str(err.value)
    assert set(_counts(engine).values()) == {0}


def test_full_history_import(shared_data: Path, engine: Engine) -> None:
    csv_dir = shared_data / "ergast-csv"
    import_history(engine, csv_dir)  # how fast: bench/bench_history.py (target ≤ 15 s on SQLite)
    first = _counts(engine)
    assert first["event"] > 1100 and first["driver"] == 864
    standings = _db_standings(engine, 2023, 14)
    assert standings == _csv_standings(csv_dir, 2023, 14)
    assert standings[0][0] == "max_verstappen"
    import_history(engine, csv_dir)
    again = _counts(engine)
    assert again.pop("ingest_run") == first.pop("ingest_run") + 1
    assert again == first
