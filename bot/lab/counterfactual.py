"""What-if (an alternative strategy against the actual one) and the strategy search.

Both strategies run through the same model with the same seed: the simulation draws
its random numbers in a fixed order whatever the strategies, so the two runs share
every lap's noise, stop spread and pace draw; the difference is the decision alone.
"""

from __future__ import annotations

import itertools

import numpy as np

from bot.lab.sim import plan_arrays, run
from bot.lab.types import DRY_COMPOUNDS, RaceModel, RankedStrategy, Strategy, StrategyError, WhatIf

SCREEN_RUNS = 60  # runs per candidate in the first pass of the search
FINALISTS = 12


# User-visible refusals, kept together.
NOT_IN_RACE = "{code} did not start the {year} {event}"
PAST_THE_END = "lap {lap} is past the end of the race ({laps} laps)"
NOT_RUN = "{compound} was not run in this race ({compounds})"
RETIRED = ("{code} retired on lap {lap}: the simulation keeps retirements as they happened, "
           "so it cannot say how a different strategy would have ended")
TOO_LATE = "{code} was out of the race by lap {lap}"


def check(model: RaceModel, code: str, alt: Strategy | None = None, *,
          finished: bool = False) -> str:
    """The car's code, upper-cased, once `code` and `alt` make sense for this race."""
    code = code.upper()
    if code not in model.codes:
        raise StrategyError(NOT_IN_RACE.format(code=code, year=model.year, event=model.event))
    retired = int(model.retire_lap[model.index(code)])
    if finished and retired < model.total_laps:
        raise StrategyError(RETIRED.format(code=code, lap=retired))
    if alt is None:
        return code
    names = ", ".join(c.lower() for c in model.compounds)
    for comp in alt.compounds:
        if comp not in model.compounds:
            raise StrategyError(NOT_RUN.format(compound=comp.lower(), compounds=names))
    for lap, _ in alt.stops:
        if lap >= model.total_laps:
            raise StrategyError(PAST_THE_END.format(lap=lap, laps=model.total_laps))
        if lap > retired:
            raise StrategyError(TOO_LATE.format(code=code, lap=lap))
    return code


def compare(model: RaceModel, code: str, alt: Strategy, *, runs: int, seed: int) -> WhatIf:
    code = check(model, code, alt, finished=True)
    base = run(model, None, runs=runs, seed=seed, track=(code,))
    other = run(model, {code: alt}, runs=runs, seed=seed, track=(code,))
    i = model.index(code)
    pa, pb = base.positions[:, i], other.positions[:, i]
    ta, tb = base.race_times_s[:, i], other.race_times_s[:, i]
    gain = (pa - pb).astype(float)
    finite = np.isfinite(ta) & np.isfinite(tb)
    dt = (ta - tb)[finite] if finite.any() else np.zeros(1)
    diff = other.lap_positions[code].mean(axis=0) - base.lap_positions[code].mean(axis=0)
    step = np.abs(np.diff(np.r_[0.0, diff]))
    decisive = tuple(int(k) + 1 for k in np.argsort(-step)[:3] if step[k] > 0.05)
    return WhatIf(
        code=code, alt=alt, actual=model.actual[code], runs=runs,
        positions_alt=pb, positions_actual=pa, times_alt_s=tb, times_actual_s=ta,
        gain_positions=float(gain.mean()),
        gain_positions_80=(float(np.percentile(gain, 10)), float(np.percentile(gain, 90))),
        gain_s=float(dt.mean()),
        gain_s_80=(float(np.percentile(dt, 10)), float(np.percentile(dt, 90))),
        decisive_laps=tuple(sorted(decisive)),
        p_win_alt=float((pb == 1).mean()), p_win_actual=float((pa == 1).mean()),
        p_podium_alt=float((pb <= 3).mean()), p_podium_actual=float((pa <= 3).mean()),
        cars=len(model.codes),
    )


def screen(model: RaceModel, code: str, cands: list[Strategy], *, runs: int, seed: int
           ) -> list[tuple[Strategy, float, float]]:
    """(strategy, mean places gained, mean seconds gained) of each candidate against the
    actual, with the race's real neutralisations and the same draws for all: a small
    window of moved stops compared like for like (the actual is simulated once)."""
    code = check(model, code, finished=True)
    for alt in cands:
        check(model, code, alt)
    i = model.index(code)
    base = run(model, None, runs=runs, seed=seed)
    out = []
    for alt in cands:
        other = run(model, {code: alt}, runs=runs, seed=seed)
        gain = (base.positions[:, i] - other.positions[:, i]).astype(float)
        dt = base.race_times_s[:, i] - other.race_times_s[:, i]
        finite = np.isfinite(dt)
        out.append((alt, float(gain.mean()), float(dt[finite].mean()) if finite.any() else 0.0))
    return out


def candidates(model: RaceModel) -> list[Strategy]:
    """One- and two-stop strategies over the race's compounds; in the dry at least
    two different dry compounds (the rule)."""
    L = model.total_laps
    comps = [c for c in model.compounds if c in DRY_COMPOUNDS] if not model.is_wet \
        else list(model.compounds)
    out: list[Strategy] = []
    step1 = max(2, L // 20)
    for a, b in itertools.product(comps, repeat=2):
        if not model.is_wet and a == b:
            continue
        for lap in range(int(L * 0.2), int(L * 0.8) + 1, step1):
            out.append(Strategy(a, ((lap, b),)))
    step2 = max(3, L // 12)
    for a, b, c in itertools.product(comps, repeat=3):
        if not model.is_wet and len({a, b, c}) < 2:
            continue
        for l1 in range(int(L * 0.15), int(L * 0.5) + 1, step2):
            for l2 in range(l1 + max(8, L // 6), int(L * 0.85) + 1, step2):
                out.append(Strategy(a, ((l1, b), (l2, c))))
    return out


def _batch(model: RaceModel, code: str, cands: list[Strategy], per: int, seed: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Positions and times of `code`, `per` runs for each candidate, in one simulation."""
    i = model.index(code)
    age0 = 0.0 if model.start_tyre_age is None else float(model.start_tyre_age[i])
    # The used starting set only where the candidate starts on that compound.
    start = model.actual[code].start
    ages = np.array([age0 if s.start == start else 0.0 for s in cands])
    comp, age, pit = plan_arrays(model, cands, ages)
    rep = np.repeat(np.arange(len(cands)), per)
    res = run(model, None, runs=len(rep), seed=seed, neutralisations="drawn",
              focus=(i, comp[rep], age[rep], pit[rep]))
    pos = res.positions[:, i].reshape(len(cands), per)
    t = res.race_times_s[:, i].reshape(len(cands), per)
    return pos, t


def search(
    model: RaceModel, code: str, *, runs: int, seed: int, top: int = 5, n_stops: int | None = None
) -> list[RankedStrategy]:
    """The `top` plans (of `n_stops` stops only, when given: "would a two-stop have worked")."""
    code = check(model, code, finished=True)
    cands = [c for c in candidates(model) if n_stops is None or c.n_stops == n_stops]
    if not cands:
        return []
    # Pass 1: every candidate, few runs each; pass 2: the finalists with `runs` each.
    pos, t = _batch(model, code, cands, SCREEN_RUNS, seed)
    score = pos.mean(axis=1) + 1e-4 * np.nanmean(np.where(np.isfinite(t), t, np.nan), axis=1)
    finalists = [cands[k] for k in np.argsort(score)[:max(top, FINALISTS)]]
    pos, t = _batch(model, code, finalists, runs, seed + 1)
    ranked = []
    for k, s in enumerate(finalists):
        tt = t[k][np.isfinite(t[k])]
        ranked.append(RankedStrategy(
            strategy=s, mean_position=float(pos[k].mean()),
            position_80=(float(np.percentile(pos[k], 10)), float(np.percentile(pos[k], 90))),
            mean_time_s=float(tt.mean()) if len(tt) else float("inf"),
            p_win=float((pos[k] == 1).mean()), p_podium=float((pos[k] <= 3).mean()),
        ))
    ranked.sort(key=lambda r: (round(r.mean_position, 2), r.mean_time_s))
    return ranked[:top]
