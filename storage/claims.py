"""Event claims and shared rate-limit counters (the SQL behind `bot.ratelimit`'s shared parts).

A claim is one INSERT ... ON CONFLICT DO NOTHING of the event's key: the worker
whose row went in answers, every other worker (or a replay) gets False. Rate
limits are a sliding-window estimate over two fixed-window counters (this window's
count plus the previous window's, weighted by how much of it still overlaps the
last `window_s` seconds), incremented with one atomic upsert, so all workers
share one count. Both tables carry `expires_at` and are pruned by `prune`.
"""

from __future__ import annotations

import hashlib
import math

from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from storage.claim_models import EventClaim, RateCount
from storage.db import insert_missing, table

CLAIM_KEY_MAX = 200  # the columns' lengths (storage.claim_models)
RATE_KEY_MAX = 300


def claim_event(engine: Engine, key: str, *, ttl_s: float, now: float) -> bool:
    """Claim `key` for this worker; False when another worker (or an earlier delivery) has it."""
    with engine.begin() as conn:
        _no_flush_wait(conn)
        row = {"key": _fit(key, CLAIM_KEY_MAX), "expires_at": now + ttl_s}
        return insert_missing(conn, EventClaim, [row], ["key"]) == 1


def hit_rate(engine: Engine, key: str, *, limit: int, window_s: float, now: float) -> float | None:
    """Record a hit of `key`: None when within `limit` per `window_s`, else the seconds to wait.

    A refused hit is not recorded (as `SlidingWindowLimiter`): it is taken back in
    the same transaction, so no worker ever counts it.
    """
    key = _fit(key, RATE_KEY_MAX)
    win = max(1, int(window_s))
    start = int(now // win) * win
    elapsed = now - start
    with engine.begin() as conn:
        _no_flush_wait(conn)
        # Hazard: the upsert takes the row's lock until commit, so workers hitting one key
        # queue here one after the other; each sees every hit admitted before it.
        count = _increment(conn, key, start, expires_at=float(start + 2 * win))
        prev = conn.execute(
            select(RateCount.count).where(RateCount.key == key, RateCount.window_start == start - win)
        ).scalar_one_or_none() or 0
        weight = prev * (win - elapsed) / win
        if weight + count <= limit:
            return None
        conn.execute(
            update(table(RateCount))
            .where(RateCount.key == key, RateCount.window_start == start)  # type: ignore[arg-type]
            .values(count=RateCount.count - 1)
        )
    return _wait(limit, win, elapsed, prev, count - 1)


def prune(engine: Engine, *, now: float) -> int:
    """Delete expired claims and counters; return how many rows went."""
    with engine.begin() as conn:
        gone = conn.execute(delete(table(EventClaim)).where(EventClaim.expires_at < now)).rowcount  # type: ignore[arg-type]
        gone += conn.execute(delete(table(RateCount)).where(RateCount.expires_at < now)).rowcount  # type: ignore[arg-type]
    return int(gone)


def _fit(key: str, limit: int) -> str:
    """`key` as is, or, when longer than its column, its head and a digest of the whole.

    Hazard: PostgreSQL refuses an over-long VARCHAR, which would turn every claim of
    such a key into a store error (and so an unclaimed answer)."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: limit - len(digest) - 1]}#{digest}"


def _no_flush_wait(conn: Connection) -> None:
    """PostgreSQL: commit without waiting for the WAL flush (this transaction only).

    Hazard, accepted: a database crash may lose the last few hundred ms of claims and
    counts, so an event redelivered across that crash could be answered twice (or a
    fan get a hit back). Waiting for the flush would add a disk sync to every event.
    Other processes see the rows at commit either way, so the claim stays exclusive.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _increment(conn: Connection, key: str, start: int, *, expires_at: float) -> int:
    """count += 1 for (key, start), creating the row at 1; the new count (one statement)."""
    tbl = table(RateCount)
    ins = postgresql.insert(tbl) if conn.dialect.name == "postgresql" else sqlite.insert(tbl)
    stmt = ins.values(key=key, window_start=start, count=1, expires_at=expires_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": tbl.c.count + 1}
    ).returning(tbl.c.count)
    return int(conn.execute(stmt).scalar_one())


def _wait(limit: int, win: int, elapsed: float, prev: int, current: int) -> float:
    """Seconds until one more hit fits: prev * (1 - t/win) + current <= limit - 1."""
    if current >= limit:
        # Full on its own: wait for the next window, then for enough of this one to slide out.
        return (win - elapsed) + win * (1 - (limit - 1) / current)
    # prev > 0 here: with no previous hits, current < limit would have been admitted.
    t = win * (1 - (limit - 1 - current) / prev) - elapsed
    return max(0.0, math.ceil(t * 1000) / 1000)
