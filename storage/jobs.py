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
from storage.models import Lap, Result
from storage.read_sessions import SessionKey, session_key, sessions_starting
from storage.service_models import JobRun

# The planner's name for a session's place in the calendar: the one read of it lives in
# `storage.read_sessions`.
SessionSlot = SessionKey


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


def load_slots(engine: Engine, start: dt.datetime, end: dt.datetime) -> list[SessionSlot]:
    """Sessions starting in [start, end], in start order, for planning."""
    return sessions_starting(engine, start, end)


def load_slot(engine: Engine, session_id: int) -> SessionSlot | None:
    """One stored session's slot (None when it is not in the store)."""
    return session_key(engine, session_id)


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
