"""Rain on slicks for the race model (pure numpy): the laps of a wet race where the
field on dry tyres ran far off the fitted model, replayed as they happened.

The lap-time model has no weather term; in a race that turned wet (Monaco 2023) the
laps on slicks in the rain are many seconds slow for every car on them. Found as
outliers of the field's per-lap median residual, they become a per-lap offset the
simulation adds to cars on dry tyres.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from bot.lab.types import WET_COMPOUNDS, LapRecord

# A lap whose field median on dry tyres is off the model by more than this many robust
# sds of the race's per-lap medians, and at least WEATHER_MIN_S, is a weather lap.
WEATHER_SDS = 4.0
WEATHER_MIN_S = 1.0
WET_NEAR_LAPS = 3  # a weather lap has a car on wet tyres within this many laps


def weather_offsets(recs: Sequence[LapRecord], resid: np.ndarray, L: int) -> np.ndarray:
    """Per lap: the field's median residual on DRY tyres where the race was wet (a car
    on wet tyres within `WET_NEAR_LAPS` laps) and that median is an outlier among the
    race's laps (beyond `WEATHER_SDS` robust sds and `WEATHER_MIN_S`): rain on slicks,
    shared by every car on them. Dry races get none (their slow laps are yellow flags
    and traffic, which the model leaves to its noise)."""
    by: dict[int, list[float]] = defaultdict(list)
    wet_lap: set[int] = set()
    for r, e in zip(recs, resid, strict=True):
        if r.compound in WET_COMPOUNDS:
            wet_lap.add(r.lap)
        else:
            by[r.lap].append(float(e))
    out = np.zeros(L)
    meds = {lap: float(np.median(v)) for lap, v in by.items() if len(v) >= 3}
    if len(meds) < 10 or not wet_lap:
        return out
    m = np.array(list(meds.values()))
    centre = float(np.median(m))
    scale = 1.4826 * float(np.median(np.abs(m - centre)))
    limit = max(WEATHER_MIN_S, WEATHER_SDS * scale)
    for lap, v in meds.items():
        near_wet = any(abs(lap - w) <= WET_NEAR_LAPS for w in wet_lap)
        if near_wet and abs(v - centre) > limit and 1 <= lap <= L:
            out[lap - 1] = v - centre
    return out


def carry_weather(weather: np.ndarray, wet_excess: np.ndarray, fitted_dry_laps: set[int]
                  ) -> np.ndarray:
    """Laps after a weather lap with (almost) nobody on slicks to measure: slicks are
    taken as quick as the wet tyres then (`wet_excess`: the best wet tyre's modelled
    pace over the dry reference, per lap), no quicker and no slower — the data say
    nothing more. What a car left out on slicks in a what-if faces, roughly."""
    out = weather.copy()
    carrying = False
    for k in range(1, len(out) + 1):
        if weather[k - 1]:
            carrying = True
        elif k in fitted_dry_laps:
            carrying = False
        elif carrying:
            out[k - 1] = max(0.0, float(wet_excess[k - 1]))
    return out
