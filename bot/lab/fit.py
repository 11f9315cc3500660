"""Fit a `RaceModel` from one race's `RaceData` (pure numpy/scipy).

Lap-time model on green-flag laps (lap 1, in/out laps, neutralised laps and the
lap after each excluded):

    t[d, lap] = base[d] + offset[compound] + slope[compound] * age + fuel * (L - lap) + e

fitted jointly by bounded least squares (`scipy.optimize.lsq_linear`) with Huber
weights (iteratively reweighted), so traffic laps pull little. Fuel and tyre age
are correlated inside a stint (both grow with the lap): only the reset of age at a
stop separates them, so both are BOUNDED to physical ranges (fuel 0.02–0.12 s a
lap; degradation ≥ 0.005 s a lap) rather than left to trade off into a negative
degradation. Everything else comes from the race itself, or from the circuit's
history shrunk to the all-circuit rate where the race has too little. A race that
turned wet also gets its rain-on-slicks laps (`bot.lab.weather`), and the stewards'
penalties pass through to the model as race control announced them.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.optimize import lsq_linear

from bot.lab.types import (
    DRY_COMPOUNDS,
    WET_COMPOUNDS,
    RaceData,
    RaceModel,
    Strategy,
    StrategyError,
    count_passes,
)
from bot.lab.weather import carry_weather, weather_offsets

FUEL_BOUNDS = (0.02, 0.12)  # s per lap of fuel burnt (≈ 0.03 s/kg × 0.7–4 kg a lap)
DEG_BOUNDS = (0.005, 0.5)  # s per lap of tyre age
REF_COMPOUND = "MEDIUM"
HUBER_K = 1.345
PASS_BASE_S = 0.7  # pace advantage to pass on a typical circuit (no DRS)
TYPICAL_CHANGES = 3.0  # mean |grid - finish| of a typical modern race
SHRINK_RACES = 5.0  # prior weight (in races) of the all-circuit neutralisation rate
_KIND_CODE = {"SC": 1, "VSC": 2, "RED": 3}


def _green_mask(data: RaceData) -> np.ndarray:
    neutral = {lap for lap, _ in data.neutralised}
    after = {lap + 1 for lap in neutral}
    return np.array([
        rec.lap_time_s is not None and rec.lap > 1 and not rec.pit_in and not rec.pit_out
        and rec.lap not in neutral and rec.lap not in after and rec.compound is not None
        and rec.tyre_life is not None and rec.lap_time_s < 300
        for rec in data.laps
    ], dtype=bool)


def _huber_lsq(X: np.ndarray, y: np.ndarray, lb: np.ndarray, ub: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounded least squares with Huber weights; returns (coef, residuals, weights)."""
    w = np.ones_like(y)
    coef = np.zeros(X.shape[1])
    for _ in range(4):
        sw = np.sqrt(w)
        coef = lsq_linear(X * sw[:, None], y * sw, bounds=(lb, ub), method="bvls").x
        r = y - X @ coef
        scale = 1.4826 * np.median(np.abs(r - np.median(r))) + 1e-6
        u = np.abs(r) / (HUBER_K * scale)
        w = 1.0 / np.maximum(u, 1.0)  # Huber: full weight inside k·scale, k·scale/|r| outside
    return coef, y - X @ coef, w


def fit(data: RaceData) -> RaceModel:
    """The race model of `data` (see module docstring)."""
    notes: list[str] = []
    codes = data.codes
    n = len(codes)
    L = max(1, data.total_laps)
    idx = {c: i for i, c in enumerate(codes)}
    green = _green_mask(data)
    recs = [r for r, g in zip(data.laps, green, strict=True) if g and r.code in idx]
    known = (*DRY_COMPOUNDS, *WET_COMPOUNDS)
    race_comps = sorted({r.compound for r in data.laps if r.compound in known}
                        | {c for s in data.stints.values() for _, _, c in s if c})
    race_comps = [c for c in race_comps if c in ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET")]
    if not race_comps:
        race_comps = [REF_COMPOUND]
    fitted = sorted({r.compound for r in recs}, key=race_comps.index) if recs else []
    ref = REF_COMPOUND if REF_COMPOUND in fitted else (fitted[0] if fitted else race_comps[0])
    ci = {c: i for i, c in enumerate(race_comps)}
    nc = len(race_comps)

    # Wet tyres' trend runs with the race lap from the race's first lap on them.
    wet_laps = [r.lap for r in data.laps if r.compound in WET_COMPOUNDS]
    wet_from = min(wet_laps) if wet_laps else 1
    weather = np.zeros(L)
    base = np.full(n, np.nan)
    base_sd = np.full(n, 0.3)
    noise = np.full(n, 0.6)
    offset = np.zeros(nc)
    slope = np.full(nc, 0.05)
    slope_sd = np.full(nc, 0.02)
    fuel = 0.055
    if len(recs) >= 3 * max(1, n):
        drv = np.array([idx[r.code] for r in recs])
        comp = np.array([ci[r.compound] for r in recs])  # type: ignore[index]
        lap = np.array([float(r.lap) for r in recs])
        # Wet tyres: the trend is the track drying (or wetting), shared by every car on
        # them, so their slope runs with the race lap (from the first wet lap), not
        # the set's age.
        age = np.array([float(r.lap - wet_from + 1) if r.compound in WET_COMPOUNDS
                        else float(r.tyre_life)  # type: ignore[arg-type]
                        for r in recs])
        y = np.array([float(r.lap_time_s) for r in recs])  # type: ignore[arg-type]
        # Columns: driver bases | compound offsets (ref excluded) | slopes | fuel
        off_cols = [c for c in range(nc) if race_comps[c] != ref]
        k = n + len(off_cols) + nc + 1
        X = np.zeros((len(y), k))
        X[np.arange(len(y)), drv] = 1.0
        for j, c in enumerate(off_cols):
            X[comp == c, n + j] = 1.0
        X[np.arange(len(y)), n + len(off_cols) + comp] = age
        X[:, -1] = L - lap
        wet = np.array([c in WET_COMPOUNDS for c in race_comps])
        wet_off = np.array([race_comps[c] in WET_COMPOUNDS for c in off_cols], dtype=bool)
        lb = np.r_[np.full(n, 0.0), np.where(wet_off, -30.0, -5.0),
                   np.where(wet, -2.0, DEG_BOUNDS[0]), FUEL_BOUNDS[0]]
        ub = np.r_[np.full(n, 1e4), np.where(wet_off, 30.0, 5.0),
                   np.where(wet, 2.0, DEG_BOUNDS[1]), FUEL_BOUNDS[1]]
        coef, resid, w = _huber_lsq(X, y, lb, ub)
        fuel = float(coef[-1])
        for j, c in enumerate(off_cols):
            offset[c] = coef[n + j]
        slope = coef[n + len(off_cols): n + len(off_cols) + nc].copy()
        counts = np.bincount(drv, minlength=n)
        sigma = 1.4826 * np.median(np.abs(resid))
        # Standard errors from the weighted normal equations (Huber weights as given).
        cov = np.linalg.pinv((X * w[:, None]).T @ X) * sigma**2
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        # A driver's base matters against the others': the error of the field's common
        # level (shared with the compound offsets and fuel) moves nobody past anybody,
        # so each base's spread is that of (base - field mean), not of the base alone.
        C = np.eye(n) - 1.0 / n
        rel_se = np.sqrt(np.clip(np.diag(C @ cov[:n, :n] @ C.T), 0, None))
        for c in range(nc):
            if not np.any(comp == c):
                slope[c] = np.nan  # filled from the other compounds below
            else:
                slope_sd[c] = max(0.005, float(se[n + len(off_cols) + c]))
        # Lap noise per driver net of what every car had on that lap (track evolution,
        # wind, a drying line): a shared slow lap moves nobody past anybody.
        lap_med = {int(k): float(np.median(resid[lap == k])) for k in np.unique(lap)}
        own = resid - np.array([lap_med[int(k)] for k in lap])
        for d in range(n):
            if counts[d] >= 3:
                base[d] = coef[d]
                base_sd[d] = max(0.05, float(rel_se[d]))
                rd = own[drv == d]
                noise[d] = float(np.clip(1.4826 * np.median(np.abs(rd - np.median(rd))), 0.15, 1.5))
    else:
        notes.append("too few green laps to fit: default pace model")
        times = [r.lap_time_s for r in recs if r.lap_time_s]
        base[:] = float(np.median(times)) if times else 90.0
    # Rain on slicks: laps where the field on dry tyres ran far off the model are
    # replayed as they happened (the fit's Huber weights already kept them from
    # pulling the paces; a refit without them was tried and fitted worse).
    if len(recs) >= 3 * max(1, n):
        weather = weather_offsets(recs, resid, L)
        if weather.any():
            notes.append(f"rain on slicks: {int(np.count_nonzero(weather))} laps replayed "
                         "as they happened for cars on dry tyres")
    # Compounds the race named but nobody ran green laps on: neighbours' values.
    dry_order = {"SOFT": 0, "MEDIUM": 1, "HARD": 2}
    for c, name in enumerate(race_comps):
        if np.isnan(slope[c]):
            known = [s for s in slope if not np.isnan(s)]
            slope[c] = float(np.mean(known)) if known else 0.05
            offset[c] = {0: -0.5, 1: 0.0, 2: 0.35}.get(dry_order.get(name, 1), 0.0)
            notes.append(f"no green laps on {name.lower()}: its degradation is the race average")
    missing = np.isnan(base)
    if missing.all():
        base[:] = 90.0
    elif missing.any():
        # Cars with too few green laps (retired early): the back of the field's pace.
        base[missing] = float(np.nanpercentile(base, 90))
        base_sd[missing] = 0.6

    if weather.any():
        dry_count: dict[int, int] = defaultdict(int)
        for r in recs:
            dry_count[r.lap] += r.compound not in WET_COMPOUNDS
        laps_x = np.arange(1, L + 1) - wet_from + 1
        wet_excess = np.min([offset[c] + slope[c] * laps_x for c, name in enumerate(race_comps)
                             if name in WET_COMPOUNDS and np.isfinite(slope[c])], axis=0)
        weather = carry_weather(weather, wet_excess,
                                {lap for lap, k in dry_count.items() if k >= 3})
    return _assemble(data, codes, base, base_sd, noise, fuel, race_comps, slope, slope_sd,
                     offset, notes, wet_from, weather)


def _assemble(data: RaceData, codes: tuple[str, ...], base: np.ndarray, base_sd: np.ndarray,
              noise: np.ndarray, fuel: float, comps: list[str], slope: np.ndarray,
              slope_sd: np.ndarray, offset: np.ndarray, notes: list[str], wet_from: int,
              weather: np.ndarray) -> RaceModel:
    n = len(codes)
    L = max(1, data.total_laps)
    h = data.history
    idx = {c: i for i, c in enumerate(codes)}
    cls = {c.code: c for c in data.classification}
    lap_of: dict[tuple[str, int], object] = {(r.code, r.lap): r for r in data.laps}

    # Grid: official grid, pit-lane starters (0) and unknowns at the back in order.
    grid_raw = np.array([cls[c].grid if cls[c].grid and cls[c].grid > 0 else 100 + i
                         for i, c in enumerate(codes)], dtype=float)
    grid = np.argsort(np.argsort(grid_raw)) + 1

    # Pit loss from this race's green stops: in-lap + out-lap over two predicted laps.
    neutral = dict(data.neutralised)
    ci_all = {c: i for i, c in enumerate(comps)}
    losses: list[float] = []
    for st in data.stops:
        if st.code not in idx:
            continue
        a, b = lap_of.get((st.code, st.lap)), lap_of.get((st.code, st.lap + 1))
        if a is None or b is None or a.lap_time_s is None or b.lap_time_s is None:  # type: ignore[attr-defined]
            continue
        d = idx[st.code]
        # Predicted in-lap (old set) and out-lap (new set, 1 lap old) at racing speed.
        pred = 2 * base[d] + fuel * (2 * L - 2 * st.lap - 1)
        for rec, lap_no in ((a, st.lap), (b, st.lap + 1)):
            comp = rec.compound  # type: ignore[attr-defined]
            if comp in ci_all:
                c = ci_all[comp]
                wet_tyre = comp in WET_COMPOUNDS
                x = float(lap_no - wet_from + 1) if wet_tyre else float(rec.tyre_life or 1)  # type: ignore[attr-defined]
                pred += offset[c] + slope[c] * x + (0.0 if wet_tyre else weather[lap_no - 1])
        loss = a.lap_time_s + b.lap_time_s - pred  # type: ignore[attr-defined]
        if not ({neutral.get(st.lap), neutral.get(st.lap + 1)} - {None}) and st.lap > 1:
            losses.append(loss)
    if len(losses) >= 3:
        arr = np.array(losses)
        med = float(np.median(arr))
        keep = np.abs(arr - med) < 3 * max(0.5, 1.4826 * float(np.median(np.abs(arr - med))))
        pit_green = float(np.median(arr[keep]))
        pit_sd = float(np.clip(np.std(arr[keep]), 0.5, 4.0))
    elif h.pit_losses_s:
        # Pit-lane time includes the distance the car would have driven anyway (~15%).
        pit_green = 0.85 * float(np.median(h.pit_losses_s))
        pit_sd = 1.0
        notes.append("pit loss from the circuit's stored pit-lane times")
    else:
        pit_green, pit_sd = 22.0, 1.5
        notes.append("pit loss: default 22 s")
    pit_green = float(np.clip(pit_green, 10.0, 45.0))
    # Under a SC the field runs slowly, so a stop costs about half; the VSC, with its
    # fixed delta, in between. (Stops made under a SC are not used to measure it: their
    # in/out laps are SC laps, so they would count the SC's slowness as pit loss.)
    pit_sc = 0.55 * pit_green
    pit_vsc = 0.7 * pit_green

    # Start: spread of first-lap position changes (mean |Δ| → sd of a normal: × √(π/2)).
    first = h.first_lap_changes or (1.5,)
    start_sd = float(np.clip(np.mean(first) * np.sqrt(np.pi / 2), 0.5, 4.0))

    # Passing difficulty: fewer grid→finish changes here than typical = harder to pass.
    passes, _ = count_passes(data.laps)
    sp = h.stored_passes
    stored_rate = 100.0 * sum(p for p, _ in sp) / sum(c for _, c in sp) if sp else None
    if h.position_changes:
        ratio = TYPICAL_CHANGES / max(0.5, float(np.mean(h.position_changes)))
        pass_thr = float(np.clip(PASS_BASE_S * ratio, 0.3, 3.0))
    else:
        pass_thr = PASS_BASE_S
        notes.append("passing difficulty: no circuit history, typical value")

    # Neutralisation rates: circuit counts per race shrunk to the all-circuit rate.
    def rate(here: int, races: int, all_count: int, all_races: int) -> float:
        prior = all_count / all_races if all_races else 0.5
        return (here + SHRINK_RACES * prior) / (races + SHRINK_RACES)

    sc_per_race = rate(h.safety_cars, h.races, h.all_safety_cars, h.all_races)
    vsc_per_race = rate(h.vscs, h.races, h.all_vscs, h.all_races)
    sc_len = 4.0

    neutral_arr = np.zeros(L, dtype=np.int8)
    for lap, kind in data.neutralised:
        if 1 <= lap <= L:
            neutral_arr[lap - 1] = _KIND_CODE.get(kind, 0)
    # Neutralised laps replay the leader's real lap: from the leader's line-crossing
    # times (lap times are often missing under a SC; a red flag's stoppage is in them).
    ends: dict[int, float] = {}
    for r in data.laps:
        if r.time_s is not None:
            ends[r.lap] = min(ends.get(r.lap, np.inf), r.time_s)
    leaders = {r.lap: r.lap_time_s for r in data.laps if r.position == 1}
    neutral_lap = np.full(L, np.nan)
    for lap, _kind in data.neutralised:
        if 2 <= lap <= L and lap in ends and lap - 1 in ends:
            neutral_lap[lap - 1] = ends[lap] - ends[lap - 1]
        elif 1 <= lap <= L and leaders.get(lap) is not None:
            neutral_lap[lap - 1] = leaders[lap]
    # A lap with a stoppage in it (red flag) whatever its status digits said.
    green_ends = [ends[k] - ends[k - 1] for k in range(2, L + 1) if k in ends and k - 1 in ends]
    if green_ends:
        med_lap = float(np.median(green_ends))
        for k in range(2, L + 1):
            if k in ends and k - 1 in ends and ends[k] - ends[k - 1] > 3 * med_lap:
                neutral_lap[k - 1] = ends[k] - ends[k - 1]
                neutral_arr[k - 1] = _KIND_CODE["RED"]
    def retired_at(c: str) -> int:
        e = cls[c]
        status = (e.status or "").lower()
        finished = status.startswith("finished") or status.startswith("+") or "lap" in status
        if finished or (e.laps or 0) >= L:
            return L
        return min(L, e.laps or 0)

    retire = np.array([retired_at(c) for c in codes], dtype=int)
    actual: dict[str, Strategy] = {}
    start_age = np.zeros(n)
    for i, c in enumerate(codes):
        try:
            actual[c] = Strategy.from_stints(data.stints.get(c, ()))
        except StrategyError:
            actual[c] = Strategy(REF_COMPOUND)
        r1 = lap_of.get((c, 1))
        if r1 is not None and r1.tyre_life is not None:  # type: ignore[attr-defined]
            start_age[i] = max(0, r1.tyre_life - 1)  # type: ignore[attr-defined]
        actual[c] = Strategy(actual[c].start if actual[c].start in comps else comps[0],
                             tuple((lap, cp if cp in comps else comps[0])
                                   for lap, cp in actual[c].stops if lap < L))
    official = np.array([cls[c].position or 0 for c in codes], dtype=int)
    winner = next((c for c in data.classification if c.position == 1), None)
    winner_time = winner.time_s if winner else None

    lap1_extra = 2.0
    if winner is not None and winner_time:
        wend = {r.lap: r.time_s for r in data.laps if r.code == winner.code and r.time_s}
        if 1 in wend and L in wend:
            w = idx[winner.code]
            lap1 = winner_time - (wend[L] - wend[1])  # type: ignore[operator]
            pred1 = base[w] + fuel * (L - 1) + float(offset[comps.index(actual[winner.code].start)])
            lap1_extra = float(np.clip(lap1 - pred1, 0.0, 30.0))
        else:
            notes.append("first lap: default 2 s over a green lap")
    green_leader = [t for lap, t in leaders.items() if t and lap > 1 and lap not in neutral]
    sc_factor, vsc_factor = 1.4, 1.3
    if green_leader:
        med = float(np.median(green_leader))
        sc_t = [leaders[lap] for lap, k in data.neutralised if k == "SC" and leaders.get(lap)]
        vsc_t = [leaders[lap] for lap, k in data.neutralised if k == "VSC" and leaders.get(lap)]
        if sc_t:
            sc_factor = float(np.clip(np.median(sc_t) / med, 1.1, 2.0))  # type: ignore[arg-type]
        if vsc_t:
            vsc_factor = float(np.clip(np.median(vsc_t) / med, 1.1, 2.0))  # type: ignore[arg-type]

    wet = any(c in ("INTERMEDIATE", "WET") for c in comps)
    return RaceModel(
        year=data.year, round=data.round, event=data.event, circuit_ref=data.circuit_ref,
        total_laps=L, codes=codes, grid=grid, base_pace_s=base, lap_noise_s=noise,
        fuel_per_lap_s=fuel, compounds=tuple(comps), deg_linear_s=np.asarray(slope, float),
        deg_quad_s=np.zeros(len(comps)), deg_sd_s=np.asarray(slope_sd, float),
        compound_offset_s=np.asarray(offset, float), pit_loss_green_s=pit_green,
        pit_loss_sc_s=pit_sc, pit_loss_vsc_s=pit_vsc, pit_loss_sd_s=pit_sd,
        start_sd_positions=start_sd, pass_threshold_s=pass_thr, drs_gain_s=0.4,
        sc_prob_per_lap=min(0.2, sc_per_race / L), vsc_prob_per_lap=min(0.2, vsc_per_race / L),
        sc_length_laps=sc_len, neutralised=neutral_arr, retire_lap=retire, actual=actual,
        official_position=official, winner_time_s=winner_time, is_wet=wet, notes=tuple(notes),
        start_tyre_age=start_age, neutral_lap_s=neutral_lap, lap1_extra_s=lap1_extra,
        base_pace_sd_s=base_sd, sc_lap_factor=sc_factor, vsc_lap_factor=vsc_factor,
        passes_per_race=float(passes), stored_pass_rate=stored_rate,
        slope_by_lap=tuple(c for c in comps if c in WET_COMPOUNDS),
        penalties=tuple(p for p in data.penalties if p.code in idx),
        wet_from_lap=wet_from, dry_lap_offset_s=weather,
    )

