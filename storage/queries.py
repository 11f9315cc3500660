"""Typed, read-only queries over the race store.

Every function takes an `Engine` or an open `Connection` and returns frozen
dataclasses, never ORM objects: the bot can hand them between threads, cache
them and turn them into prompt context without touching the database again.
Functions are synchronous; `storage.store.Store` runs them in a thread.

Others may ADD read functions at the end of this module (see CONTRACTS.md).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine, and_, exists, func, or_, select
from sqlalchemy.engine import Connection

from storage.models import (
    Circuit,
    ConstructorStanding,
    Driver,
    DriverStanding,
    Event,
    Lap,
    PitStop,
    RaceControlMessage,
    Result,
    Season,
    Session,
    SessionDriver,
    Stint,
    TrackStatusChange,
    WeatherSample,
)

Db = Engine | Connection


@contextmanager
def _connect(db: Db) -> Iterator[Connection]:
    if isinstance(db, Connection):
        yield db
    else:
        with db.connect() as conn:
            yield conn


# --------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class EventInfo:
    id: int
    year: int
    round: int
    name: str
    official_name: str | None
    country: str | None
    location: str | None
    circuit_ref: str | None
    circuit_name: str | None
    date: dt.date | None
    format: str | None

    @property
    def label(self) -> str:
        return f"{self.year} {self.name}"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session with its freshness: when FastF1 / history last wrote it, and how final."""

    id: int
    event: EventInfo
    type: str
    name: str
    start_utc: dt.datetime | None
    end_utc: dt.datetime | None
    status: str
    classification: str | None  # provisional / final / None (no results yet)
    ingested_at: dt.datetime | None
    history_at: dt.datetime | None
    total_laps: int | None

    @property
    def label(self) -> str:
        return f"{self.event.label} {self.name}"

    @property
    def updated_at(self) -> dt.datetime | None:
        stamps = [s for s in (self.ingested_at, self.history_at) if s is not None]
        return max(stamps) if stamps else None


@dataclass(frozen=True, slots=True)
class DriverInfo:
    id: int
    ref: str
    code: str | None
    number: int | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    nationality: str | None
    dob: dt.date | None

    @property
    def name(self) -> str:
        if self.full_name:
            return self.full_name
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.ref

    @property
    def short(self) -> str:
        return self.code or (self.last_name or self.ref)[:3].upper()


@dataclass(frozen=True, slots=True)
class ResultRow:
    position: int | None
    position_text: str | None
    driver: DriverInfo
    team_name: str | None
    constructor_ref: str | None
    number: str | None
    grid: int | None
    status: str | None
    points: float | None
    time_ms: int | None
    gap_ms: int | None
    laps: int | None
    fastest_lap_ms: int | None
    fastest_lap_number: int | None
    fastest_lap_rank: int | None
    q1_ms: int | None
    q2_ms: int | None
    q3_ms: int | None

    @property
    def best_quali_ms(self) -> int | None:
        times = [t for t in (self.q3_ms, self.q2_ms, self.q1_ms) if t]
        return times[0] if times else None


@dataclass(frozen=True, slots=True)
class Classification:
    session: SessionInfo
    rows: tuple[ResultRow, ...]


@dataclass(frozen=True, slots=True)
class LapRow:
    lap_number: int
    lap_time_ms: int | None
    s1_ms: int | None
    s2_ms: int | None
    s3_ms: int | None
    compound: str | None
    tyre_life: int | None
    stint: int | None
    position: int | None
    pit_in: bool
    pit_out: bool
    track_status: str | None
    deleted: bool | None


@dataclass(frozen=True, slots=True)
class StintRow:
    driver: DriverInfo
    stint: int
    compound: str | None
    start_lap: int
    end_lap: int
    laps: int
    tyre_life_start: int | None
    fresh_tyre: bool | None


@dataclass(frozen=True, slots=True)
class PitStopRow:
    driver: DriverInfo
    stop: int
    lap: int
    duration_ms: int | None
    pit_lane_ms: int | None
    compound_after: str | None


@dataclass(frozen=True, slots=True)
class FastestLap:
    driver: DriverInfo
    lap_time_ms: int
    lap_number: int | None
    compound: str | None
    source: str  # "laps" (FastF1 lap table) or "results" (classification column)


@dataclass(frozen=True, slots=True)
class StandingRow:
    position: int | None
    position_text: str | None
    name: str
    code: str | None  # driver code or constructor ref
    points: float
    wins: int
    driver: DriverInfo | None = None


@dataclass(frozen=True, slots=True)
class Standings:
    kind: str  # drivers / constructors
    year: int
    round: int
    event: EventInfo | None
    rows: tuple[StandingRow, ...]


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    event: EventInfo
    session_type: str
    session_name: str
    start_utc: dt.datetime


@dataclass(frozen=True, slots=True)
class FormRace:
    round: int
    event_name: str
    grid: int | None
    position: int | None
    position_text: str | None
    points: float | None
    status: str | None
    team_name: str | None


@dataclass(frozen=True, slots=True)
class DriverForm:
    driver: DriverInfo
    year: int
    races: tuple[FormRace, ...]
    standing: StandingRow | None

    @property
    def wins(self) -> int:
        return sum(1 for r in self.races if r.position == 1)

    @property
    def podiums(self) -> int:
        return sum(1 for r in self.races if r.position is not None and r.position <= 3)

    @property
    def points(self) -> float:
        return sum(r.points or 0.0 for r in self.races)


# --------------------------------------------------------------------------- rows → types

_EVENT_COLS = (
    Event.id,
    Event.year,
    Event.round,
    Event.name,
    Event.official_name,
    func.coalesce(Event.country, Circuit.country),
    func.coalesce(Event.location, Circuit.location),
    Event.circuit_ref,
    Circuit.name,
    Event.date,
    Event.format,
)
_SESSION_COLS = (
    Session.id,
    Session.type,
    Session.name,
    Session.start_utc,
    Session.end_utc,
    Session.status,
    Session.classification,
    Session.ingested_at,
    Session.history_at,
    Session.total_laps,
)
_DRIVER_COLS = (
    Driver.id,
    Driver.ref,
    Driver.code,
    Driver.number,
    Driver.first_name,
    Driver.last_name,
    Driver.full_name,
    Driver.nationality,
    Driver.dob,
)
_NE, _NS, _ND = len(_EVENT_COLS), len(_SESSION_COLS), len(_DRIVER_COLS)


def _event(row: Sequence[object]) -> EventInfo:
    return EventInfo(*row[:_NE])  # type: ignore[arg-type]


def _session(row: Sequence[object], event: EventInfo) -> SessionInfo:
    r = row[:_NS]
    return SessionInfo(r[0], event, *r[1:])  # type: ignore[arg-type]


def _driver(row: Sequence[object]) -> DriverInfo:
    return DriverInfo(*row[:_ND])  # type: ignore[arg-type]


def _event_select(*extra: object):  # type: ignore[no-untyped-def]
    return select(*_EVENT_COLS, *extra).select_from(Event).outerjoin(
        Circuit, Circuit.ref == Event.circuit_ref
    )


# --------------------------------------------------------------------------- seasons & events


def seasons(db: Db) -> list[int]:
    """Years we hold, newest first."""
    with _connect(db) as conn:
        years = {r[0] for r in conn.execute(select(Season.year))}
        years |= {r[0] for r in conn.execute(select(Event.year).distinct())}
    return sorted(years, reverse=True)


def events(db: Db, year: int | None = None) -> list[EventInfo]:
    """Events of one season (or all), in calendar order."""
    stmt = _event_select()
    if year is not None:
        stmt = stmt.where(Event.year == year)
    stmt = stmt.order_by(Event.year, Event.round)
    with _connect(db) as conn:
        return [_event(r) for r in conn.execute(stmt)]


def event_by_round(db: Db, year: int, round_: int) -> EventInfo | None:
    with _connect(db) as conn:
        row = conn.execute(_event_select().where(Event.year == year, Event.round == round_)).first()
    return _event(row) if row else None


def _has_results(session_type: str):  # type: ignore[no-untyped-def]
    return exists(
        select(Result.id)
        .join(Session, Session.id == Result.session_id)
        .where(Session.event_id == Event.id, Session.type == session_type)
    )


def last_event_with_results(
    db: Db, *, year: int | None = None, session_type: str = "R"
) -> EventInfo | None:
    """The latest event with a classification ("last race" = latest race result)."""
    stmt = _event_select().where(_has_results(session_type))
    if year is not None:
        stmt = stmt.where(Event.year == year)
    stmt = stmt.order_by(Event.year.desc(), Event.round.desc()).limit(1)
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
    return _event(row) if row else None


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower-case ASCII without accents or punctuation ("São Paulo" → "sao paulo")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower()).strip()


_EVENT_NOISE = {"grand", "prix", "gp", "the", "race", "of", "de", "formula", "1", "f1"}


@lru_cache(maxsize=8192)  # events are frozen; the resolver scans them on every question
def event_keys(e: EventInfo) -> dict[str, float]:
    """Words and phrases a user may name this event by, with how strongly they name it.

    The event's own name beats its venue, which beats its country: "united
    states" is the United States GP, not Las Vegas (also in the United States).
    """
    keys: dict[str, float] = {}
    stem = " ".join(w for w in fold(e.name).split() if w not in _EVENT_NOISE)
    for raw, weight in (
        (stem, 1.0),
        (e.location, 0.95),
        (e.circuit_ref, 0.95),
        (e.circuit_name, 0.9),
        (e.country, 0.85),
    ):
        if not raw:
            continue
        f = fold(raw.replace("_", " "))
        if f:
            keys[f] = max(keys.get(f, 0.0), weight)
        for w in f.split():
            if len(w) >= 4 and w not in _EVENT_NOISE:
                keys[w] = max(keys.get(w, 0.0), weight - 0.05)
    return keys


def match_events(candidates: Sequence[EventInfo], text: str) -> list[tuple[float, EventInfo]]:
    """Score events against loose text ("monza", "italian gp", "emilia romagna").

    An exact key match scores its key weight (about 1), a key starting with the
    text about 0.7, a single text word matching a key about 0.5. Returns the
    matches, best first; ties go to later events.
    """
    query = " ".join(w for w in fold(text).split() if w not in _EVENT_NOISE)
    if not query:
        return []
    words = [w for w in query.split() if len(w) >= 3]
    scored: list[tuple[float, EventInfo]] = []
    for e in candidates:
        keys = event_keys(e)
        score = keys.get(query, 0.0)
        if not score and len(query) >= 3:
            score = max((w * 0.7 for k, w in keys.items() if k.startswith(query)), default=0.0)
        if not score and words:
            score = max((keys[w] * 0.5 for w in words if w in keys), default=0.0)
        if score:
            scored.append((score, e))
    scored.sort(key=lambda se: (se[0], se[1].year, se[1].round), reverse=True)
    return scored


def last_event_with_laps(db: Db, *, year: int | None = None) -> EventInfo | None:
    """The latest race whose lap-by-lap data we hold (for pace, stints, laps)."""
    has = exists(
        select(Lap.id)
        .join(Session, Session.id == Lap.session_id)
        .where(Session.event_id == Event.id, Session.type == "R")
    )
    stmt = _event_select().where(has)
    if year is not None:
        stmt = stmt.where(Event.year == year)
    stmt = stmt.order_by(Event.year.desc(), Event.round.desc()).limit(1)
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
    return _event(row) if row else None


# --------------------------------------------------------------------------- sessions


def session_for(db: Db, event_id: int, session_type: str) -> SessionInfo | None:
    stmt = (
        _event_select(*_SESSION_COLS)
        .join(Session, Session.event_id == Event.id)
        .where(Event.id == event_id, Session.type == session_type)
    )
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
    return _session(row[_NE:], _event(row)) if row else None


def sessions_of_event(db: Db, event_id: int) -> list[SessionInfo]:
    stmt = (
        _event_select(*_SESSION_COLS)
        .join(Session, Session.event_id == Event.id)
        .where(Event.id == event_id)
        .order_by(Session.start_utc, Session.id)
    )
    with _connect(db) as conn:
        return [_session(r[_NE:], _event(r)) for r in conn.execute(stmt)]


def session_by_id(db: Db, session_id: int) -> SessionInfo | None:
    stmt = (
        _event_select(*_SESSION_COLS)
        .join(Session, Session.event_id == Event.id)
        .where(Session.id == session_id)
    )
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
    return _session(row[_NE:], _event(row)) if row else None


def has_laps(db: Db, session_id: int) -> bool:
    with _connect(db) as conn:
        return conn.execute(select(Lap.id).where(Lap.session_id == session_id).limit(1)).first() is not None


# --------------------------------------------------------------------------- results


def results(db: Db, session_id: int) -> Classification | None:
    """The classification of a session, in finishing order (unclassified last)."""
    info = session_by_id(db, session_id)
    if info is None:
        return None
    stmt = (
        select(
            *_DRIVER_COLS,
            Result.position,
            Result.position_text,
            Result.team_name,
            Result.constructor_ref,
            Result.number,
            Result.grid,
            Result.status,
            Result.points,
            Result.time_ms,
            Result.gap_ms,
            Result.laps,
            Result.fastest_lap_ms,
            Result.fastest_lap_number,
            Result.fastest_lap_rank,
            Result.q1_ms,
            Result.q2_ms,
            Result.q3_ms,
        )
        .join(Driver, Driver.id == Result.driver_id)
        .where(Result.session_id == session_id)
        .order_by(Result.position.is_(None), Result.position, Result.id)
    )
    with _connect(db) as conn:
        rows = tuple(
            ResultRow(r[_ND], r[_ND + 1], _driver(r), *r[_ND + 2 :])  # type: ignore[arg-type]
            for r in conn.execute(stmt)
        )
    return Classification(info, rows)


# --------------------------------------------------------------------------- laps, stints, stops


def laps_of_driver(
    db: Db, session_id: int, driver_id: int, *, first: int | None = None, last: int | None = None
) -> list[LapRow]:
    stmt = select(
        Lap.lap_number,
        Lap.lap_time_ms,
        Lap.s1_ms,
        Lap.s2_ms,
        Lap.s3_ms,
        Lap.compound,
        Lap.tyre_life,
        Lap.stint,
        Lap.position,
        Lap.pit_in_ms,
        Lap.pit_out_ms,
        Lap.track_status,
        Lap.deleted,
    ).where(Lap.session_id == session_id, Lap.driver_id == driver_id)
    if first is not None:
        stmt = stmt.where(Lap.lap_number >= first)
    if last is not None:
        stmt = stmt.where(Lap.lap_number <= last)
    with _connect(db) as conn:
        return [
            LapRow(*r[:9], r[9] is not None, r[10] is not None, r[11], r[12])  # type: ignore[arg-type]
            for r in conn.execute(stmt.order_by(Lap.lap_number))
        ]


def stints(db: Db, session_id: int, driver_id: int | None = None) -> list[StintRow]:
    stmt = (
        select(
            *_DRIVER_COLS,
            Stint.stint,
            Stint.compound,
            Stint.start_lap,
            Stint.end_lap,
            Stint.laps,
            Stint.tyre_life_start,
            Stint.fresh_tyre,
        )
        .join(Driver, Driver.id == Stint.driver_id)
        .where(Stint.session_id == session_id)
    )
    if driver_id is not None:
        stmt = stmt.where(Stint.driver_id == driver_id)
    with _connect(db) as conn:
        return [
            StintRow(_driver(r), *r[_ND:])  # type: ignore[arg-type]
            for r in conn.execute(stmt.order_by(Driver.code, Stint.stint))
        ]


def pit_stops(db: Db, session_id: int, driver_id: int | None = None) -> list[PitStopRow]:
    stmt = (
        select(
            *_DRIVER_COLS,
            PitStop.stop,
            PitStop.lap,
            PitStop.duration_ms,
            PitStop.pit_lane_ms,
            PitStop.compound_after,
        )
        .join(Driver, Driver.id == PitStop.driver_id)
        .where(PitStop.session_id == session_id)
    )
    if driver_id is not None:
        stmt = stmt.where(PitStop.driver_id == driver_id)
    with _connect(db) as conn:
        return [
            PitStopRow(_driver(r), *r[_ND:])  # type: ignore[arg-type]
            for r in conn.execute(stmt.order_by(PitStop.lap, PitStop.stop, Driver.code))
        ]


def fastest_lap(db: Db, session_id: int) -> FastestLap | None:
    """Fastest valid lap: from the lap table when we have it, else the results column."""
    stmt = (
        select(*_DRIVER_COLS, Lap.lap_time_ms, Lap.lap_number, Lap.compound)
        .join(Driver, Driver.id == Lap.driver_id)
        .where(
            Lap.session_id == session_id,
            Lap.lap_time_ms.is_not(None),
            or_(Lap.deleted.is_(None), Lap.deleted.is_(False)),
        )
        .order_by(Lap.lap_time_ms, Lap.lap_number)
        .limit(1)
    )
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
        if row:
            return FastestLap(_driver(row), row[_ND], row[_ND + 1], row[_ND + 2], "laps")
        stmt2 = (
            select(*_DRIVER_COLS, Result.fastest_lap_ms, Result.fastest_lap_number)
            .join(Driver, Driver.id == Result.driver_id)
            .where(Result.session_id == session_id, Result.fastest_lap_ms.is_not(None))
            .order_by(Result.fastest_lap_ms)
            .limit(1)
        )
        row = conn.execute(stmt2).first()
    if row:
        return FastestLap(_driver(row), row[_ND], row[_ND + 1], None, "results")
    return None


# --------------------------------------------------------------------------- standings


def latest_standings_round(db: Db, year: int | None = None) -> tuple[int, int] | None:
    """(year, round) of the newest driver standings we hold, optionally within a season."""
    stmt = select(DriverStanding.year, DriverStanding.round)
    if year is not None:
        stmt = stmt.where(DriverStanding.year == year)
    stmt = stmt.order_by(DriverStanding.year.desc(), DriverStanding.round.desc()).limit(1)
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
    return (row[0], row[1]) if row else None


def standings(
    db: Db, kind: str = "drivers", year: int | None = None, round_: int | None = None
) -> Standings | None:
    """Drivers' or constructors' standings after a round (default: the latest we hold)."""
    if round_ is None:
        latest = latest_standings_round(db, year)
        if latest is None:
            return None
        year, round_ = latest
    if year is None:
        return None
    with _connect(db) as conn:
        if kind == "constructors":
            stmt = (
                select(
                    ConstructorStanding.position,
                    ConstructorStanding.position_text,
                    func.coalesce(ConstructorStanding.name, ConstructorStanding.constructor_ref),
                    ConstructorStanding.constructor_ref,
                    ConstructorStanding.points,
                    ConstructorStanding.wins,
                )
                .where(ConstructorStanding.year == year, ConstructorStanding.round == round_)
                .order_by(ConstructorStanding.position.is_(None), ConstructorStanding.position)
            )
            rows = tuple(StandingRow(*r) for r in conn.execute(stmt))  # type: ignore[arg-type]
        else:
            stmt = (
                select(
                    *_DRIVER_COLS,
                    DriverStanding.position,
                    DriverStanding.position_text,
                    DriverStanding.points,
                    DriverStanding.wins,
                )
                .join(Driver, Driver.id == DriverStanding.driver_id)
                .where(DriverStanding.year == year, DriverStanding.round == round_)
                .order_by(DriverStanding.position.is_(None), DriverStanding.position)
            )
            rows = tuple(
                StandingRow(
                    r[_ND], r[_ND + 1], _driver(r).name, _driver(r).code, r[_ND + 2], r[_ND + 3], _driver(r)
                )
                for r in conn.execute(stmt)
            )
    if not rows:
        return None
    return Standings(kind, year, round_, event_by_round(db, year, round_), rows)


# --------------------------------------------------------------------------- schedule


def upcoming_sessions(db: Db, now: dt.datetime, *, limit: int = 10) -> list[ScheduleItem]:
    """Sessions starting at or after `now`, soonest first.

    The datetime columns are timezone-aware (SQLModel's UTCDateTime refuses naive
    values on bind), so a naive `now` is taken as UTC here.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    stmt = (
        _event_select(Session.type, Session.name, Session.start_utc)
        .join(Session, Session.event_id == Event.id)
        .where(Session.start_utc.is_not(None), Session.start_utc >= now)
        .order_by(Session.start_utc)
        .limit(limit)
    )
    with _connect(db) as conn:
        return [ScheduleItem(_event(r), r[_NE], r[_NE + 1], r[_NE + 2]) for r in conn.execute(stmt)]


def season_schedule(db: Db, year: int) -> list[ScheduleItem]:
    """Every session with a start time in a season, in order."""
    stmt = (
        _event_select(Session.type, Session.name, Session.start_utc)
        .join(Session, Session.event_id == Event.id)
        .where(Event.year == year, Session.start_utc.is_not(None))
        .order_by(Session.start_utc)
    )
    with _connect(db) as conn:
        return [ScheduleItem(_event(r), r[_NE], r[_NE + 1], r[_NE + 2]) for r in conn.execute(stmt)]


# --------------------------------------------------------------------------- drivers

# Common nicknames → driver ref (Ergast driverRef == FastF1 DriverId).
NICKNAMES: dict[str, str] = {
    "checo": "perez",
    "max": "max_verstappen",
    "mad max": "max_verstappen",
    "lando": "norris",
    "lewis": "hamilton",
    "sir lewis": "hamilton",
    "charles": "leclerc",
    "carlos": "sainz",
    "smooth operator": "sainz",
    "george": "russell",
    "fernando": "alonso",
    "nando": "alonso",
    "el plan": "alonso",
    "oscar": "piastri",
    "seb": "vettel",
    "kimi": "raikkonen",
    "iceman": "raikkonen",
    "the iceman": "raikkonen",
    "danny ric": "ricciardo",
    "daniel": "ricciardo",
    "yuki": "tsunoda",
    "zhou": "zhou",
    "valtteri": "bottas",
    "kmag": "kevin_magnussen",
    "hulk": "hulkenberg",
    "the hulk": "hulkenberg",
    "esteban": "ocon",
    "pierre": "gasly",
    "alex": "albon",
    "logan": "sargeant",
    "nyck": "de_vries",
    "schumi": "michael_schumacher",
    "kimi antonelli": "antonelli",
    "ollie": "bearman",
}


def _driver_activity(conn: Connection, ids: Sequence[int]) -> dict[int, int]:
    """Latest season each driver has a result in (to prefer current drivers on ties)."""
    if not ids:
        return {}
    stmt = (
        select(Result.driver_id, func.max(Event.year))
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Result.driver_id.in_(list(ids)))
        .group_by(Result.driver_id)
    )
    return {r[0]: r[1] for r in conn.execute(stmt)}


def all_drivers(db: Db) -> list[DriverInfo]:
    with _connect(db) as conn:
        return [_driver(r) for r in conn.execute(select(*_DRIVER_COLS).order_by(Driver.id))]


def drivers_in_season(db: Db, year: int) -> list[DriverInfo]:
    """Drivers with a result in a season."""
    # An IN over the season's sessions: the (session_id, driver_id) unique index answers
    # it. The former EXISTS joining results to events scanned every result row (~5 ms).
    sessions = select(Session.id).join(Event, Event.id == Session.event_id).where(Event.year == year)
    ids = select(Result.driver_id).where(Result.session_id.in_(sessions))
    stmt = select(*_DRIVER_COLS).where(Driver.id.in_(ids)).order_by(Driver.code)
    with _connect(db) as conn:
        return [_driver(r) for r in conn.execute(stmt)]


def find_drivers(db: Db, text: str, *, year: int | None = None) -> list[DriverInfo]:
    """Drivers named by code ("VER"), number ("33", "#11"), surname, full name or nickname.

    Codes, numbers and surnames repeat across eras (two "MSC"s, many "Hill"s):
    drivers racing in `year` come first, then the most recently active.
    """
    raw = text.strip()
    key = fold(raw)
    if not key:
        return []
    conds = []
    if key in NICKNAMES:
        conds.append(Driver.ref == NICKNAMES[key])
    num = key.lstrip("#").strip()
    if re.fullmatch(r"\d{1,2}", num):
        conds.append(Driver.number == int(num))
    if len(key) == 3 and key.isalpha():
        conds.append(func.lower(Driver.code) == key)
    conds.append(func.lower(Driver.last_name) == key)
    conds.append(func.lower(Driver.full_name) == key)
    conds.append(func.lower(Driver.ref) == key.replace(" ", "_"))
    if " " in key:
        first, _, last = key.partition(" ")
        conds.append(and_(func.lower(Driver.first_name) == first, func.lower(Driver.last_name) == last))
    with _connect(db) as conn:
        found = [_driver(r) for r in conn.execute(select(*_DRIVER_COLS).where(or_(*conds)))]
        if not found and len(key) >= 3:
            # Accents defeat SQL lower() ("Pérez", "Hülkenberg"): compare folded names.
            found = [
                d
                for d in map(_driver, conn.execute(select(*_DRIVER_COLS)))
                if key in (fold(d.last_name or ""), fold(d.name))
            ]
        if not found:
            return []
        active = _driver_activity(conn, [d.id for d in found])
    if key in NICKNAMES:
        found.sort(key=lambda d: d.ref != NICKNAMES[key])
    if year is not None:
        # Number matches are only trusted for drivers active in that season.
        found.sort(key=lambda d: (active.get(d.id, 0) != year, -active.get(d.id, 0)))
    else:
        found.sort(key=lambda d: -active.get(d.id, 0))
    if key in NICKNAMES:
        found.sort(key=lambda d: d.ref != NICKNAMES[key])
    return found


def driver_by_id(db: Db, driver_id: int) -> DriverInfo | None:
    with _connect(db) as conn:
        row = conn.execute(select(*_DRIVER_COLS).where(Driver.id == driver_id)).first()
    return _driver(row) if row else None


def session_entry(db: Db, session_id: int, driver_id: int) -> tuple[str | None, str | None] | None:
    """(team name, team colour) a driver raced with in a session."""
    with _connect(db) as conn:
        row = conn.execute(
            select(SessionDriver.team_name, SessionDriver.team_colour).where(
                SessionDriver.session_id == session_id, SessionDriver.driver_id == driver_id
            )
        ).first()
    return (row[0], row[1]) if row else None


def driver_form(db: Db, driver_id: int, year: int) -> DriverForm | None:
    """A driver's race results in a season plus their latest championship standing."""
    driver = driver_by_id(db, driver_id)
    if driver is None:
        return None
    stmt = (
        select(
            Event.round,
            Event.name,
            Result.grid,
            Result.position,
            Result.position_text,
            Result.points,
            Result.status,
            Result.team_name,
        )
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Result.driver_id == driver_id, Event.year == year, Session.type == "R")
        .order_by(Event.round)
    )
    with _connect(db) as conn:
        races = tuple(FormRace(*r) for r in conn.execute(stmt))  # type: ignore[arg-type]
        srow = conn.execute(
            select(
                DriverStanding.position,
                DriverStanding.position_text,
                DriverStanding.points,
                DriverStanding.wins,
            )
            .where(DriverStanding.driver_id == driver_id, DriverStanding.year == year)
            .order_by(DriverStanding.round.desc())
            .limit(1)
        ).first()
    standing = (
        StandingRow(srow[0], srow[1], driver.name, driver.code, srow[2], srow[3], driver)
        if srow
        else None
    )
    if not races and standing is None:
        return None
    return DriverForm(driver, year, races, standing)


def last_year_of_driver(db: Db, driver_id: int) -> int | None:
    with _connect(db) as conn:
        return _driver_activity(conn, [driver_id]).get(driver_id)


def constructors_in_season(db: Db, year: int) -> list[tuple[str, str]]:
    """(ref, name) of teams with a result in a season."""
    stmt = (
        select(Result.constructor_ref, func.max(Result.team_name))
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Event.year == year, Result.constructor_ref.is_not(None))
        .group_by(Result.constructor_ref)
        .order_by(Result.constructor_ref)
    )
    with _connect(db) as conn:
        return [(r[0], r[1] or r[0]) for r in conn.execute(stmt)]



# --------------------------------------------------------------------------- weather & race control
#
# Only FastF1-ingested sessions hold these rows (history has none), so each reader
# returns `None` when a session holds nothing of its kind: the answer then says the
# data is not held, rather than "no rain" or "no penalties".
# Session times (`time_ms`) mean nothing to a fan; they are turned into race laps
# with the leader's lap start times (`_LapClock`).

# FastF1 track status digits → what a fan calls them ("1" = all clear).
TRACK_STATUS_LABELS = {
    "2": "yellow flag",
    "4": "safety car",
    "5": "red flag",
    "6": "virtual safety car",
    "7": "virtual safety car ending",
}
BEFORE_START = "before the start"
AFTER_FINISH = "after the finish"


class _LapClock:
    """Session time → race lap, from the leader's lap start times."""

    __slots__ = ("_ends", "_laps", "_starts")

    def __init__(self, conn: Connection, session_id: int) -> None:
        # Only race-like sessions have "laps" a fan counts; in qualifying or practice the
        # lap numbers are each driver's own runs, so no lap is given there.
        kind = conn.execute(select(Session.type).where(Session.id == session_id)).scalar()
        if kind not in ("R", "S"):
            self._laps: list[int] = []
            self._starts: list[int] = []
            self._ends: int | None = None
            return
        rows = conn.execute(
            select(Lap.lap_number, func.min(Lap.lap_start_ms), func.max(Lap.time_ms))
            .where(Lap.session_id == session_id, Lap.lap_start_ms.is_not(None))
            .group_by(Lap.lap_number)
            .order_by(Lap.lap_number)
        ).all()
        self._laps = [int(r[0]) for r in rows]
        self._starts = [int(r[1]) for r in rows]
        self._ends = max((int(r[2]) for r in rows if r[2] is not None), default=None)

    @property
    def known(self) -> bool:
        return bool(self._laps)

    @property
    def last_lap(self) -> int | None:
        return self._laps[-1] if self._laps else None

    @property
    def window(self) -> tuple[int, int] | None:
        """(lap 1 start, last lap end) in session time, when laps are held."""
        if not self._laps or self._ends is None:
            return None
        return self._starts[0], self._ends

    def at(self, t_ms: int | None) -> tuple[str, int | None]:
        """(phase, lap): phase is "race", BEFORE_START, AFTER_FINISH or "unknown"."""
        if t_ms is None or not self._laps:
            return "unknown", None
        if t_ms < self._starts[0]:
            return BEFORE_START, None
        if self._ends is not None and t_ms > self._ends:
            return AFTER_FINISH, None
        i = bisect.bisect_right(self._starts, t_ms) - 1
        return "race", self._laps[i]


@dataclass(frozen=True, slots=True)
class WeatherSummary:
    """Weather over the race (lap 1 to the flag) when laps are held, else the whole session."""

    samples: int
    window: str  # "race" or "session"
    air_start: float | None
    air_end: float | None
    air_min: float | None
    air_max: float | None
    track_start: float | None
    track_end: float | None
    track_min: float | None
    track_max: float | None
    humidity_min: float | None
    humidity_max: float | None
    wind_max: float | None
    rain_samples: int
    rain_first: tuple[str, int | None] | None  # (phase, lap) of the first sample with rain
    rain_last: tuple[str, int | None] | None
    rain_risk: str | None  # race control's forecast, e.g. "RISK OF RAIN FOR F1 RACE IS 0%"


def weather_summary(db: Db, session_id: int) -> WeatherSummary | None:
    """Weather of a session, or None when no weather samples are held for it."""
    W = WeatherSample
    with _connect(db) as conn:
        clock = _LapClock(conn, session_id)
        rows = conn.execute(
            select(W.time_ms, W.air_temp, W.track_temp, W.humidity, W.wind_speed, W.rainfall)
            .where(W.session_id == session_id)
            .order_by(W.time_ms)
        ).all()
        risk = conn.execute(
            select(RaceControlMessage.message)
            .where(RaceControlMessage.session_id == session_id,
                   RaceControlMessage.message.like("%RISK OF RAIN%"))
            .order_by(RaceControlMessage.seq.desc())
            .limit(1)
        ).scalar()
    if not rows:
        return None
    window = "session"
    if (w := clock.window) is not None:
        inside = [r for r in rows if w[0] <= r[0] <= w[1]]
        if inside:
            rows, window = inside, "race"

    def col(i: int) -> list[float]:
        return [float(r[i]) for r in rows if r[i] is not None]

    air, track, hum, wind = col(1), col(2), col(3), col(4)
    rainy = [r[0] for r in rows if r[5]]
    return WeatherSummary(
        samples=len(rows), window=window,
        air_start=air[0] if air else None, air_end=air[-1] if air else None,
        air_min=min(air, default=None), air_max=max(air, default=None),
        track_start=track[0] if track else None, track_end=track[-1] if track else None,
        track_min=min(track, default=None), track_max=max(track, default=None),
        humidity_min=min(hum, default=None), humidity_max=max(hum, default=None),
        wind_max=max(wind, default=None),
        rain_samples=len(rainy),
        rain_first=clock.at(rainy[0]) if rainy else None,
        rain_last=clock.at(rainy[-1]) if rainy else None,
        rain_risk=str(risk) if risk else None,
    )


@dataclass(frozen=True, slots=True)
class TrackStatusPeriod:
    """One stretch of a non-green track status (yellow, SC, VSC, red)."""

    status: str  # FastF1 digit
    label: str  # TRACK_STATUS_LABELS
    phase: str  # "race", BEFORE_START, AFTER_FINISH or "unknown" (of its start)
    from_lap: int | None
    to_lap: int | None


@dataclass(frozen=True, slots=True)
class RaceControlRow:
    seq: int
    time_utc: dt.datetime | None
    lap: int | None
    category: str | None
    message: str
    flag: str | None
    scope: str | None
    sector: int | None
    racing_number: str | None


@dataclass(frozen=True, slots=True)
class FlagsReport:
    periods: tuple[TrackStatusPeriod, ...]
    messages: tuple[RaceControlRow, ...]  # safety car, red and yellow flag messages (no blue flags)
    track_status_rows: int
    message_rows: int


_RCM_COLS = (
    RaceControlMessage.seq,
    RaceControlMessage.time_utc,
    RaceControlMessage.lap,
    RaceControlMessage.category,
    RaceControlMessage.message,
    RaceControlMessage.flag,
    RaceControlMessage.scope,
    RaceControlMessage.sector,
    RaceControlMessage.racing_number,
)


def race_control_messages(db: Db, session_id: int) -> list[RaceControlRow]:
    """All race control messages of a session, in order."""
    with _connect(db) as conn:
        return [
            RaceControlRow(*r)  # type: ignore[arg-type]
            for r in conn.execute(
                select(*_RCM_COLS)
                .where(RaceControlMessage.session_id == session_id)
                .order_by(RaceControlMessage.seq)
            )
        ]


def _is_flag_message(r: RaceControlRow) -> bool:
    """Safety car, VSC, red and yellow flag calls (not a penalty whose reason mentions the SC)."""
    text = r.message.upper().lstrip()
    if r.category == "SafetyCar" or text.startswith(("SAFETY CAR", "VIRTUAL SAFETY CAR", "RED FLAG")):
        return True
    return r.category == "Flag" and (r.flag or "").upper() in ("YELLOW", "DOUBLE YELLOW", "RED")


def flags(db: Db, session_id: int) -> FlagsReport | None:
    """Track status periods and flag / safety car messages, or None when none are held."""
    T = TrackStatusChange
    with _connect(db) as conn:
        clock = _LapClock(conn, session_id)
        changes = conn.execute(
            select(T.time_ms, T.status).where(T.session_id == session_id).order_by(T.seq)
        ).all()
        msgs = race_control_messages(conn, session_id)
    if not changes and not msgs:
        return None
    periods: list[TrackStatusPeriod] = []
    for i, (t, status) in enumerate(changes):
        label = TRACK_STATUS_LABELS.get(str(status))
        if label is None:
            continue
        phase, lap = clock.at(t)
        end_t = changes[i + 1][0] if i + 1 < len(changes) else None
        end_phase, end_lap = clock.at(end_t)
        if end_phase == AFTER_FINISH and phase == "race":
            end_lap = clock.last_lap
        to_lap = end_lap if end_lap is not None else lap
        if str(status) == "7" and periods and periods[-1].status == "6":
            # "VSC ending" belongs to the VSC period before it: one period, to its end.
            prev = periods.pop()
            periods.append(TrackStatusPeriod(prev.status, prev.label, prev.phase, prev.from_lap,
                                             to_lap if to_lap is not None else prev.to_lap))
            continue
        periods.append(TrackStatusPeriod(str(status), label, phase, lap, to_lap))
    flag_msgs = tuple(r for r in msgs if _is_flag_message(r))
    return FlagsReport(tuple(periods), flag_msgs, len(changes), len(msgs))


@dataclass(frozen=True, slots=True)
class PenaltyRow:
    kind: str  # "penalty", or "warning" (black and white flag, reprimand)
    lap: int | None
    time_utc: dt.datetime | None
    penalty: str  # "5 SECOND TIME PENALTY", "BLACK AND WHITE FLAG", ...
    car: str | None
    code: str | None
    reason: str | None
    message: str


@dataclass(frozen=True, slots=True)
class PenaltyReport:
    penalties: tuple[PenaltyRow, ...]  # penalties and warnings, in order
    investigated: int  # incidents the stewards put under investigation
    deleted_laps: tuple[tuple[str, int], ...]  # (driver code or car number, lap times deleted for track limits)
    message_rows: int


_PENALTY = re.compile(
    r"^(?:FIA STEWARDS:\s*)?(?P<what>.*?\b(?:PENALTY|REPRIMAND|DISQUALIFIED|BLACK AND WHITE FLAG)\b.*?)"
    r"\s+(?:FOR|TO)\s+CAR\s+(?P<car>\d+)(?:\s*\((?P<code>[A-Z]{3})\))?(?:\s*-\s*(?P<reason>.*))?$"
)
_CAR = re.compile(r"\bCAR (\d+)(?: \(([A-Z]{3})\))?")


def penalties(db: Db, session_id: int) -> PenaltyReport | None:
    """Stewards' penalties, investigations and track-limits deletions from race control, or
    None when no race control messages are held for the session."""
    msgs = race_control_messages(db, session_id)
    if not msgs:
        return None
    out: list[PenaltyRow] = []
    investigated = 0
    deleted: dict[str, int] = {}
    for r in msgs:
        text = " ".join(r.message.upper().split())
        if "PENALTY SERVED" in text or "SERVED" in text.split(" - ")[0]:
            continue  # the same penalty, reported again when served
        if mt := _PENALTY.match(text):
            kind = "warning" if re.search(r"BLACK AND WHITE|REPRIMAND", mt["what"]) else "penalty"
            out.append(PenaltyRow(kind, r.lap, r.time_utc, mt["what"].strip(), mt["car"], mt["code"],
                                  (mt["reason"] or "").strip() or None, r.message))
        elif "UNDER INVESTIGATION" in text:
            investigated += 1
        elif "DELETED" in text and "TRACK LIMITS" in text and (cm := _CAR.search(text)):
            key = cm.group(2) or cm.group(1)
            deleted[key] = deleted.get(key, 0) + 1
    ranked = tuple(sorted(deleted.items(), key=lambda kv: (-kv[1], kv[0])))
    return PenaltyReport(tuple(out), investigated, ranked, len(msgs))
