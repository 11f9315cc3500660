"""The race data's version: what caches of race data are keyed by.

Every writer of race data (FastF1 ingest, schedule ingest, history import,
failed attempts too) inserts an `ingest_run` row in the SAME transaction as its
data, so a reader that sees a new row also sees the data it describes.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from storage.db import table
from storage.models import IngestRun

DataVersion = tuple[int, int]


def data_version(engine: Engine) -> DataVersion:
    """(rows, highest id) of `ingest_run`: changes whenever race data was written.

    The count matters on PostgreSQL: ids come from a sequence, so a transaction
    holding a lower id may commit after one holding a higher id; the highest id
    alone would then not move, the count does. Both read the primary key only
    (the table holds one row per ingest attempt: thousands, not millions).
    """
    run = table(IngestRun)
    with engine.connect() as conn:
        n, top = conn.execute(select(func.count(), func.coalesce(func.max(run.c.id), 0))).one()
    return int(n), int(top)
