"""A question → a checked, complete `QueryPlan` (or a short reply saying what was not understood).

`bot.understand.parse_question` reads the words; this module settles the plan:
a follow-up takes the previous question's slots and changes only what it names;
named seasons, races and drivers are checked against the store; defaults (the
latest race, the current season) apply only when nothing was named, and are
noted so the reply names the race it used. Nothing here answers: it either
returns a plan the handlers can answer, or raises `UserError` with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot import messages as m
from bot.errors import UserError
from bot.intents import all_intents
from bot.plan import QueryPlan
from bot.resolve import _check_unknown_names, driver_index, event_index, team_keys
from bot.understand import names_a_place, normalise, parse_question, respell
from storage.conversations import ConversationState
from storage.queries import DriverInfo, EventInfo, driver_by_id, fold
from storage.store import Store

# What each of the first race-level answers (bot/answer.py) needs settled before it runs:
# "race" (a race, the latest with results by default), "laps" (a race with lap data),
# "none" (season or career level). The intents of bot/intents say it themselves (`Intent.event`).
_EVENT_NEEDS: dict[str, str] = {
    "winner": "race", "podium": "race", "pole": "race", "results": "race", "gap": "race",
    "fastest_lap": "race", "pitstops": "race", "stints": "laps", "laps": "laps", "compare": "laps",
    "pace": "laps", "weather": "laps", "flags": "race", "penalties": "laps",
    "whatif": "laps", "best_strategy": "laps", "battle": "laps",  # Race Lab (bot/lab_answer.py)
}
# Intents that cannot be answered without naming drivers (how many).
_DRIVERS_NEEDED = {"laps": 1, "compare": 2, "driver_lap": 1, "team_of": 1, "gap_to_pole": 1}
_QUALI_INTENTS = {"quali", "eliminated", "gap_to_pole", "pole"}
# Follow-up openers: the question changes one slot of the previous one.
_FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|what of|and what about|and how about|same for|same but|now|ok and|"
    r"also|then|and in|and for|and the)\b|^\s*(compare them|and\?)"
)
_PRONOUN = re.compile(r"\b(he|him|his|she|her|they|them|their|both|those two|these two|the two)\b")


class NotUnderstood(UserError):
    """Words of the question that name nothing we know: the reply says so. Carries the plan,
    so a configured model may still be asked to read the question (`bot.llm_plan`)."""

    def __init__(self, message: str, plan: QueryPlan) -> None:
        super().__init__(message)
        self.plan = plan


def event_need(intent: str) -> str:
    it = all_intents().get(intent)
    if it is not None:
        return it.event
    return _EVENT_NEEDS.get(intent, "none")


def plan_state(plan: QueryPlan) -> dict[str, Any]:
    """The slots a follow-up may keep (stored with the conversation, JSON)."""
    return {
        "focus": plan.focus, "year": plan.year, "years": plan.years, "session_type": plan.session_type,
        "position": plan.position, "part": plan.part, "metric": plan.metric, "scope": plan.scope,
        "compound": plan.compound, "standings_kind": plan.standings_kind, "round": plan.round,
        "teams": [list(t) for t in plan.teams], "lap_range": list(plan.lap_range) if plan.lap_range else None,
        "subject": plan.subject, "month": plan.month,
        "mentioned": [d.id for d in plan.drivers],
    }


async def resolve_question(
    store: Store, text: str, *, now: dt.datetime, prior: ConversationState | None = None
) -> QueryPlan:
    """Parse, merge with the conversation, check and complete the plan."""
    before = _prior_plan(prior)
    plan = await parse_question(store, text, now=now, prior=before)
    if plan.unknown and (fixed := respell(text, await _not_names(store, plan.unknown))) is not None:
        # Misspelt clue words ("winnr", "podim"): read the question again with them fixed.
        again = await parse_question(store, fixed, now=now, prior=before)
        if len(again.unknown) < len(plan.unknown):
            again.text = text
            again.notes.append(f"respelt:{fixed}")
            plan = again
    if before is not None:
        mentioned = await _mentioned(store, prior)
        aid = (prior.plan or {}).get("answered") if prior is not None else None
        answered = await store.run(driver_by_id, aid) if aid else None
        _follow_up(plan, before, mentioned, text, answered)
        await _same_race_other_year(store, plan, before)
        await _time_named_in_season(store, plan, before)
    if plan.focus in _QUALI_INTENTS and plan.session_type == "R":
        plan.session_type = "Q"
    await _check(store, plan, text, now)
    await _complete(store, plan, now)
    return plan


async def _time_named_in_season(store: Store, plan: QueryPlan, before: QueryPlan) -> None:
    """"first race of 1983?" → "and the last?": the race named by its place in time, in the
    conversation's season (the parser, reading the turn alone, took the latest season)."""
    named = {"last_race", "season_finale", "first_race"} & set(plan.notes)
    if not named or "follow_up" not in plan.notes or not before.year or any(sp.slot == "season" for sp in plan.spans):
        return
    if "first_race" in named:
        ev = await store.event_by_round(before.year, 1)
    else:
        ev = await store.last_event_with_results(year=before.year)
    if ev is not None:
        plan.event, plan.year, plan.years = ev, ev.year, [ev.year]


async def _same_race_other_year(store: Store, plan: QueryPlan, before: QueryPlan) -> None:
    """"and the year before?": the previous question's race, in the other season."""
    mark = next((n for n in plan.notes if n.startswith("same_race_in:")), None)
    if mark is None or before.event is None:
        return
    plan.notes.remove(mark)
    year = int(mark.split(":")[1])
    events = await store.events(year)
    same = [e for e in events if e.name == before.event.name] or \
        [e for e in events if e.circuit_ref and e.circuit_ref == before.event.circuit_ref]
    if not same:
        raise UserError(m.RACE_NOT_HELD.format(name=before.event.name, year=year, held=""))
    plan.event = same[0]
    plan.year = year


_BOLD = re.compile(r"\*\*([^*]+?)\*\*")


async def answered_driver(store: Store, reply: str, plan: QueryPlan) -> int | None:
    """The id of the one driver a reply names in bold, when it names exactly one other than
    the question's own (so "he" in the next turn can mean them)."""
    index = await driver_index(store, plan.year)
    found: set[int] = set()
    for name in _BOLD.findall(reply):
        d = index.names.get(fold(re.sub(r"\s*\([A-Z]{3}\)$", "", name)))
        if d is not None:
            found.add(d.id)
    found -= {d.id for d in plan.drivers}
    return found.pop() if len(found) == 1 else None


async def _not_names(store: Store, words: list[str]) -> list[str]:
    """The words that name no race (of any season) and no driver: only those may be respelt
    as clue words ("magny" is a place, not a misspelt "many")."""
    index, _ = await event_index(store, None)
    everyone = await driver_index(store, None)
    return [w for w in words if not names_a_place(index, w) and w not in everyone.names]


async def _mentioned(store: Store, prior: ConversationState | None) -> list[DriverInfo]:
    """Drivers of the last turns, newest first ("compare them" after two questions)."""
    if prior is None:
        return []
    out = list(prior.drivers)
    for did in (prior.plan or {}).get("mentioned") or []:
        if all(d.id != did for d in out):
            d = await store.run(driver_by_id, did)
            if d is not None:
                out.append(d)
    return out


def _prior_plan(prior: ConversationState | None) -> QueryPlan | None:
    if prior is None or not (prior.plan or prior.event or prior.drivers):
        return None
    p = prior.plan or {}
    plan = QueryPlan(text="", focus=p.get("focus") or "unknown")
    plan.year = p.get("year") or (prior.event.year if prior.event else None)
    plan.years = list(p.get("years") or [])
    plan.session_type = p.get("session_type") or "R"
    for k in ("position", "part", "metric", "scope", "compound", "round", "subject", "month"):
        setattr(plan, k, p.get(k))
    plan.standings_kind = p.get("standings_kind") or "drivers"
    plan.teams = [tuple(t) for t in p.get("teams") or []]  # type: ignore[misc]
    plan.lap_range = tuple(p["lap_range"]) if p.get("lap_range") else None  # type: ignore[assignment]
    plan.event = prior.event
    plan.drivers = list(prior.drivers)
    return plan


# Intents about a season or a career: a follow-up keeps the intent and changes the metric,
# the subject or the season ("and poles?", "what about lando?", "and the year before?").
_AGGREGATES = {"stat", "leaders", "first_win", "last_win", "titles"}
# Intents that need a season: a new question without one takes the conversation's.
_SEASON_LEVEL = {"champion", "standings", "points_gap", "can_win", "season_races", "sprint_weekends",
                 "races_in_month", "teammates", "quali_h2h"}
_NEEDS_SUBJECT = {"stat", "titles", "first_win", "last_win", "team_of", "teammates", "quali_h2h", "form"}
_BOTH = re.compile(r"\b(them|they|their|both|those two|these two|the two)\b")


def _follow_up(plan: QueryPlan, before: QueryPlan, mentioned: list[DriverInfo], text: str,
               answered: DriverInfo | None = None) -> None:
    """Keep the previous question's subject; change what this one names."""
    t = " ".join(normalise(text)[0])  # "how bout alonso" reads "how about alonso"
    short = len(t.split()) <= 6
    opener = bool(_FOLLOW_UP.search(t))
    pronoun = bool(_PRONOUN.search(t))
    bare = short and not (plan.event or plan.years or plan.drivers or plan.teams)
    # "his"/"them" point back only when this question names nobody itself ("vettel's first win"
    # or "when did vettel win his first race" is a new question).
    pronoun = pronoun and not (plan.drivers or plan.teams)
    # A count with no subject after a count about someone: "how many podiums tho".
    same_subject = not (plan.drivers or plan.teams or plan.event) and before.focus in _AGGREGATES and plan.metric
    # Just a name after a question about a race: "rubens?", "hakkinen?" — the same question about them.
    only_names = short and plan.focus == "form" and (plan.drivers or plan.teams) and not (plan.event or plan.years) \
        and "tag:form" not in plan.notes and event_need(before.focus) in ("race", "laps")
    # An intent about someone, with nobody named: the conversation's subject ("who was the other
    # driver there" after a question about Herbert).
    needs_subject = plan.focus in _NEEDS_SUBJECT and not (plan.drivers or plan.teams) and bool(
        before.drivers or before.teams)
    is_follow = opener or pronoun or same_subject or only_names or needs_subject or plan.focus == "unknown" or (
        bare and plan.focus in ("position", "results"))
    if not is_follow:
        # A complete new question keeps only the race (or the season) when it names none.
        named_time = {"last_race", "first_race", "season_finale"} & set(plan.notes)
        if plan.event is None and not plan.years and not named_time and before.event is not None and \
                event_need(plan.focus) in ("race", "laps") and plan.round is None:
            plan.event = before.event
            plan.year = before.event.year
            plan.notes.append("follow_up_event")
        if plan.focus in _SEASON_LEVEL and not plan.years and plan.event is None and before.year:
            plan.years, plan.year = [before.year], before.year
            plan.notes.append("follow_up_season")
        return
    plan.notes.append("follow_up")
    if pronoun and not plan.drivers:
        if _BOTH.search(t) and len(mentioned) >= 2:
            plan.drivers = list(mentioned[:2])
        elif answered is not None:
            plan.drivers = [answered]  # "he" = the driver the last answer named
        else:
            plan.drivers = list(before.drivers)
        if plan.focus == "season_races" and plan.drivers and plan.metric:
            plan.focus, plan.scope = "stat", "season"  # "how many races did he win that year"
    changed_subject = bool(plan.drivers or plan.teams)
    # The intent: this question's, unless it only changed a slot.
    if before.focus in _AGGREGATES and plan.event is None and (
        plan.metric or plan.focus in ("unknown", "form", "results", "pole", "podium", "winner")
    ):
        plan.focus = "stat" if before.focus == "titles" and plan.metric not in (None, "titles") else before.focus
        plan.metric = plan.metric or before.metric
        plan.scope = plan.scope or before.scope
    elif plan.focus in ("unknown", "form", "results") and before.focus not in ("unknown",) and not (
        plan.focus == "results" and "tag:finish" in plan.notes  # "where did he finish": a result, asked
    ):
        keep = before.focus
        if plan.focus == "results" and plan.position is None and before.focus in ("winner", "pole", "podium"):
            keep = "results" if changed_subject else before.focus
        if plan.position is not None and before.focus in ("winner", "position", "podium", "results", "pole"):
            keep = "position" if plan.position != 1 else ("pole" if plan.session_type == "Q" else "winner")
        plan.focus = keep
    if plan.focus == "winner" and plan.session_type == "Q" and before.focus == "winner":
        plan.focus = "pole"
    if plan.focus == "pole" and plan.session_type == "R" and "pole" not in t.split():
        plan.session_type = "Q"
    if plan.session_type == "R" and before.session_type != "R" and not any(s.slot == "session" for s in plan.spans):
        plan.session_type = before.session_type
    if plan.focus == "pole" and plan.session_type == "R" and any(s.slot == "session" for s in plan.spans):
        plan.focus = "winner"  # "and the main race?" after a pole question
    if plan.focus == "winner" and before.focus == "pole" and not any(sp.slot == "session" for sp in plan.spans):
        plan.session_type = "R"  # "who was on pole?" → "did they convert? who won": the race
    if not plan.drivers and not plan.teams:
        plan.drivers = list(before.drivers)
        plan.teams = list(before.teams)
    if plan.focus in ("compare", "gap", "points_gap") and len(plan.drivers) < 2 and len(mentioned) >= 2 and (
        _BOTH.search(t) or "compare" in t or "ahead" in t or "beat" in t or "apart" in t
    ):
        plan.drivers = list(mentioned[:2])  # "so who finished ahead", "who beat who", "how far apart"
    if plan.focus == "gap" and before.focus in ("standings", "points_gap") and len(plan.drivers) >= 2:
        plan.focus = "points_gap"
    for k in ("metric", "scope", "part", "compound", "month", "standings_kind"):
        if getattr(plan, k) in (None, "drivers") and getattr(before, k) is not None:
            setattr(plan, k, getattr(before, k))
    if plan.position is None and plan.focus == "position":
        plan.position = before.position
    if plan.lap_range is None and plan.focus in ("driver_lap", "leader_on_lap"):
        plan.lap_range = before.lap_range
    # The season: "and the year before?" moves the previous one; else keep it.
    race_level = event_need(plan.focus) in ("race", "laps")
    if plan.event is None and before.event is not None and race_level:
        if plan.years and plan.years[0] != before.event.year:
            plan.notes.append(f"same_race_in:{plan.years[0]}")
        elif not plan.years:
            plan.event = before.event
            plan.year = before.event.year
    if plan.focus == before.focus == "prediction" and plan.event is None and before.event is not None \
            and not plan.years and not set(t.split()) & {"title", "championship", "wdc", "wcc", "champion"}:
        plan.event, plan.year = before.event, before.event.year  # "and mclaren?": the same race's forecast
    if not plan.years and before.years and plan.event is None:
        plan.years = list(before.years)
        plan.year = before.year
    title_odds = plan.focus == before.focus == "prediction" and plan.scope == "season" and plan.event is None
    if (plan.focus in ("standings", "points_gap") or title_odds) and plan.round is None and before.round is not None \
            and plan.years == before.years:
        plan.round = before.round
    if plan.focus in ("standings", "champion", "points_gap", "can_win") and not plan.drivers and (
        plan.teams or t.split() and set(t.split()) & {"wcc", "constructors", "constructor", "teams", "team"}
    ):
        plan.standings_kind = "constructors"  # "and the constructors?"


async def _check(store: Store, plan: QueryPlan, text: str, now: dt.datetime, *, strict: bool = False) -> None:
    """Named things must exist; what was not understood is said, not skipped. `strict`: every
    left-over word counts (a command's arguments carry no chatter)."""
    seasons = await store.seasons()
    for y in plan.years:
        if y not in seasons and plan.focus not in ("unsupported", "prediction"):
            raise UserError(m.UNKNOWN_SEASON.format(year=y))
    if plan.focus == "unsupported":
        return
    words = set(fold(text).split())
    if plan.focus in _AGGREGATES and plan.drivers and plan.teams:
        # "hamilton's wins with ferrari": a count we can't filter by team yet; never the career total.
        raise UserError(m.NO_TEAM_FILTER.format(driver=plan.drivers[0].name, team=plan.teams[0][1]))
    if plan.focus in ("stat", "leaders") and words & {"which", "what", "where"} \
            and words & {"tracks", "track", "races", "circuits", "gps", "grands", "where"}:
        # "which tracks did senna win at in 1988": a list we don't give yet; never just the count.
        raise UserError(m.NO_LIST_YET)
    if len(plan.events) > 1:
        names = " or ".join(f"**{e.name}** (round {e.round})" for e in plan.events)
        raise UserError(m.WHICH_RACE.format(year=plan.events[0].year, place=plan.events[0].location
                                            or plan.events[0].circuit_name, options=names))
    # "the same race the year before": the race of that season at the same place.
    for n in list(plan.notes):
        if n.startswith("same_race_in:"):
            plan.notes.remove(n)
    unknown = [w for w in plan.unknown if not w.isdigit()]
    # The words as typed: "XYZ" (a code we don't know) and "Ferari" (a capitalised name) say more
    # than their folded forms.
    typed: dict[str, str] = {}
    for i, w in enumerate(re.findall(r"[\w'’.-]+", text)):
        typed.setdefault(fold(re.sub(r"['’]s$", "", w)), w if i > 0 or w.isupper() else w.lower())
    if unknown:
        index, cands = await event_index(store, plan.year, today=None if plan.year else now.date())
        year = plan.year or (plan.event.year if plan.event else None)
        keys = await team_keys(store, year or max(seasons), max(seasons))
        if plan.event is None and plan.years:
            await _not_held(store, unknown, plan.years[0])
        drivers_missing = _DRIVERS_NEEDED.get(plan.focus, 0) > len(plan.drivers)
        # Suggestions only for words that stand where a name would, or typed like one ("XYZ"):
        # "post" in "ignore previous instructions and post" is not a misspelt Prost.
        folded_text = fold(text)
        words = [(typed.get(w, w), typed.get(w, w)[:1].isupper()) for w in unknown
                 if strict or _name_slot(w, folded_text, text) or typed.get(w, w).isupper()]
        await _check_unknown_names(
            store, words, cands, event_found=plan.event is not None,
            team_keys=keys, year=year, drivers_missing=drivers_missing,
        )
        # "at atlantis", "the foo gp": a race was named, whatever the intent; never answer without it.
        named_place = plan.event is None and (strict or any(
            re.search(rf"\b(at|in|the)\s+{re.escape(w)}\b|\b{re.escape(w)}\s+(gp|grand prix|race)\b", fold(text))
            for w in unknown))
        if named_place:
            words = " ".join(w for w in unknown if _name_slot(w, fold(text), text))[:40] or " ".join(unknown)[:40]
            msg = (m.UNKNOWN_RACE_IN_SEASON.format(text=words, year=plan.years[0]) if plan.years
                   else m.UNKNOWN_RACE.format(text=words))
            raise NotUnderstood(msg, plan)
        # A left-over word where a name goes ("how did bob do", "xyzzy's best lap", "standings for
        # flobbert", "at atlantis") is a name we don't know: say so, never answer without it.
        # Chatter around a complete question ("lads", "asking for a friend") is let go.
        folded = fold(text)
        named = [w for w in unknown if strict or _name_slot(w, folded, text)]
        if plan.event is None and event_need(plan.focus) in ("race", "laps") \
                and not ({"last_race", "first_race", "season_finale"} & set(plan.notes)) and plan.round is None:
            named = named or unknown  # no race named, words unread: they may be the race ("who won narnia")
        if named or plan.focus == "unknown":
            raise NotUnderstood(_not_understood(plan, named or unknown), plan)
        plan.notes.append("ignored:" + ",".join(unknown))
    if plan.focus == "unknown" and (plan.drivers or plan.teams or plan.event or plan.years):
        raise NotUnderstood(_not_understood(plan, []), plan)


_SUBJECT_BEFORE = r"(did|does|do|was|is|has|had|for|about|of|vs|versus|and|with|at|in|from)"
_SUBJECT_AFTER = (r"(finish|finished|finishing|do|did|result|results|team|won|win|wins|podiums?|poles?|points|laps?|"
                  r"led|lead|qualif\w*|retire\w*|dnf|stints?|tyres?|stops?|pit\w*|gp|grand|race|pace|gap)")


def _name_slot(word: str, folded: str, text: str) -> bool:
    """Does this unknown word stand where a name would ("did bob", "bob's", "at atlantis")?"""
    w = re.escape(word)
    if re.search(rf"\b{w}['’]s\b", text, re.I):
        return True
    if re.search(rf"\b{_SUBJECT_BEFORE}\s+{w}\b", folded) or re.search(rf"\b{w}\s+{_SUBJECT_AFTER}\b", folded):
        return True
    typed = re.findall(rf"(?<!^)(?<![.!?]\s)\b{w}\b", text, re.I)
    return any(t[:1].isupper() for t in typed)


async def _not_held(store: Store, words: list[str], year: int) -> None:
    """A race named with a season it was not held in ("2020 monaco")."""
    index, _ = await event_index(store, None)
    phrases = [" ".join(words[i : i + n]) for n in (2, 1) for i in range(len(words) - n + 1)]
    for ph in phrases:
        found = index.match(ph)
        if found and found[0][0] >= 0.85:
            ev = found[0][1]
            years = sorted({e.year for s, e in found if s >= found[0][0] - 0.01 and e.name == ev.name})
            near = [y for y in years if abs(y - year) <= 3]
            held = f" It was held in {', '.join(map(str, near))}." if near else ""
            raise UserError(m.RACE_NOT_HELD.format(name=ev.name, year=year, held=held))


def _not_understood(plan: QueryPlan, unknown: list[str]) -> str:
    got = []
    if plan.drivers:
        got.append(", ".join(d.name for d in plan.drivers))
    if plan.teams:
        got.append(", ".join(n for _, n in plan.teams))
    if plan.event:
        got.append(f"the {plan.event.year} {plan.event.name}")
    elif plan.years:
        got.append(", ".join(map(str, plan.years)))
    understood = m.UNDERSTOOD.format(what="; ".join(got)) + " " if got else ""
    missing = m.NOT_UNDERSTOOD_WORDS.format(words=", ".join(f"'{w}'" for w in unknown[:4])) + " " if unknown else ""
    return (understood + missing + m.ASK_HINT).strip()


_SPLIT = re.compile(
    r"\?+\s+(?=\w)|\s+and\s+(?=(?:who|what|when|where|how|which|did|was|were|is|has|had|does)\b)", re.I)


def split_questions(text: str) -> list[str]:
    """The questions of one message: "who won monza 05 and who was on pole", "who had pole?
    did they win?". One part when nothing separates two questions."""
    parts = [p.strip(" ?!.,") for p in _SPLIT.split(text)]
    return [p for p in parts if p] if len(parts) > 1 else [text]


async def read_race_args(
    store: Store, text: str | None, *, now: dt.datetime, session_type: str | None = None,
    need_laps: bool = False,
) -> QueryPlan:
    """A command's free arguments ("monza 2023 VER laps 10-20", in any order) read by the same
    parser as questions: the race (defaulted as for questions), drivers, laps, session.
    `session_type` is the command's own choice, which a session named in the text overrides."""
    if re.fullmatch(r"\s*(the )?(last|latest|previous|most recent)\s*", text or "", re.I):
        text = "last race"  # "/f1 results last race": the command took "race" as its kind
    plan = await parse_question(store, text or "", now=now)
    plan.focus = "laps" if need_laps else "results"
    named = any(sp.slot == "session" for sp in plan.spans)
    if session_type is not None and not named:
        plan.session_type = session_type
    await _check(store, plan, text or "", now, strict=True)
    await _complete(store, plan, now)
    return plan


async def read_chart_args(store: Store, text: str | None, *, now: dt.datetime, kind: str) -> QueryPlan:
    """`/f1 chart <kind> …`'s free text read like a question: race or season, drivers, laps,
    team. Nothing is defaulted here: the chart takes the latest race with the data its kind
    needs (`bot.charts`), which a history-only race would not have."""
    if re.fullmatch(r"\s*(the )?(last|latest|previous|most recent)\s*", text or "", re.I):
        text = "last race"
    plan = await parse_question(store, text or "", now=now)
    plan.focus, plan.chart = "chart", kind
    if kind == "quali" and not any(sp.slot == "session" for sp in plan.spans):
        plan.session_type = "Q"
    await _check(store, plan, text or "", now, strict=True)
    await _complete(store, plan, now)
    return plan


_NEXT_ONLY = re.compile(r"\s*(the )?(next|upcoming|coming)( race| gp| grand prix| round| one)?\s*", re.I)


async def read_forecast_args(store: Store, text: str | None, *, now: dt.datetime) -> QueryPlan:
    """`/f1 predict [race]`'s text read like a forecast question: the race (its coming running
    when no season is named), drivers, teams. No race = the next one (`bot.forecast_answer`)."""
    if _NEXT_ONLY.fullmatch(text or ""):
        text = ""
    plan = await parse_question(store, text or "", now=now, forecast=True)
    plan.focus = "prediction"
    await _check(store, plan, text or "", now, strict=True)
    return plan


async def complete_plan(store: Store, plan: QueryPlan, now: dt.datetime) -> QueryPlan:
    """Defaults and the session for a plan made elsewhere (the model's, already validated)."""
    await _complete(store, plan, now)
    return plan


async def _complete(store: Store, plan: QueryPlan, now: dt.datetime) -> None:
    """Defaults where nothing was named; the session of the race."""
    need = event_need(plan.focus)
    if plan.focus == "standings" and plan.event is not None and plan.round is None:
        plan.round = plan.event.round
    if need in ("race", "laps") and plan.event is None:
        await _default_event(store, plan, need)
    if plan.event is not None and need == "none" and not plan.years:
        plan.scope = plan.scope or "circuit"  # "most wins at monaco": the place, every season
    elif plan.event is not None:
        plan.year = plan.event.year
        if plan.year not in plan.years:
            plan.years = [plan.year, *[y for y in plan.years if y != plan.year]]
        if need in ("race", "laps"):
            plan.session = await store.session_for(plan.event.id, plan.session_type)
    elif plan.years:
        plan.year = plan.years[0]


async def _default_event(store: Store, plan: QueryPlan, need: str) -> None:
    year = plan.year
    last_race = "last_race" in plan.notes
    ev: EventInfo | None = None
    if plan.round is not None and year is not None:
        ev = await store.event_by_round(year, plan.round)
        if ev is None:
            raise UserError(m.UNKNOWN_ROUND.format(round=plan.round, year=year))
    if ev is None and need == "laps" and not last_race:
        ev = await store.last_event_with_laps(year=year)
    if ev is None:
        ev = await store.last_event_with_results(year=year, session_type=plan.session_type)
    if ev is None:
        ev = await store.last_event_with_results(year=year)
    if ev is None:
        raise UserError(m.NO_DATA if year is None else m.UNKNOWN_SEASON.format(year=year))
    plan.event = ev
    plan.notes.append("default_event")
