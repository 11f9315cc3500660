"""Simulation, replay of the actual strategies and what-if on Monza 2023."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from bot.lab import (
    RaceModel,
    Strategy,
    StrategyError,
    best_strategies,
    screen_strategies,
    simulate,
    whatif,
)
from tests.lab.conftest import ergast_result

RUNS = 400


@pytest.fixture(scope="module")
def replay(monza_model: RaceModel):  # type: ignore[no-untyped-def]
    return simulate(monza_model, runs=RUNS, seed=7)


def test_reproducible_with_a_seed(monza_model: RaceModel, replay) -> None:  # type: ignore[no-untyped-def]
    again = simulate(monza_model, runs=RUNS, seed=7)
    assert np.array_equal(again.positions, replay.positions)
    assert np.array_equal(again.race_times_s, replay.race_times_s)
    other = simulate(monza_model, runs=RUNS, seed=8)
    assert not np.array_equal(other.positions, replay.positions)


def test_positions_are_a_permutation_and_retired_cars_are_last(monza_model: RaceModel,
                                                               replay) -> None:  # type: ignore[no-untyped-def]
    n = len(monza_model.codes)
    assert np.all(np.sort(replay.positions, axis=1) == np.arange(1, n + 1))
    retired = monza_model.retire_lap < monza_model.total_laps
    assert retired.any()
    assert replay.positions[:, retired].min() > n - retired.sum()
    assert np.all(np.isinf(replay.race_times_s[:, retired]))
    assert np.allclose(replay.p_win().sum(), 1.0)


def test_actual_strategy_replay_meets_the_targets(monza_model: RaceModel, replay) -> None:  # type: ignore[no-untyped-def]
    rows = ergast_result()
    classified = [r for r in rows if r["position"] not in ("", r"\N")]
    official = [r["code"] for r in classified]
    mean = replay.mean_position()
    sim = [mean[monza_model.codes.index(c)] for c in official]
    rho = spearmanr(np.arange(len(official)), sim).statistic
    assert rho >= 0.85
    winner = official[0]
    assert monza_model.codes[int(np.argmax(replay.p_win()))] == winner
    official_ms = int(next(r for r in rows if r["position"] == "1")["milliseconds"])
    t = np.median(replay.race_times_s[:, monza_model.codes.index(winner)])
    assert abs(t - official_ms / 1000) / (official_ms / 1000) <= 0.005


def test_pitting_much_later_on_worn_tyres_loses_on_average(monza_model: RaceModel) -> None:
    actual = monza_model.actual["LEC"]
    assert actual.n_stops == 1
    late = Strategy(actual.start, ((monza_model.total_laps - 4, actual.stops[0][1]),))
    w = whatif(monza_model, "LEC", late, runs=RUNS, seed=3)
    assert w.gain_s < 0 and w.gain_positions < 0
    assert w.gain_s_80[0] <= w.gain_s <= w.gain_s_80[1]
    assert np.isclose(w.distribution("alt").sum(), 1.0)
    assert w.decisive_laps and all(1 <= lap <= monza_model.total_laps for lap in w.decisive_laps)


def test_same_strategy_same_draws_no_difference(monza_model: RaceModel) -> None:
    w = whatif(monza_model, "SAI", monza_model.actual["SAI"], runs=100, seed=5)
    assert np.array_equal(w.positions_alt, w.positions_actual)
    assert w.gain_positions == 0 and w.gain_s == 0


def test_whatif_refuses_a_compound_the_race_did_not_run(monza_model: RaceModel) -> None:
    with pytest.raises(StrategyError):
        whatif(monza_model, "LEC", Strategy("SOFT", ((20, "HARD"),)), runs=10, seed=1)


def test_best_strategies_obey_the_rules(monza_model: RaceModel) -> None:
    ranked = best_strategies(monza_model, "VER", runs=60, seed=2, top=3)
    assert len(ranked) == 3
    for r in ranked:
        s = r.strategy
        assert 1 <= s.n_stops <= 2 and len(set(s.compounds)) >= 2
        assert set(s.compounds) <= set(monza_model.compounds)
        assert 1 <= r.position_80[0] <= r.position_80[1] <= len(monza_model.codes)
        assert 0 <= r.p_win <= r.p_podium <= 1
    assert [r.mean_position for r in ranked] == sorted(r.mean_position for r in ranked)


def test_whatif_refuses_a_car_that_retired(monza_model: RaceModel) -> None:
    retired = [c for c, lap in zip(monza_model.codes, monza_model.retire_lap, strict=True)
               if 0 < lap < monza_model.total_laps]
    assert retired
    with pytest.raises(StrategyError, match="retired on lap"):
        whatif(monza_model, retired[0], Strategy("MEDIUM", ((10, "HARD"),)), runs=10, seed=1)


def test_drawn_neutralisations_follow_the_circuit_rate(monza_model: RaceModel) -> None:
    """Share of runs with at least one safety car vs 1 - (1 - p)^(laps it can start on)."""
    from bot.lab.sim import _draw_neutral

    runs = 4000
    drawn = _draw_neutral(monza_model, np.random.default_rng(11), runs)
    starts = (drawn == 1) & (np.diff(np.c_[np.zeros(runs), drawn == 1], axis=1) > 0)
    share = starts.any(axis=1).mean()
    p = monza_model.sc_prob_per_lap
    expected = 1 - (1 - p) ** (monza_model.total_laps - 2)
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / runs) + 0.02
    green = simulate(monza_model, runs=50, seed=1, neutralisations="drawn")
    assert green.neutralisations == "drawn" and green.positions.shape == (50, len(monza_model.codes))


def test_screen_agrees_with_the_whatif_of_each_candidate(monza_model: RaceModel) -> None:
    """Two paths to one figure: the window screen (actual simulated once) and a what-if per
    candidate give the same mean gains with the same seed and runs."""
    actual = monza_model.actual["LEC"]
    (lap, comp), = actual.stops
    cands = [Strategy(actual.start, ((lap + d, comp),)) for d in (-3, 2)]
    scored = screen_strategies(monza_model, "LEC", cands, runs=150, seed=5)
    assert [s for s, _, _ in scored] == cands
    for alt, gain, gain_s in scored:
        wi = whatif(monza_model, "LEC", alt, runs=150, seed=5)
        assert gain == pytest.approx(wi.gain_positions) and gain_s == pytest.approx(wi.gain_s)


def test_search_of_two_stop_plans_only(monza_model: RaceModel) -> None:
    ranked = best_strategies(monza_model, "HAM", runs=40, seed=3, top=3, n_stops=2)
    assert ranked and all(r.strategy.n_stops == 2 for r in ranked)
    assert all(len(set(r.strategy.compounds)) >= 2 for r in ranked)  # dry: two compounds


def test_the_package_functions_are_not_shadowed_by_submodules() -> None:
    """`bot.lab.whatif` etc. stay the functions after their implementing modules load (a
    submodule named like a package function replaces it on import: `from bot.lab import
    whatif` then handed callers a module, depending on import order)."""
    import importlib
    import pkgutil

    import bot.lab

    for info in pkgutil.iter_modules(bot.lab.__path__):
        importlib.import_module(f"bot.lab.{info.name}")
    for name in bot.lab.__all__:
        assert callable(getattr(bot.lab, name)) and not isinstance(getattr(bot.lab, name), type(bot.lab)), name
