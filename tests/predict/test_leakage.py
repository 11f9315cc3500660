"""No leakage: a race's forecast is the same whether the store holds the races after it or
not (the truncated store is a raw CSV copy without them), and the walk-forward backtest,
which folds race by race, gives the same numbers as the service's snapshot path."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.predict import backtest as bt
from bot.predict.service import PredictCore
from storage.predict_store import race_history
from tests.predict.conftest import copy_csv, demo_csv, history_engine, race_ids, read_csv


def _same_field_round() -> int:
    """A 2023 round whose qualifying entry list is the previous race's starters (raw CSV)."""
    ids = race_ids(demo_csv())
    status = {r["statusId"]: r["status"] for r in read_csv(demo_csv() / "status.csv")}
    quali: dict[int, set[str]] = {}
    started: dict[int, set[str]] = {}
    for r in read_csv(demo_csv() / "qualifying.csv"):
        quali.setdefault(ids[r["raceId"]][1], set()).add(r["driverId"])
    for r in read_csv(demo_csv() / "results.csv"):
        if status[r["statusId"]] not in ("Did not start", "Withdrew"):
            started.setdefault(ids[r["raceId"]][1], set()).add(r["driverId"])
    return next(rnd for rnd in range(8, 23) if quali.get(rnd) == started.get(rnd - 1))


@pytest.fixture(scope="module")
def full(demo_engine: Engine) -> PredictCore:
    return PredictCore(demo_engine, draws=100, sims=10)


def test_a_forecast_is_the_same_without_the_later_races(tmp_path: Path, full: PredictCore) -> None:
    rnd = _same_field_round()
    cut = copy_csv(demo_csv(), tmp_path / "cut", keep=lambda f, race, r: race[1] < rnd)
    truncated = PredictCore(history_engine(tmp_path / "cut.db", cut), draws=100, sims=10)
    a = truncated.race(2023, rnd)  # nothing of the round stored: before qualifying
    b = full.race(2023, rnd, after_quali=False)
    assert a.stage == b.stage == "pre_quali"
    assert a.data_through == b.data_through == (2023, rnd - 1)
    assert a.drivers == b.drivers and a.drivers_note == b.drivers_note
    # ... and the next race does change the forecast of the one after it.
    assert full.race(2023, rnd + 1, after_quali=False).drivers != b.drivers


def test_backtest_walk_forward_equals_the_service_path(demo_engine: Engine, full: PredictCore) -> None:
    result = bt.Backtest()
    rows = list(bt.run(race_history(demo_engine), full.params, result, start=2023, end=2023, seed=full.seed,
                       draws=100, sims=10))
    assert len(rows) == len({v for v in race_ids(demo_csv()).values()})
    for obj in rows[3::6]:
        for stage, aq in (("pre_quali", False), ("after_quali", True)):
            fc = full.race(2023, int(obj["round"]), after_quali=aq)  # type: ignore[call-overload]
            mine = {d.code: d.p_win for d in fc.drivers}
            walked = {d["code"]: d["p_win"] for d in obj[stage]}  # type: ignore[index]
            assert walked.keys() == mine.keys()
            for code, p in walked.items():
                assert p == pytest.approx(mine[code], abs=1e-4)  # the backtest rounds to 4 places


def _grid_is_quali_round() -> int:
    """A 2023 round (from round 5) whose starting grid is exactly its qualifying order (raw CSV):
    no penalties, so the grid a store has before the race is the official one."""
    ids = race_ids(demo_csv())
    quali: dict[int, dict[str, int]] = {}
    grid: dict[int, dict[str, int]] = {}
    for r in read_csv(demo_csv() / "qualifying.csv"):
        quali.setdefault(ids[r["raceId"]][1], {})[r["driverId"]] = int(r["position"])
    for r in read_csv(demo_csv() / "results.csv"):
        grid.setdefault(ids[r["raceId"]][1], {})[r["driverId"]] = int(r["grid"])
    return next(rnd for rnd in range(5, 23) if quali.get(rnd) == grid.get(rnd))


def test_an_after_qualifying_forecast_is_the_same_without_the_race(tmp_path: Path,
                                                                     full: PredictCore) -> None:
    rnd = _grid_is_quali_round()
    cut = copy_csv(demo_csv(), tmp_path / "quali",
                   keep=lambda f, race, r: race[1] < rnd or (race[1] == rnd and f == "qualifying.csv"))
    truncated = PredictCore(history_engine(tmp_path / "q.db", cut), draws=100, sims=10)
    a = truncated.race(2023, rnd)  # qualifying stored, race not run: the grid is used
    b = full.race(2023, rnd, after_quali=True)
    assert a.stage == b.stage == "after_quali"
    assert a.drivers == b.drivers and a.data_through == b.data_through == (2023, rnd - 1)
    # The grid shown is the raw qualifying order of that round.
    ids = {k for k, v in race_ids(demo_csv()).items() if v == (2023, rnd)}
    code = {r["driverId"]: r["code"] for r in read_csv(demo_csv() / "drivers.csv")}
    raw = {code[r["driverId"]]: int(r["position"]) for r in read_csv(demo_csv() / "qualifying.csv")
           if r["raceId"] in ids}
    assert {d.code: d.grid for d in a.drivers} == raw
