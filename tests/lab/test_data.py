"""`storage.lab_data.race_data` on SQLite and PostgreSQL, checked against the raw
Ergast CSV of the bundled demo (read here, not through our store)."""

from __future__ import annotations

import csv

import pytest

from storage.db import make_engine
from storage.demo import demo_data_dir
from storage.lab_data import NoLapData, race_data
from tests.lab.conftest import ROUND, YEAR, ergast_result


def _ergast_stops() -> set[tuple[str, int]]:
    rows = ergast_result()
    race_id = rows[0]["raceId"]
    codes = {r["driverId"]: r["code"] for r in rows}
    with open(demo_data_dir() / "ergast" / "pit_stops.csv", newline="") as f:
        return {(codes[r["driverId"]], int(r["lap"])) for r in csv.DictReader(f)
                if r["raceId"] == race_id}


def test_race_data_matches_the_raw_data(demo_store_url: str) -> None:
    engine = make_engine(demo_store_url)
    try:
        data = race_data(engine, YEAR, ROUND)
        with pytest.raises(NoLapData):
            race_data(engine, YEAR, 99)
    finally:
        engine.dispose()
    rows = ergast_result()
    started = [r for r in rows if r["code"] in data.codes]
    assert [c.code for c in data.classification] == [r["code"] for r in started]
    for c, r in zip(data.classification, started, strict=True):
        assert c.grid == int(r["grid"])
        assert c.laps == int(r["laps"])
        assert c.position == (int(r["position"]) if r["position"] not in ("", r"\N") else None)
    assert data.total_laps == int(rows[0]["laps"])
    assert {(s.code, s.lap) for s in data.stops if s.duration_s is not None} == _ergast_stops()
    # Laps: every classified finisher has every lap, in-laps match the stops.
    for r in rows:
        if r["position"] not in ("", r"\N"):
            assert len({lap.lap for lap in data.laps if lap.code == r["code"]}) >= int(r["laps"])
    in_laps = {(lap.code, lap.lap) for lap in data.laps if lap.pit_in}
    assert _ergast_stops() <= in_laps
    # Monza 2023 ran green throughout (no safety car, VSC or red flag).
    assert data.neutralised == ()
    assert data.history.circuit_ref == "monza"
    assert all(15 < t < 40 for t in data.history.pit_losses_s)
