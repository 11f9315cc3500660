"""What users see: status wording from the official status, grid 0, labelled pit-lane times,
red-flag stops, stints of cars that never started, and race facts from the history record.

A store per backend holds the bundled demo (2023 history + the Monza 2023 race from the
project's FastF1 fixture); the answers come through the real dispatcher, as
`slipstream ask` wires it. The shared dump adds the safety-car / red-flag record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot import format as f
from bot import messages as m
from storage import queries
from storage.db import init_db, make_engine
from storage.history import import_history
from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    from storage.demo import load_demo

    base = tmp_path_factory.mktemp("views")
    pg = None
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'demo.db'}"
    else:
        if not request.getfixturevalue("pg_available"):
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        url = pg = create_pg_database()
    eng = make_engine(url)
    try:
        init_db(eng)
        assert load_demo(eng, work_dir=base / "work").ok
        yield url, eng
    finally:
        eng.dispose()
        if pg:
            drop_pg_database(pg)


def ask(url: str, *questions: str) -> list[str]:
    from adapters.console.chat import ConsoleSession
    from bot.settings import Settings
    from slipstream.wiring import build_app

    async def go() -> list[str]:
        app = build_app(Settings(_env_file=None, database_url=url, llm_base_url=None,  # type: ignore[call-arg]
                                 rate_user_per_min=0, rate_channel_per_min=0))
        try:
            session = ConsoleSession(app.dispatcher, conversation=False, write=lambda s: None)
            return [await session.send(q) for q in questions]
        finally:
            await app.aclose()

    return asyncio.run(go())


def row(engine: Engine, round_: int, ref: str) -> queries.ResultRow:
    ev = queries.event_by_round(engine, 2023, round_)
    assert ev is not None
    s = queries.session_for(engine, ev.id, "R")
    assert s is not None
    cls = queries.results(engine, s.id)
    assert cls is not None
    return next(r for r in cls.rows if r.driver.ref == ref)


@pytest.mark.parametrize(("round_", "ref", "phrase", "cell", "pit_lane_start"), [
    (3, "perez", "finished P5", "5", True),  # from the pit lane to P5
    (4, "hulkenberg", "finished P17 (+1 lap)", "17", True),
    (21, "tsunoda", "was classified P18 after retiring (gearbox)", "18", False),
    (21, "norris", "retired on lap 3 (accident)", "DNF", False),
    (16, "sargeant", "retired on lap 23 (collision damage)", "DNF", True),
    (14, "tsunoda", "retired before completing a lap (engine)", "DNF", False),
    (18, "hamilton", "was disqualified", "DSQ", False),
    (15, "stroll", "was withdrawn before the start", "WD", False),  # grid 0, but he never started
    (17, "sainz", "was withdrawn before the start (fuel leak)", "WD", False),
])
def test_status_wording_from_the_official_status(
    demo: tuple[str, Engine], round_: int, ref: str, phrase: str, cell: str, pit_lane_start: bool
) -> None:
    r = row(demo[1], round_, ref)
    assert f.result_phrase(r.outcome, r.position, r.status, r.laps) == phrase
    assert f.pos_cell(r.position, r.position_text, r.outcome) == cell
    assert r.pit_lane_start is pit_lane_start


@pytest.mark.parametrize(("text", "status", "outcome"), [
    ("N", "Not classified", "not_classified"),
    ("E", "Excluded", "excluded"),
    ("F", "Did not qualify", "did_not_qualify"),
    ("R", "Did not start", "did_not_start"),
    ("W", "Did not start", "did_not_start"),
    ("3", "+2 Laps", "lapped"),
    ("1", "Finished", "finished"),
])
def test_outcome_of_every_official_code(text: str, status: str, outcome: str) -> None:
    assert queries.result_outcome(text, status) == outcome
    words = f.result_phrase(outcome, int(text) if text.isdigit() else None, status, 10)
    assert ("finished" in words) == (outcome in ("finished", "lapped"))


def test_answers_say_what_happened(demo: tuple[str, Engine]) -> None:
    stroll, perez, ham, usa = ask(
        demo[0],
        "where did stroll finish in singapore 2023",
        "where did perez finish in australia 2023",
        "where did hamilton finish in austin 2023",
        "/f1 results 2023 united states grand prix",
    )
    assert "was withdrawn before the start" in stroll and "finished" not in stroll and "pit lane" not in stroll
    assert f"finished P5 ({m.PIT_LANE_START})" in perez
    assert "was disqualified" in ham and "finished" not in ham
    lines = usa.splitlines()
    assert any(line.split()[:2] == ["DSQ", "HAM"] for line in lines), usa
    assert not any(".0 " in line for line in lines)  # integers, never 1.0


def test_pit_lane_times_labelled_once(demo: tuple[str, Engine]) -> None:
    answer, table = ask(demo[0], "pit stops at monza 2023 for VER", "/f1 pitstops monza 2023")
    ev = queries.event_by_round(demo[1], 2023, 14)
    assert ev is not None
    s = queries.session_for(demo[1], ev.id, "R")
    assert s is not None
    ver = queries.pit_stops(demo[1], s.id, next(r.driver.id for r in queries.results(demo[1], s.id).rows  # type: ignore[union-attr]
                                                if r.driver.ref == "max_verstappen"))
    assert len(ver) == 1 and ver[0].duration_ms is not None and ver[0].pit_lane_ms is not None
    official = f.seconds(ver[0].duration_ms)
    assert answer.count(official) == 1 and f"pit lane {official}" in answer
    assert f.seconds(ver[0].pit_lane_ms) not in answer  # the other source's figure is not printed twice
    assert m.PIT_TIMES_NOTE in answer and "stationary" not in answer.replace(m.PIT_TIMES_NOTE, "")
    assert "Pit lane (official)" in table and "Pit lane (timing)" in table and "Duration" not in table


def test_red_flag_stops_labelled_and_left_out(demo: tuple[str, Engine]) -> None:
    """2023 Australia: three red flags; cars changed tyres while waiting (Ergast times
    those as stops of many minutes). No red-flag record in the demo: the norm decides."""
    ev = queries.event_by_round(demo[1], 2023, 3)
    assert ev is not None
    s = queries.session_for(demo[1], ev.id, "R")
    assert s is not None
    stops = queries.pit_stops(demo[1], s.id)
    red = [p for p in stops if p.under_red_flag]
    normal = [p for p in stops if not p.under_red_flag]
    assert red and normal
    assert min(p.pit_lane_time_ms or 0 for p in red) > 10 * 60_000
    assert max(p.pit_lane_time_ms or 0 for p in normal) < 120_000
    summary = queries.pit_stop_summary(demo[1], s.id)
    assert summary.excluded_red_flag == len(red) and summary.counted == len(normal)
    assert summary.fastest is not None and not summary.fastest.under_red_flag
    assert summary.average_ms is not None and summary.average_ms < 40_000
    (text,) = ask(demo[0], "/f1 pitstops australia 2023")
    assert m.PIT_UNDER_RED_FLAG in text and "not counting" in text


def test_car_that_never_started_has_no_stint(demo: tuple[str, Engine]) -> None:
    ev = queries.event_by_round(demo[1], 2023, 14)
    assert ev is not None
    s = queries.session_for(demo[1], ev.id, "R")
    assert s is not None
    refs = {st.driver.ref for st in queries.stints(demo[1], s.id)}
    assert "tsunoda" not in refs  # stopped on the formation lap: 0 laps officially
    assert len(refs) == 19


def test_race_facts_absent_in_demo_data(demo: tuple[str, Engine]) -> None:
    """The bundled dump has no safety-car files: history races say they are not held."""
    (text,) = ask(demo[0], "were there safety cars in las vegas 2023")
    assert text.startswith(m.NO_RACE_CONTROL.format(session="2023 Las Vegas Grand Prix").split(" for ")[0])


def test_race_facts_from_history_record(shared_data: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    eng = make_engine(url)
    try:
        init_db(eng)
        rep = import_history(eng, shared_data / "ergast-csv", years=[2021, 2023])
        assert rep.rows["race_neutralisation"] > 20
        lv, imola = ask(url, "were there safety cars in las vegas 2023", "red flag at imola 2021")
        assert m.FLAGS_SOURCE_HISTORY in lv and "laps 4-7" in lv and "laps 26-29" in lv
        assert "Red flag" in imola and "lap 33" in imola and m.FLAGS_SOURCE_HISTORY in imola
        # Imola 2021: the official "stops" of the red flag (Verstappen 27:01.361) are labelled.
        ev = queries.event_by_round(eng, 2021, 2)
        assert ev is not None
        s = queries.session_for(eng, ev.id, "R")
        assert s is not None
        ver = [p for p in queries.pit_stops(eng, s.id) if p.driver.ref == "max_verstappen"]
        assert [(p.lap, p.duration_ms, p.under_red_flag) for p in ver if p.lap == 33][0] == (33, 1621361, True)
    finally:
        eng.dispose()


def test_results_card_takes_the_winners_team_colour(demo: tuple[str, Engine]) -> None:
    """Monza 2023: FastF1 loaded the race, so its Red Bull colour wins over the table's."""
    assert queries.team_colours(demo[1], 2023)["red_bull"] == "3671C6"
    assert queries.team_colours(demo[1], 2023)["ferrari"] == "F91536"
    assert len(queries.team_colours(demo[1], 2023)) == 10
    from bot.settings import Settings
    from slipstream.wiring import build_app
    from tests.core.conftest import ask as core_ask

    async def go() -> list[str | None]:
        app = build_app(Settings(_env_file=None, database_url=demo[0], llm_base_url=None,  # type: ignore[call-arg]
                                 rate_user_per_min=0, rate_channel_per_min=0))
        try:
            out = []
            for q in ("/f1 results monza 2023", "/f1 results 2023 singapore"):
                r = await core_ask(app, q)
                out.append(r.sent[-1].cards[0].colour)
            return out
        finally:
            await app.aclose()

    # Monza: Verstappen (Red Bull, FastF1's colour); Singapore: Sainz (Ferrari).
    assert asyncio.run(go()) == ["3671C6", "F91536"]
