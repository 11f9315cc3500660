"""Split Markdown that holds tables at row boundaries, so a long table continues, never drops.

`bot.textsplit.split_markdown` is for prose (it prefers paragraph breaks and cuts
words only as a last resort). A card's description is usually a fixed-width table
in a code fence (`bot.format.table`): cutting it mid-row, or leaving the fence
open, garbles every row after the cut. Here a part ends only at a line break; a
fence open at the cut is closed at the end of the part and reopened at the start
of the next, with the table's header row repeated, so every part reads alone.

Nothing is lost: joining the parts' rows (minus the repeated fence and header
lines) gives back every line of the input. A line longer than a whole part (prose,
not a table row) is cut by `split_markdown`, which keeps every character.
"""

from __future__ import annotations

from bot.textsplit import split_markdown

FENCE = "```"


def _is_fence(line: str) -> bool:
    return line.strip().startswith(FENCE)


def _looks_like_header(line: str) -> bool:
    # Hazard: a code block need not be a table. `format.table` headers are words
    # ("Pos  Code  Driver  Pts"), rows carry digits; repeat only a digit-free first line.
    return bool(line.strip()) and not any(ch.isdigit() for ch in line) and not _is_fence(line)


def split_rows(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut only between lines (see the module doc)."""
    parts: list[str] = []
    cur: list[str] = []
    cur_len = -1  # len("\n".join(cur)); -1 for an empty part (no joining newline yet)
    opener: str | None = None  # the fence line open at this point, e.g. "```" or "```text"
    header: str | None = None  # the first line inside the open fence, when it is a header
    first_in_fence = False

    def emit() -> None:
        nonlocal cur, cur_len
        lines = cur + ([FENCE] if opener is not None else [])
        part = "\n".join(lines).strip("\n")
        if part.strip() and part.strip() not in (FENCE, (opener or "") + "\n" + FENCE):
            parts.append(part)
        cur, cur_len = [], -1

    def add(line: str) -> None:
        nonlocal cur_len
        cur.append(line)
        cur_len += len(line) + 1

    def start_part(nxt: str) -> None:
        """A new part inside an open fence starts by reopening it (and repeating the header)."""
        if opener is not None:
            add(opener)
            # The header only when it leaves room for the next line and the closing fence.
            if header is not None and len(opener) + len(header) + len(nxt) + len(FENCE) + 3 <= limit:
                add(header)

    for raw in _lines(text, limit):
        # Fence state after this line: needed to reserve room for a closing fence.
        closes = opener is not None and _is_fence(raw)
        opens = opener is None and _is_fence(raw) and raw.strip().count(FENCE) % 2 == 1
        after_open = (opener is not None and not closes) or opens
        need = cur_len + 1 + len(raw) + (len(FENCE) + 1 if after_open else 0)
        if cur and need > limit and not (closes and not cur_len + 1 + len(raw) > limit):
            emit()
            if not closes:
                start_part(raw)
            else:
                opener = header = None  # the close we emitted stands for this line
                continue
        add(raw)
        if opens:
            opener, header, first_in_fence = raw.strip(), None, True
        elif closes:
            opener, header = None, None
        elif opener is not None and first_in_fence:
            first_in_fence = False
            header = raw if _looks_like_header(raw) else None
    emit()
    return parts


def _lines(text: str, limit: int) -> list[str]:
    """The text's lines; a line too long for any part (with a fence and header) is cut first."""
    room = max(limit - 32, 20)  # leave space for a reopened fence line and its close
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= room:
            out.append(line)
        else:
            out.extend(split_markdown(line, room))
    return out
