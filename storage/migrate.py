"""Schema migrations (Alembic), run by the code itself: no `alembic.ini` in the cwd.

`ensure_schema(engine)` is what start-up calls (through `storage.db.init_db`):
- an empty database is upgraded to head;
- a store made before migrations existed (our tables, no `alembic_version`) is
  adopted at the baseline `0001_baseline` (tables it lacks are created, nullable
  columns it lacks are added), then upgraded to head;
- a database at a revision this code does not know (made by a newer release) is
  refused with `SchemaTooNew`, whose message is one line for the user.
Two processes starting together never both migrate: PostgreSQL takes an advisory
lock, SQLite a `BEGIN IMMEDIATE` write lock, for the whole check-and-upgrade.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

# Alembic logs each plugin it sets up (on import) and each context (on every start) at INFO;
# our own line says when the schema actually changed. Set before importing it; its warnings
# and errors still show.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

log = logging.getLogger(__name__)

BASELINE = "0001_baseline"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Tables in the store that are not ours (APScheduler's job store keeps its own).
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})
# Any fixed 64-bit number; every Slipstream process uses the same one.
_PG_LOCK_KEY = 0x51_1957_2EA4
# A second process waits this long for the first one's migration to finish.
_SQLITE_LOCK_WAIT_S = 600


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Slipstream than this one."""


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands: its revision (None = never migrated) and the code's head."""

    current: str | None
    head: str

    @property
    def is_head(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        """One line, e.g. `0001_baseline (head)`."""
        if self.current is None:
            return f"none (not migrated; head is {self.head})"
        return f"{self.current} (head)" if self.is_head else f"{self.current} (head is {self.head})"


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    before: str | None
    after: str
    adopted: bool  # a pre-migration store, adopted at the baseline


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave tables that are not ours (and their indexes) out of every comparison."""
    if type_ == "table":
        return name not in FOREIGN_TABLES
    table = getattr(obj, "table", None)
    return getattr(table, "name", None) not in FOREIGN_TABLES


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write SQLModel's column types as plain SQLAlchemy ones in generated migrations,
    so a migration never depends on a library's private type classes."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        length = getattr(obj.impl, "length", None)
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


def alembic_config(connection: Connection | None = None) -> Config:
    """A Config pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    # Parsing the versions directory costs a few ms; the files never change while running.
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this code knows."""
    rev = _scripts().get_current_head()
    assert rev is not None, "no migrations shipped"
    return rev


def _current(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    return heads[0] if heads else None


def status(engine: Engine) -> SchemaStatus:
    """The database's revision and the code's head (for `db current`, /healthz, /f1 status)."""
    with engine.connect() as conn:
        return SchemaStatus(_current(conn), head())


def current_revision(engine: Engine) -> str | None:
    return status(engine).current


def _check_known(rev: str | None) -> None:
    if rev is None:
        return
    known = {s.revision for s in _scripts().walk_revisions()}
    if rev not in known:
        raise SchemaTooNew(
            f"the database is at schema revision {rev!r}, newer than this Slipstream knows "
            f"(its newest is {head()!r}); upgrade Slipstream, or point DATABASE_URL at another store"
        )


def _is_memory_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that only one process at a time can hold."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # Released at commit / rollback; a second process waits here, then sees head.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            yield conn
        return
    if _is_memory_sqlite(engine):  # one process by definition; a new engine would be a new database
        with engine.begin() as conn:
            yield conn
        return
    # pysqlite only opens transactions before DML, so DDL would autocommit piecemeal and
    # nothing would stop a second process. A private engine in driver autocommit mode lets
    # us issue BEGIN IMMEDIATE ourselves: one writer, and the whole migration is atomic.
    # Foreign keys stay off on it (SQLite's default), as batch mode's table copies require.
    mig = create_engine(
        engine.url,
        connect_args={"isolation_level": None, "timeout": _SQLITE_LOCK_WAIT_S},
    )

    @event.listens_for(mig, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with mig.begin() as conn:
            yield conn
    finally:
        mig.dispose()


def _ours(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) & set(SQLModel.metadata.tables)


def ensure_schema(engine: Engine) -> UpgradeResult:
    """Bring the database to head (see the module docstring); raises SchemaTooNew."""
    with _locked(engine) as conn:
        before = _current(conn)
        _check_known(before)
        adopted = before is None and bool(_ours(conn))
        from alembic import command

        cfg = alembic_config(conn)
        if adopted:
            log.warning("store made before schema migrations: adopting it at %s", BASELINE)
            cfg.attributes["adopt"] = True
        command.upgrade(cfg, "head")
        after = _current(conn) or head()
    if before != after:
        log.info("database schema upgraded: %s -> %s", before or "empty", after)
    return UpgradeResult(before, after, adopted)


def upgrade(engine: Engine) -> UpgradeResult:
    """`slipstream db upgrade`: the same as start-up does."""
    return ensure_schema(engine)


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty = none)."""
    from alembic.autogenerate import compare_metadata

    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(ctx, SQLModel.metadata))
