"""Revision 0002_pulse_claim: a store at the baseline, with queued deliveries, gains the
claim's index in place on SQLite and PostgreSQL; nothing is lost and no drift is left."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine

from storage import migrate
from storage.db import init_db, make_engine, table
from storage.pulse_models import PENDING, PulseDelivery, PulseHighlightRow
from tests.pulse.conftest import add_race_session


def _at_baseline(engine: Engine) -> None:
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)


def test_baseline_store_upgrades_to_the_claim_index(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        _at_baseline(engine)
        assert migrate.current_revision(engine) == migrate.BASELINE
        names = {i["name"] for i in inspect(engine).get_indexes("pulse_delivery")}
        assert "ix_pulse_delivery_queue" not in names
        sid = add_race_session(engine)
        with engine.begin() as conn:
            hid = conn.execute(table(PulseHighlightRow).insert().values(
                session_id=sid, key="k", kind="overtake", lap=1, priority=1, seq=1)).inserted_primary_key[0]
            conn.execute(table(PulseDelivery).insert(), [
                {"highlight_id": hid, "channel_id": f"console:c{i}", "seq": i, "status": PENDING,
                 "idempotency_key": f"key{i}", "text": "t", "not_before": 0.0}
                for i in range(5)
            ])
        init_db(engine)  # what start-up does
        assert migrate.status(engine).is_head
        names = {i["name"] for i in inspect(engine).get_indexes("pulse_delivery")}
        assert "ix_pulse_delivery_queue" in names
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table(PulseDelivery))).scalar() == 5
        assert migrate.drift(engine) == []
        with engine.begin() as conn:  # and back down
            command.downgrade(migrate.alembic_config(conn), migrate.BASELINE)
        names = {i["name"] for i in inspect(engine).get_indexes("pulse_delivery")}
        assert "ix_pulse_delivery_queue" not in names
    finally:
        engine.dispose()


