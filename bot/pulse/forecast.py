"""The battle forecast line of a Track Pulse battle highlight (issue 16, part 4).

Pure: `battle_facts` reads the two cars' laps the detector already holds (the feed, up to
the lap being told) and calls the Race Lab's pure `battle_forecast` with the circuit
parameters the pipeline passed in (`detect(..., circuit=...)`); no I/O. It runs once per
battle story (when the battle is first told), not every lap, so detection stays fast.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.lab import CircuitParams, LapRecord, battle_forecast
from bot.pulse.state import LapRec, RaceFeed

log = logging.getLogger(__name__)


def _record(r: LapRec) -> LapRecord:
    return LapRecord(
        code=r.driver, lap=r.lap,
        lap_time_s=r.lap_time_ms / 1000 if r.lap_time_ms is not None else None,
        compound=r.compound, tyre_life=r.tyre_life, stint=r.stint,
        pit_in=r.pit_in_ms is not None, pit_out=r.pit_out_ms is not None, position=r.position,
        track_status=r.track_status, time_s=r.time_ms / 1000 if r.time_ms is not None else None,
    )


def battle_facts(feed: RaceFeed, chaser: str, leader: str, lap: int,
                 circuit: CircuitParams | None) -> dict[str, Any]:
    """Facts for the highlight: the forecast's one line and its numbers ({} if it cannot be made)."""
    laps = [_record(r) for n in range(1, lap + 1)
            for r in (feed.by_lap.get(n, {}).get(chaser), feed.by_lap.get(n, {}).get(leader)) if r is not None]
    try:
        fc = battle_forecast(laps, chaser=chaser, leader=leader, lap=lap,
                             model_or_circuit_params=circuit or CircuitParams())
    except Exception:  # the forecast is extra: the battle is told without it
        log.warning("battle forecast %s on %s at lap %d failed", chaser, leader, lap, exc_info=True)
        return {}
    return {
        "forecast": fc.line, "p_pass_5": round(fc.p_pass_5, 3), "p_pass_10": round(fc.p_pass_10, 3),
        "laps_to_drs": None if fc.laps_to_drs is None else round(fc.laps_to_drs, 1),
        "pace_delta_s": round(fc.pace_delta_s, 2), "forecast_confidence": fc.confidence,
    }
