"""Official data: resolved classification columns, race facts, team colours.

Revision ID: 0003_official_data
Revises: 0001_baseline
Create Date: 2026-11-30

* `result` gains `position_order` (official order of every car), `timing_position`
  (FastF1's order, provisional until an official source writes the row) and
  `official_source` ("history" / "fastf1").
* New tables `race_neutralisation` (safety cars, VSC estimates, red flags of the
  history dump) and `team_colour` (per team and season).

Data kept and carried over: a row of a session the history import filled becomes
official ("history", its order = its position); a row FastF1 wrote WITH the official
fields (status or points) becomes official ("fastf1"); a row FastF1 wrote without
them keeps its position as `timing_position` (provisional) and loses the position
it never officially had. Re-running `slipstream history import` then rewrites the
official columns of every history race exactly (a timing-first store could hold
FastF1's order there before this release).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_official_data"
down_revision: str | None = "0002_pulse_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite cannot ALTER much in place (the table is copied, rows kept);
    # on PostgreSQL these are plain ALTER TABLE statements.
    with op.batch_alter_table("result") as batch:
        batch.add_column(sa.Column("position_order", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("timing_position", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("official_source", sa.String(), nullable=True))

    op.create_table(
        "race_neutralisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("lap", sa.Integer(), nullable=False),
        sa.Column("to_lap", sa.Integer(), nullable=True),
        sa.Column("full_laps", sa.Integer(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("resumed", sa.String(), nullable=True),
        sa.Column("excluded", sa.Text(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "round", "kind", "seq", name="uq_race_neutralisation"),
    )
    op.create_table(
        "team_colour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("constructor_ref", sa.String(), nullable=False),
        sa.Column("colour", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "constructor_ref", name="uq_team_colour"),
    )

    # Carry the existing rows over (same SQL on SQLite and PostgreSQL).
    history = "session_id IN (SELECT id FROM race_session WHERE history_at IS NOT NULL)"
    op.execute(f"UPDATE result SET official_source = 'history', position_order = position WHERE {history}")
    op.execute(
        "UPDATE result SET official_source = 'fastf1', position_order = position "
        "WHERE official_source IS NULL AND (status IS NOT NULL OR points IS NOT NULL)"
    )
    op.execute(
        "UPDATE result SET timing_position = position, position = NULL, position_text = NULL "
        "WHERE official_source IS NULL"
    )
    # Team colours FastF1 already stored per session: one per team and season.
    op.execute(
        "INSERT INTO team_colour (year, constructor_ref, colour, source) "
        "SELECT e.year, sd.constructor_ref, UPPER(MAX(sd.team_colour)), 'fastf1' "
        "FROM session_driver sd JOIN race_session s ON s.id = sd.session_id "
        "JOIN event e ON e.id = s.event_id "
        "WHERE sd.constructor_ref IS NOT NULL AND sd.team_colour IS NOT NULL "
        "GROUP BY e.year, sd.constructor_ref"
    )
    # A session whose only classification is the timing order is provisional.
    op.execute(
        "UPDATE race_session SET classification = 'provisional' WHERE classification = 'final' "
        "AND history_at IS NULL AND id NOT IN (SELECT session_id FROM result WHERE official_source IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_table("team_colour")
    op.drop_table("race_neutralisation")
    op.execute("UPDATE result SET position = timing_position WHERE official_source IS NULL")
    with op.batch_alter_table("result") as batch:
        batch.drop_column("official_source")
        batch.drop_column("timing_position")
        batch.drop_column("position_order")
