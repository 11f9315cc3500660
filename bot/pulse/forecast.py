"""The battle forecast line of a Track Pulse battle highlight (issue 16, part 4).

Pure: `add_forecasts` reads the two cars' laps from the same feed the detectors read (up to
the lap the battle is told, never later) and calls the Race Lab's pure `battle_forecast`
with the circuit parameters the pipeline fitted; no I/O.

Why a step after detection and not inside `_battles`: one forecast is a small Monte Carlo
(~0.9 ms), and a race has ~25 battles, so inside the detector it took detection from ~4 ms
to ~25 ms a race (bench_pulse, target <= 10 ms). After detection it runs only for battles
not stored yet (`bot.pulse.pipeline.detect_session`): each battle is forecast once, when
it is first told, and a live lap with no new battle costs nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Sequence
from typing import Any

from bot.lab import CircuitParams, battle_forecast
from bot.lab.battle import from_feed, passes_up_to
from bot.pulse.state import RaceFeed
from bot.pulse.types import PulseHighlight
from storage.lab_types import passes_by_lap

log = logging.getLogger(__name__)


def pass_table(feed: RaceFeed) -> dict[int, tuple[int, int]]:
    """The race's on-track passes per lap (`storage.lab_types.passes_by_lap`), from every car's
    feed laps: counted once per detection step, each battle sums the laps up to its own."""
    return passes_by_lap(from_feed(feed.laps))


def battle_facts(feed: RaceFeed, chaser: str, leader: str, lap: int,
                 circuit: CircuitParams | None,
                 passes: dict[int, tuple[int, int]] | None = None) -> dict[str, Any]:
    """Facts for the highlight: the forecast's one line and its numbers ({} if it cannot be made).
    `passes`: `pass_table(feed)` when the caller has it (else counted here)."""
    # The same conversion the backtest uses (`bot.lab.battle.from_feed`), on laps up to `lap` only.
    laps = from_feed(r for n in range(1, lap + 1)
                     for r in (feed.by_lap.get(n, {}).get(chaser), feed.by_lap.get(n, {}).get(leader)) if r is not None)
    # The race's passes on laps up to `lap` only (a feed holding later laps gives the same).
    so_far = passes_up_to(pass_table(feed) if passes is None else passes, lap)
    try:
        fc = battle_forecast(laps, chaser=chaser, leader=leader, lap=lap,
                             model_or_circuit_params=circuit or CircuitParams(), race_passes=so_far)
    except Exception:  # the forecast is extra: the battle is told without it
        log.warning("battle forecast %s on %s at lap %d failed", chaser, leader, lap, exc_info=True)
        return {}
    return {
        "forecast": fc.line, "p_pass_5": round(fc.p_pass_5, 3), "p_pass_10": round(fc.p_pass_10, 3),
        "laps_to_drs": None if fc.laps_to_drs is None else round(fc.laps_to_drs, 1),
        "pace_delta_s": round(fc.pace_delta_s, 2), "forecast_confidence": fc.confidence,
    }


def add_forecasts(feed: RaceFeed, highlights: Sequence[PulseHighlight], circuit: CircuitParams | None, *,
                  skip: Collection[str] = ()) -> list[PulseHighlight]:
    """`highlights` with each battle (key not in `skip`) carrying its forecast facts, read
    from the laps up to the battle's lap (live and replay give the same line)."""
    out = []
    table: dict[int, tuple[int, int]] | None = None
    for h in highlights:
        if h.kind == "battle" and h.key not in skip and "forecast" not in h.facts:
            table = pass_table(feed) if table is None else table  # only when a battle needs it
            extra = battle_facts(feed, str(h.facts["behind"]), str(h.facts["ahead"]), h.lap, circuit,
                                 table)
            h = dataclasses.replace(h, facts={**h.facts, **extra})
        out.append(h)
    return out
