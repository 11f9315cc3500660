"""Reply -> Discord payloads stays within Discord's limits and loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.discord.render import (
    MAX_CONTENT,
    MAX_EMBED_TOTAL,
    card_to_embeds,
    localize_times,
    render,
    split_text,
)
from bot.model import Card, CardField, Image, Reply


def test_long_text_splits_on_boundaries_without_losing_words() -> None:
    paragraphs = [f"Paragraph {i}: " + " ".join(["stint"] * 60) for i in range(30)]
    text = "\n\n".join(paragraphs)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(p) <= MAX_CONTENT for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_code_fence_is_closed_and_reopened_across_messages() -> None:
    text = "```\n" + "\n".join(f"{i:>3} VER 1:24.{i:03d}" for i in range(200)) + "\n```"
    parts = split_text(text)
    assert len(parts) > 1
    assert all(p.count("```") % 2 == 0 for p in parts)


def test_card_becomes_embed_with_team_colour_and_clipped_fields() -> None:
    card = Card(
        title="Red Bull Racing",
        description="x" * 5000,
        fields=[CardField(name=f"Lap {i}", value="y" * 2000) for i in range(40)],
        colour="3671C6",
        footer="Data: FastF1",
    )
    embeds = card_to_embeds(card)
    assert all(e.colour is not None and e.colour.value == 0x3671C6 for e in embeds)
    for embed in embeds:
        assert len(embed.fields) <= 25
        assert all(len(f.value or "") <= 1024 for f in embed.fields)
        assert len(embed.description or "") <= 4096
        assert len(embed) <= MAX_EMBED_TOTAL
    # Nothing dropped: all 40 fields, each value cut with "…", the whole description.
    fields = [f for e in embeds for f in e.fields]
    assert [f.name for f in fields] == [f"Lap {i}" for i in range(40)]
    assert all(f.value == "y" * 1023 + "…" for f in fields)
    assert "".join(e.description or "" for e in embeds).count("x") == 5000
    assert embeds[-1].footer.text == "Data: FastF1"


def test_many_cards_spread_over_messages_within_6000_and_10_embeds() -> None:
    cards = [Card(title=f"Driver {i}", description="z" * 3000) for i in range(12)]
    out = render(
        Reply(text="Standings", cards=cards, images=[Image("pace.png", b"\x89PNG", "pace chart")])
    )
    assert sum(len(o.embeds) for o in out) == 12  # nothing dropped
    for o in out:
        assert len(o.embeds) <= 10
        assert sum(len(e) for e in o.embeds) <= MAX_EMBED_TOTAL
    assert out[0].content == "Standings"
    assert out[-1].files == [("pace.png", b"\x89PNG", "pace chart")]


def test_iso_instants_become_discord_timestamps() -> None:
    start = datetime(2023, 9, 3, 13, 0, tzinfo=UTC)
    text = localize_times("Lights out at 2023-09-03T13:00:00Z, quali 2023-09-02T16:00:00+02:00.")
    assert f"<t:{int(start.timestamp())}:f> (<t:{int(start.timestamp())}:R>)" in text
    assert f"<t:{int(datetime(2023, 9, 2, 14, 0, tzinfo=UTC).timestamp())}:R>" in text
    assert "2023-09-03" not in text


def test_local_times_become_discord_timestamps_only_from_trusted_markers() -> None:
    from bot.model import LocalTime

    start = datetime(2023, 9, 3, 13, 0, tzinfo=UTC)
    unix = int(start.timestamp())
    when = LocalTime.new(start)
    reply = Reply(text=f"Race starts {when.marker}. Not a marker: SLIPTIME0123456789abcdefZ",
                  cards=[Card(title="Start", fields=[CardField("At", when.marker)])],
                  local_times=(when,))
    (msg,) = render(reply)
    assert msg.content == (f"Race starts <t:{unix}:F> (<t:{unix}:R>). "
                           "Not a marker: SLIPTIME0123456789abcdefZ")
    assert msg.embeds[0].fields[0].value == f"<t:{unix}:F> (<t:{unix}:R>)"
    # The same reply without its LocalTime (as text from a model would be) stays as written.
    (bare,) = render(Reply(text=reply.text))
    assert when.marker in bare.content and "<t:" not in bare.content
