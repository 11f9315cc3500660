"""Race Lab: a race model fitted from stored laps, Monte Carlo simulation over it,
what-if strategies and the battle forecast (issue 16).

Pure and blocking (numpy): callers run these off the event loop (a worker process).
Ideas after Heilmeier et al., "Application of Monte Carlo Methods to Consider
Probabilistic Effects in a Race Simulation" (Applied Sciences, 2020); our own code.

    data = storage.lab_data.race_data(engine, 2023, 14)
    model = fit_race_model(data)
    result = simulate(model, runs=2000, seed=1)
    wi = whatif(model, "LEC", Strategy.parse("M-30-H"), runs=2000, seed=1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from bot.lab.types import (
    BattleForecast,
    CircuitHistory,
    CircuitParams,
    ClassifiedEntry,
    LapRecord,
    RaceData,
    RaceModel,
    RankedStrategy,
    SimResult,
    StopRecord,
    Strategy,
    StrategyError,
    WhatIf,
    count_passes,
)

__all__ = [
    "BattleForecast", "CircuitHistory", "CircuitParams", "ClassifiedEntry", "LapRecord",
    "RaceData", "RaceModel", "RankedStrategy", "SimResult", "StopRecord", "Strategy",
    "StrategyError", "WhatIf", "battle_forecast", "best_strategies", "count_passes",
    "fit_race_model", "screen_strategies", "simulate", "whatif",
]


def fit_race_model(data: RaceData) -> RaceModel:
    """Fit every part of the race model from one race's data (history where it has too little)."""
    from bot.lab.fit import fit

    return fit(data)


def simulate(
    model: RaceModel,
    strategies: Mapping[str, Strategy] | None = None,
    *,
    runs: int,
    seed: int,
    neutralisations: Literal["actual", "drawn"] = "actual",
    track: Sequence[str] = (),
) -> SimResult:
    """Run the race `runs` times; `strategies` overrides some cars' strategies (None:
    each car's actual one). `track` names cars whose lap-by-lap positions are kept."""
    from bot.lab.sim import run

    return run(model, strategies, runs=runs, seed=seed, neutralisations=neutralisations,
               track=track)


def whatif(model: RaceModel, code: str, alt: Strategy, *, runs: int, seed: int) -> WhatIf:
    """The alternative strategy vs the actual one, same model and same random draws,
    with the race's real neutralisations (one decision changes, not the race)."""
    from bot.lab.counterfactual import compare

    return compare(model, code, alt, runs=runs, seed=seed)


def screen_strategies(
    model: RaceModel, code: str, cands: Sequence[Strategy], *, runs: int, seed: int
) -> list[tuple[Strategy, float, float]]:
    """Each candidate against the actual (mean places and seconds gained), like for like:
    the window tried when a fan asks "should he have pitted earlier"."""
    from bot.lab.counterfactual import screen

    return screen(model, code, list(cands), runs=runs, seed=seed)


def best_strategies(
    model: RaceModel, code: str, *, runs: int, seed: int, top: int = 5, n_stops: int | None = None
) -> list[RankedStrategy]:
    """One- and two-stop windows and compounds for `code`, ranked by expected position
    then time, with neutralisations drawn from the circuit's probabilities."""
    from bot.lab.counterfactual import search

    return search(model, code, runs=runs, seed=seed, top=top, n_stops=n_stops)


def battle_forecast(
    laps_of_two: Sequence[LapRecord],
    *,
    chaser: str,
    leader: str,
    lap: int,
    model_or_circuit_params: RaceModel | CircuitParams | None = None,
    race_passes: tuple[int, int] | None = None,
) -> BattleForecast:
    """Will `chaser` catch and pass `leader`? From their laps up to `lap` only (later
    laps are ignored), so Track Pulse can call it live. `race_passes`: the race's
    (on-track passes, green car-laps) up to `lap` (`bot.lab.battle.passes_so_far`)."""
    from bot.lab.battle import forecast

    if isinstance(model_or_circuit_params, RaceModel):
        # The circuit's passing figures only: the default tyre and fuel figures forecast
        # battles better than the race's fitted ones (backtest, before calibration: Brier 0.198 with the
        # defaults, 0.243 with a model fitted on the laps so far; see docs/lab.md).
        m = model_or_circuit_params
        params = CircuitParams(pass_threshold_s=m.pass_threshold_s, drs_gain_s=m.drs_gain_s,
                               pass_rate=m.circuit_params().pass_rate)
    else:
        params = model_or_circuit_params or CircuitParams()
    return forecast(laps_of_two, chaser=chaser, leader=leader, lap=lap, params=params,
                    race_passes=race_passes)
