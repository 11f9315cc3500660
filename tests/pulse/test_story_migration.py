"""Revision 0006_pulse_stories on SQLite and PostgreSQL: a store at 0005 with a queue in
it (a posted row, pending rows) gains the story columns and indexes in place; the old
rows stay ordinary posts and still deliver, stories work, no drift; and back down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from storage import migrate, pulse_store
from storage.db import make_engine, table
from storage.pulse_models import POSTED, PulseDelivery, PulseHighlightRow
from tests.pulse.conftest import add_race_session
from tests.pulse.story_rows import store_laps, told

T0 = 1_800_000_000.0
PREVIOUS = "0005_event_claims"


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("pulse_delivery")}


def _indexes(engine: Engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("pulse_delivery")}


def test_upgrade_from_0005_keeps_the_queue_and_adds_stories(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), PREVIOUS)
        assert "story" not in _columns(engine)
        sid = add_race_session(engine)
        with engine.begin() as conn:
            hids = [conn.execute(table(PulseHighlightRow).insert().values(
                session_id=sid, key=f"k{i}", kind="overtake", lap=i, priority=2, seq=i,
            )).inserted_primary_key[0] for i in (1, 2, 3)]
            conn.execute(text(  # the previous release's columns (no story, no edits_id)
                "INSERT INTO pulse_delivery (highlight_id, channel_id, seq, status, is_head,"
                " idempotency_key, text, not_before, attempts, created_at, message_id) VALUES"
                " (:h, 'console:c', :seq, :status, :head, :key, :text, 0, 0, 0, :mid)"), [
                {"h": hids[0], "seq": 1, "status": POSTED, "head": False, "key": "k1", "text": "m1",
                 "mid": "x1"},
                {"h": hids[1], "seq": 2, "status": "pending", "head": True, "key": "k2", "text": "m2",
                 "mid": None},
                {"h": hids[2], "seq": 3, "status": "pending", "head": False, "key": "k3", "text": "m3",
                 "mid": None},
            ])
        result = migrate.ensure_schema(engine)
        assert result.before == PREVIOUS and result.after == migrate.head()  # 0006 and any later revision
        assert migrate.drift(engine) == []
        assert {"story", "edits_id"} <= _columns(engine)
        assert {"ix_pulse_delivery_story", "ix_pulse_delivery_edits"} <= _indexes(engine)
        with engine.connect() as conn:
            d = table(PulseDelivery)
            assert conn.execute(select(d.c.text, d.c.story, d.c.edits_id, d.c.message_id)
                                .order_by(d.c.seq)).all() == [
                ("m1", None, None, "x1"), ("m2", None, None, None), ("m3", None, None, None)]
        # The old queue still goes out in order, as plain posts.
        for expected in ("m2", "m3"):
            (c,) = pulse_store.claim(engine, "w", now=T0)
            assert (c.text, c.edit_message_id) == (expected, None)
            pulse_store.mark_posted(engine, c.id, "w", f"x-{expected}", now=T0)
        # A story queued after the upgrade: its second message edits the first.
        fl = store_laps(engine, "fastest_lap", range(10, 12), session_id=sid)
        pulse_store.enqueue(engine, [told("console:c", h, "fastest_lap") for h in fl], now=T0)
        (head,) = pulse_store.claim(engine, "w", now=T0)
        pulse_store.mark_posted(engine, head.id, "w", "x-head", now=T0)
        (edit,) = pulse_store.claim(engine, "w", now=T0)
        assert edit.edit_message_id == "x-head"
        pulse_store.mark_posted(engine, edit.id, "w", "x-head", now=T0)
        # Down to 0005: the columns and indexes go, every row stays.
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), PREVIOUS)
        assert not {"story", "edits_id"} & _columns(engine)
        assert not {"ix_pulse_delivery_story", "ix_pulse_delivery_edits"} & _indexes(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pulse_delivery WHERE status = 'posted'")
                                ).scalar_one() == 5
        # And up again, as the next start-up would.
        migrate.ensure_schema(engine)
        assert migrate.drift(engine) == []
    finally:
        engine.dispose()
