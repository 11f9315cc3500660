"""FastF1 ingestion: schedule + completed sessions → the store, idempotently.

FastF1 runs in a CHILD process (spawn) that returns plain data
(`storage.ff1_loader`). A crash, `exit()`, hang or partial load there becomes a
`failed` outcome with a reason; the caller never dies and the store is never
half-written: each session is written in ONE transaction.

Idempotence and speed:
* Offline, a session whose cache files (its folder, and its round's rows in
  FastF1's shared HTTP cache, where the Jolpica results live) did not change
  since the last successful ingest (same `source_fingerprint`) is skipped
  without starting FastF1 at all; the schedule is then read from the store too.
* Otherwise the normalized payload is hashed; an unchanged hash is skipped,
  a changed one updates the rows in place (upsert by natural keys) and deletes
  rows that are no longer present.
* Which sessions: a season / event-wide call tries those that have ENDED
  (`end_utc`, else start + the type's typical duration, + `ENDED_MARGIN`); a
  single named session (`ingest_session`, or `ingest` with event and session)
  is always attempted and the data decide.
* Official beats timing (docs/storage.md): the official result columns are
  written only when the payload carries the official fields (and never into a
  session the history import filled); otherwise FastF1's order goes to
  `result.timing_position`, provisional. The other result columns are upserted
  with `keep_existing_when_null=True`, so what history filled survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import multiprocessing
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from storage.db import table, upsert
from storage.ff1_loader import LAP_FIELDS
from storage.identity import DriverResolver, constructor_ref, known_constructors
from storage.models import (
    SESSION_TYPES,
    Event,
    IngestRun,
    Lap,
    PitStop,
    RaceControlMessage,
    Result,
    Season,
    SessionDriver,
    Stint,
    TeamColour,
    TrackStatusChange,
    WeatherSample,
)
from storage.models import Session as RaceSession

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (done, total, label)
DEFAULT_TIMEOUT_S = 300.0

# User-facing names → our session codes.
_SESSION_ALIASES: dict[str, str] = {
    "r": "R", "race": "R", "gp": "R",
    "q": "Q", "quali": "Q", "qualifying": "Q",
    "s": "S", "sprint": "S", "sprint race": "S",
    "sq": "SQ", "ss": "SQ", "sprint qualifying": "SQ", "sprint shootout": "SQ",
    "fp1": "FP1", "practice 1": "FP1", "p1": "FP1",
    "fp2": "FP2", "practice 2": "FP2", "p2": "FP2",
    "fp3": "FP3", "practice 3": "FP3", "p3": "FP3",
}


class IngestError(Exception):
    """Bad input (unknown year / event / session, missing cache dir): nothing was written."""


@dataclass
class SessionOutcome:
    """What happened to one session."""

    target: str  # "2023/14/R"
    event: str
    session_type: str
    outcome: str  # added / updated / skipped / failed
    reason: str | None = None
    rows: int = 0
    load_s: float | None = None  # FastF1's own get_session + load time (in the child)
    child_s: float | None = None  # wall time of the child call (spawn, import, IPC included)
    write_s: float | None = None  # our store write (transaction) time
    total_s: float = 0.0


@dataclass
class IngestReport:
    year: int
    sessions: list[SessionOutcome] = field(default_factory=list)
    schedule_source: str = ""  # "fastf1" or "store"
    elapsed_s: float = 0.0
    # Sessions a season / event-wide call left alone because they have not ended yet
    # (labels like "2023/14/R"); a single requested session is always attempted.
    pending: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for s in self.sessions if s.outcome == outcome)

    @property
    def added(self) -> int:
        return self.count("added")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def ok(self) -> bool:
        return self.failed == 0


def session_code(name: str) -> str:
    """Normalize a user's session name ("race", "FP1", "Sprint Shootout") to our code."""
    code = _SESSION_ALIASES.get(name.strip().lower())
    if code is None:
        raise IngestError(
            f"unknown session {name!r} (use one of: {', '.join(SESSION_TYPES)})"
        )
    return code


def schedule_session_code(name: str, year: int) -> str | None:
    """Code of a FastF1 schedule session name; None for sessions we do not store."""
    if year == 2021 and name == "Sprint Qualifying":
        return "S"  # 2021's "Sprint Qualifying" was the Saturday sprint race
    return _SESSION_ALIASES.get(name.strip().lower())


# ---------------------------------------------------------------- child process


class ChildRunner:
    """One spawned worker process for FastF1, recreated after a crash or a timeout."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ChildRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent may hold DB connections and threads.
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # A hung FastF1 never returns: kill the worker, the pool cannot cancel it.
        for proc in list(getattr(pool, "_processes", {}).values()):
            try:
                proc.kill()
            except Exception:  # already gone
                pass
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def call(self, fn: str | Callable[..., Any], *args: Any, timeout_s: float | None) -> dict[str, Any]:
        """Run `storage.ff1_loader.guarded(fn, *args)` in the child; never raises."""
        from storage.ff1_loader import guarded

        t0 = time.perf_counter()
        try:
            fut = self._ensure().submit(guarded, fn, *args)
            out = fut.result(timeout=timeout_s)
        except FutureTimeout:
            self._kill()
            out = {"ok": False, "error": f"timed out after {timeout_s:g} s"}
        except BrokenProcessPool as exc:
            self._kill()
            out = {"ok": False, "error": f"FastF1 process died ({exc or 'BrokenProcessPool'})"}
        except Exception as exc:  # pickling errors and the like
            self._kill()
            out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out["wall_s"] = time.perf_counter() - t0
        return out


# ---------------------------------------------------------------- schedule


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _parse_dt(v: str | None) -> dt.datetime | None:
    """ISO text (naive = UTC) → aware UTC datetime (SQLModel's UTCDateTime refuses naive values)."""
    if not v:
        return None
    d = dt.datetime.fromisoformat(v)
    return d.replace(tzinfo=dt.UTC) if d.tzinfo is None else d.astimezone(dt.UTC)


def write_schedule(conn: Connection, year: int, events: Sequence[dict[str, Any]]) -> None:
    """Upsert the season, its events and their sessions (keeps history-filled values)."""
    upsert(conn, Season, [{"year": year}], ["year"], update=[])
    upsert(
        conn,
        Event,
        [
            {
                "year": year,
                "round": e["round"],
                "name": e["name"],
                "official_name": e.get("official_name"),
                "country": e.get("country"),
                "location": e.get("location"),
                "date": dt.date.fromisoformat(e["date"]) if e.get("date") else None,
                "format": e.get("format"),
            }
            for e in events
        ],
        ["year", "round"],
        keep_existing_when_null=True,
    )
    ev = table(Event)
    ids = {r.round: r.id for r in conn.execute(select(ev.c.id, ev.c.round).where(ev.c.year == year))}
    rows = []
    for e in events:
        seen: set[str] = set()
        for s in e["sessions"]:
            code = schedule_session_code(s["name"], year)
            if code is None or code in seen:
                continue
            seen.add(code)
            rows.append(
                {
                    "event_id": ids[e["round"]],
                    "type": code,
                    "name": s["name"],
                    "start_utc": _parse_dt(s.get("start_utc")),
                }
            )
    upsert(conn, RaceSession, rows, ["event_id", "type"], keep_existing_when_null=True)


@dataclass
class _Target:
    session_id: int
    year: int
    round: int
    event_name: str
    session_type: str
    session_name: str
    start_utc: dt.datetime | None
    end_utc: dt.datetime | None
    status: str
    content_hash: str | None
    source_fingerprint: str | None
    history_at: dt.datetime | None

    @property
    def label(self) -> str:
        return f"{self.year}/{self.round}/{self.session_type}"


def _targets(engine: Engine, year: int) -> list[_Target]:
    ev, se = table(Event), table(RaceSession)
    q = (
        select(
            se.c.id, ev.c.year, ev.c.round, ev.c.name.label("event_name"), se.c.type, se.c.name,
            se.c.start_utc, se.c.end_utc, se.c.status, se.c.content_hash, se.c.source_fingerprint, se.c.history_at,
        )
        .select_from(se.join(ev, ev.c.id == se.c.event_id))
        .where(ev.c.year == year)
        .order_by(ev.c.round, se.c.start_utc)
    )
    with engine.connect() as conn:
        return [_Target(*row) for row in conn.execute(q)]


def _match_event(targets: list[_Target], engine: Engine, year: int, event: str | int) -> int:
    """Round number for `event` (a round or a name / country / location fragment)."""
    rounds = sorted({t.round for t in targets})
    text = str(event).strip()
    if text.isdigit():
        if int(text) in rounds:
            return int(text)
        raise IngestError(f"unknown event {text!r}: {year} has rounds {rounds[0]}-{rounds[-1]}")
    ev = table(Event)
    with engine.connect() as conn:
        rows = conn.execute(
            select(ev.c.round, ev.c.name, ev.c.official_name, ev.c.country, ev.c.location, ev.c.circuit_ref)
            .where(ev.c.year == year)
        ).all()
    needle = text.lower()
    exact = [r.round for r in rows if any((f or "").lower() == needle for f in r[1:])]
    if len(set(exact)) == 1:
        return exact[0]
    fuzzy = sorted({r.round for r in rows if any(needle in (f or "").lower() for f in r[1:])})
    if len(fuzzy) == 1:
        return fuzzy[0]
    if not fuzzy:
        raise IngestError(f"unknown event {text!r} in {year}")
    names = ", ".join(r.name for r in rows if r.round in fuzzy)
    raise IngestError(f"event {text!r} is ambiguous in {year}: {names}")


def _schedule_cached(engine: Engine, year: int) -> bool:
    run = table(IngestRun)
    with engine.connect() as conn:
        hit = conn.execute(
            select(run.c.id).where(
                and_(run.c.kind == "schedule", run.c.target == str(year), run.c.outcome != "failed")
            ).limit(1)
        ).first()
    return hit is not None


# ---------------------------------------------------------------- eligibility

# Typical length of a session when the schedule gives no end time (FastF1's schedule
# has start times only; `end_utc` is known once a load stored it). A race is capped
# at 2 h of racing (plus suspensions); the others are about an hour or less.
TYPICAL_DURATION: dict[str, dt.timedelta] = {
    "R": dt.timedelta(hours=2),
    "S": dt.timedelta(hours=1),
    "Q": dt.timedelta(hours=1),
    "SQ": dt.timedelta(hours=1),
    "FP1": dt.timedelta(hours=1),
    "FP2": dt.timedelta(hours=1),
    "FP3": dt.timedelta(hours=1),
}
# After the end, before a season / event-wide ingest tries a session. Well under the
# scheduler's first attempt (end + 30 min), which asks for the session singly anyway.
ENDED_MARGIN = dt.timedelta(minutes=15)


def expected_end(session_type: str, start_utc: dt.datetime | None,
                 end_utc: dt.datetime | None = None) -> dt.datetime | None:
    """The session's end: `end_utc` when known, else start + its type's typical duration."""
    if end_utc is not None:
        return end_utc
    if start_utc is None:
        return None
    return start_utc + TYPICAL_DURATION.get(session_type, dt.timedelta(hours=2))


def session_ended(session_type: str, start_utc: dt.datetime | None, end_utc: dt.datetime | None,
                  *, now: dt.datetime, margin: dt.timedelta = ENDED_MARGIN) -> bool | None:
    """True once the session ended `margin` ago; None when its time is unknown."""
    end = expected_end(session_type, start_utc, end_utc)
    if end is None:
        return None
    return end + margin <= now


def _eligible(t: _Target, *, now: dt.datetime, offline: bool) -> bool:
    """May a season / event-wide ingest try `t` now? Only once it has ended.

    Unknown times: offline the cache decides (a session not in it is skipped
    cheaply); online we cannot tell, so it waits for the schedule to know.
    """
    ended = session_ended(t.session_type, t.start_utc, t.end_utc, now=now)
    return (offline if ended is None else ended)


# ---------------------------------------------------------------- cache files


_DATE_PREFIX = r"\d{4}-\d{2}-\d{2}_"


def session_cache_dir(cache_dir: Path, year: int, event_name: str, session_name: str) -> Path | None:
    """The FastF1 cache folder of a session (`YEAR/DATE_Event_Name/DATE_Session_Name`), if any."""
    year_dir = cache_dir / str(year)
    if not year_dir.is_dir():
        return None
    ev_re = re.compile(_DATE_PREFIX + re.escape(event_name.replace(" ", "_")) + "$")
    se_re = re.compile(_DATE_PREFIX + re.escape(session_name.replace(" ", "_")) + "$")
    for ev_dir in sorted(year_dir.iterdir()):
        if ev_dir.is_dir() and ev_re.match(ev_dir.name):
            for se_dir in sorted(ev_dir.iterdir()):
                if se_dir.is_dir() and se_re.match(se_dir.name):
                    return se_dir
    return None


HTTP_CACHE_NAME = "fastf1_http_cache.sqlite"

# The Ergast / Jolpica API path of one round (results, qualifying, sprint ...), as it
# appears in the URL stored inside a requests-cache row ("/ergast/f1/2023/14/results.json",
# older caches "ergast.com/api/f1/2021/5/...").
_ERGAST_ROUND = re.compile(rb"/f1/(\d{4})/(\d{1,2})/")


class HttpCacheIndex:
    """Per-round digests of FastF1's shared HTTP cache (`fastf1_http_cache.sqlite`).

    Jolpica results (grid, status, points) live there, not in the session folder,
    so a changed results response must change the session's fingerprint. Only
    the rows of that round count: hashing the whole file (or its mtime) would
    make every other session's load look like a change and defeat the cheap skip.
    The file is read once per `ingest()` call, lazily, read-only.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / HTTP_CACHE_NAME
        self._digests: dict[tuple[int, int], str] | None = None
        self._whole_file: str | None = None  # set when the file could not be read

    def digest(self, year: int, round_: int) -> str:
        """Digest of the cached responses for `year`/`round_` ("" when there are none)."""
        if self._digests is None:
            self._digests = self._scan()
        if self._whole_file is not None:
            return self._whole_file
        return self._digests.get((year, round_), "")

    def _scan(self) -> dict[tuple[int, int], str]:
        if not self.path.is_file():
            return {}
        import sqlite3

        rows: dict[tuple[int, int], list[bytes]] = {}
        try:
            # mode=ro: never create or modify FastF1's file (a child may hold it open).
            con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                for key, value in con.execute("SELECT key, value FROM responses"):
                    blob = bytes(value) if value is not None else b""
                    digest = hashlib.sha256(blob).digest()
                    rounds = {(int(y), int(r)) for y, r in _ERGAST_ROUND.findall(blob)}
                    for yr in rounds:
                        rows.setdefault(yr, []).append(str(key).encode() + b"=" + digest)
            finally:
                con.close()
        except sqlite3.Error as exc:
            # Unreadable (locked, corrupt, other schema): fall back to the file's size
            # and mtime for every round, so a change is still noticed, conservatively.
            log.warning("cannot read %s (%s): fingerprinting the whole file", self.path, exc)
            st = self.path.stat()
            self._whole_file = f"file:{st.st_size}:{st.st_mtime_ns}"
            return {}
        return {yr: hashlib.sha256(b";".join(sorted(v))).hexdigest()[:16] for yr, v in rows.items()}


def source_fingerprint(folder: Path, http_digest: str = "") -> str:
    """Cheap fingerprint of a session's source: its cache files and its HTTP-cache rows.

    Names, sizes and mtimes of the files in the session folder, plus
    `http_digest` (`HttpCacheIndex.digest`: the cached Jolpica responses of that
    round). The shared `fastf1_http_cache.sqlite` file itself is not stat'ed:
    any load may touch it, which would defeat the cheap skip.
    """
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    if http_digest:  # nothing added when the round has no rows: older fingerprints stay valid
        h.update(f"http:{http_digest};".encode())
    return h.hexdigest()[:32]


# ---------------------------------------------------------------- writing a session

_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")


def carries_official_fields(results: Sequence[dict[str, Any]]) -> bool:
    """True when FastF1's results carry the official fields (ClassifiedPosition, Status or
    Points, which FastF1 takes from Jolpica); else its Position is the timing order."""
    return any(r.get("position_text") is not None or r.get("status") is not None or r.get("points") is not None
               for r in results)


def position_text(v: str | None) -> str | None:
    """FastF1's ClassifiedPosition as Ergast writes positionText: "1.0" → "1", "R" stays."""
    if v is None:
        return None
    v = v.strip()
    try:
        f = float(v)
    except ValueError:
        return v or None
    return str(int(f)) if f.is_integer() else v



def _derive_stints(laps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (driver, stint) from the laps, in lap order."""
    stints: dict[tuple[int, int], dict[str, Any]] = {}
    for lap in sorted(laps, key=lambda r: (r["driver_id"], r["lap_number"])):
        if lap["stint"] is None:
            continue
        key = (lap["driver_id"], lap["stint"])
        st = stints.get(key)
        if st is None:
            stints[key] = {
                "session_id": lap["session_id"],
                "driver_id": lap["driver_id"],
                "stint": lap["stint"],
                "compound": lap["compound"],
                "start_lap": lap["lap_number"],
                "end_lap": lap["lap_number"],
                "laps": 1,
                "tyre_life_start": lap["tyre_life"],
                "fresh_tyre": lap["fresh_tyre"],
            }
        else:
            st["end_lap"] = lap["lap_number"]
            st["laps"] += 1
            if st["compound"] is None:
                st["compound"] = lap["compound"]
    return list(stints.values())


def _derive_pit_stops(laps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A stop = pit entry on lap N and pit exit on lap N+1; pit lane time = exit - entry.

    A pit-lane start (exit without entry) and a retirement into the pits (entry
    without exit) are not stops.
    """
    by_driver: dict[int, dict[int, dict[str, Any]]] = {}
    for lap in laps:
        by_driver.setdefault(lap["driver_id"], {})[lap["lap_number"]] = lap
    out: list[dict[str, Any]] = []
    for did, dl in by_driver.items():
        n = 0
        for num in sorted(dl):
            lap = dl[num]
            nxt = dl.get(num + 1)
            if lap["pit_in_ms"] is None or nxt is None or nxt["pit_out_ms"] is None:
                continue
            n += 1
            out.append(
                {
                    "session_id": lap["session_id"],
                    "driver_id": did,
                    "stop": n,
                    "lap": num,
                    "pit_lane_ms": nxt["pit_out_ms"] - lap["pit_in_ms"],
                    "compound_after": nxt["compound"],
                }
            )
    return out


def _delete_missing(
    conn: Connection, model: type, session_id: int, keys: Sequence[str],
    present: Iterable[tuple[Any, ...]], extra: Any = None,
) -> int:
    """Delete this session's rows whose natural key is not in `present`."""
    tbl = table(model)
    keep = set(present)
    q = select(tbl.c.id, *(tbl.c[k] for k in keys)).where(tbl.c.session_id == session_id)
    if extra is not None:
        q = q.where(extra)
    stale = [row[0] for row in conn.execute(q) if tuple(row[1:]) not in keep]
    for i in range(0, len(stale), 500):
        conn.execute(delete(tbl).where(tbl.c.id.in_(stale[i : i + 500])))
    return len(stale)


def write_session_payload(
    conn: Connection,
    *,
    session_id: int,
    year: int,
    payload: dict[str, Any],
    content_hash: str,
    fingerprint: str | None,
    history_filled: bool,
) -> int:
    """Write one normalized FastF1 payload for a session. Call inside ONE transaction.

    Returns the number of rows written (upserted + deleted).
    """
    resolver = DriverResolver.load(conn, year)
    known = known_constructors(conn)
    num_to_id: dict[str, int] = {}
    sd_rows: list[dict[str, Any]] = []
    for d in payload["drivers"]:
        did = resolver.resolve(conn, d)
        num_to_id[str(d["DriverNumber"])] = did
        sd_rows.append(
            {
                "session_id": session_id,
                "driver_id": did,
                "code": d.get("Abbreviation"),
                "number": d.get("DriverNumber"),
                "team_name": d.get("TeamName"),
                "constructor_ref": constructor_ref(conn, d.get("TeamId"), d.get("TeamName"), known),
                "team_colour": d.get("TeamColor"),
            }
        )
    team = {r["driver_id"]: r for r in sd_rows}

    laps: dict[tuple[int, int], dict[str, Any]] = {}
    for t in payload["laps"]:
        rec = dict(zip(LAP_FIELDS, t, strict=True))
        did = num_to_id.get(str(rec.pop("driver_number")))
        if did is None:  # a lap of a car not in the entry list: nothing to attach it to
            continue
        rec["session_id"] = session_id
        rec["driver_id"] = did
        laps[(did, rec["lap_number"])] = rec  # duplicate lap numbers: keep the last
    lap_rows = list(laps.values())

    # Fastest laps (derived from the laps: valid, non-deleted lap times).
    best: dict[int, tuple[int, int]] = {}
    for r in lap_rows:
        if r["lap_time_ms"] is None or r["deleted"]:
            continue
        cur = best.get(r["driver_id"])
        if cur is None or r["lap_time_ms"] < cur[0]:
            best[r["driver_id"]] = (r["lap_time_ms"], r["lap_number"])
    rank = {did: i + 1 for i, (did, _) in enumerate(sorted(best.items(), key=lambda kv: kv[1]))}

    results = payload["results"]
    # Official fields present (FastF1 got them from Jolpica): this payload IS an official
    # classification. Without them FastF1's Position is only the order on the road.
    official = carries_official_fields(results)
    winner_ms = next((r["time_raw_ms"] for r in results if r["position"] == 1), None)
    res_rows: list[dict[str, Any]] = []
    official_rows: list[dict[str, Any]] = []
    for r in results:
        did = num_to_id[str(r["driver_number"])]
        res_rows.append(
            {
                "session_id": session_id,
                "driver_id": did,
                "constructor_ref": team[did]["constructor_ref"],
                "team_name": team[did]["team_name"],
                "number": r["driver_number"],
                "timing_position": r["position"],
                "fastest_lap_ms": best.get(did, (None, None))[0],
                "fastest_lap_number": best.get(did, (None, None))[1],
                "fastest_lap_rank": rank.get(did),
                "q1_ms": r["q1_ms"],
                "q2_ms": r["q2_ms"],
                "q3_ms": r["q3_ms"],
            }
        )
        if official and not history_filled:
            raw = r["time_raw_ms"]
            # FastF1's Time is the winner's total and everyone else's gap to the winner.
            is_winner = r["position"] == 1
            text = position_text(r["position_text"])
            official_rows.append(
                {
                    "session_id": session_id,
                    "driver_id": did,
                    "position": int(text) if text and text.isdigit() else None,
                    "position_text": text,
                    "position_order": r["position"],
                    "grid": r["grid"],
                    "status": r["status"],
                    "points": r["points"],
                    "time_ms": raw if is_winner else (winner_ms + raw if raw is not None and winner_ms is not None else None),
                    "gap_ms": None if is_winner else raw,
                    "laps": r["laps"],
                    "official_source": "fastf1",
                }
            )

    stints = _derive_stints(lap_rows)
    stops = _derive_pit_stops(lap_rows)
    rcm = [{"session_id": session_id, "seq": i, **m, "time_utc": _parse_dt(m["time_utc"])}
           for i, m in enumerate(payload["rcm"])]
    weather: dict[int, dict[str, Any]] = {}
    for w in payload["weather"]:
        if w[0] is None:
            continue
        weather[w[0]] = dict(
            zip(("time_ms", "air_temp", "track_temp", "humidity", "pressure", "rainfall",
                 "wind_direction", "wind_speed"), w, strict=True),
            session_id=session_id,
        )
    track = [
        {"session_id": session_id, "seq": i, "time_ms": t[0], "status": t[1] or "", "message": t[2]}
        for i, t in enumerate(payload["track_status"])
    ]

    n = 0
    n += upsert(conn, SessionDriver, sd_rows, ["session_id", "driver_id"])
    n += upsert(conn, Result, res_rows, ["session_id", "driver_id"], keep_existing_when_null=True)
    # Official columns are written whole (a NULL too: a disqualification clears the
    # position), and never over the history import's (history_filled skips them).
    upsert(conn, Result, official_rows, ["session_id", "driver_id"])
    colours = [{"year": year, "constructor_ref": r["constructor_ref"], "colour": r["team_colour"].upper(),
                "source": "fastf1"}
               for r in sd_rows if r["constructor_ref"] and _HEX.match(r["team_colour"] or "")]
    n += upsert(conn, TeamColour, list({c["constructor_ref"]: c for c in colours}.values()),
                ["year", "constructor_ref"])
    n += upsert(conn, Lap, lap_rows, ["session_id", "driver_id", "lap_number"])
    n += upsert(conn, Stint, stints, ["session_id", "driver_id", "stint"])
    n += upsert(conn, PitStop, stops, ["session_id", "driver_id", "stop"], keep_existing_when_null=True)
    n += upsert(conn, RaceControlMessage, rcm, ["session_id", "seq"])
    n += upsert(conn, WeatherSample, list(weather.values()), ["session_id", "time_ms"])
    n += upsert(conn, TrackStatusChange, track, ["session_id", "seq"])

    # Rows no longer in the payload go (a penalty, a corrected lap). Rows the history
    # import wrote (results of a history-filled session, timed pit stops) stay.
    n += _delete_missing(conn, SessionDriver, session_id, ["driver_id"], [(r["driver_id"],) for r in sd_rows])
    if not history_filled:
        n += _delete_missing(conn, Result, session_id, ["driver_id"], [(r["driver_id"],) for r in res_rows])
    n += _delete_missing(conn, Lap, session_id, ["driver_id", "lap_number"], laps.keys())
    n += _delete_missing(conn, Stint, session_id, ["driver_id", "stint"],
                         [(s["driver_id"], s["stint"]) for s in stints])
    n += _delete_missing(conn, PitStop, session_id, ["driver_id", "stop"],
                         [(s["driver_id"], s["stop"]) for s in stops],
                         extra=table(PitStop).c.duration_ms.is_(None))
    n += _delete_missing(conn, RaceControlMessage, session_id, ["seq"], [(r["seq"],) for r in rcm])
    n += _delete_missing(conn, WeatherSample, session_id, ["time_ms"], [(k,) for k in weather])
    n += _delete_missing(conn, TrackStatusChange, session_id, ["seq"], [(r["seq"],) for r in track])

    info = payload["session"]
    # Final = an official source wrote the classification (history, or this payload's
    # official fields). A complete timing archive alone is still the order on the road.
    # Once history filled the session, a FastF1 re-ingest never downgrades it.
    classification = "final" if (history_filled or official) else "provisional"
    se = table(RaceSession)
    values: dict[str, Any] = {
        "status": "ingested",
        "classification": classification,
        "content_hash": content_hash,
        "source_fingerprint": fingerprint,
        "ingested_at": _now(),
        "last_error": None,
    }
    for key in ("start_utc", "end_utc"):
        if info.get(key):
            values[key] = _parse_dt(info[key])
    if info.get("total_laps") is not None:
        values["total_laps"] = info["total_laps"]
    conn.execute(update(se).where(se.c.id == session_id).values(**values))
    return n


def _record_run(conn: Connection, kind: str, target: str, started: dt.datetime, outcome: str,
                rows: int = 0, message: str | None = None) -> None:
    conn.execute(
        insert(table(IngestRun)).values(
            kind=kind, target=target, started_at=started, finished_at=_now(),
            outcome=outcome, rows=rows, message=message,
        )
    )


def _mark_failed(engine: Engine, t: _Target, started: dt.datetime, reason: str) -> None:
    se = table(RaceSession)
    with engine.begin() as conn:
        values: dict[str, Any] = {"last_error": reason}
        if t.content_hash is None:  # never ingested: it is a failed session; else keep the old data
            values["status"] = "failed"
        conn.execute(update(se).where(se.c.id == t.session_id).values(**values))
        _record_run(conn, "session", t.label, started, "failed", message=reason)


def _ingest_one(
    engine: Engine, runner: ChildRunner, t: _Target, *, cache_dir: Path, offline: bool,
    timeout_s: float | None, http_index: HttpCacheIndex | None = None,
) -> SessionOutcome:
    started = _now()
    t0 = time.perf_counter()
    out = SessionOutcome(target=t.label, event=t.event_name, session_type=t.session_type, outcome="failed")
    fingerprint = None
    if offline:
        folder = session_cache_dir(cache_dir, t.year, t.event_name, t.session_name)
        if folder is None:
            out.outcome, out.reason = "skipped", "not in the offline cache"
            out.total_s = time.perf_counter() - t0
            return out
        index = http_index or HttpCacheIndex(cache_dir)
        fingerprint = source_fingerprint(folder, index.digest(t.year, t.round))
        if t.status == "ingested" and t.content_hash and fingerprint == t.source_fingerprint:
            out.outcome, out.reason = "skipped", "unchanged (cache files)"
            with engine.begin() as conn:
                _record_run(conn, "session", t.label, started, "skipped", message=out.reason)
            out.total_s = time.perf_counter() - t0
            return out

    res = runner.call("session", str(cache_dir), offline, t.year, t.round, t.session_name,
                      timeout_s=timeout_s)
    out.child_s = res.get("wall_s")
    if not res["ok"]:
        out.reason = f"FastF1 load failed: {res['error']}"
        log.warning("ingest %s failed: %s", t.label, out.reason)
        _mark_failed(engine, t, started, out.reason)
        out.total_s = time.perf_counter() - t0
        return out
    value = res["value"]
    out.load_s = value["load_s"]
    _write_value(engine, t, value, fingerprint, started, out)
    out.total_s = time.perf_counter() - t0
    return out


def _write_value(engine: Engine, t: _Target, value: dict[str, Any], fingerprint: str | None,
                 started: dt.datetime, out: SessionOutcome) -> None:
    """Store a loaded payload in ONE transaction (skip if its hash is unchanged)."""
    w0 = time.perf_counter()
    try:
        with engine.begin() as conn:
            if value["hash"] == t.content_hash and t.status == "ingested":
                se = table(RaceSession)
                conn.execute(update(se).where(se.c.id == t.session_id)
                             .values(source_fingerprint=fingerprint, last_error=None))
                out.outcome, out.reason = "skipped", "unchanged (content hash)"
            else:
                out.rows = write_session_payload(
                    conn, session_id=t.session_id, year=t.year, payload=value["payload"],
                    content_hash=value["hash"], fingerprint=fingerprint,
                    history_filled=t.history_at is not None,
                )
                out.outcome = "added" if t.content_hash is None else "updated"
            _record_run(conn, "session", t.label, started, out.outcome, out.rows, out.reason)
    except Exception as exc:  # the transaction rolled back: the store is as before
        log.exception("ingest %s: store write failed", t.label)
        out.outcome, out.reason, out.rows = "failed", f"store write failed: {type(exc).__name__}: {exc}", 0
        _mark_failed(engine, t, started, out.reason)
    out.write_s = time.perf_counter() - w0


def write_payload(engine: Engine, year: int, round_: int, session_type: str,
                  value: dict[str, Any], *, fingerprint: str | None = None) -> SessionOutcome:
    """Store an already loaded payload (`load_payload`'s result, possibly re-hashed) for a
    scheduled session: the same write path `ingest` uses. For tools, tests and benchmarks."""
    targets = [t for t in _targets(engine, year) if t.round == round_ and t.session_type == session_type]
    if not targets:
        raise IngestError(f"no {session_type} session for {year} round {round_} in the store")
    t = targets[0]
    out = SessionOutcome(target=t.label, event=t.event_name, session_type=t.session_type, outcome="failed")
    _write_value(engine, t, value, fingerprint, _now(), out)
    out.total_s = out.write_s or 0.0
    return out


def prepare_cache(cache_dir: str | Path, offline: bool) -> Path:
    cache = Path(cache_dir).expanduser()
    if offline and not cache.is_dir():
        raise IngestError(f"cache dir not found: {cache}")
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def _sync_schedule(engine: Engine, runner: ChildRunner, cache: Path, offline: bool, year: int,
                   timeout: float) -> str:
    """Load the season's schedule (offline: once, then the store's); returns its source."""
    if offline and _schedule_cached(engine, year):
        return "store"
    started = _now()
    res = runner.call("schedule", str(cache), offline, year, timeout_s=timeout)
    if not res["ok"]:
        with engine.begin() as conn:
            _record_run(conn, "schedule", str(year), started, "failed", message=res["error"])
        raise IngestError(f"unknown year {year}: {res['error']}")
    with engine.begin() as conn:
        write_schedule(conn, year, res["value"])
        _record_run(conn, "schedule", str(year), started, "added", len(res["value"]))
    return "fastf1"


def _select(engine: Engine, year: int, event: str | int | None, code: str | None) -> list[_Target]:
    """The stored sessions of `year`, narrowed to `event` / `code` (IngestError if none)."""
    targets = _targets(engine, year)
    if not targets:
        raise IngestError(f"unknown year {year}: no events in the schedule")
    if event is not None:
        rnd = _match_event(targets, engine, year, event)
        targets = [t for t in targets if t.round == rnd]
    if code is not None:
        chosen = [t for t in targets if t.session_type == code]
        if not chosen:
            where = f"{year} round {targets[0].round} ({targets[0].event_name})" if event is not None else str(year)
            raise IngestError(f"no {code} session in {where}")
        targets = chosen
    return targets


def ingest(
    engine: Engine,
    year: int,
    event: str | int | None = None,
    session: str | None = None,
    *,
    cache_dir: str | Path,
    offline: bool = True,
    progress: Progress | None = None,
    timeout_s: float | None = None,
    runner: ChildRunner | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Ingest a season's schedule and its completed sessions (or one event / session).

    A season or event-wide call tries only sessions that have ENDED (`end_utc`, else
    start + the type's typical duration, plus `ENDED_MARGIN`, judged at `now`,
    default the current time); the others are listed in `report.pending`. A single
    session (year + event + session) is always attempted: FastF1 and our
    completeness checks tell whether its data is there (see `ingest_session`).

    Raises IngestError for bad input before anything is written; per-session
    failures are reported in the returned IngestReport instead. Pass a `runner`
    to reuse one FastF1 child process across calls (several seasons in a row:
    spawning and importing FastF1 costs ~1-2 s); the caller then closes it.
    """
    t_start = time.perf_counter()
    cache = prepare_cache(cache_dir, offline)
    code = session_code(session) if session is not None else None
    timeout = timeout_s if timeout_s is not None else DEFAULT_TIMEOUT_S
    report = IngestReport(year=year)

    with contextlib.nullcontext(runner) if runner is not None else ChildRunner() as runner:
        report.schedule_source = _sync_schedule(engine, runner, cache, offline, year, timeout)
        targets = _select(engine, year, event, code)
        if event is None or code is None:
            # Not one named session: only those that have ended. (The old rule,
            # "started 3 h ago", wasted the scheduler's first attempts at end + 30 min.)
            at = now or _now()
            ready = [t for t in targets if _eligible(t, now=at, offline=offline)]
            report.pending = [t.label for t in targets if t not in ready]
            targets = ready

        total = len(targets)
        # Read before any load of this run: the fingerprint describes the source we loaded.
        http_index = HttpCacheIndex(cache) if offline else None
        for i, t in enumerate(targets):
            if progress:
                progress(i, total, f"{t.label} {t.event_name}")
            report.sessions.append(
                _ingest_one(engine, runner, t, cache_dir=cache, offline=offline, timeout_s=timeout,
                            http_index=http_index)
            )
        if progress:
            progress(total, total, "done")
    report.elapsed_s = time.perf_counter() - t_start
    return report


async def ingest_async(engine: Engine, year: int, event: str | int | None = None,
                       session: str | None = None, **kwargs: Any) -> IngestReport:
    """`ingest` off the event loop (it blocks on the child process and the DB)."""
    return await asyncio.to_thread(ingest, engine, year, event, session, **kwargs)


def ingest_session(
    engine: Engine,
    year: int,
    event: str | int,
    session: str,
    *,
    cache_dir: str | Path,
    offline: bool = True,
    runner: ChildRunner | None = None,
    timeout_s: float | None = None,
) -> SessionOutcome:
    """Ingest ONE session now, whether or not it has ended (live polls, scheduled attempts).

    The stored schedule is used when it already has the year (no FastF1 schedule
    load: a live poll every minute must not re-download it); otherwise it is
    synced first. A session with nothing published yet comes back `skipped` (offline:
    "not in the offline cache") or `failed` with FastF1's reason; a partial load is
    `failed` ("laps or results did not load") and leaves the store as it was; an
    unchanged one is `skipped` cheaply. Raises IngestError for bad input only.
    Pass a `runner` to keep one FastF1 child across calls; the caller closes it.
    """
    cache = prepare_cache(cache_dir, offline)
    code = session_code(session)
    timeout = timeout_s if timeout_s is not None else DEFAULT_TIMEOUT_S
    with contextlib.nullcontext(runner) if runner is not None else ChildRunner() as runner:
        if not _targets(engine, year):
            _sync_schedule(engine, runner, cache, offline, year, timeout)
        t = _select(engine, year, event, code)[0]  # one session per event and type
        return _ingest_one(engine, runner, t, cache_dir=cache, offline=offline, timeout_s=timeout)


async def ingest_session_async(engine: Engine, year: int, event: str | int, session: str,
                               **kwargs: Any) -> SessionOutcome:
    """`ingest_session` off the event loop (it blocks on the child process and the DB)."""
    return await asyncio.to_thread(ingest_session, engine, year, event, session, **kwargs)


def load_payload(cache_dir: str | Path, year: int, round_: int, session_name: str, *,
                 offline: bool = True, timeout_s: float | None = None) -> dict[str, Any]:
    """Load one session's normalized payload in a child (for tools, tests, benchmarks).

    Returns {"payload", "hash", "load_s"} or raises IngestError with the reason.
    """
    with ChildRunner() as runner:
        res = runner.call("session", str(cache_dir), offline, year, round_, session_name,
                          timeout_s=timeout_s or DEFAULT_TIMEOUT_S)
    if not res["ok"]:
        raise IngestError(res["error"])
    return res["value"]  # type: ignore[no-any-return]
