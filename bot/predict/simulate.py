"""Monte Carlo over a race and over the rest of a season (pure numpy, seeded).

A run draws every car and driver rating from the posterior (so intervals carry
rating uncertainty), adds Plackett–Luce performance noise (Gumbel: the
Plackett–Luce model is exactly "highest pace + Gumbel noise wins") and draws
retirements from each constructor's reliability. Runs are grouped: `draws`
rating draws × `sims` races each; an 80% interval is the spread over draws of
the per-draw probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.predict.model import Params, State, dnf_probability
from storage.points import PointsSystem


@dataclass(frozen=True, slots=True)
class Entrant:
    driver_ref: str
    code: str
    name: str
    constructor_ref: str
    team: str
    grid: int | None = None  # None before qualifying; 0 = pit lane
    form: int | None = None  # championship position before the race (None: unknown, at the back)


@dataclass(frozen=True, slots=True)
class RaceSim:
    """Per-entrant results, arrays in the entrants' order."""

    p_win: np.ndarray
    p_win_q: np.ndarray  # (2, n): 10th and 90th percentiles over rating draws
    p_podium: np.ndarray
    p_podium_q: np.ndarray
    p_points: np.ndarray
    p_points_q: np.ndarray
    exp_pos: np.ndarray
    pos_q: np.ndarray  # (2, n) ints
    car_mean: np.ndarray  # (n,) posterior mean rating of each entrant's car (for the note)
    drv_mean: np.ndarray  # (n,) posterior mean rating of each entrant's driver
    # Teams ("at least one car"), from the same joint runs: a team's two cars are not
    # independent (same car, same race), so the joint chance is counted, not guessed.
    team_refs: tuple[str, ...] = ()
    team_market: dict[str, TeamMarket] | None = None  # "win" / "podium" / "points"


@dataclass(frozen=True, slots=True)
class TeamMarket:
    """A team's raw simulated chance that at least one car makes it, and that every car does."""

    any: np.ndarray  # (T,) mean over all runs
    any_q: np.ndarray  # (2, T) 10th / 90th percentile over rating draws
    both: np.ndarray  # (T,) every car of the team (P(both cars on the podium))
    both_q: np.ndarray  # (2, T) its 10th / 90th percentile over rating draws


def _pace_draws(state: State, entrants: list[Entrant], p: Params, rng: np.random.Generator,
                draws: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(draws, n) pace samples and the car / driver mean arrays."""
    n = len(entrants)
    cars = sorted({e.constructor_ref for e in entrants})
    cidx = np.array([cars.index(e.constructor_ref) for e in entrants])
    field_car = np.mean([v[0] for v in state.car.values()]) if state.car else 0.0
    field_drv = np.mean([v[0] for v in state.drv.values()]) if state.drv else 0.0
    cm = np.array([state.car.get(c, [field_car + p.newcomer_offset, p.car_var0])[0] for c in cars])
    cv = np.array([state.car.get(c, [0.0, p.car_var0])[1] for c in cars])
    dm = np.array([state.drv.get(e.driver_ref, [field_drv + p.newcomer_offset, p.driver_var0])[0]
                   for e in entrants])
    dv = np.array([state.drv.get(e.driver_ref, [0.0, p.driver_var0])[1] for e in entrants])
    car_draw = cm + np.sqrt(cv) * rng.standard_normal((draws, len(cars)))
    drv_draw = dm + np.sqrt(dv) * rng.standard_normal((draws, n))
    return car_draw[:, cidx] + drv_draw, cm[cidx], dm


def grid_bonus(entrants: list[Entrant], p: Params) -> np.ndarray:
    """Track-position advantage once the grid is known (pit-lane and unknown starts at the back)."""
    n = len(entrants)
    g = np.array([e.grid if e.grid else n for e in entrants], dtype=float)
    return -p.grid_weight * np.log(g)


def form_bonus(entrants: list[Entrant], p: Params) -> np.ndarray:
    """Current-season form before qualifying: a pace bonus by championship position.

    The ratings learn a new car only race by race; the standings summarise the season
    so far (pace and reliability) in one robust number. Weight learned on 1996–2013.
    """
    n = len(entrants)
    f = np.array([e.form if e.form else n for e in entrants], dtype=float)
    return -p.form_weight * np.log(f)


def simulate_race(
    state: State, entrants: list[Entrant], p: Params, *, seed: int, draws: int = 250, sims: int = 16,
    scoring: int = 10, grid_known: bool = False,
) -> RaceSim:
    rng = np.random.default_rng(seed)
    n = len(entrants)
    pace, car_mean, drv_mean = _pace_draws(state, entrants, p, rng, draws)
    if grid_known:
        pace = pace + grid_bonus(entrants, p)
    else:
        pace = p.sharp_pre * pace
        if p.form_weight:
            pace = pace + form_bonus(entrants, p)
    pace = p.scale_race * pace
    pdnf = np.array([dnf_probability(state, e.constructor_ref, p) for e in entrants])
    dnf = rng.random((draws, sims, n)) < pdnf
    perf = pace[:, None, :] + rng.gumbel(size=(draws, sims, n))
    # Retired cars go to the back, in random order among themselves.
    perf = np.where(dnf, -1e6 + rng.random((draws, sims, n)), perf)
    order = np.argsort(-perf, axis=2)
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.arange(1, n + 1)[None, None, :], axis=2)
    classified = ~dnf
    # P(win) given the draw and the retirements is exact (softmax over the runners):
    # much less noise than counting simulated wins.
    w = np.exp(pace - pace.max(axis=1, keepdims=True))[:, None, :] * classified
    tot = w.sum(axis=2, keepdims=True)
    win = np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)
    podium = (pos <= 3) & classified
    points = (pos <= scoring) & classified

    def summary(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_draw = x.mean(axis=1)
        mean, q = per_draw.mean(axis=0), np.quantile(per_draw, [0.1, 0.9], axis=0)
        # A rare event (a back-marker's podium) can have a mean above the draws' 90th
        # percentile (most draws see none of it in `sims` races): widen to include the mean.
        return mean, np.stack([np.minimum(q[0], mean), np.maximum(q[1], mean)])

    pw, pwq = summary(win)
    pp, ppq = summary(podium.astype(float))
    pt, ptq = summary(points.astype(float))
    flat = pos.reshape(-1, n)
    pos_q = np.quantile(flat, [0.1, 0.9], axis=0, method="nearest").astype(int)
    refs = tuple(dict.fromkeys(e.constructor_ref for e in entrants))
    member = np.array([[e.constructor_ref == r for e in entrants] for r in refs], dtype=float)  # (T, n)
    markets = {}
    top2 = ((pos <= 2) & classified).astype(float)
    for name, hit in (("win", win), ("top2", top2), ("podium", podium.astype(float)),
                      ("points", points.astype(float))):
        cars = hit @ member.T  # (draws, sims, T): how many of the team's cars made it (win: its chance)
        any_ = np.minimum(cars, 1.0)
        both = (cars >= member.sum(axis=1)).astype(float) if name != "win" else np.zeros_like(cars)
        mean, q = summary(any_)
        both_mean, both_q = summary(both)
        markets[name] = TeamMarket(mean, q, both_mean, both_q)  # top2's `both` is a one-two
    return RaceSim(pw, pwq, pp, ppq, pt, ptq, flat.mean(axis=0), pos_q, car_mean, drv_mean, refs, markets)


@dataclass(frozen=True, slots=True)
class Weekend:
    round: int
    sprint: bool
    double: bool  # double points (2014's final round)


def simulate_title(
    state: State, entrants: list[Entrant], weekends: list[Weekend], system: PointsSystem, p: Params, *,
    seed: int, draws: int = 100, sims: int = 20, teams: list[list[int]] | None = None,
) -> np.ndarray:
    """Points each entrant adds over `weekends`: (draws, sims, n) array.

    With `teams` (entrant indexes per constructor) the points are the
    constructors' instead: (draws, sims, len(teams)), summed per weekend (only
    the best car before 1979, as the rules then said).

    Ratings are drawn once per draw and held for the rest of the season (the
    posterior does not learn inside a simulation: the spread is honest but a
    little narrow late in a season).
    """
    rng = np.random.default_rng(seed)
    n = len(entrants)
    pace, _, _ = _pace_draws(state, entrants, p, rng, draws)
    pdnf = np.array([dnf_probability(state, e.constructor_ref, p) for e in entrants])
    total = np.zeros((draws, sims, len(teams) if teams is not None else n))
    tables = [(np.array(system.race, dtype=float), p.scale_race, False)]
    for wk in weekends:
        parts = list(tables)
        if wk.sprint and system.sprint:
            parts.append((np.array(system.sprint, dtype=float), p.scale_sprint, True))
        for table, scale, is_sprint in parts:
            dnf = rng.random((draws, sims, n)) < pdnf
            perf = scale * pace[:, None, :] + rng.gumbel(size=(draws, sims, n))
            perf = np.where(dnf, -1e6 + rng.random((draws, sims, n)), perf)
            order = np.argsort(-perf, axis=2)
            pos = np.empty_like(order)
            np.put_along_axis(pos, order, np.arange(1, n + 1)[None, None, :], axis=2)
            pts = np.zeros((draws, sims, n))
            ok = (pos <= len(table)) & ~dnf
            pts[ok] = table[pos[ok] - 1]
            if not is_sprint and system.fastest_lap and not (teams is not None and system.team_best_car_only):
                # The fastest lap goes to a random classified car (top ten where that rule applied).
                elig = ~dnf & ((pos <= 10) if system.fastest_lap_top10 else True)
                key = np.where(elig, rng.random((draws, sims, n)), -1.0)
                best = key.argmax(axis=2)
                has = key.max(axis=2) >= 0
                np.put_along_axis(pts, best[..., None], np.take_along_axis(pts, best[..., None], 2)
                                  + system.fastest_lap * has[..., None], axis=2)
            if teams is not None:
                agg = np.max if system.team_best_car_only else np.sum
                pts = np.stack([agg(pts[..., idx], axis=2) if idx else np.zeros((draws, sims))
                                for idx in teams], axis=2)
            total += pts * (2.0 if wk.double and not is_sprint else 1.0)
    return total
