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
from typing import Any

from sqlalchemy import Engine, Select, and_, exists, func, or_, select
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
    RaceNeutralisation,
    Result,
    Season,
    Session,
    SessionDriver,
    Stint,
    TeamColour,
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
    # Resolved by `results` (see _resolve): True when this row's position is only the
    # timing order, before stewards' decisions; `outcome` is one of OUTCOMES.
    provisional: bool = False
    outcome: str | None = None

    @property
    def best_quali_ms(self) -> int | None:
        times = [t for t in (self.q3_ms, self.q2_ms, self.q1_ms) if t]
        return times[0] if times else None

    @property
    def laps_behind(self) -> int | None:
        """2 for a "+2 Laps" status."""
        mt = _LAPPED.match(self.status or "")
        return int(mt.group(1)) if mt else None

    @property
    def started(self) -> bool:
        """False for a car that took no part in the race (withdrawn, did not start / qualify)."""
        return self.outcome not in ("withdrawn", "did_not_start", "did_not_qualify")

    @property
    def pit_lane_start(self) -> bool:
        """Grid 0 is Ergast's "started from the pit lane", but only for a car that started."""
        return self.grid == 0 and self.started


@dataclass(frozen=True, slots=True)
class Classification:
    session: SessionInfo
    rows: tuple[ResultRow, ...]

    @property
    def provisional(self) -> bool:
        """The order is the timing order, before stewards' decisions (no official source yet)."""
        return any(r.provisional for r in self.rows)


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
    """One stop. Both times are PIT-LANE times (entry line to exit line); neither source
    measures the stationary time, so nothing here may be called that."""

    driver: DriverInfo
    stop: int
    lap: int
    duration_ms: int | None  # official pit-lane time (Ergast `duration`)
    pit_lane_ms: int | None  # pit-lane time from timing data (FastF1 PitOutTime - PitInTime)
    compound_after: str | None
    # Set by `pit_stops`: the car sat in the pit lane during a red flag (or the time is
    # far outside this race's norm); such a stop is no pit stop to rank or average.
    under_red_flag: bool = False

    @property
    def pit_lane_time_ms(self) -> int | None:
        """The one pit-lane time to show: official when held, else from timing data."""
        return self.duration_ms if self.duration_ms is not None else self.pit_lane_ms

    @property
    def pit_lane_source(self) -> str | None:
        if self.duration_ms is not None:
            return "official"
        return "timing" if self.pit_lane_ms is not None else None


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
    provisional: bool = False
    outcome: str | None = None


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


# Outcome of a car in a race or sprint, from the OFFICIAL position text and status
# (Ergast positionText: a number, R retired, D disqualified, E excluded, W withdrawn,
# F failed to qualify, N not classified). "finished" and "lapped" only for classified cars.
OUTCOMES = (
    "finished", "lapped", "classified_retired", "retired", "did_not_start", "withdrawn",
    "disqualified", "excluded", "did_not_qualify", "not_classified", "provisional",
)
_LAPPED = re.compile(r"^\+(\d+) Laps?$")
_TEXT_OUTCOME = {"R": "retired", "D": "disqualified", "E": "excluded", "W": "withdrawn",
                 "F": "did_not_qualify", "N": "not_classified"}


def result_outcome(position_text: str | None, status: str | None, *, provisional: bool = False) -> str | None:
    """One of OUTCOMES for a race / sprint row (None when nothing official is known)."""
    if provisional:
        return "provisional"
    st = (status or "").strip()
    if st.lower() == "did not start":
        return "did_not_start"
    text = (position_text or "").strip().upper()
    if text.isdigit():
        if not st or st.lower() == "finished":
            return "finished"
        if _LAPPED.match(st):
            return "lapped"
        return "classified_retired"  # classified (90% distance) although the car stopped
    if text in _TEXT_OUTCOME:
        return _TEXT_OUTCOME[text]
    return None


_RESULT_COLS = (
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
    Result.official_source,
    Result.position_order,
    Result.timing_position,
)


def _resolve(info: SessionInfo, raw: Sequence[Sequence[object]]) -> tuple[ResultRow, ...]:
    """THE precedence rule, in one place: official beats timing.

    A row an official source wrote (history, or FastF1 with the official fields)
    shows its official position, status and points, in the official order
    (positionOrder). A row only timing wrote shows FastF1's order as a PROVISIONAL
    position, with no status or points; it is replaced as soon as the official
    classification arrives (the writers never let timing overwrite official columns).
    Qualifying and practice keep their order with no outcome.
    """
    race_like = info.type in ("R", "S")
    out: list[tuple[tuple[int, int, int], ResultRow]] = []
    for i, r in enumerate(raw):
        d = _driver(r)
        v = list(r[_ND:])
        official_source, order, timing = v[-3], v[-2], v[-1]
        vals = v[:-3]
        provisional = official_source is None and timing is not None
        if provisional:
            # Nothing official for this car: only FastF1's order is known.
            vals[0], vals[1] = timing, str(timing)
            for k in (5, 6, 7, 8, 9, 10):  # grid, status, points, time, gap, laps: never from timing
                vals[k] = None
        pos, text, status = vals[0], vals[1], vals[6]
        if text is not None:
            text = _int_text(text)
            vals[1] = text
        outcome = result_outcome(text, status, provisional=provisional) if race_like else None
        key_pos = order if order is not None else (pos if pos is not None else (timing or 10**6))
        out.append(((0 if (order is not None or pos is not None or timing is not None) else 1, key_pos, i),
                    ResultRow(vals[0], vals[1], d, *vals[2:], provisional=provisional, outcome=outcome)))  # type: ignore[arg-type]
    out.sort(key=lambda kv: kv[0])
    return tuple(r for _, r in out)


def _int_text(text: str) -> str:
    """"7.0" → "7": positions are integers everywhere."""
    try:
        f = float(text)
    except ValueError:
        return text
    return str(int(f)) if f.is_integer() else text


def results(db: Db, session_id: int) -> Classification | None:
    """THE resolved classification of a session (official beats timing, see `_resolve`):
    rows in official order (unclassified cars after the classified ones, as the
    stewards ordered them), or in timing order marked provisional."""
    info = session_by_id(db, session_id)
    if info is None:
        return None
    stmt = (
        select(*_DRIVER_COLS, *_RESULT_COLS)
        .join(Driver, Driver.id == Result.driver_id)
        .where(Result.session_id == session_id)
        .order_by(Result.id)
    )
    with _connect(db) as conn:
        rows = _resolve(info, conn.execute(stmt).all())
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
    stmt = lap_window(stmt, first, last)
    with _connect(db) as conn:
        return [
            LapRow(*r[:9], r[9] is not None, r[10] is not None, r[11], r[12])  # type: ignore[arg-type]
            for r in conn.execute(stmt.order_by(Lap.lap_number))
        ]


def lap_window(stmt: Select[Any], first: int | None, last: int | None) -> Select[Any]:
    """`stmt` limited to laps `first`..`last` (either end open when None)."""
    if first is not None:
        stmt = stmt.where(Lap.lap_number >= first)
    if last is not None:
        stmt = stmt.where(Lap.lap_number <= last)
    return stmt


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
    # A car that never started (withdrawn, did not start, stopped on the formation lap)
    # has a lap-1 row in the timing data and so a "stint"; the official result says it
    # completed no lap (or never took part), so it has none.
    stmt = stmt.where(~exists(
        select(Result.id).where(
            Result.session_id == Stint.session_id, Result.driver_id == Stint.driver_id,
            or_(Result.position_text.in_(("W", "F")), func.lower(Result.status) == "did not start",
                and_(Result.official_source.is_not(None), Result.laps == 0)),
        )
    ))
    with _connect(db) as conn:
        return [
            StintRow(_driver(r), *r[_ND:])  # type: ignore[arg-type]
            for r in conn.execute(stmt.order_by(Driver.code, Stint.stint))
        ]


# A stop is labelled "under red flag" when the car's lap carries the red-flag track
# status (or the history records a red flag within a lap of it) and its pit-lane time
# is RED_FLAG_FACTOR x the race's norm; or, with no such record, when the time is
# OUTLIER_FACTOR x the norm (a 27-minute "stop" is a car waiting out a red flag).
# Hazard: the norm is the race's FASTEST pit-lane time, not the median: in 2023
# Australia three red flags made 49 of 65 official "stops" red-flag waits.
RED_FLAG_FACTOR = 2.0
OUTLIER_FACTOR = 20.0


def pit_stops(db: Db, session_id: int, driver_id: int | None = None) -> list[PitStopRow]:
    """Pit stops in lap order, each marked `under_red_flag` against the whole race's norm."""
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
    with _connect(db) as conn:
        rows = [
            PitStopRow(_driver(r), *r[_ND:])  # type: ignore[arg-type]
            for r in conn.execute(stmt.order_by(PitStop.lap, PitStop.stop, Driver.code))
        ]
        red_laps = _red_flag_laps(conn, session_id)
        red_driver_laps = {
            (r[0], r[1]) for r in conn.execute(
                select(Lap.driver_id, Lap.lap_number).where(
                    Lap.session_id == session_id, Lap.track_status.like("%5%")))
        }
    norm = min((t for p in rows if (t := p.pit_lane_time_ms)), default=None)
    out = []
    for p in rows:
        t = p.pit_lane_time_ms
        red = False
        if t is not None and norm:
            flagged = (p.driver.id, p.lap) in red_driver_laps or (p.driver.id, p.lap + 1) in red_driver_laps \
                or any(abs(p.lap - lap) <= 1 for lap in red_laps)
            red = (flagged and t >= RED_FLAG_FACTOR * norm) or t >= OUTLIER_FACTOR * norm
        if driver_id is None or p.driver.id == driver_id:
            out.append(PitStopRow(p.driver, p.stop, p.lap, p.duration_ms, p.pit_lane_ms, p.compound_after, red))
    return out


def _red_flag_laps(conn: Connection, session_id: int) -> list[int]:
    """Laps of the race's red flags in the history record (none for other sessions)."""
    N = RaceNeutralisation
    return [int(r[0]) for r in conn.execute(
        select(N.lap)
        .join(Event, and_(Event.year == N.year, Event.round == N.round))
        .join(Session, Session.event_id == Event.id)
        .where(Session.id == session_id, Session.type == "R", N.kind == "red_flag")
    )]


@dataclass(frozen=True, slots=True)
class PitStopSummary:
    """Fastest and average pit-lane time of a race, red-flag stops left out."""

    fastest: PitStopRow | None
    average_ms: int | None
    counted: int
    excluded_red_flag: int


def pit_stop_summary(db: Db, session_id: int) -> PitStopSummary:
    rows = pit_stops(db, session_id)
    timed = [p for p in rows if p.pit_lane_time_ms is not None and not p.under_red_flag]
    fastest = min(timed, key=lambda p: (p.pit_lane_time_ms or 0, p.lap), default=None)
    avg = round(sum(p.pit_lane_time_ms or 0 for p in timed) / len(timed)) if timed else None
    return PitStopSummary(fastest, avg, len(timed), sum(1 for p in rows if p.under_red_flag))


def valid_laps(session_id: int):  # type: ignore[no-untyped-def]
    """Timed laps of a session that were not deleted, with their driver, time, number and tyre
    (the one definition of a lap that counts for "fastest" and "best")."""
    return (
        select(*_DRIVER_COLS, Lap.lap_time_ms, Lap.lap_number, Lap.compound)
        .join(Driver, Driver.id == Lap.driver_id)
        .where(
            Lap.session_id == session_id,
            Lap.lap_time_ms.is_not(None),
            or_(Lap.deleted.is_(None), Lap.deleted.is_(False)),
        )
    )


def fastest_lap(db: Db, session_id: int) -> FastestLap | None:
    """Fastest valid lap: from the lap table when we have it, else the results column."""
    stmt = (
        valid_laps(session_id)
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
    "webbo": "webber",
    "aussie grit": "webber",
    "the professor": "prost",
    "professor": "prost",
    "hunt the shunt": "hunt",
    "chilli": "chilton",
    "jb": "button",
    "red 5": "mansell",
    "red five": "mansell",
    "nige": "mansell",
    "our nige": "mansell",
    "il leone": "mansell",
    "the flying finn": "hakkinen",
    "flying finn": "hakkinen",
    "dc": "coulthard",
    "jpm": "montoya",
    "sir jackie": "stewart",
    "wee jackie": "stewart",
    "the dutchman": "max_verstappen",
    "honey badger": "ricciardo",
    "the honey badger": "ricciardo",
    "mr saturday": "russell",
    "felipe": "massa",
    "baby schumi": "vettel",
    "hammy": "hamilton",
    "val": "bottas",
    "valt": "bottas",
    "bono": "bottas",
    "rubino": "barrichello",
    "the rocket": "raikkonen",
    "sainz jr": "sainz",
    "smooth op": "sainz",
    "le professeur": "prost",
    "the black jack": "brabham",
    "black jack": "brabham",
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


def drivers_by_starts(db: Db) -> list[DriverInfo]:
    """Every driver, fewest race entries first: a name shared by two drivers ("hamilton",
    "schumacher", "verstappen") should mean the one with the longer career (indexes built
    from this list let later entries win)."""
    starts = (
        select(Result.driver_id, func.count().label("n"))
        .join(Session, Session.id == Result.session_id)
        .where(Session.type == "R")
        .group_by(Result.driver_id)
        .subquery()
    )
    stmt = (
        select(*_DRIVER_COLS)
        .outerjoin(starts, starts.c.driver_id == Driver.id)
        .order_by(func.coalesce(starts.c.n, 0), Driver.id)
    )
    with _connect(db) as conn:
        return [_driver(r) for r in conn.execute(stmt)]


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
            Result.official_source,
            Result.timing_position,
        )
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Result.driver_id == driver_id, Event.year == year, Session.type == "R")
        .order_by(Event.round)
    )
    with _connect(db) as conn:
        races = tuple(_form_race(r) for r in conn.execute(stmt))
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


def _form_race(r: Sequence[object]) -> FormRace:
    """The same precedence as `_resolve`: official fields, else the provisional timing order."""
    rnd, name, grid, pos, text, pts, status, team, official_source, timing = r
    if official_source is None and timing is not None:
        return FormRace(rnd, name, None, timing, str(timing), None, None, team, True, "provisional")  # type: ignore[arg-type]
    text = _int_text(str(text)) if text is not None else None
    return FormRace(rnd, name, grid, pos, text, pts, status, team, False,  # type: ignore[arg-type]
                    result_outcome(text, status))  # type: ignore[arg-type]


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


def all_constructors(db: Db) -> list[tuple[str, str]]:
    """(ref, name) of every team with a result, its latest season's name (one read, not one per season)."""
    latest = (
        select(Result.constructor_ref.label("ref"), func.max(Event.year).label("year"))
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Result.constructor_ref.is_not(None))
        .group_by(Result.constructor_ref)
        .subquery()
    )
    stmt = (
        select(Result.constructor_ref, func.max(Result.team_name))
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .join(latest, (latest.c.ref == Result.constructor_ref) & (latest.c.year == Event.year))
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
    cause: str | None = None  # history record only: cause / incident


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
    # "timing" (FastF1 track status + race control) or "history" (the dump's safety-car,
    # red-flag and VSC-estimate records): answers name it.
    source: str = "timing"


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
    """Track status periods and flag / safety car messages; for a race without timing data,
    the history record of safety cars, VSCs and red flags; None when neither is held."""
    T = TrackStatusChange
    with _connect(db) as conn:
        clock = _LapClock(conn, session_id)
        changes = conn.execute(
            select(T.time_ms, T.status).where(T.session_id == session_id).order_by(T.seq)
        ).all()
        msgs = race_control_messages(conn, session_id)
        if not changes and not msgs:
            return _history_flags(conn, session_id)
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


_HISTORY_KIND = {"safety_car": "4", "virtual_safety_car": "6", "red_flag": "5"}


def _history_flags(conn: Connection, session_id: int) -> FlagsReport | None:
    """The dump's record for a race. Held only when the season's records were imported
    (some row of that year exists): otherwise "no row" would wrongly read as "no safety car"."""
    N = RaceNeutralisation
    ev = conn.execute(
        select(Event.year, Event.round).join(Session, Session.event_id == Event.id)
        .where(Session.id == session_id, Session.type == "R")
    ).first()
    if ev is None:
        return None
    if conn.execute(select(N.id).where(N.year == ev[0]).limit(1)).first() is None:
        return None
    rows = conn.execute(
        select(N.kind, N.lap, N.to_lap, N.cause)
        .where(N.year == ev[0], N.round == ev[1])
        .order_by(N.lap, N.kind, N.seq)
    ).all()
    periods = tuple(
        TrackStatusPeriod(_HISTORY_KIND[k], TRACK_STATUS_LABELS[_HISTORY_KIND[k]], "race", lap,
                          to_lap if to_lap is not None else lap, cause)
        for k, lap, to_lap, cause in rows if k in _HISTORY_KIND
    )
    return FlagsReport(periods, (), 0, 0, source="history")


def team_colours(db: Db, year: int) -> dict[str, str]:
    """constructor ref → colour (hex without '#') for a season: FastF1's where a session was
    loaded, else the maintained table; empty when neither has the season."""
    with _connect(db) as conn:
        return {r[0]: r[1] for r in conn.execute(
            select(TeamColour.constructor_ref, TeamColour.colour).where(TeamColour.year == year))}


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
