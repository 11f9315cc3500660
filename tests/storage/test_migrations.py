"""Schema migrations on real SQLite and PostgreSQL.

A "store made by the previous release" is built from the frozen DDL that
`create_all` emitted before migrations existed (`tests/fixtures/legacy/`, made by
`scripts/dump_legacy_schema.py`), filled with the bundled demo data, and upgraded
in place by the new code.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlmodel import Session, SQLModel

from storage.db import init_db, make_engine
from storage.migrate import SchemaTooNew, drift, ensure_schema, head, status
from storage.service_models import ChannelSetting
from tests.conftest import ROOT

LEGACY = Path(__file__).resolve().parent.parent / "fixtures" / "legacy"

QUESTIONS = (
    "who won the 2023 italian grand prix?",
    "fastest lap at monza 2023",
    "pit stops at monza for VER",
    "standings after round 14 2023",
    "/f1 results monza 2023 quali",
)


def _legacy_store(url: str) -> Engine:
    """An empty database with exactly the previous release's schema (no alembic_version)."""
    engine = make_engine(url)
    lines = (LEGACY / f"schema_{engine.dialect.name}.sql").read_text().splitlines()
    ddl = "\n".join(line for line in lines if not line.startswith("--"))
    with engine.begin() as conn:
        for stmt in filter(None, (s.strip() for s in ddl.split(";"))):
            conn.exec_driver_sql(stmt)
    return engine


def _copy_rows(src: Engine, dst: Engine) -> None:
    """Every row of every table, parents first; PostgreSQL sequences moved past the ids."""
    with src.connect() as s, dst.begin() as d:
        for tbl in SQLModel.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in s.execute(select(tbl))]
            if rows:
                d.execute(tbl.insert(), rows)
            pk = list(tbl.primary_key.columns)
            if dst.dialect.name == "postgresql" and len(pk) == 1 and pk[0].autoincrement is not False \
                    and pk[0].type.python_type is int and rows:
                d.execute(text(f"SELECT setval(pg_get_serial_sequence('{tbl.name}', '{pk[0].name}'), "
                               f"(SELECT max({pk[0].name}) FROM {tbl.name}))"))


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}


def _answers(url: str) -> list[str]:
    """The bot's replies (as `slipstream ask` wires it) to QUESTIONS on the store at `url`."""
    from adapters.console.chat import ConsoleSession
    from bot.settings import Settings
    from slipstream.wiring import build_app

    async def go() -> list[str]:
        app = build_app(Settings(_env_file=None, database_url=url, llm_base_url=None,  # type: ignore[call-arg]
                                 rate_user_per_min=0, rate_channel_per_min=0))
        try:
            session = ConsoleSession(app.dispatcher, conversation=False)
            return [await session.send(q) for q in QUESTIONS]
        finally:
            await app.aclose()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """A fresh store built by the new code from the bundled demo data, and its answers."""
    from storage.demo import load_demo

    base = tmp_path_factory.mktemp("mig-demo")
    url = f"sqlite:///{base / 'fresh.db'}"
    engine = make_engine(url)
    init_db(engine)
    assert load_demo(engine, work_dir=base / "work").ok
    engine.dispose()
    yield url, _answers(url)


def test_previous_release_store_upgraded_in_place(db_url: str, demo_source: tuple[str, list[str]]) -> None:
    src_url, fresh_answers = demo_source
    src = make_engine(src_url)
    legacy = _legacy_store(db_url)
    try:
        _copy_rows(src, legacy)
        before = _counts(legacy)
        assert before["lap"] > 900 and before["result"] > 400, before
        assert "alembic_version" not in inspect(legacy).get_table_names()

        result = ensure_schema(legacy)

        assert result.adopted and result.before is None and result.after == head()
        assert _counts(legacy) == before == _counts(src)
        assert status(legacy).is_head
        assert drift(legacy) == []
        answers = _answers(db_url)
        assert answers == fresh_answers
        assert "Verstappen" in answers[0]  # the answers are real ones, not empty matches
    finally:
        src.dispose()
        legacy.dispose()


def test_no_drift_after_upgrade_and_drift_is_caught(db_url: str) -> None:
    """The check that catches a model change shipped without its migration."""
    engine = make_engine(db_url)
    try:
        init_db(engine)
        assert drift(engine) == []
        # The failure: a store whose table lacks a column the model has.
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE channel_setting DROP COLUMN language"))
        found = drift(engine)
        assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "channel_setting", "language")]
    finally:
        engine.dispose()


def test_missing_column_of_old_store_is_added(db_url: str) -> None:
    """Issue 10's reproduction: a store from before `channel_setting.language`, with a
    channel where moderators turned answers off. Reading settings failed on every event
    (and the channel fell back to answering); after adoption the setting reads back."""
    engine = _legacy_store(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE channel_setting DROP COLUMN language"))
            conn.execute(text("INSERT INTO channel_setting (channel_id, answers_enabled) "
                              "VALUES ('discord:1:2', false)"))
        with pytest.raises(Exception, match="language"), Session(engine) as s:
            s.exec(select(ChannelSetting)).all()
        init_db(engine)
        with Session(engine) as s:
            row = s.exec(select(ChannelSetting)).one()[0]
        assert row.channel_id == "discord:1:2" and row.answers_enabled is False and row.language is None
        assert drift(engine) == []
    finally:
        engine.dispose()


def test_newer_revision_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        init_db(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
        with pytest.raises(SchemaTooNew) as err:
            init_db(engine)
        msg = str(err.value)
        assert "\n" not in msg and "0099_from_the_future" in msg and "newer" in msg
        assert status(engine).current == "0099_from_the_future" and not status(engine).is_head
    finally:
        engine.dispose()
    # The CLI says it in one line and exits 2.
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "slipstream"), "db", "upgrade"],
                          env={"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "0099_from_the_future" in lines[0] and "Traceback" not in proc.stderr


def test_upgrading_twice_is_a_no_op(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        first = ensure_schema(engine)
        assert first.before is None and first.after == head() and not first.adopted
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO season (year) VALUES (1999)"))
        second = ensure_schema(engine)
        assert second.before == second.after == head() and not second.adopted
        assert _counts(engine)["season"] == 1
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_two_processes_starting_at_once_migrate_once(db_url: str) -> None:
    """Both start, one migrates under the lock, the other finds head and does nothing."""
    code = ("import sys; from storage.db import make_engine; from storage.migrate import ensure_schema; "
            "r = ensure_schema(make_engine(sys.argv[1])); print(r.before, r.after)")
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    firsts = sorted(o[0].split()[0] for o in outs)
    assert firsts == sorted([head(), "None"]), outs  # exactly one of them saw the empty database
    engine = make_engine(db_url)
    try:
        assert status(engine).is_head and drift(engine) == []
    finally:
        engine.dispose()
