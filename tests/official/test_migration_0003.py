"""Revision 0003_official_data upgrades a store at 0001_baseline in place, data kept and
carried over (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from storage import queries
from storage.db import make_engine
from storage.migrate import alembic_config, drift, ensure_schema, head


def test_upgrade_from_baseline_carries_rows_over(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001_baseline")
        now = "'2023-11-19 08:00:00+00:00'"
        with engine.begin() as conn:
            for sql in (
                "INSERT INTO season (year) VALUES (2023)",
                "INSERT INTO event (id, year, round, name) VALUES (1, 2023, 21, 'Las Vegas Grand Prix')",
                "INSERT INTO event (id, year, round, name) VALUES (2, 2023, 14, 'Italian Grand Prix')",
                # 1: timing only (provisional); 2: history-filled
                "INSERT INTO race_session (id, event_id, type, name, status, classification) "
                "VALUES (1, 1, 'R', 'Race', 'ingested', 'final')",
                f"INSERT INTO race_session (id, event_id, type, name, status, classification, history_at) "
                f"VALUES (2, 2, 'R', 'Race', 'ingested', 'final', {now})",
                "INSERT INTO driver (id, ref, code) VALUES (1, 'russell', 'RUS')",
                "INSERT INTO driver (id, ref, code) VALUES (2, 'max_verstappen', 'VER')",
                "INSERT INTO result (session_id, driver_id, position, position_text) VALUES (1, 1, 4, '4')",
                "INSERT INTO result (session_id, driver_id, position, position_text, status, points) "
                "VALUES (2, 2, 1, '1', 'Finished', 25)",
                "INSERT INTO session_driver (session_id, driver_id, constructor_ref, team_colour) "
                "VALUES (1, 1, 'mercedes', '6cd3bf')",
            ):
                conn.execute(text(sql))
        result = ensure_schema(engine)
        assert result.before == "0001_baseline" and result.after == head()  # through 0003_official_data
        assert drift(engine) == []
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT session_id, position, position_text, position_order, timing_position, official_source "
                "FROM result ORDER BY session_id")).all()
            assert [tuple(r) for r in rows] == [(1, None, None, None, 4, None), (2, 1, "1", 1, None, "history")]
            assert conn.execute(text("SELECT classification FROM race_session ORDER BY id")).scalars().all() == [
                "provisional", "final"]
        lv = queries.results(engine, 1)
        assert lv is not None and lv.provisional and lv.rows[0].position == 4 and lv.rows[0].status is None
        assert queries.team_colours(engine, 2023) == {"mercedes": "6CD3BF"}
        # Down and up again: the data survive both ways.
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0001_baseline")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT position FROM result WHERE session_id = 1")).scalar_one() == 4
        ensure_schema(engine)
        assert drift(engine) == []
    finally:
        engine.dispose()
