"""Chart images on Discord: a multipart upload whose embed shows the file (`attachment://`)
and whose attachment carries the alt text, through real discord.py and the fake Discord."""

from __future__ import annotations

from pathlib import Path

from adapters.discord.render import render, render_one
from bot.model import Card, Image, Reply
from bot.registry import Registry
from tests.discord.conftest import make_dispatcher, running_bot
from tests.fakes.discord_server import FakeDiscord

# A valid 1x1 PNG (signature, IHDR, IDAT, IEND), so nothing downstream has to trust a stub.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6"
    "45400000000049454e44ae426082"
)
ALT = "Lap times of VER and LEC, Monza 2023: VER about 0.3 s a lap quicker"


def _chart_registry() -> Registry:
    reg = Registry()

    @reg.command()
    async def chart(ctx: object) -> Reply:
        """A chart without a card (test-only command)."""
        return Reply(text="Lap times at Monza 2023\nVER was quicker.",
                     images=[Image("lap times.png", PNG, ALT)])

    @reg.command()
    async def carded(ctx: object) -> Reply:
        """A card and a chart (test-only command)."""
        return Reply(text="Pace", cards=[Card(title="Ferrari", description="SAI P3")],
                     images=[Image("pace.png", PNG, ALT)])

    return reg


def _one_attachment(payload: dict[str, object]) -> dict[str, object]:
    (att,) = payload["attachments"]  # type: ignore[misc]
    return att  # type: ignore[no-any-return]


async def test_deferred_interaction_edit_uploads_the_chart_as_the_embed_image(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path, _chart_registry())) as bot:
        await fake_discord.send_interaction(fake_discord.interaction("chart", {}))
        edit = await bot.wait_request(lambda r: r.method == "PATCH" and r.path.endswith("@original"))
    assert edit.files == [("lap_times.png", PNG)]  # the multipart part; name safe for attachment://
    (embed,) = edit.json["embeds"]
    assert embed["image"]["url"] == "attachment://lap_times.png"
    assert embed["title"] == "Lap times at Monza 2023"  # no card: titled with the first line
    att = _one_attachment(edit.json)
    assert att["filename"] == "lap_times.png" and att["description"] == ALT
    stored = next(m for m in fake_discord.messages.values() if m["attachments"])
    assert stored["attachments"][0]["description"] == ALT


async def test_card_embed_carries_the_image_in_a_mention_reply(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path, _chart_registry())) as bot:
        msg = fake_discord.message("/f1 carded", mention_bot=True)
        await fake_discord.send_message(msg)
        post = await bot.wait_request(lambda r: r.method == "POST" and bool(r.files))
    assert post.path.endswith("/messages") and post.files == [("pace.png", PNG)]
    (embed,) = post.json["embeds"]  # the card itself shows the chart: no extra embed
    assert embed["title"] == "Ferrari" and embed["image"]["url"] == "attachment://pace.png"
    assert _one_attachment(post.json)["description"] == ALT
    assert post.json["message_reference"]["message_id"] == int(msg["id"])


async def test_follow_up_after_the_original_also_shows_the_chart(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    reg = Registry()
    long_text = "\n\n".join(f"Paragraph {i}: " + "lap " * 60 for i in range(12))  # > 2000 chars

    @reg.command()
    async def two(ctx: object) -> Reply:
        """A long answer with a chart: the chart rides on the last part (test-only command)."""
        return Reply(text=long_text, images=[Image("gaps.png", PNG, "gap chart")])

    async with running_bot(fake_discord, make_dispatcher(tmp_path, reg)) as bot:
        await fake_discord.send_interaction(fake_discord.interaction("two", {}))
        follow = await bot.wait_request(
            lambda r: r.method == "POST" and "/webhooks/" in r.path and bool(r.files), timeout_s=15
        )
    assert follow.json["embeds"][0]["image"]["url"] == "attachment://gaps.png"
    assert _one_attachment(follow.json)["description"] == "gap chart"


def test_render_without_images_is_unchanged_and_many_images_split() -> None:
    plain = render(Reply(text="hi", cards=[Card(title="T")]))
    assert plain[0].files == [] and plain[0].embeds[0].image.url is None
    many = render(Reply(text="x", images=[Image("c.png", PNG, f"chart {i}") for i in range(12)]))
    assert [len(m.files) for m in many] == [10, 2]
    assert many[0].files[1][0] == "c-2.png"  # one message, two files: names told apart
    for m in many:
        assert m.embeds[0].image.url == f"attachment://{m.files[0][0]}"
        assert m.discord_files()[0].description == m.files[0][2]
    edit = render_one(Reply(text="x", images=[Image("c.png", PNG, "a")]))
    assert edit.embeds[0].image.url == "attachment://c.png"
