"""Queue Track Pulse stories straight through `pulse_store.enqueue` (the planner that
names stories is another change): stored highlights and the messages telling them."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.pulse.types import Priority, PulseHighlight
from storage import pulse_store
from tests.pulse.conftest import TEAMS, add_race_session


def store_laps(engine: Engine, kind: str, laps: range, *, session_id: int | None = None,
               now: float = 0.0) -> list[pulse_store.StoredHighlight]:
    """One stored highlight per lap (a fastest lap improved, a battle moving on)."""
    sid = add_race_session(engine) if session_id is None else session_id
    hs = [PulseHighlight(key=f"{kind}:{lap}", kind=kind, lap=lap, priority=Priority.HIGH,
                         drivers=("LEC", "SAI")) for lap in laps]
    return pulse_store.save_highlights(engine, sid, hs, teams=TEAMS, now=now)


def told(channel: str, h: pulse_store.StoredHighlight, story: str | None,
         not_before: float = 0.0) -> pulse_store.Message:
    """The message for one highlight, with its text naming the lap."""
    return pulse_store.Message(channel_id=channel, highlights=(h,), text=f"{h.kind} lap {h.lap}",
                               not_before=not_before, story=story)
