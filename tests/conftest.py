"""Shared fixtures: real SQLite and PostgreSQL stores, data paths, the demo store.

PostgreSQL tests each get a fresh database on 127.0.0.1:5432 (dropped
afterwards), so parallel runs never see each other's rows.

Stores are built once per run and copied per test, because building is the slow
part: the schema (`init_db`: 0.8 s a database on PostgreSQL, a copy takes 0.1 s)
and the demo store. The demo store (the bundled 2023 history + the Monza 2023 race through FastF1's
real loader in a child process) takes seconds to build, so it is built at most
once per run and backend: a template that each test copies (a SQLite file copy,
or `CREATE DATABASE ... TEMPLATE` on PostgreSQL). Every test writes only to its
own copy.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.db import init_db, make_engine

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MONZA_CACHE = FIXTURES / "fastf1" / "monza-2023"
SHARED_DATA = Path(os.environ.get("SLIPSTREAM_SHARED_DATA", ROOT.parent / "shared" / "data"))
PG_ADMIN_URL = os.environ.get("SLIPSTREAM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


def create_pg_database(template: str | None = None) -> str:
    """Create a database (empty, or a copy of the one at URL `template`); return its URL."""
    import psycopg

    name = f"slipstream_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(_create_sql(name, template))
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _create_sql(name: str, template: str | None) -> str:
    if template is None:
        return f'CREATE DATABASE "{name}"'
    # Hazard: PostgreSQL refuses to copy a database anyone is connected to, so a
    # template's engine is disposed as soon as it is built. The default strategy
    # (WAL_LOG) is the fast one here: FILE_COPY forces a checkpoint, 1-4 s under load.
    return f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"'



def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'slipstream.db'}"


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def pg_schema_url(pg_schema_template: str) -> Iterator[str]:
    """A PostgreSQL database holding the schema and no rows, private to this test."""
    url = create_pg_database(template=pg_schema_template)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL: an empty store, or the schema if the
    test uses `engine` (which would create it at once anyway)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    if "engine" in request.fixturenames:
        # Copying the schema template takes 0.2 s; `init_db` on an empty database 0.5-0.8 s.
        return request.getfixturevalue("pg_schema_url")
    return request.getfixturevalue("pg_url")


def _rollback_journal(path: Path) -> None:
    """Make a SQLite template self-contained, so that copying its one file copies it all."""
    # Hazard: stores run in WAL mode, and a copy of the main file alone would miss what
    # is still in its -wal file. Rollback-journal mode checkpoints the WAL into the file;
    # each copy turns WAL on again when an engine connects to it.
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert not Path(f"{path}-wal").exists()


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store with the schema, as a SQLite file: `init_db` once per run."""
    path = tmp_path_factory.mktemp("schema-template") / "schema.db"
    eng = make_engine(f"sqlite:///{path}")
    init_db(eng)
    eng.dispose()
    _rollback_journal(path)
    return path


@pytest.fixture(scope="session")
def pg_schema_template(pg_available: bool) -> Iterator[str]:
    """An empty store with the schema on PostgreSQL: only ever a TEMPLATE."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = create_pg_database()
    try:
        eng = make_engine(url)
        init_db(eng)
        eng.dispose()
        yield url
    finally:
        drop_pg_database(url)


def _store_engine(url: str, request: pytest.FixtureRequest) -> Engine:
    """An engine on the store at `url` holding the schema (PostgreSQL: see `db_url`)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        if not path.exists():  # a new store: copy the schema rather than create it
            shutil.copyfile(request.getfixturevalue("schema_template"), path)
    eng = make_engine(url)
    init_db(eng)  # a no-op on a copy (a few ms); the store is whatever init_db makes it
    return eng


@pytest.fixture
def engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A store with the schema, on SQLite and on PostgreSQL (via `db_url`)."""
    eng = _store_engine(db_url, request)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    eng = _store_engine(sqlite_url, request)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def monza_cache(tmp_path: Path) -> Path:
    """A writable copy of the Monza 2023 FastF1 cache (FastF1 may touch its sqlite file)."""
    dest = tmp_path / "ff1cache"
    shutil.copytree(MONZA_CACHE, dest)
    return dest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "fastf1-cache").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (bigger fixtures live there)")
    return SHARED_DATA


# ---------------------------------------------------------------------- the demo store


def _build_demo(url: str, work_dir: Path) -> None:
    """Load the bundled demo into the (empty) store at `url` through the real `load_demo`."""
    from storage.demo import load_demo

    engine = make_engine(url)
    try:
        init_db(engine)
        report = load_demo(engine, work_dir=work_dir)
        assert report.ok, report
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store as a SQLite file, built once per run: copy it, never open it."""
    base = tmp_path_factory.mktemp("demo-template")
    path = base / "demo.db"
    _build_demo(f"sqlite:///{path}", base / "work")
    _rollback_journal(path)
    return path


def copy_demo(template: Path, dest_dir: Path, name: str = "demo.db") -> str:
    """A private copy of the demo template in `dest_dir`; returns its SQLite URL."""
    dest = dest_dir / name
    shutil.copyfile(template, dest)
    return f"sqlite:///{dest}"


@pytest.fixture
def demo_url(demo_template: Path, tmp_path: Path) -> str:
    """A SQLite store holding the demo data, private to this test."""
    return copy_demo(demo_template, tmp_path)


@pytest.fixture(scope="session")
def demo_pg_template(pg_available: bool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo store as a PostgreSQL database, built once per run: only ever a TEMPLATE."""
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = create_pg_database()
    try:
        _build_demo(url, tmp_path_factory.mktemp("demo-pg-work"))
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def demo_pg_url(demo_pg_template: str) -> Iterator[str]:
    """A PostgreSQL database holding the demo data, private to this test."""
    url = create_pg_database(template=demo_pg_template)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo_store_url(request: pytest.FixtureRequest) -> str:
    """The demo store on SQLite and on PostgreSQL (the same test runs on both)."""
    if request.param == "sqlite":
        return request.getfixturevalue("demo_url")
    return request.getfixturevalue("demo_pg_url")
