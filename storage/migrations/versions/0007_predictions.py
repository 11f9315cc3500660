"""Predictions: the stored posterior and the races folded into it.

Revision ID: 0007_predictions
Revises: 0006_pulse_stories
Create Date: 2026-12-01

Issue 17: `predict_posterior` holds versioned blobs of the ratings filter and
`predict_race` one row per folded race with the content hash of its results, so
an update folds only new or changed races. New tables only: existing rows are
untouched, and a store without them simply has no posterior until the first
update.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_predictions"
down_revision: str | None = "0006_pulse_stories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "predict_posterior",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.Float(), nullable=False),
        sa.Column("through_year", sa.Integer(), nullable=True),
        sa.Column("through_round", sa.Integer(), nullable=True),
        sa.Column("races", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "predict_race",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "round"),
    )


def downgrade() -> None:
    op.drop_table("predict_race")
    op.drop_table("predict_posterior")
