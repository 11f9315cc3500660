"""Charts drawn for real (matplotlib Agg) from the demo store: 2023 history + Monza 2023 laps.

Each PNG is decoded and checked: 1600x900, not blank, and the team colours of the
drivers asked for are in its pixels. Store reads run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
from matplotlib.image import imread
from sqlalchemy import Engine, insert

from bot.charts import CHART_KINDS, TIMEOUT_TEXT, ChartRequest, Charts
from bot.errors import UserError
from storage.db import make_engine, table
from storage.models import IngestRun
from storage.store import Store

MONZA = {"year": 2023, "round": 14}


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_url)
    yield eng
    eng.dispose()


@pytest.fixture
def any_engine(demo_store_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_store_url)
    yield eng
    eng.dispose()


@pytest.fixture
async def charts(demo_engine: Engine) -> AsyncIterator[Charts]:
    ch = Charts(Store(demo_engine))
    yield ch
    ch.close()


def pixels(png: bytes) -> np.ndarray:
    img = imread(io.BytesIO(png), format="png")
    return (img[..., :3] * 255).round().astype(np.int16)


def has_colour(px: np.ndarray, hexcode: str, *, tol: int = 4, min_px: int = 40) -> bool:
    want = np.array([int(hexcode.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)])
    near = np.all(np.abs(px - want) <= tol, axis=-1)
    return int(near.sum()) >= min_px


def assert_real_chart(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    px = pixels(png)
    assert px.shape[:2] == (900, 1600)
    flat = px.reshape(-1, 3)
    packed = (flat[:, 0].astype(np.int32) << 16) | (flat[:, 1] << 8) | flat[:, 2]
    assert len(np.unique(packed)) > 50  # lines, text, bars: not a blank canvas
    assert flat.std() > 5
    return px


async def colours(engine: Engine) -> dict[str, str]:
    return await Store(engine).team_colours(2023)


# Every kind, with the default arguments, on both backends.
@pytest.mark.parametrize("kind", list(CHART_KINDS))
async def test_every_kind_renders_on_both_backends(any_engine: Engine, kind: str) -> None:
    ch = Charts(Store(any_engine))
    try:
        res = await ch.render(ChartRequest(kind))
    finally:
        ch.close()
    assert_real_chart(res.image.data)
    assert res.image.filename.startswith(f"{kind}-2023-") and res.image.filename.endswith(".png")
    assert len(res.image.alt) > 40 and res.title


# The team colours of the drivers asked for are in the pixels, for each kind that takes drivers.
@pytest.mark.parametrize("kind", ["positions", "laptimes", "gaps", "distribution", "quali", "points", "pitstops"])
async def test_team_colours_of_the_drivers_asked_for(charts: Charts, demo_engine: Engine, kind: str) -> None:
    req = ChartRequest(kind, drivers=("VER", "LEC"), **({} if kind == "points" else MONZA))
    res = await charts.render(req)
    px = assert_real_chart(res.image.data)
    tc = await colours(demo_engine)
    assert has_colour(px, tc["red_bull"]), (kind, tc["red_bull"])
    assert has_colour(px, tc["ferrari"]), (kind, tc["ferrari"])
    assert not has_colour(px, tc["mercedes"], tol=2, min_px=5), kind  # nobody else drawn


async def test_laptimes_monza_ver_lec(charts: Charts, demo_engine: Engine) -> None:
    res = await charts.render(ChartRequest("laptimes", drivers=("ver", "lec"), **MONZA))
    assert res.image.filename == "laptimes-2023-14-VER-LEC.png"
    assert "2023 Italian Grand Prix" in res.title and "Race" in res.title
    assert "provisional" not in res.title  # the history's classification is official
    assert "VER, LEC" in res.image.alt and "Fastest:" in res.image.alt
    px = pixels(res.image.data)
    assert has_colour(px, "#ffd12e") and has_colour(px, "#f0f0ec")  # medium and hard dots


async def test_teammates_ferrari_and_strategy_field(charts: Charts, demo_engine: Engine) -> None:
    tc = await colours(demo_engine)
    res = await charts.render(ChartRequest("teammates", year=2023, team="ferrari"))
    assert has_colour(assert_real_chart(res.image.data), tc["ferrari"])
    assert "LEC" in res.image.alt and "SAI" in res.image.alt
    res = await charts.render(ChartRequest("strategy", **MONZA))
    px = assert_real_chart(res.image.data)
    assert has_colour(px, "#ffd12e") and has_colour(px, "#f0f0ec")
    assert "VER: Medium → Hard" in res.image.alt


async def test_positions_alt_names_the_leader(charts: Charts) -> None:
    res = await charts.render(ChartRequest("positions", **MONZA))
    assert "VER leads from lap" in res.image.alt


async def test_cache_hit_is_the_same_bytes_and_fast(charts: Charts) -> None:
    req = ChartRequest("laptimes", drivers=("VER", "LEC"), **MONZA)
    first = await charts.render(req)
    t0 = time.perf_counter()
    again = await charts.render(req)
    took = time.perf_counter() - t0
    assert again.image.data == first.image.data and charts.draws == 1
    assert took < 0.05  # the bench measures the real figure (about a millisecond)


async def test_new_data_version_draws_again(charts: Charts, demo_engine: Engine) -> None:
    req = ChartRequest("points", drivers=("VER",))
    await charts.render(req)
    with demo_engine.begin() as conn:
        conn.execute(insert(table(IngestRun)).values(
            kind="history", target="test", started_at=dt.datetime.now(dt.UTC), outcome="skipped"))
    charts.store.invalidate()
    await charts.render(req)
    assert charts.draws == 2


async def test_lru_keeps_cache_size(demo_engine: Engine) -> None:
    ch = Charts(Store(demo_engine), cache_size=1)
    try:
        a, b = ChartRequest("points", drivers=("VER",)), ChartRequest("points", drivers=("LEC",))
        await ch.render(a)
        await ch.render(b)
        await ch.render(a)
        assert ch.draws == 3
    finally:
        ch.close()


async def test_too_slow_says_so(demo_engine: Engine) -> None:
    ch = Charts(Store(demo_engine), timeout_s=0.001)
    try:
        with pytest.raises(UserError) as e:
            await ch.render(ChartRequest("positions", **MONZA))
        assert e.value.message == TIMEOUT_TEXT
    finally:
        ch.close()


async def test_unknown_kind_lists_the_kinds(charts: Charts) -> None:
    with pytest.raises(UserError) as e:
        await charts.render(ChartRequest("piechart"))
    assert "piechart" in e.value.message
    for kind in CHART_KINDS:
        assert kind in e.value.message


@pytest.mark.parametrize("kind", ["positions", "laptimes", "strategy", "gaps", "distribution"])
async def test_lap_kind_for_a_history_only_race_names_races_with_laps(any_engine: Engine, kind: str) -> None:
    ch = Charts(Store(any_engine))
    try:
        with pytest.raises(UserError) as e:
            await ch.render(ChartRequest(kind, year=2023, round=1))
    finally:
        ch.close()
    msg = e.value.message
    assert "2023 Bahrain Grand Prix has no lap data" in msg
    assert "2023 Italian Grand Prix" in msg


async def test_more_than_six_drivers_on_a_line_chart(charts: Charts) -> None:
    eight = ("VER", "PER", "SAI", "LEC", "RUS", "HAM", "ALB", "NOR")
    res = await charts.render(ChartRequest("laptimes", drivers=eight, **MONZA))
    assert res.notes == ("showing the first 6 of 8 drivers",)
    assert "ALB" not in res.image.alt and "HAM" in res.image.alt
    res = await charts.render(ChartRequest("points", top_n=10))
    assert res.notes == ("showing the first 6 of 10 drivers",)


async def test_unknown_driver_code(charts: Charts) -> None:
    with pytest.raises(UserError) as e:
        await charts.render(ChartRequest("laptimes", drivers=("VER", "XYZ"), **MONZA))
    assert e.value.message == "No driver XYZ in the 2023 Italian Grand Prix Race."
    with pytest.raises(UserError) as e:
        await charts.render(ChartRequest("gaps", drivers=("VERSTAPPEN",), **MONZA))
    assert "not a driver code" in e.value.message


async def test_other_bad_input(charts: Charts) -> None:
    with pytest.raises(UserError, match="No race 2023 round 40"):
        await charts.render(ChartRequest("quali", year=2023, round=40))
    with pytest.raises(UserError, match="not a lap range"):
        await charts.render(ChartRequest("laptimes", laps=(30, 10), **MONZA))
    with pytest.raises(UserError, match="No team"):
        await charts.render(ChartRequest("teammates", year=2023, team="brabham"))


async def test_lap_range(charts: Charts) -> None:
    res = await charts.render(ChartRequest("laptimes", drivers=("VER",), laps=(10, 30), **MONZA))
    assert res.image.filename == "laptimes-2023-14-VER-L10-30.png"
    assert "laps 10-30" in res.image.alt


async def test_teammates_told_apart_by_line_style(demo_engine: Engine) -> None:
    from bot.charts.gather import Gatherer, Request

    def req(*codes: str) -> Request:
        return Request("laptimes", 2023, 14, "R", codes, None, None, None, None)

    got = await Gatherer(Store(demo_engine)).gather(req("VER", "LEC"))
    assert [(ln.label, ln.dashed) for ln in got.plot.panels[0].lines] == [("VER", False), ("LEC", False)]
    got = await Gatherer(Store(demo_engine)).gather(req("VER", "PER", "LEC"))
    lines = got.plot.panels[0].lines
    assert [(ln.label, ln.dashed) for ln in lines] == [("VER", False), ("PER", True), ("LEC", False)]
    assert lines[0].colour == lines[1].colour != lines[2].colour


async def test_provisional_classification_says_so(demo_engine: Engine) -> None:
    # Monza as if only timing had written it: no official source, the timing order only.
    from sqlalchemy import select, update

    from storage.models import Event, Result, Session

    with demo_engine.begin() as conn:
        sid = conn.execute(
            select(Session.id).join(Event, Event.id == Session.event_id)
            .where(Event.year == 2023, Event.round == 14, Session.type == "R")).scalar_one()
        conn.execute(update(Result).where(Result.session_id == sid)
                     .values(official_source=None, timing_position=Result.position_order))
    ch = Charts(Store(demo_engine))
    try:
        res = await ch.render(ChartRequest("laptimes", drivers=("VER", "LEC"), **MONZA))
    finally:
        ch.close()
    assert res.title.endswith("· Race (provisional)")
