"""Track Pulse outbox: channel heads flagged, so a claim reads them off an index.

Revision ID: 0002_pulse_claim
Revises: 0001_baseline
Create Date: 2026-11-30

`storage.pulse_store.claim` used to find each channel's oldest unfinished row among
every queued row on each round (6 ms with 4.5k rows queued, 60 ms with 45k). Now
that row carries `is_head` (kept by `storage.pulse_heads`) and the claim reads due
heads in order through (status, is_head, seq), stopping after its batch. Existing
queued rows get their heads set here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_pulse_claim"
down_revision: str | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_pulse_delivery_queue"


def upgrade() -> None:
    # Batch mode: on SQLite Alembic recreates the table only for what ALTER cannot do;
    # adding a column with a default and an index are done in place, as on PostgreSQL.
    with op.batch_alter_table("pulse_delivery") as batch:
        batch.add_column(sa.Column("is_head", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index(_INDEX, ["status", "is_head", "seq"], unique=False)
    # Each channel's oldest unfinished row is its head (rows queued before this revision).
    op.execute(
        "UPDATE pulse_delivery SET is_head = TRUE "
        "WHERE status IN ('pending', 'claimed') AND seq = ("
        " SELECT min(o.seq) FROM pulse_delivery o"
        " WHERE o.channel_id = pulse_delivery.channel_id AND o.status IN ('pending', 'claimed'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("pulse_delivery") as batch:
        batch.drop_index(_INDEX)
        batch.drop_column("is_head")
