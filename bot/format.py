"""Small formatting helpers shared by answers and commands (times, gaps, tables)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


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


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table in a code block (renders the same on every platform)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in cells]
    return "```\n" + "\n".join(lines) + "\n```"
