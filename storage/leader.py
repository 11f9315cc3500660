"""Leader election: exactly one of several processes runs the scheduler and the deliverer.

PostgreSQL: a session-level advisory lock held on a DEDICATED connection. The
lock lives exactly as long as that connection, so a process that dies (even by
SIGKILL) loses it the moment the server sees the socket close, and a process
whose connection breaks must assume it lost leadership (`check()` says so).
Others retry every `retry_s` seconds, so a take-over needs well under a minute.

SQLite: a lease row with an expiry, renewed by the holder. SQLite is one host
only, so this only has to coordinate processes on one machine; a dead holder's
lease expires after `ttl_s`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, case, select, text

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """Aware UTC now (the store's datetime columns refuse naive values)."""
    return dt.datetime.now(dt.UTC)


def default_holder_id() -> str:
    """Identifies this process in logs and in the SQLite lease row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leadership(Protocol):
    """One process's claim on a role ("scheduler")."""

    holder: str
    retry_s: float

    @property
    def is_leader(self) -> bool: ...

    async def try_acquire(self) -> bool:
        """Try once to become leader; True when this process holds the role now."""

    async def check(self) -> bool:
        """Confirm (and renew) leadership; False when it was lost."""

    async def release(self) -> None:
        """Give the role up (clean shutdown), so another process takes over at once."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a role name."""
    digest = hashlib.blake2b(f"slipstream:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PgAdvisoryLeadership:
    """Session-level `pg_try_advisory_lock` on a connection of its own."""

    def __init__(
        self, url: str, name: str = "scheduler", *, holder: str | None = None, retry_s: float = 3.0
    ) -> None:
        self.url = url
        self.name = name
        self.key = lock_key(name)
        self.holder = holder or default_holder_id()
        self.retry_s = retry_s
        self._conn: object | None = None  # psycopg.AsyncConnection
        self._leader = False

    @property
    def is_leader(self) -> bool:
        return self._leader

    async def _connect(self) -> object:
        import psycopg

        # Keepalives make a silently dead network path fail `check()` instead of hanging.
        return await psycopg.AsyncConnection.connect(
            self.url,
            autocommit=True,
            connect_timeout=5,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
            application_name=f"slipstream-leader:{self.holder}"[:63],
        )

    async def try_acquire(self) -> bool:
        if self._leader:
            return await self.check()
        try:
            if self._conn is None:
                self._conn = await self._connect()
            conn = self._conn
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))  # type: ignore[attr-defined]
            row = await cur.fetchone()
            self._leader = bool(row and row[0])
        except Exception as exc:  # connection refused / dropped: not leader, retry later
            log.warning("leader: cannot try the lock (%s)", exc)
            await self._drop()
            self._leader = False
        if self._leader:
            log.info("leader: %s acquired %r", self.holder, self.name)
        return self._leader

    async def check(self) -> bool:
        if not self._leader or self._conn is None:
            return False
        try:
            # The lock is ours as long as this connection lives; a round trip proves it does.
            cur = await self._conn.execute(  # type: ignore[attr-defined]
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND granted AND objid = (%s::bigint & 4294967295)::oid",
                (self.key,),
            )
            row = await cur.fetchone()
            ok = bool(row and row[0])
        except Exception as exc:
            log.warning("leader: lost the connection holding the lock (%s)", exc)
            ok = False
        if not ok:
            log.warning("leader: %s lost %r", self.holder, self.name)
            self._leader = False
            await self._drop()
        return ok

    async def release(self) -> None:
        if self._conn is not None and self._leader:
            try:
                await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))  # type: ignore[attr-defined]
            except Exception:  # closing the connection releases it anyway
                pass
        self._leader = False
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()  # type: ignore[attr-defined]
            except Exception:
                pass


class SqliteLeaseLeadership:
    """A lease row in `leader_lease`; the holder renews it every `check()`."""

    def __init__(
        self,
        engine: Engine,
        name: str = "scheduler",
        *,
        holder: str | None = None,
        ttl_s: float = 15.0,
        retry_s: float = 3.0,
        clock: Clock = utcnow,
    ) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder or default_holder_id()
        self.ttl_s = ttl_s
        self.retry_s = retry_s
        self.clock = clock
        self._leader = False

    @property
    def is_leader(self) -> bool:
        return self._leader

    def _claim(self) -> bool:
        from sqlalchemy.dialects.sqlite import insert

        from storage.service_models import LeaderLease

        now = self.clock()
        tbl = LeaderLease.__table__  # type: ignore[attr-defined]
        ins = insert(tbl).values(
            name=self.name,
            holder=self.holder,
            expires_at=now + dt.timedelta(seconds=self.ttl_s),
            acquired_at=now,
        )
        # One statement: take the row if free, expired, or already ours. SQLite
        # serialises writers, so two processes cannot both see it free.
        stmt = ins.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": ins.excluded.holder,
                "expires_at": ins.excluded.expires_at,
                "acquired_at": case(
                    (tbl.c.holder == ins.excluded.holder, tbl.c.acquired_at),
                    else_=ins.excluded.acquired_at,
                ),
            },
            where=(tbl.c.holder == ins.excluded.holder) | (tbl.c.expires_at < now),
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)
            holder = conn.execute(select(tbl.c.holder).where(tbl.c.name == self.name)).scalar_one()
        return bool(holder == self.holder)

    async def try_acquire(self) -> bool:
        try:
            got = await asyncio.to_thread(self._claim)
        except Exception as exc:
            log.warning("leader: lease claim failed (%s)", exc)
            got = False
        if got and not self._leader:
            log.info("leader: %s acquired %r (lease)", self.holder, self.name)
        self._leader = got
        return got

    async def check(self) -> bool:
        if not self._leader:
            return False
        ok = await self.try_acquire()
        if not ok:
            log.warning("leader: %s lost %r (lease)", self.holder, self.name)
        return ok

    async def release(self) -> None:
        if not self._leader:
            return
        self._leader = False

        def _release() -> None:
            with self.engine.begin() as conn:
                conn.execute(
                    text("DELETE FROM leader_lease WHERE name = :n AND holder = :h"),
                    {"n": self.name, "h": self.holder},
                )

        try:
            await asyncio.to_thread(_release)
        except Exception as exc:
            log.warning("leader: lease release failed (%s)", exc)


def pg_dsn(engine: Engine) -> str:
    """The libpq URL of a PostgreSQL engine (psycopg wants no `+psycopg`)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_leadership(
    engine: Engine,
    name: str = "scheduler",
    *,
    holder: str | None = None,
    retry_s: float = 3.0,
    ttl_s: float = 15.0,
    clock: Clock = utcnow,
) -> Leadership:
    """Advisory lock on PostgreSQL, lease row on SQLite."""
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLeadership(pg_dsn(engine), name, holder=holder, retry_s=retry_s)
    return SqliteLeaseLeadership(
        engine, name, holder=holder, ttl_s=ttl_s, retry_s=retry_s, clock=clock
    )
