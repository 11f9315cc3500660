"""Qualifying intents: Q1/Q2/Q3 times, who topped a part, who went out, gap to pole, and
the teammate head-to-head over a season (qualifying and races)."""

from __future__ import annotations

import datetime as dt

from bot import format as f
from bot.errors import UserError
from bot.intents import Ctx
from bot.intents import race_common as c
from bot.intents import race_text as tx
from bot.plan import QueryPlan
from storage import race_detail as rd
from storage.queries import DriverInfo, ResultRow
from storage.store import Store

# --------------------------------------------------------------------------- qualifying


_PARTS = ("Q1", "Q2", "Q3")


def _part_ms(r: ResultRow, part: str) -> int | None:
    return {"Q1": r.q1_ms, "Q2": r.q2_ms, "Q3": r.q3_ms}[part]


async def _quali_plan(store: Store, plan: QueryPlan) -> QueryPlan:
    """The plan pointed at the qualifying session (Q, or SQ when asked) of its event."""
    if plan.event is None:
        raise UserError(tx.NEED_RACE)
    # A sprint question about qualifying parts means the sprint's own qualifying.
    stype = {"Q": "Q", "SQ": "SQ", "S": "SQ"}.get(plan.session_type, "Q")
    if plan.session is not None and plan.session.type == stype:
        return plan
    session = await store.session_for(plan.event.id, stype)
    return QueryPlan(text=plan.text, focus=plan.focus, year=plan.year, event=plan.event, session_type=stype,
                     session=session, drivers=plan.drivers, part=plan.part, teams=plan.teams, notes=plan.notes)


async def build_quali(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    plan = await _quali_plan(store, plan)
    cls = await c.classification(store, plan, ("Q", "SQ"), tx.NOT_QUALI)
    ctx = c.base_ctx(plan, cls)
    if plan.drivers:
        rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers, ctx["title"])
        ctx["rows"] = [{"who": c.driver_label(r.driver), "pos": r.position,
                        "times": [(p, f.lap_time(t)) for p in _PARTS
                                  if (t := _part_ms(r, p)) and (plan.part is None or p == plan.part)]} for r in rows]
        return ctx
    parts = [plan.part] if plan.part else list(_PARTS)
    tops = []
    for part in parts:
        timed = [r for r in cls.rows if _part_ms(r, part)]
        if timed:
            best = min(timed, key=lambda r: _part_ms(r, part) or 0)
            tops.append({"part": part, "who": c.driver_label(best.driver), "code": best.driver.code,
                         "time": f.lap_time(_part_ms(best, part))})
    if not tops:
        raise UserError(tx.NO_PART_TIMES.format(part=plan.part or "Q1/Q2/Q3", title=ctx["title"]))
    ctx["tops"] = tops
    ctx["one_part"] = bool(plan.part)
    return ctx


def render_quali(ctx: Ctx) -> str:
    if "rows" in ctx:
        lines = []
        for r in ctx["rows"]:
            times = ", ".join(f"{p} {t}" for p, t in r["times"]) or tx.NO_TIME_SET
            lines.append(tx.QUALI_DRIVER.format(who=r["who"], title=ctx["title"], times=times, pos=r["pos"]))
        return c.with_notes(ctx, "\n".join(lines))
    if ctx["one_part"]:
        t = ctx["tops"][0]
        return c.with_notes(ctx, tx.QUALI_TOPPED.format(who=t["who"], part=t["part"], title=ctx["title"], time=t["time"]))
    items = "; ".join(f"{t['part']} **{t['code'] or t['who']}** {t['time']}" for t in ctx["tops"])
    return c.with_notes(ctx, tx.QUALI_TOPS.format(title=ctx["title"], items=items))


async def build_eliminated(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    plan = await _quali_plan(store, plan)
    part = plan.part if plan.part in ("Q1", "Q2") else "Q1"
    assert plan.event is not None
    if plan.event.year < 2006:
        raise UserError(tx.OLD_FORMAT.format(year=plan.event.year, part=part))
    cls = await c.classification(store, plan, ("Q", "SQ"), tx.NOT_QUALI)
    ctx = c.base_ctx(plan, cls)
    nxt = "Q2" if part == "Q1" else "Q3"
    if not any(_part_ms(r, nxt) for r in cls.rows):
        raise UserError(tx.NO_PART_TIMES.format(part=nxt, title=ctx["title"]))
    if part == "Q1":
        out = [r for r in cls.rows if not r.q2_ms and not r.q3_ms]
    else:
        out = [r for r in cls.rows if r.q2_ms and not r.q3_ms]
    ctx.update(part=part, next=nxt, rows=[
        {"who": c.driver_label(r.driver), "code": r.driver.code, "pos": r.position,
         "time": f.lap_time(_part_ms(r, part)) if _part_ms(r, part) else "no time"} for r in out])
    return ctx


def render_eliminated(ctx: Ctx) -> str:
    items = ", ".join(f"P{r['pos']} **{r['code'] or r['who']}** ({r['time']})" for r in ctx["rows"])
    return c.with_notes(ctx, tx.ELIMINATED.format(part=ctx["part"], title=ctx["title"], n=len(ctx["rows"]), next=ctx["next"],
                                        items=items))


async def build_gap_to_pole(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    if not plan.drivers:
        raise UserError(tx.NEED_DRIVER)
    plan = await _quali_plan(store, plan)
    cls = await c.classification(store, plan, ("Q", "SQ"), tx.NOT_QUALI)
    ctx = c.base_ctx(plan, cls)
    pole = cls.rows[0]
    pole_part = next((p for p in reversed(_PARTS) if _part_ms(pole, p)), None)
    rows, ctx["absent"] = c.pick_drivers(cls, plan.drivers[:1], ctx["title"])
    ctx["rows"] = []
    for r in rows:
        part = next((p for p in reversed(_PARTS) if _part_ms(r, p)), None)
        item: Ctx = {"who": c.driver_label(r.driver), "pos": r.position, "on_pole": r.driver.id == pole.driver.id}
        if part and pole_part:
            t, pt = _part_ms(r, part) or 0, _part_ms(pole, pole_part) or 0
            item.update(part=part, time=f.lap_time(t), gap=f.gap(t - pt), pole_who=pole.driver.short,
                        pole_time=f.lap_time(pt), pole_part=pole_part)
        ctx["rows"].append(item)
    return ctx


def render_gap_to_pole(ctx: Ctx) -> str:
    lines = []
    for r in ctx["rows"]:
        if "part" not in r:
            lines.append(tx.GAP_NO_TIME.format(who=r["who"], title=ctx["title"]))
        elif r["on_pole"]:
            lines.append(tx.GAP_ON_POLE.format(who=r["who"], title=ctx["title"], time=r["time"]))
        else:
            lines.append(tx.GAP_POLE.format(**r, title=ctx["title"]))
    return c.with_notes(ctx, "\n".join(lines))


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


async def build_h2h(store: Store, plan: QueryPlan, now: dt.datetime) -> Ctx:
    year = plan.year or (plan.years[0] if plan.years else None) or now.year
    if plan.drivers:
        d = plan.drivers[0]
        refs = await store.run(rd.teams_of_driver, d.id, year)
        if not refs:
            raise UserError(tx.H2H_NO_SEASON.format(who=c.driver_label(d), year=year))
        focus_ids = {d.id}
        other = plan.drivers[1].id if len(plan.drivers) > 1 else None
    elif plan.teams:
        refs, focus_ids, other = [plan.teams[0][0]], set(), None
    else:
        raise UserError(tx.H2H_NEED)
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
        who = c.driver_label(plan.drivers[0]) if plan.drivers else plan.teams[0][1]
        raise UserError(tx.H2H_NONE.format(year=year, who=who))
    return ctx


def render_h2h(ctx: Ctx) -> str:
    lines = []
    for p in ctx["pairs"]:
        lines.append(tx.H2H_HEAD.format(year=ctx["year"], team=p["team"]))
        qa, qb, qn = p["quali"]
        ra, rb, rn = p["race"]
        lines.append(tx.H2H_QUALI.format(a=p["a"], b=p["b"], na=qa, nb=qb, n=qn))
        prov = "; includes provisional orders" if p["provisional"] else ""
        lines.append(tx.H2H_RACE.format(a=p["a"], b=p["b"], na=ra, nb=rb, n=rn, prov=prov))
    return "\n".join(lines)
