"""Reply -> Slack mrkdwn / Block Kit: escaping and Slack's size limits."""

from __future__ import annotations

import re

from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_SECTION,
    escape,
    render,
    split_text,
    to_mrkdwn,
)
from bot.model import Card, CardField, Reply


def _special_tokens(text: str) -> list[str]:
    """Slack's live control sequences: <!channel>, <!here>, <@U..>, <#C..>."""
    return re.findall(r"<[!@#][^>]*>", text)


def test_generated_mentions_are_inert() -> None:
    raw = "Hey <!channel> and <!here|here> and <@U024BE7LH> & <#C123> @channel @here @everyone"
    out = to_mrkdwn(raw)
    assert _special_tokens(out) == []
    assert "&lt;!channel&gt;" in out and "&amp;" in out
    # bare broadcasts are broken by an invisible joiner (with parse=none they do not link anyway)
    assert "@channel" not in out and "@here" not in out and "@everyone" not in out
    assert escape("a<b>c&d") == "a&lt;b&gt;c&amp;d"


def test_markdown_to_mrkdwn() -> None:
    md = "# Monza 2023\n**Verstappen** won, *Sainz* third.\n- P1 VER\n- P2 PER\n~~old~~ [FIA](https://fia.com/a?b=1&c=2)"
    out = to_mrkdwn(md)
    assert "*Monza 2023*" in out
    assert "*Verstappen* won, _Sainz_ third." in out
    assert "• P1 VER\n• P2 PER" in out
    assert "~old~" in out
    # Text never makes a link (bot.links): shown, escaped, not clickable.
    assert "FIA (`https:\u2060//fia.com/a?b=1&amp;c=2`)" in out and "<http" not in out


def test_links_cannot_smuggle_special_tokens() -> None:
    out = to_mrkdwn("[click](!channel) [x](<!here>) [y](javascript:alert(1))")
    assert _special_tokens(out) == []
    assert "<!channel" not in out and "<javascript" not in out


def test_code_is_escaped_but_not_reformatted() -> None:
    out = to_mrkdwn("`**a** <!channel>`\n```\n*b* <@U1>\n```")
    assert "`**a** &lt;!channel&gt;`" in out
    assert "*b* &lt;@U1&gt;" in out


def test_tables_become_code_blocks() -> None:
    out = to_mrkdwn("| Pos | Driver |\n|---|---|\n| 1 | VER |\n| 2 | PER |")
    assert out.startswith("```") and out.endswith("```")
    assert "| 1 | VER |" in out and "---" not in out


def test_long_text_split_within_section_limit_with_balanced_fences() -> None:
    text = "\n".join(f"Lap {i}: " + "x" * 90 for i in range(200))
    text = "intro\n```\n" + text + "\n```\nend"
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_SECTION for c in chunks)
    assert all(c.count("```") % 2 == 0 for c in chunks)
    assert "".join(chunks).count("Lap 199") == 1


def test_single_huge_line_is_split() -> None:
    chunks = split_text("y" * 10_000)
    assert all(len(c) <= MAX_SECTION for c in chunks)
    assert sum(len(c) for c in chunks) == 10_000


def test_cards_stay_within_block_kit_limits() -> None:
    cards = [
        Card(
            title="T" * 400,
            description="d" * 7000,
            fields=[CardField(f"f{j}", "v" * 2500) for j in range(23)],
            footer="source: FastF1 <!channel>",
        )
        for _ in range(6)
    ]
    messages = render(Reply(text="summary " * 1000, cards=cards, suggestions=["who won?"]))
    assert len(messages) > 1  # over 50 blocks in all: continued in a further message
    for msg in messages:
        assert 0 < len(msg.blocks) <= MAX_BLOCKS
        for b in msg.blocks:
            if b["type"] == "header":
                assert len(b["text"]["text"]) <= MAX_HEADER
            if b["type"] == "section" and "text" in b:
                assert len(b["text"]["text"]) <= MAX_SECTION
            if b["type"] == "section" and "fields" in b:
                assert len(b["fields"]) <= MAX_FIELDS
                assert all(len(f["text"]) <= 2000 for f in b["fields"])
        assert _special_tokens(msg.text) == []
        assert all(
            _special_tokens(e.get("text", "")) == []
            for b in msg.blocks
            for e in b.get("elements", [])
        )


def test_plain_reply_is_one_message_with_fallback_text() -> None:
    (msg,) = render(Reply(text="Verstappen won **Monza 2023**."))
    assert msg.text == "Verstappen won *Monza 2023*."
    assert msg.blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": msg.text, "verbatim": True}}
    ]
    kw = msg.kwargs()
    assert kw["parse"] == "none" and kw["link_names"] is False
