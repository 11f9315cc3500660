"""Conversation memory lives in the store: it survives a restart, is shared by several
bot processes on one database, and keeps both turns of a thread asked at once."""

from __future__ import annotations

import asyncio
import datetime as dt

from slipstream.wiring import build_app
from storage.conversations import ConversationState, load_conversation, save_conversation
from tests.core.conftest import NOW, ask, make_settings


async def test_follow_up_after_a_restart_keeps_the_subject(demo_url: str) -> None:
    first = build_app(make_settings(demo_url), clock=lambda: NOW)
    r = await ask(first, "who won the 2023 italian grand prix?", conversation_id="thread-9")
    assert "Verstappen" in r.text
    await first.aclose()

    restarted = build_app(make_settings(demo_url), clock=lambda: NOW)
    r = await ask(restarted, "and who set the fastest lap?", conversation_id="thread-9")
    assert "Piastri" in r.text and "1:25.072" in r.text  # Monza, not the default race
    state = load_conversation(restarted.engine, "thread-9")
    assert state is not None and [q for q, _ in state.turns] == [
        "who won the 2023 italian grand prix?", "and who set the fastest lap?"]
    assert state.event is not None and state.event.name == "Italian Grand Prix"
    await restarted.aclose()


async def test_two_processes_share_a_thread_and_the_newer_turn_wins(demo_url: str) -> None:
    """Two workers (say, Slack behind a load balancer) answer turns of one thread in turn."""
    a = build_app(make_settings(demo_url), clock=lambda: NOW)
    later = NOW + dt.timedelta(minutes=1)
    b = build_app(make_settings(demo_url), clock=lambda: later)
    r = await ask(a, "who won the 2023 italian grand prix?", conversation_id="t")
    assert "Verstappen" in r.text
    r = await ask(b, "and who won the 2023 singapore grand prix?", conversation_id="t")
    assert "Sainz" in r.text
    # `a` still holds its own (older) memory of the thread; the store's newer subject wins.
    r = await ask(a, "who was on the podium?", conversation_id="t")
    assert "Singapore" in r.text and "Norris" in r.text, r.text
    state = load_conversation(a.engine, "t")
    assert state is not None and len(state.turns) == 3
    await a.aclose()
    await b.aclose()


async def test_two_questions_of_one_thread_at_once_are_both_remembered(demo_url: str) -> None:
    app = build_app(make_settings(demo_url), clock=lambda: NOW)
    questions = ["who won the 2023 italian grand prix?", "who was on the podium at monza 2023?"]
    await asyncio.gather(*(ask(app, q, conversation_id="busy") for q in questions))
    state = load_conversation(app.engine, "busy")
    assert state is not None and sorted(q for q, _ in state.turns) == sorted(questions)
    await app.aclose()


async def test_idle_conversations_are_forgotten_and_memory_is_bounded(demo_url: str) -> None:
    app = build_app(make_settings(demo_url), clock=lambda: NOW)
    save_conversation(app.engine, "old", ConversationState(turns=[("q", "a")]),
                      NOW - dt.timedelta(days=31), max_turns=6)
    save_conversation(app.engine, "recent", ConversationState(turns=[("q", "a")]),
                      NOW - dt.timedelta(days=2), max_turns=6)
    for i in range(8):
        await ask(app, f"who won round {i + 1} of 2023?", conversation_id="long")
    assert load_conversation(app.engine, "old") is None
    assert load_conversation(app.engine, "recent") is not None
    state = load_conversation(app.engine, "long")
    assert state is not None and [q for q, _ in state.turns][-1] == "who won round 8 of 2023?"
    assert len(state.turns) == 6  # the last few turns, not the whole thread
    await app.aclose()
