"""The deterministic answerer: plain sentences from a context dict, no model.

It handles the common questions (winner, podium, pole, fastest lap, a
driver's result, gaps, pit stops, stints, standings, head-to-head, schedule,
season form) and says plainly what it cannot answer. Every figure it prints
comes from the context, so it is also the truth the LLM path phrases and its fallback.
"""

from __future__ import annotations

from typing import Any

from bot import messages as m
from bot.intents import all_intents

Ctx = dict[str, Any]


def _who(r: Ctx) -> str:
    return f"{r.get('driver')} ({r.get('code')})" if r.get("code") else str(r.get("driver"))


def _title(ctx: Ctx) -> str:
    e = ctx.get("event") or {}
    s = ctx.get("session") or {}
    name = f"{e.get('year')} {e.get('name')}"
    return name if s.get("type", "R") == "R" else f"{name} {s.get('name', '').lower()}"


def _freshness_note(ctx: Ctx) -> str:
    if any(r.get("provisional") for r in ctx.get("results") or []):
        return "\n" + m.PROVISIONAL_ORDER
    fr = (ctx.get("session") or {}).get("freshness") or {}
    return "\n" + m.FRESHNESS_PROVISIONAL if fr.get("classification") == "provisional" else ""


def answer(ctx: Ctx) -> str:
    """Render the answer for `ctx["focus"]`; never invents a figure."""
    focus = ctx.get("focus", "unknown")
    intent = all_intents().get(focus)
    if intent is not None:
        return intent.render(ctx)
    if focus == "unsupported":
        return m.NOT_HELD_DATA
    if focus == "prediction":
        return m.NO_PREDICTIONS
    if focus == "schedule":
        return _schedule(ctx)
    if focus == "standings":
        return _standings(ctx)
    if focus == "form" and "event" not in ctx:
        return _form(ctx)
    if "event" not in ctx:
        return m.CANT_ANSWER
    if ctx.get("session") is None:
        e = ctx["event"]
        return m.NO_SESSION.format(session=_session_word(ctx.get("session_type", "R")), event=f"{e['year']} {e['name']}")
    handler = {
        "winner": _winner,
        "podium": _podium,
        "pole": _pole,
        "results": _results,
        "gap": _gap,
        "fastest_lap": _fastest,
        "pitstops": _pitstops,
        "stints": _stints,
        "laps": _laps,
        "compare": _compare,
        "pace": _compare,
        "form": _results,
        "weather": _weather,
        "flags": _flags,
        "penalties": _penalties,
    }.get(focus)
    if handler is None:
        return m.CANT_ANSWER
    return handler(ctx) + _freshness_note(ctx)


def _session_word(code: str) -> str:
    return {"R": "race", "Q": "qualifying", "S": "sprint", "SQ": "sprint qualifying"}.get(code, code)


def _no_results(ctx: Ctx) -> str:
    text = m.NO_RESULTS.format(session=_title(ctx))
    s = ctx.get("session") or {}
    if ctx.get("not_run_yet") and s.get("type", "R") == "R":
        e = ctx.get("event") or {}
        text += " " + m.NOT_RUN_FORECAST.format(year=e.get("year"), name=e.get("name"))
    return text


def _winner(ctx: Ctx) -> str:
    rows = ctx.get("results") or []
    if not rows:
        return _no_results(ctx)
    w = rows[0]
    extra = []
    if w.get("grid") is not None:
        extra.append("from pole" if w["grid"] == 1 else f"from P{w['grid']} on the grid")
    if w.get("time"):
        extra.append(f"in {w['time']}")
    tail = f" {', '.join(extra)}" if extra else ""
    if w.get("provisional"):  # the order on the road: nobody has "won" until it is official
        return f"**{_who(w)}** leads the provisional order of the {_title(ctx)} for {w.get('team', m.UNKNOWN_FIELD)}."
    return f"**{_who(w)}** won the {_title(ctx)} for {w.get('team', m.UNKNOWN_FIELD)}{tail}."


def _podium(ctx: Ctx) -> str:
    rows = (ctx.get("results") or [])[:3]
    if not rows:
        return _no_results(ctx)
    parts = []
    for r in rows:
        gap = f" ({r['gap']})" if r.get("gap") else ""
        parts.append(f"P{r['pos']} **{_who(r)}**, {r.get('team', m.UNKNOWN_FIELD)}{gap}")
    return f"Podium of the {_title(ctx)}:\n" + "\n".join(f"{i}. {p}" for i, p in enumerate(parts, 1))


def _pole(ctx: Ctx) -> str:
    rows = ctx.get("results") or []
    if not rows:
        return _no_results(ctx)
    p = rows[0]
    best = p.get("q3") or p.get("q2") or p.get("q1")
    tail = f" with {best}" if best else ""
    return f"**{_who(p)}** took pole for the {ctx['event']['year']} {ctx['event']['name']}{tail}."


def _driver_line(r: Ctx) -> str:
    # The wording comes from the OFFICIAL outcome ("finished" only for a classified car).
    if r.get("result"):
        s = f"**{_who(r)}** {r['result']}"
    elif isinstance(r.get("pos"), int):
        s = f"**{_who(r)}** finished P{r['pos']}"
    else:
        s = f"**{_who(r)}** was not classified ({r.get('status') or r.get('pos')})"
    if r.get("pit_lane_start"):
        s += f" ({m.PIT_LANE_START})"
    elif r.get("grid"):
        s += f", from P{r['grid']} on the grid"
    if r.get("gap"):
        s += f", {r['gap']} behind the winner"
    if r.get("points") not in (None, "0"):
        s += f", scoring {r['points']} points"
    return s + "."


def _results(ctx: Ctx) -> str:
    rows = ctx.get("results") or []
    if not rows:
        return _no_results(ctx)
    # By name: codes repeat across eras (VER is Vergne in 2014, Verstappen later) and the early
    # decades have none.
    wanted = {d.get("name") or d.get("code") for d in ctx.get("drivers", [])}
    if ctx.get("teams") and not wanted:
        parts = []
        for team in ctx["teams"]:
            lines = [_driver_line(r) for r in rows if r.get("code") in team["codes"]]
            parts.append(f"**{team['name']}**: " + (" ".join(lines) or "no classified result."))
        return f"{_title(ctx)}: " + "\n".join(parts)
    if wanted:
        lines = [_driver_line(r) for r in rows if (r.get("driver") or r.get("code")) in wanted]
        missing = wanted - {r.get("driver") or r.get("code") for r in rows}
        lines += [m.DRIVER_NOT_IN_SESSION.format(driver=c, what="result", session=_title(ctx)) for c in missing]
        return f"{_title(ctx)}: " + " ".join(lines)
    top = ", ".join(f"P{r['pos']} {r.get('code') or r.get('driver')}" for r in rows[:10])
    return f"Top 10 of the {_title(ctx)}: {top}."


def _gap(ctx: Ctx) -> str:
    rows = ctx.get("results") or []
    if len(rows) < 2:
        return _no_results(ctx)
    if "gap_between" in ctx:
        return _gap_between(ctx)
    wanted = {d["code"] for d in ctx.get("drivers", [])}
    target = next((r for r in rows if r.get("code") in wanted and r["pos"] != 1), rows[1])
    if not target.get("gap"):
        return f"I don't have the gap for {_who(target)} in the {_title(ctx)}."
    return f"**{_who(target)}** finished {target['gap']} behind winner {_who(rows[0])} in the {_title(ctx)}."


def _gap_between(ctx: Ctx) -> str:
    g = ctx.get("gap_between")
    codes = [d["code"] for d in ctx.get("drivers", [])][:2]
    if not g:
        have = {r.get("code") for r in ctx.get("results") or []}
        missing = [c for c in codes if c not in have] or codes[1:]
        return m.DRIVER_NOT_IN_SESSION.format(driver=missing[0], what="result", session=_title(ctx))
    if g.get("part"):  # qualifying
        return (f"**{g['ahead']}** was {g['gap']} faster than **{g['behind']}** in {g['part']} of the "
                f"{_title(ctx)} ({g['ahead_time']} vs {g['behind_time']}).")
    if g["gap"] is None:
        return (f"**{g['ahead']}** finished ahead of **{g['behind']}** in the {_title(ctx)}; "
                f"{g['behind']} has no time gap ({g.get('behind_status') or 'not classified on time'}).")
    return (f"**{g['behind']}** finished {g['gap']} behind **{g['ahead']}** in the {_title(ctx)} "
            f"({g['ahead']} P{g['ahead_pos']}, {g['behind']} P{g['behind_pos']}).")


def _fastest(ctx: Ctx) -> str:
    fl = ctx.get("fastest_lap")
    if not fl:
        return f"I have no fastest-lap data for the {_title(ctx)}."
    lap = f" on lap {fl['lap']}" if fl.get("lap") else ""
    tyre = f" on {fl['compound']} tyres" if fl.get("compound") else ""
    return f"**{_who(fl)}** set the fastest lap of the {_title(ctx)}: {fl['time']}{lap}{tyre}."


def _pitstops(ctx: Ctx) -> str:
    stops = ctx.get("pit_stops") or []
    if not stops:
        return m.NO_PIT_STOPS.format(session=_title(ctx))
    by: dict[str, list[Ctx]] = {}
    for p in stops:
        by.setdefault(p.get("code") or p["driver"], []).append(p)
    lines = []
    for code, ps in by.items():
        parts = []
        for p in ps:
            # One labelled pit-lane time per stop (official, else from timing data).
            notes = [x for x in (p.get("time"), m.PIT_UNDER_RED_FLAG if p.get("under_red_flag") else None) if x]
            parts.append(f"lap {p['lap']}" + (f" ({'; '.join(notes)})" if notes else ""))
        lines.append(f"- **{code}**: {len(ps)} stop{'s' if len(ps) > 1 else ''}: {', '.join(parts)}")
    return f"Pit stops in the {_title(ctx)}:\n" + "\n".join(lines) + "\n_" + m.PIT_TIMES_NOTE + "_"


def _stints(ctx: Ctx) -> str:
    stints = ctx.get("stints") or []
    if not stints:
        return m.NO_STINTS.format(session=_title(ctx))
    by: dict[str, list[Ctx]] = {}
    for s in stints:
        by.setdefault(s.get("code") or s["driver"], []).append(s)
    lines = [
        f"- **{code}**: " + ", ".join(f"{s['compound'] or '?'} laps {s['from_lap']}-{s['to_lap']}" for s in ss)
        for code, ss in by.items()
    ]
    return f"Tyre stints in the {_title(ctx)}:\n" + "\n".join(lines)


def _laps(ctx: Ctx) -> str:
    laps = ctx.get("laps") or {}
    if not laps:
        return "Name a driver to see their laps, e.g. *VER's laps at Monza 2023*."
    lines = []
    for code, rows in laps.items():
        if not rows:
            lines.append(m.DRIVER_NOT_IN_SESSION.format(driver=code, what="laps", session=_title(ctx)))
            continue
        shown = ", ".join(f"L{r['lap']} {r['time']}" for r in rows[:15])
        more = f" … ({len(rows)} laps)" if len(rows) > 15 else ""
        lines.append(f"**{code}**: {shown}{more}")
    return f"Laps in the {_title(ctx)}:\n" + "\n".join(lines)


def _compare(ctx: Ctx) -> str:
    c = ctx.get("compare")
    if not c:
        return m.NEED_TWO_DRIVERS
    a, b = c["drivers"]
    lines = [f"**{a['code']} vs {b['code']}**, {_title(ctx)}:"]
    if "finish" in a and "finish" in b:
        def fin(x: Ctx) -> str:
            return f"P{x['finish']}" if isinstance(x["finish"], int) else str(x["finish"])
        lines.append(f"- Result: {a['code']} {fin(a)} (grid {a.get('grid', '?')}), "
                     f"{b['code']} {fin(b)} (grid {b.get('grid', '?')})")
    if c.get("has_laps"):
        pd = c.get("pace_delta")
        if pd:
            lines.append(f"- Race pace: {pd['faster']} faster by {pd['per_lap']} per lap on average "
                         f"over {pd['common_laps']} comparable laps")
        lines.append(f"- Median lap: {a['code']} {a['median_lap']}, {b['code']} {b['median_lap']}")
        lines.append(f"- Best lap: {a['code']} {a['best_lap']} (lap {a['best_lap_number']}), "
                     f"{b['code']} {b['best_lap']} (lap {b['best_lap_number']})")
        lines.append(f"- Best sectors: {a['code']} {' / '.join(a['best_sectors'])}; "
                     f"{b['code']} {' / '.join(b['best_sectors'])}")
        if a.get("ideal_lap") and b.get("ideal_lap"):
            lines.append(f"- Ideal lap (best sectors): {a['code']} {a['ideal_lap']}, {b['code']} {b['ideal_lap']}")
        if a.get("consistency_stdev") and b.get("consistency_stdev"):
            lines.append(f"- Consistency (lap time spread): {a['code']} {a['consistency_stdev']}, "
                         f"{b['code']} {b['consistency_stdev']}")
        if a.get("stints") or b.get("stints"):
            lines.append(f"- Stints: {a['code']} {', '.join(a.get('stints', []))}; "
                         f"{b['code']} {', '.join(b.get('stints', []))}")
    else:
        lines.append("_No lap-by-lap data for this race, so no pace comparison._")
    return "\n".join(lines)


def _standings(ctx: Ctx) -> str:
    st = ctx.get("standings")
    if not st:
        return m.NO_STANDINGS.format(kind="championship", when="that point")
    title = "Drivers'" if st["kind"] == "drivers" else "Constructors'"
    after = f" after round {st['after_round']}" + (f" ({st['after_event']})" if st.get("after_event") else "")
    wanted = {d.get("name") for d in ctx.get("drivers", [])}
    if wanted:
        rows = [r for r in st["rows"] if r.get("name") in wanted]
    elif ctx.get("position"):
        rows = [r for r in st["rows"] if r.get("pos") == ctx["position"]] or st["rows"][:5]
    else:
        rows = st["rows"][:5]
    body = "\n".join(f"{r['pos']}. **{r['name']}** {r['points']} pts ({r['wins']} wins)" for r in rows)
    return f"{st['year']} {title} championship{after}:\n{body}"


def _schedule(ctx: Ctx) -> str:
    items = ctx.get("upcoming") or []
    if not items:
        return m.NO_UPCOMING.format(now=ctx.get("now"))
    first = items[0]
    rest = "\n".join(f"- {i['year']} {i['event']} {i['session']}: {i['start']} (in {i['in']})" for i in items[1:])
    head = f"Next: **{first['year']} {first['event']} — {first['session']}** at {first['start']} (in {first['in']})."
    return head + ("\n" + rest if rest else "")


def _form(ctx: Ctx) -> str:
    fm = ctx.get("form")
    if not fm:
        if miss := ctx.get("form_missing"):
            return m.DRIVER_NO_SEASON.format(**miss)
        return m.CANT_ANSWER
    pos = f", P{fm['championship_pos']} in the championship" if fm.get("championship_pos") else ""
    last = ", ".join(f"round {r['round']} " + (f"P{r['pos']}" if isinstance(r["pos"], int) else str(r["pos"]))
                     for r in fm["last_results"])
    return (f"**{fm['driver']}** in {fm['year']}: {fm['races']} races, {fm['wins']} wins, "
            f"{fm['podiums']} podiums, {fm['points']} points{pos}. Last results: {last}.")


# --------------------------------------------------------------------------- weather & race control


def _lo_hi(r: Ctx, unit: str) -> str:
    return f"{r['min']}{unit}" if r["min"] == r["max"] else f"{r['min']}–{r['max']}{unit}"


def _weather(ctx: Ctx) -> str:
    w = ctx.get("weather")
    if not w:
        return m.NO_WEATHER.format(session=_title(ctx))
    over = w["over"]
    if w["rain"]:
        when = ""
        if w.get("rain_from") and w.get("rain_to"):
            when = (f" on {w['rain_from']}" if w["rain_from"] == w["rain_to"]
                    else f", from {w['rain_from']} to {w['rain_to']}")
        head = (f"**Rain** was recorded during {over} of the {_title(ctx)}{when} "
                f"({w['rain_readings']} of {w['readings']} weather readings).")
    else:
        head = f"**Dry**: no rain was recorded during {over} of the {_title(ctx)} ({w['readings']} weather readings)."
    parts = []
    for key, name in (("air_c", "air"), ("track_c", "track")):
        if r := w.get(key):
            trend = f" ({r['start']}°C → {r['end']}°C)" if r.get("start") != r.get("end") else ""
            parts.append(f"{name} {_lo_hi(r, '°C')}{trend}")
    if r := w.get("humidity_pct"):
        parts.append(f"humidity {_lo_hi(r, '%')}")
    if w.get("wind_max_ms"):
        parts.append(f"wind up to {w['wind_max_ms']} m/s")
    body = "\n" + ", ".join(parts).capitalize()[:1] + ", ".join(parts)[1:] + "." if parts else ""
    forecast = f"\nRace control's forecast: _{w['race_control_forecast']}_." if w.get("race_control_forecast") else ""
    return head + body + forecast


_NEUTRALISATIONS = (("safety_car", "Safety car"), ("virtual_safety_car", "Virtual safety car"), ("red_flag", "Red flag"))


def _flags(ctx: Ctx) -> str:
    ts = ctx.get("track_status")
    if ts is None:
        return m.NO_RACE_CONTROL.format(session=_title(ctx))
    lines = []
    history = ts.get("source") == "history"
    src = m.FLAGS_SOURCE_HISTORY if history else m.FLAGS_SOURCE_TIMING
    for key, name in _NEUTRALISATIONS:
        if ts.get(key):
            lines.append(f"- **{name}**: {', '.join(ts[key])}")
    if lines:
        head = f"Safety cars and flags in the {_title(ctx)} ({src}):"
    else:
        head = f"There was no safety car, virtual safety car or red flag in the {_title(ctx)} ({src})."
    if history:
        pass  # the historical record has no yellow flags: say nothing about them
    elif ts.get("yellow_flag"):
        lines.append(f"- Yellow flags: {', '.join(ts['yellow_flag'])}")
    else:
        lines.append("- No yellow flags in the track status.")
    if ts.get("messages"):
        lines.append("Race control:")
        lines += [f"- {x['time'] + ': ' if x.get('time') else ''}{x['text']}" for x in ts["messages"]]
    return head + "\n" + "\n".join(lines)


def _penalty_line(p: Ctx) -> str:
    who = f"**{p['code']}** (car {p['car']})" if p.get("code") else f"**car {p['car']}**"
    lap = f", lap {p['lap']}" if p.get("lap") is not None else ""
    reason = f" ({p['reason']})" if p.get("reason") else ""
    return f"- {who}{lap}: {p['penalty']}{reason}"


def _penalties(ctx: Ctx) -> str:
    pc = ctx.get("penalties")
    if pc is None:
        return m.NO_RACE_CONTROL.format(session=_title(ctx))
    who = f" for {', '.join(pc['for_drivers'])}" if pc.get("for_drivers") else ""
    if pc["penalties"]:
        lines = [f"Penalties{who} in the {_title(ctx)}:"] + [_penalty_line(p) for p in pc["penalties"]]
    else:
        lines = [f"No penalties{who} in the {_title(ctx)}."]
    if pc["warnings"]:
        lines.append("Warnings:")
        lines += [_penalty_line(p) for p in pc["warnings"]]
    if pc.get("investigations"):
        n = pc["investigations"]
        lines.append(f"The stewards put {n} incident{'s' if n != 1 else ''} under investigation.")
    if pc["track_limits_deleted"]:
        lines.append("Lap times deleted for track limits: "
                     + ", ".join(f"{d['driver']} {d['laps_deleted']}" for d in pc["track_limits_deleted"]) + ".")
    return "\n".join(lines)
