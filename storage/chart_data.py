"""Rows the charts draw from, read in one query each.

Charts need whole-session and whole-season tables (every lap of every car, every
round's standings) where `storage.queries` reads per driver: one query here
rather than twenty keeps a chart's data read in milliseconds on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select

from storage.models import Driver as DriverModel
from storage.models import DriverStanding, Event, Lap, Result, Session
from storage.queries import Db, EventInfo, _connect, _event, _event_select, lap_window


@dataclass(frozen=True, slots=True)
class ChartLap:
    """One lap of one car, as the lap charts need it."""

    driver_id: int
    code: str
    lap: int
    lap_time_ms: int | None
    time_ms: int | None  # session time at the end of the lap (gaps)
    compound: str | None
    position: int | None
    pit_in: bool
    pit_out: bool
    track_status: str | None


@dataclass(frozen=True, slots=True)
class SeasonResult:
    """One car's place in one session of a season (teammate head-to-head)."""

    round: int
    event_name: str
    driver_id: int
    code: str
    constructor_ref: str | None
    team_name: str | None
    position: int | None  # official position, else the timing order (then `provisional`)
    provisional: bool


@dataclass(frozen=True, slots=True)
class PointsRow:
    """A driver's championship points after one round."""

    round: int
    driver_id: int
    code: str
    points: float
    position: int | None


def _code(code: str | None, ref: str) -> str:
    return code or ref[:3].upper()


def session_laps(
    db: Db, session_id: int, *, first: int | None = None, last: int | None = None
) -> list[ChartLap]:
    """Every lap of every car in a session, in (driver, lap) order."""
    stmt = (
        select(
            Lap.driver_id, DriverModel.code, DriverModel.ref, Lap.lap_number, Lap.lap_time_ms,
            Lap.time_ms, Lap.compound, Lap.position, Lap.pit_in_ms, Lap.pit_out_ms,
            Lap.track_status,
        )
        .join(DriverModel, DriverModel.id == Lap.driver_id)
        .where(Lap.session_id == session_id)
    )
    stmt = lap_window(stmt, first, last)
    with _connect(db) as conn:
        return [
            ChartLap(int(r[0]), _code(r[1], r[2]), int(r[3]), r[4], r[5], r[6], r[7],
                     r[8] is not None, r[9] is not None, r[10])
            for r in conn.execute(stmt.order_by(Lap.driver_id, Lap.lap_number))
        ]


def races_with_laps(db: Db, *, limit: int = 5) -> list[EventInfo]:
    """The latest races whose lap data we hold (named when a chart asks for a race without)."""
    has = exists(
        select(Lap.id)
        .join(Session, Session.id == Lap.session_id)
        .where(Session.event_id == Event.id, Session.type == "R")
    )
    stmt = _event_select().where(has).order_by(Event.year.desc(), Event.round.desc()).limit(limit)
    with _connect(db) as conn:
        return [_event(r) for r in conn.execute(stmt)]


def season_results(db: Db, year: int, session_type: str) -> list[SeasonResult]:
    """Every car's place in every `session_type` session of a season, in round order."""
    stmt = (
        select(
            Event.round, Event.name, Result.driver_id, DriverModel.code, DriverModel.ref,
            Result.constructor_ref, Result.team_name, Result.position, Result.position_order,
            Result.timing_position, Result.official_source,
        )
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .join(DriverModel, DriverModel.id == Result.driver_id)
        .where(Event.year == year, Session.type == session_type)
        .order_by(Event.round, Result.id)
    )
    out: list[SeasonResult] = []
    with _connect(db) as conn:
        for r in conn.execute(stmt):
            official = r[10] is not None
            if official:
                pos = r[7] if r[7] is not None else r[8]
            else:
                pos = r[9]
            out.append(SeasonResult(int(r[0]), r[1], int(r[2]), _code(r[3], r[4]), r[5], r[6],
                                    pos, not official and r[9] is not None))
    return out


def points_by_round(db: Db, year: int, *, up_to: int | None = None) -> list[PointsRow]:
    """Drivers' championship points after each round of a season (up to round `up_to`)."""
    S = DriverStanding
    stmt = (
        select(S.round, S.driver_id, DriverModel.code, DriverModel.ref, S.points, S.position)
        .join(DriverModel, DriverModel.id == S.driver_id)
        .where(S.year == year)
    )
    if up_to is not None:
        stmt = stmt.where(S.round <= up_to)
    with _connect(db) as conn:
        return [
            PointsRow(int(r[0]), int(r[1]), _code(r[2], r[3]), float(r[4]), r[5])
            for r in conn.execute(stmt.order_by(S.round, S.position))
        ]


def season_rounds(db: Db, year: int) -> dict[int, str]:
    """round → event name for a season (axis labels)."""
    with _connect(db) as conn:
        return {int(r[0]): r[1] for r in conn.execute(
            select(Event.round, Event.name).where(Event.year == year).order_by(Event.round))}


def latest_season_with_results(db: Db) -> int | None:
    """The latest season holding any race result (default year for season charts)."""
    with _connect(db) as conn:
        row = conn.execute(
            select(Event.year).join(Session, Session.event_id == Event.id)
            .where(Session.type == "R", exists(select(Result.id).where(Result.session_id == Session.id)))
            .order_by(Event.year.desc()).limit(1)
        ).first()
    return int(row[0]) if row else None
