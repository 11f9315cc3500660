"""Passing difficulty from on-track passes, and the battle forecast's calibration: counted
alike from the store and from the live feed, only from laps up to the battle and races
before it, and a calibration fitted without the race it scores."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from bot.lab import (
    CircuitParams,
    LapRecord,
    RaceData,
    battle_forecast,
    count_passes,
    fit_race_model,
)
from bot.lab.backtest import EXTRAS, BattleCase, fit_calibration, leave_one_race_out
from bot.lab.battle import CALIBRATION, calibrate, features, from_feed, pass_rate, passes_so_far
from storage import pulse_store
from storage.db import make_engine
from storage.lab_data import race_data
from tests.conftest import copy_demo


def _rec(code: str, lap: int, pos: int, **kw: object) -> LapRecord:
    return LapRecord(code, lap, 90.0, "MEDIUM", lap, 1, position=pos, track_status="1", **kw)  # type: ignore[arg-type]


def test_count_passes_counts_green_swaps_only() -> None:
    """A swap on a green lap is a pass; one on an in-lap, an out-lap or under a SC is not,
    nor are the first two laps (the start)."""
    order = {1: ("A", "B"), 2: ("B", "A"), 3: ("B", "A"), 4: ("A", "B"),  # lap 4: A passes B
             5: ("B", "A"), 6: ("B", "A"), 7: ("A", "B"), 8: ("A", "B")}
    laps = []
    for n, (p1, p2) in order.items():
        for code, pos in ((p1, 1), (p2, 2)):
            kw: dict[str, object] = {}
            if n == 5 and code == "A":
                kw["pit_in"] = True  # lap 5: B ahead by A's stop, no pass
            if n == 6 and code == "A":
                kw["pit_out"] = True
            if n == 7:
                kw["track_status"] = "14"  # lap 7: swap under a safety car, no pass
            laps.append(replace(_rec(code, n, pos), **kw))  # type: ignore[arg-type]
    passes, counted = count_passes(laps)
    assert passes == 1
    # Laps 3..8 of both cars, less those touching a stop (A: 5, 6 and 7 after the out-lap)
    # and the SC lap 7 of B: A counts 3, 4, 8; B counts 3, 4, 5, 6, 8.
    assert counted == 8
    assert count_passes(laps, up_to=3) == (0, 2)
    assert count_passes(laps, up_to=4) == (1, 4)


@pytest.fixture(scope="module")
def monza_feed(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> pulse_store.RaceFeed:
    eng = make_engine(copy_demo(demo_template, tmp_path_factory.mktemp("passing-feed")))
    try:
        return pulse_store.load_feed(eng, pulse_store.find_session(eng, 2023, 14, "R"))
    finally:
        eng.dispose()


def test_passes_so_far_from_the_feed_and_the_store_agree(
        monza_data: RaceData, monza_feed: pulse_store.RaceFeed) -> None:
    every = from_feed(monza_feed.laps)
    total = count_passes(monza_data.laps)
    assert total == count_passes(every)
    assert total[0] > 0 and total[1] > 15 * (monza_data.total_laps - 10)
    prev = (0, 0)
    for n in range(1, monza_data.total_laps + 1):
        got = passes_so_far(every, n)
        # only laps up to n count: the same as counting a feed cut at n
        assert got == count_passes([r for r in monza_data.laps if r.lap <= n])
        assert got[0] >= prev[0] and got[1] >= prev[1]
        prev = got
    assert prev == total


def test_calibration_properties() -> None:
    grid = [0.0, 0.005, 0.05, 0.2, 0.5, 0.8, 0.99, 1.0]
    for rate in (0.0, 2.0, 8.0, 20.0):
        ps = [calibrate(p, rate) for p in grid]
        assert all(0.0 < p < 1.0 for p in ps)
        assert ps == sorted(ps)  # monotone in the simulated probability
    by_rate = [calibrate(0.3, r) for r in (0.1, 1.0, 4.0, 8.0, 16.0)]
    assert by_rate == sorted(by_rate) and by_rate[-1] > by_rate[0]  # easier passing, likelier
    assert CALIBRATION[1] > 0 and CALIBRATION[2] > 0
    # The passing rate: the circuit's before any lap, the race's own after many.
    p = CircuitParams(pass_rate=8.0)
    assert pass_rate(p, None) == pytest.approx(8.0)
    assert pass_rate(p, (0, 0)) == pytest.approx(8.0)
    assert pass_rate(p, (2000, 10000)) == pytest.approx(20.0, rel=0.05)
    assert 8.0 < pass_rate(p, (30, 200)) < 15.0


def test_fit_calibration_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(5)
    true = (-1.5, 0.8, 0.5)
    p_sim = rng.uniform(0.02, 0.9, 4000)
    rate = rng.uniform(2.0, 20.0, 4000)
    z = np.array([np.dot(true, features(float(a), float(b))) for a, b in zip(p_sim, rate, strict=True)])
    y = (rng.uniform(size=4000) < 1 / (1 + np.exp(-z))).astype(float)
    got = fit_calibration(p_sim, rate, y, ridge=0.0)
    assert np.allclose(got, true, atol=0.25), got


def _laps(delta: float) -> list[LapRecord]:
    out, t_lead, t_chase = [], 0.0, 2.0
    for n in range(1, 10):
        t_lead += 90.0
        t_chase += 90.0 - delta
        out.append(LapRecord("LEA", n, 90.0, "MEDIUM", 5 + n, 1, time_s=t_lead, position=1, track_status="1"))
        out.append(LapRecord("CHA", n, 90.0 - delta, "MEDIUM", 5 + n, 1, time_s=t_chase, position=2,
                             track_status="1"))
    return out


def test_more_passing_in_the_race_so_far_raises_the_forecast() -> None:
    laps = _laps(0.3)
    ps = [battle_forecast(laps, chaser="CHA", leader="LEA", lap=6, race_passes=(k, 100)).p_pass_5
          for k in (0, 5, 20, 40)]
    assert ps == sorted(ps) and ps[-1] > ps[0]
    f = battle_forecast(laps, chaser="CHA", leader="LEA", lap=6, race_passes=(5, 100))
    assert f.p_pass_5_sim is not None and f.p_pass_10_sim is not None
    assert f.p_pass_5 == pytest.approx(calibrate(f.p_pass_5_sim, f.pass_rate or 0.0))
    assert f.p_pass_5 <= f.p_pass_10


def test_leave_one_race_out_never_uses_the_race_it_scores() -> None:
    """Flipping every outcome of one race leaves that race's forecasts unchanged."""
    rng = np.random.default_rng(3)
    cases = [BattleCase(f"R{i % 4}", 10, "A", "B", 0.3, bool(rng.uniform() < 0.3),
                        tuple(float(x) for x in rng.uniform(0.05, 0.6, len(EXTRAS))),
                        float(rng.uniform(3, 15)))
             for i in range(80)]
    p, base, _, _ = leave_one_race_out(cases)
    flipped = [replace(c, passed=not c.passed) if c.race == "R0" else c for c in cases]
    p2, base2, _, _ = leave_one_race_out(flipped)
    mine = np.array([c.race == "R0" for c in cases])
    assert np.array_equal(p[mine], p2[mine]) and np.array_equal(base[mine], base2[mine])
    assert not np.array_equal(p[~mine], p2[~mine])  # the other races' fits did change


def _copy_race(conn: object, round_: int) -> None:
    """Store a copy of Monza 2023's race laps as another Monza race of 2023, round `round_`."""
    c = conn  # a SQLAlchemy connection
    ev = c.execute(text("SELECT id, name FROM event WHERE year = 2023 AND round = 14")).one()  # type: ignore[attr-defined]
    sess = c.execute(text("SELECT id FROM race_session WHERE event_id = :e AND type = 'R'"), {"e": ev[0]}).one()  # type: ignore[attr-defined]
    c.execute(text("INSERT INTO event (year, round, name, circuit_ref) VALUES (2023, :r, :n, 'monza')"),  # type: ignore[attr-defined]
              {"r": round_, "n": f"Monza copy {round_}"})
    new_ev = c.execute(text("SELECT id FROM event WHERE year = 2023 AND round = :r"), {"r": round_}).scalar_one()  # type: ignore[attr-defined]
    c.execute(text("INSERT INTO race_session (event_id, type, name, status) VALUES (:e, 'R', 'Race', 'finished')"),  # type: ignore[attr-defined]
              {"e": new_ev})
    new_s = c.execute(text("SELECT id FROM race_session WHERE event_id = :e"), {"e": new_ev}).scalar_one()  # type: ignore[attr-defined]
    c.execute(text(  # type: ignore[attr-defined]
        "INSERT INTO lap (session_id, driver_id, lap_number, lap_time_ms, time_ms, compound, tyre_life,"
        " stint, pit_in_ms, pit_out_ms, position, track_status) SELECT :s, driver_id, lap_number,"
        " lap_time_ms, time_ms, compound, tyre_life, stint, pit_in_ms, pit_out_ms, position, track_status"
        " FROM lap WHERE session_id = :o"), {"s": new_s, "o": sess[0]})


def test_circuit_passes_come_from_earlier_stored_races_only(
        demo_template: Path, tmp_path: Path, monza_data: RaceData) -> None:
    """An earlier stored race at the circuit sets its passing rate; a later one (or the race
    itself) never does, so the forecast is the same whether later races are stored or not."""
    assert monza_data.history.stored_passes == ()  # the demo stores no other Monza race
    eng = make_engine(copy_demo(demo_template, tmp_path))
    try:
        with eng.begin() as conn:
            _copy_race(conn, 99)  # a later race at Monza
        later = race_data(eng, 2023, 14)
        assert later.history.stored_passes == ()
        with eng.begin() as conn:
            _copy_race(conn, 0)  # an earlier one, with the same laps
        earlier = race_data(eng, 2023, 14)
    finally:
        eng.dispose()
    assert earlier.history.stored_passes == (count_passes(monza_data.laps),)
    passes, laps = count_passes(monza_data.laps)
    assert fit_race_model(earlier).circuit_params().pass_rate == pytest.approx(100.0 * passes / laps)
    # Same forecast with and without the later race stored; the earlier one moves it.
    two = [r for r in monza_data.laps if r.code in ("LEC", "SAI") and r.lap <= 30]
    so_far = count_passes(monza_data.laps, up_to=30)

    def fc(d: RaceData) -> float:
        return battle_forecast(two, chaser="LEC", leader="SAI", lap=30, race_passes=so_far,
                               model_or_circuit_params=fit_race_model(d).circuit_params()).p_pass_5

    assert fc(later) == fc(monza_data)
    assert fc(earlier) != fc(monza_data)
