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
from tests.core.conftest import make_settings

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
