"""Resolver round 2: teams named in questions, the single gap between two drivers, the event index."""

from __future__ import annotations

import pytest

from bot.question import resolve_question
from bot.resolve import EventIndex, event_index
from slipstream.wiring import App
from storage.queries import match_events
from tests.core.conftest import NOW, ask


async def test_team_question_answers_with_the_teams_drivers(app: App) -> None:
    res = await resolve_question(app.store, "how did Ferrari do at monza 2023", now=NOW)
    assert [name for _, name in res.teams] == ["Ferrari"] and res.focus == "results"
    r = await ask(app, "how did Ferrari do at monza 2023")
    assert "**Ferrari**" in r.text
    assert "Carlos Sainz (SAI)** finished P3" in r.text and "Charles Leclerc (LEC)** finished P4" in r.text
    assert "Verstappen" not in r.text  # only the team's drivers, not the top 10
    r = await ask(app, "how did mclaren and red bull do at the 2023 italian gp?")
    assert "**McLaren**" in r.text and "**Red Bull Racing**" in r.text
    assert "Norris (NOR)** finished P8" in r.text and "Max Verstappen (VER)** finished P1" in r.text


async def test_gap_between_two_drivers_is_one_figure(app: App) -> None:
    r = await ask(app, "gap between VER and PER at monza 2023")
    assert "**PER** finished 6.064s behind **VER**" in r.text
    assert "Median lap" not in r.text  # not the whole head-to-head
    r = await ask(app, "what was the gap between Leclerc and Sainz at monza 2023?")
    # 11.377 - 11.193 from the stored gaps to the winner.
    assert "**LEC** finished 0.184s behind **SAI**" in r.text
    r = await ask(app, "gap between SAI and LEC in monza 2023 quali")
    assert "**SAI** was 0.067s faster than **LEC** in Q3" in r.text and "1:20.294 vs 1:20.361" in r.text
    # "compare" still gets the full head-to-head.
    r = await ask(app, "compare VER and PER at monza 2023")
    assert "Median lap" in r.text


async def test_event_index_matches_match_events_exactly(app: App) -> None:
    events = await app.store.events(None)
    index = EventIndex(events)
    phrases = ["monza", "italian", "italian gp", "italy", "ita", "mon", "emilia romagna", "united states",
               "las vegas", "vegas", "sao paulo", "abu dhabi", "abu", "spa", "grand prix", "red bull ring",
               "saudi", "jeddah", "british", "silverstone", "gp", "xyz", "the", "circuit", "marina bay",
               "miami international", "monaco", "mexico city", "baku", "zandvoort dutch"]
    for phrase in phrases:
        want = [(round(s, 6), e) for s, e in match_events(events, phrase)]
        got = [(round(s, 6), e) for s, e in index.match(phrase)]
        assert [s for s, _ in got] == [s for s, _ in want], phrase
        assert got[:1] == want[:1], phrase


async def test_indexes_are_built_once_per_data_version(app: App) -> None:
    a, _ = await event_index(app.store, None, today=NOW.date())
    b, _ = await event_index(app.store, None, today=NOW.date())
    assert a is b  # same data version -> the same index, no rebuild per question
    for _ in range(3):
        await resolve_question(app.store, "who won the 2023 italian grand prix?", now=NOW)
    c, _ = await event_index(app.store, None, today=NOW.date())
    assert c is a  # questions reuse it too. Time per question: bench/bench_core.py (p50 / p99).


@pytest.mark.parametrize("text", ["how did Ferari do at monza 2023"])
async def test_misspelled_team_is_not_a_crash(app: App, text: str) -> None:
    r = await ask(app, text)
    assert r.sent and "Traceback" not in r.text
