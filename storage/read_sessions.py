"""Which race weekend a stored session belongs to: the one "session -> year/round/type" read.

Planners, reminders, live polling, highlight keys and `/f1 status` all need a
session's place in the calendar (year, round, type, names, start and end). They
read it here, through one select, instead of each joining `race_session` to
`event` on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.engine import Connection

from storage.models import Event
from storage.models import Session as RaceSession

Db = Engine | Connection


@dataclass(frozen=True, slots=True)
class SessionKey:
    """A session's place in the calendar (times are aware UTC, or None when unknown)."""

    session_id: int
    year: int
    round: int
    type: str  # one of storage.models.SESSION_TYPES: FP1 .. R
    name: str  # "Race", "Sprint Qualifying", ...
    event_name: str  # "Italian Grand Prix"
    start_utc: dt.datetime | None
    end_utc: dt.datetime | None

    @property
    def slug(self) -> str:
        """"2023:14:R": stable across re-imports, unlike the numeric id (highlight keys use it)."""
        return f"{self.year}:{self.round}:{self.type}"

    @property
    def label(self) -> str:
        """"2023 Italian Grand Prix Race", for people."""
        return f"{self.year} {self.event_name} {self.name}"


def _key_select(*extra: Any) -> Select[Any]:
    return select(
        RaceSession.id, Event.year, Event.round, RaceSession.type, RaceSession.name,
        Event.name, RaceSession.start_utc, RaceSession.end_utc, *extra,
    ).join(Event, Event.id == RaceSession.event_id)


def _key(row: Sequence[Any]) -> SessionKey:
    # Datetimes come back aware UTC on both backends (SQLModel's UTCDateTime columns).
    return SessionKey(int(row[0]), int(row[1]), int(row[2]), str(row[3]), str(row[4]), str(row[5]),
                      row[6], row[7])


def _rows(db: Db, stmt: Select[Any]) -> list[Any]:
    if isinstance(db, Connection):
        return list(db.execute(stmt).all())
    with db.connect() as conn:
        return list(conn.execute(stmt).all())


def session_key(db: Db, session_id: int) -> SessionKey | None:
    """The calendar place of one stored session, or None when no such session is stored."""
    rows = _rows(db, _key_select().where(RaceSession.id == session_id))
    return _key(rows[0]) if rows else None


def session_keys(db: Db, session_ids: Iterable[int]) -> dict[int, SessionKey]:
    """Several sessions at once (one query); ids not stored are left out."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    rows = _rows(db, _key_select().where(RaceSession.id.in_(ids)))  # type: ignore[union-attr]
    return {k.session_id: k for k in map(_key, rows)}


def sessions_starting(db: Db, start: dt.datetime, end: dt.datetime) -> list[SessionKey]:
    """Sessions whose start is in [start, end], earliest first (for planning jobs)."""
    stmt = (
        _key_select()
        .where(RaceSession.start_utc.is_not(None))  # type: ignore[union-attr]
        .where(RaceSession.start_utc >= start, RaceSession.start_utc <= end)  # type: ignore[operator]
        .order_by(RaceSession.start_utc, RaceSession.id)
    )
    return [_key(r) for r in _rows(db, stmt)]


def latest_ingested(db: Db) -> tuple[SessionKey, dt.datetime] | None:
    """The session FastF1 wrote last, and when (None before the first ingest)."""
    stmt = (
        _key_select(RaceSession.ingested_at)
        .where(RaceSession.ingested_at.is_not(None))  # type: ignore[union-attr]
        .order_by(RaceSession.ingested_at.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    rows = _rows(db, stmt)
    if not rows:
        return None
    return _key(rows[0]), rows[0][8]
