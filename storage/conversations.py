"""Conversation memory in the store (see `service_models.Conversation`).

Plain sync functions over an engine, run off the event loop by `storage.store.Store`.
The subject is kept as the typed objects the resolver uses (`EventInfo`,
`DriverInfo`), serialised field by field, so a follow-up needs no extra lookup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, select

from storage.db import upsert
from storage.queries import DriverInfo, EventInfo
from storage.service_models import Conversation

MAX_ID_LEN = 255


@dataclass(slots=True)
class ConversationState:
    """What the bot remembers of one conversation (oldest turn first)."""

    turns: list[tuple[str, str]] = field(default_factory=list)
    event: EventInfo | None = None
    drivers: list[DriverInfo] = field(default_factory=list)
    updated_at: dt.datetime | None = None  # when it was last saved
    # The last question's plan slots (intent, season, session, position, metric ...) as plain
    # JSON data, so "and who was second?" / "and poles?" change one slot and keep the rest.
    # Kept inside the `subject` JSON: older rows simply have none.
    plan: dict[str, Any] = field(default_factory=dict)


def _plain(obj: Any) -> dict[str, Any]:
    out = dataclasses.asdict(obj)
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in out.items()}


def _event(d: dict[str, Any]) -> EventInfo:
    return EventInfo(**{**d, "date": dt.date.fromisoformat(d["date"]) if d.get("date") else None})


def _driver(d: dict[str, Any]) -> DriverInfo:
    return DriverInfo(**{**d, "dob": dt.date.fromisoformat(d["dob"]) if d.get("dob") else None})


def load_conversation(engine: Engine, conversation_id: str) -> ConversationState | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(Conversation.turns, Conversation.subject, Conversation.updated_at).where(
                Conversation.id == conversation_id[:MAX_ID_LEN]
            )
        ).first()
    if row is None:
        return None
    subject = json.loads(row.subject) if row.subject else {}
    return ConversationState(
        turns=[(q, a) for q, a in json.loads(row.turns)],
        event=_event(subject["event"]) if subject.get("event") else None,
        drivers=[_driver(d) for d in subject.get("drivers", [])],
        updated_at=row.updated_at,
        plan=subject.get("plan") or {},
    )


def save_conversation(
    engine: Engine, conversation_id: str, state: ConversationState, now: dt.datetime, *, max_turns: int
) -> None:
    """Write the conversation (its last `max_turns` turns), replacing what was stored."""
    subject = {"event": _plain(state.event) if state.event else None,
               "drivers": [_plain(d) for d in state.drivers], "plan": state.plan}
    row = {
        "id": conversation_id[:MAX_ID_LEN],
        "turns": json.dumps(state.turns[-max_turns:], ensure_ascii=False),
        "subject": json.dumps(subject, ensure_ascii=False),
        "updated_at": now,
    }
    with engine.begin() as conn:
        upsert(conn, Conversation, [row], ["id"])


def conversation_exists(engine: Engine, conversation_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            select(Conversation.id).where(Conversation.id == conversation_id[:MAX_ID_LEN])
        ).first() is not None


def prune_conversations(engine: Engine, older_than: dt.datetime) -> int:
    """Forget conversations idle since before `older_than`; returns how many."""
    with engine.begin() as conn:
        return conn.execute(delete(Conversation).where(Conversation.updated_at < older_than)).rowcount
