"""Schedule intents: which round, when, the weekend's sessions, sprints, races in a month, a season.

Slots read (set by the parser):
- `round_of`, `race_date`, `weekend` (Intent.event "race"): `plan.event`, or
  `plan.events` when a place held two races that season (both are answered).
  When the race was defaulted (nothing named) the next race on the stored
  calendar is used instead of the last one run: "when is the race?" asks ahead.
- `sprint_weekends`: `plan.year` (latest season held when none).
- `races_in_month`: `plan.month` (1-12) and `plan.year` (latest season held when none).
- `season_races`: `plan.years` (or `plan.year`; latest season held when none).

Session times: the context holds ISO UTC strings (JSON-able, the same facts the
LLM path gets). `render` writes them as UTC text (console, model); `timed_reply`
writes the same reply with `LocalTime` markers so Discord and Slack show each
reader's own time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot import format as f
from bot import messages as m
from bot.errors import UserError
from bot.intents import Ctx, Intent
from bot.model import LocalTime, Reply
from bot.plan import QueryPlan
from bot.upcoming import aware
from storage import calendar as cal
from storage.queries import EventInfo
from storage.store import Store

# --- user-visible strings (bot.intents.schedule)
ROUND_OF = "The **{label}**{where} {verb} round {round} of {rounds} of the {year} season ({date})."
RACE_DATE = "The **{label}**{where} (round {round} of {rounds}) {verb} on {date}{start}."
RACE_START = ", lights out at {at}"
RACE_NO_TIME = " (the start time is not in the data we hold)"
SESSION_LINE = "- {name}: {at}"
SESSION_NO_TIME = "time not in the data we hold"
NO_SESSION_TIMES = "The data we hold has no other sessions of this weekend"
NOT_YET = " yet."
UNTIMED_SESSIONS = "Also that weekend: {names} (their times are not in the data we hold)."
SPRINTS = "The {year} season {verb} {n} sprint weekend{s} (of {rounds} rounds): {events}."
SPRINTS_UNKNOWN = "The data we hold does not yet say which of rounds {rounds} have a sprint."
NO_SPRINTS = "The {year} season {verb} no sprint races in the data we hold ({rounds} rounds)."
MONTH_RACES = "Races in {month} {year}: {events}."
NO_MONTH_RACES = "No race of the {year} calendar falls in {month} ({rounds} rounds, {first} to {last})."
SEASON_RACES = "The {year} season {verb} {rounds} races{run}: from the {first} ({first_date}) to the {last} ({last_date})."
SEASON_RUN = " ({n} run so far)"
NEED_MONTH = "Which month? For example: races in june 2024."
BAD_MONTH = "There is no month {month}."
NO_CALENDAR = "I have no calendar for the {year} season."
DEFAULTED_NEXT = "_(no race named: the next one on the calendar)_"
DEFAULTED_LAST = "_(no race named: the latest one)_"
# Ergast's second-practice columns hold the sprint shootout (2023) and sprint qualifying
# (2024 on) on sprint weekends, so the history import stores them as "FP2".
SPRINT_SHOOTOUT = "Sprint Shootout"
SPRINT_QUALIFYING = "Sprint Qualifying"

_SESSION_ORDER = {"FP1": 0, "FP2": 1, "SQ": 2, "FP3": 3, "S": 4, "Q": 5, "R": 6}
_COMPETITIVE = ("SQ", "S", "Q", "R")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


# --------------------------------------------------------------------------- helpers


def _day(d: dt.date | None) -> str:
    """dt.date → "Sunday 3 September 2023"."""
    return f"{d:%A} {d.day} {d:%B %Y}" if d else "an unknown date"


def _short_day(iso: str | None) -> str:
    if not iso:
        return "date unknown"
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%b}"


def _event_ctx(e: EventInfo) -> Ctx:
    return {"year": e.year, "round": e.round, "name": e.name, "location": e.location,
            "country": e.country, "date": e.date.isoformat() if e.date else None}


def _when(e: EventInfo, now: dt.datetime) -> str:
    if e.date is None:
        return "future"
    return "past" if e.date < now.date() else "future"


async def _latest_season(store: Store) -> int:
    seasons = await store.seasons()
    if not seasons:
        raise UserError(m.NO_DATA)
    return seasons[0]


async def _season_events(store: Store, year: int) -> list[EventInfo]:
    events = await store.run(cal.season_events, year)
    if not events:
        raise UserError(NO_CALENDAR.format(year=year))
    return events


async def _next_event(store: Store, now: dt.datetime) -> EventInfo | None:
    """The first race on or after today on the stored calendar (None: the calendar ran out)."""
    today = now.date()
    for year in sorted(await store.seasons(), reverse=True)[:2]:
        upcoming = [e for e in await store.run(cal.season_events, year) if e.date and e.date >= today]
        if upcoming:
            return upcoming[0]
    return None


async def _races(store: Store, plan: QueryPlan, now: dt.datetime) -> tuple[list[EventInfo], str | None]:
    """The race(s) asked about, and how it was defaulted ("next" / "last" / None)."""
    if "default_event" in plan.notes:
        nxt = await _next_event(store, now)
        if nxt is not None:
            return [nxt], "next"
        if plan.event is not None:
            return [plan.event], "last"
    races = list(plan.events) if len(plan.events) > 1 else ([plan.event] if plan.event else [])
    if not races:
        raise UserError(m.CANT_ANSWER)
    return races, None


def _sessions(rows: list[cal.WeekendSession], e: EventInfo) -> list[Ctx]:
    """A weekend's sessions in running order, the sprint shootout / qualifying named as such."""
    types = {r.type for r in rows}
    # From 2023 a sprint weekend has no second practice: Ergast's FP2 slot is the sprint
    # shootout / qualifying. Dropped when the store holds that session under its own
    # type (FastF1's schedule, the better time), else shown under its real name.
    sprint_fp2 = e.year >= 2023 and "S" in types
    out = []
    for r in rows:
        typ, name = r.type, r.name
        if sprint_fp2 and typ == "FP2":
            if "SQ" in types:
                continue
            typ, name = "SQ", SPRINT_SHOOTOUT if e.year == 2023 else SPRINT_QUALIFYING
        start = aware(r.start_utc).astimezone(dt.UTC).isoformat() if r.start_utc else None
        out.append({"type": typ, "name": name, "start_utc": start})
    far = "9999-12-31T00:00:00+00:00"
    out.sort(key=lambda s: (s["start_utc"] or far, _SESSION_ORDER.get(s["type"], 9)))
    return out


# --------------------------------------------------------------------------- build


async def _build_weekend(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    races, defaulted = await _races(store, plan, now)
    out: list[Ctx] = []
    for e in races:
        rows = await store.run(cal.weekend_sessions, e.id)
        rounds = await store.run(cal.season_rounds, e.year)
        sessions = _sessions(rows, e)
        if plan.focus != "weekend":
            sessions = [s for s in sessions if s["type"] in _COMPETITIVE]
        race = next((s for s in sessions if s["type"] == "R"), None)
        out.append({"event": _event_ctx(e), "rounds": rounds, "when": _when(e, now), "sessions": sessions,
                    "race_start_utc": race["start_utc"] if race else None})
    return {"focus": plan.focus, "races": out, "defaulted": defaulted}


async def _build_round_of(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    races, defaulted = await _races(store, plan, now)
    out = [{"event": _event_ctx(e), "rounds": await store.run(cal.season_rounds, e.year), "when": _when(e, now)}
           for e in races]
    return {"focus": "round_of", "races": out, "defaulted": defaulted}


async def _build_sprints(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    year = plan.year or (plan.years[0] if plan.years else await _latest_season(store))
    events = await _season_events(store, year)
    sprints = await store.run(cal.sprint_events, year)
    types = await store.run(cal.session_types_by_round, year)
    # Sprints began in 2021. A round of which the store holds only the race (a future one,
    # from the history import) may still be a sprint weekend: say so, never "no sprint".
    unknown = [e.round for e in events if year >= 2021 and types.get(e.round, set()) <= {"R"}]
    return {"focus": "sprint_weekends", "year": year, "rounds": len(events),
            "over": _season_over(events, now), "events": [_event_ctx(e) for e in sprints],
            "format_unknown_rounds": unknown}


async def _build_month(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if plan.month is None:
        raise UserError(NEED_MONTH)
    if not 1 <= plan.month <= 12:
        raise UserError(BAD_MONTH.format(month=plan.month))
    year = plan.year or (plan.years[0] if plan.years else await _latest_season(store))
    events = await _season_events(store, year)
    in_month = await store.run(cal.events_in_month, year, plan.month)
    return {"focus": "races_in_month", "year": year, "month": plan.month, "month_name": _MONTHS[plan.month - 1],
            "rounds": len(events), "first": _event_ctx(events[0]), "last": _event_ctx(events[-1]),
            "events": [_event_ctx(e) for e in in_month]}


async def _build_season(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    years = list(plan.years) or ([plan.year] if plan.year else [await _latest_season(store)])
    held = set(await store.seasons())
    out = []
    for year in years:
        if year not in held:
            raise UserError(m.UNKNOWN_SEASON.format(year=year))
        events = await _season_events(store, year)
        run = sum(1 for e in events if e.date and e.date < now.date())
        out.append({"year": year, "rounds": len(events), "run": run, "over": _season_over(events, now),
                    "first": _event_ctx(events[0]), "last": _event_ctx(events[-1])})
    return {"focus": "season_races", "seasons": out}


def _season_over(events: list[EventInfo], now: dt.datetime) -> bool:
    last = events[-1].date if events else None
    return last is None or last < now.date()


# --------------------------------------------------------------------------- render

TimeFmt = Callable[[dt.datetime], str]


def _utc_text(at: dt.datetime) -> str:
    return LocalTime(marker="", at=at).fallback


def _where(e: Ctx) -> str:
    return f" ({e['location']})" if e.get("location") else ""


def _render_round_of(ctx: Ctx) -> str:
    lines = [ROUND_OF.format(label=f"{r['event']['year']} {r['event']['name']}", where=_where(r["event"]),
                             verb="was" if r["when"] == "past" else "is", round=r["event"]["round"],
                             rounds=r["rounds"], year=r["event"]["year"],
                             date=_day(dt.date.fromisoformat(r["event"]["date"])) if r["event"]["date"]
                             else _day(None))
             for r in ctx["races"]]
    return "\n".join(lines + _defaulted(ctx))


def _render_weekend(ctx: Ctx, at: TimeFmt = _utc_text) -> str:
    lines: list[str] = []
    for r in ctx["races"]:
        e = r["event"]
        start = r["race_start_utc"]
        lines.append(RACE_DATE.format(
            label=f"{e['year']} {e['name']}", where=_where(e), round=e["round"], rounds=r["rounds"],
            verb="was" if r["when"] == "past" else "is",
            date=_day(dt.date.fromisoformat(e["date"])) if e["date"] else _day(None),
            start=RACE_START.format(at=at(dt.datetime.fromisoformat(start))) if start else RACE_NO_TIME))
        others = [s for s in r["sessions"] if s["type"] != "R"]
        if others and not any(s["start_utc"] for s in others):
            # History before the official timetable columns: names without times.
            lines.append(UNTIMED_SESSIONS.format(names=", ".join(s["name"] for s in others)))
            continue
        for s in others:
            when = at(dt.datetime.fromisoformat(s["start_utc"])) if s["start_utc"] else SESSION_NO_TIME
            lines.append(SESSION_LINE.format(name=s["name"], at=when))
        if not others and ctx["focus"] == "weekend" and e["year"] >= 2021:
            lines.append(NO_SESSION_TIMES + (NOT_YET if r["when"] == "future" else "."))
    return "\n".join(lines + _defaulted(ctx))


def _defaulted(ctx: Ctx) -> list[str]:
    return {"next": [DEFAULTED_NEXT], "last": [DEFAULTED_LAST]}.get(ctx.get("defaulted") or "", [])


def _list_events(events: list[Ctx]) -> str:
    return ", ".join(f"{e['name']} (round {e['round']}, {_short_day(e['date'])})" for e in events)


def _render_sprints(ctx: Ctx) -> str:
    verb = "had" if ctx["over"] else "has"
    n = len(ctx["events"])
    unknown = ctx.get("format_unknown_rounds") or []
    if unknown:
        verb = "has had" if not ctx["over"] else verb
    if not n:
        text = NO_SPRINTS.format(year=ctx["year"], verb=verb, rounds=ctx["rounds"])
    else:
        text = SPRINTS.format(year=ctx["year"], verb=verb, n=n, s="" if n == 1 else "s", rounds=ctx["rounds"],
                              events=_list_events(ctx["events"]))
    if unknown:
        text += " " + SPRINTS_UNKNOWN.format(rounds=_rounds_text(unknown))
    return text


def _rounds_text(rounds: list[int]) -> str:
    """[19, 20, 21] → "19-21"; [3, 7] → "3, 7"."""
    if rounds == list(range(rounds[0], rounds[-1] + 1)) and len(rounds) > 2:
        return f"{rounds[0]}-{rounds[-1]}"
    return ", ".join(str(r) for r in rounds)


def _render_month(ctx: Ctx) -> str:
    if not ctx["events"]:
        return NO_MONTH_RACES.format(year=ctx["year"], month=ctx["month_name"], rounds=ctx["rounds"],
                                     first=_short_day(ctx["first"]["date"]), last=_short_day(ctx["last"]["date"]))
    return MONTH_RACES.format(month=ctx["month_name"], year=ctx["year"], events=_list_events(ctx["events"]))


def _render_season(ctx: Ctx) -> str:
    return "\n".join(
        SEASON_RACES.format(year=s["year"], verb="had" if s["over"] else "has", rounds=s["rounds"],
                            run="" if s["over"] else SEASON_RUN.format(n=s["run"]),
                            first=s["first"]["name"], first_date=_short_day(s["first"]["date"]),
                            last=s["last"]["name"], last_date=_short_day(s["last"]["date"]))
        for s in ctx["seasons"])


TIMED = ("race_date", "weekend")


def timed_reply(ctx: Ctx) -> Reply:
    """The `race_date` / `weekend` reply with each session time as a `LocalTime`
    (Discord `<t:…>`, Slack `<!date^…>`: every reader sees their own zone)."""
    times: list[LocalTime] = []
    text = _render_weekend(ctx, lambda at: f.local_time(at, times))
    return Reply(text=text, local_times=tuple(times))


INTENTS: dict[str, Intent] = {
    "round_of": Intent("round_of", _build_round_of, _render_round_of, event="race"),
    "race_date": Intent("race_date", _build_weekend, _render_weekend, event="race"),
    "weekend": Intent("weekend", _build_weekend, _render_weekend, event="race"),
    "sprint_weekends": Intent("sprint_weekends", _build_sprints, _render_sprints, event="none"),
    "races_in_month": Intent("races_in_month", _build_month, _render_month, event="none"),
    "season_races": Intent("season_races", _build_season, _render_season, event="none"),
}
