"""Track Pulse with the predictor (issue 17 part 4): the race preview is an opt-in kind sent once
per race, and the championship highlight after a grand prix carries the title odds.

Real pipeline (`bot.pulse.pipeline.run_session`), real Predictor, on the bundled demo store
(2023 history + Monza from FastF1). Expected drivers come from the bundled Ergast CSV.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.predict.service import Predictor
from bot.prompting import Style
from bot.pulse.commentary import Commentator
from bot.pulse.pipeline import run_session
from storage import pulse_store
from storage.db import make_engine, table
from storage.pulse_models import PulseDelivery, PulseHighlightRow
from storage.store import Store
from tests.conftest import copy_demo
from tests.predict.test_chat import CERTAIN

DEMO_CSV = Path(__file__).resolve().parents[2] / "slipstream" / "demo_data" / "ergast"
MONZA = 14  # the bundled FastF1 race: 2023 round 14


@pytest.fixture
def demo(demo_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_url)
    try:
        yield eng
    finally:
        eng.dispose()


def _kinds_sent(engine: Engine, channel: str) -> list[str]:
    d, h = table(PulseDelivery), table(PulseHighlightRow)
    with engine.connect() as conn:
        return list(conn.execute(
            select(h.c.kind).join(d, d.c.highlight_id == h.c.id).where(d.c.channel_id == channel)
        ).scalars())


def _monza_pole_sitter() -> str:
    with open(DEMO_CSV / "races.csv", newline="", encoding="utf-8") as fh:
        race = next(r["raceId"] for r in csv.DictReader(fh) if r["year"] == "2023" and r["round"] == str(MONZA))
    with open(DEMO_CSV / "qualifying.csv", newline="", encoding="utf-8") as fh:
        did = next(r["driverId"] for r in csv.DictReader(fh) if r["raceId"] == race and r["position"] == "1")
    with open(DEMO_CSV / "drivers.csv", newline="", encoding="utf-8") as fh:
        return next(r["code"] for r in csv.DictReader(fh) if r["driverId"] == did)


async def test_preview_goes_once_to_channels_that_chose_it_and_to_no_one_else(demo: Engine) -> None:
    store = Store(demo)
    predictor = Predictor(store)
    try:
        pulse_store.subscribe(demo, "console:local:preview", kinds=["preview"], min_priority="low")
        pulse_store.subscribe(demo, "console:local:all", min_priority="low")  # every kind, not opted in
        pulse_store.subscribe(demo, "console:local:results", kinds=["result", "pole"], min_priority="low")
        quali = pulse_store.find_session(demo, 2023, MONZA, "Q")
        first = await run_session(demo, quali, Commentator(), now=1000.0, predictor=predictor)
        again = await run_session(demo, quali, Commentator(), now=2000.0, predictor=predictor)
    finally:
        predictor.close()
    assert first.new_highlights > 0 and again.new_highlights == 0 and again.messages == 0
    assert _kinds_sent(demo, "console:local:preview") == ["preview"]
    assert "preview" not in _kinds_sent(demo, "console:local:all")
    assert _kinds_sent(demo, "console:local:all")  # it got the qualifying news
    assert "preview" not in _kinds_sent(demo, "console:local:results")
    # Stored once, on the grand prix session, with the favourites' chances and intervals.
    race = pulse_store.find_session(demo, 2023, MONZA, "R")
    previews = [h for h in pulse_store.session_highlights(demo, race) if h.kind == "preview"]
    assert len(previews) == 1
    facts = previews[0].facts
    assert facts["stage"] == "after_quali" and facts["year"] == 2023 and facts["round"] == MONZA
    favs = facts["favourites"]
    assert favs and all(0.0 <= f["p_win"] <= 1.0 for f in favs)
    assert [f["p_win"] for f in favs] == sorted((f["p_win"] for f in favs), reverse=True)
    assert _monza_pole_sitter() in [f["driver"] for f in favs]  # pole is among the favourites
    # The message: the favourites with their chances, and no certainty word.
    for length in ("short", "long"):
        text = Commentator().template_text([previews[0].as_highlight()], Style(length=length))
        assert "Race preview" in text and "Italian Grand Prix" in text and _monza_pole_sitter() in text
        assert re.search(r"\d+% \(\d+–\d+%\)", text) and not CERTAIN.search(text), text


async def test_championship_highlight_carries_the_title_odds(demo: Engine, demo_template: Path,
                                                             tmp_path: Path) -> None:
    race = pulse_store.find_session(demo, 2023, MONZA, "R")
    store = Store(demo)
    predictor = Predictor(store)
    try:
        await run_session(demo, race, Commentator(), now=1000.0, predictor=predictor)
        tf = await predictor.title(2023, after_round=MONZA)
    finally:
        predictor.close()
    champ = next(h for h in pulse_store.session_highlights(demo, race) if h.kind == "championship")
    odds = champ.facts.get("title_odds") or ""
    leader = tf.entries[0]
    assert odds.startswith("Title odds: ") and leader.key in odds, odds
    # Without a predictor the same highlight has no odds (the detector reads what it is given).
    plain = make_engine(copy_demo(demo_template, tmp_path, "plain.db"))  # nothing detected yet
    try:
        await run_session(plain, race, Commentator(), now=1000.0)
        champ2 = next(h for h in pulse_store.session_highlights(plain, race) if h.kind == "championship")
        assert "title_odds" not in champ2.facts
        assert {k: v for k, v in champ.facts.items() if k != "title_odds"} == champ2.facts
    finally:
        plain.dispose()
    assert json.dumps(champ.facts)  # JSON-safe
