"""Shared pieces of the race-weekend intents: the race title, the resolved classification
(or a clear reply when it is not held), named drivers who were not in the session, the
provisional note, and whether lap-by-lap data is held."""

from __future__ import annotations

from bot import format as f
from bot import messages as m
from bot.context import event_ctx, session_ctx
from bot.errors import UserError
from bot.intents import Ctx
from bot.intents import race_text as tx
from bot.plan import QueryPlan
from storage import race_detail as rd
from storage.queries import Classification, DriverInfo, ResultRow
from storage.store import Store


def race_title(plan: QueryPlan, stype: str | None = None) -> str:
    e = plan.event
    assert e is not None
    t = stype or (plan.session.type if plan.session else plan.session_type)
    base = f"{e.year} {e.name}"
    return base if t == "R" else f"{base} {tx.SESSION_WORD.get(t, t)}"


def driver_label(d: DriverInfo) -> str:
    return f"{d.name} ({d.code})" if d.code else d.name


async def classification(store: Store, plan: QueryPlan, types: tuple[str, ...] = ("R", "S", "Q", "SQ"),
                          wrong: str | None = None) -> Classification:
    """The session's resolved classification, or a clear reply when it is not held."""
    if plan.event is None:
        raise UserError(tx.NEED_RACE)
    if plan.session is None:
        raise UserError(m.NO_SESSION.format(session=tx.SESSION_WORD.get(plan.session_type, plan.session_type),
                                            event=f"{plan.event.year} {plan.event.name}"))
    if plan.session.type not in types:
        raise UserError((wrong or tx.RACES_ONLY).format(title=race_title(plan)))
    cls = await store.results(plan.session.id)
    if cls is None or not cls.rows:
        raise UserError(tx.NO_RESULTS.format(title=race_title(plan)))
    return cls


def base_ctx(plan: QueryPlan, cls: Classification | None = None) -> Ctx:
    assert plan.event is not None
    out: Ctx = {"event": event_ctx(plan.event), "title": race_title(plan),
                "provisional": bool(cls and cls.provisional)}
    if plan.session is not None:
        out["session"] = session_ctx(plan.session)
    return out


def row_ctx(r: ResultRow) -> Ctx:
    return {
        "who": driver_label(r.driver), "code": r.driver.code, "driver_id": r.driver.id, "team": r.team_name,
        "pos": r.position, "pos_cell": f.pos_cell(r.position, r.position_text, r.outcome),
        "grid": r.grid, "pit_lane_start": r.pit_lane_start, "started": r.started, "status": r.status,
        "laps": r.laps, "points": f.points(r.points) if r.points is not None else None,
        "outcome": r.outcome, "provisional": r.provisional,
        "phrase": f.result_phrase(r.outcome, r.position, r.status, r.laps),
    }


def pick_drivers(cls: Classification, drivers: list[DriverInfo], title: str) -> tuple[list[ResultRow], list[str]]:
    """The named drivers' rows, and a line for each named driver who was not in the session."""
    by_id = {r.driver.id: r for r in cls.rows}
    entrants = ", ".join(r.driver.short for r in cls.rows)
    rows, absent = [], []
    for d in drivers:
        if d.id in by_id:
            rows.append(by_id[d.id])
        else:
            absent.append(tx.NOT_IN_SESSION.format(driver=driver_label(d), title=title, entrants=entrants))
    return rows, absent


def with_notes(ctx: Ctx, text: str) -> str:
    """Lines about absent drivers and the provisional note, after the answer."""
    lines = [text] if text else []
    lines += ctx.get("absent") or []
    if ctx.get("provisional"):
        lines.append(tx.PROVISIONAL)
    return "\n".join(lines)


def require_official(cls: Classification, title: str) -> None:
    if all(r.provisional for r in cls.rows):
        raise UserError(tx.NO_STATUS_YET.format(title=title))


def plural(n: int) -> str:
    return "" if n == 1 else "s"


async def lap_session(store: Store, plan: QueryPlan) -> int:
    """The race session id, when its lap-by-lap data is held; else say which races have it."""
    if plan.event is None:
        raise UserError(tx.NEED_RACE)
    session = plan.session if plan.session is not None and plan.session.type == "R" else \
        await store.session_for(plan.event.id, "R")
    title = race_title(plan, "R")
    if session is None or not await store.has_laps(session.id):
        raise UserError(await no_lap_data(store, title))
    return session.id


async def no_lap_data(store: Store, title: str) -> str:
    held = await store.run(rd.lap_data_races)
    if not held:
        return tx.NO_LAP_DATA_AT_ALL.format(title=title)
    names = [f"{e.year} {e.name}" for e in held[:6]]
    more = f" and {len(held) - 6} more" if len(held) > 6 else ""
    return tx.NO_LAP_DATA.format(title=title, held=", ".join(names) + more)


def lead_changes_of(leaders: list[rd.LapLeader]) -> list[rd.LapLeader]:
    return [ll for prev, ll in zip(leaders, leaders[1:], strict=False) if ll.driver.id != prev.driver.id]
