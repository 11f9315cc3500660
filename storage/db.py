"""Engine creation, schema set-up (through `storage.migrate`) and the one upsert helper."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import (
    claim_models,  # noqa: F401  (event claims and shared rate counters, across workers)
    models,  # noqa: F401  (registers the tables on SQLModel.metadata)
    predict_models,  # noqa: F401  (predictions: stored posterior, folded races)
    pulse_models,  # noqa: F401  (Track Pulse: highlights, deliveries, subscriptions)
    service_models,  # noqa: F401  (service tables: settings, reminders, audit, jobs)
)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for `url` (SQLite file / memory, or PostgreSQL).

    `postgresql://` URLs are routed to psycopg 3, the driver we install.
    """
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The bot reads from worker threads; SQLite's same-thread check would refuse that.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        # An unreachable server fails start-up in seconds instead of hanging on TCP retries.
        kwargs["connect_args"] = {"connect_timeout": 10}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (the bot) run while an ingest writes; foreign keys are off by default.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def init_db(engine: Engine) -> None:
    """Bring the schema to the code's head through the migrations (idempotent).

    Raises `storage.migrate.SchemaTooNew` on a database made by a newer release.
    """
    from storage.migrate import ensure_schema  # migrate imports this module's tables

    ensure_schema(engine)


def table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def upsert(
    conn: Connection,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    *,
    update: Iterable[str] | None = None,
    keep_existing_when_null: bool = False,
    prefer_existing: bool = False,
    count_written: bool = False,
) -> int:
    """Insert `rows`, or update the row with the same natural `keys`.

    `update` names the columns to overwrite on conflict (default: all given
    columns but the keys). With `keep_existing_when_null`, a NULL in the new row
    never erases a stored value: two sources (FastF1 and history) each fill
    what the other lacks. With `prefer_existing`, a stored non-NULL value always
    wins and the new row only fills NULLs (history filling a FastF1 session).
    Returns the number of rows sent; with `count_written`, the number the database
    actually wrote (with `update=[]`: how many were new, "do nothing on conflict").
    """
    if not rows:
        return 0
    tbl = table(model)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        ins = postgresql.insert(tbl)
    elif dialect == "sqlite":
        ins = sqlite.insert(tbl)
    else:  # pragma: no cover - we support only these two
        raise RuntimeError(f"unsupported database dialect: {dialect}")
    cols = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    if cols:
        excluded = ins.excluded
        if prefer_existing:
            values = {c: func.coalesce(tbl.c[c], excluded[c]) for c in cols}
        else:
            values = {
                c: (func.coalesce(excluded[c], tbl.c[c]) if keep_existing_when_null else excluded[c])
                for c in cols
            }
        stmt = ins.on_conflict_do_update(index_elements=list(keys), set_=values)
    else:
        stmt = ins.on_conflict_do_nothing(index_elements=list(keys))
    # Batches keep SQLite under its bound-parameter limit and PostgreSQL round trips low.
    batch = max(1, 30000 // max(1, len(rows[0])))
    if count_written:
        # RETURNING lists only the rows written (executemany rowcounts are unreliable).
        stmt = stmt.returning(*tbl.primary_key.columns)
    written = 0
    for i in range(0, len(rows), batch):
        res = conn.execute(stmt, list(rows[i : i + batch]))
        if count_written:
            written += len(res.all())
    return written if count_written else len(rows)


def insert_missing(
    conn: Connection, model: type[SQLModel], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert the rows whose natural `keys` are not stored yet; return how many were new.

    "Was it new?" is the answer callers need (a moderator already named, a
    reminder already queued): the count comes from RETURNING (see `upsert`).
    """
    return upsert(conn, model, rows, keys, update=(), count_written=True)
