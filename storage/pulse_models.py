"""Track Pulse tables: highlights, per-channel deliveries (the outbox), subscriptions.

"Never twice, never lost" is a database fact here:
- a highlight is unique per (session, key), so re-detection inserts nothing;
- a delivery is unique per (channel, highlight) and carries an idempotency key
  the platform also honours (Discord nonce), so a post retried after a crash
  between "posted" and "recorded" shows up once;
- a delivery row is written before anything is posted and only leaves the
  `pending` / `claimed` states once the platform answered, so nothing is lost.

Times used for scheduling (`not_before`, `lease_until`) are UNIX seconds (floats):
the same arithmetic on SQLite and PostgreSQL, no timezone traps.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Delivery states. pending -> claimed -> posted | failed; grouped rows ride along
# with their group's leader; skipped = the channel unsubscribed before it was due.
PENDING, CLAIMED, POSTED, FAILED, GROUPED, SKIPPED = (
    "pending", "claimed", "posted", "failed", "grouped", "skipped",
)


class PulseHighlightRow(SQLModel, table=True):
    """One detected highlight (facts as JSON; text is rendered per channel style)."""

    __tablename__ = "pulse_highlight"
    __table_args__ = (
        UniqueConstraint("session_id", "key", name="uq_pulse_highlight_key"),
        Index("ix_pulse_highlight_detected", "detected_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    key: str  # stable within the session, e.g. "lead_change:15:VER"
    kind: str
    lap: int
    priority: int  # storage.pulse_types.Priority value
    seq: int  # detection order within the session
    drivers: str = ""  # comma-separated codes
    teams: str = ""  # comma-separated team names of those drivers (team filters)
    facts: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    detected_at: float = 0.0  # UNIX seconds


class PulseSubscription(SQLModel, table=True):
    """A channel's wish for highlights and how they should read."""

    __tablename__ = "pulse_subscription"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(unique=True)  # namespaced, e.g. "discord:1:2"
    active: bool = True
    kinds: str = ""  # comma-separated kinds; empty = every kind
    min_priority: int = 1  # medium and above by default
    drivers: str = ""  # comma-separated codes; empty = every driver
    teams: str = ""  # comma-separated team names (case-insensitive substrings)
    spoiler_delay_s: int = 0
    session_types: str = "R,S,Q,SQ"  # which sessions to follow
    tone: str = "neutral"  # casual / technical / neutral
    length: str = "short"  # short / medium / long
    language: str = "en"
    updated_at: float = 0.0
    updated_by: str | None = None


class PulseDelivery(SQLModel, table=True):
    """One highlight for one channel: the outbox row the deliverer works through."""

    __tablename__ = "pulse_delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "highlight_id", name="uq_pulse_delivery_channel_hl"),
        UniqueConstraint("idempotency_key", name="uq_pulse_delivery_idem"),
        Index("ix_pulse_delivery_due", "status", "not_before"),
        Index("ix_pulse_delivery_channel_seq", "channel_id", "seq"),
        Index("ix_pulse_delivery_heads", "status", "channel_id", "seq"),
        # The claim reads due channel heads in order through this (cost independent of backlog).
        Index("ix_pulse_delivery_queue", "status", "is_head", "seq"),
        # enqueue finds a story's head in a channel; claim finds the rows of a story.
        Index("ix_pulse_delivery_story", "channel_id", "story"),
        Index("ix_pulse_delivery_edits", "edits_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    highlight_id: int = Field(foreign_key="pulse_highlight.id", index=True)
    channel_id: str
    seq: int  # global enqueue order: a channel's messages go out in this order
    status: str = PENDING
    # The channel's oldest unfinished row: the only one that may be claimed (see
    # storage.pulse_heads, which moves the flag on).
    is_head: bool = False
    group_leader_id: int | None = None  # set on members of a burst posted as one message
    # An evolving story ("2023:14:R:battle:LEC:SAI": scoped by the highlights' session) is
    # one message per channel, edited as it evolves: its first row (the head, `edits_id`
    # NULL) is posted, every later row of the story carries the head's id and edits it.
    story: str | None = None
    edits_id: int | None = None  # no foreign key: SQLite would have to rebuild the table
    idempotency_key: str
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    not_before: float = 0.0  # spoiler delay / rate-limit back-off (UNIX seconds)
    claimed_by: str | None = None
    lease_until: float | None = None
    attempts: int = 0
    message_id: str | None = None
    posted_at: float | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: float = 0.0
