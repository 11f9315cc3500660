"""Revision 0002_pulse_claim: a store at the baseline, with queued deliveries, gains the
channel-head flag and the claim's index in place on SQLite and PostgreSQL; the queued
rows get their heads, nothing is lost, the queue still delivers in order, no drift."""

from __future__ import annotations

import time

from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine

from storage import migrate, pulse_store
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
            hid2 = conn.execute(table(PulseHighlightRow).insert().values(
                session_id=sid, key="k2", kind="overtake", lap=2, priority=1, seq=2)).inserted_primary_key[0]
            # Two channels, two messages each, queued by the previous release.
            conn.execute(text(  # the previous release's columns (no is_head yet)
                "INSERT INTO pulse_delivery (highlight_id, channel_id, seq, status, idempotency_key, text,"
                " not_before, attempts, created_at) VALUES (:highlight_id, :channel_id, :seq, :status,"
                " :idempotency_key, :text, :not_before, 0, 0)"), [
                {"highlight_id": h, "channel_id": f"console:c{c}", "seq": seq, "status": PENDING,
                 "idempotency_key": f"key{seq}", "text": f"c{c} m{n}", "not_before": 0.0}
                for seq, (c, n, h) in enumerate([(0, 1, hid), (1, 1, hid), (0, 2, hid2), (1, 2, hid2)], 1)
            ])
        init_db(engine)  # what start-up does
        assert migrate.status(engine).is_head
        names = {i["name"] for i in inspect(engine).get_indexes("pulse_delivery")}
        assert "ix_pulse_delivery_queue" in names
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table(PulseDelivery))).scalar() == 4
        assert migrate.drift(engine) == []
        # The old queue delivers through the new claim: heads first, then their successors.
        got = pulse_store.claim(engine, "w", now=time.time(), limit=10)
        assert sorted(c.text for c in got) == ["c0 m1", "c1 m1"]
        assert pulse_store.mark_posted_many(engine, [(c.id, "m") for c in got], "w", now=time.time()) == 2
        got = pulse_store.claim(engine, "w", now=time.time(), limit=10)
        assert sorted(c.text for c in got) == ["c0 m2", "c1 m2"]
        with engine.begin() as conn:  # and back down
            command.downgrade(migrate.alembic_config(conn), migrate.BASELINE)
        names = {i["name"] for i in inspect(engine).get_indexes("pulse_delivery")}
        assert "ix_pulse_delivery_queue" not in names
    finally:
        engine.dispose()


