"""The stored posterior: an update folds only new races (found by content hash), a changed
result is detected and refolded, and both agree with a full refit of the same data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.predict.model import State
from bot.predict.service import PredictCore
from storage.db import table
from storage.history import import_history
from storage.predict_models import PredictRace
from tests.predict.conftest import copy_csv, demo_csv, history_engine, race_ids, read_csv

TOL = 1e-9  # incremental and full fits run the same arithmetic in the same order


def _assert_same(a: State, b: State) -> None:
    assert a.through == b.through and a.races == b.races
    for name in ("drv", "car"):
        ta, tb = getattr(a, name), getattr(b, name)
        assert ta.keys() == tb.keys()
        for k in ta:
            assert ta[k][0] == pytest.approx(tb[k][0], abs=TOL)
            assert ta[k][1] == pytest.approx(tb[k][1], abs=TOL)
    assert a.rel.keys() == b.rel.keys()
    for k in a.rel:
        assert a.rel[k] == pytest.approx(b.rel[k], abs=TOL)


def _rounds(src: Path) -> int:
    races = race_ids(src)
    return len({races[r["raceId"]] for r in read_csv(src / "results.csv")})


def test_update_folds_new_races_and_matches_a_refit(tmp_path: Path) -> None:
    first = copy_csv(demo_csv(), tmp_path / "first", keep=lambda f, race, r: race[1] <= 15)
    engine = history_engine(tmp_path / "inc.db", first)
    core = PredictCore(engine)
    rep = core.fold_new_results()  # no posterior yet: the first fit
    assert rep.refit and rep.data_through == (2023, 15) and rep.races_folded == _rounds(first)
    assert core.fold_new_results().races_folded == 0  # nothing new: nothing folded
    import_history(engine, demo_csv())
    rep = core.fold_new_results()
    assert not rep.refit and rep.refolded_from is None
    assert rep.races_folded == _rounds(demo_csv()) - _rounds(first)
    assert rep.data_through == (2023, 22)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table(PredictRace))).scalar() == _rounds(demo_csv())
    full = PredictCore(history_engine(tmp_path / "full.db", demo_csv()))
    full.refit()
    assert core.state is not None and full.state is not None
    _assert_same(core.state, full.state)
    # The stored blob, read back by a fresh process, is the same posterior.
    fresh = PredictCore(engine)
    fresh.race(2023, 22, after_quali=False)
    assert fresh.state is not None
    _assert_same(fresh.state, full.state)


def _swap_round_5_top_two(f: str, row: dict[str, str]) -> dict[str, str]:
    """Hand P1 and P2 of round 5 (raceId from races.csv) each other's result."""
    if f != "results.csv" or row["raceId"] != _ROUND5[0]:
        return row
    if row["positionOrder"] in ("1", "2"):
        other = "2" if row["positionOrder"] == "1" else "1"
        row.update(position=other, positionText=other, positionOrder=other)
    return row


_ROUND5: list[str] = []


def test_a_changed_result_is_found_by_hash_and_refolded(tmp_path: Path, demo_engine: Engine) -> None:
    _ROUND5[:] = [k for k, v in race_ids(demo_csv()).items() if v == (2023, 5)]
    engine = history_engine(tmp_path / "h.db", demo_csv())
    core = PredictCore(engine)
    core.fold_new_results()
    before = core.state.copy() if core.state else None
    edited = copy_csv(demo_csv(), tmp_path / "edited", edit=_swap_round_5_top_two)
    import_history(engine, edited)
    rep = core.fold_new_results()
    assert rep.refolded_from == (2023, 1) and "changed 1" in rep.notes[0]
    assert rep.races_folded == _rounds(demo_csv())  # the season is refolded from its start
    refit = PredictCore(history_engine(tmp_path / "edited.db", edited))
    refit.refit()
    assert core.state is not None and refit.state is not None and before is not None
    _assert_same(core.state, refit.state)
    # The swap moved the two drivers' ratings (the change was not ignored).
    r5 = [r for r in read_csv(demo_csv() / "results.csv") if r["raceId"] == _ROUND5[0]]
    refs = {r["driverId"]: r["driverRef"] for r in read_csv(demo_csv() / "drivers.csv")}
    winner = refs[next(r["driverId"] for r in r5 if r["positionOrder"] == "1")]
    assert core.state.drv[winner][0] < before.drv[winner][0]
