"""Text cut to a platform limit always ends with "…"; nothing else is cut or dropped.

Issue 14 item 7: field values and footers were cut without an ellipsis, and fields past
6,000 characters were dropped. Checked on the real Discord and Slack renderers.
"""

from __future__ import annotations

import datetime as dt
import importlib

from adapters.discord import render as dr
from bot.model import Card, CardField, LocalTime, Reply

sr = importlib.import_module("adapters.slack.render")  # the package re-exports a `render` function


def test_discord_cut_title_field_and_footer_end_with_ellipsis() -> None:
    card = Card(title="Title " * 60, description="short",
                fields=[CardField("N" * 300, "v " * 700)], footer="f" * 2100)
    embeds = dr.card_to_embeds(card)
    fld = embeds[0].fields[0]
    assert len(embeds[0].title or "") <= dr.MAX_TITLE and (embeds[0].title or "").endswith("…")
    assert len(fld.name or "") <= dr.MAX_FIELD_NAME and (fld.name or "").endswith("…")
    assert len(fld.value or "") <= dr.MAX_FIELD_VALUE and (fld.value or "").endswith("…")
    footer = embeds[-1].footer.text or ""
    assert len(footer) == dr.MAX_FOOTER and footer.endswith("…")


def test_discord_fields_past_6000_continue_in_another_embed() -> None:
    fields = [CardField(f"Stint {i}", "x" * 1000) for i in range(12)]  # 12,000+ characters
    out = dr.render(Reply(cards=[Card(title="Stints", fields=fields, footer="Data: FastF1")]))
    embeds = [e for msg in out for e in msg.embeds]
    assert [f.name for e in embeds for f in e.fields] == [f"Stint {i}" for i in range(12)]
    assert all(f.value == "x" * 1000 for e in embeds for f in e.fields)  # none cut
    assert all(len(e) <= dr.MAX_EMBED_TOTAL for e in embeds)
    assert all(sum(len(e) for e in msg.embeds) <= dr.MAX_EMBED_TOTAL for msg in out)
    assert embeds[-1].footer.text == "Data: FastF1"
    assert embeds[1].title == "Stints (continued)"


def test_discord_text_is_not_cut_when_it_fits() -> None:
    embeds = dr.card_to_embeds(Card(title="t" * 256, description="d", fields=[CardField("n", "v" * 1024)]))
    assert embeds[0].title == "t" * 256 and embeds[0].fields[0].value == "v" * 1024


def test_slack_cut_header_field_and_footer_end_with_ellipsis() -> None:
    card = Card(title="Header " * 40, fields=[CardField("Name", "word " * 600)], footer="note " * 700)
    blocks = sr.card_blocks(card)
    header = blocks[0]["text"]["text"]
    assert len(header) == sr.MAX_HEADER and header.endswith("…")
    field = blocks[1]["fields"][0]["text"]
    assert len(field) <= sr.MAX_FIELD and field.endswith("…")
    footer = blocks[2]["elements"][0]["text"]
    assert len(footer) <= sr.MAX_SECTION and footer.endswith("…")


def test_slack_cut_never_splits_an_entity_or_a_time_marker() -> None:
    assert sr._clip("a" * 10 + "&amp;b", 13) == "a" * 10 + "…"
    when = LocalTime.new(dt.datetime(2023, 9, 3, 13, tzinfo=dt.UTC))
    text = "x" * 20 + when.marker
    assert sr._clip(text, 30) == "x" * 20 + "…"


def test_slack_sections_fit_after_time_markers_become_date_tokens() -> None:
    base = dt.datetime(2023, 9, 3, 13, tzinfo=dt.UTC)
    times = [LocalTime.new(base + dt.timedelta(hours=i)) for i in range(300)]
    description = "\n".join(f"- {t.marker}" for t in times)
    messages = sr.render(Reply(cards=[Card(title="Upcoming sessions", description=description)],
                               local_times=tuple(times)))
    sections = [b["text"]["text"] for msg in messages for b in msg.blocks if b["type"] == "section"]
    assert all(len(s) <= sr.MAX_SECTION for s in sections)
    assert sum(s.count("<!date^") for s in sections) == 300
    assert all(len(msg.blocks) <= sr.MAX_BLOCKS for msg in messages)
