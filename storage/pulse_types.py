"""What detectors return: a highlight with a stable key, a kind, a priority and facts.

Here in storage because storage persists them (highlights, subscription filters);
the bot imports them through `bot.pulse.types`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Ordered: a subscription's minimum priority keeps this level and the ones above."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2
    CRITICAL = 3

    @classmethod
    def parse(cls, value: str | int | Priority) -> Priority:
        if isinstance(value, Priority):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[str(value).strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown priority {value!r} (use low, medium, high or critical)"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


# Every kind a detector can emit, with a one-line description (help text, filters).
KINDS: dict[str, str] = {
    "start": "places gained or lost on the opening lap",
    "overtake": "an on-track pass (never a position change from pit stops)",
    "lead_change": "a new race leader",
    "battle": "two cars within about a second for several laps",
    "pit_stop": "a pit stop: tyres, time in the pit lane, places lost",
    "undercut": "an undercut or overcut and whether it worked",
    "fastest_lap": "a new fastest lap of the race",
    "retirement": "a car out of the race",
    "safety_car": "safety car deployed",
    "vsc": "virtual safety car deployed or ending",
    "red_flag": "session stopped",
    "restart": "green again after a safety car, VSC or red flag",
    "penalty": "a penalty from the stewards",
    "investigation": "an incident under investigation, or cleared",
    "weather": "rain starting or stopping, big track temperature swings",
    "stint": "notable stints: the longest, unusual tyre choices",
    "result": "the race result",
    "championship": "what the result means for the championship",
    "pole": "pole position",
    "knockout": "drivers knocked out in qualifying",
    "quali_surprise": "a surprise in qualifying",
    "preview": "a pre-race forecast: favourites with their chances",
}
# Kinds a channel gets only when it names them (`/f1 subscribe kinds=preview`): a forecast is
# not race news, so "all kinds" does not include it.
OPT_IN_KINDS = frozenset({"preview"})
# Internal kinds: stored like highlights, never shown or subscribed to (a digest window closed).
INTERNAL_KINDS = frozenset({"phase"})


@dataclass(frozen=True, slots=True)
class PulseHighlight:
    """One story. `key` is unique within the session and the same however the
    session was replayed (lap by lap or whole); `facts` are JSON-safe values
    the commentary templates are written from."""

    key: str
    kind: str
    lap: int
    priority: Priority
    drivers: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "lap": self.lap,
            "drivers": list(self.drivers),
            "priority": self.priority.label,
            "facts": self.facts,
        }
