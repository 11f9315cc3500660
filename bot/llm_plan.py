"""The LLM as a reader of last resort: it may turn a question into a PLAN, never into facts.

When the rule parser (`bot.resolve`) leaves meaningful words unaccounted for, or
finds no intent, and a model is configured, the model is asked for a plan only,
constrained to a JSON schema (the OpenAI `response_format` json_schema with
`strict`, which llama.cpp's server, vLLM and OpenAI enforce while decoding).

Why validate everything again: a small model under a schema still returns a
well-formed plan about a race that was not held, a driver nobody named, or lap
900. Every slot is checked against the store, and every name must be read from
words that are in the question (the model says which words: `said`), so the
model can map "the prancing horse" to Ferrari but cannot add Hamilton to a
question that never mentioned him. Anything that fails → None, and the caller
gives the usual "not understood" reply. The facts of the answer still come from
the store through the chosen intent.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from bot.errors import UserError
from bot.intents import all_intents
from bot.llm import LLMClient, LLMError
from bot.plan import METRICS, SCOPES, QueryPlan
from bot.prompting import PromptRenderer
from bot.question import complete_plan
from bot.resolve import resolve_driver, resolve_event
from storage.models import SESSION_TYPES
from storage.queries import DriverInfo, EventInfo, fold
from storage.store import Store

log = logging.getLogger(__name__)

# The race-level focuses answered by `bot.answer` (not registered as intents).
ANSWER_FOCUSES = ("winner", "podium", "pole", "results", "gap", "fastest_lap", "pitstops", "stints",
                  "laps", "compare", "weather", "flags", "penalties", "standings", "schedule", "form")
# Focuses of bot.answer that need no race (the parser answers them without defaulting one).
PARTS = ("Q1", "Q2", "Q3")
COMPOUNDS = ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET")
MAX_LAP = 200  # no Grand Prix has run longer; the session's own lap count narrows it
MAX_POSITION = 34  # the largest grid of the championship era (1953)
PLAN_MAX_TOKENS = 300
# Relative season words: a season the model infers from them is grounded in the question.
_RELATIVE_SEASON = re.compile(r"\b(last|this|previous|next|current|past) (year|season)\b|\byear before\b")


def known_intents() -> list[str]:
    """Every intent a plan may name: the registered handlers, then bot.answer's focuses."""
    names = list(all_intents())
    return names + [f for f in ANSWER_FOCUSES if f not in names]


def needs_model(parsed: QueryPlan) -> bool:
    """The rule parser left meaningful words unaccounted for, or found no intent."""
    return bool(parsed.unknown) or parsed.focus == "unknown"


# --------------------------------------------------------------------------- schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    out["type"] = [schema["type"], "null"]
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


def _named() -> dict[str, Any]:
    """A name the model read from the question: the words as typed, and what they name."""
    return {
        "type": "object",
        "properties": {"said": {"type": "string"}, "name": {"type": "string"}},
        "required": ["said", "name"],
        "additionalProperties": False,
    }


def plan_schema(intents: list[str]) -> dict[str, Any]:
    """The JSON schema of a plan (OpenAI strict mode: every key required, nulls for 'not said')."""
    props: dict[str, Any] = {
        "intent": {"type": "string", "enum": intents},
        "seasons": {"type": "array", "items": {"type": "integer"}},
        "race": _nullable({**_named(), "type": "object"}),
        "session": _nullable({"type": "string", "enum": list(SESSION_TYPES)}),
        "drivers": {"type": "array", "items": _named()},
        "teams": {"type": "array", "items": _named()},
        "lap": _nullable({"type": "integer"}),
        "lap_to": _nullable({"type": "integer"}),
        "position": _nullable({"type": "integer"}),
        "part": _nullable({"type": "string", "enum": list(PARTS)}),
        "metric": _nullable({"type": "string", "enum": list(METRICS)}),
        "scope": _nullable({"type": "string", "enum": list(SCOPES)}),
        "compound": _nullable({"type": "string", "enum": list(COMPOUNDS)}),
        "month": _nullable({"type": "integer"}),
    }
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def response_format(intents: list[str]) -> dict[str, Any]:
    return {"type": "json_schema",
            "json_schema": {"name": "query_plan", "strict": True, "schema": plan_schema(intents)}}


# --------------------------------------------------------------------------- the call


async def plan_with_llm(
    llm: LLMClient | None, renderer: PromptRenderer | None, question: str, *, store: Store,
    now: dt.datetime, parsed: QueryPlan,
) -> QueryPlan | None:
    """A validated plan from the model, or None (no model, nothing to add, a failure, or a
    plan that does not validate: the caller replies "not understood")."""
    if llm is None or renderer is None or not needs_model(parsed):
        return None
    intents = known_intents()
    seasons = await store.seasons()
    if not seasons:
        return None
    messages = [
        {"role": "system", "content": renderer.render("plan_system.md.j2")},
        {"role": "user", "content": renderer.render(
            "plan.md.j2", question=question, intents=intents, parsed=parsed.explain(),
            first_season=min(seasons), last_season=max(seasons), today=now.date().isoformat())},
    ]
    try:
        raw = await _complete_json(llm, messages, response_format(intents))
        data = json.loads(raw)
    except (LLMError, ValueError) as exc:
        log.info("llm plan: no usable reply (%s)", exc)
        return None
    plan = await validate_plan(store, question, data, now=now, seasons=seasons, intents=intents)
    if plan is None:
        log.info("llm plan rejected for %r: %s", question[:80], raw[:300])
    return plan


async def _complete_json(llm: LLMClient, messages: list[dict[str, str]], fmt: dict[str, Any]) -> str:
    """One non-streamed completion constrained to the plan schema."""
    return await llm.complete(messages, max_tokens=PLAN_MAX_TOKENS, temperature=0.0,  # type: ignore[arg-type]
                              response_format=fmt)


# --------------------------------------------------------------------------- validation


class _Reject(Exception):
    """One slot failed validation (internal: the whole plan is dropped)."""


def _said_in(question: str, said: object) -> str:
    """The words the model says it read, if they are in the question (else reject)."""
    if not isinstance(said, str) or not fold(said) or f" {fold(said)} " not in f" {fold(question)} ":
        raise _Reject(f"not in the question: {said!r}")
    return said


def _int(value: object, low: int, high: int, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Reject(f"{what} out of range: {value!r}")
    return value


def _choice(value: object, allowed: tuple[str, ...] | list[str], what: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise _Reject(f"{what} not allowed: {value!r}")
    return str(value)


def _season_grounded(year: int, question: str) -> bool:
    q = fold(question)
    return bool(re.search(rf"\b{year}\b|\b{year % 100:02d}\b", q)) or bool(_RELATIVE_SEASON.search(q))


async def validate_plan(
    store: Store, question: str, data: object, *, now: dt.datetime, seasons: list[int] | None = None,
    intents: list[str] | None = None,
) -> QueryPlan | None:
    """The model's plan as a `QueryPlan` whose every slot the store confirms, or None."""
    try:
        return await _validate(store, question, data, now, seasons or await store.seasons(),
                               intents or known_intents())
    except _Reject as exc:
        log.info("llm plan slot rejected: %s", exc)
        return None
    except UserError as exc:  # the resolver found no such race / driver
        log.info("llm plan name rejected: %s", exc.message)
        return None


async def _validate(
    store: Store, question: str, data: object, now: dt.datetime, held: list[int], intents: list[str],
) -> QueryPlan:
    if not isinstance(data, dict):
        raise _Reject("not an object")
    plan = QueryPlan(text=question, focus=_choice(data.get("intent"), intents, "intent") or "unknown")
    plan.notes.append("llm_plan")
    years = data.get("seasons") or []
    if not isinstance(years, list):
        raise _Reject("seasons not a list")
    for y in years:
        _int(y, min(held), max(held), "season")
        if y not in held or not _season_grounded(y, question):
            raise _Reject(f"season not held or not asked: {y!r}")
        plan.mapped(str(y), "year", y)
    plan.years = list(dict.fromkeys(years))
    plan.year = plan.years[0] if len(plan.years) == 1 else None

    race = data.get("race")
    if race is not None:
        if not isinstance(race, dict):
            raise _Reject("race not an object")
        said = _said_in(question, race.get("said"))
        plan.event = await _event(store, race.get("name"), plan.year, now)
        if plan.years and plan.event.year not in plan.years:
            raise _Reject(f"race {plan.event.label} is not in the seasons asked")
        plan.year = plan.event.year
        plan.mapped(said, "event", plan.event.label)

    plan.session_type = _choice(data.get("session"), list(SESSION_TYPES), "session") or (
        "Q" if plan.focus == "pole" else "R")
    plan.part = _choice(data.get("part"), PARTS, "part")
    plan.metric = _choice(data.get("metric"), METRICS, "metric")
    plan.scope = _choice(data.get("scope"), SCOPES, "scope")
    plan.compound = _choice(data.get("compound"), COMPOUNDS, "compound")
    plan.month = _int(data.get("month"), 1, 12, "month")
    position = data.get("position")
    plan.position = -1 if position == -1 else _int(position, 1, MAX_POSITION, "position")

    try:
        # Defaults and the session exactly as for a parsed question (one rule for both paths).
        await complete_plan(store, plan, now)
    except UserError as exc:
        raise _Reject(f"no race to default to: {exc.message}") from exc

    team_year = plan.year or max(held)
    for item in _names(data.get("drivers")):
        said = _said_in(question, item.get("said"))
        d = await _driver(store, item.get("name"), team_year)
        plan.drivers.append(d)
        plan.mapped(said, "driver", d.code or d.name)
    if data.get("teams"):
        teams = await store.constructors_in_season(team_year)
        for item in _names(data.get("teams")):
            said = _said_in(question, item.get("said"))
            team = _team(teams, item.get("name"))
            plan.teams.append(team)
            plan.mapped(said, "team", team[1])

    lap_max = (plan.session.total_laps if plan.session and plan.session.total_laps else MAX_LAP)
    lap = _int(data.get("lap"), 1, lap_max, "lap")
    lap_to = _int(data.get("lap_to"), 1, lap_max, "lap_to")
    if lap is not None:
        if lap_to is not None and lap_to < lap:
            raise _Reject("lap range backwards")
        plan.lap_range = (lap, lap_to if lap_to is not None else lap)
    elif lap_to is not None:
        raise _Reject("lap_to without lap")
    return plan


def _names(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Reject("names not a list of objects")
    return value


async def _event(store: Store, name: object, year: int | None, now: dt.datetime) -> EventInfo:
    if not isinstance(name, str) or not name.strip():
        raise _Reject("race without a name")
    return await resolve_event(store, name, year=year, now=now)


async def _driver(store: Store, name: object, year: int) -> DriverInfo:
    if not isinstance(name, str) or not name.strip():
        raise _Reject("driver without a name")
    return await resolve_driver(store, name, year=year)


def _team(teams: list[tuple[str, str]], name: object) -> tuple[str, str]:
    """The one team of the season whose name or ref holds `name` (e.g. "Red Bull")."""
    if not isinstance(name, str) or not fold(name):
        raise _Reject("team without a name")
    key = fold(name)
    exact = [t for t in teams if key in (fold(t[1]), fold(t[0].replace("_", " ")))]
    found = exact or [t for t in teams if f" {key} " in f" {fold(t[1])} " or f" {key} " in f" {fold(t[0].replace('_', ' '))} "]
    if len(found) != 1:
        raise _Reject(f"team {name!r} matches {len(found)} teams")
    return found[0]
