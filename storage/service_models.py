"""Tables of the running service: channel settings, moderators, reminders, audit, job ledger.

Natural keys make writes idempotent and make "exactly once" a database fact:
a reminder is (channel, session, offset) unique, a job run is its key unique,
so two processes (or one process before and after a restart) cannot both do it.
Times are timezone-aware UTC datetimes (SQLModel's UTCDateTime refuses naive ones).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class ChannelSetting(SQLModel, table=True):
    """Per-channel answer settings a moderator sets with `/f1 settings`.

    NULL means "not set here: use the global default from `Settings`".
    """

    __tablename__ = "channel_setting"

    channel_id: str = Field(primary_key=True)  # namespaced, e.g. "slack:T1:C9"
    tone: str | None = None  # neutral / enthusiastic / technical / concise
    length: str | None = None  # short / medium / long
    language: str | None = None  # ISO 639-1, e.g. "en", "de"
    llm_enabled: bool | None = None
    answers_enabled: bool | None = None  # False = the bot stays silent here (commands still work)
    rate_user_per_min: int | None = None
    rate_channel_per_min: int | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


class Moderator(SQLModel, table=True):
    """A user an admin made a moderator of one workspace / guild (scope)."""

    __table_args__ = (UniqueConstraint("scope", "user_id", name="uq_moderator_scope_user"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(index=True)  # "discord:<guild>" / "slack:<team>" / "console:local"
    user_id: str  # namespaced user id
    added_by: str
    added_at: dt.datetime


class ReminderSubscription(SQLModel, table=True):
    """A channel's wish to get session reminders (offsets in minutes before the start)."""

    __tablename__ = "reminder_subscription"

    channel_id: str = Field(primary_key=True)
    session_types: str = "Q,R"  # comma-separated SESSION_TYPES codes
    offsets_min: str = "60,10"  # comma-separated minutes before the start
    active: bool = True
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


class ReminderSent(SQLModel, table=True):
    """One reminder for one channel, session and offset: the outbox row and the proof.

    Inserted with ON CONFLICT DO NOTHING, so a reminder is enqueued at most once;
    a sender claims it (`claimed_until`), posts it with a stable idempotency key and
    marks it `sent`. A sender that dies after claiming leaves the claim to expire.
    """

    __tablename__ = "reminder_sent"
    __table_args__ = (
        UniqueConstraint("channel_id", "session_id", "offset_min", name="uq_reminder_sent"),
        Index("ix_reminder_sent_status", "status"),
        # The claim's path (`storage.reminders.claim_reminders`): pending rows in id order. A
        # partial index, so the planner never prefers walking the primary key through the
        # history of sent rows (PostgreSQL did: 13-27 ms with 45k sent before the pending ones).
        Index("ix_reminder_sent_pending", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str
    session_id: int = Field(foreign_key="race_session.id")
    offset_min: int
    status: str = "pending"  # pending / sent / failed / skipped (session already started)
    attempts: int = 0
    created_at: dt.datetime
    claimed_until: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    message_id: str | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class AuditLog(SQLModel, table=True):
    """Who changed what, when (moderator commands)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_scope_at", "scope", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime
    scope: str  # workspace / guild, so one workspace never sees another's audit
    channel_id: str | None = None
    actor_id: str
    actor_name: str | None = None
    action: str  # e.g. "settings", "subscribe", "unsubscribe", "moderator.add"
    detail: str = Field(sa_column=Column(Text, nullable=False))  # JSON of what changed


class JobRun(SQLModel, table=True):
    """The service's job ledger: one row per job key (e.g. "ingest:1234:1").

    The scheduler is only the alarm clock; this row decides whether a job still
    has to run. A run claims the row (status running, lease), and a finished job
    is `done` forever, so neither a restart nor a second process runs it twice.
    """

    __tablename__ = "job_run"

    key: str = Field(primary_key=True)
    kind: str = Field(index=True)  # schedule / ingest / pulse / summary / reminder / live
    session_id: int | None = Field(default=None, index=True)
    status: str = "running"  # running / done / failed
    attempts: int = 0
    owner: str | None = None
    lease_until: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    result: str | None = Field(default=None, sa_column=Column(Text))


class LeaderLease(SQLModel, table=True):
    """SQLite leadership: one row per role, held until `expires_at` unless renewed."""

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True)
    holder: str
    expires_at: dt.datetime
    acquired_at: dt.datetime


class Conversation(SQLModel, table=True):
    """A thread / reply chain / DM the bot answered in: its last turns and subject.

    In the database, not in one process: a follow-up keeps its subject across a
    restart and when another process (a second Slack worker) receives it.
    """

    __tablename__ = "conversation"

    id: str = Field(primary_key=True, max_length=255)  # namespaced, e.g. "slack:T1:C9:1712.33"
    turns: str = Field(sa_column=Column(Text, nullable=False))  # JSON [[question, answer], ...]
    subject: str | None = Field(default=None, sa_column=Column(Text))  # JSON: last race, drivers
    updated_at: dt.datetime = Field(index=True)
