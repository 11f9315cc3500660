"""What the Race Lab worker process runs: module-level functions of picklable values.

Spawn-safe: the worker imports this module by name and nothing else of the bot (no store,
no event loop). Each job returns `(value, pid)` so the service can tell (and tests can
check) that the work really ran in another process.
"""

from __future__ import annotations

import os

from bot.lab import (
    BattleForecast,
    CircuitParams,
    LapRecord,
    RaceData,
    RaceModel,
    RankedStrategy,
    Strategy,
    WhatIf,
    battle_forecast,
    best_strategies,
    fit_race_model,
    screen_strategies,
    whatif,
)


def init_worker(niceness: int) -> None:
    """Run in each new worker: lower its CPU priority. On a machine with few cores the bot's
    event loop and the simulation compete for the same CPU; the fan waiting for a simple
    answer must win, the simulation can wait a few ms."""
    if niceness > 0 and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:  # not permitted here: run at normal priority
            pass


def warm() -> int:
    """Import numpy and the lab in the worker before the first real job (its pid)."""
    return os.getpid()


def fit_job(data: RaceData) -> tuple[RaceModel, int]:
    return fit_race_model(data), os.getpid()


def whatif_job(model: RaceModel, code: str, alt: Strategy, runs: int, seed: int) -> tuple[WhatIf, int]:
    return whatif(model, code, alt, runs=runs, seed=seed), os.getpid()


def best_job(model: RaceModel, code: str, runs: int, seed: int, top: int,
             n_stops: int | None = None) -> tuple[list[RankedStrategy], int]:
    return best_strategies(model, code, runs=runs, seed=seed, top=top, n_stops=n_stops), os.getpid()


def battle_job(laps: tuple[LapRecord, ...], chaser: str, leader: str, lap: int,
               params: CircuitParams, race_passes: tuple[int, int] | None = None
               ) -> tuple[BattleForecast, int]:
    return battle_forecast(laps, chaser=chaser, leader=leader, lap=lap, model_or_circuit_params=params,
                           race_passes=race_passes), os.getpid()



def screen_job(model: RaceModel, code: str, cands: tuple[Strategy, ...], runs: int,
               seed: int) -> tuple[list[tuple[Strategy, float, float]], int]:
    return screen_strategies(model, code, cands, runs=runs, seed=seed), os.getpid()
