"""The facts `/f1 status` shows: freshest data, recent ingestion runs and failures, waiting posts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from storage.db import table
from storage.models import IngestRun
from storage.pulse_store import outbox_counts
from storage.read_sessions import SessionKey, latest_ingested
from storage.service_models import JobRun, ReminderSent


@dataclass(frozen=True, slots=True)
class IngestRunInfo:
    started_at: dt.datetime
    target: str  # e.g. "2023/14/R"
    outcome: str  # added / updated / skipped / failed / partial
    rows: int
    message: str | None


@dataclass(frozen=True, slots=True)
class FailedJob:
    finished_at: dt.datetime | None
    key: str  # e.g. "ingest:1234:1"
    result: str | None  # JSON text the job left (message / error)


@dataclass(frozen=True, slots=True)
class StatusFacts:
    freshest: tuple[SessionKey, dt.datetime] | None  # the session ingested last, and when
    runs: list[IngestRunInfo]  # the last five, newest first
    failed_runs: list[IngestRunInfo]  # the last three failures, newest first
    failed_jobs: list[FailedJob]  # the last three failed jobs, newest first
    highlights_waiting: int  # deliveries pending or claimed
    reminders_waiting: int


def status_facts(engine: Engine) -> StatusFacts:
    """Everything `/f1 status` reports, read in one go (sync; call it in a thread)."""
    r, j, s = table(IngestRun), table(JobRun), table(ReminderSent)
    run_cols = (r.c.started_at, r.c.target, r.c.outcome, r.c.rows, r.c.message)
    with engine.connect() as conn:
        freshest = latest_ingested(conn)
        runs = conn.execute(select(*run_cols).order_by(r.c.id.desc()).limit(5)).all()
        failed = conn.execute(
            select(*run_cols).where(r.c.outcome == "failed").order_by(r.c.id.desc()).limit(3)).all()
        jobs = conn.execute(
            select(j.c.finished_at, j.c.key, j.c.result)
            # A failed job without a finish time has nothing to show; on PostgreSQL it would
            # also sort first (NULLs lead a DESC order) and hide the real failures.
            .where(j.c.status == "failed", j.c.finished_at.is_not(None))
            .order_by(j.c.finished_at.desc()).limit(3)).all()
        reminders = conn.execute(
            select(func.count()).select_from(s).where(s.c.status == "pending")).scalar_one()
    counts = outbox_counts(engine)

    def run(row: tuple) -> IngestRunInfo:  # type: ignore[type-arg]
        return IngestRunInfo(row[0], row[1], row[2], int(row[3] or 0), row[4])

    return StatusFacts(
        freshest=freshest,
        runs=[run(x) for x in runs],
        failed_runs=[run(x) for x in failed],
        failed_jobs=[FailedJob(x[0], x[1], x[2]) for x in jobs],
        highlights_waiting=counts.get("pending", 0) + counts.get("claimed", 0),
        reminders_waiting=int(reminders),
    )
