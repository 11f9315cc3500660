"""Battle forecast: will the chaser catch and pass the car ahead? (pure, live-safe)

From the two cars' laps up to `lap` only: the rolling pace difference over their
last green laps, corrected for tyre age and compound (fuel burns alike for both on
the same laps, so it cancels in the difference but is removed all the same), then
projected forward with each car's degradation. A small Monte Carlo (fixed seed, so
the same laps give the same answer) draws the pace difference from its uncertainty
and lap noise: the gap closes lap by lap, and within DRS range a lap quicker than
the circuit's passing threshold (less DRS) is a pass.

The Monte Carlo's probability is then calibrated by a logistic layer (`calibrate`):
logit P = a + b * logit(P_sim) + c * log(passing rate), where the passing rate is the
on-track passes per 100 green car-laps of THIS race up to `lap`, shrunk towards the
circuit's rate in earlier stored races (`CircuitParams.pass_rate`). The raw simulation
was over-confident at both ends (backtest: 9% forecast, 25% observed; 61% forecast, 40%
observed), and how often cars pass in this race so far says more than grid-to-finish
history. `a, b, c` are fitted on the shared evaluation races; `slipstream lab backtest`
refits them leave-one-race-out and reports that score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from bot.lab.types import BattleForecast, CircuitParams, LapRecord, count_passes
from bot.pulse.state import LapRec

WINDOW = 5  # green laps in the rolling pace difference
DRAWS = 4000
HORIZON = 10
PASS_NOISE_SHARE = 1.0  # share of a lap's random noise that counts towards a pass
# Weight of the observed (corrected) pace difference: a chaser stuck in the car ahead's
# dirty air cannot show its pace, so what it shows says less than the tyre model.
OBS_WEIGHT = 0.5
DRS_RANGE_S = 1.0
_SEED = 16  # fixed: a forecast is a function of the laps, not of the moment
# Logistic calibration (a, b, c) on (1, logit P_sim(pass in 5), log passing rate), fitted by
# `bot.lab.backtest.fit_calibration` on the 142 battles of the 10 shared evaluation races
# (`slipstream lab backtest` prints the refit per left-out race next to these).
CALIBRATION = (-1.27, 0.66, 0.70)
# Weight of the circuit's rate against the race's own count, in hundreds of green
# car-laps (200 car-laps: about 10 laps of a full field), so a race's first laps say little.
RATE_PRIOR_WEIGHT = 2.0
RATE_FLOOR = 0.5  # passes per 100 car-laps: log() of a race with no pass yet stays finite
P_CLIP = (0.01, 0.99)  # the simulation's 0% and 100% (4,000 draws) are not certainties

# User-visible wording, kept together.
LIKELY = [(0.7, "likely"), (0.4, "possible"), (0.15, "unlikely"), (0.0, "very unlikely")]
LINE_QUICKER = ("{chaser} is {delta:.1f} s a lap quicker{tyres}: a pass is {word} within "
                "{when} ({p5:.0%} within 5 laps, {p10:.0%} within 10)")
LINE_SLOWER = ("{chaser} is {delta:.1f} s a lap slower than {leader}{tyres}: a pass is {word} "
               "({p5:.0%} within 5 laps, {p10:.0%} within 10)")
LINE_EVEN = ("{chaser} is on {leader}'s pace (within 0.05 s a lap){tyres}: a pass is {word} "
             "({p5:.0%} within 5 laps, {p10:.0%} within 10)")


def from_feed(laps: Iterable[LapRec], codes: Iterable[str] = ()) -> list[LapRecord]:
    """Track Pulse's feed laps (milliseconds) as Race Lab laps (seconds), optionally only
    those of `codes`: what the live detector hands to `battle_forecast`."""
    keep = {c.upper() for c in codes}
    return [
        LapRecord(code=r.driver, lap=r.lap,
                  lap_time_s=None if r.lap_time_ms is None else r.lap_time_ms / 1000.0,
                  compound=r.compound, tyre_life=r.tyre_life, stint=r.stint,
                  pit_in=r.pit_in_ms is not None, pit_out=r.pit_out_ms is not None,
                  position=r.position, track_status=r.track_status,
                  time_s=None if r.time_ms is None else r.time_ms / 1000.0)
        for r in laps if not keep or r.driver in keep
    ]


def _green(r: LapRecord) -> bool:
    status = r.track_status or "1"
    return (r.lap_time_s is not None and not r.pit_in and not r.pit_out and r.lap > 1
            and not any(d in status for d in "4567"))


def _corrected(r: LapRecord, p: CircuitParams, total_hint: int) -> float:
    comp = (r.compound or "MEDIUM").upper()
    age = float(r.tyre_life or 0)
    return (float(r.lap_time_s)  # type: ignore[arg-type]
            - p.degradation_s.get(comp, 0.06) * age - p.compound_offset_s.get(comp, 0.0)
            - p.fuel_per_lap_s * (total_hint - r.lap))


def pass_rate(params: CircuitParams, race_passes: tuple[int, int] | None) -> float:
    """Passes per 100 green car-laps: the race's own count so far (passes, car-laps) shrunk
    towards the circuit's rate, `RATE_PRIOR_WEIGHT` hundred car-laps of it."""
    passes, laps = race_passes or (0, 0)
    return (passes + RATE_PRIOR_WEIGHT * params.pass_rate) / (laps / 100.0 + RATE_PRIOR_WEIGHT)


def features(p_sim: float, rate: float) -> tuple[float, float, float]:
    """The calibration's inputs: (1, logit of the clipped simulated P, log passing rate)."""
    p = min(max(p_sim, P_CLIP[0]), P_CLIP[1])
    return 1.0, float(np.log(p / (1.0 - p))), float(np.log(max(rate, RATE_FLOOR)))


def calibrate(p_sim: float, rate: float,
              coef: tuple[float, float, float] = CALIBRATION) -> float:
    """The calibrated probability: monotone in `p_sim` (b > 0) and in the passing rate."""
    z = float(np.dot(coef, features(p_sim, rate)))
    return float(1.0 / (1.0 + np.exp(-z)))


def passes_so_far(laps: Iterable[LapRecord], lap: int) -> tuple[int, int]:
    """(on-track passes, green car-laps) of the race up to `lap`, from every car's laps:
    what `forecast` needs as `race_passes` (never a lap after `lap`)."""
    return count_passes(laps, up_to=lap)


def passes_up_to(table: dict[int, tuple[int, int]], lap: int) -> tuple[int, int]:
    """`passes_so_far` from a race's `passes_by_lap` table, counted once for many battles."""
    got = [v for n, v in table.items() if n <= lap]
    return sum(p for p, _ in got), sum(c for _, c in got)


def _word(p: float) -> str:
    return next(w for cut, w in LIKELY if p >= cut)


def forecast(laps_of_two: Sequence[LapRecord], *, chaser: str, leader: str, lap: int,
             params: CircuitParams, race_passes: tuple[int, int] | None = None,
             coef: tuple[float, float, float] = CALIBRATION) -> BattleForecast:
    """`race_passes`: (passes, green car-laps) of this race up to `lap` (`passes_so_far`);
    None: the circuit's rate alone. `coef`: the calibration (the backtest refits it)."""
    chaser, leader = chaser.upper(), leader.upper()
    mine = {r.lap: r for r in laps_of_two if r.code == chaser and r.lap <= lap}
    theirs = {r.lap: r for r in laps_of_two if r.code == leader and r.lap <= lap}
    total_hint = max([lap, *mine, *theirs])
    common = sorted(k for k in set(mine) & set(theirs) if _green(mine[k]) and _green(theirs[k]))
    use = common[-WINDOW:]
    diffs = np.array([_corrected(theirs[k], params, total_hint)
                      - _corrected(mine[k], params, total_hint) for k in use])
    if len(diffs) >= 2:
        # Median: one traffic lap must not flip the forecast.
        delta = float(np.median(diffs))
        sd = float(max(0.1, 1.4826 * np.median(np.abs(diffs - delta)) * 1.25 / np.sqrt(len(diffs))))
    elif len(diffs) == 1:
        delta, sd = float(diffs[0]), 0.5
    else:
        delta, sd = 0.0, 0.6
    cm, lm = mine.get(lap), theirs.get(lap)
    if cm is None or lm is None:
        cm = mine[max(mine)] if mine else None
        lm = theirs[max(theirs)] if theirs else None
    gap = 0.0
    if cm is not None and lm is not None and cm.time_s is not None and lm.time_s is not None:
        gap = max(0.0, float(cm.time_s - lm.time_s))
    age_c = int(cm.tyre_life or 0) if cm is not None else 0
    age_l = int(lm.tyre_life or 0) if lm is not None else 0
    comp_c = ((cm.compound if cm else None) or "MEDIUM").upper()
    comp_l = ((lm.compound if lm else None) or "MEDIUM").upper()
    deg_c = params.degradation_s.get(comp_c, 0.06)
    deg_l = params.degradation_s.get(comp_l, 0.06)
    ahead = np.arange(1, HORIZON + 1)
    # Raw pace difference on lap `lap + j`: the corrected difference plus what each
    # car's tyres will cost by then (offset + degradation at its age).
    offsets = params.compound_offset_s
    trend = (OBS_WEIGHT * delta + (offsets.get(comp_l, 0.0) - offsets.get(comp_c, 0.0))
             + deg_l * (age_l + ahead) - deg_c * (age_c + ahead))
    rng = np.random.default_rng(_SEED)
    z = rng.standard_normal((DRAWS, 1))
    noise = rng.standard_normal((DRAWS, HORIZON)) * params.lap_noise_s * np.sqrt(2)
    pace = trend[None, :] + z * sd + noise  # chaser's advantage on each lap ahead
    g = np.full(DRAWS, gap)
    passed_at = np.full(DRAWS, HORIZON + 1)
    for j in range(HORIZON):
        in_drs = g <= DRS_RANGE_S
        thr = params.pass_threshold_s + params.battle_extra_s - params.drs_gain_s * in_drs
        # A pass needs a pace edge on the lap; PASS_NOISE_SHARE of the lap's noise counts.
        edge = pace[:, j] - (1.0 - PASS_NOISE_SHARE) * noise[:, j]
        passes = in_drs & (edge > thr) & (passed_at > HORIZON)
        passed_at[passes] = j + 1
        # Held up behind: the gap cannot drop below a car's length of time.
        g = np.maximum(g - pace[:, j], 0.2)
    p5_sim = float((passed_at <= 5).mean())
    p10_sim = float((passed_at <= 10).mean())
    rate = pass_rate(params, race_passes)
    # One monotone map for both horizons keeps P(within 10) >= P(within 5).
    p5, p10 = calibrate(p5_sim, rate, coef), calibrate(p10_sim, rate, coef)
    cum = np.cumsum(trend)
    if gap <= DRS_RANGE_S:
        laps_to_drs: float | None = 0.0
    else:
        within = np.nonzero(gap - cum <= DRS_RANGE_S)[0]
        if len(within):
            laps_to_drs = float(within[0] + 1)
        elif trend[-1] > 0.02:
            laps_to_drs = float(np.ceil((gap - DRS_RANGE_S - cum[-1]) / trend[-1]) + HORIZON)
        else:
            laps_to_drs = None
    confidence = ("high" if len(use) >= 4 and abs(delta) > 2 * sd else
                  "medium" if len(use) >= 3 else "low")
    younger = age_l - age_c
    plural = "" if abs(younger) == 1 else "s"
    tyres = (f" on tyres {younger} lap{plural} younger" if younger > 0 else
             f" on tyres {-younger} lap{plural} older" if younger < 0 else "")
    if delta > 0.05:
        when_laps = passed_at[passed_at <= HORIZON]
        when = (f"{int(np.median(when_laps))} laps" if len(when_laps) and p10 >= 0.5
                else "10 laps")
        line = LINE_QUICKER.format(chaser=chaser, delta=delta, tyres=tyres, word=_word(p10),
                                   when=when, p5=p5, p10=p10)
    else:
        # "0.0 s a lap slower" reads as a contradiction next to "closing": say even pace.
        template = LINE_SLOWER if delta < -0.05 else LINE_EVEN
        line = template.format(chaser=chaser, leader=leader, delta=abs(delta), tyres=tyres,
                               word=_word(p5), p5=p5, p10=p10)
    return BattleForecast(
        chaser=chaser, leader=leader, lap=lap, gap_s=gap, pace_delta_s=delta, pace_delta_sd_s=sd,
        tyre_age_delta=younger, laps_to_drs=laps_to_drs, p_pass_5=p5, p_pass_10=p10,
        confidence=confidence, line=line, p_pass_5_sim=p5_sim, p_pass_10_sim=p10_sim,
        pass_rate=rate,
    )
