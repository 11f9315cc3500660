"""Links in text we did not write: find them (for the claim guard), make them inert (for renderers).

A prompt injection (a crafted driver name, a question, a poisoned data source)
can make a model write ``[details](https://evil.example)``; rendered as is, that
became a live masked link on Slack (``<https://…|details>``) and on Discord. So:

- the claim guard treats every link in a model's answer as a claim, supported
  only when the deterministic answer holds the same URL (`find_links`);
- renderers pass all reply text through `neutralise` (Markdown) or `defang`
  (plain text): markdown links ``[text](url)``, Slack masked links ``<url|text>``,
  bare ``http(s)://`` and ``www.`` addresses come out as visible, non-clickable
  text — the address in inline code with a word joiner after the scheme, which
  no platform's auto-linker matches.

Links we mean to send are structured, never text: `Card.url` (a Discord embed
URL, a Slack header link) is set by code and left alone.
"""

from __future__ import annotations

import re

from bot.model import Card, CardField, Reply

WJ = "\u2060"  # word joiner: invisible, and breaks "https://" / "www." for every auto-linker

# A bare address: a scheme, or "www." at a word start. Stops at whitespace, quotes and brackets.
_BARE = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.\-]*://|www\.)[^\s<>`\"'\[\]()]+")
_TRAILING = ".,;:!?*_~"
# [text](target) with any target (also "<url>" and non-http schemes such as javascript:).
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
# Slack's own syntax: <url|text> or <url> (also mailto: and other schemes).
_SLACK_LINK = re.compile(r"<((?:[a-z][a-z0-9+.\-]*:|www\.)[^|>\s]+)(?:\|([^>]*))?>", re.I)
_CODE = re.compile(r"(```.*?```|`[^`\n]+`)", re.S)


def _bare(m: re.Match[str]) -> tuple[str, str]:
    """(address without trailing punctuation, the punctuation)."""
    url = m.group(0)
    stripped = url.rstrip(_TRAILING)
    return stripped, url[len(stripped) :]


def find_links(text: str) -> list[str]:
    """Every link target in `text`: markdown and Slack link targets and bare addresses."""
    found: list[str] = []
    for m in _MD_LINK.finditer(text):
        if m.group(2):
            found.append(m.group(2))
    for m in _SLACK_LINK.finditer(text):
        found.append(m.group(1))
    for m in _BARE.finditer(text):
        found.append(_bare(m)[0])
    seen: set[str] = set()
    return [u for u in found if not (u in seen or seen.add(u))]


def normalise_url(url: str) -> str:
    """Comparable form: case-folded, no scheme, no "www.", no trailing slash."""
    u = url.strip().casefold()
    u = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", u)
    u = u.removeprefix("www.")
    return u.rstrip("/")


def defang(text: str) -> str:
    """Plain text: break every scheme separator and "www." so nothing auto-links."""
    text = re.sub(r"(?i)([a-z0-9+.\-]):(/)(/)", lambda m: f"{m.group(1)}:{WJ}{m.group(2)}{m.group(3)}", text)
    return re.sub(r"(?i)\bwww\.", lambda m: m.group(0)[:3] + WJ + ".", text)


def _inert_prose(part: str) -> str:
    """One non-code piece of Markdown: links become "text (`address`)", addresses inert."""

    def md(m: re.Match[str]) -> str:
        label, target = m.group(1).strip(), m.group(2).strip()
        if not target:
            return label
        return f"{label} ({target})" if label and label != target else target

    part = _MD_LINK.sub(md, part)
    part = _SLACK_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), part)

    def bare(m: re.Match[str]) -> str:
        url, tail = _bare(m)
        return f"`{defang(url)}`{tail}"

    part = _BARE.sub(bare, part)
    # Whatever still looks like the middle of a masked link ("](") is broken too.
    return part.replace("](", "]" + WJ + "(")


def neutralise(markdown: str) -> str:
    """Markdown with no way to make a link (module doc). Code spans keep their text, defanged."""
    if not markdown:
        return markdown
    out: list[str] = []
    for i, part in enumerate(_CODE.split(markdown)):
        out.append(defang(part) if i % 2 else _inert_prose(part))
    return "".join(out)


def neutralise_reply(reply: Reply) -> Reply:
    """The reply with every text part neutralised; `Card.url`, images and times untouched."""
    cards = [
        Card(
            title=defang(c.title),
            description=neutralise(c.description),
            fields=[CardField(defang(f.name), neutralise(f.value), f.inline) for f in c.fields],
            colour=c.colour,
            footer=neutralise(c.footer) if c.footer else c.footer,
            url=c.url,
        )
        for c in reply.cards
    ]
    return Reply(
        text=neutralise(reply.text),
        cards=cards,
        images=reply.images,
        ephemeral=reply.ephemeral,
        suggestions=[defang(s) for s in reply.suggestions],
        local_times=reply.local_times,
    )
