"""Neutral `Reply` -> Discord message payloads, within Discord's limits.

Discord rejects a message over a limit with HTTP 400 / code 50035, so every
limit is enforced here rather than hoped for: 2000 characters of content,
embed title 256, description 4096, 25 fields (name 256, value 1024), footer
2048, 6000 characters across all embeds of one message, 10 embeds and 10
files per message. What does not fit goes into further messages, never lost.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.links import neutralise_reply
from bot.model import Card, Image, LocalTime, Reply
from bot.tablesplit import split_rows
from bot.textsplit import split_markdown

MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_EMBED_TOTAL = 6000
MAX_EMBEDS = 10
MAX_FILES = 10

# Generated text must never ping: no @everyone/@here, no role or user mentions.
NO_MENTIONS = discord.AllowedMentions.none()

# An ISO-8601 instant with an explicit zone ("2023-09-03T13:00:00Z", "...+02:00"):
# shown as a Discord timestamp so every member sees it in their own time zone.
_ISO_INSTANT = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})\b"
)


@dataclass(slots=True)
class Outgoing:
    """One Discord message: the kwargs for `send` / `edit`, already within limits."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # (filename, data, alt)

    def discord_files(self) -> list[discord.File]:
        # A fresh File per attempt: discord.py consumes the stream when it sends.
        return [
            discord.File(io.BytesIO(data), filename=name, description=alt or None)
            for name, data, alt in self.files
        ]


def discord_timestamp(when: datetime, style: str = "R") -> str:
    """`<t:UNIX:STYLE>`: rendered by each member's client in their own time zone."""
    return f"<t:{int(when.timestamp())}:{style}>"


def localize_times(text: str) -> str:
    """Replace ISO instants with a local date-time plus a relative time (`<t:…:f> (<t:…:R>)`)."""

    def sub(m: re.Match[str]) -> str:
        zone = m.group(3)
        if zone not in ("Z",) and ":" not in zone:
            zone = zone[:3] + ":" + zone[3:]
        raw = f"{m.group(1)}T{m.group(2)}{'+00:00' if zone == 'Z' else zone}"
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            return m.group(0)
        return f"{discord_timestamp(when, 'f')} ({discord_timestamp(when, 'R')})"

    return _ISO_INSTANT.sub(sub, text)


def split_text(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Discord messages from Markdown: the core's splitter at Discord's content limit."""
    return split_markdown(text.strip(), limit)


def _clip(value: str, limit: int) -> str:
    """At most `limit` characters; a cut text always ends with "…" (never silently short)."""
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


CONTINUED = " (continued)"


def card_to_embeds(card: Card) -> list[discord.Embed]:
    """A card as one embed or more: a long description continues at row boundaries in
    further embeds (code fence reopened, table header repeated), fields past 25 or past
    6000 characters go on in another embed. Nothing is dropped; only a single title,
    field or footer over its own limit is cut, ending with "…"."""
    colour: discord.Colour | None = None
    if card.colour:
        try:
            colour = discord.Colour(int(card.colour.lstrip("#"), 16) & 0xFFFFFF)
        except ValueError:
            colour = None
    title = _clip(localize_times(card.title), MAX_TITLE)
    more_title = _clip(title, MAX_TITLE - len(CONTINUED)) + CONTINUED if title else ""
    embeds: list[discord.Embed] = []

    def new_embed() -> discord.Embed:
        first = not embeds
        embed = discord.Embed(
            title=(title if first else more_title) or None,
            colour=colour,
            url=(card.url or None) if first else None,
        )
        embeds.append(embed)
        return embed

    description = localize_times(card.description).strip()
    for chunk in split_rows(description, MAX_DESCRIPTION) if description else []:
        new_embed().description = chunk
    embed = embeds[-1] if embeds else new_embed()
    footer = _clip(card.footer, MAX_FOOTER) if card.footer else ""
    for i, fld in enumerate(card.fields):
        name = _clip(localize_times(fld.name), MAX_FIELD_NAME) or "\u200b"
        value = _clip(localize_times(fld.value), MAX_FIELD_VALUE) or "\u200b"
        # Keep room for the footer on whichever embed ends up last.
        reserve = len(footer) if i == len(card.fields) - 1 else 0
        if len(embed.fields) >= MAX_FIELDS or len(embed) + len(name) + len(value) + reserve > MAX_EMBED_TOTAL:
            embed = new_embed()
        embed.add_field(name=name, value=value, inline=fld.inline)
    if footer:
        if len(embed) + len(footer) > MAX_EMBED_TOTAL:
            embed = new_embed()
        embed.set_footer(text=footer)
    return embeds


def show_time(t: LocalTime) -> str:
    """A `LocalTime` as Discord shows it: full date-time and relative, in the reader's zone."""
    return f"{discord_timestamp(t.at, 'F')} ({discord_timestamp(t.at, 'R')})"


def escape_model_text(reply: Reply) -> Reply:
    """No link from reply text: `[x](url)`, `<url>` and bare addresses become inert
    (address in inline code, scheme broken: `bot.links`). Hazard: Discord links and
    previews any address in content, embed descriptions and fields, so a model
    (or a prompt injection) could otherwise plant a phishing link. `Card.url` is
    set by code and stays a link."""
    return neutralise_reply(reply)


def render(reply: Reply) -> list[Outgoing]:
    """Messages for one reply (usually one). Content first, embeds and files with the last chunk."""
    reply = escape_model_text(reply)
    # Discord text is not escaped afterwards, so trusted times can be filled in first.
    reply = reply.show_times(show_time)
    text = localize_times(reply.text)
    if reply.suggestions:
        text = (
            (text + "\n\n" if text else "")
            + "-# Try: "
            + " · ".join(f"`{s}`" for s in reply.suggestions[:5])
        )
    chunks = split_text(text) or [""]
    messages = [Outgoing(content=c) for c in chunks]

    last = messages[-1]
    total = 0
    for embed in (e for card in reply.cards for e in card_to_embeds(card)):
        size = len(embed)
        if len(last.embeds) >= MAX_EMBEDS or total + size > MAX_EMBED_TOTAL:
            last = Outgoing()
            messages.append(last)
            total = 0
        last.embeds.append(embed)
        total += size

    _attach_images(messages, reply.images, _first_line(reply.text))
    return messages


def attachment_name(filename: str) -> str:
    """A file name `attachment://` can point at: Discord rewrites other characters on upload
    (spaces to underscores, drops others), and then the embed image would not match."""
    name = _UNSAFE_NAME.sub("_", filename.strip()).strip("._") or "image"
    return name if "." in name else name + ".png"


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _first_line(text: str) -> str:
    """An embed title for an image whose reply has no card: the reply's first line, plain."""
    line = next((x for x in text.strip().splitlines() if x.strip()), "")
    return _clip(line.strip().strip("#*_ ").strip(), MAX_TITLE)


def _attach_images(messages: list[Outgoing], images: list[Image], title: str) -> None:
    """Attach every image as a file (alt text as its description, for screen readers);
    each message's first file is shown as an embed image (`_show_first_file`)."""
    if not images:
        return
    target = messages[-1]
    for image in images:
        if len(target.files) >= MAX_FILES:
            target = Outgoing()
            messages.append(target)
        name = _unique(attachment_name(image.filename), {f[0] for f in target.files})
        target.files.append((name, image.data, image.alt))
    for message in messages:
        _show_first_file(message, title)


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `stem-2.ext`, … : two files of one message must not share a name."""
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    return candidate


def render_one(reply: Reply) -> Outgoing:
    """A single message for an edit: text clipped to the limit (streaming never goes over it)."""
    reply = escape_model_text(reply).show_times(show_time)
    out = render(reply)
    first = out[0]
    if len(out) > 1:
        first.content = _clip(localize_times(reply.text).strip(), MAX_CONTENT)
        first.embeds = [e for o in out for e in o.embeds][:MAX_EMBEDS]
        first.files = [f for o in out for f in o.files][:MAX_FILES]
        while first.embeds and sum(len(e) for e in first.embeds) > MAX_EMBED_TOTAL:
            first.embeds.pop()
        _show_first_file(first, _first_line(reply.text))
    return first


def _show_first_file(message: Outgoing, title: str) -> None:
    """Show the message's first file as its first embed's image (`attachment://` can only
    name a file of the same message; after merging parts for an edit, a stale one is dropped).
    A message with files but no embed gets one titled `title`, so the chart shows inline."""
    names = {f[0] for f in message.files}
    for embed in message.embeds:
        url = embed.image.url or ""
        if url.startswith("attachment://") and url.removeprefix("attachment://") not in names:
            embed.set_image(url=None)
    if not message.files or any(e.image.url for e in message.embeds):
        return
    url = f"attachment://{message.files[0][0]}"
    if message.embeds:
        message.embeds[0].set_image(url=url)
    else:
        embed = discord.Embed(title=title or None)
        embed.set_image(url=url)
        message.embeds.append(embed)
