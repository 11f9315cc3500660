"""Backtest the Race Lab on stored races: strategy replay and battle forecasts (pure).

`replay` scores one race's actual-strategy simulation against the official result;
`battle_cases` pairs every Track Pulse battle with the forecast made from the laps
up to its report and what happened in the next five laps; `brier` and
`calibration` score those against a base-rate baseline; `leave_one_race_out` refits
the forecast's tuned parts (dirty-air extra, logistic calibration) without each race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.stats import spearmanr

from bot.lab.battle import calibrate, features, forecast, from_feed, passes_up_to
from bot.lab.types import CircuitParams, LapRecord, RaceData, RaceModel, SimResult
from bot.pulse.detectors import detect_all
from bot.pulse.state import RaceFeed
from storage.lab_types import passes_by_lap

PASS_WINDOW = 5
EXTRAS = (0.3, 0.5, 0.7)  # battle_extra_s candidates, chosen leave-one-race-out


@dataclass(frozen=True, slots=True)
class ReplayScore:
    year: int
    round: int
    event: str
    spearman: float
    winner: str | None
    most_likely_winner: str
    winner_time_error: float | None  # relative: (simulated median - official) / official
    drivers: tuple[dict[str, object], ...]

    def as_json(self) -> dict[str, object]:
        return {"year": self.year, "round": self.round, "event": self.event,
                "drivers": list(self.drivers)}


def replay(model: RaceModel, sim: SimResult) -> ReplayScore:
    """Official vs simulated order of the classified finishers, P(win), winner time error."""
    mean = sim.mean_position()
    pwin = sim.p_win()
    off = model.official_position
    classified = np.nonzero(off > 0)[0]
    rho = (float(spearmanr(off[classified], mean[classified]).statistic)
           if len(classified) > 2 else float("nan"))
    winner_i = int(np.argmax(off == 1)) if (off == 1).any() else None
    err = None
    if winner_i is not None and model.winner_time_s:
        t = sim.race_times_s[:, winner_i]
        t = t[np.isfinite(t)]
        if len(t):
            err = float((np.median(t) - model.winner_time_s) / model.winner_time_s)
    drivers = tuple(
        {"code": model.codes[i], "official_position": int(off[i]) if off[i] > 0 else None,
         "sim_mean_position": round(float(mean[i]), 2), "p_win": round(float(pwin[i]), 4)}
        for i in np.argsort(np.where(off > 0, off, 100 + mean)))
    return ReplayScore(model.year, model.round, model.event, rho,
                       model.codes[winner_i] if winner_i is not None else None,
                       model.codes[int(np.argmax(pwin))], err, drivers)


@dataclass(frozen=True, slots=True)
class BattleCase:
    race: str
    lap: int
    chaser: str
    leader: str
    p_pass_5: float  # with the given circuit parameters
    passed: bool
    p_by_extra: tuple[float, ...] = ()  # raw simulated P(pass in 5) for each of EXTRAS
    pass_rate: float = 0.0  # passes per 100 green car-laps the forecast used
    p_pass_10: float = 0.0
    passed_10: bool | None = None  # None: a stop or a retirement within 10 laps (not scored)


def battle_cases(data: RaceData, feed: RaceFeed, params: CircuitParams) -> list[BattleCase]:
    """Every battle Track Pulse reports in the race, forecast from the laps up to its lap."""
    by = {(r.code, r.lap): r for r in data.laps}
    every = from_feed(feed.laps)  # the forecast reads the feed, as the live detector would
    table = passes_by_lap(every)  # per lap; each battle sums the laps up to its own
    out = []
    for h in detect_all(feed):
        if h.kind != "battle":
            continue
        chaser, leader = str(h.facts["behind"]), str(h.facts["ahead"])
        n = h.lap
        window = range(n + 1, n + PASS_WINDOW + 1)
        recs = [by.get((c, k)) for c in (chaser, leader) for k in window]
        # A position swapped by a stop is no pass, and a car out of the race cannot be
        # passed on track: such battles are left out, not counted as "no pass".
        if any(r is None or r.pit_in or r.pit_out for r in recs):
            continue
        passed = any(
            (by[(chaser, k)].position or 99) < (by[(leader, k)].position or 99) for k in window)
        laps: Sequence[LapRecord] = [r for r in every if r.lap <= n and r.code in (chaser, leader)]
        so_far = passes_up_to(table, n)  # every car's laps up to lap n: passes so far
        f = forecast(laps, chaser=chaser, leader=leader, lap=n, params=params, race_passes=so_far)
        by_extra = tuple(
            forecast(laps, chaser=chaser, leader=leader, lap=n, race_passes=so_far,
                     params=replace(params, battle_extra_s=x)).p_pass_5_sim or 0.0
            for x in EXTRAS)
        # The 10-lap outcome, where neither car stopped or retired in those 10 laps.
        window10 = range(n + 1, n + 2 * PASS_WINDOW + 1)
        recs10 = [by.get((c, k)) for c in (chaser, leader) for k in window10]
        passed_10 = None if any(r is None or r.pit_in or r.pit_out for r in recs10) else any(
            (by[(chaser, k)].position or 99) < (by[(leader, k)].position or 99) for k in window10)
        out.append(BattleCase(f"{data.year} {data.event}", n, chaser, leader, f.p_pass_5, passed,
                              by_extra, f.pass_rate or 0.0, f.p_pass_10, passed_10))
    return out


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2)) if len(p) else float("nan")


def calibration(
    p: np.ndarray, y: np.ndarray, bins: Sequence[float] = (0, 0.1, 0.25, 0.5, 0.75, 1.0001)
) -> list[tuple[str, int, float, float]]:
    """(bin, cases, mean forecast, observed rate) per probability bin."""
    rows = []
    for lo, hi in zip(bins, bins[1:], strict=False):
        m = (p >= lo) & (p < hi)
        if m.any():
            rows.append((f"{lo:.0%}-{min(hi, 1):.0%}", int(m.sum()), float(p[m].mean()),
                         float(y[m].mean())))
    return rows


def fit_calibration(p_sim: np.ndarray, rate: np.ndarray, y: np.ndarray,
                    ridge: float = 1.0) -> tuple[float, float, float]:
    """Logistic fit of y on `bot.lab.battle.features` (ridge on the slopes, not the
    intercept): the calibration `CALIBRATION` holds, refit here on any set of battles."""
    X = np.array([features(float(p), float(r)) for p, r in zip(p_sim, rate, strict=True)])

    def loss(w: np.ndarray) -> float:
        z = X @ w
        # log(1 + e^z) - y z, written stably
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + ridge * np.sum(w[1:] ** 2))

    w = minimize(loss, np.zeros(3), method="BFGS").x
    return float(w[0]), float(w[1]), float(w[2])


def leave_one_race_out(
    cases: Sequence[BattleCase],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Forecasts and base rates where each race's battles are scored with the dirty-air
    extra and the calibration chosen and fitted on the OTHER races only, and the base rate
    of the other races: (p, base, y, extra chosen per race). No battle's own race informs
    its forecast (the circuit's passing rate comes from earlier races, the race's own from
    laps before the battle)."""
    races = sorted({c.race for c in cases})
    y_all = np.array([float(c.passed) for c in cases])
    P = np.array([c.p_by_extra for c in cases]).reshape(len(cases), len(EXTRAS))
    rate = np.array([c.pass_rate for c in cases])
    race_of = np.array([c.race for c in cases])
    p = np.zeros(len(cases))
    base = np.zeros(len(cases))
    chosen: list[float] = []
    for r in races:
        test = race_of == r
        train = ~test
        if not train.any():
            continue
        fits = [fit_calibration(P[train, k], rate[train], y_all[train]) for k in range(len(EXTRAS))]
        scores = [brier(np.array([calibrate(float(q), float(x), fits[k])
                                  for q, x in zip(P[train, k], rate[train], strict=True)]),
                        y_all[train]) for k in range(len(EXTRAS))]
        k = int(np.argmin(scores))
        chosen.append(EXTRAS[k])
        p[test] = [calibrate(float(q), float(x), fits[k])
                   for q, x in zip(P[test, k], rate[test], strict=True)]
        base[test] = y_all[train].mean()
    return p, base, y_all, chosen
