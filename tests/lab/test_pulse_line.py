"""Track Pulse battle highlights carry the Race Lab forecast line (issue 16, part 4), on the
real Monza 2023 race of the demo store: pure, from the laps up to the battle's lap only, with
the circuit parameters the pipeline fits; stored with the highlight by the real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.prompting import Style
from bot.pulse.commentary import Commentator
from bot.pulse.detectors import detect_all
from bot.pulse.forecast import add_forecasts
from bot.pulse.pipeline import circuit_params, detect_session
from bot.pulse.state import RaceFeed
from bot.pulse.types import PulseHighlight
from storage import pulse_store
from storage.db import make_engine
from tests.conftest import copy_demo


@pytest.fixture(scope="module")
def monza(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RaceFeed, object]:
    eng = make_engine(copy_demo(demo_template, tmp_path_factory.mktemp("pulse-line")))
    try:
        feed = pulse_store.load_feed(eng, pulse_store.find_session(eng, 2023, "Monza", "R"))
        return feed, circuit_params(eng, feed)
    finally:
        eng.dispose()


def _battles(hs: list[PulseHighlight]) -> list[PulseHighlight]:
    return [h for h in hs if h.kind == "battle"]


def test_every_battle_carries_a_forecast_with_its_probability(monza: tuple[RaceFeed, object]) -> None:
    feed, circuit = monza
    assert circuit is not None  # fitted from the stored race, not the defaults
    battles = _battles(add_forecasts(feed, detect_all(feed), circuit))  # type: ignore[arg-type]
    assert battles
    for h in battles:
        f = h.facts
        assert 0 <= f["p_pass_5"] <= f["p_pass_10"] <= 1, f
        assert "%" in f["forecast"] and f["behind"] in f["forecast"], f
        assert "would have" not in f["forecast"] and " will " not in f" {f['forecast']} "
    text = Commentator().template_text([battles[0]], Style())
    assert battles[0].facts["forecast"] in text


def test_the_forecast_reads_only_laps_up_to_the_battle(monza: tuple[RaceFeed, object]) -> None:
    """Live and replay agree: a feed cut at the battle's lap gives the same forecast."""
    feed, circuit = monza
    whole = {h.key: h.facts for h in _battles(add_forecasts(feed, detect_all(feed), circuit))}  # type: ignore[arg-type]
    for key, facts in list(whole.items())[:3]:
        told = facts["told_lap"]
        cut = RaceFeed.build(feed.info, feed.drivers.values(), [r for r in feed.laps if r.lap <= told],
                             race_control=feed.race_control, track_status=feed.track_status,
                             weather=feed.weather)
        live = {h.key: h.facts for h in _battles(add_forecasts(cut, detect_all(cut), circuit))}  # type: ignore[arg-type]
        assert live[key]["forecast"] == facts["forecast"]
        assert live[key]["p_pass_5"] == facts["p_pass_5"]


def test_without_circuit_parameters_the_defaults_still_give_a_line(monza: tuple[RaceFeed, object]) -> None:
    feed, _ = monza
    battles = _battles(add_forecasts(feed, detect_all(feed), None))
    assert battles and all("%" in h.facts["forecast"] for h in battles)
    assert all("forecast" not in h.facts for h in _battles(detect_all(feed)))  # detection alone stays lean


def test_the_pipeline_stores_battles_with_their_forecast(demo_url: str) -> None:
    eng = make_engine(demo_url)
    try:
        sid = pulse_store.find_session(eng, 2023, "Monza", "R")
        new = detect_session(eng, sid, now=1.0)
        battles = [h for h in new if h.kind == "battle"]
        assert battles and all(0 <= h.facts["p_pass_5"] <= 1 and "%" in h.facts["forecast"] for h in battles)
        assert detect_session(eng, sid, now=2.0) == []  # nothing new: nothing forecast again
    finally:
        eng.dispose()
