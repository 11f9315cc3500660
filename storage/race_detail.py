"""Typed reads behind the race-detail, lap-story and qualifying intents (`bot.intents.race`).

Everything a race-level question needs beyond `storage.queries`: who led each lap
(lap data), a driver's best lap (optionally on one compound), the races whose
lap-by-lap data we hold, and a team's season of qualifying and race results for
teammate head-to-heads. Classification questions go through `queries.results`
(the one precedence point); this module never re-decides official vs timing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select

from storage.models import Driver, Event, Lap, Result, Session
from storage.queries import (
    _DRIVER_COLS,
    _ND,
    Db,
    DriverInfo,
    EventInfo,
    _connect,
    _driver,
    _event,
    _event_select,
    result_outcome,
    valid_laps,
)


@dataclass(frozen=True, slots=True)
class LapLeader:
    """The car in front at the end of one lap."""

    lap: int
    driver: DriverInfo


@dataclass(frozen=True, slots=True)
class BestLap:
    driver: DriverInfo
    lap_time_ms: int
    lap_number: int
    compound: str | None


@dataclass(frozen=True, slots=True)
class TeamEntry:
    """One car of a team in one qualifying or race session of a season."""

    round: int
    event_name: str
    session_type: str  # "Q" or "R"
    driver: DriverInfo
    constructor_ref: str
    team_name: str | None
    position: int | None  # qualifying position, or official race position (None: not classified)
    order: int | None  # official order of every car (race), else the qualifying position
    outcome: str | None  # race: storage.queries.OUTCOMES; qualifying: None
    provisional: bool  # only FastF1's timing order is held for this car


def lap_leaders(db: Db, session_id: int) -> list[LapLeader]:
    """Who led at the end of each lap: the car FastF1 gives position 1; on a lap where no
    car has a position, the first car to complete it (smallest session time)."""
    base = select(*_DRIVER_COLS, Lap.lap_number).join(Driver, Driver.id == Lap.driver_id)
    with _connect(db) as conn:
        # Hazard: reading every lap (1000+ rows) costs 3 ms; the P1 rows alone, a tenth of it.
        found: dict[int, DriverInfo] = {}
        for r in conn.execute(base.where(Lap.session_id == session_id, Lap.position == 1)
                              .order_by(Lap.lap_number, Lap.time_ms)):
            found.setdefault(r[_ND], _driver(r))
        all_laps = {r[0] for r in conn.execute(
            select(Lap.lap_number).where(Lap.session_id == session_id).distinct())}
        missing = sorted(all_laps - set(found))
        if missing:
            for r in conn.execute(base.where(Lap.session_id == session_id, Lap.lap_number.in_(missing),
                                             Lap.time_ms.is_not(None))
                                  .order_by(Lap.lap_number, Lap.time_ms)):
                found.setdefault(r[_ND], _driver(r))
    return [LapLeader(lap, found[lap]) for lap in sorted(found)]


def best_lap(db: Db, session_id: int, driver_id: int | None, compound: str | None = None) -> BestLap | None:
    """A driver's (or, with no driver, the session's) fastest valid lap in the lap table —
    deleted laps left out — optionally on one compound."""
    stmt = valid_laps(session_id)
    if driver_id is not None:
        stmt = stmt.where(Lap.driver_id == driver_id)
    if compound is not None:
        stmt = stmt.where(Lap.compound == compound.upper())
    with _connect(db) as conn:
        row = conn.execute(stmt.order_by(Lap.lap_time_ms, Lap.lap_number).limit(1)).first()
    return BestLap(_driver(row), row[_ND], row[_ND + 1], row[_ND + 2]) if row else None


def lap_data_races(db: Db) -> list[EventInfo]:
    """Races whose lap-by-lap data we hold, newest first (named when a question needs it)."""
    has = exists(
        select(Lap.id).join(Session, Session.id == Lap.session_id)
        .where(Session.event_id == Event.id, Session.type == "R")
    )
    stmt = _event_select().where(has).order_by(Event.year.desc(), Event.round.desc())
    with _connect(db) as conn:
        return [_event(r) for r in conn.execute(stmt)]


def teams_of_driver(db: Db, driver_id: int, year: int) -> list[str]:
    """Constructor refs a driver raced or qualified for in a season, in order of first appearance."""
    stmt = (
        select(Result.constructor_ref, Event.round)
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Result.driver_id == driver_id, Event.year == year, Session.type.in_(("Q", "R")),
               Result.constructor_ref.is_not(None))
        .order_by(Event.round)
    )
    out: list[str] = []
    with _connect(db) as conn:
        for ref, _ in conn.execute(stmt):
            if ref not in out:
                out.append(ref)
    return out


def team_season(db: Db, year: int, constructor_refs: list[str]) -> list[TeamEntry]:
    """Every qualifying and race entry of the teams' cars in a season, by round.

    Race positions follow `queries.results`' rule: the official columns when an
    official source wrote the row, else FastF1's timing order marked provisional.
    """
    stmt = (
        select(*_DRIVER_COLS, Event.round, Event.name, Session.type, Result.constructor_ref, Result.team_name,
               Result.position, Result.position_text, Result.position_order, Result.status,
               Result.official_source, Result.timing_position)
        .join(Driver, Driver.id == Result.driver_id)
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(and_(Event.year == year, Session.type.in_(("Q", "R")),
                    Result.constructor_ref.in_(constructor_refs)))
        .order_by(Event.round, Session.type, Result.id)
    )
    out = []
    with _connect(db) as conn:
        for r in conn.execute(stmt):
            rnd, name, stype, ref, team, pos, text, order, status, source, timing = r[_ND:]
            provisional = source is None and timing is not None
            if provisional:
                pos, order, outcome = timing, timing, "provisional"
            elif stype == "R":
                outcome = result_outcome(text, status)
            else:
                order, outcome = pos, None
            out.append(TeamEntry(rnd, name, stype, _driver(r), ref, team, pos, order, outcome, provisional))
    return out
