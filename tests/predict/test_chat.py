"""Forecasts in chat (issue 17 part 4): free questions and `/f1 predict`, `/f1 odds title`
end to end on the bundled demo store (the 2023 season), with the real app and predictor.

The bot's clock is inside 2023 (after the Belgian GP, before the Dutch GP) so there is a
next race. Expected races, teams and champions are read from the bundled Ergast CSV here;
the forecast figures are checked against the predictor's own API (two paths that must
agree) and for properties (percentages in range, intervals around the value, no
certainty words), never against numbers our code computed.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import pytest

from bot.forecast_format import pct
from bot.question import resolve_question
from slipstream.wiring import App, build_app
from tests.core.conftest import NOW, ask, make_settings

DEMO_CSV = Path(__file__).resolve().parents[2] / "slipstream" / "demo_data" / "ergast"
MID = dt.datetime(2023, 8, 20, 12, 0, tzinfo=dt.UTC)  # after round 12 (Spa), before round 13
# Words a forecast must never use: it gives chances, not outcomes.
CERTAIN = re.compile(r"\b(will win|won't win|guaranteed|locked|certain(ly)?|definitely|sure to|"
                     r"would have won|is going to win)\b", re.I)


@cache
def _rows(name: str) -> list[dict[str, str]]:
    with open(DEMO_CSV / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def race_named(year: int, rnd: int) -> str:
    return next(r["name"] for r in _rows("races.csv") if r["year"] == str(year) and r["round"] == str(rnd))


def next_round(now: dt.datetime) -> int:
    """The first 2023 round on or after `now`'s day, from races.csv."""
    rounds = sorted((int(r["round"]), r["date"]) for r in _rows("races.csv") if r["year"] == "2023")
    return next(rnd for rnd, day in rounds if day >= now.date().isoformat())


def round_of(name: str) -> int:
    return next(int(r["round"]) for r in _rows("races.csv") if r["year"] == "2023" and r["name"] == name)


@pytest.fixture
async def mid_app(demo_url: str) -> AsyncIterator[App]:
    a = build_app(make_settings(demo_url), clock=lambda: MID)
    try:
        yield a
    finally:
        await a.aclose()


@pytest.fixture
async def late_app(demo_url: str) -> AsyncIterator[App]:
    """The clock after the 2023 season (as the core tests' app)."""
    a = build_app(make_settings(demo_url), clock=lambda: NOW)
    try:
        yield a
    finally:
        await a.aclose()


# --------------------------------------------------------------------------- understanding


@pytest.mark.parametrize(("question", "race", "drivers", "teams"), [
    ("who will win next race", None, [], []),
    ("who wins sunday?", None, [], []),
    ("who'll win on sunday", None, [], []),
    ("predict monza", "Italian Grand Prix", [], []),
    ("prediction for the next gp", None, [], []),
    ("who's favourite for the next race", None, [], []),
    ("chances of a mclaren podium at monza", "Italian Grand Prix", [], ["McLaren"]),
    ("odds for a ferrari win", None, [], ["Ferrari"]),
    ("will hamilton score points in vegas", "Las Vegas Grand Prix", ["HAM"], []),
    ("who's gonna win at zandvoort", "Dutch Grand Prix", [], []),
    ("is leclerc likely to win in singapore", "Singapore Grand Prix", ["LEC"], []),
    ("will max get a podium at suzuka", "Japanese Grand Prix", ["VER"], []),
    ("gimme ur tips for the next race", None, [], []),
    ("title odds", None, [], []),
    ("championship chances 2023 after round 10", None, [], []),
    # Typed in a hurry: misspelt forecast words are read as meant.
    ("predicition for monza", "Italian Grand Prix", [], []),
    ("whos the favourtie for zandvoort", "Dutch Grand Prix", [], []),
    ("forcast for the next race", None, [], []),
])
async def test_forecast_phrasings_read_as_predictions(mid_app: App, question: str, race: str | None,
                                                      drivers: list[str], teams: list[str]) -> None:
    plan = await resolve_question(mid_app.store, question, now=MID)
    assert plan.focus == "prediction", plan.explain()
    assert not plan.unknown, plan.explain()
    if race is None:
        assert plan.event is None, plan.explain()
    else:  # the coming running of the race, in 2023 (the clock's season)
        assert plan.event is not None and (plan.event.year, plan.event.name) == (2023, race), plan.explain()
        assert plan.event.date is not None and plan.event.date >= MID.date()
    assert [d.code for d in plan.drivers] == drivers
    assert [name for _, name in plan.teams] == teams


@pytest.mark.parametrize("question", [
    "who won at zandvoort 2023", "who won the belgian gp", "who was on pole at spa 2023",
])
async def test_past_questions_stay_past(mid_app: App, question: str) -> None:
    """The forecast words must not take results questions ("won" is not "will win")."""
    plan = await resolve_question(mid_app.store, question, now=MID)
    assert plan.focus != "prediction", plan.explain()


def test_percentages_never_claim_certainty() -> None:
    assert pct(0.001) == "<1%" and pct(0.996) == ">99%" and pct(0.5) == "50%"
    # A simulation that never saw it is not a certainty; only a settled outcome reads 0 or 100.
    assert pct(0.0) == "<1%" and pct(1.0) == ">99%"
    assert pct(0.0, settled=True) == "0%" and pct(1.0, settled=True) == "100%"
    from bot import forecast_answer, forecast_format

    strings = [v for mod in (forecast_format, forecast_answer) for k, v in vars(mod).items()
               if k.isupper() and isinstance(v, str)]
    assert strings and not any(CERTAIN.search(s) for s in strings)


# --------------------------------------------------------------------------- answers (real predictor)

_LINE = re.compile(r"^\d+\. \*\*(?P<name>[^*]+)\*\* \((?P<code>[A-Z]{3}), [^)]*\)[^—]*— win (?P<win>[<>]?\d+)% "
                   r"\((?P<wlo>\d+)–(?P<whi>\d+)%\), podium (?P<pod>[<>]?\d+)% \((?P<plo>\d+)–(?P<phi>\d+)%\)", re.M)


def _standings(name: str, year: int, rnd: int, key: str) -> list[tuple[str, float]]:
    """(id, points) after a round, best first, from the bundled CSV."""
    race = next(r["raceId"] for r in _rows("races.csv") if r["year"] == str(year) and r["round"] == str(rnd))
    rows = [(r[key], float(r["points"]), int(r["position"])) for r in _rows(name) if r["raceId"] == race]
    return [(k, p) for k, p, _ in sorted(rows, key=lambda t: t[2])]


def _code(driver_id: str) -> str:
    return next(d["code"] for d in _rows("drivers.csv") if d["driverId"] == driver_id)


def _check_forecast_text(text: str) -> list[re.Match[str]]:
    """Every contender line is a chance with an 80% interval around it; no certainty word."""
    assert not CERTAIN.search(text), text
    assert "80% intervals" in text and "Model updated" in text and "What drives it" in text, text
    lines = list(_LINE.finditer(text))
    assert lines, text
    for mt in lines:
        for p, lo, hi in (("win", "wlo", "whi"), ("pod", "plo", "phi")):
            v = int(mt[p].lstrip("<>"))
            assert 0 <= int(mt[lo]) <= 100 and 0 <= int(mt[hi]) <= 100 and int(mt[lo]) <= int(mt[hi])
            assert int(mt[lo]) - 1 <= v <= int(mt[hi]) + 1, mt.group(0)
    return lines


async def test_next_race_by_command_and_by_question_agree_with_the_predictor(mid_app: App) -> None:
    rnd = next_round(MID)
    race = f"2023 {race_named(2023, rnd)}"
    cmd = (await ask(mid_app, "/f1 predict")).text
    free = (await ask(mid_app, "who's gonna win the next race?")).text
    assert race in cmd and race in free
    assert cmd == free  # one path: the same forecast either way
    lines = _check_forecast_text(cmd)
    fc = await mid_app.deps.predictor.race(2023, rnd)
    assert [m["code"] for m in lines] == [d.code for d in fc.drivers[: len(lines)]]
    assert f"win {pct(fc.drivers[0].p_win)}" in lines[0].group(0)
    assert fc.data_through is not None and fc.data_through < (2023, rnd)  # made before the race
    stage = "after qualifying" if fc.stage == "after_quali" else "before qualifying"
    assert stage in cmd
    assert "won the" not in cmd


async def test_a_named_race_and_a_named_team_or_driver(mid_app: App) -> None:
    monza = round_of("Italian Grand Prix")
    text = (await ask(mid_app, "chances of a mclaren podium at monza")).text
    assert "2023 Italian Grand Prix" in text
    _check_forecast_text(text)
    fc = await mid_app.deps.predictor.race(2023, monza)
    cars = [d for d in fc.drivers if d.constructor_ref == "mclaren"]
    assert len(cars) == 2
    lo, hi = max(d.p_podium for d in cars), min(1.0, sum(d.p_podium for d in cars))
    team = next(t for t in fc.teams if t.constructor_ref == "mclaren")
    assert lo <= team.p_podium <= hi  # at least one car: no less than the likelier car, no more than both
    assert team.p_podium_interval[0] <= team.p_podium <= team.p_podium_interval[1]
    assert f"**McLaren**, at least one car on the podium: {pct(team.p_podium)}" in text
    assert "between" not in text
    one_two = (await ask(mid_app, "chances of a red bull 1-2 at monza?")).text
    rbr = next(t for t in fc.teams if t.constructor_ref == "red_bull")
    assert f"one-two (first and second): {pct(rbr.p_one_two)}" in one_two  # not the team's win
    both = (await ask(mid_app, "will both ferraris be on the podium at monza")).text
    fer = next(t for t in fc.teams if t.constructor_ref == "ferrari")
    assert f"both cars on the podium: {pct(fer.p_double_podium)}" in both
    win = (await ask(mid_app, "odds for a ferrari win at monza")).text
    ferrari = sum(d.p_win for d in fc.drivers if d.constructor_ref == "ferrari")
    assert f"**Ferrari** win (either car): {pct(ferrari)}" in win  # a win is one car's: the sum
    # The market from the words: scoring is points, the top three a podium — never the win instead.
    scores = (await ask(mid_app, "whats the probability leclerc scores at monza")).text
    lec = next(d for d in fc.drivers if d.code == "LEC")
    assert f"chance to score points {pct(lec.p_points)}" in scores
    top3 = (await ask(mid_app, "will russell make the top 3 at monza")).text
    rus = next(d for d in fc.drivers if d.code == "RUS")
    assert f"chance of a podium {pct(rus.p_podium)}" in top3
    vegas = round_of("Las Vegas Grand Prix")
    ham = (await ask(mid_app, "will hamilton score points in vegas")).text
    fv = await mid_app.deps.predictor.race(2023, vegas)
    d = next(d for d in fv.drivers if d.code == "HAM")
    assert f"chance to score points {pct(d.p_points)}" in ham and "Lewis Hamilton" in ham


async def test_title_odds_after_the_clocks_round_and_the_teams(mid_app: App) -> None:
    last_run = max(int(r["round"]) for r in _rows("races.csv") if r["year"] == "2023"
                   and r["date"] < MID.date().isoformat())
    text = (await ask(mid_app, "/f1 odds title")).text
    assert f"2023 drivers' title odds** after round {last_run}" in text and not CERTAIN.search(text)
    leader, pts = _standings("driver_standings.csv", 2023, last_run, "driverId")[0]
    assert re.search(rf"\*\*[^*]+\*\* \({_code(leader)}\) — [^\n]* · {pts:g} pts", text), text
    teams = (await ask(mid_app, "/f1 odds title 2023 after round 10 teams")).text
    assert "2023 constructors' title odds** after round 10" in teams
    ref_pts = _standings("constructor_standings.csv", 2023, 10, "constructorId")[0][1]
    assert f" · {ref_pts:g} pts" in teams
    free = (await ask(mid_app, "championship chances 2023 after round 10")).text
    assert "2023 drivers' title odds** after round 10" in free
    # Magic number, from the raw CSV: the runner-up's reachable maximum (2023: 25 + 1 for the
    # fastest lap a grand prix, 8 a sprint, rounds and sprints after round 10 from races.csv)
    # minus the leader's points.
    later = [r for r in _rows("races.csv") if r["year"] == "2023" and int(r["round"]) > 10]
    left = 26 * len(later) + 8 * sum(r["sprint_date"] not in ("", "\\N") for r in later)
    (lead, lead_pts), (second, second_pts) = _standings("driver_standings.csv", 2023, 10, "driverId")[:2]
    magic = second_pts + left - lead_pts
    assert f"Magic number for {_code(lead)}: **{magic:g}**" in free, free
    assert f"{_code(second)} can still reach {second_pts + left:g} pts" in free


async def test_out_of_it_and_decided(mid_app: App, late_app: App) -> None:
    text = (await ask(mid_app, "/f1 odds title 2023 after round 16")).text
    tf = await mid_app.deps.predictor.title(2023, after_round=16)
    shown = tf.entries[:8]
    out = [e for e in shown if not e.can_win]
    assert out, "after round 16 of 2023 most of the field was mathematically out"
    assert text.count("out of it (mathematically)") == len(out)
    for e in out:
        line = next(ln for ln in text.splitlines() if f"**{e.name}**" in ln)
        assert "%" not in line
    final = max(int(r["round"]) for r in _rows("races.csv") if r["year"] == "2023")
    champion = _standings("driver_standings.csv", 2023, final, "driverId")[0][0]
    decided = (await ask(late_app, "/f1 odds title 2023")).text  # the clock after the season
    surname = next(d["surname"] for d in _rows("drivers.csv") if d["driverId"] == champion)
    assert "title is decided" in decided and surname in decided.splitlines()[0]


async def test_can_win_keeps_the_maths_and_adds_the_odds(mid_app: App) -> None:
    text = (await ask(mid_app, "after round 16 of 2023 can perez still win the title")).text
    assert "After round 16 of 2023" in text  # the mathematical answer, as before
    odds = next(ln for ln in text.splitlines() if ln.startswith("Title odds: "))
    tf = await mid_app.deps.predictor.title(2023, after_round=16)
    alive = [e for e in tf.entries if e.can_win and e.p_title > 0]
    assert alive and alive[0].key in odds
    assert all(e.key not in odds for e in tf.entries if not e.can_win)


async def test_a_past_race_shows_the_forecast_made_before_it(late_app: App) -> None:
    british = round_of("British Grand Prix")
    text = (await ask(late_app, "who was predicted to win the british gp")).text
    assert "2023 British Grand Prix — the forecast made before the race" in text
    before = f"data through 2023 round {british - 1} ({race_named(2023, british - 1)}) only"
    assert before in text and "won the" not in text
    _check_forecast_text(text)


@pytest.mark.parametrize(("question", "says"), [
    ("who'll be on pole at monza", "not qualifying"),
    ("who's gonna win the title next year", "not in the calendar"),
])
async def test_what_cannot_be_forecast_is_said(mid_app: App, question: str, says: str) -> None:
    text = (await ask(mid_app, question)).text
    assert text.startswith("No forecast for that") and says in text and "%" not in text


async def test_without_a_predictor_a_future_question_is_never_a_past_result(mid_app: App) -> None:
    from bot import messages as m
    from bot.forecast_answer import forecast_reply

    plan = await resolve_question(mid_app.store, "who will win next race", now=MID)
    reply = await forecast_reply(mid_app.store, None, plan, now=MID)
    assert reply.text == m.NO_PREDICTIONS


async def test_follow_ups_keep_the_race_of_the_forecast(mid_app: App) -> None:
    conv = {"conversation_id": "forecast-thread"}
    first = (await ask(mid_app, "who will win at monza", **conv)).text
    assert "2023 Italian Grand Prix" in first
    team = (await ask(mid_app, "and mclaren?", **conv)).text
    assert "2023 Italian Grand Prix" in team and "**McLaren** win (either car)" in team
    nxt = (await ask(mid_app, "who wins the next race", **conv)).text
    race = f"2023 {race_named(2023, next_round(MID))}"
    assert race in nxt
    again = (await ask(mid_app, "what about leclerc", **conv)).text
    assert race in again and "**Charles Leclerc** (LEC" in again


async def test_the_stage_can_be_asked(mid_app: App) -> None:
    """Before qualifying = the ratings alone (no grid shown); with the grid = after it."""
    before = (await ask(mid_app, "/f1 predict monza before quali")).text
    after = (await ask(mid_app, "who will win at monza with the grid")).text
    assert "forecast before qualifying" in before and "on the grid" not in before
    assert "forecast after qualifying" in after and "P1 on the grid" in after
    _check_forecast_text(before)
    _check_forecast_text(after)


async def test_title_follow_ups_keep_the_title(mid_app: App) -> None:
    conv = {"conversation_id": "title-thread"}
    assert "2023 drivers' title odds" in (await ask(mid_app, "title odds", **conv)).text
    assert "2023 constructors' title" in (await ask(mid_app, "and the constructors?", **conv)).text
    late = (await ask(mid_app, "what about after round 16", **conv)).text
    assert "2023 constructors' title" in late and "round 16" in late
    drivers = (await ask(mid_app, "and the drivers?", **conv)).text
    assert "2023 drivers' title odds** after round 16" in drivers
    race = (await ask(mid_app, "predict monza", **conv)).text
    assert "2023 Italian Grand Prix" in race
    assert "drivers' title odds" in (await ask(mid_app, "and the title odds?", **conv)).text


async def test_a_season_question_gets_the_next_race_and_says_so(mid_app: App) -> None:
    text = (await ask(mid_app, "whats the chance norris wins a race this year")).text
    assert text.startswith("_I forecast one race at a time")
    assert f"2023 {race_named(2023, next_round(MID))}" in text and "**Lando Norris** (NOR" in text


async def test_a_result_asked_of_a_race_not_run_points_to_the_forecast(demo_url: str) -> None:
    """The classification of a race still to come is missing by nature: the reply says so and
    names the forecast command, never a result (the last round's rows removed from a copy)."""
    from sqlalchemy import create_engine, text

    last = max(int(r["round"]) for r in _rows("races.csv") if r["year"] == "2023")
    name = race_named(2023, last)
    engine = create_engine(demo_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM result WHERE session_id IN (SELECT s.id FROM race_session s JOIN event e "
                          "ON e.id = s.event_id WHERE e.year = 2023 AND e.round = :r AND s.type = 'R')"),
                     {"r": last})
    engine.dispose()
    a = build_app(make_settings(demo_url), clock=lambda: MID)
    try:
        reply = (await ask(a, f"who won the {name} 2023")).text
        follow = (await ask(a, f"/f1 predict 2023 {name}")).text
    finally:
        await a.aclose()
    assert f"ask `/f1 predict 2023 {name}`" in reply and "won the" not in reply
    assert f"2023 {name} — forecast" in follow
    _check_forecast_text(follow)
