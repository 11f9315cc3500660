"""Freeze the DDL that `SQLModel.metadata.create_all` emitted before migrations existed.

Run once, at the commit that introduced Alembic (before any later model change):

    .venv/bin/python scripts/dump_legacy_schema.py

It writes `tests/fixtures/legacy/schema_sqlite.sql` and `schema_postgresql.sql`.
`tests/storage/test_migrations.py` builds "a store made by the previous release"
from these files, fills it with data and upgrades it in place. Never regenerate
them after a model change: they are the previous release's schema, frozen.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import create_mock_engine
from sqlalchemy.schema import CreateIndex, CreateTable, ExecutableDDLElement
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import db  # noqa: E402,F401  (registers every table on SQLModel.metadata)

OUT = ROOT / "tests" / "fixtures" / "legacy"


def dump(dialect: str) -> str:
    """The statements create_all runs on an empty database of `dialect`, `;`-separated."""
    statements: list[str] = []

    def record(sql: ExecutableDDLElement, *_a: object, **_k: object) -> None:
        assert isinstance(sql, CreateTable | CreateIndex), sql
        statements.append(str(sql.compile(dialect=engine.dialect)).strip() + ";")

    engine = create_mock_engine(f"{dialect}://", record)
    SQLModel.metadata.create_all(engine, checkfirst=False)
    header = f"-- SQLModel.metadata.create_all on {dialect}, before migrations (scripts/dump_legacy_schema.py)\n"
    return header + "\n\n".join(statements) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for dialect in ("sqlite", "postgresql"):
        path = OUT / f"schema_{dialect}.sql"
        path.write_text(dump(dialect))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
