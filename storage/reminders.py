"""Reminder subscriptions and the reminder outbox (`reminder_sent`).

A reminder is one row per (channel, session, offset), inserted with "do nothing
on conflict", so it is enqueued at most once however many processes run the
reminder job. A sender claims rows with the lease convention of
`storage.outbox` (lease column `claimed_until`, aware UTC), posts them and
finishes them `sent` / `failed` / `skipped`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Engine, false, func, literal, or_, select

from storage import outbox
from storage.db import table, upsert
from storage.models import Event, Session
from storage.service_models import ReminderSent, ReminderSubscription


@dataclass(frozen=True, slots=True)
class ReminderInfo:
    """The session a reminder is about (aware UTC start)."""

    session_id: int
    year: int
    event_name: str
    session_name: str
    start_utc: dt.datetime


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    """A reminder row this sender now holds the lease on."""

    id: int
    channel_id: str
    session_id: int
    offset_min: int
    attempts: int  # including this claim: > 1 means an earlier claim may have posted
    info: ReminderInfo | None  # None: the session (or its start time) is gone from the store

    @property
    def idempotency_key(self) -> str:
        """Stable per (session, offset, channel): the platform de-duplicates re-posts with it."""
        return f"reminder:{self.session_id}:{self.offset_min}:{self.channel_id}"


def _queue() -> outbox.LeaseTable:
    tbl = table(ReminderSent)
    # 'pending' inline, not a bound parameter: only then can a prepared (generic) PostgreSQL
    # plan, and SQLite, use the partial index `ix_reminder_sent_pending` for the claim.
    pending = tbl.c.status == literal("pending", literal_execute=True)
    return outbox.LeaseTable(tbl, key="id", lease="claimed_until", open=pending, attempts="attempts")


def _csv(text: str) -> set[str]:
    return {p.strip() for p in text.split(",") if p.strip()}


def _active_subscriptions(conn: object) -> list[tuple[str, str, str]]:
    rows = conn.execute(  # type: ignore[attr-defined]
        select(ReminderSubscription.channel_id, ReminderSubscription.session_types,
               ReminderSubscription.offsets_min)
        .where(ReminderSubscription.active.is_(True))  # type: ignore[attr-defined]
    ).all()
    return [(str(c), str(t), str(o)) for c, t, o in rows]


def wanted_offsets(engine: Engine) -> dict[str, frozenset[int]]:
    """Session type -> minutes before the start that at least one active channel wants."""
    out: dict[str, set[int]] = {}
    with engine.connect() as conn:
        subs = _active_subscriptions(conn)
    for _channel, types, offsets in subs:
        mins = {int(o) for o in _csv(offsets) if o.isdigit()}
        for t in _csv(types):
            out.setdefault(t, set()).update(mins)
    return {k: frozenset(v) for k, v in out.items()}


def enqueue_reminders(engine: Engine, session_id: int, offset_min: int, now: dt.datetime) -> int:
    """Insert one pending reminder per channel subscribed to this session type and offset.

    Idempotent: the unique (channel, session, offset) key makes a second call,
    from this process or another, insert nothing. Returns the rows inserted.
    """
    with engine.begin() as conn:
        stype = conn.execute(select(Session.type).where(Session.id == session_id)).scalar_one_or_none()
        if stype is None:
            return 0
        rows = [
            {"channel_id": ch, "session_id": session_id, "offset_min": offset_min,
             "status": "pending", "attempts": 0, "created_at": now}
            for ch, types, offsets in _active_subscriptions(conn)
            if stype in _csv(types) and str(offset_min) in _csv(offsets)
        ]
        return upsert(conn, ReminderSent, rows, ["channel_id", "session_id", "offset_min"],
                      update=[], count_written=True)


def claim_reminders(
    engine: Engine, platforms: Collection[str], *, now: dt.datetime, lease_s: float, limit: int = 50
) -> list[ClaimedReminder]:
    """Claim due reminders of channels on `platforms` (the adapters that are up).

    Rows of other platforms stay pending untouched until their adapter connects.
    """
    q = _queue()
    tbl = q.table
    on_platform = or_(false(), *[tbl.c.channel_id.startswith(f"{p}:") for p in sorted(platforms)])
    with engine.begin() as conn:
        ids = outbox.claim_due(conn, q, now=now, lease_s=lease_s, limit=limit, where=on_platform)
        if not ids:
            return []
        rows = conn.execute(
            select(tbl.c.id, tbl.c.channel_id, tbl.c.session_id, tbl.c.offset_min, tbl.c.attempts,
                   Event.year, Event.name, Session.name, Session.start_utc)
            .join(Session, Session.id == tbl.c.session_id, isouter=True)
            .join(Event, Event.id == Session.event_id, isouter=True)
            .where(tbl.c.id.in_(ids))
            .order_by(tbl.c.id)
        ).all()
    out = []
    for r in rows:
        start = outbox.aware(r[8])
        info = ReminderInfo(int(r[2]), int(r[5]), str(r[6]), str(r[7]), start) if start else None
        out.append(ClaimedReminder(int(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), info))
    return out


def finish_reminder(engine: Engine, reminder_id: int, status: str, *, sent_at: dt.datetime | None = None,
                    message_id: str | None = None, error: str | None = None) -> None:
    """Close a claimed reminder: `sent`, `failed` or `skipped` (too late to be useful)."""
    with engine.begin() as conn:
        outbox.finish(conn, _queue(), reminder_id, values={
            "status": status, "sent_at": sent_at, "message_id": message_id,
            "error": None if error is None else error[:500],
        })


def retry_reminder_after(engine: Engine, reminder_id: int, until: dt.datetime) -> None:
    """Leave a reminder pending, claimable again only after `until` (rate limited)."""
    with engine.begin() as conn:
        outbox.release(conn, _queue(), reminder_id, until=until)


def reminders_sent(engine: Engine) -> int:
    """How many reminders were posted (all time), for the metrics."""
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(ReminderSent).where(ReminderSent.status == "sent")
        ).scalar_one())
