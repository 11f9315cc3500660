"""The typed read API on real SQLite and PostgreSQL stores holding the demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from storage import queries as q
from storage.db import make_engine


@pytest.fixture
def loaded(demo_store_url: str) -> Iterator[Engine]:
    """A private copy of the demo store, on SQLite and on PostgreSQL."""
    engine = make_engine(demo_store_url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_reads_on_both_databases(loaded: Engine) -> None:
    e = loaded
    assert q.seasons(e) == [2023]
    last = q.last_event_with_results(e)
    assert last is not None and last.name == "Abu Dhabi Grand Prix" and last.round == 22
    with_laps = q.last_event_with_laps(e)
    assert with_laps is not None and with_laps.name == "Italian Grand Prix"

    events = q.events(e, 2023)
    for text in ("monza", "italian gp", "Italy", "italian grand prix"):
        assert q.match_events(events, text)[0][1].round == 14, text
    assert q.match_events(events, "united states")[0][1].name == "United States Grand Prix"

    race = q.session_for(e, with_laps.id, "R")
    assert race is not None and race.classification in ("provisional", "final")
    assert race.updated_at is not None  # freshness is always known for stored results
    cls = q.results(e, race.id)
    assert cls is not None and len(cls.rows) == 20
    assert [r.driver.code for r in cls.rows[:5]] == ["VER", "PER", "SAI", "LEC", "RUS"]
    assert cls.rows[0].grid == 2 and cls.rows[0].points == 25

    fl = q.fastest_lap(e, race.id)
    assert fl is not None and fl.driver.code == "PIA" and fl.lap_time_ms == 85072 and fl.lap_number == 43
    assert fl.compound == "MEDIUM" and fl.source == "laps"

    ver = q.find_drivers(e, "VER", year=2023)[0]
    assert [(s.compound, s.start_lap, s.end_lap) for s in q.stints(e, race.id, ver.id)] == [
        ("MEDIUM", 1, 20),
        ("HARD", 21, 51),
    ]
    laps = q.laps_of_driver(e, race.id, ver.id, first=10, last=12)
    assert [lap.lap_number for lap in laps] == [10, 11, 12]
    stops = q.pit_stops(e, race.id, ver.id)
    assert [s.lap for s in stops] == [20]

    st = q.standings(e, "drivers", 2023, 14)
    assert st is not None and st.rows[0].code == "VER" and st.event and st.event.name == "Italian Grand Prix"
    cst = q.standings(e, "constructors")
    assert cst is not None and cst.round == 22 and cst.rows[0].name.startswith("Red Bull")

    assert q.find_drivers(e, "checo")[0].code == "PER"
    assert q.find_drivers(e, "33", year=2023)[0].code == "VER"
    assert q.find_drivers(e, "Sergio Perez")[0].code == "PER"  # accent-insensitive
    assert q.find_drivers(e, "nobody-at-all") == []

    form = q.driver_form(e, ver.id, 2023)
    assert form is not None and form.wins == 19 and form.standing and form.standing.position == 1

    # 2023 is over at this "now": nothing upcoming; before Abu Dhabi, its sessions are.
    assert q.upcoming_sessions(e, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) == []
    soon = q.upcoming_sessions(e, dt.datetime(2023, 11, 20))
    assert soon and soon[0].event.name == "Abu Dhabi Grand Prix"

    # Weather and race control (FastF1 rows): the same figures on both databases.
    w = q.weather_summary(e, race.id)
    assert w is not None and w.window == "race" and w.rain_samples == 0 and w.rain_first is None
    assert w.track_min is not None and w.track_max is not None and w.track_min < w.track_max
    assert w.rain_risk == "RISK OF RAIN FOR F1 RACE IS 0%"
    flags = q.flags(e, race.id)
    assert flags is not None and flags.track_status_rows == 3
    assert [(p.label, p.phase) for p in flags.periods] == [("yellow flag", q.BEFORE_START)]
    pens = q.penalties(e, race.id)
    assert pens is not None and pens.investigated == 3
    assert [(p.code, p.lap, p.penalty) for p in pens.penalties] == [
        ("RUS", 24, "5 SECOND TIME PENALTY"), ("HAM", 44, "5 SECOND TIME PENALTY"), ("SAR", 50, "5 SECOND TIME PENALTY")]
    bahrain = q.session_for(e, q.event_by_round(e, 2023, 1).id, "R")  # history only
    assert bahrain is not None
    assert q.weather_summary(e, bahrain.id) is None and q.flags(e, bahrain.id) is None
    assert q.penalties(e, bahrain.id) is None
