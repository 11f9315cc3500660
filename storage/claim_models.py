"""Tables that make answering exactly-once and rate limits shared across workers.

Two `slipstream run` processes on one store see the same Slack retry or Discord
event: whoever inserts the event's claim row first answers it, the other sees
"already there" and does nothing. Rate-limit counters live here for the same
reason: a limit held in each process's memory lets N workers allow N times it.
Times are epoch seconds (wall clock): every worker compares them, so a
monotonic clock (per process) would be meaningless here.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class EventClaim(SQLModel, table=True):
    """One platform event / trigger id, claimed by the worker that answers it."""

    __tablename__ = "event_claim"
    __table_args__ = (Index("ix_event_claim_expires", "expires_at"),)

    key: str = Field(primary_key=True, max_length=200)  # "slack:Ev123", "discord:i:42", ...
    expires_at: float  # epoch seconds; pruned after it (a replay that late is answered again)


class RateCount(SQLModel, table=True):
    """Hits of one rate-limit key in one fixed window (sliding estimate in `storage.claims`)."""

    __tablename__ = "rate_count"
    __table_args__ = (Index("ix_rate_count_expires", "expires_at"),)

    key: str = Field(primary_key=True, max_length=300)  # "user:slack:T1:U9", "chan:...", ...
    window_start: int = Field(primary_key=True)  # epoch s, multiple of window
    count: int = 0
    expires_at: float  # the window after this one still reads it; pruned after that
