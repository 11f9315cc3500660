"""Detection on the real Monza 2023 race, read back from a real store (load_demo)."""

from __future__ import annotations

from sqlalchemy import select

from bot.pulse.detectors import detect, detect_all
from bot.pulse.state import RaceFeed
from bot.pulse.types import Priority, PulseHighlight
from storage.db import make_engine
from storage.models import Driver, PitStop
from storage.pulse_store import find_session


def _official_stops(url: str) -> list[tuple[str, int]]:
    """(driver, in-lap) of every Monza stop in the Ergast history (timed by the FIA)."""
    eng = make_engine(url)
    try:
        sid = find_session(eng, 2023, "Monza", "R")
        with eng.connect() as conn:
            rows = conn.execute(
                select(Driver.code, PitStop.lap).join(Driver, Driver.id == PitStop.driver_id)
                .where(PitStop.session_id == sid, PitStop.duration_ms.is_not(None))
            ).all()
    finally:
        eng.dispose()
    assert rows, "the demo history should hold Monza's pit stops"
    return [(c, lap) for c, lap in rows]


def _by_kind(hs: list[PulseHighlight], kind: str) -> list[PulseHighlight]:
    return [h for h in hs if h.kind == kind]


def test_verstappen_takes_the_lead_from_sainz_on_lap_15(monza_highlights: list[PulseHighlight]) -> None:
    leads = _by_kind(monza_highlights, "lead_change")
    on_track = [h for h in leads if h.facts["cause"] == "on track"]
    first = on_track[0]
    assert (first.lap, first.facts["leader"], first.facts["previous_leader"]) == (15, "VER", "SAI")
    assert first.priority is Priority.CRITICAL
    assert first.key == "lead_change:15:VER"
    # No lead change before lap 15: Sainz led from pole.
    assert all(h.lap >= 15 for h in leads)


def test_final_fastest_lap_is_piastri_on_lap_43(monza_highlights: list[PulseHighlight]) -> None:
    fl = _by_kind(monza_highlights, "fastest_lap")
    assert len(fl) >= 2
    times = [h.facts["lap_time_ms"] for h in fl]
    assert times == sorted(times, reverse=True)  # each one beats the last
    last = fl[-1]
    assert (last.facts["driver"], last.lap, last.facts["lap_time_ms"]) == ("PIA", 43, 85072)
    result = _by_kind(monza_highlights, "result")[0]
    assert result.facts["fastest_lap"] == {"driver": "PIA", "lap": 43, "lap_time_ms": 85072}


def test_leaders_pit_stops(monza_highlights: list[PulseHighlight]) -> None:
    stops = {(h.facts["driver"], h.facts["stop"]): h for h in _by_kind(monza_highlights, "pit_stop")}
    ver = stops[("VER", 1)]
    assert ver.lap == 20 and ver.facts["compound_before"] == "MEDIUM"
    assert ver.facts["compound_after"] == "HARD" and ver.facts["position_before"] == 1
    assert ver.priority is Priority.HIGH
    assert stops[("SAI", 1)].lap == 19 and stops[("SAI", 1)].facts["position_before"] == 2
    assert stops[("LEC", 1)].lap == 20
    assert stops[("PER", 1)].lap == 21
    assert ("VER", 2) not in stops  # one-stop race for the winner


def test_pit_stops_agree_with_the_official_pit_stop_list(demo_url: str,
                                                        monza_highlights: list[PulseHighlight]) -> None:
    """Every stop detected from timing is in the Ergast list (history import) on the same lap."""
    official = set(_official_stops(demo_url))
    detected = {(h.facts["driver"], h.lap) for h in _by_kind(monza_highlights, "pit_stop")}
    assert detected and detected <= official


def test_overtakes_are_never_pit_cycle_moves(demo_url: str, monza_highlights: list[PulseHighlight]) -> None:
    stop_laps: dict[str, set[int]] = {}
    for code, lap in _official_stops(demo_url):
        stop_laps.setdefault(code, set()).update({lap, lap + 1})  # in-lap and out-lap
    passes = _by_kind(monza_highlights, "overtake")
    assert len(passes) >= 10
    for h in passes:
        for d in h.drivers:
            assert h.lap not in stop_laps.get(d, set()), h


def test_result_and_championship_effect(monza_highlights: list[PulseHighlight]) -> None:
    result = _by_kind(monza_highlights, "result")[0]
    assert result.facts["winner"] == "VER" and result.facts["winner_grid"] == 2
    assert result.facts["podium"] == ["VER", "PER", "SAI"]
    assert {r["driver"] for r in result.facts["not_classified"]} == {"OCO", "TSU"}
    champ = _by_kind(monza_highlights, "championship")[0]
    f = champ.facts
    assert (f["leader"], f["leader_points"], f["second"], f["second_points"]) == ("VER", 364.0, "PER", 219.0)
    assert f["gap"] == 145.0 and f["new_leader"] is False and f["clinched"] is False
    assert {"driver": "VER", "gained": 25.0, "total": 364.0} in f["points_gained"]
    # 8 rounds left (3 with sprints): 8 * 26 + 3 * 8 = 232 points still available.
    assert f["rounds_remaining"] == 8 and f["max_points_remaining"] == 232.0
    assert f["can_still_win"][:2] == ["VER", "PER"]
    assert all(s in f["can_still_win"] for s in ("VER", "PER"))


def test_retirements_and_events(monza_highlights: list[PulseHighlight]) -> None:
    ret = {h.facts["driver"]: h for h in _by_kind(monza_highlights, "retirement")}
    assert set(ret) == {"OCO", "TSU"}  # lapped cars finishing a lap down are NOT retirements
    assert ret["TSU"].facts["laps_completed"] == 0
    assert ret["OCO"].facts["laps_completed"] == 39
    pens = _by_kind(monza_highlights, "penalty")
    assert {d for h in pens for d in h.drivers} == {"RUS", "HAM", "SAR"}
    assert not _by_kind(monza_highlights, "safety_car")  # a green race
    assert not [h for h in _by_kind(monza_highlights, "weather") if h.facts.get("rainfall")]


def test_keys_are_unique_and_lap_by_lap_equals_whole_race(monza_feed: RaceFeed,
                                                         monza_highlights: list[PulseHighlight]) -> None:
    keys = [h.key for h in monza_highlights]
    assert len(keys) == len(set(keys))
    state = None
    live: list[PulseHighlight] = []
    for n in range(1, monza_feed.last_lap + 1):
        new, state = detect(monza_feed.upto(n), state)
        live.extend(new)
        # Nothing is told before its lap has been completed.
        assert all(h.lap <= n for h in new)
    assert [h.key for h in live] == keys
    assert [h.facts for h in live] == [h.facts for h in monza_highlights]
    # Re-running on the same feed with the final state adds nothing.
    again, _ = detect(monza_feed, state)
    assert again == []
    assert detect_all(monza_feed) == monza_highlights
