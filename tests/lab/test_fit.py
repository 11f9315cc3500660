"""Fitting the race model on Monza 2023 (bundled demo store, FastF1's real laps)."""

from __future__ import annotations

import numpy as np

from bot.lab import RaceData, RaceModel, Strategy
from bot.lab.fit import DEG_BOUNDS, FUEL_BOUNDS


def _long_stint_compounds(data: RaceData) -> set[str]:
    return {c for stints in data.stints.values() for a, b, c in stints if c and b - a + 1 >= 10}


def test_degradation_positive_for_every_compound_of_a_long_stint(monza_data: RaceData,
                                                                 monza_model: RaceModel) -> None:
    long = _long_stint_compounds(monza_data)
    assert long, "Monza 2023 has stints of 10+ laps"
    for comp in long:
        slope = monza_model.deg_linear_s[monza_model.compounds.index(comp)]
        # Above the lower bound by a margin: the data, not the bound, made it positive.
        assert slope > DEG_BOUNDS[0] + 0.01, (comp, slope)
        assert slope < 0.3, (comp, slope)


def test_fuel_effect_plausible_and_set_by_the_data(monza_model: RaceModel) -> None:
    fuel = monza_model.fuel_per_lap_s
    assert FUEL_BOUNDS[0] < fuel < FUEL_BOUNDS[1]
    assert 0.025 <= fuel <= 0.1


def test_degradation_agrees_with_raw_stint_slopes(monza_data: RaceData,
                                                  monza_model: RaceModel) -> None:
    """A second, independent path: per long stint, the plain least-squares slope of lap
    time on tyre age, once the fitted fuel effect is added back; the medians per compound
    must have the joint fit's sign and size (within 0.05 s a lap)."""
    fuel = monza_model.fuel_per_lap_s
    neutral = {lap for lap, _ in monza_data.neutralised}
    slopes: dict[str, list[float]] = {}
    by_driver: dict[str, list] = {}
    for r in monza_data.laps:
        by_driver.setdefault(r.code, []).append(r)
    for code, stints in monza_data.stints.items():
        for a, b, comp in stints:
            laps = [r for r in by_driver.get(code, []) if a < r.lap < b and r.lap > 1
                    and r.lap_time_s and not r.pit_in and not r.pit_out and r.lap not in neutral
                    and r.tyre_life is not None]
            if len(laps) < 10 or comp is None:
                continue
            t = np.array([r.lap_time_s + fuel * r.lap for r in laps])
            age = np.array([r.tyre_life for r in laps], dtype=float)
            keep = t < np.median(t) + 1.5  # traffic
            slopes.setdefault(comp, []).append(float(np.polyfit(age[keep], t[keep], 1)[0]))
    assert slopes
    for comp, values in slopes.items():
        fitted = monza_model.deg_linear_s[monza_model.compounds.index(comp)]
        assert abs(float(np.median(values)) - fitted) < 0.05, (comp, values, fitted)


def test_model_parts_have_their_meaning(monza_data: RaceData, monza_model: RaceModel) -> None:
    m = monza_model
    assert m.codes == monza_data.codes
    assert sorted(m.grid.tolist()) == list(range(1, len(m.codes) + 1))
    assert np.all(np.isfinite(m.base_pace_s)) and np.all(m.lap_noise_s > 0)
    # Pit loss: a Monza stop costs about 20-30 s (well-known figure, not our output).
    assert 18 < m.pit_loss_green_s < 32
    assert m.pit_loss_sc_s < m.pit_loss_vsc_s < m.pit_loss_green_s
    assert 0 < m.sc_prob_per_lap < 0.2
    # Actual strategies: every stop of the stored stints, in the race's compounds.
    for code, stints in monza_data.stints.items():
        s = m.actual[code]
        assert isinstance(s, Strategy) and s.n_stops == len(stints) - 1
    lines = m.assumptions()
    assert len(lines) >= 8 and all(isinstance(x, str) and x for x in lines)


def test_strategy_text_round_trip() -> None:
    for text in ("M-20-H", "S-15-M-40-H", "H"):
        assert Strategy.parse(text).format() == text
    assert Strategy.parse("medium 20 hards") == Strategy("MEDIUM", ((20, "HARD"),))
