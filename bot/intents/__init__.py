"""Intent handlers beyond the first race-level answers: one `Intent` per question kind.

Each module (`history`, `race`, `schedule`) exports `INTENTS: dict[str, Intent]`.
The parser (`bot.resolve`) picks the intent and fills the plan's slots (and the
race, defaulted when none was named, per `Intent.event`); `build` reads the store
for exactly the facts the reply needs and returns a JSON-able context dict (the
same dict the LLM path phrases); `render` turns it into the reply text and never
invents a figure. A handler that cannot answer what was asked raises
`bot.errors.UserError` with a short message saying what it understood and what
it does not hold — never an answer to another question.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.plan import QueryPlan
from storage.store import Store

Ctx = dict[str, Any]
Build = Callable[[Store, QueryPlan, dt.datetime], Awaitable[Ctx]]
Render = Callable[[Ctx], str]


@dataclass(frozen=True, slots=True)
class Intent:
    """One kind of question.

    `event` says what the parser must settle before `build` runs:
    "race" (a race; the latest with results when none is named), "laps" (a race
    with lap-by-lap data; the latest such when none is named), "none" (season or
    career level: the plan's years / drivers / teams are enough).
    """

    name: str
    build: Build
    render: Render
    event: str = "race"


@cache
def all_intents() -> dict[str, Intent]:
    """Every registered intent by name (imported here, not at module import: no cycles)."""
    from bot.intents import history, race, schedule

    out: dict[str, Intent] = {}
    for mod in (history, race, schedule):
        for name, it in mod.INTENTS.items():
            assert name not in out, f"intent {name} registered twice"
            out[name] = it
    return out
