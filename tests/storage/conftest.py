"""Storage fixtures shared within a module, so the expensive parts (a FastF1 load in a
child process, a PostgreSQL database) happen once where the tests stay independent."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from storage.db import init_db, make_engine
from tests.conftest import MONZA_CACHE, create_pg_database, drop_pg_database

# The Monza 2023 race as the only scheduled session: enough for `write_payload`
# without loading the season schedule through FastF1.
MONZA_SCHEDULE: list[dict[str, Any]] = [{
    "round": 14, "name": "Italian Grand Prix", "date": "2023-09-03",
    "sessions": [{"name": "Race", "start_utc": "2023-09-03T13:00:00"}],
}]


@pytest.fixture(scope="session")
def monza_payload(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The normalized Monza 2023 race, loaded once through FastF1's real loader.

    Plain data that the write path only reads; tests that change it deep-copy first.
    """
    from storage.ingest import load_payload

    cache = tmp_path_factory.mktemp("ff1") / "c"
    shutil.copytree(MONZA_CACHE, cache)
    return load_payload(cache, 2023, 14, "Race")


def demo_ergast() -> Path:
    from storage.demo import demo_data_dir

    return demo_data_dir() / "ergast"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One empty store per module and backend (a fresh PostgreSQL database, dropped after).

    Only for tests that leave the store as they found it (a refused import) and
    check that precondition themselves.
    """
    pg_url = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'slipstream.db'}"
    else:
        if not request.getfixturevalue("pg_available"):
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        url = pg_url = create_pg_database()
    eng = make_engine(url)
    try:
        init_db(eng)
        yield eng
    finally:
        eng.dispose()
        if pg_url is not None:
            drop_pg_database(pg_url)
