"""An interaction another worker acknowledged first: this worker stands down quietly."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.discord.conftest import build_demo_app, running_bot
from tests.fakes.discord_server import FakeDiscord, Recorded


def _callback(r: Recorded) -> bool:
    return r.method == "POST" and r.path.endswith("/callback")


async def test_interaction_taken_by_another_worker_is_left_alone(
    fake_discord: FakeDiscord, demo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction("results", {"race": "monza 2023"})
        # The other worker's defer reached Discord first: ours gets 40060 "already acknowledged".
        fake_discord.originals[payload["token"]] = 1
        start = bot.mark()
        await fake_discord.send_interaction(payload)
        defer = await bot.wait_request(_callback, start=start)
        assert defer.status == 400
        await asyncio.sleep(1.0)  # room for any wrong follow-up or apology to show up
        after = fake_discord.requests[start:]
        assert [r for r in after if r.method in ("POST", "PATCH") and not _callback(r)] == []
    await app.aclose()
    assert any("acknowledged by another worker" in r.getMessage() for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), [r.getMessage() for r in caplog.records]
