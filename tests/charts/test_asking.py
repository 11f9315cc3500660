"""Asking for a chart: `/f1 chart …` and free questions through the one query plan, charts
on compare and strategy answers, and the refusals (bundled demo data, the real app)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image as PILImage

from bot.charts import CHART_KINDS
from bot.question import resolve_question
from slipstream.wiring import App
from tests.core.conftest import ask

NOW = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)


def _png_size(data: bytes) -> tuple[int, int]:
    with PILImage.open(io.BytesIO(data)) as im:
        return im.size


@pytest.mark.parametrize(("question", "kind"), [
    ("plot VER and LEC lap times at monza 2023", "laptimes"),
    ("can you graph verstappen vs leclerc pace at monza", "laptimes"),
    ("chart of positions monza 2023", "positions"),
    ("show me a plot of the running order at monza", "positions"),
    ("graph the gap between verstappen and perez at monza 2023", "gaps"),
    ("plot the tyre strategy for monza 2023", "strategy"),
    ("visualise the stints at the italian gp", "strategy"),
    ("plot lap time distribution at monza", "distribution"),
    ("box plot of lap times monza 2023", "distribution"),
    ("qualifying gaps chart monza 2023", "quali"),
    ("plot the 2023 championship points", "points"),
    ("graph the title fight after round 10 2023", "points"),
    ("pit stop chart monza 2023", "pitstops"),
    ("chart the fastest pit stops at monza", "pitstops"),
    ("teammate head to head chart ferrari 2023", "teammates"),
    # Fans' spelling: typos, slang, no punctuation.
    ("grpah the gaps at monza 2023 pls", "gaps"),
    ("show strat chart for monza 23", "strategy"),
    ("yo can u plot max n charles laptimes monza 23", "laptimes"),
    ("draw the running order at monza", "positions"),
])
async def test_chart_questions_read_the_kind(app: App, question: str, kind: str) -> None:
    plan = await resolve_question(app.store, question, now=NOW)
    assert plan.focus == "chart" and plan.chart == kind, plan.explain()
    assert not plan.unknown, plan.explain()


@pytest.mark.parametrize("question", [
    "monza 2023 - who led the title race after that",
    "who led the title fight after monza 2023",
])
async def test_title_race_words_still_ask_for_the_standings(app: App, question: str) -> None:
    """The chart clue for a "title fight" must not take "title" from the standings rules."""
    plan = await resolve_question(app.store, question, now=NOW)
    assert plan.focus == "standings", plan.explain()


async def test_free_question_gets_the_picture(app: App) -> None:
    r = await ask(app, "plot VER and LEC lap times at monza 2023")
    reply = r.sent[-1]
    assert "Lap times" in reply.text and "Italian Grand Prix" in reply.text
    assert len(reply.images) == 1 and _png_size(reply.images[0].data) == (1600, 900)
    assert "VER" in reply.images[0].alt and "LEC" in reply.images[0].alt


async def test_two_part_question_gets_the_chart_and_the_answer(app: App) -> None:
    r = await ask(app, "chart positions monza 2023 and who won?")
    reply = r.sent[-1]
    assert "Position changes" in reply.text and "won the 2023 Italian Grand Prix" in reply.text
    assert len(reply.images) == 1 and reply.images[0].filename.startswith("positions-2023-14")


async def test_chart_command_with_drivers_and_laps(app: App) -> None:
    r = await ask(app, "/f1 chart gaps monza 2023 VER PER laps 10-30")
    reply = r.sent[-1]
    assert reply.images and reply.images[0].filename.startswith("gaps-2023-14")
    assert "PER" in reply.images[0].alt and "VER" in reply.images[0].alt
    r = await ask(app, "chart points 2023 after round 14", kind="command")
    assert r.sent[-1].images and "round 14" in r.sent[-1].text


async def test_unknown_kind_lists_the_kinds(app: App) -> None:
    r = await ask(app, "/f1 chart sparkles monza 2023")
    text = r.text
    assert not r.sent[-1].images
    assert all(k in text for k in CHART_KINDS), text


async def test_history_only_race_names_the_races_with_lap_data(app: App) -> None:
    r = await ask(app, "plot the lap times of the 2023 bahrain grand prix")
    text = r.text
    assert not r.sent[-1].images
    assert "no lap data" in text and "2023 Italian Grand Prix" in text, text


async def test_compare_and_strategy_answers_carry_a_chart(app: App) -> None:
    r = await ask(app, "/f1 compare VER PER monza 2023")
    reply = r.sent[-1]
    assert "VER" in reply.text and len(reply.images) == 1
    assert reply.images[0].filename.startswith("laptimes-2023-14")
    r = await ask(app, "compare VER and PER at monza 2023")
    assert r.sent[-1].images
    r = await ask(app, "what were the tyre strategies at monza 2023")
    assert r.sent[-1].images and r.sent[-1].images[0].filename.startswith("strategy-2023-14")
    assert r.sent[-1].text.strip()  # the text answer stays


async def test_too_many_drivers_draws_the_first_six_with_a_note(app: App) -> None:
    r = await ask(app, "/f1 chart laptimes monza 2023 VER PER SAI LEC RUS HAM ALB NOR")
    reply = r.sent[-1]
    assert reply.images and "6 of 8" in reply.text, reply.text
