"""Ground truth for the Track Pulse truth audit (issue 18), from raw data only.

Written independently of the detectors: nothing here imports `bot.*` or `storage.*`.
The raw sources are FastF1's own loader over the shared timing cache (laps, track status,
race-control messages) and the Ergast CSV set (official classification, status, standings,
calendar). `RaceTruth` holds one race's raw facts; each `check_<kind>` takes one highlight
(as a plain dict: kind, lap, priority, drivers, facts) and returns the broken rules as
readable strings, each with the highlight and the raw evidence. `presence` lists the raw
events that must have a highlight at the default floor (priority >= MEDIUM).
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NEUTRAL = frozenset("4567")  # SC, red, VSC, VSC ending: the field is not racing
CRIPPLED_FACTOR = 1.15  # a lap slower than 115 % of the lap's median is not a racing lap
PIT_LANE_TOL_MS = 1000
UNDERCUT_MAX_LAPS = 4
UNDERCUT_PAIR_GAP_MS = 3500
REPAIR_STOP_LAPS = 3
TIMING_GAP_MS = 5000  # a lap that ends this much later than its start + lap time: laps are missing
FASTEST_LAP_FROM = 10
MEDIUM = 1  # storage.pulse_types.Priority.MEDIUM (an IntEnum); the value, not the import
LEAD_CAUSES = ("start", "on track", "pit stop", "neutralised", "leader out")
DECIDED = ("PENALTY FOR", "DISQUALIFIED", "DRIVE THROUGH", "STOP AND GO")
NOT_DECIDED = ("NOTED", "UNDER INVESTIGATION", "WILL BE INVESTIGATED", "SERVED", "NO FURTHER", "REVIEWED")
CLASSIFIED_STATUS = re.compile(r"^(Finished|\+\d+ Laps?)$")


# ------------------------------------------------------------------------- raw records


@dataclass(frozen=True)
class RawLap:
    driver: str
    lap: int
    position: int | None
    lap_time_ms: int | None
    end_ms: int | None  # session time at the line
    start_ms: int | None
    pit_in_ms: int | None
    pit_out_ms: int | None
    compound: str | None
    track_status: str
    deleted: bool

    @property
    def neutral(self) -> bool:
        return bool(NEUTRAL & set(self.track_status))

    @property
    def pitting(self) -> bool:
        return self.pit_in_ms is not None or self.pit_out_ms is not None


@dataclass(frozen=True)
class Official:
    driver: str
    grid: int | None
    position_text: str
    position_order: int
    points: float
    status: str
    laps: int

    @property
    def classified_finish(self) -> bool:
        return bool(CLASSIFIED_STATUS.match(self.status))


@dataclass
class RaceTruth:
    year: int
    round: int
    name: str
    laps: dict[tuple[str, int], RawLap]
    track_status: list[tuple[int, str]]  # (session ms, status digit), in time order
    messages: list[tuple[int | None, str]]  # (lap, text)
    official: dict[str, Official]
    standings_leader: str | None
    decided_round: int | None  # round at which the drivers' title became mathematically decided
    by_lap: dict[int, dict[str, RawLap]] = field(default_factory=dict)
    leader_end: dict[int, int] = field(default_factory=dict)
    gap_lap: int | None = None  # first lap at which some car's raw lap count skips laps

    def __post_init__(self) -> None:
        for (d, n), rec in self.laps.items():
            self.by_lap.setdefault(n, {})[d] = rec
        for (d, n), rec in self.laps.items():
            prev = self.laps.get((d, n - 1))
            if (prev and prev.end_ms is not None and rec.end_ms is not None and rec.lap_time_ms
                    and rec.end_ms - prev.end_ms > rec.lap_time_ms + TIMING_GAP_MS):
                self.gap_lap = n if self.gap_lap is None else min(self.gap_lap, n)
        for n, recs in self.by_lap.items():
            ends = [r.end_ms for r in recs.values() if r.end_ms is not None]
            if ends:
                self.leader_end[n] = min(ends)

    # -- derived raw facts --------------------------------------------------------------

    def comparable(self, n: int) -> bool:
        """Positions at lap n compare cars on the same real lap. Not so from the first raw
        timing gap on (2020 Austria: minutes of timing missing for 15 cars, whose lap counts
        then run 4 laps behind the others', so `Position` mixes real laps)."""
        return self.gap_lap is None or n < self.gap_lap

    def gap_text(self) -> str:
        return (f"raw timing gap from lap {self.gap_lap}: "
                + ", ".join(f"{d} L{n} +{(r.end_ms - self.laps[(d, n - 1)].end_ms - r.lap_time_ms) // 1000}s"
                            for (d, n), r in sorted(self.laps.items())
                            if n == self.gap_lap and (d, n - 1) in self.laps and r.end_ms and r.lap_time_ms
                            and self.laps[(d, n - 1)].end_ms is not None
                            and r.end_ms - self.laps[(d, n - 1)].end_ms > r.lap_time_ms + TIMING_GAP_MS))

    @property
    def last_lap(self) -> int:
        return max(self.by_lap, default=0)

    def lap(self, driver: str, n: int) -> RawLap | None:
        return self.laps.get((driver, n))

    def driver_laps(self, driver: str) -> list[RawLap]:
        return sorted((r for (d, _), r in self.laps.items() if d == driver), key=lambda r: r.lap)

    def completed(self, driver: str) -> list[RawLap]:
        """Laps the car completed: crossed the line (FastF1 also writes a row for a DNS)."""
        return [r for r in self.driver_laps(driver)
                if r.end_ms is not None and (r.position is not None or r.lap_time_ms is not None)]

    def median_ms(self, n: int) -> float | None:
        times = [r.lap_time_ms for r in self.by_lap.get(n, {}).values() if r.lap_time_ms]
        return statistics.median(times) if times else None

    def slow(self, rec: RawLap) -> bool:
        """Slower than 115 % of that lap's median (a crawl, a damaged car)."""
        med = self.median_ms(rec.lap)
        return rec.lap_time_ms is not None and med is not None and rec.lap_time_ms > CRIPPLED_FACTOR * med

    def leader(self, n: int) -> str | None:
        if n == 0:
            pole = [o.driver for o in self.official.values() if o.grid == 1]
            return pole[0] if pole else None
        p1 = [d for d, r in self.by_lap.get(n, {}).items() if r.position == 1]
        return p1[0] if len(p1) == 1 else None

    def lead_changes(self) -> list[tuple[int, str, str]]:
        """(lap, new leader, previous leader) for every raw change of the car in P1
        (lap 1: the Ergast pole sitter against the lap-1 leader)."""
        out = []
        for n in range(1, self.last_lap + 1):
            if not self.comparable(n):
                break
            a, b = self.leader(n - 1), self.leader(n)
            if a and b and a != b:
                out.append((n, b, a))
        return out

    def lap_of(self, t_ms: int) -> int:
        """The lap the leader was on at session time t (lap n ends at leader_end[n])."""
        for n in sorted(self.leader_end):
            if t_ms <= self.leader_end[n]:
                return n
        return self.last_lap + 1

    def status_changes(self, status: str) -> list[tuple[int, int]]:
        """(session ms, lap) of every change to `status` while the race ran."""
        out, prev = [], None
        end = self.leader_end.get(self.last_lap, 0)
        for t, s in self.track_status:
            if s == status and prev != status and t <= end:
                out.append((t, self.lap_of(t)))
            prev = s
        return out

    def status_at(self, t_ms: int) -> str | None:
        cur = None
        for t, s in self.track_status:
            if t > t_ms:
                break
            cur = s
        return cur

    def stops(self, driver: str) -> list[int]:
        """In-laps of the car's real pit entries (PitInTime after the lap started)."""
        return [r.lap for r in self.driver_laps(driver) if r.pit_in_ms is not None
                and (r.start_ms is None or r.pit_in_ms >= r.start_ms)]

    def last_racing_lap(self, driver: str) -> RawLap | None:
        racing = [r for r in self.completed(driver) if r.position is not None
                  and (r.lap_time_ms is None and r.lap == 1 or (r.lap_time_ms is not None and not self.slow(r)))]
        return racing[-1] if racing else None

    def retired(self) -> list[Official]:
        return [o for o in self.official.values() if not o.classified_finish]


# ------------------------------------------------------------------------- loading


def _ms(v: Any) -> int | None:
    if v is None:
        return None
    try:
        if v != v:  # NaT / NaN
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "total_seconds"):
        s = v.total_seconds()
        return None if math.isnan(s) else round(s * 1000)
    return None


def _int(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


def _csv(csv_dir: Path, name: str) -> list[dict[str, str]]:
    with (csv_dir / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Ergast:
    """The Ergast CSV tables the audit needs, read once."""

    def __init__(self, csv_dir: Path) -> None:
        self.races = _csv(csv_dir, "races.csv")
        self.results = _csv(csv_dir, "results.csv")
        self.sprints = _csv(csv_dir, "sprint_results.csv")
        self.standings = _csv(csv_dir, "driver_standings.csv")
        self.status = {r["statusId"]: r["status"] for r in _csv(csv_dir, "status.csv")}
        self.code = {r["driverId"]: r["code"] for r in _csv(csv_dir, "drivers.csv")}

    def race_id(self, year: int, rnd: int) -> str:
        return next(r["raceId"] for r in self.races if r["year"] == str(year) and r["round"] == str(rnd))

    def official(self, race_id: str) -> dict[str, Official]:
        out = {}
        for r in self.results:
            if r["raceId"] != race_id:
                continue
            code = self.code[r["driverId"]]
            out[code] = Official(
                driver=code, grid=_int(r["grid"]) or None, position_text=r["positionText"],
                position_order=int(r["positionOrder"]), points=float(r["points"]),
                status=self.status[r["statusId"]], laps=int(r["laps"]),
            )
        return out

    def table(self, race_id: str) -> list[tuple[str, float]]:
        rows = [s for s in self.standings if s["raceId"] == race_id]
        rows.sort(key=lambda s: int(s["position"]))
        return [(self.code[s["driverId"]], float(s["points"])) for s in rows]

    def _max_points(self, race_id: str, year: int) -> float:
        """Most one driver can score at a round: the winner's points (+1 for the fastest
        lap from 2019 on) plus the sprint winner's."""
        race = max((float(r["points"]) for r in self.results if r["raceId"] == race_id), default=0.0)
        if year >= 2019:
            race = max(race, 26.0)
        sprint = max((float(r["points"]) for r in self.sprints if r["raceId"] == race_id), default=0.0)
        return race + sprint

    def decided_round(self, year: int) -> int | None:
        """First round after which the leader could no longer be caught (points only; a tie
        on points is not counted as decided)."""
        rounds = sorted((int(r["round"]), r["raceId"]) for r in self.races if r["year"] == str(year))
        left = [self._max_points(rid, year) for _, rid in rounds]
        for i, (rnd, rid) in enumerate(rounds):
            tab = self.table(rid)
            if len(tab) < 2:
                continue
            remaining = sum(left[i + 1:])
            if tab[0][1] - tab[1][1] > remaining:
                return rnd
        return None


def load_truth(year: int, rnd: int, cache_dir: Path, ergast: Ergast) -> RaceTruth:
    """One race through FastF1's real loader (offline, over a copy of the cache) + Ergast."""
    import logging

    import fastf1

    logging.getLogger("fastf1").setLevel(logging.ERROR)
    fastf1.Cache.configure(cache_dir=str(cache_dir), ignore_version=True)
    fastf1.Cache.offline_mode(True)
    s = fastf1.get_session(year, rnd, "R")
    s.load(laps=True, telemetry=False, weather=True, messages=True)
    laps: dict[tuple[str, int], RawLap] = {}
    for row in s.laps.itertuples(index=False):
        n = _int(row.LapNumber)
        if n is None:
            continue
        deleted = row.Deleted
        laps[(str(row.Driver), n)] = RawLap(
            driver=str(row.Driver), lap=n, position=_int(row.Position), lap_time_ms=_ms(row.LapTime),
            end_ms=_ms(row.Time), start_ms=_ms(row.LapStartTime), pit_in_ms=_ms(row.PitInTime),
            pit_out_ms=_ms(row.PitOutTime),
            compound=str(row.Compound) if isinstance(row.Compound, str) and row.Compound else None,
            track_status=str(row.TrackStatus) if isinstance(row.TrackStatus, str) else "",
            deleted=bool(deleted) if isinstance(deleted, bool) else False,
        )
    if not laps:
        raise RuntimeError(f"{year} round {rnd}: FastF1 loaded no laps")
    ts = [(_ms(r.Time) or 0, str(r.Status)) for r in s.track_status.itertuples(index=False)]
    msgs = [(_int(r.Lap), str(r.Message)) for r in s.race_control_messages.itertuples(index=False)]
    rid = ergast.race_id(year, rnd)
    tab = ergast.table(rid)
    return RaceTruth(
        year=year, round=rnd, name=str(s.event["EventName"]), laps=laps, track_status=ts, messages=msgs,
        official=ergast.official(rid), standings_leader=tab[0][0] if tab else None,
        decided_round=ergast.decided_round(year),
    )


# ------------------------------------------------------------------------- rules


def _fmt(h: dict[str, Any]) -> str:
    return f"[{h['kind']} lap {h['lap']} prio {int(h['priority'])} facts={h['facts']}]"


def _lap_txt(rec: RawLap | None) -> str:
    if rec is None:
        return "no lap"
    return (f"{rec.driver} L{rec.lap} P{rec.position} t={rec.lap_time_ms} end={rec.end_ms} "
            f"in={rec.pit_in_ms} out={rec.pit_out_ms} {rec.compound} ts={rec.track_status!r}"
            f"{' DELETED' if rec.deleted else ''}")


class Fail:
    """Collects broken rules for one highlight, each tagged by rule name."""

    def __init__(self, h: dict[str, Any]) -> None:
        self.h = h
        self.out: list[tuple[str, str]] = []

    def __call__(self, rule: str, why: str, *evidence: str) -> None:
        ev = "; ".join(evidence)
        self.out.append((rule, f"{_fmt(self.h)}: {why}" + (f" | raw: {ev}" if ev else "")))

    def need(self, *keys: str) -> bool:
        missing = [k for k in keys if k not in self.h["facts"]]
        if missing:
            self(f"{self.h['kind']}: facts contract", f"missing facts {missing}")
        return not missing


def check_overtake(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("driver", "passed", "position", "gap_before_ms"):
        return
    fail.need("crippled")
    n, a, b = h["lap"], f["driver"], f["passed"]
    if not t.comparable(n):
        fail("data: timing gap", "positions at this lap mix real laps: the pass cannot be true as told",
             t.gap_text())
        return
    a1, b1, a0, b0 = t.lap(a, n), t.lap(b, n), t.lap(a, n - 1), t.lap(b, n - 1)
    ev = [_lap_txt(x) for x in (a0, b0, a1, b1)]
    if None in (a1, b1, a0, b0) or None in (a1.position, b1.position, a0.position, b0.position):  # type: ignore[union-attr]
        fail("overtake: positions", "a car has no raw position at lap N or N-1", *ev)
        return
    assert a1 and b1 and a0 and b0
    if not (a1.position < b1.position and a0.position > b0.position):  # type: ignore[operator]
        fail("overtake: positions", "not behind at N-1 and ahead at N", *ev)
    if a1.pitting or b1.pitting:
        fail("overtake: pit cycle", "a car was on an in/out lap at N", *ev)
    if a1.neutral or b1.neutral:
        fail("overtake: neutralised", "lap N under SC/VSC/red", *ev)
    if f.get("position") != a1.position:
        fail("overtake: position fact", f"position {f.get('position')} != raw {a1.position}", *ev)
    if not f.get("crippled", False):
        reasons = []
        if t.slow(b1):
            reasons.append(f"passed car's lap {b1.lap_time_ms} > 115% of median {t.median_ms(n)}")
        done = t.completed(b)
        off = t.official.get(b)
        if done and done[-1].lap <= n + 2 and off is not None and not off.classified_finish:
            reasons.append(f"passed car retires after lap {done[-1].lap} ({off.status})")
        if b1.pit_in_ms is not None:
            reasons.append("passed car pits at the end of lap N")
        if reasons:
            fail("overtake: crippled car", "crippled=false but " + "; ".join(reasons), *ev)


def check_lead_change(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("leader", "previous_leader", "cause"):
        return
    n = h["lap"]
    if not t.comparable(n):
        fail("data: timing gap", "positions at this lap mix real laps: the lead change cannot be true as told",
             t.gap_text())
        return
    raw_new, raw_old = t.leader(n), t.leader(n - 1)
    ev = [f"raw leader L{n - 1}={raw_old} L{n}={raw_new}"]
    if raw_new != f["leader"] or raw_old != f["previous_leader"] or raw_new == raw_old:
        fail("lead_change: leaders", "not the raw change of P1 at this lap", *ev)
        return
    cause = f["cause"]
    if cause not in LEAD_CAUSES:
        fail("lead_change: cause", f"unknown cause {cause!r}", *ev)
        return
    new, old = t.lap(raw_new, n), t.lap(raw_old, n) if raw_old else None
    ev += [_lap_txt(new), _lap_txt(old)]
    if n == 1:
        expected = {"start"}
    elif old is None or old.end_ms is None:
        expected = {"leader out"}
    elif (new and new.pitting) or old.pitting:
        expected = {"pit stop"}
    elif (new and new.neutral) or old.neutral:
        expected = {"neutralised"}
    else:
        expected = {"on track"}
    if cause not in expected:
        fail("lead_change: cause", f"cause {cause!r}, raw says {sorted(expected)}", *ev)


def check_pit_stop(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("driver", "stop", "in_lap", "compound_before", "compound_after", "pit_lane_ms",
                     "completed", "under_neutralisation", "red_flag", "position_before"):
        if "driver" not in f or "in_lap" not in f:
            return
    d, n = f["driver"], f["in_lap"]
    inl, outl = t.lap(d, n), t.lap(d, n + 1)
    ev = [_lap_txt(inl), _lap_txt(outl)]
    if inl is None or inl.pit_in_ms is None or n not in t.stops(d):
        fail("pit_stop: real stop", "no raw PitInTime on the in-lap", *ev)
        return
    if inl.compound != f.get("compound_before"):
        fail("pit_stop: compounds", f"compound_before {f.get('compound_before')} != raw {inl.compound}", *ev)
    if f.get("completed", True):
        if outl is None or outl.pit_out_ms is None:
            fail("pit_stop: completed", "completed but no raw PitOutTime on in_lap+1", *ev)
            return
        raw_ms = outl.pit_out_ms - inl.pit_in_ms
        pl = f.get("pit_lane_ms")
        if pl is None or abs(pl - raw_ms) > PIT_LANE_TOL_MS:
            fail("pit_stop: pit lane time", f"pit_lane_ms {pl} vs raw {raw_ms}", *ev)
        if outl.compound != f.get("compound_after"):
            fail("pit_stop: compounds", f"compound_after {f.get('compound_after')} != raw {outl.compound}", *ev)


def check_undercut(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("move", "first_stopper", "rival", "first_stop_lap", "rival_stop_lap", "worked"):
        if not all(k in f for k in ("first_stopper", "first_stop_lap", "rival_stop_lap")):
            return
    a, l1, l2 = f["first_stopper"], f["first_stop_lap"], f["rival_stop_lap"]
    b = f.get("rival") or next((d for d in h["drivers"] if d != a), None)
    ev = [_lap_txt(t.lap(a, l1 - 1)), _lap_txt(t.lap(b, l1 - 1)), _lap_txt(t.lap(a, l1)),
          _lap_txt(t.lap(a, l1 + 1)), _lap_txt(t.lap(b, l2)), _lap_txt(t.lap(b, l2 + 1)),
          f"stops {a}={t.stops(a)} {b}={t.stops(b)}"]
    if not t.comparable(l2 + 1):
        fail("data: timing gap", "positions around the stops mix real laps", t.gap_text())
        return
    if l1 not in t.stops(a) or l2 not in t.stops(b):
        fail("undercut: real stops", "a stop is not in the raw PitInTimes", *ev)
        return
    if not 0 < l2 - l1 <= UNDERCUT_MAX_LAPS:
        fail("undercut: window", f"rival stopped {l2 - l1} laps later (allowed 1..{UNDERCUT_MAX_LAPS})", *ev)
    for d, n in ((a, l1), (b, l2)):
        if any(r is not None and r.neutral for r in (t.lap(d, n), t.lap(d, n + 1))):
            fail("undercut: neutralised stop", f"{d}'s stop on lap {n} under SC/VSC/red", *ev)
        earlier = [s for s in t.stops(d) if s < n]
        if earlier and n - earlier[-1] <= REPAIR_STOP_LAPS:
            fail("undercut: repair stop", f"{d}'s stop on lap {n} is {n - earlier[-1]} laps after its previous", *ev)
    if len([s for s in t.stops(b) if s < l1]) > len([s for s in t.stops(a) if s < l1]):
        fail("undercut: a reply", f"{b} had stopped more times than {a} before lap {l1}", *ev)
    pa, pb = t.lap(a, l1 - 1), t.lap(b, l1 - 1)
    if pa is None or pb is None or pa.position is None or pb.position is None or None in (pa.end_ms, pb.end_ms):
        fail("undercut: pair before", "no raw positions before the first stop", *ev)
        return
    gap = abs(pa.end_ms - pb.end_ms)  # type: ignore[operator]
    if abs(pa.position - pb.position) != 1 or gap > UNDERCUT_PAIR_GAP_MS:
        fail("undercut: pair before", f"not adjacent within 3.5 s before the stop (P{pa.position}/P{pb.position}, "
             f"gap {gap} ms)", *ev)
    qa, qb = t.lap(a, l2 + 1), t.lap(b, l2 + 1)
    if qa is None or qb is None or qa.position is None or qb.position is None:
        fail("undercut: worked", "no raw positions after the rival's out-lap", *ev)
        return
    first_was_ahead = pa.position < pb.position
    first_ahead_after = qa.position < qb.position
    move = f.get("move")
    if move not in ("undercut", "overcut") or (move == "overcut") != first_was_ahead:
        fail("undercut: move", f"move {move!r} but the first stopper was {'ahead' if first_was_ahead else 'behind'}",
             *ev)
    worked = first_ahead_after if not first_was_ahead else not first_ahead_after
    if "worked" in f and bool(f["worked"]) != worked:
        fail("undercut: worked", f"worked={f['worked']} but raw order after the rival's out-lap says {worked}", *ev)


def check_fastest_lap(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("driver", "lap_time_ms"):
        return
    n = f.get("lap", h["lap"])
    rec = t.lap(f["driver"], n)
    valid = [r for r in t.laps.values() if r.lap <= n and r.lap_time_ms and not r.deleted and not r.pitting]
    best = min(valid, key=lambda r: r.lap_time_ms) if valid else None  # type: ignore[arg-type, return-value]
    ev = [_lap_txt(rec), f"best valid up to L{n}: {_lap_txt(best)}"]
    if rec is None or rec.lap_time_ms != f["lap_time_ms"]:
        fail("fastest_lap: the lap", "the driver's raw lap time at that lap differs", *ev)
    if best is None or best.lap_time_ms != f["lap_time_ms"]:
        fail("fastest_lap: minimum", "not the minimum valid raw lap time so far", *ev)
    if rec is not None and (rec.deleted or rec.pitting):
        fail("fastest_lap: minimum", "the lap is deleted or an in/out lap", *ev)
    if rec is not None and rec.neutral:
        fail("fastest_lap: neutralised", "the lap was under SC/VSC/red", *ev)
    if n < FASTEST_LAP_FROM:
        fail("fastest_lap: too early", f"lap {n} < {FASTEST_LAP_FROM}", *ev)


def check_retirement(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("driver", "laps_completed", "last_position", "reason", "in_pits", "did_not_start"):
        if "driver" not in f:
            return
    d = f["driver"]
    off = t.official.get(d)
    done = t.completed(d)
    last = t.last_racing_lap(d)
    ev = [f"ergast {off}", f"{len(done)} raw laps; last {_lap_txt(done[-1] if done else None)}",
          f"last racing {_lap_txt(last)}"]
    if off is not None and off.classified_finish:
        fail("retirement: not out", f"Ergast status {off.status!r}: the car finished", *ev)
        return
    if "laps_completed" in f and abs(f["laps_completed"] - len(done)) > 1:
        fail("retirement: laps completed", f"laps_completed {f['laps_completed']} vs raw {len(done)}", *ev)
    want_pos = last.position if last else None
    if f.get("last_position") is not None and last is not None and not t.comparable(last.lap):
        fail("data: timing gap", "the last racing position mixes real laps", t.gap_text(), *ev)
    elif ("last_position" in f and last is not None and f["last_position"] != want_pos
          # after a timing gap the place is unknowable: None (saying nothing) is right there
          and (f["last_position"] is not None or t.comparable(last.lap))):
        fail("retirement: last position", f"last_position {f['last_position']} vs raw {want_pos} "
             "(last lap within 115% of the median)", *ev)
    # A retirement told live does not know the official reason yet: None says nothing,
    # a reason given must be the official one.
    if f.get("reason") is not None and off is not None and f["reason"] != off.status:
        fail("retirement: reason", f"reason {f['reason']!r} vs Ergast {off.status!r}", *ev)
    if f.get("in_pits"):
        rows = t.driver_laps(d)
        lastrow = done[-1] if done else None
        later_out = any(r.pit_out_ms is not None and lastrow and r.pit_out_ms > (lastrow.pit_in_ms or 0)
                        for r in rows if lastrow and r.lap > lastrow.lap)
        if lastrow is None or lastrow.pit_in_ms is None or later_out:
            fail("retirement: in pits", "in_pits but the last raw lap has no PitInTime (or a later PitOutTime)",
                 *ev)
    # Timing cannot tell a car that never started from one that crashed on the opening lap
    # (both have no completed lap): "did not start" must come from the classification
    # (withdrawn, "Did not start"); a car with laps never "did not start".
    if f.get("did_not_start"):
        official_dns = off is not None and (
            (off.position_text or "").upper() == "W" or "not start" in (off.status or "").lower())
        if done or not official_dns:
            fail("retirement: did not start",
                 f"did_not_start=True but raw laps={len(done)}, official {off}", *ev)


def expected_penalty(text: str) -> str | None:
    """The penalty a decided race-control message gives; None when it decides nothing."""
    up = text.upper()
    if not any(k in up for k in DECIDED) or any(k in up for k in NOT_DECIDED):
        return None
    if "DISQUALIFIED" in up:
        return "disqualified"
    m = re.search(r"(\d+) SECOND TIME PENALTY", up)
    if m:
        return f"{m.group(1)} second time penalty"
    if "DRIVE THROUGH" in up:
        return "drive through"
    if "STOP AND GO" in up or "STOP/GO" in up:
        m = re.search(r"(\d+) SECOND STOP(?:/| AND )GO", up)
        return f"{m.group(1)} second stop and go penalty" if m else "stop and go"
    if "GRID PENALTY" in up:
        return "grid penalty"
    return "penalty"


def check_penalty(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("penalty", "message"):
        return
    msg = f["message"]
    raw = [m for m in t.messages if m[1] == msg]
    ev = [f"raw messages: {raw}"]
    if not raw:
        fail("penalty: message", "no such raw race-control message", *ev)
        return
    want = expected_penalty(msg)
    if want is None:
        fail("penalty: decided", "the message is not a decided penalty", *ev)
    elif str(f["penalty"]).lower() != want:
        fail("penalty: size", f"penalty {f['penalty']!r}, the message says {want!r}", *ev)


def check_track(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    kind, phase, n = h["kind"], h["facts"].get("phase"), h["lap"]
    digit = {"safety_car": "4", "vsc": "6", "red_flag": "5"}[kind]
    if kind == "vsc" and phase == "ending":
        digit = "7"
    if kind == "safety_car" and phase == "in this lap":
        end = t.leader_end.get(n)
        cur = t.status_at(end) if end is not None else None
        start = t.leader_end.get(n - 1)
        before = t.status_at(start) if start is not None else None
        if "4" not in (cur, before):
            fail("safety_car: in this lap", "no safety car on track at that lap",
                 f"status at L{n - 1} end={before}, L{n} end={cur}")
        return
    changes = t.status_changes(digit)
    if not any(abs(lap - n) <= 1 for _, lap in changes):
        fail(f"{kind}: raw status", f"no raw track-status change to {digit} at lap {n}±1",
             f"changes to {digit} at laps {[lap for _, lap in changes]}")


def check_result(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("winner", "podium", "top10", "provisional"):
        return
    if f["provisional"]:
        return
    order = sorted(t.official.values(), key=lambda o: o.position_order)
    podium = [o.driver for o in order[:3]]
    top10 = [{"position": o.position_order, "driver": o.driver, "points": o.points} for o in order[:10]]
    ev = [f"Ergast top10 {[(o.position_order, o.driver, o.points) for o in order[:10]]}"]
    if f["winner"] != podium[0] or list(f["podium"]) != podium:
        fail("result: podium", f"winner/podium {f['winner']}/{f['podium']} vs official {podium}", *ev)
    got = [{"position": r.get("position"), "driver": r.get("driver"),
            "points": float(r["points"]) if r.get("points") is not None else None} for r in f["top10"]]
    if got != top10:
        fail("result: top10", f"top10 {[(r['position'], r['driver'], r['points']) for r in got]}", *ev)


def check_championship(t: RaceTruth, h: dict[str, Any], fail: Fail) -> None:
    f = h["facts"]
    if not fail.need("leader", "clinched"):
        return
    ev = [f"Ergast leader after round {t.round}: {t.standings_leader}; title decided at round {t.decided_round}"]
    if f["leader"] != t.standings_leader:
        fail("championship: leader", f"leader {f['leader']}", *ev)
    if bool(f["clinched"]) != (t.decided_round == t.round):
        fail("championship: clinched", f"clinched={f['clinched']}", *ev)


CHECKS = {
    "overtake": check_overtake,
    "lead_change": check_lead_change,
    "pit_stop": check_pit_stop,
    "undercut": check_undercut,
    "fastest_lap": check_fastest_lap,
    "retirement": check_retirement,
    "penalty": check_penalty,
    "safety_car": check_track,
    "vsc": check_track,
    "red_flag": check_track,
    "result": check_result,
    "championship": check_championship,
}


def check(t: RaceTruth, h: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule, message) for every broken rule of one highlight; kinds without rules: none."""
    fn = CHECKS.get(h["kind"])
    if fn is None:
        return []
    fail = Fail(h)
    fn(t, h, fail)
    return fail.out


def presence(t: RaceTruth, hs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Raw events with no highlight at the default floor (priority >= MEDIUM)."""
    out: list[tuple[str, str]] = []
    floor = [h for h in hs if int(h["priority"]) >= MEDIUM]
    for n, new, old in t.lead_changes():
        if not any(h["kind"] == "lead_change" and h["lap"] == n and h["facts"].get("leader") == new for h in floor):
            near = [(h["lap"], h["facts"].get("leader"), int(h["priority"])) for h in hs if h["kind"] == "lead_change"]
            out.append(("presence: lead change", f"lap {n}: {old} -> {new} has no lead_change >= MEDIUM | "
                        f"highlights (lap, leader, prio): {near}"))
    for digit, kind in (("4", "safety_car"), ("5", "red_flag")):
        for tm, lap in t.status_changes(digit):
            if not any(h["kind"] == kind and h["facts"].get("phase", "deployed") == "deployed"
                       and abs(h["lap"] - lap) <= 1 for h in floor):
                near = [(h["lap"], h["facts"].get("phase"), int(h["priority"])) for h in hs if h["kind"] == kind]
                out.append((f"presence: {kind}", f"track status {digit} at {tm} ms (lap {lap}) has no {kind} "
                            f">= MEDIUM | highlights: {near}"))
    for o in t.retired():
        last = t.last_racing_lap(o.driver)
        if last is not None and not t.comparable(last.lap):
            continue  # its place at the end is not known from raw data (timing gap)
        pos = last.position if last else o.grid
        if o.status == "Disqualified" or pos is None or pos > 10:
            continue
        if not any(h["kind"] == "retirement" and h["facts"].get("driver") == o.driver for h in floor):
            got = [(h["lap"], int(h["priority"])) for h in hs
                   if h["kind"] == "retirement" and h["facts"].get("driver") == o.driver]
            out.append(("presence: top-10 retirement", f"{o.driver} ({o.status}, last racing position {pos}, "
                        f"{len(t.completed(o.driver))} laps) has no retirement >= MEDIUM | its highlights: {got}"))
    return out
