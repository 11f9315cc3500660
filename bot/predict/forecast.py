"""Build `RaceForecast` / `TitleForecast` from a fit, the history and the calendar (pure).

Nothing here reads the store: the service passes what it read. A race is
forecast from the posterior *before* it (the season's snapshot plus its earlier
rounds), so a forecast never sees its own result or a later one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

import numpy as np

from bot.predict.calibrate import recalibrate
from bot.predict.model import Fit, Params, State, outcome, state_before, with_quali
from bot.predict.simulate import Entrant, RaceSim, Weekend, simulate_race, simulate_title
from bot.predict.types import (
    DriverForecast,
    PredictUnavailable,
    RaceForecast,
    TeamForecast,
    TitleEntry,
    TitleForecast,
    TitleKind,
)
from storage.points import points_system, scoring_positions
from storage.predict_store import RaceRows, StandingPoints

# User-facing messages (kept together).
NO_HISTORY = "No race history is imported yet, so there is nothing to base a forecast on."
NO_QUALI = "Qualifying for {year} round {round} is not stored yet; ask for the forecast before qualifying."
NO_ENTRANTS = "I don't know who races in {year} round {round} yet."
NOTE = "{code}'s car is rated #{car} of {cars} ({team}), the driver #{drv} of {drivers}"
NOTE_GRID = "; starts P{grid} (the grid is included)"
NOTE_PIT = "; starts from the pit lane (the grid is included)"
NOTE_PRE = "; before qualifying (no grid yet: ratings and this season's form)"


def _seed(seed: int, year: int, round_: int, salt: int = 0) -> int:
    return (seed * 1_000_003 + year * 1000 + round_ * 7 + salt) % (2**32)


def entrants(weekend: RaceRows | None, previous: RaceRows | None, *, with_grid: bool) -> list[Entrant]:
    """The field: the weekend's entry list (qualifying, else starters), else the previous race's."""
    rows = []
    if weekend is not None and weekend.quali:
        rows = list(weekend.quali)
    elif weekend is not None and weekend.race:
        rows = [r for r in weekend.race if outcome(r.status, r.position) != "dns"]
    elif previous is not None:
        rows = [r for r in previous.race if outcome(r.status, r.position) != "dns"]
    grid: dict[str, int | None] = {}
    if with_grid and weekend is not None:
        if weekend.race:  # the official starting grid (penalties applied)
            grid = {r.driver_ref: r.grid for r in weekend.race}
        else:
            grid = {r.driver_ref: r.position for r in weekend.quali}
    seen: set[str] = set()
    out = []
    for r in rows:
        if r.driver_ref in seen:
            continue
        seen.add(r.driver_ref)
        out.append(Entrant(r.driver_ref, r.code, r.name, r.constructor_ref, r.team,
                           grid.get(r.driver_ref) if with_grid else None))
    # A canonical order: the random draws each driver gets must not depend on where
    # the entry list came from (qualifying order, last race's order ...).
    return sorted(out, key=lambda e: e.driver_ref)


def season_points(history: list[RaceRows], year: int, round_: int) -> tuple[dict[str, float], dict[str, int]]:
    """Drivers' points this season before `round_` and last season's final order (from the results rows).

    Accumulated in the same order as the backtest does, so both rank ties alike.
    """
    prev: dict[str, float] = defaultdict(float)
    cur: dict[str, float] = defaultdict(float)
    for race in history:
        if not race.race or race.year not in (year - 1, year) or (race.year == year and race.round >= round_):
            continue
        acc = prev if race.year == year - 1 else cur
        for part in (race.race, race.sprint):
            for r in part:
                if r.points:
                    acc[r.driver_ref] += r.points
    ranked = sorted(prev, key=lambda k: -prev[k])
    return dict(cur), {k: i + 1 for i, k in enumerate(ranked)}


def form_positions(field: list[Entrant], points: dict[str, float], last_final: dict[str, int]) -> list[Entrant]:
    """`field` with each entrant's championship position before the race (ties share the best place;
    round 1 uses last season's final order)."""
    keys = [(-points.get(e.driver_ref, 0.0), last_final.get(e.driver_ref, 99)) for e in field]
    return [dataclasses.replace(e, form=1 + sum(1 for k in keys if k < keys[i])) for i, e in enumerate(field)]


def has_grid(weekend: RaceRows | None) -> bool:
    return weekend is not None and (bool(weekend.quali) or any(r.grid for r in weekend.race))


def pre_race_state(fit: Fit, history: list[RaceRows], year: int, round_: int, p: Params,
                   *, after_quali: bool) -> State:
    """The posterior before the race (with its qualifying folded in when after_quali)."""
    season = [r for r in history if r.year == year]
    s = state_before(fit, season, year, round_, p)
    if after_quali:
        wk = next((r for r in season if r.round == round_), None)
        if wk is not None:
            s = with_quali(s, wk, p)
    return s


def run_race(state: State, field: list[Entrant], p: Params, *, year: int, round_: int, seed: int,
             after_quali: bool, draws: int = 250, sims: int = 16) -> RaceSim:
    sim = simulate_race(state, field, p, seed=_seed(seed, year, round_, int(after_quali)), draws=draws,
                        sims=sims, scoring=scoring_positions(year), grid_known=after_quali)
    # One place for the recalibration, so chat, CLI and the backtest give the same numbers.
    return recalibrate(sim, "after_quali" if after_quali else "pre_quali") if p.calibrate else sim


def race_forecast(
    fit: Fit, history: list[RaceRows], *, year: int, round_: int, event_name: str, after_quali: bool | None,
    p: Params, seed: int, fitted_at: dt.datetime, draws: int = 250, sims: int = 16,
) -> RaceForecast:
    if not fit.state.races:
        raise PredictUnavailable(NO_HISTORY)
    weekend = next((r for r in history if (r.year, r.round) == (year, round_)), None)
    if after_quali is None:
        after_quali = has_grid(weekend)
    elif after_quali and not has_grid(weekend):
        raise PredictUnavailable(NO_QUALI.format(year=year, round=round_))
    earlier = [r for r in history if r.race and (r.year, r.round) < (year, round_)]
    field = entrants(weekend, earlier[-1] if earlier else None, with_grid=after_quali)
    if len(field) < 2:
        raise PredictUnavailable(NO_ENTRANTS.format(year=year, round=round_))
    if not after_quali:
        field = form_positions(field, *season_points(history, year, round_))
    state = pre_race_state(fit, history, year, round_, p, after_quali=after_quali)
    sim = run_race(state, field, p, year=year, round_=round_, seed=seed, after_quali=after_quali,
                   draws=draws, sims=sims)
    out = []
    for i, e in enumerate(field):
        out.append(DriverForecast(
            e.code, e.name, e.team, e.constructor_ref, float(sim.p_win[i]),
            (float(sim.p_win_q[0, i]), float(sim.p_win_q[1, i])), float(sim.p_podium[i]),
            (float(sim.p_podium_q[0, i]), float(sim.p_podium_q[1, i])), float(sim.p_points[i]),
            (float(sim.p_points_q[0, i]), float(sim.p_points_q[1, i])), float(sim.exp_pos[i]),
            (int(sim.pos_q[0, i]), int(sim.pos_q[1, i])), e.grid if after_quali else None))
    out.sort(key=lambda d: (-d.p_win, d.expected_position, d.code))
    teams = team_forecasts(sim, field)
    note = drivers_note(sim, field, out[0].code, after_quali=after_quali)
    return RaceForecast(year, round_, event_name, "after_quali" if after_quali else "pre_quali", tuple(out),
                        fitted_at, state.through, note, draws * sims, teams)


def drivers_note(sim: RaceSim, field: list[Entrant], favourite: str, *, after_quali: bool) -> str:
    """What the favourite's chance rests on: where its car and its driver rank in the ratings
    (posterior means), and the grid or its absence. Ranks, not a car/driver share of the pace:
    that split is only loosely pinned down (few drivers change teams), ranks are robust."""
    i = next(k for k, e in enumerate(field) if e.code == favourite)
    cars: dict[str, float] = {}
    for e, c in zip(field, sim.car_mean, strict=True):
        cars[e.constructor_ref] = float(c)
    car_rank = 1 + sum(v > cars[field[i].constructor_ref] for v in cars.values())
    drv_rank = 1 + int((sim.drv_mean > sim.drv_mean[i]).sum())
    note = NOTE.format(code=favourite, car=car_rank, cars=len(cars), team=field[i].team, drv=drv_rank,
                       drivers=len(field))
    if not after_quali:
        return note + NOTE_PRE
    return note + (NOTE_GRID.format(grid=field[i].grid) if field[i].grid else NOTE_PIT)


def team_forecasts(sim: RaceSim, field: list[Entrant]) -> tuple[TeamForecast, ...]:
    """Each team's "at least one car" chances, consistent with its cars' (recalibrated) chances.

    P(any) = P(car 1) + P(car 2) - P(both): the cars' chances are the recalibrated ones and
    P(both) is counted in the same simulated races, so a team's figure agrees with the lines
    of its drivers; it is kept within what those alone allow (at least the likelier car's
    chance, at most the sum). The interval is the simulated one moved by the same amount.
    """
    if not sim.team_market:
        return ()
    out = []
    for t, ref in enumerate(sim.team_refs):
        idx = [i for i, e in enumerate(field) if e.constructor_ref == ref]
        figures: list[float | tuple[float, float]] = []
        for market, cars_p in (("win", sim.p_win), ("podium", sim.p_podium), ("points", sim.p_points)):
            m = sim.team_market[market]
            ps = [float(cars_p[i]) for i in idx]
            lo, hi = max(ps), min(1.0, sum(ps))
            p_any = min(hi, max(lo, sum(ps) - float(m.both[t])))
            shift = p_any - float(m.any[t])
            iv = (min(p_any, max(0.0, float(m.any_q[0, t]) + shift)), max(p_any, min(1.0, float(m.any_q[1, t]) + shift)))
            figures += [p_any, iv]
        # Both cars: the simulated joint chance, kept within the (recalibrated) chances of each car.
        for market, cars_p in (("top2", None), ("podium", sim.p_podium)):
            m = sim.team_market[market]
            cap = 1.0 if cars_p is None or len(idx) < 2 else min(float(cars_p[i]) for i in idx)
            both = min(cap, float(m.both[t])) if len(idx) >= 2 else 0.0
            figures += [both, (min(both, float(m.both_q[0, t])), max(both, min(cap, float(m.both_q[1, t]))))
                        if len(idx) >= 2 else (0.0, 0.0)]
        out.append(TeamForecast(ref, field[idx[0]].team, *figures))  # type: ignore[arg-type]
    return tuple(out)


# --------------------------------------------------------------------------- title


def title_forecast(
    fit: Fit, history: list[RaceRows], *, year: int, after_round: int, kind: TitleKind,
    standings: list[StandingPoints], remaining: list[Weekend], max_points: float,
    p: Params, seed: int, fitted_at: dt.datetime, draws: int = 100, sims: int = 20,
) -> TitleForecast:
    """Championship odds after `after_round`: the official standings plus the simulated rest.

    `max_points` is the title maths' bound (`storage.aggregates.points_left`);
    an entrant the maths rules out gets 0 whatever the simulation says (it
    cannot say otherwise: no weekend here pays more than that bound).
    """
    if not standings:
        raise PredictUnavailable(NO_HISTORY)
    rows = sorted(standings, key=lambda s: (-s.points, s.position or 999, s.key))
    keys = [s.key for s in rows]
    points = np.array([s.points for s in rows])
    best_rival = np.array([max((points[j] for j in range(len(keys)) if j != i), default=0.0)
                           for i in range(len(keys))])
    can_win = points + max_points >= best_rival
    n_runs = draws * sims
    share = np.zeros((draws, len(keys)))
    season = [r for r in history if r.year == year and r.race and r.round <= after_round]
    if remaining and season:
        state = state_before(fit, history, year, after_round + 1, p)
        last = max(season, key=lambda r: r.round)
        field = entrants(last, None, with_grid=False)
        teams = None
        if kind == "constructors":
            teams = [[i for i, e in enumerate(field) if e.constructor_ref == k] for k in keys]
        extra = simulate_title(state, field, remaining, points_system(year), p,
                               seed=_seed(seed, year, after_round, 2 if kind == "drivers" else 3),
                               draws=draws, sims=sims, teams=teams)
        final = np.repeat(np.repeat(points[None, None, :], draws, 0), sims, 1)
        if kind == "drivers":
            idx = {k: i for i, k in enumerate(keys)}
            for j, e in enumerate(field):
                if e.driver_ref in idx:
                    final[..., idx[e.driver_ref]] += extra[..., j]
        else:
            final = final + extra
        final = np.where(can_win[None, None, :], final, -np.inf)
        top = final.max(axis=2, keepdims=True)
        winners = final == top
        share = (winners / winners.sum(axis=2, keepdims=True)).mean(axis=1)  # ties split evenly
    else:
        share[:, 0] = 1.0  # season over: the standings decide
    p_title = share.mean(axis=0)
    q = np.quantile(share, [0.1, 0.9], axis=0)
    q = np.stack([np.minimum(q[0], p_title), np.maximum(q[1], p_title)])  # see simulate.simulate_race
    decided = not remaining or int(can_win.sum()) == 1
    champion = rows[0].code if decided else None
    if decided:
        p_title = np.zeros(len(keys))
        p_title[0] = 1.0
        q = np.stack([p_title, p_title])
    entries = [TitleEntry(r.code, r.name, float(points[i]), float(p_title[i]),
                          (float(q[0, i]), float(q[1, i])), bool(can_win[i]), float(points[i] + max_points))
               for i, r in enumerate(rows)]
    entries.sort(key=lambda e: (-e.p_title, -e.points, e.key))
    sprints = sum(1 for w in remaining if w.sprint)
    return TitleForecast(year, after_round, kind, tuple(entries), len(remaining), sprints, fitted_at, decided,
                         champion, n_runs)
