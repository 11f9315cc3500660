"""Event claims and shared rate counters: exactly-once answers and limits across workers.

Revision ID: 0005_event_claims
Revises: 0004_reminder_pending
Create Date: 2026-11-30

Deduplication of Slack retries, `/f1` trigger ids and Discord events lived in
each process's memory, as did the per-user and per-channel rate limits: with two
`slipstream run` on one database a retry reaching the other worker was answered
again, and N workers allowed N times the limit. `event_claim` holds one row per
answered event id (unique key, expiry); `rate_count` one counter per key and
window. Both are new tables, so there is no data to carry over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_event_claims"
down_revision: str | None = "0004_reminder_pending"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_claim",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_event_claim_expires", "event_claim", ["expires_at"], unique=False)
    op.create_table(
        "rate_count",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    op.create_index("ix_rate_count_expires", "rate_count", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rate_count_expires", table_name="rate_count")
    op.drop_table("rate_count")
    op.drop_index("ix_event_claim_expires", table_name="event_claim")
    op.drop_table("event_claim")
