"""Moderator channel settings (`/f1 settings`) applied by the dispatcher and the conversation.

Real dispatcher, real registry, real SQLite demo store; the settings are set
through the moderator command itself (as a moderator would), then ordinary
users ask in that channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels import ChannelPolicy, ChannelPolicyCache
from bot.model import ChannelRef, Privilege
from slipstream.wiring import App, build_app
from tests.core.conftest import NOW, ask, make_settings
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer, openai_server  # noqa: F401

MOD = {"privilege": Privilege.MODERATOR, "user": "mod"}


async def _set(app: App, args: str, channel: str = "c1") -> None:
    r = await ask(app, f"/f1 settings {args}", channel=channel, **MOD)  # type: ignore[arg-type]
    assert "Settings saved" in r.text, r.text


async def test_build_app_installs_the_stored_hooks(app: App) -> None:
    assert app.deps.channel_policies is not None
    assert app.deps.privilege_lookup is not None and app.deps.style_lookup is not None


async def test_answers_off_silences_questions_but_not_commands(app: App) -> None:
    await _set(app, "answers=no")
    r = await ask(app, "who won the 2023 italian grand prix?")
    assert len(r.sent) == 1 and r.sent[0].ephemeral
    assert "don't answer questions in this channel" in r.text and "Verstappen" not in r.text
    # Told once; further questions from the same user are ignored silently (no channel spam).
    r = await ask(app, "who was on the podium at monza 2023?")
    assert r.sent == []
    r = await ask(app, "/f1 ask who won at monza 2023")
    assert r.sent == []
    # Another user gets the note once too.
    r = await ask(app, "fastest lap at monza 2023", user="u2")
    assert "don't answer questions" in r.text
    # Commands still work here, and questions still work in other channels.
    r = await ask(app, "/f1 results monza 2023")
    assert "Winner: **Max Verstappen**" in r.text
    r = await ask(app, "help")
    assert "/f1 results" in r.text
    r = await ask(app, "who won the 2023 italian grand prix?", channel="c2")
    assert "Verstappen" in r.text
    # Switching answers back on applies at once (the cache is invalidated by the command).
    await _set(app, "answers=yes")
    r = await ask(app, "who won the 2023 italian grand prix?")
    assert "Verstappen" in r.text


async def test_per_channel_rate_limits_replace_the_global_ones(app: App) -> None:
    # Global limits are off in these tests (0); the channel sets its own.
    await _set(app, "user_rate=2")
    for _ in range(2):
        r = await ask(app, "who won the 2023 italian grand prix?")
        assert "Verstappen" in r.text
    r = await ask(app, "who won the 2023 italian grand prix?")
    assert "Verstappen" not in r.text and "Try again in" in r.text
    r = await ask(app, "who won the 2023 italian grand prix?", user="u2")  # per user
    assert "Verstappen" in r.text
    r = await ask(app, "who won the 2023 italian grand prix?", channel="c2")  # only in this channel
    assert "Verstappen" in r.text

    await _set(app, "channel_rate=3", channel="c3")
    texts = [(await ask(app, "who won at monza 2023?", user=f"x{i}", channel="c3")).text for i in range(4)]
    assert all("Verstappen" in t for t in texts[:3]) and "This channel is asking a lot" in texts[3]
    # Moderators are never throttled.
    r = await ask(app, "who won at monza 2023?", channel="c3", **MOD)  # type: ignore[arg-type]
    assert "Verstappen" in r.text


async def test_settings_are_cached_with_a_short_ttl(demo_url: str) -> None:
    app = build_app(make_settings(demo_url), clock=lambda: NOW)
    try:
        cache = app.deps.channel_policies
        assert cache is not None
        for _ in range(20):
            await ask(app, "who won at monza 2023?")
        assert cache.loads == 1  # one database read for twenty questions
        # A change written by another process (straight into the table) shows up after the TTL.
        from storage import community

        community.save_channel_settings(app.engine, "console:local:c1", {"answers_enabled": False},
                                        at=NOW, by="other-process")
        r = await ask(app, "who won at monza 2023?")
        assert "Verstappen" in r.text  # still cached
        cache.ttl_s = 0.0
        r = await ask(app, "who won at monza 2023?")
        assert "don't answer questions" in r.text
    finally:
        await app.aclose()


async def test_policy_cache_shares_one_load_and_survives_loader_failure() -> None:
    import asyncio

    calls: list[str] = []
    fail = True

    async def loader(channel: ChannelRef) -> ChannelPolicy | None:
        calls.append(channel.id)
        await asyncio.sleep(0.01)
        if fail:
            raise RuntimeError("database away")
        return ChannelPolicy(answers=False)

    cache = ChannelPolicyCache(loader, ttl_s=60)
    ch = ChannelRef("console", "console:x:1")
    assert await asyncio.gather(*(cache.get(ch) for _ in range(10))) == [None] * 10
    assert len(calls) == 1  # concurrent misses share one load
    fail = False
    policy = await cache.get(ch)  # a failure is not cached
    assert policy is not None and policy.answers is False and len(calls) == 2
    await cache.get(ch)
    assert len(calls) == 2
    cache.invalidate(ch.id)
    await cache.get(ch)
    assert len(calls) == 3


@pytest.fixture
async def llm_app(demo_url: str, openai_server: FakeOpenAIServer) -> AsyncIterator[App]:  # noqa: F811
    settings = make_settings(demo_url, llm_base_url=openai_server.base_url, llm_timeout_s=5.0)
    a = build_app(settings, clock=lambda: NOW)
    try:
        yield a
    finally:
        await a.aclose()


async def test_llm_off_and_style_per_channel(llm_app: App, openai_server: FakeOpenAIServer) -> None:  # noqa: F811
    reply = "Max Verstappen won the 2023 Italian Grand Prix from P2 on the grid."
    await _set(llm_app, "tone=casual length=short language=German", channel="styled")
    openai_server.script(Behaviour(reply=reply))
    r = await ask(llm_app, "who won the 2023 italian grand prix?", channel="styled")
    assert reply in r.text
    prompt = "\n".join(msg["content"] for msg in openai_server.requests[-1].messages)
    assert "Write in German" in prompt and "a fan talking to fans" in prompt

    await _set(llm_app, "llm=off", channel="plain")
    before = len(openai_server.requests)
    r = await ask(llm_app, "who won the 2023 italian grand prix?", channel="plain")
    assert "**Max Verstappen (VER)** won the 2023 Italian Grand Prix" in r.text
    assert len(openai_server.requests) == before  # the model was not called in that channel


async def test_a_stored_style_the_code_no_longer_accepts_falls_back_to_defaults(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.policy import load_channel_policy
    from storage import community

    # As an older version (or a hand edit) might have left it: an unknown tone next to a valid limit.
    community.save_channel_settings(app.engine, "console:local:old", {"tone": "shouty", "llm_enabled": False},
                                    at=NOW, by="older-version")
    with caplog.at_level("WARNING", logger="bot.policy"):
        policy = await load_channel_policy(app.engine, ChannelRef("console", "console:local:old"))
    assert policy == ChannelPolicy(answers=True, llm=False, style=None)
    assert [r.getMessage() for r in caplog.records if r.name == "bot.policy"] == [
        "channel console:local:old has an unusable style 'shouty'/None/None; using the defaults"]
    r = await ask(app, "who won the 2023 italian grand prix?", channel="old")
    assert "Verstappen" in r.text
    assert await load_channel_policy(app.engine, ChannelRef("console", "console:local:none")) is None
