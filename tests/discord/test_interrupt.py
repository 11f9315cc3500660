"""Shutdown on Discord: a deferred `/f1 ask` ("thinking…") and a mention answered with "…"
are both marked interrupted when the model never answers, none left loading or "…"."""

from __future__ import annotations

import asyncio

from bot.inflight import InFlight
from bot.messages import INTERRUPTED
from tests.discord.conftest import build_demo_app, running_bot
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer


async def test_interaction_and_mention_are_marked_interrupted(
    fake_discord: FakeDiscord, demo_url: str, openai_server: FakeOpenAIServer
) -> None:
    openai_server.set_default(Behaviour(hang=True))
    app = build_demo_app(fake_discord, demo_url, llm_base_url=openai_server.base_url)
    inflight = InFlight(app.dispatcher)
    channel = fake_discord.channel_id
    async with running_bot(fake_discord, inflight) as bot:
        payload = fake_discord.interaction("ask", {"question": "who won monza 2023"})
        await fake_discord.send_interaction(payload)
        await fake_discord.send_message(
            fake_discord.message("who won monza 2023", mention_bot=True)
        )
        await bot.wait_until(lambda: inflight.in_flight == 2 and len(openai_server.requests) == 2,
                             timeout_s=15)
        finished, interrupted = await asyncio.wait_for(inflight.shutdown(0.1), 20)
        messages = fake_discord.channel_messages(channel)
    await app.aclose()
    assert (finished, interrupted) == (0, 2)
    assert len(messages) == 2, messages
    for msg in messages:
        assert msg["content"].endswith(INTERRUPTED), msg
        assert not (msg.get("flags", 0) or 0) & 128, msg  # no interaction left "thinking…"
