"""Revision 0007_predictions on SQLite and PostgreSQL: a store at 0006 holding race data gains
the two predictions tables, keeps its rows, fits and stores a posterior, shows no drift;
down to 0006 the tables go and the race data stays."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from bot.predict.service import PredictCore
from storage import migrate
from storage.db import make_engine
from storage.history import import_history
from tests.predict.conftest import demo_csv

PREVIOUS = "0006_pulse_stories"
TABLES = {"predict_posterior", "predict_race"}


def _count(engine: object, sql: str) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text(sql)).scalar_one())


def test_upgrade_from_0006_and_back(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), PREVIOUS)
        assert not TABLES & set(inspect(engine).get_table_names())
        import_history(engine, demo_csv())  # an existing store with data, at 0006
        results = _count(engine, "SELECT count(*) FROM result")
        result = migrate.ensure_schema(engine)
        assert result.before == PREVIOUS and result.after == migrate.head() == "0007_predictions"
        assert migrate.drift(engine) == []
        assert TABLES <= set(inspect(engine).get_table_names())
        assert _count(engine, "SELECT count(*) FROM result") == results
        rep = PredictCore(engine).fold_new_results()
        assert rep.refit and rep.version == 1
        assert _count(engine, "SELECT count(*) FROM predict_race") == rep.races_folded > 0
        fc = PredictCore(engine).race(2023, 5)  # read back from the stored blob
        assert fc.data_through == (2023, 4)
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), PREVIOUS)
        assert not TABLES & set(inspect(engine).get_table_names())
        assert _count(engine, "SELECT count(*) FROM result") == results
    finally:
        engine.dispose()
