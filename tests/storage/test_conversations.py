"""Conversation memory rows on SQLite and PostgreSQL: round trip, replace, prune."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from storage.conversations import (
    ConversationState,
    conversation_exists,
    load_conversation,
    prune_conversations,
    save_conversation,
)
from storage.queries import DriverInfo, EventInfo

T0 = dt.datetime(2023, 9, 3, 15, 0, tzinfo=dt.UTC)
MONZA = EventInfo(14, 2023, 14, "Italian Grand Prix", "Formula 1 Pirelli Gran Premio d'Italia 2023",
                  "Italy", "Monza", "monza", "Autodromo Nazionale di Monza", dt.date(2023, 9, 3),
                  "conventional")
VER = DriverInfo(1, "max_verstappen", "VER", 1, "Max", "Verstappen", "Max Verstappen", "Dutch",
                 dt.date(1997, 9, 30))
PER = DriverInfo(11, "perez", "PER", 11, "Sergio", "Pérez", None, "Mexican", None)


def test_round_trip_replace_and_prune(engine: Engine) -> None:
    assert load_conversation(engine, "slack:T1:C1:1.2") is None
    state = ConversationState(turns=[("who won at Monza?", "Max Verstappen (VER) won.")],
                              event=MONZA, drivers=[VER, PER])
    save_conversation(engine, "slack:T1:C1:1.2", state, T0, max_turns=6)
    got = load_conversation(engine, "slack:T1:C1:1.2")
    assert got is not None
    assert got.turns == state.turns and got.event == MONZA and got.drivers == [VER, PER]
    assert got.updated_at == T0  # aware UTC, comparable with the service clock

    # A later save replaces the row and keeps only the last `max_turns` turns.
    state.turns += [(f"q{i}", f"a{i}") for i in range(7)]
    state.event, state.drivers = None, []
    save_conversation(engine, "slack:T1:C1:1.2", state, T0 + dt.timedelta(hours=1), max_turns=3)
    got = load_conversation(engine, "slack:T1:C1:1.2")
    assert got is not None and got.turns == [("q4", "a4"), ("q5", "a5"), ("q6", "a6")]
    assert got.event is None and got.drivers == []

    save_conversation(engine, "discord:1:2", ConversationState(turns=[("q", "a")]), T0, max_turns=6)
    assert prune_conversations(engine, T0 + dt.timedelta(minutes=30)) == 1
    assert not conversation_exists(engine, "discord:1:2")
    assert conversation_exists(engine, "slack:T1:C1:1.2")
