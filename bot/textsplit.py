"""One Markdown-aware splitter for every platform: text → parts within a length limit.

Used by streaming (continuation messages), the Discord renderer (2,000-char
messages) and the Slack renderer (3,000-char sections); each passes its limit.

Rules, in order of preference:
- cut at a paragraph break, then a line break, then a space, in the second half
  of the part (so parts are not tiny);
- never inside a word, a link (`[text](url)`, `<url|text>`) or inline markup
  (`` `code` ``, `**bold**`, `~~strike~~`, Slack `*bold*`) when a cut outside one exists;
- a code fence open at a cut is closed at the end of the part and reopened, with
  its language, at the start of the next; inside a fence only line breaks are
  cut and indentation is kept;
- nothing is lost: a word longer than a whole part is cut hard, keeping every
  character.
Deterministic on prefixes: a part is decided by the text it holds and the next
character only, so appending text never moves an earlier cut (streamed messages
already shown stay as they are).
"""

from __future__ import annotations

import re

FENCE = "```"
_CLOSE = "\n" + FENCE
_SEPARATORS = ("\n\n", "\n", " ")
_MIN_LIMIT = 20


def split_markdown(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` characters (see the module doc)."""
    limit = max(limit, _MIN_LIMIT)
    parts: list[str] = []
    rest = text
    opener: str | None = None  # the fence line ("```py") open where the last part was cut
    while True:
        head = f"{opener}\n" if opener else ""
        if len(head) + len(rest) <= limit:
            break
        # Room for closing a fence we may end inside: only when one could be open. Look
        # no further than the loop condition guarantees is there (prefix stability).
        window_has_fence = opener is not None or FENCE in rest[: limit - len(head) + 1]
        room = limit - len(head) - (len(_CLOSE) if window_has_fence else 0)
        cut, skip = _choose_cut(rest, room, in_fence=opener is not None)
        body = rest[:cut]
        end_opener = _fence_after(body, opener)
        if skip:  # a separator cut: trailing blanks go, code indentation stays
            body = body.rstrip(" \n") if end_opener is None else body.rstrip("\n")
        part = head + body + (_CLOSE if end_opener else "")
        if part.strip():
            parts.append(part)
        rest = rest[cut + skip :]
        if end_opener is not None and (closing := _CLOSING_LINE.match(rest)):
            # The fence ends right here: the close we added stands for it (no empty block).
            rest, end_opener = rest[closing.end() :], None
        if end_opener is None:
            rest = rest.lstrip(" \n") if skip or part.endswith(FENCE) else rest
        opener = end_opener
    last = (f"{opener}\n" if opener else "") + rest
    if last.strip():
        parts.append(last)
    return parts


def _choose_cut(rest: str, room: int, *, in_fence: bool) -> tuple[int, int]:
    """(cut position, separator length to drop) for a part of at most `room` chars."""
    window = rest[: room + 1]
    floor = room // 2
    fallback: tuple[int, int] | None = None
    for sep in _SEPARATORS:
        pos = window.rfind(sep)
        while pos >= floor and pos > 0:
            if pos <= room:
                if sep != "\n" and _inside_fence_line(rest, pos, in_fence):
                    pass  # inside code only line breaks are cut
                elif sep == " " and _inside_markup(rest, pos):
                    fallback = fallback or (pos, len(sep))
                else:
                    return pos, len(sep)
            pos = window.rfind(sep, 0, pos)
    if fallback is not None:
        return fallback
    return room, 0  # one word longer than the part: hard cut, nothing dropped


def _inside_fence_line(rest: str, pos: int, in_fence: bool) -> bool:
    return _fence_after(rest[:pos], "```" if in_fence else None) is not None


def _fence_after(body: str, opener: str | None) -> str | None:
    """The open fence's line after `body` (None if no fence is open), starting from `opener`."""
    for line in body.split("\n"):
        s = line.strip()
        if s.startswith(FENCE):
            if opener is None:
                opener = s if s.count(FENCE) % 2 == 1 else None
            elif s == FENCE or s.count(FENCE) % 2 == 1:
                opener = None
    return opener


_CLOSING_LINE = re.compile(r"[ \t]*```[ \t]*(?:\n|$)")
_LINK_OPEN = re.compile(r"\[[^\]\n]*$|\]\([^)\s]*$|<[^>\n]*$")


def _inside_markup(rest: str, pos: int) -> bool:
    """Whether a cut at `pos` falls inside inline markup or a link of its line."""
    line = rest[rest.rfind("\n", 0, pos) + 1 : pos]
    if line.count("`") % 2 or line.count("**") % 2 or line.count("~~") % 2:
        return True
    single = re.sub(r"^\s*[*-] ", "", line).replace("**", "")
    if single.count("*") % 2:  # Slack *bold*, Markdown *italic*; not a "* " bullet
        return True
    return bool(_LINK_OPEN.search(line))
