"""Intents about one race weekend: positions, result detail, the lap story and qualifying.

Classification facts come from `storage.queries.results` (official beats timing;
a provisional order is said to be one); lap facts from the lap table, which only
FastF1-ingested races have — for any other race the reply says so and names the
races that have it, never a guess. Each `build` returns plain facts; each
`render` words them and never adds a figure.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from bot import format as f
from bot import messages as m
from bot.context import event_ctx, session_ctx
from bot.errors import UserError
from bot.intents import Ctx, Intent
from bot.plan import QueryPlan
from storage import queries as q
from storage import race_detail as rd
from storage.queries import Classification, DriverInfo, ResultRow
from storage.store import Store

# --------------------------------------------------------------------------- user-visible strings
SESSION_WORD = {"R": "race", "Q": "qualifying", "S": "sprint", "SQ": "sprint qualifying"}
NEED_RACE = "Which race? Name one, e.g. *monza 2023*."
NO_RESULTS = "I hold no results for the {title}."
NOT_IN_SESSION = "{driver} did not take part in the {title}. Those who did: {entrants}."
PROVISIONAL = "_Provisional: timing order before stewards' decisions; the official classification replaces it._"
NO_STATUS_YET = ("I only hold the provisional order of the {title} (timing data, before stewards' decisions): "
                 "no official statuses, grid or points yet.")
NEED_POSITION = "Which position? e.g. *who finished 5th at monza 2023*."
NOBODY_AT = "Nobody was classified P{pos} in the {title}: {n} cars were classified."
LAST_CLASSIFIED = "**{who}** was last classified in the {title}: P{pos} ({team})."
LAST_ON_SHEET = "Last on the sheet (not classified): **{who}**, {phrase}."
FINISHED_AT = "**{who}** {phrase} in the {title} ({team})."
QUALI_BEST = ", best time {time}"
QUALIFIED_AT = "**{who}** qualified P{pos} for the {title} ({team}){time}."
NO_POINTS_SESSION = "Only races and sprints award points; the {title} did not."
POINTS_HEAD = "Points scorers in the {title} ({n}):"
NO_POINTS_HELD = "I hold no points for the {title}."
GRID_NO_GRID = "I hold no starting grid for the {title}."
GRID_GAINED = "**{who}**: P{grid} on the grid → P{pos}, gained {n} place{s}."
GRID_LOST = "**{who}**: P{grid} on the grid → P{pos}, lost {n} place{s}."
GRID_SAME = "**{who}**: P{grid} on the grid → P{pos}, no change."
GRID_PIT_LANE = "**{who}** started from the pit lane and {phrase}."
GRID_DNF = "**{who}** started P{grid} and {phrase}."
GRID_NOT_STARTED = "**{who}** {phrase}."
GRID_GAINERS = "Biggest gains in the {title} (grid → finish, classified cars): {items}."
GRID_LOSERS = "Biggest losses: {items}."
GRID_NONE = "No classified car gained or lost places from its grid slot in the {title}."
GRID_ASIDE = "Not counted: {items}."
RETIRE_KIND = {"dnfs": "did not finish", "dns": "did not start", "dsq": "disqualified or excluded from"}
RETIRE_HEAD = "{kind} the {title} ({n}):"
RETIRE_NONE = {"dnfs": "Every car that started the {title} was classified: no retirements.",
               "dns": "Every entered car started the {title}.",
               "dsq": "Nobody was disqualified or excluded from the {title}."}
RETIRE_DRIVER = "**{who}** {phrase} in the {title}."
RETIRE_CLASSIFIED = "Classified although they stopped before the flag: {items}."
LAPS_DONE = "**{who}** completed {laps} of {total} laps in the {title} ({phrase})."
LAPS_DISTANCE = "The {title} ran over {total} laps (the winner's distance)."
LAPS_NONE = "I hold no lap count for the {title}."
NO_LAP_DATA = "I don't hold lap-by-lap data for the {title}; I hold it for {held}."
NO_LAP_DATA_AT_ALL = "I don't hold lap-by-lap data for the {title} (nor for any race yet)."
LAPS_LED_HEAD = "Laps led in the {title} (of {total}, leader at the end of each lap, from lap data): {items}."
LAPS_LED_DRIVER = "**{who}** led {n} of {total} laps in the {title} (leader at the end of each lap, from lap data)."
LEAD_CHANGES = ("{n} lead change{s} in the {title} (leader at the end of each lap, from lap data): "
                "{start} led lap 1{changes}.")
LEAD_NONE = "No lead changes in the {title}: {who} led every lap (from lap data)."
LEADER_ON_LAP = "**{who}** led at the end of lap {lap} of the {title} (from lap data)."
LAP_OUT_OF_RANGE = "The {title} had only {last} laps in the data I hold; there is no lap {lap}."
NEED_LAP = "Which lap? e.g. *who led lap 20 at monza 2023*."
NEED_DRIVER = "Which driver? e.g. *VER on lap 30 at monza 2023*."
DRIVER_LAP = "On lap {lap} of the {title}, **{who}** was {pos} with a {time}{tyre}{notes}."
DRIVER_LAP_NO_TIME = "On lap {lap} of the {title}, **{who}** was {pos} (no lap time recorded{tyre}){notes}."
DRIVER_NO_LAP = "**{who}** has no lap {lap} in the {title}: {phrase}."
BEST_LAP_DRIVER = "**{who}**'s best lap in the {title}{on}: {time} on lap {lap}{tyre}."
BEST_LAP_RESULTS = "**{who}**'s fastest lap in the {title}: {time}{lap} (rank {rank} of the race; official timing)."
BEST_LAP_QUALI = "**{who}**'s best time in the {title}: {time} (official qualifying times)."
BEST_LAP_NONE = "I hold no lap time for **{who}** in the {title}{on}."
FASTEST_ON = "**{who}** set the fastest lap of the {title}{on}: {time} on lap {lap}{tyre}."
FASTEST_NONE = "I have no fastest-lap data for the {title}."
NO_COMPOUND_DATA = "Tyre compounds are in lap-by-lap data only. {why}"
NO_STOPS = "I hold no pit stops for the {title}."
NO_STOPS_BEFORE_2011 = "I hold no pit stops for the {title}: the official pit-stop record starts in 2011."
STOPS_HEAD = "Pit stops in the {title}: {total} in all ({source}){excl}."
STOPS_GROUP = "- {label}: {who}"
STOPS_DRIVER = "**{who}** made {n} stop{s} in the {title}{laps}."
STOPS_EXCLUDED = "; stops in racing only: {n} pit-lane visit{s} under red flag not counted"
STOPS_SOURCE = {"pit_stops": "official pit-stop record", "timing": "pit stops from timing data",
                "stints": "from tyre stints in lap data"}
PITSTOP_FASTEST = "Fastest pit stop of the {title}: **{who}** on lap {lap}, {label}."
PITSTOP_AVERAGE = "Average {avg} over {n} stops{excl}."
PITSTOP_NOTE = {
    "official": "These are PIT-LANE times from the official record (pit entry to pit exit), "
                "not stationary times, which I don't hold.",
    "timing": "These are PIT-LANE times from timing data (pit entry to pit exit), "
              "not stationary times, which I don't hold.",
}
NOT_QUALI = "The {title} has no Q1/Q2/Q3 times."
RACES_ONLY = "I answer that for races and sprints; the {title} is neither."
PIT_RACES_ONLY = "I hold pit stops for races only; the {title} is not one."
OLD_FORMAT = ("Qualifying in {year} was not the Q1/Q2/Q3 knockout (that format began in 2006), "
              "so nobody went out in {part}.")
NO_PART_TIMES = "I hold no {part} times for the {title}."
QUALI_DRIVER = "**{who}** in the {title}: {times} — qualified P{pos}."
QUALI_TOPPED = "**{who}** topped {part} of the {title} with {time}."
QUALI_TOPS = "Fastest in each part of the {title}: {items}."
ELIMINATED = "Out in {part} of the {title} ({n}: no {next} time): {items}."
GAP_POLE = ("**{who}** was {gap} off pole in the {title}: {part} {time} vs {pole_who}'s pole {pole_time} "
            "({pole_part}); qualified P{pos}.")
GAP_ON_POLE = "**{who}** took pole for the {title} with {time}."
GAP_NO_TIME = "**{who}** set no qualifying time in the {title}."
H2H_HEAD = "{year} teammate head-to-head for {team}:"
H2H_QUALI = "- Qualifying: {a} {na}–{nb} {b} ({n} sessions both took part in)"
H2H_RACE = ("- Races: {a} {na}–{nb} {b} ({n} races both started; official order, a retirement counts "
            "as behind{prov})")
H2H_NONE = "I hold no {year} sessions in which {who} had a teammate."
H2H_NEED = "Whose head-to-head? Name a driver or a team and a season, e.g. *VER vs teammate 2023*."
H2H_NO_SEASON = "{who} has no {year} races in the data I hold."
STORY_WINNER = "**{who}** ({team}) won the {title}{grid}{margin}."
STORY_POLE = "Pole: **{who}**{time}."
STORY_START = "Start: {text}."
STORY_LEAD = "Lead changes: {n}{items}."
STORY_FLAGS = "Neutralisations ({source}): {items}."
STORY_NO_FLAGS = "No safety car, virtual safety car or red flag ({source})."
STORY_RETIRED = "Out of the race: {items}."
STORY_FASTEST = "Fastest lap: **{who}** {time}{lap}."
STORY_PENALTIES = "Penalties: {items}."
LAP_DATA_NOTE = "_Lap-by-lap story from timing data; results official._"
STORY_PROVISIONAL_WIN = "**{who}** leads the provisional order of the {title} ({team})."
STORY_FROM_POLE = " from pole"
STORY_FROM_GRID = " from P{grid} on the grid"
STORY_MARGIN = ", {gap} ahead of {who}"
STORY_LAP1 = "{who} led lap 1"
STORY_NO_CHANGES = "none"
LAST_PROVISIONAL = "**{who}** is last in the provisional order of the {title}: P{pos} ({team})."
QUALI_LAST = " — last on the sheet"
ON_TYRES = " on {compound} tyres"
TYRES_ASIDE = ", {compound} tyres"
PIT_IN, PIT_OUT = "pit in", "pit out"
THEIR_LAST = "{lap} (their last)"
UNPLACED = "unplaced in the timing"
NO_TIME_SET = "no time set"
ASIDE_PIT_LANE = "{code} started from the pit lane and {phrase}"
ASIDE_GRID = "{code} started P{grid} and {phrase}"
STOP_LABELS = {0: "No stop", 1: "One stop", 2: "Two stops", 3: "Three stops"}
STOP_LABEL_MANY = "{n} stops"



# --------------------------------------------------------------------------- shared pieces


def _title(plan: QueryPlan, stype: str | None = None) -> str:
    e = plan.event
    assert e is not None
    t = stype or (plan.session.type if plan.session else plan.session_type)
    base = f"{e.year} {e.name}"
    return base if t == "R" else f"{base} {SESSION_WORD.get(t, t)}"


def _who(d: DriverInfo) -> str:
    return f"{d.name} ({d.code})" if d.code else d.name


async def _classification(store: Store, plan: QueryPlan, types: tuple[str, ...] = ("R", "S", "Q", "SQ"),
                          wrong: str | None = None) -> Classification:
    """The session's resolved classification, or a clear reply when it is not held."""
    if plan.event is None:
        raise UserError(NEED_RACE)
    if plan.session is None:
        raise UserError(m.NO_SESSION.format(session=SESSION_WORD.get(plan.session_type, plan.session_type),
                                            event=f"{plan.event.year} {plan.event.name}"))
    if plan.session.type not in types:
        raise UserError((wrong or RACES_ONLY).format(title=_title(plan)))
    cls = await store.results(plan.session.id)
    if cls is None or not cls.rows:
        raise UserError(NO_RESULTS.format(title=_title(plan)))
    return cls


def _base(plan: QueryPlan, cls: Classification | None = None) -> Ctx:
    assert plan.event is not None
    out: Ctx = {"event": event_ctx(plan.event), "title": _title(plan),
                "provisional": bool(cls and cls.provisional)}
    if plan.session is not None:
        out["session"] = session_ctx(plan.session)
    return out


def _row(r: ResultRow) -> Ctx:
    return {
        "who": _who(r.driver), "code": r.driver.code, "driver_id": r.driver.id, "team": r.team_name,
        "pos": r.position, "pos_cell": f.pos_cell(r.position, r.position_text, r.outcome),
        "grid": r.grid, "pit_lane_start": r.pit_lane_start, "started": r.started, "status": r.status,
        "laps": r.laps, "points": f.points(r.points) if r.points is not None else None,
        "outcome": r.outcome, "provisional": r.provisional,
        "phrase": f.result_phrase(r.outcome, r.position, r.status, r.laps),
    }


def _pick(cls: Classification, drivers: list[DriverInfo], title: str) -> tuple[list[ResultRow], list[str]]:
    """The named drivers' rows, and a line for each named driver who was not in the session."""
    by_id = {r.driver.id: r for r in cls.rows}
    entrants = ", ".join(r.driver.short for r in cls.rows)
    rows, absent = [], []
    for d in drivers:
        if d.id in by_id:
            rows.append(by_id[d.id])
        else:
            absent.append(NOT_IN_SESSION.format(driver=_who(d), title=title, entrants=entrants))
    return rows, absent


def _tail(ctx: Ctx, text: str) -> str:
    """Lines about absent drivers and the provisional note, after the answer."""
    lines = [text] if text else []
    lines += ctx.get("absent") or []
    if ctx.get("provisional"):
        lines.append(PROVISIONAL)
    return "\n".join(lines)


def _official_or_raise(cls: Classification, title: str) -> None:
    if all(r.provisional for r in cls.rows):
        raise UserError(NO_STATUS_YET.format(title=title))


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


async def _lap_data(store: Store, plan: QueryPlan) -> int:
    """The race session id, when its lap-by-lap data is held; else say which races have it."""
    if plan.event is None:
        raise UserError(NEED_RACE)
    session = plan.session if plan.session is not None and plan.session.type == "R" else \
        await store.session_for(plan.event.id, "R")
    title = _title(plan, "R")
    if session is None or not await store.has_laps(session.id):
        raise UserError(await _no_lap_data(store, title))
    return session.id


async def _no_lap_data(store: Store, title: str) -> str:
    held = await store.run(rd.lap_data_races)
    if not held:
        return NO_LAP_DATA_AT_ALL.format(title=title)
    names = [f"{e.year} {e.name}" for e in held[:6]]
    more = f" and {len(held) - 6} more" if len(held) > 6 else ""
    return NO_LAP_DATA.format(title=title, held=", ".join(names) + more)


# --------------------------------------------------------------------------- position, points


async def _build_position(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan)
    ctx = _base(plan, cls)
    quali = cls.session.type in ("Q", "SQ")
    ctx["quali"] = quali
    if plan.position is None and plan.drivers:
        rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [_row(r) | {"best": f.lap_time(r.best_quali_ms) if r.best_quali_ms else None} for r in rows]
        return ctx
    if plan.position is None:
        raise UserError(NEED_POSITION)
    classified = [r for r in cls.rows if r.position is not None]
    if plan.position == -1:
        if not classified:
            raise UserError(NOBODY_AT.format(pos="last", title=ctx["title"], n=0))
        last = max(classified, key=lambda r: r.position or 0)
        ctx["last"] = True
        ctx["rows"] = [_row(last) | {"best": f.lap_time(last.best_quali_ms) if last.best_quali_ms else None}]
        sheet = cls.rows[-1]
        ctx["sheet_last"] = _row(sheet) if sheet.driver.id != last.driver.id else None
        return ctx
    hit = [r for r in classified if r.position == plan.position]
    if not hit:
        raise UserError(NOBODY_AT.format(pos=plan.position, title=ctx["title"], n=len(classified)))
    r = hit[0]
    ctx["rows"] = [_row(r) | {"best": f.lap_time(r.best_quali_ms) if r.best_quali_ms else None}]
    return ctx


def _render_position(ctx: Ctx) -> str:
    lines = []
    for r in ctx["rows"]:
        if ctx.get("last") and not ctx["quali"]:
            tmpl = LAST_PROVISIONAL if r["provisional"] else LAST_CLASSIFIED
            lines.append(tmpl.format(who=r["who"], title=ctx["title"], pos=r["pos"], team=r["team"]))
        elif ctx["quali"] and r["pos"] is not None:
            t = QUALI_BEST.format(time=r["best"]) if r.get("best") else ""
            t += QUALI_LAST if ctx.get("last") else ""
            lines.append(QUALIFIED_AT.format(who=r["who"], pos=r["pos"], title=ctx["title"], team=r["team"], time=t))
        else:
            lines.append(FINISHED_AT.format(who=r["who"], phrase=r["phrase"], title=ctx["title"], team=r["team"]))
    if s := ctx.get("sheet_last"):
        lines.append(LAST_ON_SHEET.format(who=s["who"], phrase=s["phrase"]))
    return _tail(ctx, "\n".join(lines))


async def _build_points(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R", "S"), NO_POINTS_SESSION)
    ctx = _base(plan, cls)
    _official_or_raise(cls, ctx["title"])
    scorers = [r for r in cls.rows if r.points]
    if not scorers:
        raise UserError(NO_POINTS_HELD.format(title=ctx["title"]))
    ctx["scorers"] = [_row(r) for r in scorers]
    return ctx


def _render_points(ctx: Ctx) -> str:
    items = [f"{r['pos_cell']}. **{r['code'] or r['who']}** {r['points']}" for r in ctx["scorers"]]
    return _tail(ctx, POINTS_HEAD.format(title=ctx["title"], n=len(items)) + "\n" + ", ".join(items))


# --------------------------------------------------------------------------- grid, retirements, laps


def _grid_line(r: Ctx) -> str:
    if not r["started"]:
        return GRID_NOT_STARTED.format(who=r["who"], phrase=r["phrase"])
    if r["pit_lane_start"]:
        return GRID_PIT_LANE.format(who=r["who"], phrase=r["phrase"])
    if r["pos"] is None:
        return GRID_DNF.format(who=r["who"], grid=r["grid"], phrase=r["phrase"])
    n = r["grid"] - r["pos"]
    tmpl = GRID_GAINED if n > 0 else GRID_LOST if n < 0 else GRID_SAME
    return tmpl.format(who=r["who"], grid=r["grid"], pos=r["pos"], n=abs(n), s=_plural(abs(n)))


async def _build_grid(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R", "S"))
    ctx = _base(plan, cls)
    _official_or_raise(cls, ctx["title"])
    if all(r.grid is None for r in cls.rows):
        raise UserError(GRID_NO_GRID.format(title=ctx["title"]))
    if plan.drivers:
        rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [_row(r) for r in rows]
        return ctx
    moves = [(r.grid - r.position, _row(r)) for r in cls.rows
             if r.position is not None and r.grid and not r.pit_lane_start]
    ctx["gainers"] = [r | {"delta": d} for d, r in sorted(moves, key=lambda x: -x[0]) if d > 0][:3]
    ctx["losers"] = [r | {"delta": d} for d, r in sorted(moves, key=lambda x: x[0]) if d < 0][:3]
    ctx["aside"] = [_row(r) for r in cls.rows if r.pit_lane_start or (r.started and r.position is None)]
    return ctx


def _render_grid(ctx: Ctx) -> str:
    if "rows" in ctx:
        return _tail(ctx, "\n".join(_grid_line(r) for r in ctx["rows"]))

    def item(r: Ctx) -> str:
        return f"**{r['code'] or r['who']}** P{r['grid']}→P{r['pos']} ({r['delta']:+d})"

    lines = []
    if ctx["gainers"]:
        lines.append(GRID_GAINERS.format(title=ctx["title"], items=", ".join(item(r) for r in ctx["gainers"])))
    if ctx["losers"]:
        lines.append(GRID_LOSERS.format(items=", ".join(item(r) for r in ctx["losers"])))
    if not lines:
        lines.append(GRID_NONE.format(title=ctx["title"]))
    if ctx["aside"]:
        aside = [(ASIDE_PIT_LANE if r["pit_lane_start"] else ASIDE_GRID).format(
            code=r["code"] or r["who"], grid=r["grid"], phrase=r["phrase"]) for r in ctx["aside"]]
        lines.append(GRID_ASIDE.format(items="; ".join(aside)))
    return _tail(ctx, "\n".join(lines))


_RETIRE_OUTCOMES = {
    "dnfs": ("retired", "not_classified"),
    "dns": ("did_not_start", "withdrawn"),
    "dsq": ("disqualified", "excluded"),
}


async def _build_retirements(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R", "S"))
    ctx = _base(plan, cls)
    _official_or_raise(cls, ctx["title"])
    if plan.drivers:
        rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [_row(r) for r in rows]
        return ctx
    kinds = [plan.metric] if plan.metric in _RETIRE_OUTCOMES else ["dnfs", "dns", "dsq"]
    ctx["groups"] = [
        {"kind": k, "rows": [_row(r) for r in cls.rows if r.outcome in _RETIRE_OUTCOMES[k]]} for k in kinds
    ]
    ctx["asked"] = plan.metric if plan.metric in _RETIRE_OUTCOMES else "dnfs"
    ctx["classified_retired"] = [_row(r) for r in cls.rows if r.outcome == "classified_retired"]
    return ctx


def _render_retirements(ctx: Ctx) -> str:
    if "rows" in ctx:
        return _tail(ctx, "\n".join(RETIRE_DRIVER.format(who=r["who"], phrase=r["phrase"], title=ctx["title"])
                                    for r in ctx["rows"]))
    lines = []
    for g in ctx["groups"]:
        kind = RETIRE_KIND[g["kind"]]
        if g["rows"]:
            lines.append(RETIRE_HEAD.format(kind=kind[:1].upper() + kind[1:], title=ctx["title"], n=len(g["rows"])))
            lines += [f"- **{r['who']}** ({r['team']}) {r['phrase']}" for r in g["rows"]]
        elif g["kind"] == ctx["asked"]:
            lines.append(RETIRE_NONE[g["kind"]].format(title=ctx["title"]))
    if ctx["classified_retired"] and ctx["asked"] == "dnfs":
        lines.append(RETIRE_CLASSIFIED.format(
            items=", ".join(f"**{r['code'] or r['who']}** {r['phrase']}" for r in ctx["classified_retired"])))
    return _tail(ctx, "\n".join(lines))


async def _build_laps_completed(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R", "S"))
    ctx = _base(plan, cls)
    _official_or_raise(cls, ctx["title"])
    total = max((r.laps for r in cls.rows if r.laps is not None), default=None)
    if total is None:
        raise UserError(LAPS_NONE.format(title=ctx["title"]))
    ctx["total"] = total
    rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
    ctx["rows"] = [_row(r) for r in rows]
    return ctx


def _render_laps_completed(ctx: Ctx) -> str:
    if not ctx["rows"] and not ctx.get("absent"):
        return _tail(ctx, LAPS_DISTANCE.format(title=ctx["title"], total=ctx["total"]))
    return _tail(ctx, "\n".join(
        LAPS_DONE.format(who=r["who"], laps=r["laps"] if r["laps"] is not None else 0, total=ctx["total"],
                         title=ctx["title"], phrase=r["phrase"]) for r in ctx["rows"]))


# --------------------------------------------------------------------------- lap story


async def _leaders(store: Store, plan: QueryPlan) -> tuple[Ctx, list[rd.LapLeader], int]:
    sid = await _lap_data(store, plan)
    ctx = _base(plan)
    ctx["title"] = _title(plan, "R")
    leaders = await store.run(rd.lap_leaders, sid)
    if not leaders:
        raise UserError(await _no_lap_data(store, ctx["title"]))
    ctx["total"] = leaders[-1].lap
    return ctx, leaders, sid


async def _build_laps_led(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    ctx, leaders, sid = await _leaders(store, plan)
    counts = Counter(ll.driver.id for ll in leaders)
    names = {ll.driver.id: ll.driver for ll in leaders}
    ctx["led"] = [{"who": _who(names[i]), "code": names[i].code, "laps": n} for i, n in counts.most_common()]
    if plan.drivers:
        cls = await store.results(sid)
        in_race = {r.driver.id for r in cls.rows} if cls else set()
        ctx["drivers_led"] = [{"who": _who(d), "laps": counts.get(d.id, 0)} for d in plan.drivers if d.id in in_race]
        if cls:
            ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])[1]
    return ctx


def _render_laps_led(ctx: Ctx) -> str:
    if "drivers_led" in ctx:
        return _tail(ctx, "\n".join(LAPS_LED_DRIVER.format(who=d["who"], n=d["laps"], total=ctx["total"],
                                                           title=ctx["title"]) for d in ctx["drivers_led"]))
    items = ", ".join(f"**{d['code'] or d['who']}** {d['laps']}" for d in ctx["led"])
    return LAPS_LED_HEAD.format(title=ctx["title"], total=ctx["total"], items=items)


def _changes(leaders: list[rd.LapLeader]) -> list[rd.LapLeader]:
    return [ll for prev, ll in zip(leaders, leaders[1:], strict=False) if ll.driver.id != prev.driver.id]


async def _build_lead_changes(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    ctx, leaders, _ = await _leaders(store, plan)
    ctx["start"] = _who(leaders[0].driver)
    ctx["changes"] = [{"lap": ll.lap, "who": _who(ll.driver), "code": ll.driver.code} for ll in _changes(leaders)]
    return ctx


def _render_lead_changes(ctx: Ctx) -> str:
    ch = ctx["changes"]
    if not ch:
        return LEAD_NONE.format(title=ctx["title"], who=ctx["start"])
    items = "".join(f"; lap {c['lap']}: **{c['code'] or c['who']}** took the lead" for c in ch)
    return LEAD_CHANGES.format(n=len(ch), s=_plural(len(ch)), title=ctx["title"], start=ctx["start"], changes=items)


async def _build_leader_on_lap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    lap = plan.lap_range[0] if plan.lap_range else None
    if lap is None:
        raise UserError(NEED_LAP)
    ctx, leaders, _ = await _leaders(store, plan)
    hit = [ll for ll in leaders if ll.lap == lap]
    if not hit:
        raise UserError(LAP_OUT_OF_RANGE.format(title=ctx["title"], last=ctx["total"], lap=lap))
    ctx["lap"] = lap
    ctx["who"] = _who(hit[0].driver)
    return ctx


def _render_leader_on_lap(ctx: Ctx) -> str:
    return LEADER_ON_LAP.format(who=ctx["who"], lap=ctx["lap"], title=ctx["title"])


async def _build_driver_lap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if not plan.drivers:
        raise UserError(NEED_DRIVER)
    last_lap = "last_lap" in plan.notes
    lap = plan.lap_range[0] if plan.lap_range else None
    if lap is None and not last_lap:
        raise UserError(NEED_LAP)
    sid = await _lap_data(store, plan)
    ctx = _base(plan)
    ctx["title"] = _title(plan, "R")
    cls = await store.results(sid)
    d = plan.drivers[0]
    rows, ctx["absent"] = _pick(cls, [d], ctx["title"]) if cls else ([], [])
    if ctx["absent"]:
        ctx["lap_row"] = None
        return ctx
    laps = await store.laps_of_driver(sid, d.id)
    ctx["who"] = _who(d)
    ctx["phrase"] = _row(rows[0])["phrase"] if rows else None
    if last_lap and laps:
        lap = laps[-1].lap_number
    ctx["lap"] = lap if lap is not None else "last"
    hit = [x for x in laps if x.lap_number == lap]
    if not hit:
        ctx["lap_row"] = None
        return ctx
    x = hit[0]
    notes = [n for n, on in ((PIT_IN, x.pit_in), (PIT_OUT, x.pit_out)) if on]
    ctx["lap_row"] = {"pos": f"P{x.position}" if x.position else UNPLACED,
                      "time": f.lap_time(x.lap_time_ms) if x.lap_time_ms else None,
                      "compound": x.compound, "notes": notes, "last": last_lap}
    return ctx


def _render_driver_lap(ctx: Ctx) -> str:
    x = ctx.get("lap_row")
    if x is None:
        if "who" not in ctx:
            return _tail(ctx, "")
        return _tail(ctx, DRIVER_NO_LAP.format(who=ctx["who"], lap=ctx["lap"], title=ctx["title"],
                                               phrase=ctx["phrase"] or "no lap data"))
    tyre = ON_TYRES.format(compound=x["compound"]) if x["compound"] else ""
    notes = f" ({', '.join(x['notes'])})" if x["notes"] else ""
    lap = THEIR_LAST.format(lap=ctx["lap"]) if x["last"] else ctx["lap"]
    if x["time"] is None:
        return _tail(ctx, DRIVER_LAP_NO_TIME.format(lap=lap, title=ctx["title"], who=ctx["who"], pos=x["pos"],
                                                    tyre=TYRES_ASIDE.format(compound=x["compound"])
                                                    if x["compound"] else "",
                                                    notes=notes))
    return _tail(ctx, DRIVER_LAP.format(lap=lap, title=ctx["title"], who=ctx["who"], pos=x["pos"], time=x["time"],
                                        tyre=tyre, notes=notes))


async def _build_best_lap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if plan.event is None:
        raise UserError(NEED_RACE)
    cls = await _classification(store, plan, ("R", "S", "Q", "SQ", "FP1", "FP2", "FP3"))
    ctx = _base(plan, cls)
    sid = cls.session.id
    laps = await store.has_laps(sid)
    compound = plan.compound.upper() if plan.compound else None
    ctx["compound"] = compound
    if compound and not laps:
        raise UserError(NO_COMPOUND_DATA.format(why=await _no_lap_data(store, ctx["title"])))
    if not plan.drivers:
        if compound:
            b = await store.run(rd.best_lap, sid, None, compound)
            ctx["fastest"] = ({"who": _who(b.driver), "time": f.lap_time(b.lap_time_ms), "lap": b.lap_number,
                               "compound": b.compound} if b else None)
        else:
            fl = await store.fastest_lap(sid)
            ctx["fastest"] = ({"who": _who(fl.driver), "time": f.lap_time(fl.lap_time_ms), "lap": fl.lap_number,
                               "compound": fl.compound} if fl else None)
        return ctx
    rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
    out = []
    for r in rows:
        if laps:
            b = await store.run(rd.best_lap, sid, r.driver.id, compound)
            out.append({"who": _who(r.driver), "source": "laps", "time": f.lap_time(b.lap_time_ms) if b else None,
                        "lap": b.lap_number if b else None, "compound": b.compound if b else None})
        elif cls.session.type in ("Q", "SQ"):
            out.append({"who": _who(r.driver), "source": "quali", "lap": None, "compound": None,
                        "time": f.lap_time(r.best_quali_ms) if r.best_quali_ms else None})
        else:
            out.append({"who": _who(r.driver), "source": "results",
                        "time": f.lap_time(r.fastest_lap_ms) if r.fastest_lap_ms else None,
                        "lap": r.fastest_lap_number, "rank": r.fastest_lap_rank, "compound": None})
    ctx["best"] = out
    return ctx


def _render_best_lap(ctx: Ctx) -> str:
    on = ON_TYRES.format(compound=ctx["compound"]) if ctx.get("compound") else ""
    if "best" not in ctx:
        fl = ctx["fastest"]
        if not fl:
            return _tail(ctx, FASTEST_NONE.format(title=ctx["title"]))
        tyre = ON_TYRES.format(compound=fl["compound"]) if fl.get("compound") and not on else ""
        lap = fl["lap"] if fl["lap"] is not None else "?"
        return _tail(ctx, FASTEST_ON.format(who=fl["who"], title=ctx["title"], on=on, time=fl["time"], lap=lap,
                                            tyre=tyre))
    lines = []
    for b in ctx["best"]:
        if b["time"] is None:
            lines.append(BEST_LAP_NONE.format(who=b["who"], title=ctx["title"], on=on))
        elif b["source"] == "quali":
            lines.append(BEST_LAP_QUALI.format(who=b["who"], title=ctx["title"], time=b["time"]))
        elif b["source"] == "results":
            lap = f" on lap {b['lap']}" if b.get("lap") else ""
            lines.append(BEST_LAP_RESULTS.format(who=b["who"], title=ctx["title"], time=b["time"], lap=lap,
                                                 rank=b.get("rank") or "?"))
        else:
            tyre = f" ({b['compound']})" if b["compound"] and not on else ""
            lines.append(BEST_LAP_DRIVER.format(who=b["who"], title=ctx["title"], on=on, time=b["time"],
                                                lap=b["lap"], tyre=tyre))
    return _tail(ctx, "\n".join(lines))


# --------------------------------------------------------------------------- pit stops


async def _build_stops_count(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R",), PIT_RACES_ONLY)
    ctx = _base(plan, cls)
    sid = cls.session.id
    stops = await store.pit_stops(sid)
    counts: Counter[int] = Counter()
    laps: dict[int, list[int]] = {}
    excluded = 0
    if stops:
        ctx["source"] = "pit_stops" if any(p.duration_ms is not None for p in stops) else "timing"
        for p in stops:
            if p.under_red_flag:
                excluded += 1
                continue
            counts[p.driver.id] += 1
            laps.setdefault(p.driver.id, []).append(p.lap)
    else:
        stints = await store.stints(sid)
        if not stints:
            raise UserError(_no_stops(plan, ctx["title"]))
        ctx["source"] = "stints"
        for s in stints:
            if s.stint > 1:
                counts[s.driver.id] += 1
                laps.setdefault(s.driver.id, []).append(s.start_lap - 1)
    ctx["excluded_red_flag"] = excluded
    ctx["total"] = sum(counts.values())
    starters = [r for r in cls.rows if r.started]
    per = [{"who": _who(r.driver), "code": r.driver.code, "stops": counts.get(r.driver.id, 0),
            "laps": laps.get(r.driver.id, []), "phrase": _row(r)["phrase"]} for r in starters]
    if plan.drivers:
        rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
        wanted = {r.driver.id for r in rows}
        ctx["drivers_stops"] = [p for p, r in zip(per, starters, strict=True) if r.driver.id in wanted]
    else:
        ctx["per_driver"] = per
    return ctx


def _no_stops(plan: QueryPlan, title: str) -> str:
    assert plan.event is not None
    return (NO_STOPS_BEFORE_2011 if plan.event.year < 2011 else NO_STOPS).format(title=title)


def _stop_label(n: int) -> str:
    return STOP_LABELS.get(n, STOP_LABEL_MANY.format(n=n))


def _render_stops_count(ctx: Ctx) -> str:
    n = ctx["excluded_red_flag"]
    excl = STOPS_EXCLUDED.format(n=n, s=_plural(n)) if n else ""
    if "drivers_stops" in ctx:
        lines = []
        for p in ctx["drivers_stops"]:
            where = f" (lap{'s' if len(p['laps']) > 1 else ''} {', '.join(map(str, p['laps']))})" if p["laps"] else ""
            lines.append(STOPS_DRIVER.format(who=p["who"], n=p["stops"], s=_plural(p["stops"]), title=ctx["title"],
                                             laps=where) + (f" ({STOPS_SOURCE[ctx['source']]}{excl})"
                                                            if excl else ""))
        return _tail(ctx, "\n".join(lines))
    groups: dict[int, list[str]] = {}
    for p in ctx["per_driver"]:
        groups.setdefault(p["stops"], []).append(p["code"] or p["who"])
    lines = [STOPS_HEAD.format(title=ctx["title"], total=ctx["total"], source=STOPS_SOURCE[ctx["source"]], excl=excl)]
    lines += [STOPS_GROUP.format(label=f"{_stop_label(k)} ({len(v)})", who=", ".join(v)) for k, v in sorted(groups.items())]
    return _tail(ctx, "\n".join(lines))


async def _build_fastest_pitstop(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R",), PIT_RACES_ONLY)
    ctx = _base(plan, cls)
    summary = await store.run(q.pit_stop_summary, cls.session.id)
    p = summary.fastest
    if p is None:
        raise UserError(_no_stops(plan, ctx["title"]))
    ctx["fastest"] = {"who": _who(p.driver), "lap": p.lap, "label": f.pit_lane(p.duration_ms, p.pit_lane_ms),
                      "source": p.pit_lane_source}
    ctx["average"] = f.seconds(summary.average_ms)
    ctx["counted"] = summary.counted
    ctx["excluded_red_flag"] = summary.excluded_red_flag
    return ctx


def _render_fastest_pitstop(ctx: Ctx) -> str:
    p = ctx["fastest"]
    n = ctx["excluded_red_flag"]
    excl = m.PIT_FASTEST_EXCLUDED.format(n=n, s=_plural(n)) if n else ""
    return _tail(ctx, "\n".join([
        PITSTOP_FASTEST.format(title=ctx["title"], who=p["who"], lap=p["lap"], label=p["label"]),
        PITSTOP_AVERAGE.format(avg=ctx["average"], n=ctx["counted"], excl=excl),
        "_" + PITSTOP_NOTE[p["source"] or "timing"] + "_",
    ]))


# --------------------------------------------------------------------------- qualifying


_PARTS = ("Q1", "Q2", "Q3")


def _part_ms(r: ResultRow, part: str) -> int | None:
    return {"Q1": r.q1_ms, "Q2": r.q2_ms, "Q3": r.q3_ms}[part]


async def _quali_plan(store: Store, plan: QueryPlan) -> QueryPlan:
    """The plan pointed at the qualifying session (Q, or SQ when asked) of its event."""
    if plan.event is None:
        raise UserError(NEED_RACE)
    # A sprint question about qualifying parts means the sprint's own qualifying.
    stype = {"Q": "Q", "SQ": "SQ", "S": "SQ"}.get(plan.session_type, "Q")
    if plan.session is not None and plan.session.type == stype:
        return plan
    session = await store.session_for(plan.event.id, stype)
    return QueryPlan(text=plan.text, focus=plan.focus, year=plan.year, event=plan.event, session_type=stype,
                     session=session, drivers=plan.drivers, part=plan.part, teams=plan.teams, notes=plan.notes)


async def _build_quali(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    plan = await _quali_plan(store, plan)
    cls = await _classification(store, plan, ("Q", "SQ"), NOT_QUALI)
    ctx = _base(plan, cls)
    if plan.drivers:
        rows, ctx["absent"] = _pick(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [{"who": _who(r.driver), "pos": r.position,
                        "times": [(p, f.lap_time(t)) for p in _PARTS if (t := _part_ms(r, p))]} for r in rows]
        return ctx
    parts = [plan.part] if plan.part else list(_PARTS)
    tops = []
    for part in parts:
        timed = [r for r in cls.rows if _part_ms(r, part)]
        if timed:
            best = min(timed, key=lambda r: _part_ms(r, part) or 0)
            tops.append({"part": part, "who": _who(best.driver), "code": best.driver.code,
                         "time": f.lap_time(_part_ms(best, part))})
    if not tops:
        raise UserError(NO_PART_TIMES.format(part=plan.part or "Q1/Q2/Q3", title=ctx["title"]))
    ctx["tops"] = tops
    ctx["one_part"] = bool(plan.part)
    return ctx


def _render_quali(ctx: Ctx) -> str:
    if "rows" in ctx:
        lines = []
        for r in ctx["rows"]:
            times = ", ".join(f"{p} {t}" for p, t in r["times"]) or NO_TIME_SET
            lines.append(QUALI_DRIVER.format(who=r["who"], title=ctx["title"], times=times, pos=r["pos"]))
        return _tail(ctx, "\n".join(lines))
    if ctx["one_part"]:
        t = ctx["tops"][0]
        return _tail(ctx, QUALI_TOPPED.format(who=t["who"], part=t["part"], title=ctx["title"], time=t["time"]))
    items = "; ".join(f"{t['part']} **{t['code'] or t['who']}** {t['time']}" for t in ctx["tops"])
    return _tail(ctx, QUALI_TOPS.format(title=ctx["title"], items=items))


async def _build_eliminated(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    plan = await _quali_plan(store, plan)
    part = plan.part if plan.part in ("Q1", "Q2") else "Q1"
    assert plan.event is not None
    if plan.event.year < 2006:
        raise UserError(OLD_FORMAT.format(year=plan.event.year, part=part))
    cls = await _classification(store, plan, ("Q", "SQ"), NOT_QUALI)
    ctx = _base(plan, cls)
    nxt = "Q2" if part == "Q1" else "Q3"
    if not any(_part_ms(r, nxt) for r in cls.rows):
        raise UserError(NO_PART_TIMES.format(part=nxt, title=ctx["title"]))
    if part == "Q1":
        out = [r for r in cls.rows if not r.q2_ms and not r.q3_ms]
    else:
        out = [r for r in cls.rows if r.q2_ms and not r.q3_ms]
    ctx.update(part=part, next=nxt, rows=[
        {"who": _who(r.driver), "code": r.driver.code, "pos": r.position,
         "time": f.lap_time(_part_ms(r, part)) if _part_ms(r, part) else "no time"} for r in out])
    return ctx


def _render_eliminated(ctx: Ctx) -> str:
    items = ", ".join(f"P{r['pos']} **{r['code'] or r['who']}** ({r['time']})" for r in ctx["rows"])
    return _tail(ctx, ELIMINATED.format(part=ctx["part"], title=ctx["title"], n=len(ctx["rows"]), next=ctx["next"],
                                        items=items))


async def _build_gap_to_pole(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if not plan.drivers:
        raise UserError(NEED_DRIVER)
    plan = await _quali_plan(store, plan)
    cls = await _classification(store, plan, ("Q", "SQ"), NOT_QUALI)
    ctx = _base(plan, cls)
    pole = cls.rows[0]
    pole_part = next((p for p in reversed(_PARTS) if _part_ms(pole, p)), None)
    rows, ctx["absent"] = _pick(cls, plan.drivers[:1], ctx["title"])
    ctx["rows"] = []
    for r in rows:
        part = next((p for p in reversed(_PARTS) if _part_ms(r, p)), None)
        item: Ctx = {"who": _who(r.driver), "pos": r.position, "on_pole": r.driver.id == pole.driver.id}
        if part and pole_part:
            t, pt = _part_ms(r, part) or 0, _part_ms(pole, pole_part) or 0
            item.update(part=part, time=f.lap_time(t), gap=f.gap(t - pt), pole_who=pole.driver.short,
                        pole_time=f.lap_time(pt), pole_part=pole_part)
        ctx["rows"].append(item)
    return ctx


def _render_gap_to_pole(ctx: Ctx) -> str:
    lines = []
    for r in ctx["rows"]:
        if "part" not in r:
            lines.append(GAP_NO_TIME.format(who=r["who"], title=ctx["title"]))
        elif r["on_pole"]:
            lines.append(GAP_ON_POLE.format(who=r["who"], title=ctx["title"], time=r["time"]))
        else:
            lines.append(GAP_POLE.format(**r, title=ctx["title"]))
    return _tail(ctx, "\n".join(lines))


# --------------------------------------------------------------------------- teammate head-to-head


def _h2h(entries: list[rd.TeamEntry], a: int, b: int, stype: str) -> tuple[int, int, int]:
    """(a ahead, b ahead, sessions both took part in) by official order."""
    by: dict[int, dict[int, rd.TeamEntry]] = {}
    for e in entries:
        if e.session_type == stype:
            by.setdefault(e.round, {})[e.driver.id] = e
    na = nb = n = 0
    for cars in by.values():
        ea, eb = cars.get(a), cars.get(b)
        if ea is None or eb is None or ea.order is None or eb.order is None:
            continue
        if stype == "R" and (ea.outcome in ("did_not_start", "withdrawn") or eb.outcome in ("did_not_start", "withdrawn")):
            continue
        n += 1
        if ea.order < eb.order:
            na += 1
        elif eb.order < ea.order:
            nb += 1
    return na, nb, n


async def _build_h2h(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    year = plan.year or (plan.years[0] if plan.years else None) or now.year
    if plan.drivers:
        d = plan.drivers[0]
        refs = await store.run(rd.teams_of_driver, d.id, year)
        if not refs:
            raise UserError(H2H_NO_SEASON.format(who=_who(d), year=year))
        focus_ids = {d.id}
        other = plan.drivers[1].id if len(plan.drivers) > 1 else None
    elif plan.teams:
        refs, focus_ids, other = [plan.teams[0][0]], set(), None
    else:
        raise UserError(H2H_NEED)
    entries = await store.run(rd.team_season, year, refs)
    ctx: Ctx = {"year": year, "pairs": []}
    for ref in refs:
        team = [e for e in entries if e.constructor_ref == ref]
        drivers: dict[int, DriverInfo] = {}
        for e in team:
            drivers.setdefault(e.driver.id, e.driver)
        ids = list(drivers)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if (focus_ids and not focus_ids & {a, b}) or (other is not None and other not in (a, b)):
                    continue
                if b in focus_ids:
                    a, b = b, a
                qa, qb, qn = _h2h(team, a, b, "Q")
                ra, rb, rn = _h2h(team, a, b, "R")
                if qn or rn:
                    ctx["pairs"].append({
                        "team": next((e.team_name for e in team if e.team_name), ref),
                        "a": drivers[a].short, "b": drivers[b].short, "quali": [qa, qb, qn], "race": [ra, rb, rn],
                        "provisional": any(e.provisional for e in team if e.driver.id in (a, b)),
                    })
    if not ctx["pairs"]:
        who = _who(plan.drivers[0]) if plan.drivers else plan.teams[0][1]
        raise UserError(H2H_NONE.format(year=year, who=who))
    return ctx


def _render_h2h(ctx: Ctx) -> str:
    lines = []
    for p in ctx["pairs"]:
        lines.append(H2H_HEAD.format(year=ctx["year"], team=p["team"]))
        qa, qb, qn = p["quali"]
        ra, rb, rn = p["race"]
        lines.append(H2H_QUALI.format(a=p["a"], b=p["b"], na=qa, nb=qb, n=qn))
        prov = "; includes provisional orders" if p["provisional"] else ""
        lines.append(H2H_RACE.format(a=p["a"], b=p["b"], na=ra, nb=rb, n=rn, prov=prov))
    return "\n".join(lines)


# --------------------------------------------------------------------------- the story of a race


_FLAG_WORDS = {"4": "safety car", "6": "virtual safety car", "5": "red flag"}


async def _build_story(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await _classification(store, plan, ("R", "S"))
    ctx = _base(plan, cls)
    sid = cls.session.id
    w = cls.rows[0]
    second = cls.rows[1] if len(cls.rows) > 1 else None
    ctx["winner"] = {"who": _who(w.driver), "team": w.team_name, "grid": w.grid, "provisional": w.provisional}
    if second is not None and second.gap_ms is not None and not second.provisional:
        ctx["margin"] = {"gap": f.gap(second.gap_ms), "who": second.driver.short}
    assert plan.event is not None
    qs = await store.session_for(plan.event.id, "SQ" if cls.session.type == "S" else "Q")
    qcls = await store.results(qs.id) if qs else None
    if qcls and qcls.rows:
        p = qcls.rows[0]
        ctx["pole"] = {"who": _who(p.driver), "time": f.lap_time(p.best_quali_ms) if p.best_quali_ms else None}
    if await store.has_laps(sid):
        leaders = await store.run(rd.lap_leaders, sid)
        if leaders:
            ctx["lap_data"] = True
            ctx["lap1_leader"] = _who(leaders[0].driver)
            ctx["lead_changes"] = [{"lap": ll.lap, "code": ll.driver.short} for ll in _changes(leaders)]
    flags = await store.run(q.flags, sid)
    if flags is not None:
        ctx["flags_source"] = m.FLAGS_SOURCE_HISTORY if flags.source == "history" else m.FLAGS_SOURCE_TIMING
        ctx["flags"] = [
            {"kind": _FLAG_WORDS[p.status], "from": p.from_lap, "to": p.to_lap}
            for p in flags.periods if p.status in _FLAG_WORDS and p.phase == "race"
        ]
    ctx["retired"] = [
        {"code": r.driver.short, "grid": r.grid, "phrase": _row(r)["phrase"]}
        for r in cls.rows if r.outcome in ("retired", "not_classified", "disqualified", "excluded")
        and r.grid is not None and 0 < r.grid <= 10
    ]
    fl = await store.fastest_lap(sid)
    if fl:
        ctx["fastest"] = {"who": fl.driver.short, "time": f.lap_time(fl.lap_time_ms), "lap": fl.lap_number}
    pens = await store.run(q.penalties, sid)
    if pens is not None:
        ctx["penalties"] = [f"{p.code or 'car ' + (p.car or '?')} {p.penalty.lower()}"
                            for p in pens.penalties if p.kind == "penalty"][:4]
    return ctx


def _span(fl: Ctx) -> str:
    if fl["from"] is None:
        return fl["kind"]
    if fl["to"] is None or fl["to"] == fl["from"]:
        return f"{fl['kind']} lap {fl['from']}"
    return f"{fl['kind']} laps {fl['from']}-{fl['to']}"


def _render_story(ctx: Ctx) -> str:
    w = ctx["winner"]
    if w["provisional"]:
        head = STORY_PROVISIONAL_WIN.format(who=w["who"], title=ctx["title"], team=w["team"])
    else:
        grid = (STORY_FROM_POLE if w["grid"] == 1 else STORY_FROM_GRID.format(grid=w["grid"])) if w["grid"] else ""
        mg = ctx.get("margin")
        margin = STORY_MARGIN.format(gap=mg["gap"], who=mg["who"]) if mg else ""
        head = STORY_WINNER.format(who=w["who"], team=w["team"], title=ctx["title"], grid=grid, margin=margin)
    lines = [head]
    if p := ctx.get("pole"):
        lines.append(STORY_POLE.format(who=p["who"], time=f" ({p['time']})" if p["time"] else ""))
    if ctx.get("lap_data"):
        lines.append(STORY_START.format(text=STORY_LAP1.format(who=ctx["lap1_leader"])))
        ch = ctx["lead_changes"]
        items = ": " + ", ".join(f"lap {c['lap']} {c['code']}" for c in ch) if ch else ""
        lines.append(STORY_LEAD.format(n=len(ch) or STORY_NO_CHANGES, items=items))
    if "flags" in ctx:
        if ctx["flags"]:
            lines.append(STORY_FLAGS.format(source=ctx["flags_source"], items=", ".join(_span(x) for x in ctx["flags"])))
        else:
            lines.append(STORY_NO_FLAGS.format(source=ctx["flags_source"]))
    if ctx["retired"]:
        lines.append(STORY_RETIRED.format(items="; ".join(f"{r['code']} (from P{r['grid']}) {r['phrase']}"
                                                          for r in ctx["retired"])))
    if fl := ctx.get("fastest"):
        lap = f" on lap {fl['lap']}" if fl.get("lap") else ""
        lines.append(STORY_FASTEST.format(who=fl["who"], time=fl["time"], lap=lap))
    if ctx.get("penalties"):
        lines.append(STORY_PENALTIES.format(items="; ".join(ctx["penalties"])))
    if ctx.get("lap_data") and not ctx.get("provisional"):
        lines.append(LAP_DATA_NOTE)
    return _tail(ctx, "\n".join(lines))


# --------------------------------------------------------------------------- registry


def _intent(name: str, build: Any, render: Any, event: str = "race") -> tuple[str, Intent]:
    async def with_focus(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
        return {"focus": name, **await build(store, plan, now)}

    with_focus.__doc__ = build.__doc__
    return name, Intent(name, with_focus, render, event)


INTENTS: dict[str, Intent] = dict([
    _intent("position", _build_position, _render_position),
    _intent("points_finishers", _build_points, _render_points),
    _intent("grid_change", _build_grid, _render_grid),
    _intent("retirements", _build_retirements, _render_retirements),
    _intent("laps_completed", _build_laps_completed, _render_laps_completed),
    _intent("laps_led", _build_laps_led, _render_laps_led, "laps"),
    _intent("lead_changes", _build_lead_changes, _render_lead_changes, "laps"),
    _intent("leader_on_lap", _build_leader_on_lap, _render_leader_on_lap, "laps"),
    _intent("driver_lap", _build_driver_lap, _render_driver_lap, "laps"),
    _intent("best_lap", _build_best_lap, _render_best_lap),
    _intent("stops_count", _build_stops_count, _render_stops_count),
    _intent("fastest_pitstop", _build_fastest_pitstop, _render_fastest_pitstop),
    _intent("quali", _build_quali, _render_quali),
    _intent("eliminated", _build_eliminated, _render_eliminated),
    _intent("gap_to_pole", _build_gap_to_pole, _render_gap_to_pole),
    _intent("quali_h2h", _build_h2h, _render_h2h, "none"),
    _intent("story", _build_story, _render_story),
])
