"""The service's job ledger and the session slots it plans from.

The ledger (`job_run`, one row per job key such as "ingest:1234:1") is the record
of what ran: a job claims its key before running (`claim_job`), renews the lease
while it works (live polling) and finishes it `done` or `failed`. A `done` key is
never run again; a `running` key whose lease expired (its process died) can be
claimed again. The lease convention and its time convention (aware UTC) are
`storage.outbox`'s.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from storage import outbox
from storage.db import table, upsert
from storage.models import Event, Lap, Result
from storage.models import Session as RaceSession
from storage.service_models import JobRun


@dataclass(frozen=True, slots=True)
class SessionSlot:
    """The part of a stored session the planner needs (aware UTC times)."""

    session_id: int
    year: int
    round: int
    type: str
    name: str
    event_name: str
    start_utc: dt.datetime | None
    end_utc: dt.datetime | None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of the job ledger, as the planner reads it."""

    key: str
    status: str  # running / done / failed
    finished_at: dt.datetime | None = None
    lease_until: dt.datetime | None = None


def _ledger() -> outbox.LeaseTable:
    tbl = table(JobRun)
    # A ledger row is claimable only while `running` with an expired lease: `done` is final,
    # and a failed attempt is retried under a new key (`ingest:<sid>:<n+1>`).
    return outbox.LeaseTable(tbl, key="key", lease="lease_until", open=tbl.c.status == "running",
                             attempts="attempts", owner="owner")


def claim_job(
    engine: Engine, key: str, kind: str, session_id: int | None, owner: str, now: dt.datetime,
    lease_s: float,
) -> bool:
    """Claim a job key: new, or abandoned (running with an expired lease). True = ours to run."""
    q = _ledger()
    row = {"key": key, "kind": kind, "session_id": session_id, "status": "running", "attempts": 1,
           "owner": owner, "lease_until": now + dt.timedelta(seconds=lease_s), "started_at": now}
    with engine.begin() as conn:
        if upsert(conn, JobRun, [row], ["key"], update=[], count_written=True):
            return True
        return outbox.claim_key(conn, q, key, now=now, lease_s=lease_s, owner=owner,
                                extra={"started_at": now})


def renew_job(engine: Engine, key: str, owner: str, until: dt.datetime) -> bool:
    """Extend a running job's lease (False: the key is no longer ours)."""
    with engine.begin() as conn:
        return outbox.renew(conn, _ledger(), key, until=until, owner=owner)


def finish_job(engine: Engine, key: str, owner: str, status: str, now: dt.datetime,
               result: dict[str, Any]) -> bool:
    """Record a job's outcome (`done` / `failed`) and what it reported."""
    with engine.begin() as conn:
        return outbox.finish(conn, _ledger(), key, owner=owner,
                             values={"status": status, "finished_at": now, "result": json.dumps(result)})


def load_ledger(engine: Engine, session_ids: Sequence[int]) -> dict[str, LedgerEntry]:
    """Ledger rows of these sessions, and every schedule-sync row."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(JobRun.key, JobRun.status, JobRun.finished_at, JobRun.lease_until).where(
                (JobRun.session_id.in_(list(session_ids))) | (JobRun.kind == "schedule")  # type: ignore[union-attr]
            )
        ).all()
    return {r[0]: LedgerEntry(r[0], r[1], outbox.aware(r[2]), outbox.aware(r[3])) for r in rows}


def _slot_select() -> Any:
    return select(
        RaceSession.id, Event.year, Event.round, RaceSession.type, RaceSession.name,
        Event.name, RaceSession.start_utc, RaceSession.end_utc,
    ).join(Event, Event.id == RaceSession.event_id)


def _slot(r: Any) -> SessionSlot:
    return SessionSlot(int(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]),
                       outbox.aware(r[6]), outbox.aware(r[7]))


def load_slots(engine: Engine, start: dt.datetime, end: dt.datetime) -> list[SessionSlot]:
    """Sessions starting in [start, end], in start order, for planning."""
    stmt = (
        _slot_select()
        .where(RaceSession.start_utc.is_not(None))  # type: ignore[union-attr]
        .where(RaceSession.start_utc >= start, RaceSession.start_utc <= end)  # type: ignore[operator]
        .order_by(RaceSession.start_utc)
    )
    with engine.connect() as conn:
        return [_slot(r) for r in conn.execute(stmt)]


def load_slot(engine: Engine, session_id: int) -> SessionSlot | None:
    """One stored session's slot (None when it is not in the store)."""
    with engine.connect() as conn:
        r = conn.execute(_slot_select().where(RaceSession.id == session_id)).first()
    return None if r is None else _slot(r)


def lap_count(engine: Engine, session_id: int) -> int:
    """Laps stored for a session."""
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(Lap).where(Lap.session_id == session_id)
        ).scalar_one())


def session_complete(engine: Engine, session_id: int, session_type: str) -> bool:
    """Laps are stored, and results too for sessions that classify (all but practice)."""
    with engine.connect() as conn:
        laps = conn.execute(
            select(func.count()).select_from(Lap).where(Lap.session_id == session_id)
        ).scalar_one()
        results = conn.execute(
            select(func.count()).select_from(Result).where(Result.session_id == session_id)
        ).scalar_one()
    return laps > 0 and (results > 0 or session_type.startswith("FP"))
