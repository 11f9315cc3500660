"""The one Markdown-aware splitter (`bot.textsplit`), as streaming, Discord and Slack use it."""

from __future__ import annotations

import pytest

from adapters.discord.render import MAX_CONTENT
from adapters.discord.render import split_text as discord_split
from adapters.slack.render import MAX_SECTION
from adapters.slack.render import split_text as slack_split
from bot.streaming import split_text as stream_split
from bot.textsplit import split_markdown


def _words(text: str) -> list[str]:
    """Every word outside fence lines: what a reader must still see, in order."""
    return [w for line in text.split("\n") if not line.strip().startswith("```") for w in line.split()]


def _doc(rows: int = 120) -> str:
    laps = "\n".join(f"{i:>3}  VER  1:24.{i:03d}  medium" for i in range(rows))
    items = "\n".join(f"- **Lap {i}**: [replay](https://example.com/laps/{i}) and `pit {i}` notes" for i in range(60))
    prose = " ".join(f"Verstappen led lap {i} by a **comfortable margin** today." for i in range(80))
    return f"Intro paragraph.\n\n```text\n{laps}\n```\n\n{items}\n\n{prose}"


@pytest.mark.parametrize(("split", "limit"), [
    (lambda t: discord_split(t), MAX_CONTENT),
    (lambda t: slack_split(t), MAX_SECTION),
    (lambda t: stream_split(t, 500), 500),
    (lambda t: split_markdown(t, 120), 120),
])
def test_limits_respected_nothing_lost_fences_balanced(split, limit: int) -> None:  # type: ignore[no-untyped-def]
    text = _doc()
    parts = split(text)
    assert len(parts) > 1
    assert all(len(p) <= limit for p in parts), [len(p) for p in parts]
    assert _words("\n".join(parts)) == _words(text)
    assert all(p.count("```") % 2 == 0 for p in parts)


def test_fence_is_closed_and_reopened_with_its_language() -> None:
    text = "Stints:\n```py\n" + "\n".join(f"    stint_{i} = {i}" for i in range(40)) + "\n```\nDone."
    parts = split_markdown(text, 150)
    inside = [p for p in parts[1:] if "stint_" in p]
    assert inside and all(p.startswith("```py\n") for p in inside)
    assert all(p.endswith("\n```") for p in parts[:-1] if "stint_" in p)
    assert "    stint_39 = 39" in "\n".join(parts)  # indentation kept inside code
    assert parts[-1].endswith("Done.") and "```py\n```" not in "\n".join(parts)  # no empty block


def test_no_cut_inside_a_link_or_markup_when_a_space_outside_exists() -> None:
    text = "Read this: **a bold claim about the race** then [the full replay](https://example.com/x) now"
    for limit in range(48, 80):
        for part in split_markdown(text, limit):
            assert part.count("**") % 2 == 0, (limit, part)
            assert part.count("[") == part.count("]"), (limit, part)
            assert ("](" in part) == ("https://" in part), (limit, part)


def test_list_items_stay_whole() -> None:
    items = [f"- Lap {i}: VER pitted for hards" for i in range(50)]
    parts = split_markdown("\n".join(items), 200)
    assert all(line in items for p in parts for line in p.split("\n"))


def test_a_word_longer_than_a_part_is_cut_without_losing_a_character() -> None:
    assert split_markdown("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]
    parts = slack_split("y" * 10_000)
    assert "".join(parts) == "y" * 10_000 and all(len(p) <= MAX_SECTION for p in parts)


def test_prefix_stable_with_fences_for_streaming() -> None:
    text = "Answer:\n```\n" + "\n".join(f"lap {i} 1:2{i % 10}.000" for i in range(60)) + "\n```\nAnd more words " * 3
    full = split_markdown(text, 120)
    for n in range(130, len(text), 29):
        prefix = split_markdown(text[:n], 120)
        assert prefix[:-1] == full[: len(prefix) - 1], n
