"""Calendar reads for the schedule intents (`bot.intents.schedule`).

Which rounds a season has, which weekends had a sprint, which races fall in a
month, and the sessions of one weekend. Synchronous like `storage.queries`;
`Store.run` calls them in its worker thread.

A season's rounds are its events with round >= 1 that are not testing: FastF1
schedules list pre-season testing as round 0, and a fan's "round 14 of 22"
never counts it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select

from storage.models import Event, Session
from storage.queries import Db, EventInfo, _connect, _event, _event_select


@dataclass(frozen=True, slots=True)
class WeekendSession:
    """One session of a race weekend; `start_utc` is None when the store holds no time."""

    type: str
    name: str
    start_utc: dt.datetime | None


def _is_round() -> object:
    return (Event.round >= 1) & or_(Event.format.is_(None), Event.format != "testing")


def season_rounds(db: Db, year: int) -> int:
    """How many championship rounds the stored calendar of `year` has."""
    stmt = select(func.count(Event.id)).where(Event.year == year, _is_round())
    with _connect(db) as conn:
        return int(conn.execute(stmt).scalar_one())


def season_events(db: Db, year: int) -> list[EventInfo]:
    """The championship rounds of `year`, in order (testing left out)."""
    stmt = _event_select().where(Event.year == year, _is_round()).order_by(Event.round)
    with _connect(db) as conn:
        return [_event(r) for r in conn.execute(stmt)]


def sprint_events(db: Db, year: int) -> list[EventInfo]:
    """Rounds of `year` with a sprint session (scheduled or with results), in order."""
    has_sprint = exists(select(Session.id).where(Session.event_id == Event.id, Session.type == "S"))
    stmt = _event_select().where(Event.year == year, _is_round(), has_sprint).order_by(Event.round)
    with _connect(db) as conn:
        return [_event(r) for r in conn.execute(stmt)]


def events_in_month(db: Db, year: int, month: int) -> list[EventInfo]:
    """Rounds of `year` whose race date falls in `month` (1-12), in order."""
    first = dt.date(year, month, 1)
    after = dt.date(year + (month == 12), month % 12 + 1, 1)
    stmt = (
        _event_select()
        .where(Event.year == year, _is_round(), Event.date >= first, Event.date < after)
        .order_by(Event.round)
    )
    with _connect(db) as conn:
        return [_event(r) for r in conn.execute(stmt)]


def weekend_sessions(db: Db, event_id: int) -> list[WeekendSession]:
    """Every stored session of one event (in no set order: the caller sorts by time)."""
    stmt = select(Session.type, Session.name, Session.start_utc).where(Session.event_id == event_id)
    with _connect(db) as conn:
        return [WeekendSession(r[0], r[1], r[2]) for r in conn.execute(stmt)]


def session_types_by_round(db: Db, year: int) -> dict[int, set[str]]:
    """Round → the session types the store holds for it (a future round from the history
    import holds only its race: its format is not known yet)."""
    stmt = (
        select(Event.round, Session.type)
        .join(Session, Session.event_id == Event.id)
        .where(Event.year == year, _is_round())
    )
    out: dict[int, set[str]] = {}
    with _connect(db) as conn:
        for rnd, typ in conn.execute(stmt):
            out.setdefault(rnd, set()).add(typ)
    return out
