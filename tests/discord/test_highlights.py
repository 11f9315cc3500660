"""Track Pulse on Discord: Monza 2023 highlights -> outbox -> Deliverer -> DiscordPoster -> channel."""

from __future__ import annotations

import asyncio

from bot.pulse.commentary import Commentator
from bot.pulse.deliver import Deliverer
from bot.pulse.pipeline import run_session
from storage import pulse_store
from tests.discord.conftest import build_demo_app, running_bot
from tests.fakes.discord_server import FakeDiscord


async def test_highlights_posted_to_the_subscribed_channel_once(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    engine = app.engine
    subscribed = f"discord:{fake_discord.guild_id}:{fake_discord.highlights_channel_id}"
    await asyncio.to_thread(pulse_store.subscribe, engine, subscribed, min_priority="critical")
    session_id = await asyncio.to_thread(pulse_store.find_session, engine, 2023, "monza", "R")
    run = await run_session(engine, session_id, Commentator())
    assert run.messages > 0
    async with running_bot(fake_discord, app.dispatcher) as bot:
        assert bot.poster is not None
        deliverer = Deliverer(engine, {"discord": bot.poster})
        # One 429 on the way: the row is retried, not lost and not doubled.
        fake_discord.rate_limit(
            "POST", rf"/channels/{fake_discord.highlights_channel_id}/messages$", retry_after=0.2
        )
        posted = 0
        for _ in range(50):
            posted += await deliverer.run_once()
            if posted >= run.messages:
                break
            await asyncio.sleep(0.05)
        assert posted == run.messages
        msgs = fake_discord.channel_messages(fake_discord.highlights_channel_id)
        assert len(msgs) == run.messages
        assert (
            fake_discord.channel_messages(fake_discord.channel_id) == []
        )  # only the subscribed channel
        posts = [
            r
            for r in fake_discord.requests_to(
                "POST", rf"/channels/{fake_discord.highlights_channel_id}/messages$"
            )
            if r.status == 200
        ]
        assert all(
            p.json["enforce_nonce"] and p.json["allowed_mentions"] == {"parse": []} for p in posts
        )
        assert len({p.json["nonce"] for p in posts}) == len(posts)  # one nonce per delivery
        # The outbox records Discord's message ids; a second round posts nothing more.
        rows = await asyncio.to_thread(pulse_store.posted_for_channel, engine, subscribed)
        assert {mid for _, mid in rows} == {m["id"] for m in msgs}
        assert await deliverer.run_once() == 0
        assert (
            len(fake_discord.channel_messages(fake_discord.highlights_channel_id)) == run.messages
        )
    await app.aclose()
