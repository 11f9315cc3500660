"""The resolver on the demo store: loose race names, drivers by any name, focus, lap ranges."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.question import resolve_question
from bot.resolve import resolve_driver, resolve_event
from slipstream.wiring import App
from tests.core.conftest import NOW


@pytest.mark.parametrize(
    ("text", "round_"),
    [("monza", 14), ("italian gp", 14), ("italy 2023", 14), ("Italian Grand Prix", 14),
     ("last race", 22), ("round 5", 5), ("r 5 2023", 5), (None, 22), ("silverstone", 10), ("spa", 12)],
)
async def test_races_by_loose_names(app: App, text: str | None, round_: int) -> None:
    ev = await resolve_event(app.store, text, now=NOW)
    assert ev.year == 2023 and ev.round == round_


async def test_lap_data_default_and_unknowns(app: App) -> None:
    assert (await resolve_event(app.store, None, need_laps=True)).round == 14
    with pytest.raises(UserError, match="no round 30"):
        await resolve_event(app.store, "round 30 2023")
    with pytest.raises(UserError) as err:
        await resolve_event(app.store, "silverstne")
    assert err.value.suggestions == ["Silverstone"]


@pytest.mark.parametrize(
    ("text", "code"),
    [("VER", "VER"), ("33", "VER"), ("verstappen", "VER"), ("max", "VER"), ("checo", "PER"),
     ("lando", "NOR"), ("Sergio Perez", "PER"), ("#44", "HAM"), ("hulkenberg", "HUL")],
)
async def test_drivers_by_any_name(app: App, text: str, code: str) -> None:
    assert (await resolve_driver(app.store, text, year=2023)).code == code


async def test_questions(app: App) -> None:
    r = await resolve_question(app.store, "compare checo and max pace after lap 20 at monza", now=NOW)
    assert r.focus == "compare" and [d.code for d in r.drivers] == ["PER", "VER"]
    assert r.lap_range == (21, None) and r.event is not None and r.event.round == 14
    r = await resolve_question(app.store, "who took pole in italy 2023?", now=NOW)
    assert r.focus == "pole" and r.session is not None and r.session.type == "Q"
    r = await resolve_question(app.store, "constructors championship", now=NOW)
    assert r.focus == "standings" and r.standings_kind == "constructors"
    r = await resolve_question(app.store, "how did Leclerc do in the last race?", now=NOW)
    assert r.focus == "results" and r.event is not None and r.event.round == 22
    r = await resolve_question(app.store, "VER laps 10-20 at monza 2023", now=NOW)
    assert r.lap_range == (10, 20)
    r = await resolve_question(app.store, "VER first 5 laps at monza 2023", now=NOW)
    assert r.lap_range == (1, 5)
