"""Neutral `Reply` -> Slack messages (mrkdwn text + Block Kit), within Slack's limits.

Everything that reaches Slack as mrkdwn goes through `escape()` first, so model
output can never ping: `<!channel>`, `<!here>`, `<@U123>` become inert text
(`&lt;!channel&gt;`), and a bare `@channel` gets a zero-width joiner.

Text never becomes a link (`bot.links`): markdown links, `<url|text>` and bare
addresses in reply text are shown as inert text, and every mrkdwn object is sent
`verbatim` so Slack does not auto-link either. The only link we emit is a card's
`url`, which code sets (the card title links there).

The one kind of `<…>` token we do emit is a date (`<!date^unix^…|fallback>`,
shown in each reader's time zone), and only from structured, trusted data: a
reply with `local_times` (`bot.model.LocalTime`, built by code, never by a
model) names a random marker in its text for each time, and the marker is
replaced by the token AFTER escaping. Text cannot create such an entry, so a
`<!date…>` or `<!channel>` typed by a model stays escaped.

Limits (Slack Block Kit reference): 50 blocks per message, 3,000 characters of
section text, 2,000 per section field and at most 10 fields, header 150
characters of plain text, context elements 10.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.links import defang, neutralise
from bot.model import Card, LocalTime, Reply
from bot.tablesplit import split_rows
from bot.textsplit import split_markdown

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_FALLBACK = 3900  # top-level `text` (notifications / fallback): Slack advises <= 4,000

_ZWJ = "\u2060"  # word joiner: invisible, breaks "@channel" so Slack never links it


@dataclass(slots=True)
class SlackMessage:
    """Arguments for one chat.postMessage / chat.update."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        # parse="none" + link_names=False: Slack must not turn bare names into mentions.
        out: dict[str, Any] = {
            "text": self.text,
            "parse": "none",
            "link_names": False,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if self.blocks:
            out["blocks"] = self.blocks
        return out


def escape(text: str) -> str:
    """Make arbitrary text inert in Slack mrkdwn (control characters `& < >`, @-broadcasts)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(
        r"@(channel|here|everyone)\b", lambda m: "@" + _ZWJ + m.group(1), text, flags=re.I
    )


def plain(text: str) -> str:
    """For `plain_text` objects: keep broadcasts and addresses inert anyway."""
    text = defang(text)
    return re.sub(
        r"@(channel|here|everyone)\b", lambda m: "@" + _ZWJ + m.group(1), text, flags=re.I
    )


_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.M)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.M)


def _inline(segment: str) -> str:
    """Convert one escaped, non-code piece of CommonMark to mrkdwn."""
    segment = _HEADING.sub(lambda m: f"**{m.group(1)}**", segment)
    segment = _BULLET.sub(lambda m: m.group(1) + "• ", segment)
    segment = _ITALIC.sub(lambda m: f"_{m.group(1)}_", segment)
    segment = _BOLD.sub(lambda m: f"*{m.group(2)}*", segment)
    return _STRIKE.sub(lambda m: f"~{m.group(1)}~", segment)


def _tables_to_code(text: str) -> str:
    """Slack has no tables: fence runs of `| a | b |` lines so columns stay aligned."""
    out: list[str] = []
    block: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if line.strip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.strip().startswith("|") and line.strip().endswith("|"):
            if re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", line.strip()):
                continue  # the |---|---| separator row
            block.append(line)
            continue
        if block:
            out.extend(["```", *block, "```"])
            block = []
        out.append(line)
    if block:
        out.extend(["```", *block, "```"])
    return "\n".join(out)


def to_mrkdwn(markdown: str) -> str:
    """CommonMark subset (bold, italic, strike, headings, bullets, code) -> escaped mrkdwn.

    Links in the text are made inert first (module doc): reply text may come from a model.
    """
    text = _tables_to_code(neutralise(markdown))
    out: list[str] = []
    # Split out fenced blocks and inline code: their content is escaped but not reformatted.
    for i, part in enumerate(re.split(r"(```.*?```|`[^`\n]+`)", text, flags=re.S)):
        if i % 2 == 1:
            out.append(escape(part))
        else:
            out.append(_inline(escape(part)))
    return "".join(out)


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Section texts from mrkdwn: the core's splitter at Slack's section limit."""
    return split_markdown(text, limit)


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not auto-link addresses or channel names in text we pass on.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


_PARTIAL_TAIL = re.compile(r"(&[#a-z0-9]{0,6}|SLIPTIME[0-9a-f]{0,16})$")


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending with "…" when cut; never mid entity or time marker.

    Hazard: the text is escaped mrkdwn (`&amp;`) and may hold `LocalTime` markers that are
    replaced after rendering; half of either would show as garbage, so the cut backs off.
    """
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return _PARTIAL_TAIL.sub("", head).rstrip() + "…"


def card_blocks(card: Card, section_limit: int = MAX_SECTION) -> list[dict[str, Any]]:
    """One card -> header / sections / fields / context blocks (sections of `section_limit`)."""
    blocks: list[dict[str, Any]] = []
    if card.url and card.url.startswith(("http://", "https://")):
        url = escape(card.url).replace("|", "%7C")
        blocks.append(_section(f"*<{url}|{_clip(escape(defang(card.title)), 300)}>*"))
    elif card.title:
        blocks.append(
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": _clip(plain(card.title), MAX_HEADER),
                    "emoji": True,
                },
            }
        )
    if card.description:
        # Row boundaries: a long table goes on in further sections, fence reopened, header repeated.
        blocks.extend(_section(chunk) for chunk in split_rows(to_mrkdwn(card.description), section_limit))
    fields = [
        _mrkdwn(_clip(f"*{escape(defang(f.name))}*\n{to_mrkdwn(f.value)}", MAX_FIELD))
        for f in card.fields
    ]
    for i in range(0, len(fields), MAX_FIELDS):
        blocks.append({"type": "section", "fields": fields[i : i + MAX_FIELDS]})
    if card.footer:
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(_clip(to_mrkdwn(card.footer), MAX_SECTION))],
            }
        )
    return blocks


def date_token(unix: int, fallback: str) -> str:
    """Slack's localised date: e.g. "Sun, Sep 3 at 3:00 PM" in the reader's zone."""
    return f"<!date^{int(unix)}^{{date_short_pretty}} {{time}}|{escape(fallback)}>"


def _with_times(node: Any, times: Sequence[LocalTime]) -> Any:
    """Replace each marker in every mrkdwn string (already escaped) by its date token."""
    if isinstance(node, dict):
        if node.get("type") == "plain_text":
            return node  # plain text cannot hold tokens: fallbacks only
        return {k: _with_times(v, times) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_times(v, times) for v in node]
    if isinstance(node, str):
        for t in times:
            node = node.replace(t.marker, date_token(t.unix, t.fallback))
    return node


def _fallbacks(node: Any, times: Sequence[LocalTime]) -> Any:
    if isinstance(node, dict):
        return {k: _fallbacks(v, times) for k, v in node.items()}
    if isinstance(node, list):
        return [_fallbacks(v, times) for v in node]
    if isinstance(node, str):
        for t in times:
            node = node.replace(t.marker, t.fallback)
    return node


def render(reply: Reply) -> list[SlackMessage]:
    """A reply -> one or more Slack messages, each within 50 blocks (see `_render`);
    trusted `local_times` markers become Slack date tokens (module doc)."""
    times = reply.local_times
    if not times:
        return _render(reply)
    # Hazard: a marker becomes a longer date token after splitting. Split short enough
    # that a section made only of markers still fits 3,000 once they are replaced.
    token = max(len(date_token(t.unix, t.fallback)) for t in times)
    marker = min(len(t.marker) for t in times)
    messages = _render(reply, section_limit=MAX_SECTION * marker // token)
    return [
        SlackMessage(text=_with_times(m.text, times),
                     blocks=_fallbacks(_with_times(m.blocks, times), times))
        for m in messages
    ]


def _render(reply: Reply, section_limit: int = MAX_SECTION) -> list[SlackMessage]:
    """A reply -> one or more Slack messages, each within 50 blocks.

    The first message's `text` is the notification / fallback text. A reply
    with plain text only still gets section blocks, so that streaming edits and
    final answers look the same.
    """
    blocks: list[dict[str, Any]] = []
    body = to_mrkdwn(reply.text) if reply.text else ""
    blocks.extend(_section(chunk) for chunk in split_text(body, section_limit))
    for i, card in enumerate(reply.cards):
        if blocks and (i > 0 or body):
            blocks.append({"type": "divider"})
        blocks.extend(card_blocks(card, section_limit))
    if reply.suggestions:
        tries = " · ".join(f"`{escape(defang(s))}`" for s in reply.suggestions[:5])
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(_clip("Try: " + tries, MAX_SECTION))],
            }
        )
    fallback = body or " · ".join(escape(defang(c.title)) for c in reply.cards) or " "
    if not blocks:
        return [SlackMessage(text=_clip(fallback, MAX_FALLBACK))]
    messages: list[SlackMessage] = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        part = blocks[start : start + MAX_BLOCKS]
        text = fallback if start == 0 else "(continued)"
        messages.append(SlackMessage(text=_clip(text, MAX_FALLBACK), blocks=part))
    return messages
