"""Read one race for the Race Lab (`race_data`): laps, stops, classification,
neutralised laps and the circuit's history, in a handful of queries.

The circuit history counts only races BEFORE this one (a backtest must not learn
from the race it replays), and only seasons the safety-car record covers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import and_, func, select

from storage import queries as q
from storage.lab_types import (
    CircuitHistory,
    ClassifiedEntry,
    LapRecord,
    PenaltyRecord,
    RaceData,
    StopRecord,
    count_passes,
)
from storage.models import (
    Driver,
    Event,
    Lap,
    PitStop,
    RaceControlMessage,
    RaceNeutralisation,
    Result,
    Session,
    Stint,
)
from storage.queries import Db, _connect

# A stop whose pit-lane time is outside this range is a red-flag wait or a timing glitch.
PIT_LANE_RANGE_MS = (12_000, 60_000)
# FastF1 track-status digits: 4 safety car, 5 red flag, 6/7 virtual safety car.
_STATUS_KIND = (("5", "RED"), ("4", "SC"), ("6", "VSC"), ("7", "VSC"))
_HISTORY_KIND = {"safety_car": "SC", "virtual_safety_car": "VSC", "red_flag": "RED"}
# Stewards' decisions as race control words them, e.g. "FIA STEWARDS: 5 SECOND TIME
# PENALTY FOR CAR 44 (HAM) - CAUSING A COLLISION", "10 SECOND STOP/GO PENALTY FOR CAR 5
# (VET)", "DRIVE THROUGH PENALTY FOR CAR 18 (STR)". Investigations, "noted" and "no
# further action" messages carry no "PENALTY FOR CAR" and are not decisions.
_PENALTY = re.compile(
    r"(?:(?P<sec>\d+) SECONDS? )?(?P<kind>TIME|STOP/GO|STOP AND GO|STOP-GO|DRIVE[ -]THROUGH)"
    r" PENALTY FOR CAR (?P<num>\d+)(?: \((?P<code>[A-Z]{3})\))?")
# A decision the stewards take back (rare): the earlier penalty of that car is dropped.
_TAKEN_BACK = ("WITHDRAWN", "RESCINDED", "REVOKED", "CANCELLED")
_PENALTY_KIND = {"TIME": "time", "STOP/GO": "stop_go", "STOP AND GO": "stop_go",
                 "STOP-GO": "stop_go", "DRIVE THROUGH": "drive_through",
                 "DRIVE-THROUGH": "drive_through"}


class NoLapData(LookupError):
    """The race is unknown or has no stored laps (message is user-facing)."""


def _code(code: str | None, ref: str) -> str:
    return (code or ref[:3]).upper()


def race_data(db: Db, year: int, round_: int) -> RaceData:
    """Everything `bot.lab.fit_race_model` needs for race `year`/`round_`.

    Raises `NoLapData` when the race or its laps are not stored.
    """
    with _connect(db) as conn:
        ev = q.event_by_round(conn, year, round_)
        if ev is None:
            raise NoLapData(f"no race {year} round {round_} in the store")
        sess = q.session_for(conn, ev.id, "R")
        if sess is None or not q.has_laps(conn, sess.id):
            raise NoLapData(f"no lap data stored for the {ev.label}")
        laps = _laps(conn, sess.id)
        classification = _classification(conn, sess.id)
        codes_by_id = {int(r[0]): _code(r[1], r[2]) for r in conn.execute(
            select(Driver.id, Driver.code, Driver.ref)
            .join(Result, Result.driver_id == Driver.id).where(Result.session_id == sess.id))}
        stops = tuple(
            StopRecord(p.driver.code.upper() if p.driver.code else _code(None, p.driver.ref),
                       p.lap, _s(p.pit_lane_ms), _s(p.duration_ms), p.compound_after)
            for p in q.pit_stops(conn, sess.id) if not p.under_red_flag)
        stints: dict[str, list[tuple[int, int, str | None]]] = defaultdict(list)
        for r in conn.execute(
            select(Stint.driver_id, Stint.start_lap, Stint.end_lap, Stint.compound)
            .where(Stint.session_id == sess.id)
        ):
            stints[codes_by_id.get(int(r[0]), str(r[0]))].append((int(r[1]), int(r[2]), r[3]))
        total = sess.total_laps or max((lap.lap for lap in laps), default=0)
        penalties = parse_penalties(
            ((r[0], r[1]) for r in conn.execute(
                select(RaceControlMessage.lap, RaceControlMessage.message)
                .where(RaceControlMessage.session_id == sess.id,
                       RaceControlMessage.message.like("%PENALTY%"))
                .order_by(RaceControlMessage.seq))),
            {c.code for c in classification}, total)
        neutralised = _neutralised(conn, laps, year, round_)
        history = _history(conn, ev.circuit_ref, year, round_)
    return RaceData(
        year=year, round=round_, event=ev.name, circuit_ref=ev.circuit_ref, total_laps=total,
        laps=laps, stops=stops, classification=classification, neutralised=neutralised,
        history=history, stints={k: tuple(sorted(v)) for k, v in stints.items()},
        penalties=penalties,
    )


def parse_penalties(messages: Iterable[tuple[int | None, str]], codes: set[str],
                    total_laps: int) -> tuple[PenaltyRecord, ...]:
    """The decided penalties in race-control `(lap, message)` pairs, in order.

    Only cars named by their three-letter code in `codes` count (the message names
    both); a message taking a penalty back drops that car's latest one.
    """
    out: list[PenaltyRecord] = []
    for lap, text in messages:
        msg = " ".join((text or "").upper().split())
        m = _PENALTY.search(msg)
        if m is None or m.group("code") not in codes:
            continue
        code = m.group("code")
        if any(word in msg for word in _TAKEN_BACK):
            for i in range(len(out) - 1, -1, -1):
                if out[i].code == code:
                    del out[i]
                    break
            continue
        kind = _PENALTY_KIND[m.group("kind").replace("DRIVE-THROUGH", "DRIVE THROUGH")]
        seconds = float(m.group("sec") or 0)
        if kind == "time" and seconds <= 0:
            continue  # "TIME PENALTY" without its length: nothing to apply
        at = min(max(1, lap or total_laps), max(1, total_laps))
        out.append(PenaltyRecord(code, at, seconds, kind))
    return tuple(out)


def _s(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000.0


def _laps(conn: q.Connection, session_id: int) -> tuple[LapRecord, ...]:
    stmt = (
        select(Driver.code, Driver.ref, Lap.lap_number, Lap.lap_time_ms, Lap.compound,
               Lap.tyre_life, Lap.stint, Lap.pit_in_ms, Lap.pit_out_ms, Lap.position,
               Lap.track_status, Lap.time_ms)
        .join(Driver, Driver.id == Lap.driver_id)
        .where(Lap.session_id == session_id)
        .order_by(Lap.lap_number, Lap.position)
    )
    return tuple(
        LapRecord(_code(r[0], r[1]), int(r[2]), _s(r[3]), (r[4] or None), r[5], r[6],
                  r[7] is not None, r[8] is not None, r[9], r[10], _s(r[11]))
        for r in conn.execute(stmt))


def _classification(conn: q.Connection, session_id: int) -> tuple[ClassifiedEntry, ...]:
    cls = q.results(conn, session_id)
    if cls is None:
        return ()
    return tuple(
        ClassifiedEntry(_code(r.driver.code, r.driver.ref), r.grid, r.position, i + 1,
                        r.status, r.laps, _s(r.time_ms))
        for i, r in enumerate(cls.rows) if r.started)


def _neutralised(
    conn: q.Connection, laps: tuple[LapRecord, ...], year: int, round_: int
) -> tuple[tuple[int, str], ...]:
    """Laps run under SC / VSC / red: from timing (the leader's lap status), else the
    history record of the race."""
    by_lap: dict[int, str] = {}
    leaders = {lap.lap: lap for lap in laps if lap.position == 1}
    for n, lap in sorted(leaders.items()):
        status = lap.track_status or ""
        for digit, kind in _STATUS_KIND:
            if digit in status:
                by_lap[n] = kind
                break
    if not by_lap:
        N = RaceNeutralisation
        for r in conn.execute(select(N.kind, N.lap, N.to_lap, N.full_laps)
                              .where(N.year == year, N.round == round_)):
            kind = _HISTORY_KIND.get(r[0])
            if kind is None:
                continue
            last = int(r[2]) if r[2] is not None else int(r[1]) + max(0, int(r[3] or 0))
            for n in range(int(r[1]), (last if kind == "SC" else int(r[1])) + 1):
                by_lap.setdefault(n, kind)
    return tuple(sorted(by_lap.items()))


def _history(conn: q.Connection, circuit_ref: str | None, year: int, round_: int) -> CircuitHistory:
    """Neutralisation counts, pit-lane times and position changes of earlier races here."""
    before = (Event.year < year) | and_(Event.year == year, Event.round < round_)
    N = RaceNeutralisation
    covered = [int(r[0]) for r in conn.execute(select(N.year).distinct())]
    # No safety-car record at all: no race counts (the model falls back to its defaults).
    first_year = max(min(covered), 2000) if covered else year + 1  # modern era only
    # Races (year, round, circuit, laps of the winner) in the covered seasons, before this one.
    races = conn.execute(
        select(Event.year, Event.round, Event.circuit_ref, func.max(Result.laps))
        .join(Session, and_(Session.event_id == Event.id, Session.type == "R"))
        .join(Result, Result.session_id == Session.id)
        .where(before, Event.year >= first_year)
        .group_by(Event.year, Event.round, Event.circuit_ref)
    ).all()
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in conn.execute(select(N.year, N.round, N.kind, func.count())
                          .group_by(N.year, N.round, N.kind)):
        counts[(int(r[0]), int(r[1]))][r[2]] = int(r[3])
    here = [r for r in races if r[2] == circuit_ref]

    def tally(rows: list[tuple[int, int, str | None, int | None]], kind: str) -> int:
        return sum(counts[(int(r[0]), int(r[1]))].get(kind, 0) for r in rows)

    pit = [int(r[0]) for r in conn.execute(
        select(func.coalesce(PitStop.duration_ms, PitStop.pit_lane_ms))
        .join(Session, Session.id == PitStop.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Event.circuit_ref == circuit_ref, Session.type == "R", Event.year >= 2012,
               (Event.year < year) | and_(Event.year == year, Event.round <= round_)))
        if r[0] is not None and PIT_LANE_RANGE_MS[0] <= int(r[0]) <= PIT_LANE_RANGE_MS[1]]
    changes: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in conn.execute(
        select(Event.year, Event.round, Result.grid, Result.position)
        .join(Session, and_(Session.event_id == Event.id, Session.type == "R"))
        .join(Result, Result.session_id == Session.id)
        .where(Event.circuit_ref == circuit_ref, before, Event.year >= 2000,
               Result.grid > 0, Result.position.is_not(None))
    ):
        changes[(int(r[0]), int(r[1]))].append(abs(int(r[2]) - int(r[3])))
    first_lap: dict[int, list[int]] = defaultdict(list)
    for r in conn.execute(
        select(Session.id, Result.grid, Lap.position)
        .join(Event, Event.id == Session.event_id)
        .join(Result, Result.session_id == Session.id)
        .join(Lap, and_(Lap.session_id == Session.id, Lap.driver_id == Result.driver_id,
                        Lap.lap_number == 1))
        .where(Event.circuit_ref == circuit_ref, Session.type == "R",
               Result.grid > 0, Lap.position.is_not(None),
               (Event.year < year) | and_(Event.year == year, Event.round <= round_))
    ):
        first_lap[int(r[0])].append(abs(int(r[1]) - int(r[2])))
    # On-track passes of the stored races here before this one (never this race or a later
    # one: a backtest must not learn from the race it scores, and live there is none).
    earlier = conn.execute(
        select(Session.id).join(Event, Event.id == Session.event_id)
        .where(Event.circuit_ref == circuit_ref, Session.type == "R", before)
        .order_by(Event.year, Event.round)).all()
    stored_passes = tuple(
        count_passes(laps) for laps in (_laps(conn, int(r[0])) for r in earlier) if laps)
    return CircuitHistory(
        circuit_ref=circuit_ref,
        races=len(here), safety_cars=tally(here, "safety_car"),
        vscs=tally(here, "virtual_safety_car"),
        red_flags=tally(here, "red_flag"), laps=sum(int(r[3] or 0) for r in here),
        all_races=len(races), all_safety_cars=tally(races, "safety_car"),
        all_vscs=tally(races, "virtual_safety_car"), all_laps=sum(int(r[3] or 0) for r in races),
        pit_losses_s=tuple(p / 1000.0 for p in pit),
        position_changes=tuple(sum(v) / len(v) for v in changes.values() if v),
        first_lap_changes=tuple(sum(v) / len(v) for v in first_lap.values() if v),
        stored_passes=tuple(p for p in stored_passes if p[1] > 0),
    )
