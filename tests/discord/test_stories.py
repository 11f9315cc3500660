"""Track Pulse stories on Discord: the real discord.py poster against the fake Discord.
A story of three messages is one POST, then PATCHes of that message by id; an edit's
refusals and rate limits reach the deliverer like a post's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.errors import DeliveryError, RateLimited
from bot.model import Reply
from bot.pulse.deliver import Deliverer
from storage import pulse_store
from tests.discord.conftest import make_dispatcher, running_bot
from tests.fakes.discord_server import FakeDiscord
from tests.pulse.story_rows import store_laps, told

T0 = 1_800_000_000.0


async def test_a_story_is_posted_once_then_edited_by_patch(
    fake_discord: FakeDiscord, tmp_path: Path, sqlite_engine: Engine
) -> None:
    cid = fake_discord.highlights_channel_id
    channel = f"discord:{fake_discord.guild_id}:{cid}"
    fl = store_laps(sqlite_engine, "fastest_lap", range(10, 13))
    pulse_store.enqueue(sqlite_engine, [told(channel, h, "fastest_lap") for h in fl], now=T0)
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        dl = Deliverer(sqlite_engine, {"discord": bot.poster}, clock=lambda: T0 + 1)
        posted = 0
        for _ in range(10):
            if not (n := await dl.run_once()):
                break
            posted += n
        assert posted == 3
        (msg,) = fake_discord.channel_messages(cid)
        assert len(fake_discord.requests_to("POST", rf"/channels/{cid}/messages$")) == 1
        patches = fake_discord.requests_to("PATCH", rf"/channels/{cid}/messages/{msg['id']}$")
        assert [p.json["content"] for p in patches] == ["fastest_lap lap 11", "fastest_lap lap 12"]
        assert all(p.status == 200 and p.json["allowed_mentions"] == {"parse": []} for p in patches)
        assert msg["content"] == "fastest_lap lap 12" and msg["edited_timestamp"] is not None
        assert [m for _k, m in pulse_store.posted_for_channel(sqlite_engine, channel)] == [
            msg["id"]] * 3


async def test_edit_refusals_and_rate_limits_are_the_deliverers_errors(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    cid = fake_discord.highlights_channel_id
    channel = f"discord:{fake_discord.guild_id}:{cid}"
    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
        assert bot.poster is not None
        mid = await bot.poster.post(channel, Reply(text="battle, lap 1"), idempotency_key="s-1")
        # Longer than discord.py's max_ratelimit_timeout: raised for the deliverer, not edited.
        fake_discord.rate_limit("PATCH", rf"/channels/{cid}/messages/\d+$", times=1, retry_after=60.0)
        with pytest.raises(RateLimited):
            await bot.poster.edit(channel, mid, Reply(text="battle, lap 2"))
        assert fake_discord.messages[int(mid)]["content"] == "battle, lap 1"
        assert await bot.poster.edit(channel, mid, Reply(text="battle, lap 2")) == mid
        assert fake_discord.messages[int(mid)]["content"] == "battle, lap 2"
        with pytest.raises(DeliveryError):  # the message was deleted
            await bot.poster.edit(channel, "123456789", Reply(text="battle, lap 3"))
        with pytest.raises(DeliveryError):
            await bot.poster.edit("discord:1:not-a-channel", mid, Reply(text="x"))
