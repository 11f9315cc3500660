"""Monaco 2023 (late rain), Las Vegas 2023 (VSC, two safety cars, lead changes) and Monaco
qualifying, ingested from ../shared/data by the real ingest + history import."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from bot.pulse.detectors import detect, detect_all
from bot.pulse.types import Priority, PulseHighlight
from storage import pulse_store
from storage.models import Driver, PitStop

pytestmark = pytest.mark.shared_data


def _run(engine: Engine, event: str, session: str = "R") -> tuple[int, list[PulseHighlight]]:
    sid = pulse_store.find_session(engine, 2023, event, session)
    return sid, detect_all(pulse_store.load_feed(engine, sid))


def _kind(hs: list[PulseHighlight], kind: str) -> list[PulseHighlight]:
    return [h for h in hs if h.kind == kind]


def _assert_no_pit_cycle_passes(engine: Engine, sid: int, hs: list[PulseHighlight]) -> None:
    """Against the FIA pit-stop list (Ergast history), not our own timing data."""
    with engine.connect() as conn:
        rows = conn.execute(select(Driver.code, PitStop.lap).join(Driver, Driver.id == PitStop.driver_id)
                            .where(PitStop.session_id == sid, PitStop.duration_ms.is_not(None))).all()
    assert rows, "history import should have filled this race's pit stops"
    pit_laps: dict[str, set[int]] = {}
    for code, lap in rows:
        pit_laps.setdefault(code, set()).update({lap, lap + 1})
    passes = _kind(hs, "overtake")
    assert passes
    for h in passes:
        for d in h.drivers:
            assert h.lap not in pit_laps.get(d, set()), f"pit-cycle move reported as a pass: {h}"
    for h in _kind(hs, "lead_change"):
        if h.facts["cause"] == "on track":
            for d in h.drivers:
                assert h.lap not in pit_laps.get(d, set()), h


def test_monaco_late_rain(shared_engine: Engine) -> None:
    sid, hs = _run(shared_engine, "Monaco")
    rain = [h for h in _kind(hs, "weather") if h.facts.get("change") == "rain started"]
    assert len(rain) == 1 and 45 <= rain[0].lap <= 60 and rain[0].priority is Priority.HIGH
    inters = [h for h in _kind(hs, "pit_stop") if h.facts["compound_after"] == "INTERMEDIATE"]
    assert {h.facts["driver"] for h in inters} >= {"VER", "ALO", "OCO", "HAM"}
    assert all(h.lap >= 50 for h in inters)
    result = _kind(hs, "result")[0]
    assert result.facts["podium"] == ["VER", "ALO", "OCO"]
    assert {h.facts["driver"] for h in _kind(hs, "retirement")} >= {"STR", "MAG"}
    champ = _kind(hs, "championship")[0]
    assert champ.facts["leader"] == "VER" and champ.facts["second"] == "PER"
    _assert_no_pit_cycle_passes(shared_engine, sid, hs)


def test_las_vegas_safety_cars_and_lead_changes(shared_engine: Engine) -> None:
    sid, hs = _run(shared_engine, "Las Vegas")
    assert [h.lap for h in _kind(hs, "vsc") if h.facts["phase"] == "deployed"] == [1]
    sc = [h.lap for h in _kind(hs, "safety_car") if h.facts["phase"] == "deployed"]
    assert sc == [3, 26]
    assert all(h.priority is Priority.CRITICAL for h in _kind(hs, "safety_car") if h.facts["phase"] == "deployed")
    assert len([h for h in _kind(hs, "restart") if h.facts["after"] == "safety car"]) == 2
    leaders = [(h.lap, h.facts["leader"]) for h in _kind(hs, "lead_change")]
    on_track = [(h.lap, h.facts["leader"], h.facts["previous_leader"])
                for h in _kind(hs, "lead_change") if h.facts["cause"] == "on track"]
    assert ("VER", "LEC") in {(new, old) for _, new, old in on_track}  # Verstappen's winning pass
    assert {name for _, name in leaders} >= {"LEC", "PER", "VER"}
    assert leaders[-1][1] == "VER"
    assert "NOR" in {h.facts["driver"] for h in _kind(hs, "retirement")}  # Norris' crash on lap 2
    assert _kind(hs, "penalty") and "VER" in {d for h in _kind(hs, "penalty") for d in h.drivers}
    assert _kind(hs, "result")[0].facts["podium"] == ["VER", "LEC", "PER"]
    _assert_no_pit_cycle_passes(shared_engine, sid, hs)


def test_monaco_qualifying(shared_engine: Engine) -> None:
    _sid, hs = _run(shared_engine, "Monaco", "Q")
    pole = _kind(hs, "pole")[0]
    assert pole.facts["driver"] == "VER" and pole.facts["second"] == "ALO"
    q1 = next(h for h in _kind(hs, "knockout") if h.facts["segment"] == "Q1")
    assert "PER" in q1.drivers  # the champion's team mate out in Q1
    assert "PER" in {h.facts["driver"] for h in _kind(hs, "quali_surprise")}
    assert _kind(hs, "red_flag")
    assert not _kind(hs, "overtake") and not _kind(hs, "lead_change")
    # Qualifying stories belong to the session, not to a lap: each its own message, no lap.
    from bot.prompting import Style
    from bot.pulse.commentary import Commentator
    from bot.pulse.stories import tell

    told = tell(hs, is_race=False)
    assert not any(t.window or t.story for t in told)
    text = Commentator().template_text([pole], Style())
    assert text.startswith("**Pole** — VER takes pole"), text


@pytest.mark.parametrize(("event", "session"), [("Monaco", "R"), ("Las Vegas", "R"), ("Monaco", "Q")])
def test_lap_by_lap_equals_whole_session(shared_engine: Engine, event: str, session: str) -> None:
    sid = pulse_store.find_session(shared_engine, 2023, event, session)
    feed = pulse_store.load_feed(shared_engine, sid)
    whole = detect_all(feed)
    state = None
    live: list[PulseHighlight] = []
    for n in range(1, feed.last_lap + 1):
        new, state = detect(feed.upto(n), state)
        live.extend(new)
    assert sorted(h.key for h in live) == sorted(h.key for h in whole)
    assert len(whole) == len({h.key for h in whole})
