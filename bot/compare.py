"""Pure lap statistics for head-to-heads: pace, consistency, sectors, ideal lap.

"Representative" laps exclude lap 1, in/out laps, deleted laps, and laps more
than 7% slower than the driver's median (safety car, traffic, incidents), so
the pace figures compare racing laps with racing laps.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from storage.queries import LapRow

SLOW_FACTOR = 1.07


@dataclass(frozen=True, slots=True)
class LapStats:
    laps_total: int
    laps_used: int
    median_ms: int | None
    mean_ms: int | None
    stdev_ms: int | None  # consistency: lower is steadier
    best_ms: int | None
    best_lap: int | None
    best_s1_ms: int | None
    best_s2_ms: int | None
    best_s3_ms: int | None

    @property
    def ideal_ms(self) -> int | None:
        """Best S1 + best S2 + best S3 (the 'ideal lap')."""
        parts = (self.best_s1_ms, self.best_s2_ms, self.best_s3_ms)
        return sum(parts) if all(p is not None for p in parts) else None  # type: ignore[misc]


def representative(laps: Sequence[LapRow]) -> list[LapRow]:
    timed = [
        lap
        for lap in laps
        if lap.lap_time_ms and lap.lap_number > 1 and not lap.pit_in and not lap.pit_out and not lap.deleted
    ]
    if not timed:
        return []
    median = statistics.median(lap.lap_time_ms for lap in timed)  # type: ignore[misc]
    return [lap for lap in timed if lap.lap_time_ms <= median * SLOW_FACTOR]  # type: ignore[operator]


def lap_stats(laps: Sequence[LapRow]) -> LapStats:
    used = representative(laps)
    times = [lap.lap_time_ms for lap in used if lap.lap_time_ms]
    valid = [lap for lap in laps if lap.lap_time_ms and not lap.deleted]
    best = min(valid, key=lambda lap: lap.lap_time_ms or 0, default=None)

    def best_of(attr: str) -> int | None:
        vals = [getattr(lap, attr) for lap in laps if getattr(lap, attr) and not lap.deleted]
        return min(vals) if vals else None

    return LapStats(
        laps_total=len(laps),
        laps_used=len(used),
        median_ms=int(statistics.median(times)) if times else None,
        mean_ms=int(statistics.fmean(times)) if times else None,
        stdev_ms=int(statistics.stdev(times)) if len(times) >= 2 else None,
        best_ms=best.lap_time_ms if best else None,
        best_lap=best.lap_number if best else None,
        best_s1_ms=best_of("s1_ms"),
        best_s2_ms=best_of("s2_ms"),
        best_s3_ms=best_of("s3_ms"),
    )


def common_lap_delta(a: Sequence[LapRow], b: Sequence[LapRow]) -> tuple[int, int] | None:
    """(mean of a − b over laps both drove representatively, number of such laps)."""
    ra = {lap.lap_number: lap.lap_time_ms for lap in representative(a)}
    rb = {lap.lap_number: lap.lap_time_ms for lap in representative(b)}
    common = sorted(set(ra) & set(rb))
    if not common:
        return None
    deltas = [ra[n] - rb[n] for n in common]  # type: ignore[operator]
    return int(statistics.fmean(deltas)), len(common)
