"""History intents: counts, records, titles, champions, teams, teammates and title maths.

Every figure comes from `storage.aggregates` (the counting rules are stated
there and repeated in the replies where they matter). Seasons asked are
`plan.years` (or `plan.year` when the parser did not default it); no season
means a career. The store's newest season may still be running: its leader is
never called a champion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot import format as f
from bot.errors import UserError
from bot.intents import Ctx, Intent
from bot.plan import QueryPlan
from storage import aggregates as agg
from storage.queries import EventInfo
from storage.store import Store

# --- user-visible strings (bot/intents/history.py)
NEED_SUBJECT = "Which driver or team do you mean? E.g. *how many wins does Hamilton have* or *Ferrari poles*."
NEED_DRIVER = "Which driver do you mean? E.g. *which team did Alonso drive for in 2010*."
NEED_METRIC = "What should I count: wins, poles, podiums, points, DNFs, starts or fastest laps?"
NEED_TWO = "Name two drivers (or two teams) for a points gap, e.g. *gap between Norris and Piastri*."
NOT_HELD_METRIC = "I can't count {metric} over seasons: laps led are only held for races with lap data."
NO_SEASON = "I hold no {year} season."
NO_SEASONS = "I hold no {years} season{s}: my data covers {first}–{last}."
NO_STANDINGS = "I hold no {kind} standings for {year}{after}."
NO_CONSTRUCTORS = "There was no constructors' championship in {year}: it started in 1958."
NOT_IN_STANDINGS = "{name} has no place in the {year} {kind} standings after round {round}."
DID_NOT_RACE = "{name} did not race in {years}."
DID_NOT_RACE_AT = "{name} never raced at {circuit}{years}."
NOT_AT_EVENT = "{name} did not take part in the {event}."
DATA_TO = "data to the {event}"
OTHER_TITLE = "{kind}' title: {names}"
IN_PROGRESS = "season in progress: not yet decided"
AS_IT_STOOD = "as it stood then"
RULE_POLES = "pole = starting first on the Grand Prix grid, after penalties, as the record books count it"
RULE_FRONT_ROWS = "front row = starting P1 or P2 on the Grand Prix grid, after penalties"
RULE_DNFS = "DNF = started but not classified; disqualifications not counted"
RULE_FASTEST = "fastest laps are held from 2004 only"
RULE_POINTS = "season points as the championship counted them, after the dropped-score rules of old seasons"
RULE_SPRINTS = "Grands Prix only; sprints not counted"
RULE_SUMMARY = "wins, podiums and poles: Grands Prix only; points include sprints"
RULE_SPRINT_POINTS = "Grand Prix and sprint points"
RULE_CAN_WIN = ("{left} points still available over {n} round{s} ({rule}); a title needs more points than "
                "every rival, ties go to count-back")
SPRINTS_UNKNOWN = ("The stored calendar does not say which of the remaining rounds are sprint weekends: "
                   "the maths counts none ({left} points), up to {upper} if all were.")
METRIC_WORDS = {
    "wins": ("win", "wins"), "poles": ("pole", "poles"), "podiums": ("podium", "podiums"),
    "points": ("point", "points"), "dnfs": ("DNF", "DNFs"), "starts": ("start", "starts"),
    "races": ("race", "races"), "fastest_laps": ("fastest lap", "fastest laps"),
    "points_finishes": ("points finish", "points finishes"), "front_rows": ("front-row start", "front-row starts"),
    "titles": ("title", "titles"),
}
FIRST_SPRINT_YEAR = 2021
SUMMARY_METRICS = ("starts", "wins", "podiums", "poles", "points")


# --------------------------------------------------------------------------- plan reading


@dataclass(frozen=True, slots=True)
class _Subject:
    kind: str  # driver / team
    name: str
    driver_id: int | None = None
    team_ref: str | None = None

    def key(self) -> dict[str, Any]:
        return {"driver_id": self.driver_id} if self.kind == "driver" else {"team_ref": self.team_ref}

    def ctx(self) -> Ctx:
        return {"name": self.name, "kind": self.kind}


def _subjects(plan: QueryPlan) -> list[_Subject]:
    if plan.drivers:
        return [_Subject("driver", d.name, driver_id=d.id) for d in plan.drivers]
    return [_Subject("team", name, team_ref=ref) for ref, name in plan.teams]


def _years(plan: QueryPlan) -> list[int]:
    """The seasons named; `plan.year` only when the parser did not fill it by default."""
    if plan.years:
        return sorted(set(plan.years))
    defaulted = any(n.startswith("default") for n in plan.notes) or plan.scope == "circuit"
    return [plan.year] if plan.year is not None and not defaulted else []


def _race(plan: QueryPlan) -> EventInfo | None:
    """The race asked about (team of / teammates in one race), or None for a season or career."""
    if plan.event is None or plan.scope in ("circuit", "season", "career") or "default_event" in plan.notes:
        return None
    return plan.event


async def _check_years(store: Store, years: list[int]) -> None:
    """A season the store does not hold is said plainly, never counted as zero."""
    if not years:
        return
    held = set(await store.seasons())
    missing = [y for y in years if y not in held]
    if missing:
        raise UserError(NO_SEASONS.format(years=_year_list(missing), s="s" if len(missing) > 1 else "",
                                          first=min(held, default="?"), last=max(held, default="?")))


def _circuit(plan: QueryPlan) -> tuple[str, str] | None:
    """(circuit ref, label) when the question is about a circuit."""
    e = plan.event
    if plan.scope == "circuit" and e is not None and e.circuit_ref:
        return e.circuit_ref, e.circuit_name or e.location or e.name
    return None


def _words(metric: str, n: float, sprint: bool = False) -> str:
    one, many = METRIC_WORDS.get(metric, (metric, metric))
    word = one if n == 1 else many
    return f"{f.points(n)} {'sprint ' if sprint else ''}{word}"


def _year_list(years: list[int]) -> str:
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


async def _data_to(store: Store) -> Ctx:
    """The newest race with results: counts cover the store up to it."""
    last = await store.last_event_with_results()
    return {"year": last.year, "round": last.round, "name": last.name} if last else {}


async def _open_season(store: Store) -> int | None:
    """The newest season when it still has rounds to run."""
    seasons = await store.seasons()
    if not seasons:
        return None
    year = max(seasons)
    standings_round, last = await store.run(agg.season_rounds, year)
    return year if standings_round is not None and last is not None and standings_round < last else None


def _rules(metric: str, years: list[int], span: tuple[int, int], sprint: bool) -> list[str]:
    lo, hi = (min(years), max(years)) if years else span
    out = []
    if metric in ("poles", "front_rows") and not sprint:
        out.append(RULE_POLES if metric == "poles" else RULE_FRONT_ROWS)
    if metric == "dnfs":
        out.append(RULE_DNFS)
    if metric == "fastest_laps" and lo < agg.FIRST_FASTEST_LAP_YEAR:
        out.append(RULE_FASTEST)
    if metric == "points" and lo < 1991:
        out.append(RULE_POINTS)
    return out


# --------------------------------------------------------------------------- stat


async def build_stat(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    metric = plan.metric
    if metric == "titles":
        return await build_titles(store, plan, now)
    if metric == "laps_led":
        raise UserError(NOT_HELD_METRIC.format(metric="laps led"))
    if metric is None and _subjects(plan):
        return await _build_summary(store, plan)
    if metric not in agg.METRICS:
        raise UserError(NEED_METRIC)
    years = _years(plan)
    await _check_years(store, years)
    subjects = _subjects(plan)
    ctx: Ctx = {"focus": "stat", "metric": metric, "years": years, "data_to": await _data_to(store),
                "sprint": plan.session_type == "S"}
    if not subjects:
        if metric == "races" and years:
            counts = [await store.run(agg.season_race_count, y) for y in years]
            ctx["season_races"] = [{"year": y, "held": h, "calendar": c} for y, (h, c) in zip(years, counts, strict=True)]
            return ctx
        raise UserError(NEED_SUBJECT)
    circuit = _circuit(plan)
    ctx["circuit"] = circuit[1] if circuit else None
    ctx["open_season"] = await _open_season(store)
    out = []
    for s in subjects:
        r = await store.run(agg.stat, metric, **s.key(), years=years or None,
                            circuit_ref=circuit[0] if circuit else None, sprint=ctx["sprint"])
        out.append({
            **s.ctx(), "total": r.total, "first_year": r.first_year, "last_year": r.last_year,
            "seasons": [{"year": c.year, "value": c.value, "entered": c.entered} for c in r.seasons],
        })
    ctx["subjects"] = out
    span = (min((o["first_year"] or 9999) for o in out), max((o["last_year"] or 0) for o in out))
    ctx["rules"] = _rules(metric, years, span, ctx["sprint"])
    if metric in ("wins", "podiums") and not ctx["sprint"]:
        ctx["rules"].append(RULE_SPRINTS)
    newest = max(years) if years else max((o["last_year"] or 0) for o in out)
    if metric == "points" and not ctx["sprint"] and newest >= FIRST_SPRINT_YEAR:
        ctx["rules"].append(RULE_SPRINT_POINTS)
    return ctx


async def _build_summary(store: Store, plan: QueryPlan) -> Ctx:
    """No metric named ("lando's stats"): the main counts, per subject, over the asked seasons or career."""
    years = _years(plan)
    await _check_years(store, years)
    circuit = _circuit(plan)
    out = []
    for s in _subjects(plan):
        counts: dict[str, float] = {}
        span: tuple[int | None, int | None] = (None, None)
        entered = False
        for metric in SUMMARY_METRICS:
            r = await store.run(agg.stat, metric, **s.key(), years=years or None,
                                circuit_ref=circuit[0] if circuit else None)
            counts[metric] = r.total
            span = (r.first_year, r.last_year)
            entered = entered or any(c.entered for c in r.seasons)
        out.append({**s.ctx(), "counts": counts, "first_year": span[0], "last_year": span[1], "entered": entered})
    return {"focus": "stat", "summary": out, "years": years, "data_to": await _data_to(store),
            "circuit": circuit[1] if circuit else None, "open_season": await _open_season(store)}


def _summary_line(ctx: Ctx, s: Ctx) -> str:
    years, at = ctx["years"], f" at {ctx['circuit']}" if ctx.get("circuit") else ""
    if not s["entered"] and at:
        return DID_NOT_RACE_AT.format(name=s["name"], circuit=ctx["circuit"],
                                      years=f" in {_year_list(years)}" if years else "")
    if not s["entered"]:
        return DID_NOT_RACE.format(name=s["name"], years=_year_list(years) if years else "any season I hold")
    when = _year_list(years) if years else f"career {s['first_year']}–{s['last_year']}"
    if ctx.get("open_season") in (years or [s["last_year"]]):
        d = ctx.get("data_to") or {}
        when += ", " + DATA_TO.format(event=f"{d.get('year')} {d.get('name')}")
    body = ", ".join(_words(m, s["counts"][m]) for m in SUMMARY_METRICS)
    return f"**{s['name']}**{at} ({when}): {body}."


def _stat_line(ctx: Ctx, s: Ctx) -> str:
    metric, sprint, years = ctx["metric"], ctx["sprint"], ctx["years"]
    at = f" at {ctx['circuit']}" if ctx.get("circuit") else ""
    if s["first_year"] is None:
        return DID_NOT_RACE.format(name=s["name"], years="any season I hold")
    entered = [c for c in s["seasons"] if c["entered"]]
    if not entered and years:
        if at:
            return DID_NOT_RACE_AT.format(name=s["name"], circuit=ctx["circuit"], years=f" in {_year_list(years)}")
        return DID_NOT_RACE.format(name=s["name"], years=_year_list(years))
    if not entered:
        return DID_NOT_RACE_AT.format(name=s["name"], circuit=ctx["circuit"], years="")
    open_year = ctx.get("open_season")
    if years:
        parts = []
        for c in s["seasons"]:
            so_far = " so far" if c["year"] == open_year else ""
            parts.append(f"{c['year']}: {_words(metric, c['value'], sprint)}{so_far}" if c["entered"]
                         else f"{c['year']}: did not race")
        body = "; ".join(parts)
        total = f" — {_words(metric, s['total'], sprint)} in total" if len(years) > 1 else ""
        return f"**{s['name']}**{at}: {body}{total}."
    span = f"{s['first_year']}–{s['last_year']}" if s["first_year"] != s["last_year"] else str(s["first_year"])
    scope = f"{at}, all seasons" if at else (" in their career" if s["kind"] == "driver" else " in all seasons")
    tail = ""
    if s["last_year"] == open_year and ctx.get("data_to"):
        d = ctx["data_to"]
        tail = ", " + DATA_TO.format(event=f"{d['year']} {d['name']}")
    return f"**{s['name']}**: {_words(metric, s['total'], sprint)}{scope} ({span}{tail})."


def render_stat(ctx: Ctx) -> str:
    if ctx.get("focus") == "titles":
        return render_titles(ctx)
    if "summary" in ctx:
        note = f"\n_({RULE_SUMMARY})_" if any(s["entered"] for s in ctx["summary"]) else ""
        return "\n".join(_summary_line(ctx, s) for s in ctx["summary"]) + note
    if "season_races" in ctx:
        lines = []
        for r in ctx["season_races"]:
            if not r["calendar"]:
                lines.append(NO_SEASON.format(year=r["year"]))
            elif r["held"] < r["calendar"]:
                lines.append(f"{r['year']}: {r['calendar']} races on the calendar, {r['held']} held so far.")
            else:
                lines.append(f"{r['year']}: {r['held']} races.")
        return "\n".join(lines)
    lines = [_stat_line(ctx, s) for s in ctx["subjects"]]
    if ctx.get("rules") and any(c["entered"] for s in ctx["subjects"] for c in s["seasons"]):
        lines.append(f"_({'; '.join(ctx['rules'])})_")
    return "\n".join(lines)


# --------------------------------------------------------------------------- titles & champions


async def _event_name(store: Store, year: int, round_: int) -> str | None:
    ev = await store.event_by_round(year, round_)
    return ev.name if ev else None


def _kind_for(s: _Subject) -> str:
    return "drivers" if s.kind == "driver" else "constructors"


async def build_titles(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    subjects = _subjects(plan)
    if not subjects:
        raise UserError(NEED_SUBJECT)
    out = []
    for s in subjects:
        rows = await store.run(agg.titles, _kind_for(s), **s.key())
        out.append({**s.ctx(), "championship": _kind_for(s),
                    "won": [t.year for t in rows if t.decided],
                    "leading": [{"year": t.year, "round": t.round, "points": t.points,
                                 "event": await _event_name(store, t.year, t.round)}
                                for t in rows if not t.decided]})
    return {"focus": "titles", "subjects": out, "data_to": await _data_to(store)}


def render_titles(ctx: Ctx) -> str:
    lines = []
    for s in ctx["subjects"]:
        word = "drivers'" if s["championship"] == "drivers" else "constructors'"
        n = len(s["won"])
        if n:
            line = f"**{s['name']}**: {n} {word} title{'s' if n != 1 else ''} ({_year_list(s['won'])})"
        else:
            line = f"**{s['name']}**: no {word} title (1950–{ctx['data_to'].get('year', '')} data)"
        for lead in s["leading"]:
            line += (f"; leads the {lead['year']} championship after round {lead['round']} ({lead['event']}) "
                     f"with {f.points(lead['points'])} pts ({IN_PROGRESS})")
        lines.append(line + ".")
    return "\n".join(lines)


async def build_champion(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    kind = "constructors" if plan.standings_kind == "constructors" else "drivers"
    years = _years(plan)
    if not years:
        seasons = await store.seasons()
        if not seasons:
            raise UserError(NO_SEASON.format(year="any"))
        years = [max(seasons)]
    found = await store.run(agg.champions, kind, years)
    out = []
    for y in years:
        rows = found.get(y, [])
        item: Ctx = {"year": y, "champions": [], "decided": True}
        if not rows:
            item["missing"] = (NO_CONSTRUCTORS.format(year=y) if kind == "constructors"
                               and y < agg.FIRST_CONSTRUCTORS_YEAR else
                               NO_STANDINGS.format(kind=kind, year=y, after=""))
        for t in rows:
            ev = await store.event_by_round(y, t.round)
            item["decided"] = t.decided
            item["round"], item["event"] = t.round, ev.name if ev else None
            item["champions"].append({"name": t.name, "points": t.points, "wins": t.wins})
        out.append(item)
    # The other title of each decided season as one extra line: "and the next year?" after a
    # constructors' question may mean either, and both are facts of that season.
    other = "drivers" if kind == "constructors" else "constructors"
    also = await store.run(agg.champions, other, years)
    for item in out:
        rows = also.get(item["year"], [])
        if item["champions"] and item["decided"] and rows and all(t.decided for t in rows):
            item["other"] = {"kind": other, "names": [t.name for t in rows]}
    return {"focus": "champion", "kind": kind, "seasons": out}


def render_champion(ctx: Ctx) -> str:
    word = "drivers'" if ctx["kind"] == "drivers" else "constructors'"
    lines = []
    for s in ctx["seasons"]:
        if s.get("missing"):
            lines.append(s["missing"])
            continue
        who = " and ".join(f"**{c['name']}** ({f.points(c['points'])} pts, {c['wins']} wins)" for c in s["champions"])
        if s["decided"]:
            line = f"{s['year']} {word} champion: {who}."
            if o := s.get("other"):
                line += f" ({OTHER_TITLE.format(kind=o['kind'], names=' and '.join(o['names']))})"
            lines.append(line)
        else:
            lines.append(f"{s['year']} {word} championship — {IN_PROGRESS}: {who} leads after round "
                         f"{s['round']} ({s['event']}).")
    return "\n".join(lines)


# --------------------------------------------------------------------------- first / last


async def _build_occasion(store: Store, plan: QueryPlan, which: str) -> Ctx:
    subjects = _subjects(plan)
    if not subjects:
        raise UserError(NEED_SUBJECT)
    metric = plan.metric if plan.metric in ("poles", "podiums", "wins") else "wins"
    sprint = plan.session_type == "S"
    out = []
    for s in subjects:
        o = await store.run(agg.occasion, metric, which, **s.key(), sprint=sprint)
        item: Ctx = s.ctx()
        if o is not None:
            item.update({"year": o.year, "round": o.round, "event": o.event, "grid": o.grid,
                         "position": o.position, "driver": o.driver, "team": o.team})
        out.append(item)
    return {"focus": f"{which}_win", "which": which, "metric": metric, "sprint": sprint,
            "subjects": out, "data_to": await _data_to(store)}


async def build_first_win(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    return await _build_occasion(store, plan, "first")


async def build_last_win(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    return await _build_occasion(store, plan, "last")


def render_occasion(ctx: Ctx) -> str:
    one = METRIC_WORDS[ctx["metric"]][0]
    one = f"sprint {one}" if ctx["sprint"] else one
    lines = []
    for s in ctx["subjects"]:
        if "year" not in s:
            d = ctx.get("data_to") or {}
            lines.append(f"**{s['name']}** has no {METRIC_WORDS[ctx['metric']][1]} in the data I hold "
                         f"(1950 to the {d.get('year')} {d.get('name')}).")
            continue
        grid = "from the pit lane" if s["grid"] == 0 else f"from grid {s['grid']}" if s["grid"] else ""
        if ctx["metric"] == "podiums" and s.get("position"):
            grid = f"P{s['position']} " + grid
        who = f" ({s['driver']})" if s["kind"] == "team" and s.get("driver") else ""
        team = f" with {s['team']}" if s["kind"] == "driver" and s.get("team") else ""
        lines.append(f"**{s['name']}**'s {ctx['which']} {one}: {s['year']} {s['event']} (round {s['round']})"
                     f"{who}, {grid}{team}.".replace(", .", ".").replace(",  ", ", "))
    return "\n".join(lines)


# --------------------------------------------------------------------------- leaders


async def build_leaders(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    metric = plan.metric or "wins"
    teams = plan.subject == "team" or (plan.standings_kind == "constructors" and not plan.drivers)
    if metric == "titles":
        kind = "constructors" if teams else "drivers"
        rows = await store.run(agg.title_leaders, kind)
        return {"focus": "leaders", "metric": "titles", "mode": "career", "years": [], "teams": teams,
                "sprint": False, "circuit": None, "open_season": await _open_season(store),
                "data_to": await _data_to(store),
                "rows": [{"name": r.name, "year": None, "value": r.value} for r in rows]}
    if metric not in agg.METRICS:
        raise UserError(NOT_HELD_METRIC.format(metric="laps led") if metric == "laps_led" else NEED_METRIC)
    years = _years(plan)
    await _check_years(store, years)
    circuit = _circuit(plan)
    sprint = plan.session_type == "S"
    if circuit:
        mode = "circuit"
    elif years:
        mode = "seasons"
    elif plan.scope == "season":
        mode = "season_record"
    else:
        mode = "career"
    rows = await store.run(
        agg.leaders, metric, by_season=mode == "season_record", years=years or None,
        circuit_ref=circuit[0] if circuit else None, teams=teams, sprint=sprint,
    )
    return {"focus": "leaders", "metric": metric, "mode": mode, "years": years, "teams": teams,
            "sprint": sprint, "circuit": circuit[1] if circuit else None, "open_season": await _open_season(store),
            "data_to": await _data_to(store),
            "rows": [{"name": r.name, "year": r.year, "value": r.value} for r in rows]}


def render_leaders(ctx: Ctx) -> str:
    many = METRIC_WORDS[ctx["metric"]][1]
    many = f"sprint {many}" if ctx["sprint"] else many
    if ctx["metric"] == "titles":
        many = "constructors' titles" if ctx["teams"] else "drivers' titles"
    d = ctx.get("data_to") or {}
    span = f"1950 to the {d.get('year')} {d.get('name')}"
    head = {
        "career": f"Most {many}, all time ({span})",
        "season_record": f"Most {many} in one season ({span})",
        "seasons": f"Most {many} in {_year_list(ctx['years'])}"
        + (f" ({IN_PROGRESS})" if ctx.get("open_season") in ctx["years"] else ""),
        "circuit": f"Most {many} at {ctx['circuit']} "
        + (f"in {_year_list(ctx['years'])}" if ctx["years"] else f"({span})"),
    }[ctx["mode"]]
    if not ctx["rows"]:
        return f"{head}: none in the data I hold."
    lines, rank, prev = [], 0, None
    for i, r in enumerate(ctx["rows"], 1):
        if r["value"] != prev:
            rank, prev = i, r["value"]
        year = f" ({r['year']})" if r.get("year") else ""
        count = (f"{f.points(r['value'])} {'title' if r['value'] == 1 else 'titles'}" if ctx["metric"] == "titles"
                 else _words(ctx["metric"], r["value"], ctx["sprint"]))
        lines.append(f"{rank}. **{r['name']}**{year} — {count}")
    return f"{head}:\n" + "\n".join(lines)


# --------------------------------------------------------------------------- teams


async def build_team_of(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if not plan.drivers:
        raise UserError(NEED_DRIVER)
    years = _years(plan)
    await _check_years(store, years)
    out = []
    for d in plan.drivers:
        item: Ctx = {"name": d.name}
        race = _race(plan)
        if race is not None:
            got = await store.run(agg.team_in_event, d.id, race.id)
            item["event"] = race.label
            item["team"] = got[1] if got else None
            item["session"] = got[2] if got else None
        else:
            spells = await store.run(agg.team_spells, d.id, years=years or None)
            item["years"] = years
            item["spells"] = [{"year": s.year, "team": s.team, "first_round": s.first_round,
                               "last_round": s.last_round, "races": s.races} for s in spells]
        out.append(item)
    return {"focus": "team_of", "drivers": out}


def _career_teams(spells: list[Ctx]) -> str:
    """Consecutive seasons with one team folded: "McLaren 2007–2012, Mercedes 2013–2024"."""
    runs: list[list[Any]] = []
    for s in spells:
        if runs and runs[-1][0] == s["team"] and runs[-1][2] in (s["year"], s["year"] - 1):
            runs[-1][2] = s["year"]
        else:
            runs.append([s["team"], s["year"], s["year"]])
    return ", ".join(f"{t} {a}" + (f"–{b}" if b != a else "") for t, a, b in runs)


def render_team_of(ctx: Ctx) -> str:
    lines = []
    for d in ctx["drivers"]:
        if "event" in d:
            if d["team"] is None:
                lines.append(NOT_AT_EVENT.format(name=d["name"], event=d["event"]))
            else:
                note = " (entered, did not race)" if d["session"] != "R" else ""
                lines.append(f"**{d['name']}** drove for **{d['team']}** at the {d['event']}{note}.")
            continue
        spells = d["spells"]
        if not spells:
            lines.append(DID_NOT_RACE.format(name=d["name"], years=_year_list(d["years"]) or "any season I hold"))
            continue
        if not d["years"]:
            lines.append(f"**{d['name']}**'s teams: {_career_teams(spells)}.")
            continue
        for y in d["years"]:
            mine = [s for s in spells if s["year"] == y]
            if not mine:
                lines.append(DID_NOT_RACE.format(name=d["name"], years=y))
            elif len(mine) == 1:
                lines.append(f"**{d['name']}** drove for **{mine[0]['team']}** in {y} ({mine[0]['races']} races).")
            else:
                parts = ", ".join(f"{s['team']} (rounds {s['first_round']}–{s['last_round']}, {s['races']} races)"
                                  for s in mine)
                lines.append(f"**{d['name']}** drove for several teams in {y}: {parts}.")
    return "\n".join(lines)


async def build_teammates(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    subjects = _subjects(plan)
    if not subjects:
        raise UserError(NEED_SUBJECT)
    event = _race(plan)
    years = _years(plan)
    await _check_years(store, years)
    out = []
    for s in subjects:
        item: Ctx = s.ctx()
        if s.kind == "driver":
            year = event.year if event else (years[0] if years else await store.last_year_of_driver(s.driver_id or 0))
            mates = await store.run(agg.teammates_of, s.driver_id, year=year,
                                    event_id=event.id if event else None) if year else []
        else:
            year = event.year if event else (years[0] if years else (await store.run(agg.team_span, s.team_ref))[1])
            mates = await store.run(agg.drivers_of_team, [s.team_ref], year=year,
                                    event_id=event.id if event else None) if year else []
        item.update({"year": year, "event": event.label if event else None,
                     "mates": [{"name": m.driver.name, "team": m.team, "races": m.races}
                               for m in mates if m.driver.id != s.driver_id]})
        out.append(item)
    return {"focus": "teammates", "subjects": out}


def render_teammates(ctx: Ctx) -> str:
    lines = []
    for s in ctx["subjects"]:
        when = f"the {s['event']}" if s.get("event") else str(s.get("year"))
        if s["kind"] == "driver" and not s["mates"]:
            if s.get("event"):
                lines.append(NOT_AT_EVENT.format(name=s["name"], event=s["event"]))
            else:
                lines.append(DID_NOT_RACE.format(name=s["name"], years=when))
            continue
        if s["kind"] == "team" and not s["mates"]:
            lines.append(f"{s['name']} had no race entry in {when}.")
            continue
        races = not s.get("event")
        names = ", ".join(f"**{m['name']}**" + (f" ({m['races']} races)" if races else "")
                          + (f" at {m['team']}" if s["kind"] == "driver" else "") for m in s["mates"])
        label = "teammates" if s["kind"] == "driver" else "drivers"
        lines.append(f"**{s['name']}**'s {label} in {when}: {names}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- standings maths


async def _standings_for(store: Store, plan: QueryPlan, kind: str) -> Any:
    years = _years(plan)
    await _check_years(store, years)
    year = years[0] if years else None
    rnd = plan.round
    race = plan.event if plan.event is not None and "default_event" not in plan.notes else None
    if race is not None and rnd is None:  # "after the brazilian gp 02": after that race's round
        year, rnd = race.year, race.round
    if year is None:
        seasons = await store.seasons()
        year = max(seasons) if seasons else None
    st = await store.standings(kind, year, rnd) if year is not None else None
    if st is None:
        after = f" after round {rnd}" if rnd else ""
        raise UserError(NO_STANDINGS.format(kind=kind.rstrip("s"), year=year or "that season", after=after))
    return st


def _standing_key(row: Any) -> tuple[Any, ...]:
    return (row.driver.id if row.driver else None, row.code)


async def build_points_gap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if len(plan.drivers) >= 2:
        kind, wanted = "drivers", [("driver", d.id, d.name) for d in plan.drivers[:2]]
    elif len(plan.teams) >= 2:
        kind, wanted = "constructors", [("team", ref, name) for ref, name in plan.teams[:2]]
    else:
        raise UserError(NEED_TWO)
    st = await _standings_for(store, plan, kind)
    found = []
    for what, key, name in wanted:
        row = next((r for r in st.rows if (r.driver.id if what == "driver" and r.driver else r.code) == key), None)
        if row is None:
            raise UserError(NOT_IN_STANDINGS.format(name=name, year=st.year, kind=kind.rstrip("s"), round=st.round))
        found.append({"name": row.name, "pos": row.position, "points": row.points})
    last = await store.run(agg.final_round, st.year)
    return {"focus": "points_gap", "kind": kind, "year": st.year, "round": st.round,
            "event": st.event.name if st.event else None, "final": last is not None and st.round >= last,
            "open": st.year == await _open_season(store),
            "rows": found, "gap": abs(found[0]["points"] - found[1]["points"])}


def render_points_gap(ctx: Ctx) -> str:
    a, b = sorted(ctx["rows"], key=lambda r: -r["points"])
    where = f"After round {ctx['round']} of {ctx['year']}" + (f" ({ctx['event']})" if ctx.get("event") else "")
    state = " — final standings" if ctx["final"] else (" — provisional, season in progress" if ctx.get("open") else "")
    if ctx["gap"] == 0:
        return (f"{where}{state}: **{a['name']}** and **{b['name']}** are level on "
                f"{f.points(a['points'])} points.")
    return (f"{where}{state}: **{a['name']}** P{a['pos']} {f.points(a['points'])} pts, **{b['name']}** "
            f"P{b['pos']} {f.points(b['points'])} pts — a gap of {f.points(ctx['gap'])} points.")


async def build_can_win(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    kind = "constructors" if plan.standings_kind == "constructors" or (plan.teams and not plan.drivers) \
        else "drivers"
    st = await _standings_for(store, plan, kind)
    left = await store.run(agg.points_left, kind, st.year, st.round)
    leader = st.rows[0]
    rows = []
    for r in st.rows:
        best = r.points + left.max_points
        best_upper = r.points + left.max_if_sprints
        rivals = max((o.points for o in st.rows if o is not r), default=0.0)
        verdict = "yes" if best >= rivals else ("maybe" if best_upper >= rivals else "no")
        rows.append({"name": r.name, "key": r.driver.id if r.driver else r.code, "pos": r.position,
                     "points": r.points, "behind": leader.points - r.points, "verdict": verdict,
                     "tie_only": verdict == "yes" and best == rivals})
    named = [d.id for d in plan.drivers] if kind == "drivers" else [ref for ref, _ in plan.teams]
    in_table = {r["key"] for r in rows}
    absent = [d.name for d in plan.drivers if d.id not in in_table] if kind == "drivers" \
        else [name for ref, name in plan.teams if ref not in in_table]
    return {"focus": "can_win", "kind": kind, "year": st.year, "round": st.round,
            "event": st.event.name if st.event else None, "remaining": len(left.races),
            "left": left.max_points, "left_if_sprints": left.max_if_sprints, "rule": left.rule.note,
            "rows": rows, "named": named, "absent": absent, "open": st.year == await _open_season(store)}


def render_can_win(ctx: Ctx) -> str:
    where = f"After round {ctx['round']} of {ctx['year']}" + (f" ({ctx['event']})" if ctx.get("event") else "")
    word = "drivers'" if ctx["kind"] == "drivers" else "constructors'"
    if ctx["remaining"] == 0:
        top = ctx["rows"][0]
        return f"{where}: the {ctx['year']} {word} title is decided — **{top['name']}** with {f.points(top['points'])} pts."
    n = ctx["remaining"]
    state = IN_PROGRESS if ctx.get("open") else AS_IT_STOOD
    rule = RULE_CAN_WIN.format(left=f.points(ctx["left"]), n=n, s="s" if n != 1 else "", rule=ctx["rule"])
    notes = [f"_({rule})_"]
    if ctx["left_if_sprints"] != ctx["left"]:
        notes.append(SPRINTS_UNKNOWN.format(left=f.points(ctx["left"]), upper=f.points(ctx["left_if_sprints"])))
    if ctx["named"]:
        lines = []
        for r in ctx["rows"]:
            if r["key"] not in ctx["named"]:
                continue
            gap = (f"{f.points(r['behind'])} behind the leader" if r["behind"] > 0
                   else "leading" if r["pos"] == 1 else "level on points with the leader")
            if r["verdict"] == "yes":
                ans = "yes" + (" — but only by tying on points and winning on count-back" if r["tie_only"] else "")
            elif r["verdict"] == "maybe":
                ans = "can't tell for sure: only if some of the remaining rounds are sprint weekends"
            else:
                ans = "no, mathematically out of it"
            lines.append(f"**{r['name']}** (P{r['pos']}, {f.points(r['points'])} pts, {gap}): {ans}.")
        for name in ctx.get("absent") or []:
            lines.append(NOT_IN_STANDINGS.format(name=name, year=ctx["year"], kind=ctx["kind"].rstrip("s"),
                                                 round=ctx["round"]))
        return f"{where}, {word} title ({state}):\n" + "\n".join(lines + notes)
    alive = [r for r in ctx["rows"] if r["verdict"] != "no"]
    names = ", ".join(f"**{r['name']}** {f.points(r['points'])}" + (" (only if there are sprints)"
                      if r["verdict"] == "maybe" else "") for r in alive)
    return f"{where}, still able to win the {word} title ({state}): {names}.\n" + "\n".join(notes)


INTENTS: dict[str, Intent] = {
    "stat": Intent("stat", build_stat, render_stat, "none"),
    "titles": Intent("titles", build_titles, render_titles, "none"),
    "champion": Intent("champion", build_champion, render_champion, "none"),
    "first_win": Intent("first_win", build_first_win, render_occasion, "none"),
    "last_win": Intent("last_win", build_last_win, render_occasion, "none"),
    "leaders": Intent("leaders", build_leaders, render_leaders, "none"),
    "team_of": Intent("team_of", build_team_of, render_team_of, "none"),
    "teammates": Intent("teammates", build_teammates, render_teammates, "none"),
    "points_gap": Intent("points_gap", build_points_gap, render_points_gap, "none"),
    "can_win": Intent("can_win", build_can_win, render_can_win, "none"),
}
