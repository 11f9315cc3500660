"""The ratings filter and the race Monte Carlo on the bundled 2023 history: probabilities
add up, intervals bracket their estimates, a seed reproduces a forecast, the Plackett–Luce
step matches a brute-force derivative, and the ratings agree with the raw results."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import Engine

from bot.predict.model import pl_grad_hess
from bot.predict.service import PredictCore
from bot.predict.types import PredictUnavailable
from tests.predict.conftest import demo_csv, read_csv


def _pl_loglik(theta: np.ndarray, scale: float) -> float:
    """Plackett–Luce log-likelihood of the order 0, 1, 2, ... written out stage by stage."""
    total = 0.0
    for k in range(len(theta)):
        rest = theta[k:] * scale
        total += rest[0] - math.log(sum(math.exp(x) for x in rest))
    return total


def test_pl_step_matches_numeric_derivatives() -> None:
    rng = np.random.default_rng(3)
    theta = rng.normal(size=7)
    g, h = pl_grad_hess(theta, 1.4)
    eps = 1e-5
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += eps
        down[i] -= eps
        num_g = (_pl_loglik(up, 1.4) - _pl_loglik(down, 1.4)) / (2 * eps)
        num_h = -(_pl_loglik(up, 1.4) - 2 * _pl_loglik(theta, 1.4) + _pl_loglik(down, 1.4)) / eps**2
        assert g[i] == pytest.approx(num_g, abs=1e-6)
        assert h[i] == pytest.approx(num_h, rel=1e-3, abs=1e-5)


@pytest.fixture(scope="module")
def core(demo_engine: Engine) -> PredictCore:
    c = PredictCore(demo_engine, draws=120, sims=12)
    c.refit()
    return c


@pytest.mark.parametrize("after_quali", [False, True])
def test_probabilities_add_up_and_intervals_bracket(core: PredictCore, after_quali: bool) -> None:
    fc = core.race(2023, 10, after_quali=after_quali)
    assert fc.stage == ("after_quali" if after_quali else "pre_quali")
    assert fc.data_through == (2023, 9)
    assert fc.runs == 120 * 12
    assert sum(d.p_win for d in fc.drivers) == pytest.approx(1.0, abs=1e-9)
    # Three podium places each run (fewer than three finishers never happens in these draws).
    assert sum(d.p_podium for d in fc.drivers) == pytest.approx(3.0, abs=1e-9)
    assert sum(d.p_points for d in fc.drivers) <= 10.0 + 1e-9
    for d in fc.drivers:
        assert 0 <= d.p_win and d.p_points <= 1
        # win ⊂ podium ⊂ points, up to Monte Carlo error (P(win) is exact per run, the rest counted)
        assert d.p_win <= d.p_podium + 0.005 and d.p_podium <= d.p_points
        for p, (lo, hi) in ((d.p_win, d.p_win_interval), (d.p_podium, d.p_podium_interval),
                            (d.p_points, d.p_points_interval)):
            assert lo <= p <= hi
        assert 1 <= d.position_interval[0] <= d.position_interval[1] <= len(fc.drivers)
        assert 1 <= d.expected_position <= len(fc.drivers)
        assert (d.grid is not None) == after_quali
    wins = [d.p_win for d in fc.drivers]
    assert wins == sorted(wins, reverse=True)
    assert fc.updated_at.tzinfo is not None
    # Entrants: the round's qualifying entry list in the raw CSV.
    ids = {r["raceId"] for r in read_csv(demo_csv() / "races.csv") if r["round"] == "10"}
    quali = [r for r in read_csv(demo_csv() / "qualifying.csv") if r["raceId"] in ids]
    assert len(fc.drivers) == len(quali)


def test_a_seed_reproduces_a_forecast(demo_engine: Engine, core: PredictCore) -> None:
    again = PredictCore(demo_engine, draws=120, sims=12)  # a fresh process's view of the store
    a, b = core.race(2023, 12, after_quali=False), again.race(2023, 12, after_quali=False)
    assert a.drivers == b.drivers
    other = PredictCore(demo_engine, draws=120, sims=12, seed=99).race(2023, 12, after_quali=False)
    assert [d.p_podium for d in other.drivers] != [d.p_podium for d in a.drivers]


def test_ratings_rank_the_season_dominator_first(core: PredictCore) -> None:
    """After the season the best car + driver is the one who won most races (raw results)."""
    results = read_csv(demo_csv() / "results.csv")
    drivers = {r["driverId"]: r["driverRef"] for r in read_csv(demo_csv() / "drivers.csv")}
    wins = Counter(drivers[r["driverId"]] for r in results if r["position"] == "1")
    team = {drivers[r["driverId"]]: r["constructorId"] for r in results}
    cons = {r["constructorId"]: r["constructorRef"] for r in read_csv(demo_csv() / "constructors.csv")}
    s = core.state
    assert s is not None
    pace = {d: s.drv[d][0] + s.car[cons[team[d]]][0] for d in team}
    assert max(pace, key=pace.__getitem__) == wins.most_common(1)[0][0]
    assert all(v[1] > 0 for v in s.drv.values())


def test_an_unknown_round_is_a_clear_refusal(core: PredictCore) -> None:
    with pytest.raises(PredictUnavailable, match="not in the 2023 calendar"):
        core.race(2023, 40)


def test_the_grid_moves_odds_towards_the_front(core: PredictCore) -> None:
    """Across the season, the pole sitter's win odds rise once the grid is known."""
    ups = []
    for rnd in range(3, 23, 4):
        pre = {d.code: d.p_win for d in core.race(2023, rnd, after_quali=False).drivers}
        post = core.race(2023, rnd, after_quali=True)
        pole = min(post.drivers, key=lambda d: d.grid or 99)
        ups.append(pole.p_win - pre[pole.code])
    assert sum(ups) > 0
