"""Weather, safety cars / flags and penalties, answered from the stored FastF1 rows; unknown names.

The demo store holds the 2023 Italian Grand Prix as FastF1 loaded it (weather samples,
race control messages, track status); every other 2023 session is history only, where
these facts are not held and the reply must say so. Where Monza 2023 lacks a case
(it had no safety car and no rain), the test writes real rows into its own copy of the
store and checks the lap mapping end to end.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text

from bot.answer import answer
from bot.context import build_context
from bot.question import resolve_question
from slipstream.wiring import App
from storage import queries as q
from storage.db import make_engine
from tests.core.conftest import NOW, ask
from tests.llm.context_check import check

MONZA_RACE = "2023 Italian Grand Prix"


def _monza_race_id(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text(
            "select s.id from race_session s join event e on e.id = s.event_id "
            "where e.year = 2023 and e.name = 'Italian Grand Prix' and s.type = 'R'")).scalar_one())


def _lap_start(engine: Engine, sid: int, lap: int) -> int:
    with engine.connect() as c:
        return int(c.execute(text("select min(lap_start_ms) from lap where session_id = :s and lap_number = :n"),
                             {"s": sid, "n": lap}).scalar_one())


async def test_weather_comes_from_the_race_window(app: App, demo_url: str) -> None:
    engine = make_engine(demo_url)
    sid = _monza_race_id(engine)
    start, end = _lap_start(engine, sid, 1), None
    with engine.connect() as c:
        end = c.execute(text("select max(time_ms) from lap where session_id = :s"), {"s": sid}).scalar_one()
        lo, hi, n = c.execute(text(
            "select min(track_temp), max(track_temp), count(*) from weather_sample "
            "where session_id = :s and time_ms between :a and :b"), {"s": sid, "a": start, "b": end}).one()
        total = c.execute(text("select count(*) from weather_sample where session_id = :s"), {"s": sid}).scalar_one()
    engine.dispose()
    assert 0 < n < total  # the race window is narrower than the whole session
    r = await ask(app, "what was the weather at monza 2023?")
    assert f"no rain was recorded during the race of the {MONZA_RACE} ({n} weather readings)" in r.text
    assert f"track {lo}–{hi}°C" in r.text
    assert "RISK OF RAIN FOR F1 RACE IS 0%" in r.text  # race control's own forecast
    for question in ("was it raining?", "track temperature at monza", "how hot was it at monza 2023? temps please"):
        r = await ask(app, question)  # no race named: the latest race whose timing data we hold
        assert MONZA_RACE in r.text and f"track {lo}–{hi}°C" in r.text, question


async def test_flags_penalties_at_monza(app: App) -> None:
    r = await ask(app, "when was the safety car at monza 2023?")
    assert f"There was no safety car, virtual safety car or red flag in the {MONZA_RACE} (from timing data)." in r.text
    assert "Yellow flags: before the start" in r.text  # the aborted start
    assert "DOUBLE YELLOW" not in r.text  # sector yellows only when asked about yellows
    r = await ask(app, "when was the yellow flag at monza 2023?")
    assert "13:03 UTC: DOUBLE YELLOW IN TRACK SECTOR 14" in r.text
    r = await ask(app, "any penalties at monza 2023?")
    assert "**RUS** (car 63), lap 24: 5 second time penalty (leaving the track and gaining an advantage)" in r.text
    assert "**HAM** (car 44), lap 44: 5 second time penalty (causing a collision)" in r.text
    assert "**SAR** (car 2), lap 50" in r.text
    assert "The stewards put 3 incidents under investigation." in r.text
    assert "Lap times deleted for track limits: PER 3, HAM 2, NOR 2" in r.text
    r = await ask(app, "did Hamilton get a penalty at monza 2023?")
    assert "Penalties for HAM" in r.text and "**HAM** (car 44), lap 44" in r.text and "RUS" not in r.text
    r = await ask(app, "was VER penalised at monza 2023")
    assert f"No penalties for VER in the {MONZA_RACE}." in r.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what was the weather at bahrain 2023?", "I don't hold weather data for the 2023 Bahrain Grand Prix"),
        ("was there a safety car at bahrain 2023?", "I don't hold race control messages or track status for the 2023 Bahrain"),
        ("any penalties in the 2023 abu dhabi gp?", "I don't hold race control messages or track status for the 2023 Abu Dhabi"),
        ("was it raining in monza 2023 qualifying?", "I don't hold weather data for the 2023 Italian Grand Prix qualifying"),
    ],
)
async def test_history_only_sessions_say_the_data_is_not_held(app: App, question: str, expected: str) -> None:
    r = await ask(app, question)
    assert expected in r.text and len(r.text) < 300


async def test_safety_car_vsc_and_rain_map_to_race_laps(demo_url: str, app: App) -> None:
    """Rows a wet race with neutralisations would have, written into this test's own store copy."""
    engine = make_engine(demo_url)
    sid = _monza_race_id(engine)
    t = {n: _lap_start(engine, sid, n) for n in (10, 13, 30, 32, 40, 45)}
    with engine.begin() as c:
        c.execute(text("delete from track_status_change where session_id = :s"), {"s": sid})
        rows = [(0, t[10] + 500, "4"), (1, t[13] + 500, "1"), (2, t[30] + 500, "6"), (3, t[32] + 200, "7"),
                (4, t[32] + 900, "1"), (5, t[40] + 100, "5"), (6, t[40] + 9000, "1")]
        for seq, ms, status in rows:
            c.execute(text("insert into track_status_change (session_id, seq, time_ms, status) values (:s, :q, :t, :st)"),
                      {"s": sid, "q": seq, "t": ms, "st": status})
        c.execute(text("insert into race_control_message (session_id, seq, time_utc, lap, category, message) "
                       "values (:s, 1000, :t, 10, 'SafetyCar', 'SAFETY CAR DEPLOYED')"),
                  {"s": sid, "t": dt.datetime(2023, 9, 3, 13, 40)})
        c.execute(text("insert into race_control_message (session_id, seq, time_utc, lap, category, message) "
                       "values (:s, 1001, :t, 11, 'Other', "
                       "'10 SECOND TIME PENALTY FOR CAR 11 (PER) - OVERTAKING WHILE THE SAFETY CAR IS DEPLOYED')"),
                  {"s": sid, "t": dt.datetime(2023, 9, 3, 13, 42)})
        c.execute(text("update weather_sample set rainfall = 1 where session_id = :s and time_ms between :a and :b"),
                  {"s": sid, "a": t[40], "b": t[45]})
    engine.dispose()
    app.store.invalidate()
    r = await ask(app, "when was the safety car at monza 2023?")
    assert "- **Safety car**: laps 10-13" in r.text
    assert "- **Virtual safety car**: laps 30-32" in r.text  # "VSC ending" folded into its period
    assert "- **Red flag**: lap 40" in r.text
    assert "13:40 UTC: SAFETY CAR DEPLOYED" in r.text
    assert "OVERTAKING" not in r.text  # a penalty whose reason names the SC is not a flag call...
    r = await ask(app, "any penalties at monza 2023?")
    assert "**PER** (car 11), lap 11: 10 second time penalty (overtaking while the safety car is deployed)" in r.text
    r = await ask(app, "was it raining at monza 2023?")
    assert "**Rain** was recorded during the race" in r.text
    assert "from lap 40 to lap 4" in r.text  # the last wet reading falls in lap 44 or 45


@pytest.mark.parametrize(
    "question",
    ["what was the weather at monza 2023?", "when was the yellow flag at monza 2023?",
     "any penalties at monza 2023?", "did HAM get a penalty at monza 2023"],
)
async def test_answers_pass_the_fact_guard_and_it_catches_inventions(app: App, question: str) -> None:
    res = await resolve_question(app.store, question, now=NOW)
    ctx = await build_context(app.store, res, now=NOW)
    text_out = answer(ctx)
    guard = check(text_out, ctx)
    assert guard.ok, guard.unsupported  # every figure shown comes from the context
    assert not check(text_out + " It peaked at 57.3°C with 11 penalties for NOR on lap 61.", ctx).ok


@pytest.mark.parametrize(
    ("text_in", "expected"),
    [
        ("laps for XYZ at monza 2023", "I don't know a driver called 'XYZ'"),
        ("laps for zzqx at monza 2023", "I don't know a driver called 'zzqx'"),
        ("compare VER and XYZ at monza 2023", "I don't know a driver called 'XYZ'"),
        ("how did XYZ do at monza 2023", "I don't know a driver called 'XYZ'"),
        ("did XYZ get a penalty at monza 2023", "I don't know a driver called 'XYZ'"),
        ("/f1 laps XYZ monza 2023", "I don't know a driver called 'XYZ'"),
        ("/f1 compare VER Perz monza 2023", "Did you mean **Sergio Pérez**?"),
        ("/f1 stints monza 2023 driver=Lecler", "Did you mean **Charles Leclerc**?"),
        ("/f1 pitstops monza 2023 driver=XYZ", "I don't know a driver called 'XYZ'"),
        ("/f1 driver norriss", "Did you mean **Lando Norris**?"),
    ],
)
async def test_unknown_drivers_and_teams_get_suggestions(app: App, text_in: str, expected: str) -> None:
    r = await ask(app, text_in)
    assert len(r.sent) == 1 and expected in r.sent[0].text, r.text
    assert "Name a driver to see their laps" not in r.text and "Top 10" not in r.text


@pytest.mark.parametrize(
    ("text_in", "expected"),
    [
        ("laps for verstapen at monza 2023", "**VER**: L1"),
        ("how did verstapen do at monza 2023", "**Max Verstappen (VER)** finished P1"),
        ("how did Ferari do at monza 2023", "**Ferrari**: **Carlos Sainz (SAI)** finished P3"),
        ("mclarn results at monza 2023", "**McLaren**: **Lando Norris (NOR)** finished P8"),
    ],
)
async def test_clear_misspellings_are_read_as_the_one_name(app: App, text_in: str, expected: str) -> None:
    """A misspelling close to exactly one name is that name (no round trip to ask the user)."""
    r = await ask(app, text_in)
    assert len(r.sent) == 1 and expected in r.sent[0].text, r.text


async def test_known_names_are_not_flagged(app: App) -> None:
    r = await ask(app, "weather for Ferrari at monza 2023")  # a team in a non-team question
    assert "no rain was recorded" in r.text
    r = await ask(app, "was there a VSC at monza 2023?")  # capitals that are not a driver code
    assert "no safety car, virtual safety car or red flag" in r.text
    r = await ask(app, "laps for VER at monza 2023 laps 10-12")
    assert "L10" in r.text and "L12" in r.text
    r = await ask(app, "VER's tyre stints at monza 2023")  # a possessive still names the driver
    assert "- **VER**:" in r.text and "- **PER**" not in r.text
    r = await ask(app, "how did Leclerc and Sainz do at monza 2023")
    assert "Charles Leclerc (LEC)" in r.text


async def test_queries_return_none_when_not_held(demo_engine: Engine) -> None:
    with demo_engine.connect() as c:
        sid = int(c.execute(text(
            "select s.id from race_session s join event e on e.id = s.event_id "
            "where e.year = 2023 and e.round = 1 and s.type = 'R'")).scalar_one())
    assert q.weather_summary(demo_engine, sid) is None
    assert q.flags(demo_engine, sid) is None
    assert q.penalties(demo_engine, sid) is None
    monza = _monza_race_id(demo_engine)
    report = q.flags(demo_engine, monza)
    assert report is not None and report.track_status_rows == 3 and report.message_rows == 43


async def test_llm_path_phrases_answers_about_someone_and_guards_them(demo_url: str) -> None:
    """Conditions (weather, flags, penalty lists) name no one to phrase: shown as the data says,
    no model call. A penalty about a driver is phrased, and a false one never shown."""
    from slipstream.wiring import build_app
    from tests.core.conftest import make_settings
    from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

    async with FakeOpenAIServer(default=Behaviour(reply="It was dry at Monza.")) as srv:
        a = build_app(make_settings(demo_url, llm_base_url=srv.base_url, llm_timeout_s=5.0), clock=lambda: NOW)
        try:
            r = await ask(a, "what was the weather at monza 2023?")
            assert "It was dry" not in r.text and "40.8" in r.text and srv.requests == []
            bad = "It rained from lap 12 and the track hit 51.5°C; RUS got a 10 second penalty."
            srv.script(Behaviour(reply=bad), Behaviour(reply=bad))
            r = await ask(a, "did RUS get a penalty at monza 2023")
            assert len(srv.requests) == 2  # asked, rejected, one fresh attempt, rejected
            assert "51.5" not in r.text and "**RUS** (car 63), lap 24: 5 second time penalty" in r.text
        finally:
            await a.aclose()
