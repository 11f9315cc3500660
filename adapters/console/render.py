"""Render a `Reply` for the terminal, or preview how Discord / Slack would show it.

`plain` is for people at a terminal. `discord` and `slack` run the real
adapters' renderers (imported only when asked for: discord.py is heavy) and
print what would be sent: Discord content + embeds, Slack mrkdwn + Block Kit.
"""

from __future__ import annotations

import json
from typing import Literal

from bot.model import Reply

RenderMode = Literal["plain", "discord", "slack"]


def render_plain(reply: Reply) -> str:
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
    for image in reply.images:
        parts.append(f"[image {image.filename}: {image.alt or 'no description'}]")
    if reply.suggestions:
        parts.append("Try: " + " · ".join(reply.suggestions[:5]))
    return "\n\n".join(parts)


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


def render(reply: Reply, mode: RenderMode = "plain") -> str:
    if mode == "discord":
        return render_discord(reply)
    if mode == "slack":
        return render_slack(reply)
    return render_plain(reply)
