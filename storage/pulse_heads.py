"""Channel heads of the Track Pulse outbox: which row each channel posts next.

A channel's messages go out in order, one at a time, so only its oldest
unfinished row (pending or claimed) may be claimed: its HEAD, flagged
`is_head`. With the flag, `claim` reads due heads straight off the
(status, is_head, seq) index and stops after its batch, whatever the backlog;
without it every claim had to find each channel's oldest row among all queued
rows (6 ms with 4.5k queued, 60 ms with 45k).

The flag moves on at the two places a head can appear:
- a head finished (posted / failed): the channel's next pending row becomes head;
- rows enqueued for a channel with nothing unfinished: its first new row is head.
Hazard (PostgreSQL): an enqueue and the finishing of the same channel's head in
two concurrent transactions could each miss the other's uncommitted rows and
leave the channel with no head at all. Both take one transaction-scoped advisory
lock before moving a flag, so the second one sees the first one's rows. (SQLite
has one writer at a time: nothing to do.)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, bindparam, exists, func, literal_column, select, true, update
from sqlalchemy.engine import Connection

from storage.db import table
from storage.pulse_models import CLAIMED, PENDING, PulseDelivery

_PG_HEADS_LOCK = 0x5157_0E_AD  # any fixed number, the same in every process


def _serialize(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_PG_HEADS_LOCK)))


def advance(conn: Connection, finished: Iterable[tuple[str, int]]) -> None:
    """Heads finished: (channel, seq) each. The next pending row of each channel becomes head."""
    pairs = [{"ch": c, "after": s} for c, s in finished]
    if not pairs:
        return
    _serialize(conn)
    d = table(PulseDelivery)
    nxt = d.alias("nxt")
    following = (
        select(nxt.c.id)
        .where(nxt.c.channel_id == bindparam("ch"), nxt.c.status == PENDING,
               nxt.c.seq > bindparam("after"))
        .order_by(nxt.c.seq).limit(1).scalar_subquery()
    )
    conn.execute(update(d).where(d.c.id == following).values(is_head=True), pairs)


def start(conn: Connection, first_rows: Iterable[tuple[str, int]]) -> None:
    """New rows enqueued: (channel, seq of its first new row). That row becomes head when
    nothing older is unfinished in its channel (else the channel already has a head)."""
    pairs = [{"ch": c, "first": s} for c, s in first_rows]
    if not pairs:
        return
    _serialize(conn)
    d = table(PulseDelivery)
    older = d.alias("older")
    conn.execute(
        update(d).where(
            d.c.channel_id == bindparam("ch"), d.c.seq == bindparam("first"), d.c.status == PENDING,
            ~exists(select(older.c.id).where(
                # Inline literals: an expanding IN cannot run as an executemany.
                older.c.status.in_([literal_column(f"'{PENDING}'"), literal_column(f"'{CLAIMED}'")]),
                older.c.channel_id == d.c.channel_id,
                older.c.seq < d.c.seq,
            )),
        ).values(is_head=True),
        pairs,
    )


def due_heads(now: float, limit: int, skip: list[str]):  # type: ignore[no-untyped-def]
    """The claim's read: due pending heads, oldest first, through (status, is_head, seq)."""
    d = table(PulseDelivery)
    # Hazard: `not_before + 0`, not `not_before`. Given ANALYZE statistics, SQLite would
    # rather walk (status, not_before) and sort every due row: the backlog scan this avoids.
    stmt = select(d.c.id).where(
        and_(d.c.status == PENDING, d.c.is_head == true(), d.c.not_before + 0 <= now)
    )
    if skip:
        stmt = stmt.where(d.c.channel_id.not_in(skip))
    return stmt.order_by(d.c.status, d.c.is_head, d.c.seq).limit(limit)
