"""Track Pulse evolving stories: an outbox row may edit an earlier message.

Revision ID: 0006_pulse_stories
Revises: 0005_event_claims
Create Date: 2026-11-30

Issue 18: a battle or the fastest lap is one story per channel, edited as it
evolves instead of re-posted. `pulse_delivery.story` names the story (scoped by
the highlights' session) and `edits_id` points a later row at the story's first
row in that channel (its head), whose message it edits. Both are nullable: rows
queued before this revision are ordinary posts, exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pulse_stories"
down_revision: str | None = "0005_event_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STORY_INDEX = "ix_pulse_delivery_story"
_EDITS_INDEX = "ix_pulse_delivery_edits"


def upgrade() -> None:
    # Nullable columns and indexes: added in place on SQLite and PostgreSQL (no table copy).
    with op.batch_alter_table("pulse_delivery") as batch:
        batch.add_column(sa.Column("story", sa.String(), nullable=True))
        batch.add_column(sa.Column("edits_id", sa.Integer(), nullable=True))
        batch.create_index(_STORY_INDEX, ["channel_id", "story"], unique=False)
        batch.create_index(_EDITS_INDEX, ["edits_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pulse_delivery") as batch:
        batch.drop_index(_EDITS_INDEX)
        batch.drop_index(_STORY_INDEX)
        batch.drop_column("edits_id")
        batch.drop_column("story")
