"""The LLM plan fallback against the fake OpenAI server and the real demo store.

The fake model returns a plan; the store must confirm every slot. Expected events,
drivers and teams come from the bundled raw Ergast CSV, not from our store.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.llm import LLMClient
from bot.llm_plan import known_intents, plan_with_llm
from bot.plan import QueryPlan
from bot.prompting import PromptRenderer
from storage.db import make_engine
from storage.store import Store
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

ERGAST = Path(__file__).resolve().parents[2] / "slipstream" / "demo_data" / "ergast"
NOW = dt.datetime(2023, 12, 1, 12, 0, tzinfo=dt.UTC)


def _csv(name: str) -> list[dict[str, str]]:
    with (ERGAST / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _race(year: int, name: str) -> dict[str, str]:
    return next(r for r in _csv("races") if r["year"] == str(year) and r["name"] == name)


def _driver(forename: str, surname: str) -> dict[str, str]:
    return next(d for d in _csv("drivers") if d["forename"] == forename and d["surname"] == surname)


@pytest.fixture
async def store(demo_store_url: str) -> AsyncIterator[Store]:
    engine = make_engine(demo_store_url)
    s = Store(engine)
    try:
        yield s
    finally:
        s.close()
        engine.dispose()


def plan_json(**slots: Any) -> str:
    """A plan as the model would send it: every key present (strict schema), nulls for unsaid."""
    base: dict[str, Any] = {
        "intent": "unknown", "seasons": [], "race": None, "session": None, "drivers": [], "teams": [],
        "lap": None, "lap_to": None, "position": None, "part": None, "metric": None, "scope": None,
        "compound": None, "month": None,
    }
    base.update(slots)
    return json.dumps(base)


def parsed(question: str, *unknown: str, focus: str = "unknown") -> QueryPlan:
    """What the rule parser left: the words it could not place."""
    return QueryPlan(text=question, focus=focus, unknown=list(unknown))


async def _plan(llm: LLMClient, renderer: PromptRenderer, store: Store, question: str,
                rules: QueryPlan) -> QueryPlan | None:
    return await plan_with_llm(llm, renderer, question, store=store, now=NOW, parsed=rules)


async def test_a_good_plan_is_validated_and_used(
    openai_server: FakeOpenAIServer, llm: LLMClient, renderer: PromptRenderer, store: Store,
) -> None:
    q = "who took the W at the temple of speed in 23"
    openai_server.script(plan_json(intent="winner", seasons=[2023], session="R",
                                   race={"said": "temple of speed", "name": "Italian Grand Prix"}))
    plan = await _plan(llm, renderer, store, q, parsed(q, "temple", "speed"))
    assert plan is not None
    row = _race(2023, "Italian Grand Prix")
    assert (plan.focus, plan.event.year, plan.event.round) == ("winner", 2023, int(row["round"]))  # type: ignore[union-attr]
    assert plan.session is not None and plan.session.type == "R" and plan.session.event.id == plan.event.id  # type: ignore[union-attr]
    assert "llm_plan" in plan.notes and "default_event" not in plan.notes
    assert {(s.text, s.slot) for s in plan.spans} == {("2023", "year"), ("temple of speed", "event")}

    # The request asked for a plan under the strict json_schema, with the question in its slot.
    (req,) = openai_server.requests
    fmt = req.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == set(schema["properties"])
    assert set(schema["properties"]["intent"]["enum"]) == set(known_intents())
    assert {"winner", "standings", "round_of", "race_date"} <= set(known_intents())
    assert "<question>\n" + q in req.messages[-1]["content"]
    assert req.body["temperature"] == 0.0 and not req.stream


async def test_nicknames_map_to_stored_drivers_and_teams(
    openai_server: FakeOpenAIServer, llm: LLMClient, renderer: PromptRenderer, store: Store,
) -> None:
    q = "how did the flying dutchman and the prancing horse do at monza 2023"
    openai_server.script(plan_json(
        intent="results", seasons=[2023], race={"said": "monza", "name": "Monza"},
        drivers=[{"said": "flying dutchman", "name": "Max Verstappen"}],
        teams=[{"said": "prancing horse", "name": "Ferrari"}]))
    plan = await _plan(llm, renderer, store, q, parsed(q, "flying", "dutchman", "prancing", "horse"))
    assert plan is not None
    ver = _driver("Max", "Verstappen")
    ferrari = next(c for c in _csv("constructors") if c["name"] == "Ferrari")
    assert [d.ref for d in plan.drivers] == [ver["driverRef"]] and plan.drivers[0].code == ver["code"]
    assert plan.teams == [(ferrari["constructorRef"], "Ferrari")]
    assert plan.event is not None and plan.event.round == int(_race(2023, "Italian Grand Prix")["round"])


async def test_no_race_named_defaults_like_the_parser(
    openai_server: FakeOpenAIServer, llm: LLMClient, renderer: PromptRenderer, store: Store,
) -> None:
    q = "who bagged pole lol"
    openai_server.script(plan_json(intent="pole"))
    plan = await _plan(llm, renderer, store, q, parsed(q, "bagged"))
    last = max((r for r in _csv("races") if r["year"] == "2023"), key=lambda r: int(r["round"]))
    assert plan is not None and plan.event is not None and plan.event.round == int(last["round"])
    assert plan.session_type == "Q" and "default_event" in plan.notes


BAD_PLANS = {
    "invented driver": plan_json(intent="results", drivers=[{"said": "the new guy", "name": "Joe Bloggs"}]),
    "driver nobody named": plan_json(intent="results", drivers=[{"said": "Lewis Hamilton", "name": "Lewis Hamilton"}]),
    "invented race": plan_json(intent="winner", race={"said": "the new guy", "name": "Atlantis Grand Prix"}),
    "season not held": plan_json(intent="winner", seasons=[2031]),
    "season not asked": plan_json(intent="winner", seasons=[2023]),
    "lap out of range": plan_json(intent="laps", lap=999),
    "position zero": plan_json(intent="results", position=0),
    "unknown intent": plan_json(intent="vibes"),
    "invented team": plan_json(intent="results", teams=[{"said": "the new guy", "name": "Brawn GP"}]),
    "month 13": plan_json(intent="races_in_month", month=13),
    "not json": "The winner was Max Verstappen.",
    "wrong shape": json.dumps(["winner"]),
}


@pytest.mark.parametrize("reply", list(BAD_PLANS.values()), ids=list(BAD_PLANS))
async def test_a_plan_that_does_not_validate_is_dropped(
    openai_server: FakeOpenAIServer, llm: LLMClient, renderer: PromptRenderer, store: Store, reply: str,
) -> None:
    q = "how did the new guy get on"
    assert "2023" not in q and "23" not in q and "hamilton" not in q.lower()
    openai_server.script(reply)
    assert await _plan(llm, renderer, store, q, parsed(q, "new", "guy")) is None
    assert len(openai_server.requests) == 1


@pytest.mark.parametrize("behaviour", [Behaviour(status=500), Behaviour(garbage=True), Behaviour(hang=True)])
async def test_model_failures_mean_no_plan(
    openai_server: FakeOpenAIServer, llm: LLMClient, renderer: PromptRenderer, store: Store,
    behaviour: Behaviour,
) -> None:
    openai_server.script(behaviour)
    assert await _plan(llm, renderer, store, "who won the thing", parsed("who won the thing", "thing")) is None
    assert llm.stats.failures == 1


async def test_the_model_is_not_asked_when_the_rules_understood(
    openai_server: FakeOpenAIServer, llm: LLMClient, renderer: PromptRenderer, store: Store,
) -> None:
    q = "who won at monza 2023"
    assert await _plan(llm, renderer, store, q, parsed(q, focus="winner")) is None
    assert await plan_with_llm(None, renderer, q, store=store, now=NOW, parsed=parsed(q, "x")) is None
    assert openai_server.requests == []
