"""Tests never write into the shared PostgreSQL databases (`postgres`, `test`): other
helpers run their tests against the same server at the same time."""

from __future__ import annotations

from sqlalchemy import Engine, text

SHARED = {"postgres", "test", "template0", "template1"}


def _check(engine: Engine) -> None:
    name = engine.url.database or ""
    if engine.dialect.name == "postgresql":
        assert name.startswith("slipstream_t_") and name not in SHARED, name
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar_one() == name
    else:
        assert name.endswith("slipstream.db") and "/pytest-" in name, name  # a tmp_path file


def test_engine_fixture_uses_a_private_database(engine: Engine) -> None:
    _check(engine)


def test_module_engine_uses_a_private_database(module_engine: Engine) -> None:
    _check(module_engine)
