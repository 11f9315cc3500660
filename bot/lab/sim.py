"""Lap-by-lap Monte Carlo race simulation, vectorised over runs (arrays `runs × cars`).

Per lap: lap time = base + fuel + compound offset + degradation(age) + noise (+ the
pit loss on an in-lap); then cars are taken front to back: a car that would close
to within `MIN_GAP_S` of the car ahead passes only when its lap is quicker by more
than the circuit's threshold (less DRS when it started the lap within 1 s), else it
is held up behind. Neutralised laps: no passing, a safety car bunches the field,
stops cost less. The stewards' penalties are served as the rules say for whatever
strategy a car runs (`penalty_arrays`); rain on slicks adds the race's weather
offsets to cars on dry tyres. Random draws are made in the same order whatever the strategies,
so two calls with one seed share them (what-if comparisons are like for like).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bot.lab.types import DIRTY_AIR_S, RaceModel, SimResult, Strategy, StrategyError

MIN_GAP_S = 0.25  # closest a held-up car runs behind the car ahead at the line
DRS_RANGE_S = 1.0
SC_GAP_S = 0.8  # gap per position behind a safety car
RETIRED = 1e9  # cumulative time of a retired car (+ laps not completed)
MAX_STOPS = 4


def plan_arrays(model: RaceModel, strategies: Sequence[Strategy], start_age: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per car (or candidate) and lap: compound index, tyre age and in-lap flag."""
    L = model.total_laps
    comp = np.zeros((len(strategies), L), dtype=np.int16)
    age = np.zeros((len(strategies), L))
    pit = np.zeros((len(strategies), L), dtype=bool)
    ci = {c: i for i, c in enumerate(model.compounds)}
    by_lap = {ci[c] for c in model.slope_by_lap if c in ci}
    for k, s in enumerate(strategies):
        cur, a, stops = ci.get(s.start, 0), float(start_age[k]), dict(s.stops)
        for lap in range(1, L + 1):
            a += 1
            # Wet tyres' slope runs with the race lap (the track), not the set's age.
            comp[k, lap - 1], age[k, lap - 1] = cur, (float(lap - model.wet_from_lap + 1)
                                                       if cur in by_lap else a)
            if lap in stops and lap < L:
                pit[k, lap - 1] = True
                cur, a = ci.get(stops[lap], cur), 0.0
    return comp, age, pit


def penalty_arrays(model: RaceModel, car: int, pit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time the stewards' penalties add to `car`, given its in-laps `pit` (rows × laps):
    per row and lap (served in the pits) and per row at the flag.

    As the sporting regulations serve them: a time penalty at the car's next stop
    after the decision (held stationary that long before any work), else added to
    its race time; a drive-through or stop/go within three laps: at a stop the plan
    makes then (the decision's lap included) (a stop/go's standstill replaces the tyre change's), else an extra
    pass through the pit lane two laps after the decision; too late for that, added
    at the flag as the lane's cost.
    """
    rows, L = pit.shape
    lap_extra = np.zeros((rows, L))
    end_extra = np.zeros(rows)
    code = model.codes[car]
    lane = model.pit_loss_green_s - model.stationary_s  # a pass through the lane, no stop
    for pen in model.penalties:
        if pen.code != code:
            continue
        p = min(pen.lap, L)
        # Stops from the decision's lap on (race control numbers it by the leader's lap,
        # in progress: a car's stop at the end of that lap comes after the message).
        after = pit[:, p - 1:] if pen.kind == "time" else pit[:, p - 1:p + 3]
        has = after.any(axis=1)
        served = p - 1 + np.argmax(after, axis=1)
        if pen.kind == "time":
            cost_at_stop, cost_alone = pen.seconds, pen.seconds
        else:
            cost_at_stop = max(0.0, pen.seconds - model.stationary_s)
            cost_alone = lane + pen.seconds
        r = np.nonzero(has)[0]
        lap_extra[r, served[r]] += cost_at_stop
        if pen.kind == "time" or p + 2 > L:
            end_extra[~has] += cost_alone
        else:
            lap_extra[~has, p + 1] += cost_alone  # index p + 1 = lap p + 2
    return lap_extra, end_extra


def _draw_neutral(model: RaceModel, rng: np.random.Generator, runs: int) -> np.ndarray:
    """runs × laps neutralisation codes drawn from the circuit's per-lap rates."""
    L = model.total_laps
    out = np.zeros((runs, L), dtype=np.int8)
    u = rng.random((runs, L, 2))
    sc_len = max(1, round(model.sc_length_laps))
    for lap in range(1, L - 1):  # nothing starts on the last lap
        free = out[:, lap] == 0
        sc = free & (u[:, lap, 0] < model.sc_prob_per_lap)
        vsc = free & ~sc & (u[:, lap, 1] < model.vsc_prob_per_lap)
        for j in range(sc_len):
            if lap + j < L:
                out[sc, lap + j] = 1
        for j in range(2):
            if lap + j < L:
                out[vsc & (out[:, lap + j] == 0), lap + j] = 2
    return out


def run(
    model: RaceModel,
    strategies: Mapping[str, Strategy] | None,
    *,
    runs: int,
    seed: int,
    neutralisations: str = "actual",
    track: Sequence[str] = (),
    focus: tuple[int, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> SimResult:
    """Simulate; `focus` = (car, comp, age, pit) arrays `runs × laps` giving one car a
    strategy per run (the strategy search batches candidates into the runs)."""
    rng = np.random.default_rng(seed)
    n, L = len(model.codes), model.total_laps
    strategies = dict(strategies or {})
    for code, strat in strategies.items():
        if code not in model.codes or not set(strat.compounds) <= set(model.compounds):
            raise StrategyError(f"{code}: {strat} does not fit this race "
                                f"({', '.join(c.lower() for c in model.compounds)})")
    plans = [strategies.get(c, model.actual[c]) for c in model.codes]
    start_age = (model.start_tyre_age if model.start_tyre_age is not None else np.zeros(n)).copy()
    for k, c in enumerate(model.codes):
        if c in strategies and strategies[c].start != model.actual[c].start:
            start_age[k] = 0.0  # a different starting compound: assume a new set
    comp, age, pit = plan_arrays(model, plans, start_age)
    # Penalties: per car and lap (served in the pits) and at the flag.
    pen_lap = np.zeros((n, L))
    pen_end = np.zeros((1, n))
    pen_cars = sorted({model.codes.index(p.code) for p in model.penalties if p.code in model.codes})
    for i in pen_cars:
        pl, pe = penalty_arrays(model, i, pit[i:i + 1])
        pen_lap[i], pen_end[0, i] = pl[0], pe[0]
    focus_pen: tuple[np.ndarray, np.ndarray] | None = None
    if focus is not None and focus[0] in pen_cars:
        focus_pen = penalty_arrays(model, focus[0], focus[3])

    # Parameter uncertainty per run (drawn first: same for every strategy set).
    pace_sd = model.base_pace_sd_s if model.base_pace_sd_s is not None else np.full(n, 0.2)
    base = model.base_pace_s[None, :] + rng.standard_normal((runs, n)) * pace_sd[None, :]
    slope = model.deg_linear_s[None, :] + rng.standard_normal((runs, len(model.compounds))) \
        * model.deg_sd_s[None, :]
    dry = np.array([c not in model.slope_by_lap for c in model.compounds])
    slope = np.where(dry[None, :], np.maximum(slope, 0.0), slope)
    start_key = model.grid[None, :] + rng.standard_normal((runs, n)) * model.start_sd_positions
    pit_noise = rng.standard_normal((runs, n, MAX_STOPS))
    if neutralisations == "drawn":
        neutral = _draw_neutral(model, rng, runs)
        neutral_lap = None
    else:
        neutral = np.broadcast_to(model.neutralised[None, :], (runs, L))
        neutral_lap = model.neutral_lap_s

    # Rain on slicks, as it happened: per lap, added to cars on dry tyres.
    weather = np.zeros(L)
    if model.dry_lap_offset_s is not None:  # hazard: a model edited to other laps (bench)
        k = min(L, len(model.dry_lap_offset_s))
        weather[:k] = model.dry_lap_offset_s[:k]
    rows = np.arange(runs)[:, None]
    T = np.zeros((runs, n))
    stops_done = np.zeros((runs, n), dtype=np.int16)
    retire = model.retire_lap
    track_idx = {c: model.codes.index(c) for c in track}
    lap_pos = {c: np.zeros((runs, L), dtype=np.int16) for c in track}
    ref_green = float(np.median(model.base_pace_s))
    order = np.argsort(start_key, axis=1)

    for lap in range(1, L + 1):
        li = lap - 1
        c_l = np.broadcast_to(comp[None, :, li], (runs, n)).copy()
        a_l = np.broadcast_to(age[None, :, li], (runs, n)).copy()
        p_l = np.broadcast_to(pit[None, :, li], (runs, n)).copy()
        if focus is not None:
            car, fc, fa, fp = focus
            c_l[:, car], a_l[:, car], p_l[:, car] = fc[:, li], fa[:, li], fp[:, li]
        lt = (base + model.compound_offset_s[c_l] + slope[rows, c_l] * a_l
              + model.deg_quad_s[c_l] * a_l**2 + model.fuel_per_lap_s * (L - lap)
              + rng.standard_normal((runs, n)) * model.lap_noise_s[None, :])
        if weather[li]:
            lt = lt + np.where(dry[c_l], weather[li], 0.0)
        kind = neutral[:, li]
        prev_kind = neutral[:, li - 1] if li > 0 else np.zeros(runs, dtype=np.int8)
        green = kind == 0
        # Stops: loss by the lap's state, plus the stop-to-stop spread.
        loss = np.where(kind[:, None] == 0, model.pit_loss_green_s,
                        np.where(kind[:, None] == 2, model.pit_loss_vsc_s, model.pit_loss_sc_s))
        k_stop = np.minimum(stops_done, MAX_STOPS - 1)
        extra = loss + pit_noise[rows, np.arange(n)[None, :], k_stop] * model.pit_loss_sd_s
        lt = lt + np.where(p_l, np.maximum(extra, 0.3 * loss), 0.0)
        served = None
        if pen_cars:
            served = np.broadcast_to(pen_lap[None, :, li], (runs, n))
            if focus_pen is not None:
                served = served.copy()
                served[:, focus[0]] = focus_pen[0][:, li]  # type: ignore[index]
            lt = lt + served
        stops_done += p_l
        alive = retire[None, :] >= lap
        if lap == 1:
            # Standing start: first-lap order from the perturbed grid, spread by position.
            rank = np.empty_like(order)
            rank[rows, order] = np.arange(n)[None, :]
            T = lt + model.lap1_extra_s + rank * model.first_lap_gap_s
        else:
            Tn = T + lt
            # Neutralised laps: everyone runs the safety-car pace (the real leader's lap
            # when replaying the race), the field keeps its order; a SC bunches it up.
            slow = ~green
            if slow.any():
                if neutral_lap is not None and not np.isnan(neutral_lap[li]):
                    sc_time = np.full(runs, neutral_lap[li])
                else:
                    factor = np.where(kind == 2, model.vsc_lap_factor, model.sc_lap_factor)
                    sc_time = ref_green * factor + model.fuel_per_lap_s * (L - lap)
                Ts = np.take_along_axis(T, order, axis=1)
                lead = Ts[:, :1]
                # The first SC lap keeps the gaps (the SC has not caught the field yet,
                # so a stop then is cheap); bunched from the second lap on.
                first_sc = (kind != 2) & (prev_kind == 0)
                keep = (kind == 2) | first_sc
                bunched = np.where(keep[:, None], Ts + sc_time[:, None],
                                   lead + sc_time[:, None] + np.arange(n)[None, :] * SC_GAP_S)
                stop_t = np.where(p_l, extra, 0.0) + (served if served is not None else 0.0)
                pits = np.take_along_axis(stop_t, order, axis=1)
                Tb = np.empty_like(Tn)
                Tb[rows, order] = np.maximum.accumulate(bunched, axis=1) + pits
                Tn = np.where(slow[:, None], Tb, Tn)
            Tn = np.where(alive, Tn, T)
            # Overtaking rule, front to back, green laps only.
            Ts = np.take_along_axis(Tn, order, axis=1)
            lts = np.take_along_axis(lt, order, axis=1)
            prev_gap = np.diff(np.take_along_axis(T, order, axis=1), axis=1)
            thr = (model.pass_threshold_s + DIRTY_AIR_S
                   - model.drs_gain_s * (prev_gap < DRS_RANGE_S))
            ok = green[:, None] & (Ts[:, 1:] < RETIRED / 2)
            for k in range(1, n):
                ahead = Ts[:, k - 1]
                me = Ts[:, k]
                slower = lts[:, k - 1] - lts[:, k] < thr[:, k - 1]
                held = ok[:, k - 1] & (me < ahead + MIN_GAP_S) & slower
                Ts[:, k] = np.where(held, ahead + MIN_GAP_S, me)
            T = np.empty_like(Tn)
            T[rows, order] = Ts
        if lap == L and pen_cars:
            # Time penalties not served in the pits are added to the race time: the
            # official classification includes them.
            end = np.broadcast_to(pen_end, (runs, n))
            if focus_pen is not None:
                end = end.copy()
                end[:, focus[0]] = focus_pen[1]  # type: ignore[index]
            T = T + end
        # A retired car stops: behind every runner, ordered by laps completed.
        T = np.where(alive, T, RETIRED + (L - retire[None, :]) * 1e4 + np.arange(n)[None, :])
        order = np.argsort(T, axis=1, kind="stable")
        for c, i in track_idx.items():
            lap_pos[c][:, li] = np.argmax(order == i, axis=1) + 1

    positions = np.empty((runs, n), dtype=np.int64)
    positions[rows, order] = np.arange(1, n + 1)[None, :]
    times = np.where(T < RETIRED / 2, T, np.inf)
    return SimResult(codes=model.codes, positions=positions, race_times_s=times, seed=seed,
                     neutralisations=neutralisations, lap_positions=lap_pos)
