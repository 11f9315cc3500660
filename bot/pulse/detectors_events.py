"""Detectors over timed events: track status, race control, weather.

Each event is handled once (its seq / time is remembered in the state) and
belongs to a lap: race-control messages carry one, timed events get the lap
the leader was on (see `detectors._LapClock`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.pulse.state import RaceControlRec, RaceFeed
from bot.pulse.types import Priority

if TYPE_CHECKING:
    from bot.pulse.detectors import Emitter, PulseState

RAIN_CONFIRM_SAMPLES = 2  # ~2 minutes of rain before we call it (sensor flicker)
DRY_CONFIRM_SAMPLES = 4  # and ~4 dry minutes before we call it stopped
TRACK_TEMP_SWING_C = 6.0

_CAR_RE = re.compile(r"\b(\d{1,2}) \(([A-Z]{3})\)")


def events_upto(
    feed: RaceFeed,
    state: PulseState,
    em: Emitter,
    n: int,
    lap_of: Callable[[int | None], int | None],
) -> None:
    _track_status(feed, state, em, n, lap_of)
    _race_control(feed, state, em, n)
    _weather(feed, state, em, n, lap_of)


def _track_status(
    feed: RaceFeed, state: PulseState, em: Emitter, n: int, lap_of: Callable[[int | None], int | None]
) -> None:
    for ts in feed.track_status:
        if ts.seq in state.ts_seen:
            continue
        lap = lap_of(ts.time_ms)
        if lap is None or lap > n:
            continue
        state.ts_seen.add(ts.seq)
        status, mode = ts.status, state.track_mode
        # A neutralisation is one story: deployed, then updated (edited) until green again.
        if status in ("4", "6", "5") and mode == "green":
            state.neutral_story = f"neutral:{ts.seq}"
            state.neutral_stops = []
        story = state.neutral_story
        if status == "4":
            state.track_mode = "sc"
            em.emit(f"safety_car:{ts.seq}", "safety_car", lap, Priority.CRITICAL, (),
                    phase="deployed", session_time_ms=ts.time_ms, story=story)
        elif status == "6":
            state.track_mode = "vsc"
            em.emit(f"vsc:{ts.seq}", "vsc", lap, Priority.HIGH, (),
                    phase="deployed", session_time_ms=ts.time_ms, story=story)
        elif status == "7":
            state.track_mode = "vsc_ending"
            em.emit(f"vsc:{ts.seq}", "vsc", lap, Priority.LOW, (),
                    phase="ending", session_time_ms=ts.time_ms, story=story)
        elif status == "5":
            state.track_mode = "red"
            em.emit(f"red_flag:{ts.seq}", "red_flag", lap, Priority.CRITICAL, (),
                    session_time_ms=ts.time_ms, story=story)
        elif status == "1" and mode in ("sc", "vsc", "vsc_ending", "red"):
            state.track_mode = "green"
            after = {"sc": "safety car", "vsc": "virtual safety car",
                     "vsc_ending": "virtual safety car", "red": "red flag"}[mode]
            # Who took a cheap stop under it (their pit-stop stories say so too).
            em.emit(f"restart:{ts.seq}", "restart", lap, Priority.HIGH, (),
                    after=after, session_time_ms=ts.time_ms, story=story,
                    cheap_stops=list(dict.fromkeys(state.neutral_stops)))
            state.last_neutral_story = state.neutral_story
            state.neutral_story, state.neutral_stops = None, []


def _drivers_in(message: str) -> list[str]:
    return [code for _num, code in _CAR_RE.findall(message)]


def _rc_by_lap(feed: RaceFeed) -> dict[int, list[RaceControlRec]]:
    """Messages bucketed by the lap they belong to (cached on the feed, like `by_lap`):
    a lap's walk reads its own bucket instead of every message of the race."""
    idx = feed.__dict__.get("_pulse_rc")
    if idx is None:
        idx = {}
        for m in feed.race_control:
            idx.setdefault(max(m.lap or 1, 1) if feed.info.is_race else 0, []).append(m)
        feed.__dict__["_pulse_rc"] = idx
    return idx  # type: ignore[no-any-return]


def _race_control(feed: RaceFeed, state: PulseState, em: Emitter, n: int) -> None:
    buckets = _rc_by_lap(feed)
    # Walking on to the next lap reads that lap's bucket; any other call (the first lap, the
    # sweep at the end of each run) reads every bucket up to n, so a message that arrived
    # late for a lap an earlier live run had already walked still counts.
    laps = [n] if n == state.rc_swept + 1 and n > 1 else sorted(k for k in buckets if k <= n)
    state.rc_swept = max(state.rc_swept, n)
    for m in (m for k in laps for m in buckets.get(k, ())):
        if m.seq in state.rc_seen:
            continue
        lap = max(m.lap or 1, 1) if feed.info.is_race else 0
        if lap > n:
            continue
        state.rc_seen.add(m.seq)
        text = m.message.upper()
        drivers = _drivers_in(m.message)
        base = {"message": m.message}
        if _decided_penalty(text):
            em.emit(f"rc:{m.seq}", "penalty", lap,
                    Priority.CRITICAL if "DISQUALIFIED" in text else Priority.HIGH, drivers,
                    **base, penalty=_penalty_kind(text))
        elif "UNDER INVESTIGATION" in text or "WILL BE INVESTIGATED" in text:
            em.emit(f"rc:{m.seq}", "investigation", lap, Priority.MEDIUM, drivers, **base,
                    outcome="under investigation")
        elif "NO FURTHER ACTION" in text or "NO FURTHER INVESTIGATION" in text:
            em.emit(f"rc:{m.seq}", "investigation", lap, Priority.LOW, drivers, **base,
                    outcome="no further action")
        elif m.category == "SafetyCar" and "IN THIS LAP" in text:
            em.emit(f"rc:{m.seq}", "safety_car", lap, Priority.MEDIUM, (), **base,
                    phase="in this lap", story=state.neutral_story or state.last_neutral_story)
        elif "RESUME" in text or "RESUMPTION" in text:
            em.emit(f"rc:{m.seq}", "restart", lap, Priority.MEDIUM, (), **base,
                    after="red flag", story=state.neutral_story or state.last_neutral_story)


# A decided penalty names its size and the car ("5 SECOND TIME PENALTY FOR CAR 44 (HAM)");
# "NOTED", "UNDER INVESTIGATION", "SERVED", "NO FURTHER ACTION" are not penalties, even
# when the word PENALTY is in them ("... NOTED - SERVING PENALTY INCORRECTLY").
_DECIDED_RE = re.compile(
    r"\b(?:\d+ SECOND (?:TIME |STOP/GO |STOP AND GO )?PENALTY|DRIVE[ -]THROUGH PENALTY"
    r"|STOP(?:/| AND )GO PENALTY|\d+ PLACE GRID PENALTY|GRID PENALTY) FOR\b"
)
_NOT_DECIDED = ("NOTED", "UNDER INVESTIGATION", "WILL BE INVESTIGATED", "SERVED", "NO FURTHER",
                "REVIEWED", "CANCELLED", "RESCINDED")


def _decided_penalty(text: str) -> bool:
    if any(w in text for w in _NOT_DECIDED):
        return False
    return "DISQUALIFIED" in text or bool(_DECIDED_RE.search(text))


def _penalty_kind(text: str) -> str:
    """The penalty with its size: "5 second time penalty", "10 second stop and go", ..."""
    if "DISQUALIFIED" in text:
        return "disqualified"
    m = re.search(r"(\d+) SECOND (TIME |STOP/GO |STOP AND GO )?PENALTY", text)
    if m:
        what = (m.group(2) or "TIME ").strip().replace("STOP/GO", "STOP AND GO").lower()
        return f"{m.group(1)} second {what} penalty"
    m = re.search(r"(\d+) PLACE GRID PENALTY", text)
    if m:
        return f"{m.group(1)} place grid penalty"
    for phrase in ("DRIVE THROUGH", "DRIVE-THROUGH", "STOP AND GO", "STOP/GO", "GRID PENALTY"):
        if phrase in text:
            return phrase.lower().replace("/", " and ").replace("-", " ")
    return "penalty"


def _weather(
    feed: RaceFeed, state: PulseState, em: Emitter, n: int, lap_of: Callable[[int | None], int | None]
) -> None:
    for w in feed.weather:
        if w.time_ms <= state.weather_seen_ms:
            continue
        lap = lap_of(w.time_ms)
        if lap is None or lap > n:
            break  # samples are in time order: the rest are later still
        state.weather_seen_ms = w.time_ms
        if w.track_temp is not None:
            if state.temp_ref is None:
                state.temp_ref = w.track_temp
            elif abs(w.track_temp - state.temp_ref) >= TRACK_TEMP_SWING_C:
                em.emit(f"weather:track_temp:{w.time_ms}", "weather", lap, Priority.LOW, (),
                        change="track temperature", track_temp_from=state.temp_ref,
                        track_temp_to=w.track_temp, air_temp=w.air_temp)
                state.temp_ref = w.track_temp
        if w.rainfall is None:
            continue
        if state.rain is None:
            state.rain = w.rainfall
            if w.rainfall:
                em.emit(f"weather:wet:{w.time_ms}", "weather", lap, Priority.HIGH, (),
                        change="wet from the start", rainfall=True, track_temp=w.track_temp)
            continue
        if w.rainfall == state.rain:
            state.rain_change_count = 0
            continue
        if state.rain_change_count == 0:
            state.rain_change_lap, state.rain_change_ms = lap, w.time_ms
        state.rain_change_count += 1
        need = RAIN_CONFIRM_SAMPLES if w.rainfall else DRY_CONFIRM_SAMPLES
        if state.rain_change_count >= need:
            state.rain = w.rainfall
            state.rain_change_count = 0
            kind = "rain_start" if w.rainfall else "rain_stop"
            em.emit(
                f"weather:{kind}:{state.rain_change_ms}", "weather", state.rain_change_lap,
                Priority.HIGH if w.rainfall else Priority.MEDIUM, (),
                change="rain started" if w.rainfall else "rain stopped", rainfall=w.rainfall,
                track_temp=w.track_temp, air_temp=w.air_temp,
            )
