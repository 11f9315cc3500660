"""Intents about one race weekend: positions, result detail, the lap story and qualifying.

Classification facts come from `storage.queries.results` (official beats timing;
a provisional order is said to be one); lap facts from the lap table, which only
FastF1-ingested races have — for any other race the reply says so and names the
races that have it, never a guess. Each `build` returns plain facts; each
`render` words them and never adds a figure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot import format as f
from bot import messages as m
from bot.errors import UserError
from bot.intents import Ctx, Intent, race_laps, race_quali
from bot.intents import race_common as c
from bot.intents import race_text as tx
from bot.plan import QueryPlan
from storage import queries as q
from storage import race_detail as rd
from storage.store import Store

# --------------------------------------------------------------------------- position, points


async def _build_position(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan)
    ctx = c.base_ctx(plan, cls)
    quali = cls.session.type in ("Q", "SQ")
    ctx["quali"] = quali
    if plan.position is None and plan.drivers:
        rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [c.row_ctx(r) | {"best": f.lap_time(r.best_quali_ms) if r.best_quali_ms else None} for r in rows]
        return ctx
    if plan.position is None:
        raise UserError(tx.NEED_POSITION)
    classified = [r for r in cls.rows if r.position is not None]
    if plan.position == -1:
        if not classified:
            raise UserError(tx.NOBODY_AT.format(pos="last", title=ctx["title"], n=0))
        last = max(classified, key=lambda r: r.position or 0)
        ctx["last"] = True
        ctx["rows"] = [c.row_ctx(last) | {"best": f.lap_time(last.best_quali_ms) if last.best_quali_ms else None}]
        sheet = cls.rows[-1]
        ctx["sheet_last"] = c.row_ctx(sheet) if sheet.driver.id != last.driver.id else None
        return ctx
    hit = [r for r in classified if r.position == plan.position]
    if not hit:
        raise UserError(tx.NOBODY_AT.format(pos=plan.position, title=ctx["title"], n=len(classified)))
    r = hit[0]
    ctx["rows"] = [c.row_ctx(r) | {"best": f.lap_time(r.best_quali_ms) if r.best_quali_ms else None}]
    if quali and plan.position != 1 and classified:
        # "and in quali?" after "who won" / "who was second": the pole-sitter is the other reading.
        pole = min(classified, key=lambda x: x.position or 99)
        ctx["pole"] = c.row_ctx(pole) | {"best": f.lap_time(pole.best_quali_ms) if pole.best_quali_ms else None}
    return ctx


def _render_position(ctx: Ctx) -> str:
    lines = []
    for r in ctx["rows"]:
        if ctx.get("last") and not ctx["quali"]:
            tmpl = tx.LAST_PROVISIONAL if r["provisional"] else tx.LAST_CLASSIFIED
            lines.append(tmpl.format(who=r["who"], title=ctx["title"], pos=r["pos"], team=r["team"]))
        elif ctx["quali"] and r["pos"] is not None:
            t = tx.QUALI_BEST.format(time=r["best"]) if r.get("best") else ""
            t += tx.QUALI_LAST if ctx.get("last") else ""
            lines.append(tx.QUALIFIED_AT.format(who=r["who"], pos=r["pos"], title=ctx["title"], team=r["team"], time=t))
        else:
            lines.append(tx.FINISHED_AT.format(who=r["who"], phrase=r["phrase"], title=ctx["title"], team=r["team"]))
    if s := ctx.get("sheet_last"):
        lines.append(tx.LAST_ON_SHEET.format(who=s["who"], phrase=s["phrase"]))
    if p := ctx.get("pole"):
        lines.append(tx.POLE_LINE.format(who=p["who"], time=f" ({p['best']})" if p.get("best") else ""))
    return c.with_notes(ctx, "\n".join(lines))


async def _build_points(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R", "S"), tx.NO_POINTS_SESSION)
    ctx = c.base_ctx(plan, cls)
    c.require_official(cls, ctx["title"])
    scorers = [r for r in cls.rows if r.points]
    if not scorers:
        raise UserError(tx.NO_POINTS_HELD.format(title=ctx["title"]))
    ctx["scorers"] = [c.row_ctx(r) for r in scorers]
    if plan.drivers:
        rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [c.row_ctx(r) for r in rows]
    return ctx


def _render_points(ctx: Ctx) -> str:
    if "rows" in ctx:
        return c.with_notes(ctx, "\n".join(
            (tx.POINTS_DRIVER if r["points"] not in (None, "0") else tx.POINTS_DRIVER_NONE).format(
                who=r["who"], points=r["points"], s=c.plural(int(float(r["points"] or 0))), title=ctx["title"],
                phrase=r["phrase"]) for r in ctx["rows"]))
    items = [f"{r['pos_cell']}. **{r['code'] or r['who']}** {r['points']}" for r in ctx["scorers"]]
    return c.with_notes(ctx, tx.POINTS_HEAD.format(title=ctx["title"], n=len(items)) + "\n" + ", ".join(items))


# --------------------------------------------------------------------------- grid, retirements, laps


def _grid_line(r: Ctx) -> str:
    if not r["started"]:
        return tx.GRID_NOT_STARTED.format(who=r["who"], phrase=r["phrase"])
    if r["pit_lane_start"]:
        return tx.GRID_PIT_LANE.format(who=r["who"], phrase=r["phrase"])
    if r["pos"] is None:
        return tx.GRID_DNF.format(who=r["who"], grid=r["grid"], phrase=r["phrase"])
    n = r["grid"] - r["pos"]
    tmpl = tx.GRID_GAINED if n > 0 else tx.GRID_LOST if n < 0 else tx.GRID_SAME
    return tmpl.format(who=r["who"], grid=r["grid"], pos=r["pos"], n=abs(n), s=c.plural(abs(n)))


async def _build_grid(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R", "S"))
    ctx = c.base_ctx(plan, cls)
    c.require_official(cls, ctx["title"])
    if all(r.grid is None for r in cls.rows):
        raise UserError(tx.GRID_NO_GRID.format(title=ctx["title"]))
    if plan.drivers:
        rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [c.row_ctx(r) for r in rows]
        return ctx
    moves = [(r.grid - r.position, c.row_ctx(r)) for r in cls.rows
             if r.position is not None and r.grid and not r.pit_lane_start]
    ctx["gainers"] = [r | {"delta": d} for d, r in sorted(moves, key=lambda x: -x[0]) if d > 0][:3]
    ctx["losers"] = [r | {"delta": d} for d, r in sorted(moves, key=lambda x: x[0]) if d < 0][:3]
    ctx["aside"] = [c.row_ctx(r) for r in cls.rows if r.pit_lane_start or (r.started and r.position is None)]
    return ctx


def _render_grid(ctx: Ctx) -> str:
    if "rows" in ctx:
        return c.with_notes(ctx, "\n".join(_grid_line(r) for r in ctx["rows"]))

    def item(r: Ctx) -> str:
        return f"**{r['code'] or r['who']}** P{r['grid']}→P{r['pos']} ({r['delta']:+d})"

    lines = []
    if ctx["gainers"]:
        lines.append(tx.GRID_GAINERS.format(title=ctx["title"], items=", ".join(item(r) for r in ctx["gainers"])))
    if ctx["losers"]:
        lines.append(tx.GRID_LOSERS.format(items=", ".join(item(r) for r in ctx["losers"])))
    if not lines:
        lines.append(tx.GRID_NONE.format(title=ctx["title"]))
    if ctx["aside"]:
        aside = [(tx.ASIDE_PIT_LANE if r["pit_lane_start"] else tx.ASIDE_GRID).format(
            code=r["code"] or r["who"], grid=r["grid"], phrase=r["phrase"]) for r in ctx["aside"]]
        lines.append(tx.GRID_ASIDE.format(items="; ".join(aside)))
    return c.with_notes(ctx, "\n".join(lines))


_RETIRE_OUTCOMES = {
    "dnfs": ("retired", "not_classified"),
    "dns": ("did_not_start", "withdrawn"),
    "dsq": ("disqualified", "excluded"),
}


async def _build_retirements(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R", "S"))
    ctx = c.base_ctx(plan, cls)
    c.require_official(cls, ctx["title"])
    if plan.drivers:
        rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [c.row_ctx(r) for r in rows]
        return ctx
    kinds = [plan.metric] if plan.metric in _RETIRE_OUTCOMES else ["dnfs", "dns", "dsq"]
    ctx["groups"] = [
        {"kind": k, "rows": [c.row_ctx(r) for r in cls.rows if r.outcome in _RETIRE_OUTCOMES[k]]} for k in kinds
    ]
    ctx["asked"] = plan.metric if plan.metric in _RETIRE_OUTCOMES else "dnfs"
    ctx["classified_retired"] = [c.row_ctx(r) for r in cls.rows if r.outcome == "classified_retired"]
    return ctx


def _render_retirements(ctx: Ctx) -> str:
    if "rows" in ctx:
        return c.with_notes(ctx, "\n".join(tx.RETIRE_DRIVER.format(who=r["who"], phrase=r["phrase"], title=ctx["title"])
                                    for r in ctx["rows"]))
    lines = []
    for g in ctx["groups"]:
        kind = tx.RETIRE_KIND[g["kind"]]
        if g["rows"]:
            lines.append(tx.RETIRE_HEAD.format(kind=kind[:1].upper() + kind[1:], title=ctx["title"], n=len(g["rows"])))
            lines += [f"- **{r['who']}** ({r['team']}) {r['phrase']}" for r in g["rows"]]
        elif g["kind"] == ctx["asked"]:
            lines.append(tx.RETIRE_NONE[g["kind"]].format(title=ctx["title"]))
    if ctx["classified_retired"] and ctx["asked"] == "dnfs":
        lines.append(tx.RETIRE_CLASSIFIED.format(
            items=", ".join(f"**{r['code'] or r['who']}** {r['phrase']}" for r in ctx["classified_retired"])))
    return c.with_notes(ctx, "\n".join(lines))


async def _build_laps_completed(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R", "S"))
    ctx = c.base_ctx(plan, cls)
    c.require_official(cls, ctx["title"])
    total = max((r.laps for r in cls.rows if r.laps is not None), default=None)
    if total is None:
        raise UserError(tx.LAPS_NONE.format(title=ctx["title"]))
    ctx["total"] = total
    rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
    ctx["rows"] = [c.row_ctx(r) for r in rows]
    return ctx


def _render_laps_completed(ctx: Ctx) -> str:
    if not ctx["rows"] and not ctx.get("absent"):
        return c.with_notes(ctx, tx.LAPS_DISTANCE.format(title=ctx["title"], total=ctx["total"]))
    return c.with_notes(ctx, "\n".join(
        tx.LAPS_DONE.format(who=r["who"], laps=r["laps"] if r["laps"] is not None else 0, total=ctx["total"],
                         title=ctx["title"], phrase=r["phrase"]) for r in ctx["rows"]))


# --------------------------------------------------------------------------- the story of a race


_FLAG_WORDS = {"4": "safety car", "6": "virtual safety car", "5": "red flag"}


async def _none() -> None:
    return None


async def _build_story(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R", "S"))
    ctx = c.base_ctx(plan, cls)
    sid = cls.session.id
    w = cls.rows[0]
    second = cls.rows[1] if len(cls.rows) > 1 else None
    ctx["winner"] = {"who": c.driver_label(w.driver), "team": w.team_name, "grid": w.grid, "provisional": w.provisional}
    if second is not None and second.gap_ms is not None and not second.provisional:
        ctx["margin"] = {"gap": f.gap(second.gap_ms), "who": second.driver.short}
    assert plan.event is not None
    # Independent reads, in parallel: the story is the widest reply (5 reads in one wait).
    qs, has_laps, flags, fl, pens = await asyncio.gather(
        store.session_for(plan.event.id, "SQ" if cls.session.type == "S" else "Q"), store.has_laps(sid),
        store.run(q.flags, sid), store.fastest_lap(sid), store.run(q.penalties, sid))
    qcls, leaders = await asyncio.gather(
        store.results(qs.id) if qs else _none(), store.run(rd.lap_leaders, sid) if has_laps else _none())
    if qcls and qcls.rows:
        p = qcls.rows[0]
        ctx["pole"] = {"who": c.driver_label(p.driver), "time": f.lap_time(p.best_quali_ms) if p.best_quali_ms else None}
    if leaders:
        ctx["lap_data"] = True
        ctx["lap1_leader"] = c.driver_label(leaders[0].driver)
        ctx["lead_changes"] = [{"lap": ll.lap, "code": ll.driver.short} for ll in c.lead_changes_of(leaders)]
    if flags is not None:
        ctx["flags_source"] = m.FLAGS_SOURCE_HISTORY if flags.source == "history" else m.FLAGS_SOURCE_TIMING
        ctx["flags"] = [
            {"kind": _FLAG_WORDS[p.status], "from": p.from_lap, "to": p.to_lap}
            for p in flags.periods if p.status in _FLAG_WORDS and p.phase == "race"
        ]
    ctx["retired"] = [
        {"code": r.driver.short, "grid": r.grid, "phrase": c.row_ctx(r)["phrase"]}
        for r in cls.rows if r.outcome in ("retired", "not_classified", "disqualified", "excluded")
        and r.grid is not None and 0 < r.grid <= 10
    ]
    if fl:
        ctx["fastest"] = {"who": fl.driver.short, "time": f.lap_time(fl.lap_time_ms), "lap": fl.lap_number}
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


STORY_MAX_CHANGES = 8  # a story line, not a table: the rest is "and N more" (lead_changes lists them all)


def _render_story(ctx: Ctx) -> str:
    w = ctx["winner"]
    if w["provisional"]:
        head = tx.STORY_PROVISIONAL_WIN.format(who=w["who"], title=ctx["title"], team=w["team"])
    else:
        grid = (tx.STORY_FROM_POLE if w["grid"] == 1 else tx.STORY_FROM_GRID.format(grid=w["grid"])) if w["grid"] else ""
        mg = ctx.get("margin")
        margin = tx.STORY_MARGIN.format(gap=mg["gap"], who=mg["who"]) if mg else ""
        head = tx.STORY_WINNER.format(who=w["who"], team=w["team"], title=ctx["title"], grid=grid, margin=margin)
    lines = [head]
    if p := ctx.get("pole"):
        lines.append(tx.STORY_POLE.format(who=p["who"], time=f" ({p['time']})" if p["time"] else ""))
    if ctx.get("lap_data"):
        ch = ctx["lead_changes"]
        shown = ", ".join(f"lap {x['lap']} {x['code']}" for x in ch[:STORY_MAX_CHANGES])
        more = tx.STORY_MORE.format(n=len(ch) - STORY_MAX_CHANGES) if len(ch) > STORY_MAX_CHANGES else ""
        items = ": " + shown + more if ch else ""
        lines.append(tx.STORY_START.format(who=ctx["lap1_leader"], n=len(ch) or tx.STORY_NO_CHANGES, items=items))
    if "flags" in ctx:
        if ctx["flags"]:
            lines.append(tx.STORY_FLAGS.format(source=ctx["flags_source"], items=", ".join(_span(x) for x in ctx["flags"])))
        else:
            lines.append(tx.STORY_NO_FLAGS.format(source=ctx["flags_source"]))
    if ctx["retired"]:
        lines.append(tx.STORY_RETIRED.format(items="; ".join(f"{r['code']} (from P{r['grid']}) {r['phrase']}"
                                                          for r in ctx["retired"])))
    if fl := ctx.get("fastest"):
        lap = f" on lap {fl['lap']}" if fl.get("lap") else ""
        lines.append(tx.STORY_FASTEST.format(who=fl["who"], time=fl["time"], lap=lap))
    if ctx.get("penalties"):
        lines.append(tx.STORY_PENALTIES.format(items="; ".join(ctx["penalties"])))
    if ctx.get("lap_data") and not ctx.get("provisional"):
        lines.append(tx.LAP_DATA_NOTE)
    return c.with_notes(ctx, "\n".join(lines))


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
    _intent("laps_led", race_laps.build_laps_led, race_laps.render_laps_led, "laps"),
    _intent("lead_changes", race_laps.build_lead_changes, race_laps.render_lead_changes, "laps"),
    _intent("leader_on_lap", race_laps.build_leader_on_lap, race_laps.render_leader_on_lap, "laps"),
    _intent("driver_lap", race_laps.build_driver_lap, race_laps.render_driver_lap, "laps"),
    _intent("best_lap", race_laps.build_best_lap, race_laps.render_best_lap),
    _intent("stops_count", race_laps.build_stops_count, race_laps.render_stops_count),
    _intent("fastest_pitstop", race_laps.build_fastest_pitstop, race_laps.render_fastest_pitstop),
    _intent("quali", race_quali.build_quali, race_quali.render_quali),
    _intent("eliminated", race_quali.build_eliminated, race_quali.render_eliminated),
    _intent("gap_to_pole", race_quali.build_gap_to_pole, race_quali.render_gap_to_pole),
    _intent("quali_h2h", race_quali.build_h2h, race_quali.render_h2h, "none"),
    _intent("story", _build_story, _render_story),
])
