"""Evolving stories in the outbox (issue 18) on SQLite and PostgreSQL: a story's first
message per channel is posted, its later ones edit that message; re-enqueueing is still
idempotent; an edit of a head that failed is posted as a new message."""

from __future__ import annotations

from sqlalchemy import Engine, select

from storage import pulse_store
from storage.db import table
from storage.pulse_models import PulseDelivery
from tests.pulse.conftest import add_race_session
from tests.pulse.story_rows import store_laps, told

T0 = 1_800_000_000.0
A, B = "console:local:a", "console:local:b"


def _rows(engine: Engine, channel: str) -> list[tuple[str, str | None, int | None, int]]:
    """(text, story, edits_id, id) of a channel's leaders, in seq order."""
    d = table(PulseDelivery)
    with engine.connect() as conn:
        return [(t, s, e, int(i)) for t, s, e, i in conn.execute(
            select(d.c.text, d.c.story, d.c.edits_id, d.c.id)
            .where(d.c.channel_id == channel, d.c.text != "").order_by(d.c.seq)
        ).all()]


def test_a_story_is_one_head_and_edits_of_it_per_channel(engine: Engine) -> None:
    fl = store_laps(engine, "fastest_lap", range(10, 14))
    # Two messages of the story in one call, then two more in later calls.
    assert pulse_store.enqueue(engine, [told(A, fl[0], "fastest_lap"), told(A, fl[1], "fastest_lap"),
                                        told(B, fl[0], "fastest_lap")], now=T0) == 3
    assert pulse_store.enqueue(engine, [told(A, fl[2], "fastest_lap")], now=T0) == 1
    assert pulse_store.enqueue(engine, [told(A, fl[3], "fastest_lap"), told(B, fl[3], "fastest_lap")],
                               now=T0) == 2
    rows = _rows(engine, A)
    head = rows[0]
    assert head[2] is None and head[1] is not None and head[1].endswith(":fastest_lap")
    assert head[1] == f"{fl[0].prefix}:fastest_lap"  # scoped by the session ("2023:14:R")
    assert [r[2] for r in rows[1:]] == [head[3]] * 3
    b_rows = _rows(engine, B)  # the other channel has its own head
    assert b_rows[0][2] is None and b_rows[1][2] == b_rows[0][3] != head[3]
    # Re-enqueueing the same messages adds nothing and changes nothing.
    again = [told(A, h, "fastest_lap") for h in fl] + [told(B, fl[0], "fastest_lap")]
    assert pulse_store.enqueue(engine, again, now=T0 + 5) == 0
    assert _rows(engine, A) == rows and _rows(engine, B) == b_rows


def test_stories_are_scoped_by_session_and_name(engine: Engine) -> None:
    monza = store_laps(engine, "battle", range(1, 3))
    singapore = add_race_session(engine, round_=15, name="Singapore Grand Prix")
    other = store_laps(engine, "battle", range(1, 3), session_id=singapore)
    assert monza[0].session_id != other[0].session_id
    pulse_store.enqueue(engine, [
        told(A, monza[0], "battle:LEC:SAI"), told(A, monza[1], "battle:HAM:RUS"),
        told(A, other[0], "battle:LEC:SAI"), told(A, other[1], None),
    ], now=T0)
    # Four heads: another story name, the same name in another session, and no story at all.
    assert [r[2] for r in _rows(engine, A)] == [None, None, None, None]
    assert _rows(engine, A)[3][1] is None


def test_claim_gives_an_edit_the_heads_message_id_in_seq_order(engine: Engine) -> None:
    fl = store_laps(engine, "fastest_lap", range(10, 13))
    plain = store_laps(engine, "overtake", range(20, 21), session_id=fl[0].session_id)
    pulse_store.enqueue(engine, [told(A, fl[0], "fastest_lap"), told(A, plain[0], None),
                                 told(A, fl[1], "fastest_lap"), told(A, fl[2], "fastest_lap")], now=T0)
    texts: list[tuple[str, str | None]] = []
    for mid in ("m-head", "m-plain", "edit-1", "edit-2"):
        (c,) = pulse_store.claim(engine, "w", now=T0 + 1, limit=10)  # one in flight per channel
        texts.append((c.text, c.edit_message_id))
        # An edit records what the poster's edit returns: the head's message id.
        assert pulse_store.mark_posted(engine, c.id, "w", c.edit_message_id or mid, now=T0 + 1)
    assert texts == [("fastest_lap lap 10", None), ("overtake lap 20", None),
                     ("fastest_lap lap 11", "m-head"), ("fastest_lap lap 12", "m-head")]
    assert [m for _k, m in pulse_store.posted_for_channel(engine, A)] == [
        "m-head", "m-plain", "m-head", "m-head"]
    assert pulse_store.claim(engine, "w", now=T0 + 2) == []


def test_an_edit_of_a_failed_head_is_posted_new_and_later_edits_follow_it(engine: Engine) -> None:
    fl = store_laps(engine, "fastest_lap", range(10, 13))
    pulse_store.enqueue(engine, [told(A, h, "fastest_lap") for h in fl], now=T0)
    (head,) = pulse_store.claim(engine, "w", now=T0 + 1)
    pulse_store.mark_failed(engine, head.id, "w", "channel gone for a moment")
    (first_edit,) = pulse_store.claim(engine, "w", now=T0 + 2)
    assert first_edit.edit_message_id is None  # nothing to edit: a new post
    pulse_store.mark_posted_many(engine, [(first_edit.id, "m-new")], "w", now=T0 + 2)
    (second_edit,) = pulse_store.claim(engine, "w", now=T0 + 3)
    assert second_edit.edit_message_id == "m-new"  # the story's message is now that one


def test_an_edit_released_after_a_rate_limit_keeps_its_target(engine: Engine) -> None:
    fl = store_laps(engine, "battle", range(1, 3))
    pulse_store.enqueue(engine, [told(A, h, "battle:LEC:SAI") for h in fl], now=T0)
    (head,) = pulse_store.claim(engine, "w", now=T0 + 1)
    pulse_store.mark_posted(engine, head.id, "w", "m1", now=T0 + 1)
    (edit,) = pulse_store.claim(engine, "w", now=T0 + 2)
    pulse_store.release(engine, edit.id, "w", not_before=T0 + 10, error="rate limited")
    assert pulse_store.claim(engine, "w2", now=T0 + 5) == []
    (again,) = pulse_store.claim(engine, "w2", now=T0 + 11)
    assert (again.id, again.edit_message_id) == (edit.id, "m1")
