"""Alembic environment: run by `storage.migrate` (never by an `alembic.ini` in the cwd).

The caller passes an open connection in `config.attributes["connection"]`
(inside its lock and transaction); offline SQL generation is not supported.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

from storage import db  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.migrate import include_object, render_item

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - guard against `alembic` run by hand
    raise RuntimeError("run migrations through `slipstream db upgrade` (storage.migrate)")

opts: dict[str, Any] = {
    "connection": connection,
    "target_metadata": SQLModel.metadata,
    "include_object": include_object,
    "render_item": render_item,
    "compare_type": True,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    "render_as_batch": connection.dialect.name == "sqlite",
}
context.configure(**opts)
# The caller owns the transaction: this is a no-op when one is already open.
with context.begin_transaction():
    context.run_migrations()
