"""Lap-story and pit-stop intents: laps led, lead changes, the leader on a lap, a driver's
lap, best laps, stop counts and the fastest pit stop.

Lap facts exist only for FastF1-ingested races; for any other race the reply says so
and names the races that have them. Pit-stop times are pit-lane times, said so.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot import format as f
from bot import messages as m
from bot.errors import UserError
from bot.intents import Ctx
from bot.intents import race_common as c
from bot.intents import race_text as tx
from bot.plan import QueryPlan
from storage import queries as q
from storage import race_detail as rd
from storage.store import Store

# --------------------------------------------------------------------------- lap story


async def _leaders(store: Store, plan: QueryPlan) -> tuple[Ctx, list[rd.LapLeader], int]:
    sid = await c.lap_session(store, plan)
    ctx = c.base_ctx(plan)
    ctx["title"] = c.race_title(plan, "R")
    leaders = await store.run(rd.lap_leaders, sid)
    if not leaders:
        raise UserError(await c.no_lap_data(store, ctx["title"]))
    ctx["total"] = leaders[-1].lap
    return ctx, leaders, sid


async def build_laps_led(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    ctx, leaders, sid = await _leaders(store, plan)
    counts = Counter(ll.driver.id for ll in leaders)
    names = {ll.driver.id: ll.driver for ll in leaders}
    ctx["led"] = [{"who": c.driver_label(names[i]), "code": names[i].code, "laps": n} for i, n in counts.most_common()]
    if plan.drivers:
        cls = await store.results(sid)
        in_race = {r.driver.id for r in cls.rows} if cls else set()
        ctx["drivers_led"] = [{"who": c.driver_label(d), "laps": counts.get(d.id, 0)} for d in plan.drivers if d.id in in_race]
        if cls:
            ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])[1]
    return ctx


def render_laps_led(ctx: Ctx) -> str:
    if "drivers_led" in ctx:
        return c.with_notes(ctx, "\n".join(tx.LAPS_LED_DRIVER.format(who=d["who"], n=d["laps"], total=ctx["total"],
                                                           title=ctx["title"]) for d in ctx["drivers_led"]))
    items = ", ".join(f"**{d['code'] or d['who']}** {d['laps']}" for d in ctx["led"])
    return tx.LAPS_LED_HEAD.format(title=ctx["title"], total=ctx["total"], items=items)


async def build_lead_changes(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    ctx, leaders, _ = await _leaders(store, plan)
    ctx["start"] = c.driver_label(leaders[0].driver)
    ctx["changes"] = [{"lap": ll.lap, "who": c.driver_label(ll.driver), "code": ll.driver.code} for ll in c.lead_changes_of(leaders)]
    return ctx


def render_lead_changes(ctx: Ctx) -> str:
    ch = ctx["changes"]
    if not ch:
        return tx.LEAD_NONE.format(title=ctx["title"], who=ctx["start"])
    items = "".join(f"; lap {x['lap']}: **{x['code'] or x['who']}** took the lead" for x in ch)
    return tx.LEAD_CHANGES.format(n=len(ch), s=c.plural(len(ch)), title=ctx["title"], start=ctx["start"], changes=items)


async def build_leader_on_lap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    lap = plan.lap_range[0] if plan.lap_range else None
    if lap is None:
        raise UserError(tx.NEED_LAP)
    ctx, leaders, _ = await _leaders(store, plan)
    hit = [ll for ll in leaders if ll.lap == lap]
    if not hit:
        raise UserError(tx.LAP_OUT_OF_RANGE.format(title=ctx["title"], last=ctx["total"], lap=lap))
    ctx["lap"] = lap
    ctx["who"] = c.driver_label(hit[0].driver)
    return ctx


def render_leader_on_lap(ctx: Ctx) -> str:
    return tx.LEADER_ON_LAP.format(who=ctx["who"], lap=ctx["lap"], title=ctx["title"])


async def build_driver_lap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if not plan.drivers:
        raise UserError(tx.NEED_DRIVER)
    last_lap = "last_lap" in plan.notes
    lap = plan.lap_range[0] if plan.lap_range else None
    if lap is None and not last_lap:
        raise UserError(tx.NEED_LAP)
    sid = await c.lap_session(store, plan)
    ctx = c.base_ctx(plan)
    ctx["title"] = c.race_title(plan, "R")
    cls = await store.results(sid)
    d = plan.drivers[0]
    rows, ctx["absent"] = c.pick_drivers(cls, [d], ctx["title"]) if cls else ([], [])
    if ctx["absent"]:
        ctx["lap_row"] = None
        return ctx
    laps = await store.laps_of_driver(sid, d.id)
    ctx["who"] = c.driver_label(d)
    ctx["phrase"] = c.row_ctx(rows[0])["phrase"] if rows else None
    if last_lap and laps:
        lap = laps[-1].lap_number
    ctx["lap"] = lap if lap is not None else "last"
    hit = [x for x in laps if x.lap_number == lap]
    if not hit:
        ctx["lap_row"] = None
        return ctx
    x = hit[0]
    notes = [n for n, on in ((tx.PIT_IN, x.pit_in), (tx.PIT_OUT, x.pit_out)) if on]
    ctx["lap_row"] = {"pos": f"P{x.position}" if x.position else tx.UNPLACED,
                      "time": f.lap_time(x.lap_time_ms) if x.lap_time_ms else None,
                      "compound": x.compound, "notes": notes, "last": last_lap}
    return ctx


def render_driver_lap(ctx: Ctx) -> str:
    x = ctx.get("lap_row")
    if x is None:
        if "who" not in ctx:
            return c.with_notes(ctx, "")
        return c.with_notes(ctx, tx.DRIVER_NO_LAP.format(who=ctx["who"], lap=ctx["lap"], title=ctx["title"],
                                               phrase=ctx["phrase"] or "no lap data"))
    tyre = tx.ON_TYRES.format(compound=x["compound"]) if x["compound"] else ""
    notes = f" ({', '.join(x['notes'])})" if x["notes"] else ""
    lap = tx.THEIR_LAST.format(lap=ctx["lap"]) if x["last"] else ctx["lap"]
    if x["time"] is None:
        return c.with_notes(ctx, tx.DRIVER_LAP_NO_TIME.format(lap=lap, title=ctx["title"], who=ctx["who"], pos=x["pos"],
                                                    tyre=tx.TYRES_ASIDE.format(compound=x["compound"])
                                                    if x["compound"] else "",
                                                    notes=notes))
    return c.with_notes(ctx, tx.DRIVER_LAP.format(lap=lap, title=ctx["title"], who=ctx["who"], pos=x["pos"], time=x["time"],
                                        tyre=tyre, notes=notes))


async def build_best_lap(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if plan.event is None:
        raise UserError(tx.NEED_RACE)
    cls = await c.classification(store, plan, ("R", "S", "Q", "SQ", "FP1", "FP2", "FP3"))
    ctx = c.base_ctx(plan, cls)
    sid = cls.session.id
    laps = await store.has_laps(sid)
    compound = plan.compound.upper() if plan.compound else None
    ctx["compound"] = compound
    if compound and not laps:
        raise UserError(tx.NO_COMPOUND_DATA.format(why=await c.no_lap_data(store, ctx["title"])))
    if not plan.drivers:
        if compound:
            b = await store.run(rd.best_lap, sid, None, compound)
            ctx["fastest"] = ({"who": c.driver_label(b.driver), "time": f.lap_time(b.lap_time_ms), "lap": b.lap_number,
                               "compound": b.compound} if b else None)
        else:
            fl = await store.fastest_lap(sid)
            ctx["fastest"] = ({"who": c.driver_label(fl.driver), "time": f.lap_time(fl.lap_time_ms), "lap": fl.lap_number,
                               "compound": fl.compound} if fl else None)
        return ctx
    rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
    out = []
    for r in rows:
        if laps:
            b = await store.run(rd.best_lap, sid, r.driver.id, compound)
            out.append({"who": c.driver_label(r.driver), "source": "laps", "time": f.lap_time(b.lap_time_ms) if b else None,
                        "lap": b.lap_number if b else None, "compound": b.compound if b else None})
        elif cls.session.type in ("Q", "SQ"):
            out.append({"who": c.driver_label(r.driver), "source": "quali", "lap": None, "compound": None,
                        "time": f.lap_time(r.best_quali_ms) if r.best_quali_ms else None})
        else:
            out.append({"who": c.driver_label(r.driver), "source": "results",
                        "time": f.lap_time(r.fastest_lap_ms) if r.fastest_lap_ms else None,
                        "lap": r.fastest_lap_number, "rank": r.fastest_lap_rank, "compound": None})
    ctx["best"] = out
    return ctx


def render_best_lap(ctx: Ctx) -> str:
    on = tx.ON_TYRES.format(compound=ctx["compound"]) if ctx.get("compound") else ""
    if "best" not in ctx:
        fl = ctx["fastest"]
        if not fl:
            return c.with_notes(ctx, tx.FASTEST_NONE.format(title=ctx["title"]))
        tyre = tx.ON_TYRES.format(compound=fl["compound"]) if fl.get("compound") and not on else ""
        lap = fl["lap"] if fl["lap"] is not None else "?"
        return c.with_notes(ctx, tx.FASTEST_ON.format(who=fl["who"], title=ctx["title"], on=on, time=fl["time"], lap=lap,
                                            tyre=tyre))
    lines = []
    for b in ctx["best"]:
        if b["time"] is None:
            lines.append(tx.BEST_LAP_NONE.format(who=b["who"], title=ctx["title"], on=on))
        elif b["source"] == "quali":
            lines.append(tx.BEST_LAP_QUALI.format(who=b["who"], title=ctx["title"], time=b["time"]))
        elif b["source"] == "results":
            lap = f" on lap {b['lap']}" if b.get("lap") else ""
            lines.append(tx.BEST_LAP_RESULTS.format(who=b["who"], title=ctx["title"], time=b["time"], lap=lap,
                                                 rank=b.get("rank") or "?"))
        else:
            tyre = f" ({b['compound']})" if b["compound"] and not on else ""
            lines.append(tx.BEST_LAP_DRIVER.format(who=b["who"], title=ctx["title"], on=on, time=b["time"],
                                                lap=b["lap"], tyre=tyre))
    return c.with_notes(ctx, "\n".join(lines))


# --------------------------------------------------------------------------- pit stops


async def build_stops_count(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R",), tx.PIT_RACES_ONLY)
    ctx = c.base_ctx(plan, cls)
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
    per = [{"who": c.driver_label(r.driver), "code": r.driver.code, "stops": counts.get(r.driver.id, 0),
            "laps": laps.get(r.driver.id, []), "phrase": c.row_ctx(r)["phrase"]} for r in starters]
    if plan.drivers:
        rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
        wanted = {r.driver.id for r in rows}
        ctx["drivers_stops"] = [p for p, r in zip(per, starters, strict=True) if r.driver.id in wanted]
    else:
        ctx["per_driver"] = per
    return ctx


def _no_stops(plan: QueryPlan, title: str) -> str:
    assert plan.event is not None
    return (tx.NO_STOPS_BEFORE_2011 if plan.event.year < 2011 else tx.NO_STOPS).format(title=title)


def _stop_label(n: int) -> str:
    return tx.STOP_LABELS.get(n, tx.STOP_LABEL_MANY.format(n=n))


def render_stops_count(ctx: Ctx) -> str:
    n = ctx["excluded_red_flag"]
    excl = tx.STOPS_EXCLUDED.format(n=n, s=c.plural(n)) if n else ""
    if "drivers_stops" in ctx:
        lines = []
        for p in ctx["drivers_stops"]:
            where = f" (lap{'s' if len(p['laps']) > 1 else ''} {', '.join(map(str, p['laps']))})" if p["laps"] else ""
            lines.append(tx.STOPS_DRIVER.format(who=p["who"], n=p["stops"], s=c.plural(p["stops"]), title=ctx["title"],
                                             laps=where) + (f" ({tx.STOPS_SOURCE[ctx['source']]}{excl})"
                                                            if excl else ""))
        return c.with_notes(ctx, "\n".join(lines))
    groups: dict[int, list[str]] = {}
    for p in ctx["per_driver"]:
        groups.setdefault(p["stops"], []).append(p["code"] or p["who"])
    lines = [tx.STOPS_HEAD.format(title=ctx["title"], total=ctx["total"], source=tx.STOPS_SOURCE[ctx["source"]], excl=excl)]
    lines += [tx.STOPS_GROUP.format(label=f"{_stop_label(k)} ({len(v)})", who=", ".join(v)) for k, v in sorted(groups.items())]
    return c.with_notes(ctx, "\n".join(lines))


async def build_fastest_pitstop(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    cls = await c.classification(store, plan, ("R",), tx.PIT_RACES_ONLY)
    ctx = c.base_ctx(plan, cls)
    summary = await store.run(q.pit_stop_summary, cls.session.id)
    p = summary.fastest
    if p is None:
        raise UserError(_no_stops(plan, ctx["title"]))
    ctx["fastest"] = {"who": c.driver_label(p.driver), "lap": p.lap, "label": f.pit_lane(p.duration_ms, p.pit_lane_ms),
                      "source": p.pit_lane_source}
    ctx["average"] = f.seconds(summary.average_ms)
    ctx["counted"] = summary.counted
    ctx["excluded_red_flag"] = summary.excluded_red_flag
    return ctx


def render_fastest_pitstop(ctx: Ctx) -> str:
    p = ctx["fastest"]
    n = ctx["excluded_red_flag"]
    excl = m.PIT_FASTEST_EXCLUDED.format(n=n, s=c.plural(n)) if n else ""
    return c.with_notes(ctx, "\n".join([
        tx.PITSTOP_FASTEST.format(title=ctx["title"], who=p["who"], lap=p["lap"], label=p["label"]),
        tx.PITSTOP_AVERAGE.format(avg=ctx["average"], n=ctx["counted"], excl=excl),
        "_" + tx.PITSTOP_NOTE[p["source"] or "timing"] + "_",
    ]))
