"""The store's cached lists and the resolver's indexes follow the DATA VERSION, not a timer:
they live on through any idle time and are rebuilt after a write, including a write
made by another process (an ingest child, a second worker on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.question import resolve_question
from bot.resolve import event_index
from storage.db import init_db, make_engine
from storage.history import import_history
from storage.store import Store
from storage.versions import data_version
from tests.storage.conftest import demo_ergast

NOW = dt.datetime(2023, 12, 1, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def history_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    init_db(engine)
    import_history(engine, demo_ergast())
    try:
        yield engine
    finally:
        engine.dispose()


def _write_event_in_another_process(url: str) -> None:
    """What an ingest does, from a separate process: data + its `ingest_run` row, one transaction."""
    code = textwrap.dedent(f"""
        import datetime as dt
        from sqlalchemy import insert
        from storage.db import make_engine, table
        from storage.models import Event, IngestRun
        engine = make_engine({url!r})
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(insert(table(Event)).values(year=2023, round=99, name="Slipstream Grand Prix",
                                                     location="Nowhere", date=dt.date(2023, 11, 30)))
            conn.execute(insert(table(IngestRun)).values(kind="schedule", target="2023", started_at=now,
                                                         finished_at=now, outcome="added", rows=1))
    """)
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


async def test_cache_survives_idle_and_follows_writes_of_other_processes(
    history_engine: Engine, db_url: str
) -> None:
    clock = Clock()
    store = Store(history_engine, version_check_s=2.0, clock=clock)
    events = await store.events(None)
    index, _ = await event_index(store, None, today=NOW.date())
    built = store.rebuilds
    assert store.data_version == data_version(history_engine)

    clock.t += 3600  # an hour of quiet: nothing expires, nothing is rebuilt
    assert await store.events(None) is events
    assert (await event_index(store, None, today=NOW.date()))[0] is index
    res = await resolve_question(store, "who won at monza?", now=NOW)
    assert res.event is not None and res.event.year == 2023
    assert store.rebuilds > built  # the driver index, built once here...
    built = store.rebuilds
    await resolve_question(store, "who won at monza?", now=NOW)
    assert store.rebuilds == built  # ...and not again

    _write_event_in_another_process(db_url)
    # Within the check interval the cached version is served without a query...
    assert await store.events(None) is events
    # ...and once it has passed, the other process's write is seen and the index rebuilt.
    clock.t += 2.5
    fresh = await store.events(None)
    assert fresh is not events and any(e.name == "Slipstream Grand Prix" for e in fresh)
    new_index, _ = await event_index(store, None, today=NOW.date())
    assert new_index is not index
    assert new_index.match("slipstream")[0][1].round == 99
    store.close()


async def test_burst_after_a_write_shares_one_rebuild(history_engine: Engine, db_url: str) -> None:
    import asyncio

    clock = Clock()
    store = Store(history_engine, version_check_s=2.0, clock=clock)
    await resolve_question(store, "who won at monza 2023?", now=NOW)
    _write_event_in_another_process(db_url)
    clock.t += 5
    before = store.rebuilds
    results = await asyncio.gather(
        *(resolve_question(store, "who won at monza 2023?", now=NOW) for _ in range(50))
    )
    assert all(r.event is not None and r.event.round == results[0].event.round for r in results)  # type: ignore[union-attr]
    # One build per cached value (events list, index, drivers, ...), not one per question.
    # (about ten: seasons, events, their index, drivers, driver indexes, teams, team names ...)
    assert 0 < store.rebuilds - before < 16
    store.close()


def test_data_version_moves_with_every_recorded_write(history_engine: Engine, db_url: str) -> None:
    v1 = data_version(history_engine)
    _write_event_in_another_process(db_url)
    v2 = data_version(history_engine)
    assert v2[0] == v1[0] + 1 and v2[1] > v1[1]


async def test_warm_up_builds_what_the_first_question_needs_and_freezes_the_heap(
    history_engine: Engine,
) -> None:
    import gc

    from bot.resolve import warm_up

    store = Store(history_engine, clock=Clock())
    try:
        await warm_up(store, now=NOW)
        assert gc.get_freeze_count() > 0
        built = store.rebuilds
        res = await resolve_question(store, "who won at monza?", now=NOW)
        assert res.event is not None and res.event.year == 2023
        assert store.rebuilds == built  # nothing left to build on the first question
    finally:
        gc.unfreeze()  # the test process is not a long-lived bot
        store.close()
