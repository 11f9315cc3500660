"""The recalibration and the current-season form term: the isotonic fit is monotone and keeps
the weighted mean, the stored maps are monotone, a recalibrated forecast keeps its totals and
brackets, and the season points behind the form term match the official standings in the raw
CSV (bundled 2023 history)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from sqlalchemy import Engine

from bot.predict.calibrate import KNOTS, _pava, learn
from bot.predict.forecast import entrants, form_positions, season_points
from storage.predict_store import race_history
from tests.predict.conftest import demo_csv, read_csv


def test_pava_is_monotone_and_keeps_the_weighted_mean() -> None:
    rng = np.random.default_rng(5)
    y = list(rng.random(12))
    w = list(rng.integers(1, 50, 12).astype(float))
    fit = _pava(y, w)
    assert all(a <= b + 1e-12 for a, b in zip(fit, fit[1:], strict=False))
    assert np.dot(fit, w) == pytest.approx(np.dot(y, w))
    ordered = sorted(y)
    assert _pava(ordered, w) == pytest.approx(ordered)  # already monotone: unchanged


def test_learn_recovers_a_known_bias() -> None:
    """Outcomes drawn with P(hit) = p^2 (over-confident middle): the map pulls p towards p^2."""
    rng = np.random.default_rng(9)
    p = rng.random(40_000)
    hit = rng.random(p.size) < p**2
    kx, ky = learn(p, hit.astype(float))
    for x, y in zip(kx[1:-1], ky[1:-1], strict=True):
        assert y == pytest.approx(x**2, abs=0.03)


@pytest.mark.parametrize("key", sorted(KNOTS))
def test_stored_maps_are_monotone_from_0_to_1(key: tuple[str, str]) -> None:
    kx, ky = KNOTS[key]
    assert len(kx) == len(ky) >= 3
    assert kx[0] == ky[0] == 0.0 and kx[-1] == ky[-1] == 1.0
    assert all(a < b for a, b in zip(kx, kx[1:], strict=False))
    assert all(a <= b for a, b in zip(ky, ky[1:], strict=False))


@pytest.fixture(scope="module")
def history(demo_engine: Engine) -> list:
    return race_history(demo_engine)


def test_season_points_match_the_official_standings(history: list) -> None:
    """Points before round r (results + sprint rows) = the official standings after round r - 1."""
    races = {r["raceId"]: int(r["round"]) for r in read_csv(demo_csv() / "races.csv") if r["year"] == "2023"}
    refs = {r["driverId"]: r["driverRef"] for r in read_csv(demo_csv() / "drivers.csv")}
    official: dict[int, dict[str, float]] = defaultdict(dict)
    for row in read_csv(demo_csv() / "driver_standings.csv"):
        if row["raceId"] in races and float(row["points"]) > 0:
            official[races[row["raceId"]]][refs[row["driverId"]]] = float(row["points"])
    checked = 0
    for rnd in range(2, max(races.values()) + 1):
        points, _ = season_points(history, 2023, rnd)
        assert {k: v for k, v in points.items() if v > 0} == pytest.approx(official[rnd - 1])
        checked += 1
    assert checked >= 20


def test_form_positions_follow_the_points(history: list) -> None:
    weekend = next(r for r in history if (r.year, r.round) == (2023, 12))
    field = form_positions(entrants(weekend, None, with_grid=False), *season_points(history, 2023, 12))
    pts, _ = season_points(history, 2023, 12)
    for a in field:
        for b in field:
            if pts.get(a.driver_ref, 0.0) > pts.get(b.driver_ref, 0.0):
                assert a.form is not None and b.form is not None and a.form < b.form
    assert min(e.form for e in field if e.form) == 1
