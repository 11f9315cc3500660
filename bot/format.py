"""Small formatting helpers shared by answers and commands (times, gaps, tables)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from bot import messages as m
from bot.model import LocalTime


def lap_time(ms: int | None) -> str:
    """85072 → "1:25.072"."""
    if ms is None:
        return "—"
    minutes, rest = divmod(int(ms), 60_000)
    return f"{minutes}:{rest / 1000:06.3f}" if minutes else f"{rest / 1000:.3f}"


def race_time(ms: int | None) -> str:
    """4421143 → "1:13:41.143"."""
    if ms is None:
        return "—"
    hours, rest = divmod(int(ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest / 1000:06.3f}" if hours else lap_time(ms)


def gap(ms: int | None) -> str:
    """6064 → "+6.064s"; over a minute → "+1:02.345"."""
    if ms is None:
        return "—"
    return f"+{ms / 1000:.3f}s" if abs(ms) < 60_000 else "+" + lap_time(ms)


def seconds(ms: int | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.3f}s"


def points(p: float | None) -> str:
    if p is None:
        return "—"
    return str(int(p)) if float(p).is_integer() else f"{p:g}"


def countdown(delta: dt.timedelta) -> str:
    """timedelta → "2d 3h 15m" (or "now")."""
    total = int(delta.total_seconds())
    if total <= 0:
        return "now"
    days, rem = divmod(total, 86_400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


def utc(ts: dt.datetime | None) -> str:
    if ts is None:
        return "unknown"
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.UTC)
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def local_time(at: dt.datetime, times: list[LocalTime]) -> str:
    """A time to show in each reader's zone: returns the marker to put in the text and
    records the `LocalTime` in `times` (the reply's `local_times`); each adapter renders it
    (Discord `<t:…>`, Slack `<!date^…>`, the console UTC and local), never this module."""
    if at.tzinfo is None:  # the store's times are UTC; a naive one is taken as UTC
        at = at.replace(tzinfo=dt.UTC)
    t = LocalTime.new(at)
    times.append(t)
    return t.marker


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table in a code block (renders the same on every platform)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    return "```\n" + "\n".join(lines) + "\n```"


# Short codes for the "Pos" column of a results table, by outcome (storage.queries.OUTCOMES).
_POS_CODE = {
    "retired": "DNF", "did_not_start": "DNS", "withdrawn": "WD", "disqualified": "DSQ",
    "excluded": "EX", "did_not_qualify": "DNQ", "not_classified": "NC",
}
_LAPPED = re.compile(r"^\+(\d+) Laps?$")


def pos_cell(position: int | None, position_text: str | None, outcome: str | None) -> str:
    """The Pos column: the official integer position, else DNF / DSQ / DNS / WD / NC ..."""
    if position is not None:
        return str(int(position))
    if outcome in _POS_CODE:
        return _POS_CODE[outcome]
    return position_text or ""


def result_phrase(outcome: str | None, position: int | None, status: str | None, laps: int | None) -> str:
    """What happened to a car, in words, from its OFFICIAL outcome: "finished" only for a
    classified car; a retirement says the lap and the reason; provisional says so."""
    why = f" ({status.lower()})" if status and status.lower() not in ("retired", "withdrew", "not classified") else ""
    pos = int(position) if position is not None else None
    if outcome == "finished":
        return m.RESULT_FINISHED.format(pos=pos)
    if outcome == "lapped":
        mt = _LAPPED.match(status or "")
        n = int(mt.group(1)) if mt else 1
        return m.RESULT_LAPPED.format(pos=pos, n=n, s="s" if n > 1 else "")
    if outcome == "classified_retired":
        return m.RESULT_CLASSIFIED_RETIRED.format(pos=pos, why=why)
    if outcome == "retired":
        # Ergast `laps` = laps completed: the car stopped on the next one.
        if laps == 0:  # e.g. stopped on the formation lap: no lap to name
            return m.RESULT_RETIRED_LAP_ZERO.format(why=why)
        return (m.RESULT_RETIRED.format(lap=laps + 1, why=why) if laps is not None
                else m.RESULT_RETIRED_NO_LAP.format(why=why))
    if outcome == "withdrawn":
        return m.RESULT_WITHDRAWN.format(why=why)
    if outcome == "not_classified":
        return m.RESULT_NOT_CLASSIFIED.format(why=why)
    if outcome == "provisional":
        return m.RESULT_PROVISIONAL.format(pos=pos)
    fixed = {"did_not_start": m.RESULT_DID_NOT_START, "disqualified": m.RESULT_DISQUALIFIED,
             "excluded": m.RESULT_EXCLUDED, "did_not_qualify": m.RESULT_DID_NOT_QUALIFY}
    if outcome in fixed:
        return fixed[outcome]
    return m.RESULT_FINISHED.format(pos=pos) if pos is not None else (status or "no official result")


def status_cell(outcome: str | None, status: str | None, laps: int | None) -> str:
    """The Time column of a car without a time: "+1 lap", "DNF lap 20 (engine)", "DSQ" ..."""
    if outcome == "lapped" and status:
        return status.lower()
    why = f" ({status.lower()})" if status and status.lower() != "retired" else ""
    if outcome == "retired":
        return "DNF" + (f" lap {laps + 1}" if laps else "") + why
    if outcome == "classified_retired":  # classified on distance although the car stopped
        return (f"{laps} laps" if laps is not None else "classified") + why
    if outcome in _POS_CODE:
        return _POS_CODE[outcome]
    return status or ""


def pit_lane(duration_ms: int | None, pit_lane_ms: int | None) -> str | None:
    """One labelled pit-lane time (official first), never the same figure twice."""
    if duration_ms is not None:
        return m.PIT_LANE_OFFICIAL.format(t=seconds(duration_ms))
    if pit_lane_ms is not None:
        return m.PIT_LANE_TIMING.format(t=seconds(pit_lane_ms))
    return None
