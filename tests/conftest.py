"""Shared fixtures: real SQLite and PostgreSQL stores, data paths, the demo store.

PostgreSQL tests each get a fresh database on 127.0.0.1:5432 (dropped
afterwards), so parallel runs never see each other's rows.

The demo store (the bundled 2023 history + the Monza 2023 race through FastF1's
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
    """Create a database (empty, or a copy of `template`'s URL) and return its URL."""
    import psycopg

    name = f"slipstream_t_{uuid.uuid4().hex[:12]}"
    sql = f'CREATE DATABASE "{name}"'
    if template is not None:
        # Hazard: PostgreSQL refuses to copy a database anyone is connected to, so the
        # template's engine must be disposed before this. FILE_COPY copies the files
        # (one checkpoint) instead of WAL-logging every block: faster for a small store.
        sql += f' TEMPLATE "{template.rsplit("/", 1)[1]}" STRATEGY FILE_COPY'
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    init_db(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    init_db(eng)
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
    # Hazard: the store runs in WAL mode, and a copy of the main file alone would miss
    # whatever is still in demo.db-wal. Switching the file back to rollback-journal mode
    # checkpoints the WAL into it; each copy turns WAL on again when the engine connects.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    conn.close()
    assert not Path(f"{path}-wal").exists()
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
