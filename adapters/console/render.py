"""Render a `Reply` for the terminal, or preview how Discord / Slack would show it.

`plain` is for people at a terminal. `discord` and `slack` run the real
adapters' renderers (imported only when asked for: discord.py is heavy) and
print what would be sent: Discord content + embeds, Slack mrkdwn + Block Kit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from bot.links import neutralise_reply
from bot.model import LocalTime, Reply

RenderMode = Literal["plain", "discord", "slack"]


def relative(delta: dt.timedelta) -> str:
    """"in 1 hour 30 minutes" / "5 minutes ago" under two days; then "in 12 days", "3 months
    ago", "2 years ago" (a countdown in thousands of hours reads as noise)."""
    minutes = round(abs(delta.total_seconds()) / 60)
    if minutes == 0:
        return "now"
    days = minutes / 1440
    if days >= 365:
        amount = _unit(round(days / 365.25), "year")
    elif days >= 60:
        amount = _unit(round(days / 30.44), "month")
    elif days >= 2:
        amount = _unit(round(days), "day")
    else:
        hours, mins = divmod(minutes, 60)
        amount = " ".join(p for p in (_unit(hours, "hour"), _unit(mins, "minute")) if p)
    return f"in {amount}" if delta.total_seconds() > 0 else f"{amount} ago"


def _unit(n: int, word: str) -> str:
    return "" if n == 0 else f"1 {word}" if n == 1 else f"{n} {word}s"


def show_time(t: LocalTime, now: dt.datetime | None = None, tz: dt.tzinfo | None = None) -> str:
    """A `LocalTime` for the terminal: UTC, the local time when the zone differs, and how far
    away: "Sun 03 Sep 13:00 UTC / Sun 03 Sep 15:00 CEST (in 1 hour)".

    `tz` is the terminal's zone (default: the system's local zone, `TZ`).
    """
    now = now or dt.datetime.now(dt.UTC)
    local = t.at.astimezone(tz)  # tz=None: the system's local zone
    shown = t.fallback
    if local.utcoffset() != dt.timedelta(0):
        shown += f" / {local:%a %d %b %H:%M} {local.tzname() or local.strftime('%z')}"
    return f"{shown} ({relative(t.at - now)})"


def render_plain(
    reply: Reply,
    now: dt.datetime | None = None,
    tz: dt.tzinfo | None = None,
    paths: Sequence[Path] = (),
) -> str:
    """The reply as terminal text; times (`Reply.local_times`) in UTC and local, with a relative time.

    Addresses in the text are made inert (`bot.links`): terminals link them too. `paths` are
    where the reply's images were written (in order); each is shown as `[chart: PATH — alt]`.
    """
    reply = neutralise_reply(reply).show_times(lambda t: show_time(t, now, tz))
    parts: list[str] = []
    if reply.text:
        parts.append(reply.text)
    for card in reply.cards:
        lines = [f"== {card.title} =="]
        if card.description:
            lines.append(card.description.replace("```\n", "").replace("\n```", "").replace("```", ""))
        for fld in card.fields:
            lines.append(f"{fld.name}: {fld.value.replace(chr(10), ' | ')}")
        if card.footer:
            lines.append(f"({card.footer})")
        parts.append("\n".join(lines))
    parts.extend(image_lines(reply, paths))
    if reply.suggestions:
        parts.append("Try: " + " · ".join(reply.suggestions[:5]))
    return "\n\n".join(parts)


def image_lines(reply: Reply, paths: Sequence[Path] = ()) -> list[str]:
    """One line per image: the file it was written to, or (not written) its name; and the alt text."""
    lines = []
    for i, image in enumerate(reply.images):
        alt = image.alt or "no description"
        if i < len(paths):
            lines.append(f"[chart: {paths[i]} — {alt}]")
        else:
            lines.append(f"[image {image.filename}: {alt}]")
    return lines


def render_discord(reply: Reply) -> str:
    from adapters.discord.render import render

    out = []
    for i, msg in enumerate(render(reply), 1):
        out.append(f"--- Discord message {i} ---")
        if msg.content:
            out.append(msg.content)
        for embed in msg.embeds:
            out.append("embed: " + json.dumps(embed.to_dict(), ensure_ascii=False, indent=2))
        for name, _data, alt in msg.files:
            out.append(f"file: {name} ({alt})")
    return "\n".join(out)


def render_slack(reply: Reply) -> str:
    from adapters.slack.render import render

    out = []
    for i, msg in enumerate(render(reply), 1):
        out.append(f"--- Slack message {i} ---")
        out.append(json.dumps({"text": msg.text, "blocks": msg.blocks}, ensure_ascii=False, indent=2))
    return "\n".join(out)


def render(reply: Reply, mode: RenderMode = "plain", paths: Sequence[Path] = ()) -> str:
    """The reply for the terminal in `mode`; written images (`paths`) are named in every mode."""
    if mode == "plain":
        return render_plain(reply, paths=paths)
    preview = render_discord(reply) if mode == "discord" else render_slack(reply)
    written = image_lines(reply, paths) if paths else []
    return "\n".join([preview, *written])
