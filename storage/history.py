"""Import Ergast-schema CSV dumps (1950 onwards) into the store.

All files are parsed and validated FIRST; a corrupt row raises `HistoryError`
naming the file and line, before anything is written. The write is then ONE
transaction of bulk upserts (no per-row ORM), so a failure leaves the store as
it was and a re-import changes nothing.

Precedence (docs/storage.md): history is the OFFICIAL classification. Its
official result columns (`OFFICIAL_RESULT_COLUMNS`) always overwrite what
FastF1 wrote, whether FastF1 came first or later; the other columns (team
name, fastest lap, qualifying times ...) only fill what FastF1 lacked
(`prefer_existing=True`). Every session history has results for is marked
`classification = "final"` with `history_at`. Race facts (safety cars, red
flags, VSC estimates) and team colours are imported when their files exist;
older dumps and the bundled demo data lack them. `\\N` in the CSV means NULL.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from storage.db import table, upsert
from storage.identity import slug
from storage.models import (
    OFFICIAL_RESULT_COLUMNS,
    Circuit,
    Constructor,
    ConstructorStanding,
    Driver,
    DriverStanding,
    Event,
    IngestRun,
    PitStop,
    RaceNeutralisation,
    Result,
    Season,
    TeamColour,
)
from storage.models import Session as RaceSession

Progress = Callable[[int, int, str], None]

REQUIRED_FILES = ("seasons", "circuits", "races", "drivers", "constructors", "status", "results")
OPTIONAL_FILES = ("qualifying", "sprint_results", "pit_stops", "driver_standings", "constructor_standings",
                  "safety_cars", "red_flags")
VSC_FILE = "virtual_safety_car_estimates.json"
# The maintained team-colour table (recent seasons), shipped with the package.
TEAM_COLOURS_CSV = Path(__file__).resolve().parent / "team_colours.csv"

# races.csv date/time columns → our session codes and names.
_RACE_SESSIONS = (
    ("FP1", "Practice 1", "fp1_date", "fp1_time"),
    ("FP2", "Practice 2", "fp2_date", "fp2_time"),
    ("FP3", "Practice 3", "fp3_date", "fp3_time"),
    ("Q", "Qualifying", "quali_date", "quali_time"),
    ("S", "Sprint", "sprint_date", "sprint_time"),
    ("R", "Race", "date", "time"),
)


class HistoryError(Exception):
    """A missing or corrupt input; nothing was written."""


@dataclass
class HistoryReport:
    csv_dir: str
    rows: dict[str, int] = field(default_factory=dict)  # table → rows upserted
    elapsed_s: float = 0.0
    parse_s: float = 0.0
    write_s: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# ---------------------------------------------------------------- parsing


class _Row:
    """One CSV row with typed accessors that raise HistoryError naming file:line."""

    __slots__ = ("d", "file", "line")

    def __init__(self, d: dict[str, Any], file: str, line: int) -> None:
        self.d, self.file, self.line = d, file, line

    def fail(self, msg: str) -> HistoryError:
        return HistoryError(f"{self.file} line {self.line}: {msg}")

    def raw(self, key: str) -> str | None:
        v = self.d.get(key)
        if v is None or v == "\\N" or v == "":
            return None
        return v  # type: ignore[no-any-return]

    def str_(self, key: str, required: bool = False) -> str | None:
        v = self.raw(key)
        if v is None and required:
            raise self.fail(f"missing {key}")
        return v

    def int_(self, key: str, required: bool = False) -> int | None:
        v = self.str_(key, required)
        if v is None:
            return None
        try:
            return int(v)
        except ValueError:
            raise self.fail(f"{key} is not an integer: {v!r}") from None

    def float_(self, key: str, required: bool = False) -> float | None:
        v = self.str_(key, required)
        if v is None:
            return None
        try:
            return float(v)
        except ValueError:
            raise self.fail(f"{key} is not a number: {v!r}") from None

    def date_(self, key: str, required: bool = False) -> dt.date | None:
        v = self.str_(key, required)
        if v is None:
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise self.fail(f"{key} is not a date (YYYY-MM-DD): {v!r}") from None

    def laptime_(self, key: str) -> int | None:
        """"1:27.452" / "27.452" → milliseconds."""
        v = self.str_(key)
        if v is None:
            return None
        try:
            parts = v.split(":")
            secs = float(parts[-1])
            mins = int(parts[-2]) if len(parts) > 1 else 0
            hours = int(parts[-3]) if len(parts) > 2 else 0
            return round((hours * 3600 + mins * 60 + secs) * 1000)
        except (ValueError, IndexError):
            raise self.fail(f"{key} is not a lap time: {v!r}") from None


def _read(csv_dir: Path, name: str, required: bool = True) -> Iterator[_Row]:
    path = csv_dir / f"{name}.csv"
    if not path.is_file():
        if required:
            raise HistoryError(f"{path.name} not found in {csv_dir}")
        return
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise HistoryError(f"{path.name}: empty file (no header)")
        for d in reader:
            row = _Row(d, path.name, reader.line_num)
            if None in d:  # more fields than the header has
                raise row.fail(f"{len(reader.fieldnames) + len(d[None])} fields, header has {len(reader.fieldnames)}")
            yield row


@dataclass
class _Parsed:
    seasons: list[dict[str, Any]] = field(default_factory=list)
    circuits: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[tuple[int, int, str], dict[str, Any]] = field(default_factory=dict)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    constructors: list[dict[str, Any]] = field(default_factory=list)
    # Rows that reference drivers / sessions by natural key, resolved to ids at write time.
    results: list[tuple[tuple[int, int, str], str, dict[str, Any]]] = field(default_factory=list)
    pit_stops: list[tuple[tuple[int, int, str], str, dict[str, Any]]] = field(default_factory=list)
    driver_standings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    constructor_standings: list[dict[str, Any]] = field(default_factory=list)
    neutralisations: list[dict[str, Any]] = field(default_factory=list)
    team_colours: list[dict[str, Any]] = field(default_factory=list)


def _parse(csv_dir: Path, years: set[int] | None) -> _Parsed:
    p = _Parsed()
    for r in _read(csv_dir, "seasons"):
        year = r.int_("year", True)
        if years is None or year in years:
            p.seasons.append({"year": year, "url": r.str_("url")})
    circuits: dict[int, dict[str, Any]] = {}
    for r in _read(csv_dir, "circuits"):
        c = {
            "ref": r.str_("circuitRef", True), "name": r.str_("name", True),
            "location": r.str_("location"), "country": r.str_("country"),
            "lat": r.float_("lat"), "lng": r.float_("lng"),
        }
        circuits[r.int_("circuitId", True)] = c  # type: ignore[index]
        p.circuits.append(c)
    races: dict[int, tuple[int, int]] = {}
    season_years = {s["year"] for s in p.seasons}
    for r in _read(csv_dir, "races"):
        year, rnd = r.int_("year", True), r.int_("round", True)
        cid = r.int_("circuitId", True)
        if cid not in circuits:
            raise r.fail(f"circuitId {cid} not in circuits.csv")
        race_date = r.date_("date", True)
        if years is not None and year not in years:
            continue
        races[r.int_("raceId", True)] = (year, rnd)  # type: ignore[assignment,index]
        if year not in season_years:
            p.seasons.append({"year": year, "url": None})
            season_years.add(year)  # type: ignore[arg-type]
        circ = circuits[cid]  # type: ignore[index]
        p.events.append({
            "year": year, "round": rnd, "name": r.str_("name", True), "circuit_ref": circ["ref"],
            "country": circ["country"], "location": circ["location"], "date": race_date,
        })
        for code, name, dcol, tcol in _RACE_SESSIONS:
            d = r.date_(dcol)
            if d is None:
                continue
            t = r.str_(tcol)
            start = None
            if t is not None:
                try:
                    start = dt.datetime.combine(d, dt.time.fromisoformat(t), tzinfo=dt.UTC)
                except ValueError:
                    raise r.fail(f"{tcol} is not a time (HH:MM:SS): {t!r}") from None
            p.sessions[(year, rnd, code)] = {"type": code, "name": name, "start_utc": start}  # type: ignore[index]

    drivers: dict[int, str] = {}
    for r in _read(csv_dir, "drivers"):
        ref = r.str_("driverRef", True)
        first, last = r.str_("forename"), r.str_("surname")
        drivers[r.int_("driverId", True)] = ref  # type: ignore[index,assignment]
        p.drivers.append({
            "ref": ref, "code": r.str_("code"), "number": r.int_("number"),
            "first_name": first, "last_name": last,
            "full_name": " ".join(x for x in (first, last) if x) or None,
            "nationality": r.str_("nationality"), "dob": r.date_("dob"),
        })
    constructors: dict[int, tuple[str, str]] = {}
    for r in _read(csv_dir, "constructors"):
        ref, name = r.str_("constructorRef", True), r.str_("name", True)
        constructors[r.int_("constructorId", True)] = (ref, name)  # type: ignore[index,assignment]
        p.constructors.append({"ref": ref, "name": name, "nationality": r.str_("nationality")})
    status = {r.int_("statusId", True): r.str_("status", True) for r in _read(csv_dir, "status")}

    def refs(r: _Row, race_required: bool = True) -> tuple[tuple[int, int] | None, str, tuple[str, str] | None]:
        race_id = r.int_("raceId", True)
        did = r.int_("driverId", True) if "driverId" in r.d else None
        cid = r.int_("constructorId", True) if "constructorId" in r.d else None
        if did is not None and did not in drivers:
            raise r.fail(f"driverId {did} not in drivers.csv")
        if cid is not None and cid not in constructors:
            raise r.fail(f"constructorId {cid} not in constructors.csv")
        return races.get(race_id), drivers.get(did) if did is not None else "", constructors.get(cid) if cid is not None else None  # type: ignore[arg-type]

    def result_file(name: str, code: str, required: bool) -> None:
        winners: dict[tuple[int, int], int] = {}
        rows = []
        for r in _read(csv_dir, name, required):
            race, dref, con = refs(r)
            sid = r.int_("statusId")
            if sid is not None and sid not in status:
                raise r.fail(f"statusId {sid} not in status.csv")
            ms = r.int_("milliseconds")
            pos = r.int_("position")
            vals = {
                "constructor_ref": con[0] if con else None, "team_name": con[1] if con else None,
                "number": r.str_("number"), "position": pos, "position_text": r.str_("positionText"),
                "position_order": r.int_("positionOrder"), "official_source": "history",
                "grid": r.int_("grid"), "status": status.get(sid) if sid is not None else None,
                "points": r.float_("points"), "time_ms": ms, "laps": r.int_("laps"),
                "fastest_lap_ms": r.laptime_("fastestLapTime"), "fastest_lap_number": r.int_("fastestLap"),
                "fastest_lap_rank": r.int_("rank"),
            }
            if race is None:
                continue
            if pos == 1 and ms is not None:
                winners[race] = ms
            rows.append((race, dref, vals))
        for race, dref, vals in rows:
            w = winners.get(race)
            # Gap to the winner, derived from the official total times (where both exist).
            vals["gap_ms"] = (vals["time_ms"] - w) if (w is not None and vals["time_ms"] is not None and vals["position"] != 1) else None
            p.sessions.setdefault((*race, code), {"type": code, "name": "Race" if code == "R" else "Sprint", "start_utc": None})
            p.results.append(((*race, code), dref, vals))

    result_file("results", "R", True)
    result_file("sprint_results", "S", False)
    for r in _read(csv_dir, "qualifying", False):
        race, dref, con = refs(r)
        vals = {
            "constructor_ref": con[0] if con else None, "team_name": con[1] if con else None,
            "number": r.str_("number"), "position": r.int_("position"), "official_source": "history",
            "q1_ms": r.laptime_("q1"), "q2_ms": r.laptime_("q2"), "q3_ms": r.laptime_("q3"),
        }
        vals["position_text"] = str(vals["position"]) if vals["position"] is not None else None
        vals["position_order"] = vals["position"]
        if race is None:
            continue
        p.sessions.setdefault((*race, "Q"), {"type": "Q", "name": "Qualifying", "start_utc": None})
        p.results.append(((*race, "Q"), dref, vals))
    for r in _read(csv_dir, "pit_stops", False):
        race, dref, _ = refs(r)
        vals = {"stop": r.int_("stop", True), "lap": r.int_("lap", True), "local_time": r.str_("time"),
                "duration_ms": r.int_("milliseconds")}
        if race is not None:
            p.pit_stops.append(((*race, "R"), dref, vals))
    for r in _read(csv_dir, "driver_standings", False):
        race, dref, _ = refs(r)
        vals = {"points": r.float_("points", True), "position": r.int_("position"),
                "position_text": r.str_("positionText"), "wins": r.int_("wins") or 0}
        if race is not None:
            p.driver_standings.append((dref, {"year": race[0], "round": race[1], **vals}))
    for r in _read(csv_dir, "constructor_standings", False):
        race, _, con = refs(r)
        if race is None or con is None:
            continue
        p.constructor_standings.append({
            "year": race[0], "round": race[1], "constructor_ref": con[0], "name": con[1],
            "points": r.float_("points", True), "position": r.int_("position"),
            "position_text": r.str_("positionText"), "wins": r.int_("wins") or 0,
        })
    by_name = {f"{y} {e['name']}": (y, e["round"]) for e in p.events for y in (e["year"],)}
    p.neutralisations = _race_facts(csv_dir, by_name)
    p.team_colours = _team_colours(TEAM_COLOURS_CSV, years)
    return p


def _lap(r: _Row, key: str, required: bool = False) -> int | None:
    """A lap number that the dump may write as "39.0"."""
    v = r.float_(key, required)
    if v is None:
        return None
    if not v.is_integer():
        raise r.fail(f"{key} is not a lap number: {r.raw(key)!r}")
    return int(v)


def _race_facts(csv_dir: Path, by_name: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """Safety cars, red flags and VSC estimates, matched to races by "<year> <race name>".

    Each file is optional (older dumps and the demo data have none of them); rows of
    races outside the imported seasons are skipped.
    """
    out: list[dict[str, Any]] = []
    seq: dict[tuple[int, int, str], int] = {}

    def add(race: tuple[int, int], kind: str, **vals: Any) -> None:
        key = (*race, kind)
        seq[key] = seq.get(key, 0) + 1
        out.append({"year": race[0], "round": race[1], "kind": kind, "seq": seq[key],
                    "to_lap": None, "full_laps": None, "cause": None, "resumed": None,
                    "excluded": None, "source": "history", **vals})

    for r in _read(csv_dir, "safety_cars", False):
        race = by_name.get(r.str_("Race", True) or "")
        lap = _lap(r, "Deployed", True)
        if race is not None:
            add(race, "safety_car", lap=lap, to_lap=_lap(r, "Retreated"), full_laps=r.int_("FullLaps"),
                cause=r.str_("Cause"))
    for r in _read(csv_dir, "red_flags", False):
        race = by_name.get(r.str_("Race", True) or "")
        lap = _lap(r, "Lap", True)
        if race is not None:
            add(race, "red_flag", lap=lap, cause=r.str_("Incident"), resumed=r.str_("Resumed"),
                excluded=r.str_("Excluded"))
    path = csv_dir / VSC_FILE
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object of race name -> laps")
            items = [(str(k), [int(x) for x in v]) for k, v in data.items()]
        except (ValueError, TypeError) as exc:
            raise HistoryError(f"{VSC_FILE}: {exc}") from None
        for name, laps in items:
            race = by_name.get(name)
            if race is None:
                continue
            # The dump lists estimated VSC laps one by one: consecutive laps are one period.
            for start, end in _runs(sorted(set(laps))):
                add(race, "virtual_safety_car", lap=start, to_lap=end, full_laps=end - start + 1,
                    source="history estimate")
    return out


def _runs(laps: list[int]) -> Iterator[tuple[int, int]]:
    """[13, 14, 36] → (13, 14), (36, 36)."""
    start = prev = None
    for lap in laps:
        if prev is not None and lap == prev + 1:
            prev = lap
            continue
        if start is not None:
            yield start, prev  # type: ignore[misc]
        start = prev = lap
    if start is not None:
        yield start, prev  # type: ignore[misc]


_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")


def _team_colours(path: Path, years: set[int] | None) -> list[dict[str, Any]]:
    """The maintained colour table (year, constructorRef, colour); absent file → none."""
    out: list[dict[str, Any]] = []
    if not path.is_file():
        return out
    for r in _read(path.parent, path.stem, False):
        year, ref, colour = r.int_("year", True), r.str_("constructorRef", True), r.str_("colour", True)
        if not _HEX.match(colour or ""):
            raise r.fail(f"colour is not a 6-digit hex value: {colour!r}")
        if years is None or year in years:
            out.append({"year": year, "constructor_ref": ref, "colour": (colour or "").upper(), "source": "table"})
    return out


# ---------------------------------------------------------------- writing


def _dedupe_results(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (session, driver).

    The 1950s had shared drives: one driver, two cars, two result rows in one
    race. We keep the better-placed car and add up the points of both (the
    standings count both), which keeps the natural key unique.
    """
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        key = (row["session_id"], row["driver_id"])
        prev = out.get(key)
        if prev is None:
            out[key] = row
            continue
        pts = (prev.get("points") or 0) + (row.get("points") or 0) if "points" in row else None
        better = row if (row["position"] or 10**6) < (prev["position"] or 10**6) else prev
        merged = dict(better)
        if pts is not None:
            merged["points"] = pts
        out[key] = merged
    return list(out.values())


def _merge_fastf1_drivers(conn: Any, drivers: Iterable[dict[str, Any]]) -> None:
    """Adopt drivers FastF1 created from a full name (empty DriverId) under their Ergast ref.

    Without this, a driver ingested from an old cache before the history import
    would exist twice ("lewis_hamilton" and "hamilton").
    """
    d = table(Driver)
    existing = {r.ref: (r.id, r.full_name) for r in conn.execute(select(d.c.id, d.c.ref, d.c.full_name))}
    csv_refs = {x["ref"] for x in drivers}
    orphans: dict[str, list[int]] = {}
    for ref, (did, full) in existing.items():
        if ref not in csv_refs and full:
            orphans.setdefault(slug(full), []).append(did)
    if not orphans:
        return
    for x in drivers:
        if x["ref"] in existing or not x["full_name"]:
            continue
        ids = orphans.get(slug(x["full_name"]))
        if ids and len(ids) == 1:
            conn.execute(update(d).where(d.c.id == ids[0]).values(ref=x["ref"]))
            orphans.pop(slug(x["full_name"]))


def import_history(
    engine: Engine,
    csv_dir: str | Path,
    *,
    years: Iterable[int] | None = None,
    progress: Progress | None = None,
) -> HistoryReport:
    """Import an Ergast-schema CSV directory (optionally only some seasons).

    Raises HistoryError (nothing written) for a missing directory / file or a corrupt row.
    """
    t0 = time.perf_counter()
    path = Path(csv_dir).expanduser()
    if not path.is_dir():
        raise HistoryError(f"history directory not found: {path}")
    report = HistoryReport(csv_dir=str(path))
    steps = 8
    if progress:
        progress(0, steps, "reading CSV files")
    parsed = _parse(path, set(years) if years is not None else None)
    report.parse_s = time.perf_counter() - t0
    w0 = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    rows = report.rows
    with engine.begin() as conn:
        if progress:
            progress(1, steps, "seasons, circuits, drivers, teams")
        rows["season"] = upsert(conn, Season, parsed.seasons, ["year"])
        rows["circuit"] = upsert(conn, Circuit, parsed.circuits, ["ref"])
        _merge_fastf1_drivers(conn, parsed.drivers)
        rows["driver"] = upsert(conn, Driver, parsed.drivers, ["ref"], keep_existing_when_null=True)
        rows["constructor"] = upsert(conn, Constructor, parsed.constructors, ["ref"])
        if progress:
            progress(2, steps, "events and sessions")
        # FastF1's schedule values (names, official names) win; history fills the gaps.
        rows["event"] = upsert(conn, Event, parsed.events, ["year", "round"], prefer_existing=True)
        ev = table(Event)
        wanted_years = {e["year"] for e in parsed.events}
        event_ids: dict[tuple[int, int], int] = {}
        for r in conn.execute(select(ev.c.id, ev.c.year, ev.c.round)):
            if r.year in wanted_years:
                event_ids[(r.year, r.round)] = r.id
        sess_rows = [
            {"event_id": event_ids[(y, rnd)], **vals}
            for (y, rnd, _), vals in parsed.sessions.items()
            if (y, rnd) in event_ids
        ]
        rows["race_session"] = upsert(conn, RaceSession, sess_rows, ["event_id", "type"], prefer_existing=True)
        se = table(RaceSession)
        session_ids: dict[tuple[int, int, str], int] = {}
        by_event = {v: k for k, v in event_ids.items()}
        for r in conn.execute(select(se.c.id, se.c.event_id, se.c.type)):
            key = by_event.get(r.event_id)
            if key is not None:
                session_ids[(*key, r.type)] = r.id
        d = table(Driver)
        driver_ids = {r.ref: r.id for r in conn.execute(select(d.c.id, d.c.ref))}

        if progress:
            progress(3, steps, "results")
        res_rows = _dedupe_results(
            {"session_id": session_ids[skey], "driver_id": driver_ids[dref], **vals}
            for skey, dref, vals in parsed.results
        )
        # Same column set per statement: split results (R/S) from qualifying rows.
        by_cols: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in res_rows:
            by_cols.setdefault(tuple(row), []).append(row)
        rows["result"] = 0
        for group in by_cols.values():
            official = [c for c in group[0] if c in OFFICIAL_RESULT_COLUMNS]
            # Official columns: history always wins (NULL included: a car not classified
            # has no position, whatever the timing order said). The rest only fills gaps.
            upsert(conn, Result, group, ["session_id", "driver_id"], update=official)
            rest = [c for c in group[0] if c not in OFFICIAL_RESULT_COLUMNS and c not in ("session_id", "driver_id")]
            rows["result"] += upsert(conn, Result, group, ["session_id", "driver_id"], update=rest,
                                     prefer_existing=True)
        filled = sorted({r["session_id"] for r in res_rows})
        for i in range(0, len(filled), 500):
            chunk = filled[i : i + 500]
            # The Ergast classification is the official one: a session FastF1 wrote as
            # "provisional" (no points in its cache) becomes final once history has it.
            conn.execute(update(se).where(se.c.id.in_(chunk)).values(history_at=now, classification="final"))
        if progress:
            progress(4, steps, "pit stops")
        rows["pit_stop"] = upsert(
            conn, PitStop,
            [{"session_id": session_ids[s], "driver_id": driver_ids[dref], **v} for s, dref, v in parsed.pit_stops],
            ["session_id", "driver_id", "stop"],
            update=["duration_ms", "local_time"],  # the lap FastF1 derived stays
        )
        if progress:
            progress(5, steps, "driver standings")
        rows["driver_standing"] = upsert(
            conn, DriverStanding,
            [{"driver_id": driver_ids[dref], **v} for dref, v in parsed.driver_standings],
            ["year", "round", "driver_id"],
        )
        if progress:
            progress(6, steps, "constructor standings")
        rows["constructor_standing"] = upsert(
            conn, ConstructorStanding, parsed.constructor_standings, ["year", "round", "constructor_ref"]
        )
        rows["race_neutralisation"] = upsert(
            conn, RaceNeutralisation, parsed.neutralisations, ["year", "round", "kind", "seq"]
        )
        # FastF1's colour (from a loaded session) wins over the maintained table.
        rows["team_colour"] = upsert(conn, TeamColour, parsed.team_colours, ["year", "constructor_ref"],
                                     prefer_existing=True)
        conn.execute(insert(table(IngestRun)).values(
            kind="history", target=str(path), started_at=now, finished_at=dt.datetime.now(dt.UTC),
            outcome="added", rows=sum(rows.values()), message=None,
        ))
        if progress:
            progress(7, steps, "committing")
    report.write_s = time.perf_counter() - w0
    report.elapsed_s = time.perf_counter() - t0
    if progress:
        progress(steps, steps, "done")
    return report
