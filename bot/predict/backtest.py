"""Walk-forward backtest: each race predicted only from the races before it (pure).

The filter folds the history in date order; before folding a race it is
forecast twice (before qualifying, and with the grid), and two baselines
computed from earlier seasons only are scored next to it: base rates by grid
position (the after-qualifying baseline) and by championship position before
the race (the before-qualifying baseline).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from bot.predict.forecast import entrants, has_grid, run_race
from bot.predict.model import Params, State, advance, fold_race, with_quali
from bot.predict.simulate import Entrant
from storage.predict_store import RaceRows

BINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0001)
FLOOR = 1e-4  # probabilities are floored here before a log (same for every method)
BASE_FROM = 1980  # baselines count seasons from here (older eras had other fields)


@dataclass(slots=True)
class Score:
    """Running scores of one method in one season and stage."""

    races: int = 0
    logloss: float = 0.0
    brier: float = 0.0
    brier_n: int = 0
    calib: dict[int, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))

    def add(self, p_win: np.ndarray, p_pod: np.ndarray, won: np.ndarray, podium: np.ndarray) -> None:
        self.races += 1
        self.logloss += -math.log(max(float(p_win[won].sum()), FLOOR))
        self.brier += float(((p_pod - podium) ** 2).sum())
        self.brier_n += len(p_pod)
        for p, y in zip(np.concatenate([p_win, p_pod]), np.concatenate([won, podium]), strict=True):
            b = int(np.searchsorted(BINS, p, side="right") - 1)
            c = self.calib[b]
            c[0] += 1
            c[1] += p
            c[2] += float(y)

    def merge(self, o: Score) -> None:
        self.races += o.races
        self.logloss += o.logloss
        self.brier += o.brier
        self.brier_n += o.brier_n
        for b, c in o.calib.items():
            for i in range(3):
                self.calib[b][i] += c[i]

    def summary(self) -> dict[str, object]:
        return {"races": self.races, "logloss_winner": round(self.logloss / max(self.races, 1), 4),
                "brier_top3": round(self.brier / max(self.brier_n, 1), 4),
                "calibration": [{"bin": f"{BINS[b]:.2f}-{min(BINS[b + 1], 1):.2f}", "n": int(c[0]),
                                 "predicted": round(c[1] / c[0], 4), "observed": round(c[2] / c[0], 4)}
                                for b, c in sorted(self.calib.items()) if c[0]]}


class BaseRates:
    """Win / podium rates by a bucket (grid slot or championship position), from counted seasons."""

    def __init__(self) -> None:
        self.n: dict[int, float] = defaultdict(float)
        self.win: dict[int, float] = defaultdict(float)
        self.pod: dict[int, float] = defaultdict(float)
        self.pending: list[tuple[int, bool, bool]] = []

    def probs(self, buckets: list[int]) -> tuple[np.ndarray, np.ndarray]:
        w = np.array([(self.win[b] + 0.1) / (self.n[b] + 2) for b in buckets])
        pd = np.array([(self.pod[b] + 0.3) / (self.n[b] + 2) for b in buckets])
        pd = np.minimum(pd * (min(3, len(buckets)) / pd.sum()), 0.999)
        return w / w.sum(), pd

    def record(self, bucket: int, won: bool, podium: bool) -> None:
        self.pending.append((bucket, won, podium))

    def commit(self) -> None:
        """Count the season just finished (the baselines learn between seasons only)."""
        for b, w, p in self.pending:
            self.n[b] += 1
            self.win[b] += w
            self.pod[b] += p
        self.pending.clear()


def _outcomes(race: RaceRows, field: list[Entrant]) -> tuple[np.ndarray, np.ndarray]:
    by = {r.driver_ref: r for r in race.race}
    won = np.array([by[e.driver_ref].position == 1 if e.driver_ref in by else False for e in field])
    pod = np.array([(by[e.driver_ref].position or 99) <= 3 if e.driver_ref in by else False for e in field])
    return won, pod


@dataclass(slots=True)
class Backtest:
    """Per season: stage → method → Score; `rows` are the per-race JSON objects."""

    seasons: dict[int, dict[str, dict[str, Score]]] = field(default_factory=dict)


def run(history: list[RaceRows], p: Params, bt: Backtest, *, start: int, end: int, seed: int,
        draws: int = 100, sims: int = 10) -> Iterator[dict[str, object]]:
    """Yield one object per race in [start, end] (both stages' forecasts); scores go into `bt`."""
    state = State()
    grid_rates, champ_rates = BaseRates(), BaseRates()
    season_pts: dict[str, float] = defaultdict(float)
    last_final: dict[str, int] = {}
    year = None
    for race in history:
        if not race.race:
            continue
        if race.year != year:
            if year is not None:
                ranked = sorted(season_pts, key=lambda k: -season_pts[k])
                last_final = {k: i + 1 for i, k in enumerate(ranked)}
                if year >= BASE_FROM:
                    grid_rates.commit()
                    champ_rates.commit()
                else:
                    grid_rates.pending.clear()
                    champ_rates.pending.clear()
            season_pts.clear()
            year = race.year
        field_ = entrants(race, None, with_grid=True)
        won, pod = _outcomes(race, field_)
        # Baselines' buckets: grid slot; championship position before the race.
        grids = [e.grid if e.grid else len(field_) for e in field_]
        order = sorted(range(len(field_)), key=lambda i: (-season_pts.get(field_[i].driver_ref, 0.0),
                                                          last_final.get(field_[i].driver_ref, 99), i))
        champ = [0] * len(field_)
        for rank, i in enumerate(order):
            champ[i] = rank + 1
        if start <= race.year <= end and won.any() and len(field_) >= 2:
            season = bt.seasons.setdefault(race.year, {})
            obj: dict[str, object] = {"year": race.year, "round": race.round}
            stages = [("pre_quali", False)] + ([("after_quali", True)] if has_grid(race) else [])
            for stage, aq in stages:
                s = with_quali(state, race, p) if aq else state.copy()
                advance(s, race.year, p)
                fld = field_ if aq else [Entrant(e.driver_ref, e.code, e.name, e.constructor_ref, e.team)
                                         for e in field_]
                sim = run_race(s, fld, p, year=race.year, round_=race.round, seed=seed, after_quali=aq,
                               draws=draws, sims=sims)
                sc = season.setdefault(stage, {})
                sc.setdefault("model", Score()).add(sim.p_win, sim.p_podium, won, pod)
                base = grid_rates if aq else champ_rates
                bw, bp = base.probs(grids if aq else champ)
                sc.setdefault("grid_base" if aq else "champ_base", Score()).add(bw, bp, won, pod)
                obj[stage] = [{"code": e.code, "p_win": round(float(sim.p_win[i]), 4),
                               "p_podium": round(float(sim.p_podium[i]), 4),
                               "p_points": round(float(sim.p_points[i]), 4),
                               "expected_position": round(float(sim.exp_pos[i]), 2)}
                              for i, e in enumerate(fld)]
            yield obj
        for i in range(len(field_)):
            grid_rates.record(grids[i], bool(won[i]), bool(pod[i]))
            champ_rates.record(champ[i], bool(won[i]), bool(pod[i]))
        fold_race(state, race, p)
        for part in (race.race, race.sprint):
            for r in part:
                if r.points:
                    season_pts[r.driver_ref] += r.points


def summary(bt: Backtest) -> dict[str, object]:
    """Per season and overall: each stage's model and baseline scores."""
    out: dict[str, object] = {}
    total: dict[str, dict[str, Score]] = {}
    for y, stages in sorted(bt.seasons.items()):
        out[str(y)] = {st: {m: sc.summary() for m, sc in ms.items()} for st, ms in stages.items()}
        for st, ms in stages.items():
            for m, sc in ms.items():
                total.setdefault(st, {}).setdefault(m, Score()).merge(sc)
    out["all"] = {st: {m: sc.summary() for m, sc in ms.items()} for st, ms in total.items()}
    return out
