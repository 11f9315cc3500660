"""Context builder: exactly the facts a question needs, as compact JSON-able dicts.

The deterministic answer is written from it, and the LLM path phrases only that
answer's claims (`bot/claims.py`), so a model can state nothing the context
does not hold. Times are pre-formatted strings ("1:25.072", "+6.064s") so a
number means the same thing in the context, the prompt and the answer.
Every context carries freshness: when the data was written and whether the
classification is provisional or final.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Engine

from bot import format as f
from bot.compare import common_lap_delta, lap_stats
from bot.intents import all_intents
from bot.resolve import Resolved
from storage import queries as q
from storage.queries import (
    Classification,
    DriverInfo,
    EventInfo,
    FlagsReport,
    PenaltyReport,
    ResultRow,
    SessionInfo,
    StandingRow,
    TrackStatusPeriod,
    WeatherSummary,
    fold,
)
from storage.store import Store

Ctx = dict[str, Any]


def event_ctx(e: EventInfo) -> Ctx:
    return {
        "name": e.name,
        "year": e.year,
        "round": e.round,
        "date": e.date.isoformat() if e.date else None,
        "circuit": e.circuit_name,
        "location": e.location,
        "country": e.country,
    }


def freshness(s: SessionInfo) -> Ctx:
    sources = [n for n, t in (("live timing", s.ingested_at), ("history", s.history_at)) if t]
    return {
        "classification": s.classification or "none",
        "updated_at": f.utc(s.updated_at) if s.updated_at else None,
        "sources": sources,
    }


def session_ctx(s: SessionInfo) -> Ctx:
    return {"type": s.type, "name": s.name, "total_laps": s.total_laps, "freshness": freshness(s)}


def driver_ctx(d: DriverInfo) -> Ctx:
    return {"code": d.code, "name": d.name, "number": d.number}


def result_ctx(r: ResultRow, session_type: str) -> Ctx:
    out: Ctx = {
        "pos": f.pos_cell(r.position, r.position_text, r.outcome) if r.position is None else r.position,
        "code": r.driver.code,
        "driver": r.driver.name,
        "team": r.team_name,
    }
    if session_type in ("Q", "SQ"):
        for name, ms in (("q1", r.q1_ms), ("q2", r.q2_ms), ("q3", r.q3_ms)):
            if ms:
                out[name] = f.lap_time(ms)
        return out
    out["grid"] = r.grid if r.started else None  # a car that never started had no grid slot
    out["pit_lane_start"] = True if r.pit_lane_start else None
    out["status"] = r.status
    out["result"] = f.result_phrase(r.outcome, r.position, r.status, r.laps)  # official wording
    out["provisional"] = True if r.provisional else None
    out["points"] = f.points(r.points) if r.points is not None else None
    if r.position == 1 and r.time_ms:
        out["time"] = f.race_time(r.time_ms)
    elif r.gap_ms is not None:
        out["gap"] = f.gap(r.gap_ms)
    out["laps"] = r.laps
    return {k: v for k, v in out.items() if v is not None}


def standing_ctx(s: StandingRow) -> Ctx:
    return {"pos": s.position, "name": s.name, "code": s.code, "points": f.points(s.points), "wins": s.wins}


def _short(d: DriverInfo) -> str:
    """Code, else surname (drivers of the early decades have no code)."""
    return d.code or d.last_name or d.name


def _gap_between(cls: Classification, a: DriverInfo, b: DriverInfo) -> Ctx | None:
    """The single gap between two drivers' finishes (race / sprint: from the stored gaps or
    total times; qualifying: best laps of the last part both drivers ran)."""
    rows = {r.driver.id: r for r in cls.rows}
    ra, rb = rows.get(a.id), rows.get(b.id)
    if ra is None or rb is None:
        return None
    if cls.session.type in ("Q", "SQ"):
        for part in ("q3_ms", "q2_ms", "q1_ms"):
            ta, tb = getattr(ra, part), getattr(rb, part)
            if ta and tb:
                ahead, behind = (ra, rb) if ta <= tb else (rb, ra)
                return {"ahead": _short(ahead.driver), "behind": _short(behind.driver),
                        "gap": f.seconds(abs(ta - tb)), "part": part[:2].upper(),
                        "ahead_time": f.lap_time(min(ta, tb)), "behind_time": f.lap_time(max(ta, tb))}
        return None
    ga = 0 if ra.position == 1 else _gap_ms(cls, ra)
    gb = 0 if rb.position == 1 else _gap_ms(cls, rb)
    if ga is None or gb is None:
        # A lapped or retired driver has no time gap: say who finished ahead, not a number.
        pa = ra.position if ra.position is not None else 999
        pb = rb.position if rb.position is not None else 999
        ahead, behind = (ra, rb) if pa <= pb else (rb, ra)
        return {"ahead": _short(ahead.driver), "behind": _short(behind.driver), "gap": None,
                "behind_status": behind.status or behind.position_text}
    ahead, behind = (ra, rb) if ga <= gb else (rb, ra)
    return {"ahead": _short(ahead.driver), "behind": _short(behind.driver), "gap": f.seconds(abs(gb - ga)),
            "ahead_pos": ahead.position, "behind_pos": behind.position}


def _gap_ms(cls: Classification, row: ResultRow) -> int | None:
    """Gap to the winner: stored, or derived from total race times when both are known."""
    if row.gap_ms is not None:
        return row.gap_ms
    winner = cls.rows[0] if cls.rows else None
    if winner and winner.time_ms and row.time_ms and row is not winner:
        return row.time_ms - winner.time_ms
    return None


async def build_context(store: Store, res: Resolved, *, now: dt.datetime) -> Ctx:
    """Pull the facts for `res.focus` from the store."""
    ctx: Ctx = {"focus": res.focus}
    if res.drivers:
        ctx["drivers"] = [driver_ctx(d) for d in res.drivers]
    intent = all_intents().get(res.focus)
    if intent is not None:
        return {**ctx, **await intent.build(store, res, now)}
    if res.focus == "schedule":
        items = await store.upcoming_sessions(now, limit=5)
        ctx["now"] = f.utc(now)
        ctx["upcoming"] = [
            {"event": i.event.name, "year": i.event.year, "round": i.event.round, "session": i.session_name,
             "start": f.utc(i.start_utc), "in": f.countdown(i.start_utc - now)}
            for i in items
        ]
        return ctx
    if res.focus == "standings":
        st = await store.standings(res.standings_kind, res.year, res.round)
        ctx["standings"] = None
        if st is not None:
            rows = list(st.rows[:10])
            for d in res.drivers:
                rows += [r for r in st.rows[10:] if r.driver and r.driver.id == d.id]
            if res.position and res.position > 10:
                rows += [r for r in st.rows[10:] if r.position == res.position]
            if res.position:
                ctx["position"] = res.position  # "who came second in the championship"
            ctx["standings"] = {
                "kind": st.kind, "year": st.year, "after_round": st.round,
                "after_event": st.event.name if st.event else None,
                "rows": [standing_ctx(r) for r in rows],
            }
        return ctx
    if res.focus == "form" and res.event is None:
        if res.drivers:
            d = res.drivers[0]
            year = res.year or await store.last_year_of_driver(d.id)
            form = await store.driver_form(d.id, year) if year else None
            ctx["form"] = form_ctx(form) if form else None
            if form is None and year:
                ctx["form_missing"] = {"driver": d.name, "year": year}
        return ctx
    if res.event is None:
        return ctx
    ctx["event"] = event_ctx(res.event)
    if res.event.date is not None and res.event.date >= now.date():
        ctx["not_run_yet"] = True  # no results is expected, and a forecast is the useful answer
    if res.session is None:
        ctx["session"] = None
        ctx["session_type"] = res.session_type
        return ctx
    s = res.session
    ctx["session"] = session_ctx(s)
    if res.focus in ("winner", "podium", "results", "gap", "unknown", "form", "pole"):
        cls = await store.results(s.id)
        ctx["results"] = _results_for(cls, res) if cls else []
        if cls and res.teams:
            ctx["teams"] = [
                {"name": name, "codes": [r.driver.code for r in cls.rows if r.constructor_ref == ref]}
                for ref, name in res.teams
            ]
        if cls and res.focus == "gap" and len(res.drivers) >= 2:
            ctx["gap_between"] = _gap_between(cls, res.drivers[0], res.drivers[1])
    elif res.focus == "fastest_lap":
        fl = await store.fastest_lap(s.id)
        ctx["fastest_lap"] = (
            {"code": fl.driver.code, "driver": fl.driver.name, "time": f.lap_time(fl.lap_time_ms),
             "lap": fl.lap_number, "compound": fl.compound}
            if fl else None
        )
    elif res.focus == "pitstops":
        ids = [d.id for d in res.drivers] or [None]
        stops = [p for i in ids for p in await store.pit_stops(s.id, i)]
        ctx["pit_stops"] = [
            {"code": p.driver.code, "driver": p.driver.name, "stop": p.stop, "lap": p.lap,
             "time": f.pit_lane(p.duration_ms, p.pit_lane_ms), "under_red_flag": p.under_red_flag}
            for p in stops
        ]
    elif res.focus == "stints":
        ids = [d.id for d in res.drivers] or [None]
        rows = [r for i in ids for r in await store.stints(s.id, i)]
        ctx["stints"] = [
            {"code": r.driver.code, "driver": r.driver.name, "stint": r.stint, "compound": r.compound,
             "from_lap": r.start_lap, "to_lap": r.end_lap, "laps": r.laps}
            for r in rows
        ]
    elif res.focus == "laps":
        ctx["laps"] = {}
        first, last = res.lap_range or (None, None)
        for d in res.drivers[:2]:
            laps = await store.laps_of_driver(s.id, d.id, first=first, last=last)
            ctx["laps"][d.code or d.ref] = [
                {"lap": lap.lap_number, "time": f.lap_time(lap.lap_time_ms), "compound": lap.compound,
                 "pos": lap.position, "pit": "in" if lap.pit_in else ("out" if lap.pit_out else None)}
                for lap in laps
            ]
    elif res.focus in ("compare", "pace"):
        ctx["compare"] = await compare_ctx(store, s, res.drivers[:2], res.lap_range)
    elif res.focus == "weather":
        ctx["weather"] = weather_ctx(await store.run(q.weather_summary, s.id))
    elif res.focus == "flags":
        ctx["track_status"] = flags_ctx(await store.run(q.flags, s.id), yellow=bool(_YELLOW.search(fold(res.text))))
    elif res.focus == "penalties":
        ctx["penalties"] = penalties_ctx(await store.run(q.penalties, s.id), res.drivers, race=s.type in ("R", "S"))
    return ctx


def _results_for(cls: Classification, res: Resolved) -> list[Ctx]:
    n = {"winner": 1, "podium": 3, "pole": 3}.get(res.focus, 10)
    wanted = {d.id for d in res.drivers}
    teams = {ref for ref, _ in res.teams}
    rows = [r for i, r in enumerate(cls.rows)
            if i < n or r.driver.id in wanted or (r.constructor_ref is not None and r.constructor_ref in teams)]
    out = []
    for r in rows:
        item = result_ctx(r, cls.session.type)
        if cls.session.type not in ("Q", "SQ") and "gap" not in item and r.position != 1:
            g = _gap_ms(cls, r)
            if g is not None:
                item["gap"] = f.gap(g)
        out.append(item)
    return out


async def compare_ctx(
    store: Store, s: SessionInfo, drivers: list[DriverInfo], lap_range: tuple[int | None, int | None] | None
) -> Ctx | None:
    """Head-to-head facts. All reads and the lap statistics run in one store thread:
    five queries and the number crunching would otherwise be five loop hops plus
    a millisecond of CPU on the event loop per question."""
    if len(drivers) < 2:
        return None
    return await store.run(_compare_sync, s, drivers, lap_range)


def _compare_sync(
    engine: Engine, s: SessionInfo, drivers: list[DriverInfo], lap_range: tuple[int | None, int | None] | None
) -> Ctx:
    first, last = lap_range or (None, None)
    out: Ctx = {"lap_range": [first, last] if lap_range else None, "drivers": []}
    laps = [q.laps_of_driver(engine, s.id, d.id, first=first, last=last) for d in drivers]
    cls = q.results(engine, s.id)
    by_driver = {r.driver.id: r for r in cls.rows} if cls else {}
    for d, dl in zip(drivers, laps, strict=True):
        st = lap_stats(dl)
        r = by_driver.get(d.id)
        # Drivers of the early decades have no three-letter code: their surname stands in.
        item: Ctx = {"code": d.code or d.last_name or d.name, "driver": d.name}
        if r is not None:
            item["finish"] = f.pos_cell(r.position, r.position_text, r.outcome) if r.position is None else r.position
            if r.grid is not None:
                item["grid"] = r.grid
            if r.points is not None:
                item["points"] = f.points(r.points)
        if dl:
            item.update({
                "laps_used": st.laps_used,
                "median_lap": f.lap_time(st.median_ms),
                "best_lap": f.lap_time(st.best_ms),
                "best_lap_number": st.best_lap,
                "consistency_stdev": f.seconds(st.stdev_ms) if st.stdev_ms is not None else None,
                "best_sectors": [f.seconds(x) for x in (st.best_s1_ms, st.best_s2_ms, st.best_s3_ms)],
                "ideal_lap": f.lap_time(st.ideal_ms) if st.ideal_ms else None,
            })
            stints = q.stints(engine, s.id, d.id)
            item["stints"] = [f"{x.compound or '?'} {x.start_lap}-{x.end_lap}" for x in stints]
        out["drivers"].append(item)
    if laps[0] and laps[1]:
        delta = common_lap_delta(laps[0], laps[1])
        if delta is not None:
            mean, n = delta
            faster = drivers[0] if mean < 0 else drivers[1]
            out["pace_delta"] = {"faster": faster.code, "per_lap": f.seconds(abs(mean)), "common_laps": n}
    out["has_laps"] = bool(laps[0] and laps[1])
    return out


def form_ctx(form: Any) -> Ctx:
    st = form.standing
    return {
        "driver": form.driver.name,
        "code": form.driver.code,
        "year": form.year,
        "races": len(form.races),
        "wins": form.wins,
        "podiums": form.podiums,
        "points": f.points(st.points if st else form.points),
        "championship_pos": st.position if st else None,
        "last_results": [
            {"round": r.round, "event": r.event_name, "grid": r.grid,
             "pos": r.position if r.position is not None else f.pos_cell(None, r.position_text, r.outcome)}
            for r in form.races[-5:]
        ],
    }


# --------------------------------------------------------------------------- weather & race control
#
# `None` from these builders means "not held for this session" (history-only
# sessions have no weather or race control rows); the answer says so plainly.
# Numbers are pre-formatted strings, so the answer and the claim guard see the
# same figure ("29.2", "39": whole values without a ".0").

_YELLOW = re.compile(r"\byellows?\b")
MAX_FLAG_MESSAGES = 8
MAX_SPANS = 12


def _num(x: float | None) -> str | None:
    if x is None:
        return None
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def _range(lo: float | None, hi: float | None) -> Ctx | None:
    return None if lo is None or hi is None else {"min": _num(lo), "max": _num(hi)}


def _when(at: tuple[str, int | None] | None) -> str | None:
    """(phase, lap) → "lap 54" / "before the start" / None when unknown."""
    if at is None:
        return None
    phase, lap = at
    if phase == "race":
        return f"lap {lap}"
    return None if phase == "unknown" else phase


def weather_ctx(w: WeatherSummary | None) -> Ctx | None:
    if w is None:
        return None
    out: Ctx = {"over": "the race" if w.window == "race" else "the session", "readings": w.samples,
                "rain": w.rain_samples > 0}
    if w.air_min is not None:
        out["air_c"] = {**(_range(w.air_min, w.air_max) or {}), "start": _num(w.air_start), "end": _num(w.air_end)}
    if w.track_min is not None:
        out["track_c"] = {**(_range(w.track_min, w.track_max) or {}),
                          "start": _num(w.track_start), "end": _num(w.track_end)}
    if (hum := _range(w.humidity_min, w.humidity_max)) is not None:
        out["humidity_pct"] = hum
    if w.wind_max is not None:
        out["wind_max_ms"] = _num(w.wind_max)
    if w.rain_samples:
        out["rain_readings"] = w.rain_samples
        out["rain_from"] = _when(w.rain_first)
        out["rain_to"] = _when(w.rain_last)
    if w.rain_risk:
        out["race_control_forecast"] = w.rain_risk
    return out


def _span(p: TrackStatusPeriod) -> str:
    if p.phase != "race":
        return "during the session" if p.phase == "unknown" else p.phase
    if p.to_lap is None or p.to_lap == p.from_lap:
        return f"lap {p.from_lap}"
    return f"laps {p.from_lap}-{p.to_lap}"


def flags_ctx(report: FlagsReport | None, *, yellow: bool = False) -> Ctx | None:
    """Safety car / VSC / red / yellow periods (in race laps) and race control's own words.

    Yellow-flag messages (often dozens of sector yellows) are included only when the
    question asks about yellows; safety car and red flag messages always are."""
    if report is None:
        return None
    groups: dict[str, list[str]] = {"safety_car": [], "virtual_safety_car": [], "red_flag": [], "yellow_flag": []}
    for p in report.periods:
        spans = groups.setdefault(p.label.replace(" ", "_"), [])
        span = _span(p)
        if not spans or spans[-1] != span:  # two yellows on lap 55 read as one
            spans.append(span)
    out: Ctx = {k: v[:MAX_SPANS] for k, v in groups.items()}
    msgs = [r for r in report.messages
            if yellow or "YELLOW" not in (r.flag or "").upper() and "YELLOW" not in r.message.upper()]
    out["messages"] = [
        {"time": r.time_utc.strftime("%H:%M UTC") if r.time_utc else None, "text": r.message}
        for r in msgs[:MAX_FLAG_MESSAGES]
    ]
    out["source"] = report.source  # "timing" or "history": the answer names it
    return out


def penalties_ctx(report: PenaltyReport | None, drivers: list[DriverInfo], *, race: bool = True) -> Ctx | None:
    """Stewards' penalties and warnings (for the named drivers, if any), investigations and
    track-limits deletions. Lap numbers only for races and sprints (see `storage.queries._LapClock`)."""
    if report is None:
        return None
    codes = {d.code for d in drivers if d.code}
    numbers = {str(d.number) for d in drivers if d.number is not None}

    def wanted(code: str | None, car: str | None) -> bool:
        return not drivers or (code in codes if code else car in numbers)

    def row(r: q.PenaltyRow) -> Ctx:
        item: Ctx = {"code": r.code, "car": r.car, "penalty": r.penalty.lower()}
        if race and r.lap is not None:
            item["lap"] = r.lap
        if r.reason:
            item["reason"] = r.reason.lower()
        return item

    out: Ctx = {
        "penalties": [row(r) for r in report.penalties if r.kind == "penalty" and wanted(r.code, r.car)],
        "warnings": [row(r) for r in report.penalties if r.kind == "warning" and wanted(r.code, r.car)],
        "track_limits_deleted": [{"driver": k, "laps_deleted": n} for k, n in report.deleted_laps
                                 if wanted(k if k.isalpha() else None, k if k.isdigit() else None)][:6],
    }
    if drivers:
        out["for_drivers"] = [d.code or d.name for d in drivers]
    else:
        out["investigations"] = report.investigated
    return out
