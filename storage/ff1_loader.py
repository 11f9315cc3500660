"""FastF1 side of ingestion: runs ONLY inside the ingest child process.

Everything here returns plain, picklable Python data (dicts, lists, tuples of
str / int / float / bool / None) so the parent never imports FastF1 or pandas
objects. FastF1 keeps global state (its class-level `Cache`), logs instead of
raising on missing data, and can call `exit()`: that is why it lives in a
child process (see `storage.ingest`), and why this module checks what really
loaded instead of trusting `Session.load()` returning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

# Column order of a lap tuple in the payload (parent relies on it).
LAP_FIELDS: tuple[str, ...] = (
    "driver_number",
    "lap_number",
    "lap_time_ms",
    "s1_ms",
    "s2_ms",
    "s3_ms",
    "time_ms",
    "lap_start_ms",
    "compound",
    "tyre_life",
    "fresh_tyre",
    "stint",
    "pit_in_ms",
    "pit_out_ms",
    "position",
    "track_status",
    "deleted",
    "deleted_reason",
    "is_personal_best",
    "speed_trap_kph",
    "is_accurate",
)


class LoadFailed(Exception):
    """FastF1 returned, but without the data a session needs (a partial load)."""


def configure(cache_dir: str, offline: bool) -> None:
    """Point FastF1 at `cache_dir`. Order matters: configure first, then go offline."""
    import fastf1

    # The shipped pickles were written by an older FastF1; without ignore_version it
    # tries to re-download them, fails offline and may call exit().
    fastf1.Cache.configure(cache_dir=cache_dir, ignore_version=True)
    fastf1.Cache.offline_mode(offline)
    logging.getLogger("fastf1").setLevel(logging.ERROR)
    # Offline, FastF1 warns for every request the cache cannot answer (504): noise
    # here, because we check what actually loaded ourselves.
    warnings.simplefilter("ignore")


def _none(v: Any) -> Any:
    """NaN / NaT / pandas NA / empty string → None; numpy scalars → Python scalars."""
    if v is None:
        return None
    try:
        import pandas as pd

        if v is pd.NaT or (not isinstance(v, (str, bytes, list, dict)) and pd.isna(v)):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


def _ms_list(series: Any) -> list[int | None]:
    """A timedelta column as integer milliseconds (None where NaT)."""
    import pandas as pd

    td = pd.to_timedelta(series)
    mask = td.isna().tolist()
    vals = (td.fillna(pd.Timedelta(0)).astype("int64") // 1_000_000).tolist()
    return [None if m else int(v) for v, m in zip(vals, mask, strict=True)]


def _int_list(series: Any) -> list[int | None]:
    return [None if _none(v) is None else int(v) for v in series.tolist()]


def _float_list(series: Any) -> list[float | None]:
    return [None if _none(v) is None else float(v) for v in series.tolist()]


def _bool_list(series: Any) -> list[bool | None]:
    return [None if _none(v) is None else bool(v) for v in series.tolist()]


def _str_list(series: Any) -> list[str | None]:
    out: list[str | None] = []
    for v in series.tolist():
        v = _none(v)
        out.append(None if v is None else str(v))
    return out


def _utc_iso(v: Any) -> str | None:
    v = _none(v)
    if v is None:
        return None
    try:
        import pandas as pd

        ts = pd.Timestamp(v)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.isoformat()
    except Exception:
        return None


def payload_hash(payload: dict[str, Any]) -> str:
    """Stable hash of a normalized payload (sorted keys, plain types)."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def load_schedule(cache_dir: str, offline: bool, year: int) -> list[dict[str, Any]]:
    """The season's events (no testing) with their sessions, as plain dicts."""
    import fastf1

    configure(cache_dir, offline)
    try:
        sched = fastf1.get_event_schedule(year, include_testing=False)
    except ValueError as exc:  # "Failed to load any schedule data."
        raise LoadFailed(f"no schedule for {year} ({exc})") from exc
    events: list[dict[str, Any]] = []
    for _, ev in sched.iterrows():
        rnd = _none(ev.get("RoundNumber"))
        if rnd is None or int(rnd) <= 0:
            continue
        sessions = []
        for i in range(1, 6):
            name = _none(ev.get(f"Session{i}"))
            if name is None:
                continue
            sessions.append({"name": str(name), "start_utc": _utc_iso(ev.get(f"Session{i}DateUtc"))})
        date = _none(ev.get("EventDate"))
        events.append(
            {
                "round": int(rnd),
                "name": str(ev["EventName"]),
                "official_name": _none(ev.get("OfficialEventName")),
                "country": _none(ev.get("Country")),
                "location": _none(ev.get("Location")),
                "date": date.date().isoformat() if date is not None else None,
                "format": _none(ev.get("EventFormat")),
                "sessions": sessions,
            }
        )
    if not events:
        raise LoadFailed(f"no schedule for {year} (empty)")
    return events


def load_session(
    cache_dir: str, offline: bool, year: int, round_: int, session_name: str
) -> dict[str, Any]:
    """Load one session through FastF1's real loader and normalize it.

    Raises LoadFailed when laps or results did not really load (FastF1 often
    only logs a missing part and "succeeds").
    """
    import fastf1

    configure(cache_dir, offline)
    t0 = time.perf_counter()
    ses = fastf1.get_session(year, round_, session_name)
    ses.load(laps=True, telemetry=False, weather=True, messages=True)
    try:
        laps = ses.laps
        results = ses.results
    except Exception as exc:  # DataNotLoadedError: the feed is missing / incomplete
        raise LoadFailed(f"laps or results did not load ({type(exc).__name__}: {exc})") from exc
    if results is None or len(results) == 0 or "Abbreviation" not in results:
        raise LoadFailed("results did not load (no drivers)")
    if laps is None or len(laps) == 0:
        raise LoadFailed("laps did not load (no laps)")
    load_s = time.perf_counter() - t0

    drivers: list[dict[str, Any]] = []
    res_rows: list[dict[str, Any]] = []
    q = {k: _ms_list(results[k]) if k in results else [None] * len(results) for k in ("Q1", "Q2", "Q3", "Time")}
    for i, (_, r) in enumerate(results.iterrows()):
        num = str(_none(r.get("DriverNumber")))
        drivers.append(
            {
                k: (None if _none(r.get(k)) is None else str(_none(r.get(k))))
                for k in (
                    "DriverNumber", "Abbreviation", "DriverId", "FirstName", "LastName",
                    "FullName", "CountryCode", "TeamName", "TeamId", "TeamColor",
                )
            }
        )
        pos = _none(r.get("Position"))
        grid = _none(r.get("GridPosition"))
        laps_done = _none(r.get("Laps"))
        points = _none(r.get("Points"))
        res_rows.append(
            {
                "driver_number": num,
                "position": None if pos is None else int(pos),
                "position_text": None if _none(r.get("ClassifiedPosition")) is None else str(r.get("ClassifiedPosition")),
                "grid": None if grid is None else int(grid),
                "status": _none(r.get("Status")),
                "points": None if points is None else float(points),
                "time_raw_ms": q["Time"][i],
                "laps": None if laps_done is None else int(laps_done),
                "q1_ms": q["Q1"][i],
                "q2_ms": q["Q2"][i],
                "q3_ms": q["Q3"][i],
            }
        )

    cols = {
        "driver_number": _str_list(laps["DriverNumber"]),
        "lap_number": _int_list(laps["LapNumber"]),
        "lap_time_ms": _ms_list(laps["LapTime"]),
        "s1_ms": _ms_list(laps["Sector1Time"]),
        "s2_ms": _ms_list(laps["Sector2Time"]),
        "s3_ms": _ms_list(laps["Sector3Time"]),
        "time_ms": _ms_list(laps["Time"]),
        "lap_start_ms": _ms_list(laps["LapStartTime"]),
        "compound": _str_list(laps["Compound"]),
        "tyre_life": _int_list(laps["TyreLife"]),
        "fresh_tyre": _bool_list(laps["FreshTyre"]),
        "stint": _int_list(laps["Stint"]),
        "pit_in_ms": _ms_list(laps["PitInTime"]),
        "pit_out_ms": _ms_list(laps["PitOutTime"]),
        "position": _int_list(laps["Position"]),
        "track_status": _str_list(laps["TrackStatus"]),
        "deleted": _bool_list(laps["Deleted"]) if "Deleted" in laps else [None] * len(laps),
        "deleted_reason": _str_list(laps["DeletedReason"]) if "DeletedReason" in laps else [None] * len(laps),
        "is_personal_best": _bool_list(laps["IsPersonalBest"]),
        "speed_trap_kph": _float_list(laps["SpeedST"]),
        "is_accurate": _bool_list(laps["IsAccurate"]),
    }
    lap_rows = [t for t in zip(*(cols[f] for f in LAP_FIELDS), strict=True) if t[1] is not None]

    rcm: list[dict[str, Any]] = []
    try:
        msgs = ses.race_control_messages
    except Exception:
        msgs = None
    if msgs is not None and len(msgs):
        for _, m in msgs.iterrows():
            sector = _none(m.get("Sector"))
            lap = _none(m.get("Lap"))
            rcm.append(
                {
                    "time_utc": _utc_iso(m.get("Time")),
                    "lap": None if lap is None else int(lap),
                    "category": _none(m.get("Category")),
                    "message": str(_none(m.get("Message")) or ""),
                    "status": _none(m.get("Status")),
                    "flag": _none(m.get("Flag")),
                    "scope": _none(m.get("Scope")),
                    "sector": None if sector is None else int(sector),
                    "racing_number": None if _none(m.get("RacingNumber")) is None else str(m.get("RacingNumber")),
                }
            )

    weather: list[tuple[Any, ...]] = []
    try:
        w = ses.weather_data
    except Exception:
        w = None
    if w is not None and len(w):
        weather = list(
            zip(
                _ms_list(w["Time"]),
                _float_list(w["AirTemp"]),
                _float_list(w["TrackTemp"]),
                _float_list(w["Humidity"]),
                _float_list(w["Pressure"]),
                _bool_list(w["Rainfall"]),
                _int_list(w["WindDirection"]),
                _float_list(w["WindSpeed"]),
                strict=True,
            )
        )

    track: list[tuple[Any, ...]] = []
    try:
        ts = ses.track_status
    except Exception:
        ts = None
    if ts is not None and len(ts):
        track = list(zip(_ms_list(ts["Time"]), _str_list(ts["Status"]), _str_list(ts["Message"]), strict=True))

    info = getattr(ses, "session_info", None) or {}
    total_laps = None
    try:
        total_laps = _none(ses.total_laps)
    except Exception:
        pass
    offset = info.get("GmtOffset")
    start = info.get("StartDate")
    end = info.get("EndDate")
    if offset is not None:  # session_info dates are local time
        start = start - offset if start is not None else None
        end = end - offset if end is not None else None
    payload: dict[str, Any] = {
        "session": {
            "start_utc": _utc_iso(start),
            "end_utc": _utc_iso(end),
            "total_laps": None if total_laps is None else int(total_laps),
            "archive_status": (info.get("ArchiveStatus") or {}).get("Status"),
        },
        "drivers": drivers,
        "results": res_rows,
        "laps": [list(t) for t in lap_rows],
        "rcm": rcm,
        "weather": [list(t) for t in weather],
        "track_status": [list(t) for t in track],
    }
    return {"payload": payload, "hash": payload_hash(payload), "load_s": load_s}


def guarded(fn_name: str | Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Child entry point: run `fn_name` ("schedule" / "session" or a module-level
    callable) and turn EVERY failure into data.

    Catches BaseException on purpose: FastF1 may call `exit()` (SystemExit), and
    a SystemExit escaping here would end the worker and break the pool.
    """
    t0 = time.perf_counter()
    try:
        fn = (
            {"schedule": load_schedule, "session": load_session}[fn_name]
            if isinstance(fn_name, str)
            else fn_name
        )
        value = fn(*args)
        return {"ok": True, "value": value, "elapsed_s": time.perf_counter() - t0}
    except BaseException as exc:  # noqa: BLE001 - see docstring
        kind = "exit() called" if isinstance(exc, SystemExit) else type(exc).__name__
        return {"ok": False, "error": f"{kind}: {exc}".strip().rstrip(":"), "elapsed_s": time.perf_counter() - t0}
