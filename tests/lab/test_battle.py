"""Battle forecast: a pure function of the two cars' laps up to a lap."""

from __future__ import annotations

from bot.lab import CircuitParams, LapRecord, RaceData, battle_forecast


def _laps(delta: float, *, gap0: float = 2.5, laps: int = 12) -> list[LapRecord]:
    """Leader on 1:30.0 laps; the chaser `delta` s a lap quicker, `gap0` s behind at lap 1."""
    out, t_lead, t_chase = [], 0.0, gap0
    for n in range(1, laps + 1):
        t_lead += 90.0
        t_chase += 90.0 - delta
        out.append(LapRecord("LEA", n, 90.0, "MEDIUM", 5 + n, 1, time_s=t_lead, position=1,
                             track_status="1"))
        out.append(LapRecord("CHA", n, 90.0 - delta, "MEDIUM", 5 + n, 1, time_s=t_chase,
                             position=2, track_status="1"))
    return out


def test_probabilities_monotone_in_the_pace_gap() -> None:
    p5, p10 = [], []
    for delta in (-0.5, 0.0, 0.1, 0.2, 0.4, 0.8):
        f = battle_forecast(_laps(delta), chaser="CHA", leader="LEA", lap=6,
                            model_or_circuit_params=CircuitParams())
        assert 0.0 <= f.p_pass_5 <= f.p_pass_10 <= 1.0
        assert f"{f.p_pass_5:.0%}" in f.line
        p5.append(f.p_pass_5)
        p10.append(f.p_pass_10)
    assert p5 == sorted(p5) and p10 == sorted(p10)
    assert p10[-1] > p10[0]


def test_uses_laps_up_to_the_lap_only() -> None:
    laps = _laps(0.3)
    cut = [r for r in laps if r.lap <= 6]
    later = laps + [LapRecord("CHA", 7, 200.0, "MEDIUM", 12, 1, time_s=1e4, position=2)]
    a = battle_forecast(cut, chaser="CHA", leader="LEA", lap=6)
    b = battle_forecast(later, chaser="CHA", leader="LEA", lap=6)
    assert a == b


def test_gap_and_drs_from_the_laps() -> None:
    f = battle_forecast(_laps(0.5, gap0=4.0), chaser="CHA", leader="LEA", lap=2)
    assert abs(f.gap_s - 3.0) < 1e-6
    assert f.laps_to_drs is not None and f.laps_to_drs >= 1
    slower = battle_forecast(_laps(-0.5, gap0=4.0), chaser="CHA", leader="LEA", lap=4)
    assert slower.laps_to_drs is None and "slower" in slower.line
    # Same pace: said as such, never "0.0 s a lap slower" (which reads as a contradiction).
    even = battle_forecast(_laps(0.0, gap0=1.5), chaser="CHA", leader="LEA", lap=4)
    assert abs(even.pace_delta_s) <= 0.05 and "on LEA's pace" in even.line and "0.0 s" not in even.line


def test_on_a_real_race(monza_data: RaceData, monza_model) -> None:  # type: ignore[no-untyped-def]
    two = [r for r in monza_data.laps if r.code in ("LEC", "SAI")]
    f = battle_forecast(two, chaser="LEC", leader="SAI", lap=40,
                        model_or_circuit_params=monza_model)
    # The gap is the two cars' line-crossing times at lap 40, read from the laps.
    t = {r.code: r.time_s for r in two if r.lap == 40}
    assert abs(f.gap_s - max(0.0, t["LEC"] - t["SAI"])) < 1e-9
    assert f.confidence in ("low", "medium", "high")


def test_feed_laps_match_the_race_data(monza_data: RaceData, demo_url: str) -> None:
    """Two paths to the same laps: Track Pulse's feed (what the live detector holds)
    converted by `from_feed`, and `race_data`."""
    from bot.lab.battle import from_feed
    from storage import pulse_store
    from storage.db import make_engine

    engine = make_engine(demo_url)
    try:
        feed = pulse_store.load_feed(engine, pulse_store.find_session(engine, 2023, 14, "R"))
    finally:
        engine.dispose()
    got = sorted(from_feed(feed.laps, ("LEC", "SAI")), key=lambda r: (r.code, r.lap))
    want = sorted((r for r in monza_data.laps if r.code in ("LEC", "SAI")),
                  key=lambda r: (r.code, r.lap))
    assert got == want
