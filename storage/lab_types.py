"""Race Lab input records: one race's laps, stops, classification, neutralised laps and
the circuit's history, as `storage.lab_data.race_data` reads them.

Here in storage because storage builds them; the bot imports them through
`bot.lab.types`. Plain frozen values in seconds: picklable for a worker process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LapRecord:
    """One lap of one car, seconds (None where the timing had none)."""

    code: str
    lap: int
    lap_time_s: float | None
    compound: str | None = None
    tyre_life: int | None = None  # laps on this set at the end of the lap (FastF1)
    stint: int | None = None
    pit_in: bool = False  # in-lap
    pit_out: bool = False  # out-lap
    position: int | None = None  # at the end of the lap
    track_status: str | None = None  # FastF1 digits seen during the lap, e.g. "14"
    time_s: float | None = None  # session time at the end of the lap (gaps)


_NEUTRAL_DIGITS = "4567"  # FastF1 track status: SC, red flag, VSC (deployed / ending)


def passes_by_lap(laps: Iterable[LapRecord]) -> dict[int, tuple[int, int]]:
    """Per lap n: (on-track passes from lap n-1 to n, green car-laps counted).

    A pass is a swap of order between two cars that are both "clean" on laps n-1 and n:
    a position on each, neither on an in- or out-lap, lap n green (no SC/VSC/red digit)
    and after the start (n > 2). Counting swaps between clean pairs, not places gained,
    keeps a place gained by another car's stop or retirement out.
    """
    by: dict[str, dict[int, LapRecord]] = {}
    for r in laps:
        by.setdefault(r.code, {})[r.lap] = r
    clean: dict[int, list[tuple[int, int]]] = {}  # lap -> (position at n-1, at n) per car
    for mine in by.values():
        for n, r in mine.items():
            prev = mine.get(n - 1)
            if (n <= 2 or prev is None or r.pit_in or r.pit_out or prev.pit_in or prev.pit_out
                    or r.position is None or prev.position is None
                    or any(d in (r.track_status or "") for d in _NEUTRAL_DIGITS)):
                continue
            clean.setdefault(n, []).append((prev.position, r.position))
    out = {}
    for n, cars in clean.items():
        cars.sort()
        after = [b for _, b in cars]
        swaps = sum(after[i] > after[j] for i in range(len(after)) for j in range(i + 1, len(after)))
        out[n] = (swaps, len(cars))
    return out


def count_passes(laps: Iterable[LapRecord], up_to: int | None = None) -> tuple[int, int]:
    """On-track passes and green car-laps of one race up to lap `up_to` (all when None);
    see `passes_by_lap`.

    Why here: storage counts them for the circuit's earlier races and the bot for the
    race so far (live), and both must count alike.
    """
    table = passes_by_lap(r for r in laps if up_to is None or r.lap <= up_to)
    return sum(p for p, _ in table.values()), sum(c for _, c in table.values())


@dataclass(frozen=True, slots=True)
class StopRecord:
    code: str
    lap: int  # in-lap
    pit_lane_s: float | None = None  # FastF1: pit entry to exit
    duration_s: float | None = None  # Ergast official pit-lane time
    compound_after: str | None = None


@dataclass(frozen=True, slots=True)
class ClassifiedEntry:
    """A car's official outcome; `position` None when not classified."""

    code: str
    grid: int | None
    position: int | None
    position_order: int | None
    status: str | None
    laps: int | None  # laps completed
    time_s: float | None = None  # total race time (winner) where known


@dataclass(frozen=True, slots=True)
class CircuitHistory:
    """What earlier races at the same circuit say (history dump + stored stops)."""

    circuit_ref: str | None
    races: int = 0  # races at this circuit counted for the neutralisation rates
    safety_cars: int = 0  # periods over those races
    vscs: int = 0
    red_flags: int = 0
    laps: int = 0  # race laps over those races (per-lap rates)
    all_races: int = 0  # same counts over every circuit (the prior the rates shrink to)
    all_safety_cars: int = 0
    all_vscs: int = 0
    all_laps: int = 0
    pit_losses_s: tuple[float, ...] = ()  # pit-lane times of green stops at this circuit
    # mean |grid - finish| per classified car, one value per historical race here
    position_changes: tuple[float, ...] = ()
    first_lap_changes: tuple[float, ...] = ()  # mean |grid - lap-1 position| (stored laps)
    # (on-track passes, green car-laps) of each stored race here BEFORE this one (laps stored)
    stored_passes: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class PenaltyRecord:
    """A penalty the stewards decided during the race (a race-control message)."""

    code: str
    lap: int  # race lap of the decision
    seconds: float  # time penalty or stop/go stationary time (0 for a drive-through)
    kind: str  # "time" (served at the next stop, else added), "stop_go", "drive_through"


@dataclass(frozen=True, slots=True)
class RaceData:
    """Everything a race model is fitted from (built by `storage.lab_data.race_data`)."""

    year: int
    round: int
    event: str
    circuit_ref: str | None
    total_laps: int
    laps: tuple[LapRecord, ...]
    stops: tuple[StopRecord, ...]
    classification: tuple[ClassifiedEntry, ...]
    # (lap, kind) for each neutralised lap: kind in "SC", "VSC", "RED"
    neutralised: tuple[tuple[int, str], ...]
    history: CircuitHistory
    stints: Mapping[str, tuple[tuple[int, int, str | None], ...]] = field(default_factory=dict)
    penalties: tuple[PenaltyRecord, ...] = ()  # decided in the race, in message order

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.classification)
