"""Track Pulse detection: pure functions over (race feed, previous state).

`detect(feed, prev)` walks every lap the feed has completed since `prev`,
one lap at a time, and returns the new highlights plus the new state. A
whole-race run is `detect(full_feed, None)`; a live run calls it after every
lap with the previous state. Both walk the same laps with the same data
(`RaceFeed.upto` is exactly what the whole run sees at lap n), so they give
the same highlights with the same keys.

Why per-pair, per-lap rules:
- A position change is an on-track pass only when neither car was on an in-
  or out-lap, the lap was not neutralised (SC / VSC / red) and the cars were
  close at the previous line crossing. Everything else is the pit cycle,
  which the pit-stop and undercut highlights tell instead.
- Timed events (track status, weather) belong to the lap during which the
  leader's clock passed them; race-control messages carry their own lap.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from bot.pulse import detectors_events, detectors_final
from bot.pulse.state import LapRec, RaceFeed
from bot.pulse.stories import DIGEST_LAPS, PHASE, window_of
from bot.pulse.types import Priority, PulseHighlight

BATTLE_GAP_MS = 1000  # "within about a second"
BATTLE_LAPS = 3  # for this many consecutive laps
BATTLE_END_GAP_MS = 2000  # a battle is over once the gap opens past this...
BATTLE_END_LAPS = 2  # ...for this many laps
BATTLE_FIRST_LAP = 4  # the field is bunched after the start: count from this lap
PASS_MAX_GAP_MS = 5000  # a "pass" from further back than this is the other car's trouble
UNDERCUT_PAIR_GAP_MS = 3500  # rivals close enough for an undercut to matter
# The rival must answer within this many laps: a 5-8 lap difference is two strategies,
# not an undercut.
UNDERCUT_WINDOW_LAPS = 4
REPAIR_STOP_LAPS = 3  # a second stop this soon after the last one is a repair, not strategy
SLOW_STOP_EXTRA_MS = 10_000  # this much over the race's typical pit-lane time: a problem stop
RETIRE_LAP_FACTOR = 1.5  # missing for this many typical laps = out of the race
RACING_LAP_FACTOR = 1.15  # a lap within 115% of the lap's median counts as racing
CRIPPLED_LAP_FACTOR = 1.15  # a car this much slower than the field is not being "passed"
CRAWL_LAP_FACTOR = 1.30  # ...nor one crawling round the next lap
SWARMED_PLACES = 3  # ...nor one losing this many places in one green lap
TIMING_GAP_MS = 30_000  # a lap whose clock span exceeds its lap time by this: laps went missing
FASTEST_LAP_FROM = 10  # a "fastest lap" before this is noise: fuel-heavy laps get beaten
NEUTRAL = frozenset("4567")  # SC, red, VSC, VSC ending digits in a lap's track status


@dataclass
class Battle:
    start_lap: int
    gaps: list[int] = field(default_factory=list)
    reported: bool = False
    apart: int = 0


@dataclass
class UndercutWatch:
    first: str  # stopped first
    rival: str
    first_in_lap: int
    first_was_ahead: bool
    gap_ms: int
    pos_first: int
    pos_rival: int


@dataclass
class PulseState:
    """Everything detection remembers between laps (plain data, copied per call)."""

    last_lap: int = 0
    emitted: set[str] = field(default_factory=set)
    fastest: tuple[int, str, int] | None = None  # (ms, driver, lap)
    close: dict[tuple[str, str], Battle] = field(default_factory=dict)
    retired: set[str] = field(default_factory=set)
    stops: dict[str, int] = field(default_factory=dict)
    undercuts: list[UndercutWatch] = field(default_factory=list)
    rc_seen: set[int] = field(default_factory=set)
    rc_swept: int = -1  # race-control buckets read up to this lap (`detectors_events`)
    ts_seen: set[int] = field(default_factory=set)
    track_mode: str = "green"
    weather_seen_ms: int = -1
    rain: bool | None = None
    rain_change_count: int = 0
    rain_change_lap: int = 0
    rain_change_ms: int = 0
    temp_ref: float | None = None
    final_done: bool = False
    last_stop_lap: dict[str, int] = field(default_factory=dict)  # driver -> in-lap of the last stop
    normal_stop: dict[str, bool] = field(default_factory=dict)  # last stop: green, not a repair
    stop_times: list[int] = field(default_factory=list)  # pit-lane ms of normal stops so far
    neutral_story: str | None = None  # the story key of the SC / VSC / red flag under way
    neutral_stops: list[str] = field(default_factory=list)  # cars that stopped under it
    last_neutral_story: str | None = None  # race control's "in this lap" may come after green


class Emitter:
    """Collects highlights; drops a key already emitted (state.emitted) so re-runs are safe."""

    def __init__(self, feed: RaceFeed, state: PulseState) -> None:
        self.feed = feed
        self.state = state
        self.out: list[PulseHighlight] = []
        self.now = 0  # the lap being walked: when a story is told (its label may be earlier)

    def emit(
        self,
        key: str,
        kind: str,
        lap: int,
        priority: Priority,
        drivers: tuple[str, ...] | list[str] = (),
        **facts: Any,
    ) -> None:
        if key in self.state.emitted:
            return
        self.state.emitted.add(key)
        facts.setdefault("lap", lap)
        if self.feed.info.is_race:
            facts.setdefault("told_lap", max(self.now, lap))
            if self.feed.info.total_laps:
                facts.setdefault("total_laps", self.feed.info.total_laps)
        facts.setdefault("event", self.feed.info.event_name)
        facts.setdefault("year", self.feed.info.year)
        self.out.append(
            PulseHighlight(
                key=key, kind=kind, lap=lap, priority=priority, drivers=tuple(drivers), facts=facts
            )
        )


def detect(feed: RaceFeed, prev: PulseState | None = None) -> tuple[list[PulseHighlight], PulseState]:
    """New highlights since `prev` (None = from the start) and the state after them."""
    state = copy.deepcopy(prev) if prev is not None else PulseState()
    em = Emitter(feed, state)
    lap_clock = _LapClock(feed)
    for n in range(state.last_lap + 1, feed.last_lap + 1):
        em.now = n
        if feed.info.is_race:
            _race_lap(feed, state, em, n, lap_clock)
        detectors_events.events_upto(feed, state, em, n, lap_clock.lap_of)
        total = feed.info.total_laps
        if feed.info.is_race and n % DIGEST_LAPS == 0 and not (total and n >= total):
            _phase(em, n)  # the digest window closes (the last one closes with the session)
        state.last_lap = n
    # Messages that arrived late for laps already walked (live feeds) still count.
    detectors_events.events_upto(feed, state, em, state.last_lap, lap_clock.lap_of)
    if feed.final and not state.final_done:
        em.now = feed.last_lap
        gap = _timing_gap_lap(feed)
        if feed.info.is_race and (gap is None or feed.last_lap < gap):
            _passes(feed, state, em, feed.last_lap, final=True)
        detectors_final.final(feed, state, em)
        if feed.info.is_race and feed.last_lap:
            _phase(em, feed.last_lap)
        state.final_done = True
    return em.out, state


def _phase(em: Emitter, n: int) -> None:
    """The marker that the digest window ending at lap n is complete (`bot.pulse.stories`)."""
    first, _last = window_of(n)
    em.emit(f"phase:{n}", PHASE, n, Priority.LOW, (), first_lap=first, last_lap=n)


def detect_all(feed: RaceFeed) -> list[PulseHighlight]:
    """Whole-session run."""
    return detect(feed, None)[0]


class _LapClock:
    """Maps a session time to the lap the leader was on (lap n ends at leader_end[n])."""

    def __init__(self, feed: RaceFeed) -> None:
        self.feed = feed
        self.ends = [(n, feed.leader_end_ms(n)) for n in sorted(feed.by_lap)]
        # "The first lap whose end is at or after t" is a bisection over the running
        # maximum of the ends (equal to the first such lap even if the ends ever dip).
        self._laps: list[int] = []
        self._reach: list[int] = []
        top = -1
        for n, end in self.ends:
            if end is not None and end > top:
                top = end
                self._laps.append(n)
                self._reach.append(end)
        self.latest: dict[int, int] = {}
        running = -1
        for n in sorted(feed.by_lap):
            running = max(running, max(r.time_ms or -1 for r in feed.by_lap[n].values()))
            self.latest[n] = running

    def lap_of(self, time_ms: int | None) -> int | None:
        """The lap an event at `time_ms` belongs to; None = not reached yet (live).

        Outside races lap numbers are per driver (a qualifying "lap 5" happens at
        any time), so events there carry lap 0: "during the session".
        """
        if not self.feed.info.is_race:
            return 0
        if time_ms is None:
            return 1
        i = bisect_left(self._reach, time_ms)
        if i < len(self._laps):
            return max(self._laps[i], 1)
        if self.feed.final and self.ends:
            return self.ends[-1][0]
        return None


def _neutral(rec: LapRec | None) -> bool:
    return bool(rec and rec.track_status and NEUTRAL & set(rec.track_status))


def _under(*recs: LapRec | None) -> str:
    """What neutralised a stop's laps: the safety car wins over a VSC, a red flag over both."""
    seen = "".join(r.track_status or "" for r in recs if r is not None)
    if "5" in seen:
        return "red flag"
    return "safety car" if "4" in seen else "virtual safety car"


def _red(rec: LapRec | None) -> bool:
    return bool(rec and rec.track_status and "5" in rec.track_status)


def _pitting(rec: LapRec | None) -> bool:
    return bool(rec and (rec.pit_in_ms is not None or rec.pit_out_ms is not None))


def _pos_priority(pos: int, top: Priority = Priority.HIGH) -> Priority:
    if pos <= 3:
        return top
    if pos <= 10:
        return Priority.MEDIUM
    return Priority.LOW


def _lap_median(feed: RaceFeed, n: int) -> float | None:
    times = [r.lap_time_ms for r in feed.by_lap.get(n, {}).values() if r.lap_time_ms]
    return median(times) if times else None


def _raw(feed: RaceFeed, driver: str, lap: int) -> LapRec | None:
    """A lap row even when the lap was never completed (an out-lap that ended in the wall)."""
    return _raw_index(feed).get((driver, lap))


def _raw_index(feed: RaceFeed) -> dict[tuple[str, int], LapRec]:
    idx = feed.__dict__.get("_pulse_raw")
    if idx is None:
        idx = {(r.driver, r.lap): r for r in feed.laps}
        feed.__dict__["_pulse_raw"] = idx  # a cache on the frozen feed, like `by_lap`
    return idx  # type: ignore[no-any-return]


def _timing_gap_lap(feed: RaceFeed) -> int | None:
    """The first lap after which the timing feed lost laps of some cars, or None.

    Seen in 2020 Austria: minutes of timing missing for 15 cars, whose lap counts then
    lag the real ones, so "lap n" positions compare cars on different laps. Positions
    from there on are not told (passes, lead changes, battles, undercuts, retirements'
    places); stops, fastest laps, flags and the official result still are.
    """
    cached = feed.__dict__.get("_pulse_gap", ...)
    if cached is not ...:
        return cached  # type: ignore[no-any-return]
    gap = None
    for r in feed.laps:  # sorted by lap
        if (r.lap_time_ms and r.lap_start_ms is not None and r.time_ms is not None
                and r.time_ms - r.lap_start_ms > r.lap_time_ms + TIMING_GAP_MS):
            gap = r.lap
            break
    feed.__dict__["_pulse_gap"] = gap
    return gap


def _race_lap(feed: RaceFeed, state: PulseState, em: Emitter, n: int, clock: _LapClock) -> None:
    cur = feed.by_lap.get(n, {})
    prev = feed.by_lap.get(n - 1, {})
    gap = _timing_gap_lap(feed)
    positions_ok = gap is None or n < gap
    if n == 1:
        _start(feed, em, cur)
    elif positions_ok:
        _lead(feed, em, n, cur, prev)
        # Passes of lap n-1 are told now: whether the passed car was crippled (slow on the
        # next lap, or gone) needs lap n. Labelled with their own lap, ordered by lap n.
        _passes(feed, state, em, n - 1)
    _pit_stops(feed, state, em, n, cur)
    if positions_ok:
        _undercuts(feed, state, em, n)
        _battles(state, em, n, cur)
    else:
        state.undercuts = []
    _fastest(feed, state, em, n, cur)
    if positions_ok:
        _retirements(feed, state, em, n, clock)


def _start(feed: RaceFeed, em: Emitter, cur: dict[str, LapRec]) -> None:
    pos = {d: r.position for d, r in cur.items() if r.position is not None}
    if not pos:
        return
    leader = min(pos, key=lambda d: pos[d])
    grid = {d: rec.grid for d, rec in feed.drivers.items() if rec.grid}
    pole = min(grid, key=lambda d: grid[d]) if grid else None
    if pole and leader != pole and grid.get(pole) == 1:
        em.emit(
            f"lead_change:1:{leader}", "lead_change", 1, Priority.CRITICAL, (leader, pole),
            leader=leader, previous_leader=pole, cause="start", position=1,
        )
    gains = sorted(
        ((grid[d] - p, d) for d, p in pos.items() if d in grid), key=lambda t: (-t[0], t[1])
    )
    movers = [
        {"driver": d, "grid": grid[d], "position": pos[d], "gained": g} for g, d in gains if g >= 3
    ][:3]
    losers = [
        {"driver": d, "grid": grid[d], "position": pos[d], "lost": -g}
        for g, d in reversed(gains)
        if g <= -3
    ][:3]
    em.emit(
        "start", "start", 1, Priority.HIGH, [leader] + [m["driver"] for m in movers],
        leader=leader, pole=pole, gainers=movers, losers=losers,
    )
    compounds: dict[str, list[str]] = {}
    for d, r in sorted(cur.items()):
        if r.compound:
            compounds.setdefault(r.compound, []).append(d)
    total = sum(len(v) for v in compounds.values())
    for comp, drivers in sorted(compounds.items()):
        if len(drivers) <= 3 and total - len(drivers) >= 0.75 * total:
            em.emit(
                f"stint:start:{comp}", "stint", 1, Priority.LOW, drivers,
                compound=comp, drivers_on_it=drivers, field_size=total, note="unusual start tyre",
            )


def _leader(recs: dict[str, LapRec]) -> str | None:
    best: tuple[int, str] | None = None
    for d, r in recs.items():
        if r.position and (best is None or (r.position, d) < best):
            best = (r.position, d)
    return best[1] if best else None


def _lead(feed: RaceFeed, em: Emitter, n: int, cur: dict[str, LapRec], prev: dict[str, LapRec]) -> None:
    """Every change of leader, including the leader dropping out (a crash, a stop on track)."""
    leader0, leader1 = _leader(prev), _leader(cur)
    if not (leader0 and leader1 and leader0 != leader1):
        return
    if leader0 not in cur:
        cause, prio = "leader out", Priority.CRITICAL
    elif _pitting(cur.get(leader0)) or _pitting(cur.get(leader1)):
        cause, prio = "pit stop", Priority.HIGH
    elif _neutral(cur.get(leader0)) or _neutral(cur.get(leader1)):
        cause, prio = "neutralised", Priority.HIGH
    else:
        cause, prio = "on track", Priority.CRITICAL
    em.emit(
        f"lead_change:{n}:{leader1}", "lead_change", n, prio, (leader1, leader0),
        leader=leader1, previous_leader=leader0, cause=cause, position=1,
    )


def _crippled(feed: RaceFeed, d: str, n: int, *, final: bool) -> bool:
    """The car was slow on lap n, dived into the pits at its end, or is gone / crawling on n+1."""
    rec = feed.by_lap.get(n, {}).get(d)
    ref = _lap_median(feed, n)
    if rec is None or rec.pit_in_ms is not None:
        return True
    if ref and rec.lap_time_ms and rec.lap_time_ms > CRIPPLED_LAP_FACTOR * ref:
        return True
    before = feed.by_lap.get(n - 1, {}).get(d)
    if before and before.position and rec.position and rec.position - before.position >= SWARMED_PLACES:
        return True  # swamped by several cars in one green lap: damage, not a fair pass
    if final and n >= feed.last_lap:
        return False  # the chequered flag: there is no next lap to look at
    nxt = feed.by_lap.get(n + 1, {}).get(d)
    if nxt is None:
        return True
    ref1 = _lap_median(feed, n + 1)
    return bool(ref1 and nxt.lap_time_ms and nxt.lap_time_ms > CRAWL_LAP_FACTOR * ref1
                and not _neutral(nxt) and nxt.pit_in_ms is None)


def _passes(feed: RaceFeed, state: PulseState, em: Emitter, n: int, *, final: bool = False) -> None:
    """On-track passes during lap n (told when lap n+1 is known; see `_race_lap`)."""
    if n < 2:
        return
    cur, prev = feed.by_lap.get(n, {}), feed.by_lap.get(n - 1, {})
    both = [d for d in cur if d in prev and cur[d].position and prev[d].position]
    p0 = {d: prev[d].position for d in both}
    p1 = {d: cur[d].position for d in both}
    leader0, leader1 = _leader(prev), _leader(cur)
    gainers = [d for d in both if p1[d] < p0[d]]  # type: ignore[operator]
    for a in sorted(gainers, key=lambda d: p1[d]):  # type: ignore[arg-type, return-value]
        for b in both:
            if not (p0[a] > p0[b] and p1[a] < p1[b]):  # type: ignore[operator]
                continue
            pit = _pitting(cur[a]) or _pitting(cur[b])
            neutral = _neutral(cur[a]) or _neutral(cur[b])
            gap = (prev[a].time_ms or 0) - (prev[b].time_ms or 0)
            if pit or neutral or gap > PASS_MAX_GAP_MS:
                continue
            if b == leader0 and a == leader1:
                continue  # told by the lead-change highlight
            crippled = _crippled(feed, b, n, final=final)
            em.emit(
                f"overtake:{n}:{a}:{b}", "overtake", n,
                Priority.LOW if crippled else _pos_priority(p1[a]),  # type: ignore[arg-type]
                (a, b), driver=a, passed=b, position=p1[a], gap_before_ms=gap, crippled=crippled,
            )


def _pit_stops(feed: RaceFeed, state: PulseState, em: Emitter, n: int, cur: dict[str, LapRec]) -> None:
    """Stops whose in-lap was lap n-1: told now, whether or not the out-lap is ever completed.

    A car that came in and never left is a retirement in the pits, not a stop.
    """
    inl = feed.by_lap.get(n - 1, {})
    before = feed.by_lap.get(n - 2, {})
    for d in sorted(inl):
        ins = inl[d]
        if ins.pit_in_ms is None:
            continue
        out = cur.get(d) or _raw(feed, d, n)
        if out is None or out.pit_out_ms is None:
            continue
        completed = d in cur
        stop = state.stops.get(d, 0) + 1
        state.stops[d] = stop
        pos_before = before[d].position if d in before else feed.drivers.get(d, _NoGrid).grid
        pit_lane = out.pit_out_ms - ins.pit_in_ms
        red = _red(ins) or _red(out)
        neutral = _neutral(ins) or _neutral(out)
        last = state.last_stop_lap.get(d)
        typical = median(state.stop_times) if len(state.stop_times) >= 3 else None
        repair = bool(
            (last is not None and n - 1 - last <= REPAIR_STOP_LAPS)
            or (typical is not None and pit_lane > typical + SLOW_STOP_EXTRA_MS)
            or n - 1 <= 1  # back in at the end of the opening lap: damage, not strategy
        )
        state.last_stop_lap[d] = n - 1
        state.normal_stop[d] = not (red or neutral or repair)
        if state.normal_stop[d]:
            state.stop_times.append(pit_lane)
        if neutral and not red and state.neutral_story:
            state.neutral_stops.append(d)
        facts: dict[str, Any] = {
            "driver": d,
            "stop": stop,
            "in_lap": n - 1,
            "compound_before": ins.compound,
            "compound_after": out.compound if completed else None,
            "pit_lane_ms": pit_lane,
            "completed": completed,
            "position_before": pos_before,
            "position_after": out.position if completed else None,
            "under_neutralisation": neutral,
            "under": _under(ins, out) if neutral else None,
            "red_flag": red,
            "repair": repair,
        }
        prio = _pos_priority(pos_before or 99)
        if red:
            prio = Priority.LOW  # everyone changes tyres under the red flag: one line in a digest
        em.emit(f"pit_stop:{d}:{stop}", "pit_stop", n - 1, prio, (d,), **facts)
        if completed and not (red or neutral or repair):
            _watch_undercut(feed, state, d, n, before)


class _NoGrid:
    grid = None


def _watch_undercut(
    feed: RaceFeed, state: PulseState, d: str, n: int, before: dict[str, LapRec]
) -> None:
    """`d` just completed a normal stop (in-lap n-1): note the adjacent rivals it may undercut.

    Only rivals on the same stop count: a car answering the rival's earlier stop is not
    undercutting it.
    """
    me = before.get(d)
    if me is None or me.position is None or me.time_ms is None:
        return
    inl = feed.by_lap.get(n - 1, {})
    for other in before.values():
        if other.driver == d or other.position is None or other.time_ms is None:
            continue
        if abs(other.position - me.position) != 1 or abs(other.time_ms - me.time_ms) > UNDERCUT_PAIR_GAP_MS:
            continue
        rival_in = inl.get(other.driver)
        if rival_in is not None and rival_in.pit_in_ms is not None:
            continue  # stopped on the same lap: no undercut
        if state.stops.get(other.driver, 0) != state.stops[d] - 1:
            continue  # the rival has already made this stop: d is answering, not attacking
        if min(me.position, other.position) > 10:
            continue
        state.undercuts.append(
            UndercutWatch(
                first=d, rival=other.driver, first_in_lap=n - 1,
                first_was_ahead=me.position < other.position,
                gap_ms=abs(other.time_ms - me.time_ms), pos_first=me.position,
                pos_rival=other.position,
            )
        )


def _undercuts(feed: RaceFeed, state: PulseState, em: Emitter, n: int) -> None:
    cur = feed.by_lap.get(n, {})
    inl = feed.by_lap.get(n - 1, {})
    keep: list[UndercutWatch] = []
    for w in state.undercuts:
        rival_out = cur.get(w.rival)
        rival_in = inl.get(w.rival)
        answered = (
            rival_out is not None and rival_out.pit_out_ms is not None
            and rival_in is not None and rival_in.pit_in_ms is not None
            and n - 1 > w.first_in_lap
        )
        if not answered:
            if n - w.first_in_lap <= UNDERCUT_WINDOW_LAPS and w.rival not in state.retired:
                keep.append(w)
            continue
        if n - 1 - w.first_in_lap > UNDERCUT_WINDOW_LAPS:
            continue
        # A reply under SC / VSC / red, or a repair stop, is not a strategy duel: the
        # pit-stop story says "cheap stop under the safety car" instead.
        if not state.normal_stop.get(w.rival, False):
            continue
        me = cur.get(w.first)
        if me is None or me.position is None or rival_out is None or rival_out.position is None:
            continue
        first_ahead_now = me.position < rival_out.position
        if not w.first_was_ahead:
            move, winner = "undercut", (w.first if first_ahead_now else w.rival)
            worked = first_ahead_now
        else:
            move, winner = "overcut", (w.rival if not first_ahead_now else w.first)
            worked = not first_ahead_now
        em.emit(
            f"undercut:{w.first}:{w.rival}:{w.first_in_lap}", "undercut", n,
            _pos_priority(min(w.pos_first, w.pos_rival)), (w.first, w.rival),
            move=move, worked=worked, attacker=(w.first if move == "undercut" else w.rival),
            defender=(w.rival if move == "undercut" else w.first), winner=winner,
            first_stopper=w.first, rival=w.rival, first_stop_lap=w.first_in_lap,
            rival_stop_lap=n - 1,
            gap_before_ms=w.gap_ms, positions_before={w.first: w.pos_first, w.rival: w.pos_rival},
            positions_after={w.first: me.position, w.rival: rival_out.position},
        )
    state.undercuts = keep
def _battles(state: PulseState, em: Emitter, n: int, cur: dict[str, LapRec]) -> None:
    order = sorted((r for r in cur.values() if r.position), key=lambda r: r.position)  # type: ignore[arg-type, return-value]
    pairs_now: set[tuple[str, str]] = set()
    for ahead, behind in zip(order, order[1:], strict=False):
        pair = (ahead.driver, behind.driver)
        valid = not (
            _pitting(ahead) or _pitting(behind) or _neutral(ahead) or _neutral(behind)
            or ahead.time_ms is None or behind.time_ms is None or n < BATTLE_FIRST_LAP
        )
        if not valid:
            continue
        pairs_now.add(pair)
        gap = behind.time_ms - ahead.time_ms  # type: ignore[operator]
        b = state.close.get(pair)
        if gap <= BATTLE_GAP_MS:
            if b is None:
                b = state.close[pair] = Battle(start_lap=n)
            b.gaps.append(gap)
            b.apart = 0
            if not b.reported and len(b.gaps) >= BATTLE_LAPS:
                b.reported = True
                recent = b.gaps[-BATTLE_LAPS:]
                closing = recent[-1] < recent[0]
                em.emit(
                    f"battle:{pair[0]}:{pair[1]}:{b.start_lap}", "battle", n,
                    _pos_priority(ahead.position or 99), (behind.driver, ahead.driver),
                    ahead=ahead.driver, behind=behind.driver, position=ahead.position,
                    gap_ms=gap, gaps_ms=recent, laps_close=len(b.gaps),
                    closing=closing, trend_ms_per_lap=round((recent[-1] - recent[0]) / (len(recent) - 1)),
                    story="battle:" + ":".join(sorted(pair)),
                )
        elif b is not None:
            if not b.reported:
                del state.close[pair]
            elif gap > BATTLE_END_GAP_MS:
                b.apart += 1
                if b.apart >= BATTLE_END_LAPS:
                    del state.close[pair]
    # A pair that is no longer nose to tail (a pass, a stop) starts afresh next time.
    for pair in [p for p in state.close if p not in pairs_now]:
        ahead_rec, behind_rec = cur.get(pair[0]), cur.get(pair[1])
        if ahead_rec is None or behind_rec is None or not (_pitting(ahead_rec) or _pitting(behind_rec) or _neutral(ahead_rec)):
            del state.close[pair]


def _fastest(feed: RaceFeed, state: PulseState, em: Emitter, n: int, cur: dict[str, LapRec]) -> None:
    """One evolving story: told from lap FASTEST_LAP_FROM on, never for a lap behind SC / VSC.

    Earlier and neutralised bests still count as the time to beat (they were set), they are
    just not worth a message.
    """
    if n < 2:
        return
    cands = [
        r for r in cur.values()
        if r.lap_time_ms and not r.deleted and not _pitting(r)
    ]
    if not cands:
        return
    best = min(cands, key=lambda r: (r.lap_time_ms, r.time_ms or 0, r.driver))
    assert best.lap_time_ms is not None
    if state.fastest is not None and best.lap_time_ms >= state.fastest[0]:
        return
    previous = state.fastest
    state.fastest = (best.lap_time_ms, best.driver, n)
    if n < FASTEST_LAP_FROM or _neutral(best):
        return
    total = feed.info.total_laps
    late = bool(total and n >= 0.75 * total)
    em.emit(
        f"fastest_lap:{best.driver}:{n}", "fastest_lap", n,
        Priority.MEDIUM if late else Priority.LOW, (best.driver,),
        driver=best.driver, lap_time_ms=best.lap_time_ms, compound=best.compound,
        previous_ms=previous[0] if previous else None,
        previous_driver=previous[1] if previous else None, story="fastest_lap",
    )


def _last_racing(feed: RaceFeed, d: str, last: LapRec | None) -> LapRec | None:
    """The car's last lap at racing speed: its position there is where it was running,
    not where the crawl back to the pits left it."""
    if last is None:
        return None
    for k in range(last.lap, 0, -1):
        rec = feed.by_lap.get(k, {}).get(d)
        ref = _lap_median(feed, k)
        if rec is not None and rec.lap_time_ms and ref and rec.lap_time_ms <= RACING_LAP_FACTOR * ref:
            return rec
    return last


def _last_lap_of(feed: RaceFeed, d: str, before: int) -> LapRec | None:
    for k in range(before - 1, 0, -1):
        rec = feed.by_lap.get(k, {}).get(d)
        if rec is not None:
            return rec
    return None


def retirement(feed: RaceFeed, state: PulseState, em: Emitter, d: str, last: LapRec | None,
               *, reason: str | None = None, did_not_start: bool = False) -> None:
    """Emit one retirement (live detection and the official classification share it)."""
    state.retired.add(d)
    laps_done = last.lap if last else 0
    running = _last_racing(feed, d, last)
    pos = running.position if running else None
    if pos is None and not did_not_start:
        pos = (feed.drivers[d].grid if d in feed.drivers else None) or None  # 0 = pit lane
    gap = _timing_gap_lap(feed)
    rank = pos
    if gap is not None and laps_done >= gap:
        # Positions after a timing gap compare different laps: say none, but rank the story
        # by where the car ran before the gap.
        pos = None
        early = [r for k in range(1, gap) if (r := feed.by_lap.get(k, {}).get(d)) and r.position]
        rank = early[-1].position if early else None
    nxt = _raw(feed, d, laps_done + 1) if last else None
    # Last seen in the pit lane: the in-lap was its last lap and it never drove out.
    in_pits = bool(last and last.pit_in_ms is not None and (nxt is None or nxt.pit_out_ms is None))
    prio = Priority.LOW if did_not_start else _pos_priority(rank or 99)
    em.emit(
        f"retirement:{d}", "retirement", laps_done + 1, prio, (d,),
        driver=d, laps_completed=laps_done, last_position=pos, in_pits=in_pits,
        team=feed.drivers[d].team if d in feed.drivers else None, reason=reason,
        did_not_start=did_not_start,
    )


def _retirements(feed: RaceFeed, state: PulseState, em: Emitter, n: int, clock: _LapClock) -> None:
    cur = feed.by_lap.get(n, {})
    times = [r.lap_time_ms for r in cur.values() if r.lap_time_ms]
    if not times:
        return
    ref = median(times)
    latest = clock.latest.get(n, -1)
    for d in sorted(feed.drivers):
        if d in cur or d in state.retired:
            continue
        last = _last_lap_of(feed, d, n)
        last_end = last.time_ms if last else (feed.leader_end_ms(1) or 0) - ref
        if last_end is None or last_end + RETIRE_LAP_FACTOR * ref >= latest:
            continue  # still running, just behind (lapped) or the feed is early
        retirement(feed, state, em, d, last)
