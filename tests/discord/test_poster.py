"""DiscordPoster: highlights to channels, through 429s and lost responses, posted exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from adapters.discord.poster import nonce_for
from bot.errors import DeliveryError, RateLimited
from bot.model import Card, CardField, Reply
from tests.discord.conftest import make_dispatcher, running_bot
from tests.fakes.discord_server import FakeDiscord


def _highlight() -> Reply:
    return Reply(
        text="Lap 42: SAI passes LEC for P2 @everyone",
        cards=[
            Card(
                title="Overtake",
                description="SAI on LEC into Turn 1",
                colour="E8002D",
                fields=[CardField("Gap", "0.4 s")],
            )
        ],
    )


async def test_post_sends_embed_nonce_and_no_mentions(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        channel = f"discord:{fake_discord.guild_id}:{fake_discord.highlights_channel_id}"
        mid = await bot.poster.post(channel, _highlight(), idempotency_key="hl-1:" + channel)
        (req,) = fake_discord.requests_to(
            "POST", rf"/channels/{fake_discord.highlights_channel_id}/messages$"
        )
        assert (
            req.json["nonce"] == nonce_for("hl-1:" + channel) and req.json["enforce_nonce"] is True
        )
        assert len(req.json["nonce"]) <= 25
        assert req.json["allowed_mentions"] == {"parse": []}
        assert req.json["embeds"][0]["color"] == 0xE8002D
        assert fake_discord.messages[int(mid)]["channel_id"] == str(
            fake_discord.highlights_channel_id
        )


async def test_429_with_retry_after_is_waited_out_and_posted_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        fake_discord.rate_limit("POST", r"/channels/\d+/messages$", times=1, retry_after=0.4)
        channel = f"discord:{fake_discord.guild_id}:{fake_discord.highlights_channel_id}"
        t0 = time.perf_counter()
        await bot.poster.post(channel, _highlight(), idempotency_key="hl-429")
        elapsed = time.perf_counter() - t0
        posts = fake_discord.requests_to(
            "POST", rf"/channels/{fake_discord.highlights_channel_id}/messages$"
        )
        assert [p.status for p in posts] == [429, 200]
        assert posts[1].at - posts[0].at >= 0.4  # discord.py honoured retry_after
        assert elapsed >= 0.4
        assert len(fake_discord.channel_messages(fake_discord.highlights_channel_id)) == 1


async def test_long_rate_limit_is_raised_for_the_deliverer(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        # Longer than the client's max_ratelimit_timeout: do not block a worker, reschedule.
        fake_discord.rate_limit("POST", r"/channels/\d+/messages$", times=1, retry_after=60.0)
        channel = f"discord:{fake_discord.guild_id}:{fake_discord.highlights_channel_id}"
        t0 = time.perf_counter()
        with pytest.raises(RateLimited) as info:
            await bot.poster.post(channel, _highlight(), idempotency_key="hl-long")
        assert info.value.retry_after == pytest.approx(60.0)
        assert time.perf_counter() - t0 < 30  # raised at once, not after the 60 s retry_after
        assert fake_discord.channel_messages(fake_discord.highlights_channel_id) == []


async def test_lost_response_retry_does_not_post_twice(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        # Discord stores the message but the answer is a 502: discord.py retries the POST.
        fake_discord.fail_after_commit("POST", r"/channels/\d+/messages$", times=1, status=502)
        channel = f"discord:{fake_discord.guild_id}:{fake_discord.highlights_channel_id}"
        mid = await bot.poster.post(channel, _highlight(), idempotency_key="hl-dup")
        posts = fake_discord.requests_to(
            "POST", rf"/channels/{fake_discord.highlights_channel_id}/messages$"
        )
        assert [p.status for p in posts] == [502, 200]
        assert posts[0].json["nonce"] == posts[1].json["nonce"]
        msgs = fake_discord.channel_messages(fake_discord.highlights_channel_id)
        assert [m["id"] for m in msgs] == [mid]
        # The deliverer retrying the whole post later (same key) is absorbed the same way.
        again = await bot.poster.post(channel, _highlight(), idempotency_key="hl-dup")
        assert (
            again == mid
            and len(fake_discord.channel_messages(fake_discord.highlights_channel_id)) == 1
        )


async def test_unknown_channel_is_a_delivery_error(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        with pytest.raises(DeliveryError):
            await bot.poster.post("slack:T1:C9", _highlight(), idempotency_key="x")
        with pytest.raises(DeliveryError):
            await bot.poster.post("discord:1:not-a-channel", _highlight(), idempotency_key="x")
