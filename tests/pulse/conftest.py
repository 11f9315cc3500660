"""Track Pulse fixtures: real races in real stores (S's ingest / load_demo / history import)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session as OrmSession

from bot.pulse.detectors import detect_all
from bot.pulse.state import RaceFeed
from bot.pulse.types import PulseHighlight
from storage import pulse_store
from storage.db import init_db, make_engine
from storage.models import Event, Season
from storage.models import Session as RaceSession
from tests.conftest import copy_demo


@pytest.fixture(scope="session")
def demo_url(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store with the bundled demo: 2023 history + the real Monza 2023 race (FastF1).

    One copy of the run's demo template (tests/conftest.py), shared by the Track Pulse tests.
    """
    return copy_demo(demo_template, tmp_path_factory.mktemp("pulse-demo"))


@pytest.fixture(scope="session")
def monza_feed(demo_url: str) -> RaceFeed:
    eng = make_engine(demo_url)
    try:
        sid = pulse_store.find_session(eng, 2023, "Monza", "R")
        return pulse_store.load_feed(eng, sid)
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def monza_highlights(monza_feed: RaceFeed) -> list[PulseHighlight]:
    return detect_all(monza_feed)


@pytest.fixture(scope="session")
def shared_url(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store with Monaco 2023 (race + qualifying) and Las Vegas 2023 ingested from
    the shared FastF1 cache, plus the 2023 Ergast history (grid, points, pit stops, standings)."""
    from storage.history import import_history
    from storage.ingest import ingest

    work = tmp_path_factory.mktemp("pulse-shared")
    cache = work / "ff1"
    shutil.copytree(shared_data / "fastf1-cache" / "sessions-2019-2023", cache)
    url = f"sqlite:///{work / 'shared.db'}"
    eng = make_engine(url)
    init_db(eng)
    for event, session in (("Monaco", "R"), ("Monaco", "Q"), ("Las Vegas", "R")):
        rep = ingest(eng, 2023, event, session, cache_dir=cache, offline=True)
        assert all(s.outcome in ("added", "updated", "skipped") for s in rep.sessions), rep
    import_history(eng, shared_data / "ergast-csv", years=[2023])
    eng.dispose()
    return url


@pytest.fixture
def shared_engine(shared_url: str) -> Iterator[Engine]:
    eng = make_engine(shared_url)
    yield eng
    eng.dispose()


def add_race_session(engine: Engine, year: int = 2023, round_: int = 14,
                     name: str = "Italian Grand Prix", session_type: str = "R") -> int:
    """The minimal rows a stored highlight hangs off (season, event, session)."""
    with OrmSession(engine) as s:
        if s.get(Season, year) is None:
            s.add(Season(year=year))
            s.flush()
        ev = Event(year=year, round=round_, name=name)
        s.add(ev)
        s.flush()
        rs = RaceSession(event_id=ev.id, type=session_type, name="Race")
        s.add(rs)
        s.commit()
        return int(rs.id)  # type: ignore[arg-type]


TEAMS = {"VER": "Red Bull Racing", "PER": "Red Bull Racing", "SAI": "Ferrari", "LEC": "Ferrari",
         "RUS": "Mercedes", "HAM": "Mercedes"}
