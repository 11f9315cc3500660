"""storage.race_detail on real SQLite and PostgreSQL demo stores, against the raw sources.

Expected values come from FastF1's real loader on the Monza 2023 cache (in a child
process: FastF1's cache is process-global and may call exit()) and from the raw
Ergast-schema CSV, never from our store.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from storage import queries as q
from storage import race_detail as rd
from storage.db import make_engine
from storage.models import Lap
from tests.conftest import MONZA_CACHE, ROOT, SHARED_DATA

_LOAD_LAPS = r"""
import json, sys
import fastf1
fastf1.Cache.configure(cache_dir=sys.argv[1], ignore_version=True)
fastf1.Cache.offline_mode(True)
s = fastf1.get_session(2023, "Monza", "R")
s.load(laps=True, telemetry=False, weather=False, messages=True)
out = []
for _, r in s.laps.iterrows():
    t = r["LapTime"]
    out.append({
        "driver": r["Driver"], "lap": int(r["LapNumber"]),
        "position": None if r["Position"] != r["Position"] else int(r["Position"]),
        "ms": None if t != t else round(t.total_seconds() * 1000),
        "compound": r["Compound"] if isinstance(r["Compound"], str) else None,
        "time": None if r["Time"] != r["Time"] else round(r["Time"].total_seconds() * 1000),
        "deleted": bool(r["Deleted"]) if r["Deleted"] == r["Deleted"] and r["Deleted"] is not None else None,
    })
print("LAPS" + json.dumps(out))
"""


@cache
def monza_laps() -> list[dict[str, Any]]:
    """Every lap of the Monza 2023 race as FastF1's real loader reads it from the cache fixture."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="ff1-monza-"))
    try:
        shutil.copytree(MONZA_CACHE, work / "c")
        done = subprocess.run([sys.executable, "-c", _LOAD_LAPS, str(work / "c")], capture_output=True,
                              text=True, timeout=300, check=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("LAPS"))
    return json.loads(line[4:])


def fastf1_leaders() -> dict[int, str]:
    """lap → code of the car FastF1 puts in position 1 at the end of that lap."""
    return {x["lap"]: x["driver"] for x in monza_laps() if x["position"] == 1}


def fastf1_best(code: str | None, compound: str | None = None) -> tuple[int, int]:
    """(lap time ms, lap number) of the fastest valid lap (of a driver, on a compound)."""
    laps = [x for x in monza_laps() if x["ms"] is not None and not x["deleted"]
            and (code is None or x["driver"] == code) and (compound is None or x["compound"] == compound)]
    best = min(laps, key=lambda x: (x["ms"], x["lap"]))
    return best["ms"], best["lap"]


def ergast_dir() -> Path:
    """The raw Ergast CSV: the shared full dump when present, else the bundled 2023 subset."""
    shared = SHARED_DATA / "ergast-csv"
    return shared if (shared / "results.csv").exists() else ROOT / "slipstream" / "demo_data" / "ergast"


@cache
def ergast(name: str) -> list[dict[str, str]]:
    with open(ergast_dir() / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def race_id(year: int, round_: int) -> str:
    return next(r["raceId"] for r in ergast("races") if r["year"] == str(year) and r["round"] == str(round_))


def driver_codes() -> dict[str, str]:
    return {r["driverId"]: r["code"] for r in ergast("drivers")}


@pytest.fixture
def loaded(demo_store_url: str) -> Iterator[Engine]:
    engine = make_engine(demo_store_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _monza(engine: Engine) -> int:
    ev = q.event_by_round(engine, 2023, 14)
    assert ev is not None
    s = q.session_for(engine, ev.id, "R")
    assert s is not None
    return s.id


def test_lap_leaders_match_fastf1(loaded: Engine) -> None:
    leaders = rd.lap_leaders(loaded, _monza(loaded))
    expected = fastf1_leaders()
    assert len(expected) >= 50  # FastF1 gives a P1 on (almost) every lap: the check means something
    got = {ll.lap: ll.driver.code for ll in leaders}
    assert {lap: got[lap] for lap in expected} == expected
    assert max(got) == max(x["lap"] for x in monza_laps())


def test_lap_leader_without_positions_is_first_across_the_line(loaded: Engine) -> None:
    """A lap where timing gave no car a position: the leader is the first car to complete it."""
    sid = _monza(loaded)
    with loaded.begin() as conn:  # this test's private copy of the demo store
        conn.execute(update(Lap).where(Lap.session_id == sid, Lap.lap_number == 10).values(position=None))
    first = min((x for x in monza_laps() if x["lap"] == 10 and x["time"] is not None), key=lambda x: x["time"])
    leaders = {ll.lap: ll.driver.code for ll in rd.lap_leaders(loaded, sid)}
    assert leaders[10] == first["driver"]
    assert {k: v for k, v in leaders.items() if k != 10} == {k: v for k, v in fastf1_leaders().items() if k != 10}


def test_best_lap_matches_fastf1(loaded: Engine) -> None:
    sid = _monza(loaded)
    ver = q.find_drivers(loaded, "VER", year=2023)[0]
    for code, driver_id, compound in (("VER", ver.id, None), ("VER", ver.id, "MEDIUM"), (None, None, "HARD"),
                                      (None, None, None)):
        b = rd.best_lap(loaded, sid, driver_id, compound)
        assert b is not None
        assert (b.lap_time_ms, b.lap_number) == fastf1_best(code, compound), (code, compound)
        if compound:
            assert b.compound == compound
    assert rd.best_lap(loaded, sid, ver.id, "WET") is None


def test_lap_data_races_is_only_monza(loaded: Engine) -> None:
    assert [(e.year, e.round) for e in rd.lap_data_races(loaded)] == [(2023, 14)]


def test_team_season_matches_ergast(loaded: Engine) -> None:
    ver = q.find_drivers(loaded, "VER", year=2023)[0]
    assert rd.teams_of_driver(loaded, ver.id, 2023) == ["red_bull"]
    entries = rd.team_season(loaded, 2023, ["red_bull"])
    rounds = {r["raceId"]: int(r["round"]) for r in ergast("races") if r["year"] == "2023"}
    con = next(c["constructorId"] for c in ergast("constructors") if c["constructorRef"] == "red_bull")
    codes = driver_codes()
    want_q = {(rounds[r["raceId"]], codes[r["driverId"]], int(r["position"]))
              for r in ergast("qualifying") if r["raceId"] in rounds and r["constructorId"] == con}
    want_r = {(rounds[r["raceId"]], codes[r["driverId"]], int(r["positionOrder"]))
              for r in ergast("results") if r["raceId"] in rounds and r["constructorId"] == con}
    assert len(want_q) == 44 and len(want_r) == 44
    assert {(e.round, e.driver.code, e.order) for e in entries if e.session_type == "Q"} == want_q
    assert {(e.round, e.driver.code, e.order) for e in entries if e.session_type == "R"} == want_r
    assert not any(e.provisional for e in entries)
