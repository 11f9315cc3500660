"""Channel heads (`storage.pulse_heads`): every channel with queued messages has exactly one
head, its oldest unfinished row, through enqueues, claims, posts, failures, releases and an
unsubscribe; and the claim reads heads through the index, not the backlog."""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import Engine, select, text

from bot.pulse.types import Priority, PulseHighlight
from storage import pulse_store
from storage.db import table
from storage.pulse_models import CLAIMED, PENDING, PulseDelivery
from tests.pulse.conftest import TEAMS, add_race_session


def _enqueue(engine: Engine, sid: int, channels: list[str], laps: range) -> None:
    hs = [PulseHighlight(key=f"pit_stop:{lap}:LEC", kind="pit_stop", lap=lap, priority=Priority.HIGH,
                         drivers=("LEC",), facts={"lap": lap}) for lap in laps]
    stored = pulse_store.save_highlights(engine, sid, hs, teams=TEAMS)
    pulse_store.enqueue(engine, [pulse_store.Message(c, (h,), f"{c} lap {h.lap}", 0.0)
                                 for c in channels for h in stored])


def _check_heads(engine: Engine) -> None:
    d = table(PulseDelivery)
    with engine.connect() as conn:
        rows = conn.execute(select(d.c.channel_id, d.c.seq, d.c.status, d.c.is_head)).all()
    unfinished: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for ch, seq, status, is_head in rows:
        if status in (PENDING, CLAIMED):
            unfinished[ch].append((seq, bool(is_head)))
    for ch, items in unfinished.items():
        items.sort()
        assert items[0][1], f"{ch}: its oldest unfinished row is not its head"
        assert not any(h for _, h in items[1:]), f"{ch}: more than one head"


async def test_every_channel_keeps_exactly_one_head(engine: Engine) -> None:
    sid = add_race_session(engine)
    chans = [f"console:local:c{i}" for i in range(4)]
    _enqueue(engine, sid, chans, range(1, 4))
    _check_heads(engine)
    now = time.time()
    first = pulse_store.claim(engine, "w1", now=now, limit=2)
    assert len(first) == 2 and len({c.channel_id for c in first}) == 2
    # More messages arrive while heads are claimed: the claimed rows stay the heads.
    _enqueue(engine, sid, chans, range(4, 6))
    _check_heads(engine)
    pulse_store.mark_posted_many(engine, [(first[0].id, "m1")], "w1", now=now)
    pulse_store.mark_failed(engine, first[1].id, "w1", "channel gone")
    _check_heads(engine)
    more = pulse_store.claim(engine, "w2", now=now, limit=10)
    assert len(more) == 4 and len({c.channel_id for c in more}) == 4  # one per channel
    pulse_store.release(engine, more[0].id, "w2", not_before=now + 60)  # rate limited
    pulse_store.release(engine, more[1].id, "w2", not_before=now + 1, maybe_posted=True)
    pulse_store.unsubscribe(engine, more[2].channel_id)
    pulse_store.mark_posted(engine, more[3].id, "w2", "m2", now=now)
    _check_heads(engine)
    # The released channel waits as a whole; the others go on, in order.
    later = pulse_store.claim(engine, "w3", now=now + 2, limit=10)
    assert more[0].channel_id not in {c.channel_id for c in later}
    assert more[1].channel_id in {c.channel_id for c in later}  # its lease ran out: taken over
    # A channel whose queue ran dry gets a head again with its next message.
    drained = chans[0]
    while (got := [c for c in pulse_store.claim(engine, "w4", now=now + 3600, limit=10)
                   if c.channel_id == drained]):
        pulse_store.mark_posted_many(engine, [(c.id, "m") for c in got], "w4", now=now + 3600)
    assert pulse_store.outbox_counts(engine, drained).get(PENDING, 0) == 0
    _enqueue(engine, sid, [drained], range(10, 12))
    _check_heads(engine)
    assert [c.channel_id for c in pulse_store.claim(engine, "w5", now=now + 3600, limit=10)
            if c.channel_id == drained] == [drained]


def test_claim_reads_heads_through_the_index_on_sqlite(sqlite_engine: Engine) -> None:
    from storage.db import init_db
    from storage.pulse_heads import due_heads

    init_db(sqlite_engine)
    sid = add_race_session(sqlite_engine)
    _enqueue(sqlite_engine, sid, [f"console:local:x{i}" for i in range(30)], range(1, 31))
    with sqlite_engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # statistics must not lead the planner to the backlog
        sql = str(due_heads(time.time(), 50, []).compile(sqlite_engine, compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_pulse_delivery_queue" in plan and "TEMP B-TREE" not in plan, plan
