"""The one lease / claim convention for work rows (the outbox, reminders, the job ledger).

A *work row* is a row some process must act on exactly once: a reminder to post,
a job key to run, a highlight delivery. Several processes (or one process before
and after a crash) may look at the same rows, so acting on one is a three-step
protocol, the same for every table:

1. **claim**: a conditional UPDATE that succeeds only while the row is open
   (`LeaseTable.open`, e.g. `status = 'pending'`) and nobody holds a live lease
   (`lease IS NULL OR lease < now`). It sets the lease to `now + lease_s`, counts
   the attempt and records the owner. The UPDATE is the atomic step: two
   claimers may read the same candidate, only one UPDATE matches.
2. **renew** while working on it (long jobs), only while we still own it.
3. **finish** (a final status, the lease cleared) or **release** (open again, a
   later lease, e.g. after a rate limit). A claimer that dies simply lets its
   lease expire: the row is claimable again, with `attempts` telling the next
   claimer that an earlier attempt may have acted (post with `maybe_posted`).

Time convention (the one place it is stated): every `now` / `until` passed to or
returned by this module is an **aware UTC `datetime`**. That is what the
scheduler, the planner and the stored `*_at` / `*_until` columns of the service
tables use, and aware values compare correctly whatever the host's zone. A table
that stores its lease as UNIX seconds (Track Pulse's `pulse_delivery` uses
floats) says so with `LeaseTable(unix=True)`; the conversion happens here and
nowhere else, so callers never mix the two.

Claims go through an index: `claim_due` selects at most `limit` candidate keys
with `WHERE open AND lease expired ORDER BY key LIMIT n`. Each table declares an
index that answers exactly that (reminders: the partial index
`ix_reminder_sent_pending` on `id WHERE status = 'pending'`), so a claim reads one
batch of open rows, never the finished ones (the growing history) nor the rest of
the backlog. Write the `open` value inline (`literal(..., literal_execute=True)`):
a bound parameter hides it from the planner of a prepared PostgreSQL statement,
which then cannot use a partial index. On PostgreSQL the candidate rows are
locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different rows
instead of queueing behind each other.

Users: the job ledger (`storage.jobs`), reminders (`storage.reminders`) and Track
Pulse deliveries (`storage.pulse_store`). Deliveries go out in order per channel, so
their candidates are each channel's head, read through their own index
(`storage.pulse_heads.due_heads`); the atomic step is `claim_keys`, and posting,
failing and giving back are `finish_rows` / `release_row` here like everywhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update
from sqlalchemy.engine import Connection, Row


@dataclass(frozen=True, slots=True)
class LeaseTable:
    """How one table expresses the convention: which columns hold the key, lease, owner.

    Args:
        table: the SQLAlchemy table.
        key: the column that names a row (primary key or unique key).
        lease: the "leased until" column (NULL = not leased).
        open: the condition a row must meet, besides an expired lease, to be claimed.
        attempts: column counting claims (incremented by each claim), if any.
        owner: column recording who holds the lease, if any (then renew / finish
            only succeed for that owner).
        unix: the lease column stores UNIX seconds (float) instead of a datetime.
        held: the condition a row is in while claimed, if the table marks it (Track
            Pulse: `status = 'claimed'`); renew / finish / release then need it too.
    """

    table: Table
    key: str
    lease: str
    open: ColumnElement[bool]
    attempts: str | None = None
    owner: str | None = None
    unix: bool = False
    held: ColumnElement[bool] | None = None

    def stored(self, when: dt.datetime | None) -> Any:
        """An aware UTC datetime as the lease column stores it."""
        if when is None:
            return None
        return when.timestamp() if self.unix else when

    def claimable(self, now: dt.datetime) -> ColumnElement[bool]:
        """Open and not leased to anyone right now."""
        lease = self.table.c[self.lease]
        return and_(self.open, or_(lease.is_(None), lease < self.stored(now)))

    def _claim_values(self, now: dt.datetime, lease_s: float, owner: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {self.lease: self.stored(now + dt.timedelta(seconds=lease_s))}
        if self.attempts is not None:
            values[self.attempts] = self.table.c[self.attempts] + 1
        if self.owner is not None:
            values[self.owner] = owner
        return values

    def _owned(self, key: Any, owner: str | None) -> ColumnElement[bool]:
        return self._owned_any([key], owner)

    def _owned_any(self, keys: Sequence[Any], owner: str | None) -> ColumnElement[bool]:
        col = self.table.c[self.key]
        cond = col == keys[0] if len(keys) == 1 else col.in_(list(keys))
        if self.owner is not None and owner is not None:
            cond = and_(cond, self.table.c[self.owner] == owner)
        if self.held is not None:
            cond = and_(cond, self.held)
        return cond


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime read back from the store, as aware UTC (SQLite returns naive UTC)."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def claim_due(
    conn: Connection,
    q: LeaseTable,
    *,
    now: dt.datetime,
    lease_s: float,
    owner: str | None = None,
    limit: int = 50,
    where: ColumnElement[bool] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Claim up to `limit` claimable rows (oldest key first); returns the keys claimed.

    `where` narrows the candidates (e.g. only channels whose platform is up);
    `extra` are further values to set on the claimed rows (e.g. a status).
    Call inside the caller's transaction; the UPDATE re-checks `claimable`, so a
    row another claimer took between our SELECT and UPDATE is not returned.
    """
    cond = q.claimable(now)
    if where is not None:
        cond = and_(cond, where)
    key_col = q.table.c[q.key]
    pick = select(key_col).where(cond).order_by(key_col).limit(limit)
    if conn.dialect.name == "postgresql":
        # Rows another claimer is locking right now are skipped, not waited for.
        pick = pick.with_for_update(skip_locked=True)
    keys = list(conn.execute(pick).scalars())
    return claim_keys(conn, q, keys, now=now, lease_s=lease_s, owner=owner, extra=extra)


def claim_keys(
    conn: Connection,
    q: LeaseTable,
    keys: Sequence[Any],
    *,
    now: dt.datetime,
    lease_s: float,
    owner: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The atomic step of a claim: lease those of `keys` that are still claimable.

    For tables whose candidates need a read of their own (Track Pulse picks each
    channel's head): the caller selects candidate keys through its index, this
    UPDATE re-checks `claimable` and returns the keys won, in the given order.
    """
    if not keys:
        return []
    key_col = q.table.c[q.key]
    values = {**q._claim_values(now, lease_s, owner), **(extra or {})}
    res = conn.execute(
        update(q.table).where(key_col.in_(list(keys)), q.claimable(now)).values(**values)
        .returning(key_col)
    )
    won = set(res.scalars())
    return [k for k in keys if k in won]  # keep the key order


def claim_key(
    conn: Connection,
    q: LeaseTable,
    key: Any,
    *,
    now: dt.datetime,
    lease_s: float,
    owner: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Take over one existing row if it is claimable (e.g. a job whose runner died).

    Creating the row is the caller's business (`storage.db.upsert(..., update=[],
    count_written=True)` inserts it already claimed); this is the other half.
    """
    values = {**q._claim_values(now, lease_s, owner), **(extra or {})}
    res = conn.execute(
        update(q.table).where(q.table.c[q.key] == key, q.claimable(now)).values(**values)
    )
    return bool(res.rowcount == 1)


def renew(conn: Connection, q: LeaseTable, key: Any, *, until: dt.datetime,
          owner: str | None = None) -> bool:
    """Extend our lease on `key` (False: it is not ours any more)."""
    res = conn.execute(
        update(q.table).where(q._owned(key, owner)).values({q.lease: q.stored(until)})
    )
    return bool(res.rowcount == 1)


def finish(conn: Connection, q: LeaseTable, key: Any, *, owner: str | None = None,
           values: Mapping[str, Any]) -> bool:
    """Close the row with `values` (a final status...) and clear the lease.

    With an owner column and `owner` given, only the lease holder can finish it:
    a claimer that lost its lease (took too long) does not overwrite its successor.
    """
    res = conn.execute(
        update(q.table).where(q._owned(key, owner)).values({**values, q.lease: None})
    )
    return bool(res.rowcount == 1)


def finish_rows(conn: Connection, q: LeaseTable, keys: Sequence[Any], *, owner: str | None = None,
                values: Mapping[str, Any], returning: Sequence[str]) -> list[Row[Any]]:
    """`finish` for several keys at once, returning `returning` of the rows finished
    (rows whose lease we lost are left to their new holder and not returned)."""
    if not keys:
        return []
    cols = [q.table.c[c] for c in returning]
    return list(conn.execute(
        update(q.table).where(q._owned_any(keys, owner)).values({**values, q.lease: None})
        .returning(*cols)
    ).all())


def release(conn: Connection, q: LeaseTable, key: Any, *, until: dt.datetime | None,
            owner: str | None = None, values: Mapping[str, Any] | None = None) -> bool:
    """Give the row back: claimable again after `until` (None: at once)."""
    res = conn.execute(
        update(q.table).where(q._owned(key, owner)).values({**(values or {}), q.lease: q.stored(until)})
    )
    return bool(res.rowcount == 1)


def release_row(conn: Connection, q: LeaseTable, key: Any, *, until: dt.datetime | None,
                owner: str | None = None, values: Mapping[str, Any] | None = None,
                returning: Sequence[str]) -> Row[Any] | None:
    """`release`, returning `returning` of the row given back (None: it was not ours)."""
    cols = [q.table.c[c] for c in returning]
    return conn.execute(
        update(q.table).where(q._owned(key, owner)).values({**(values or {}), q.lease: q.stored(until)})
        .returning(*cols)
    ).first()
