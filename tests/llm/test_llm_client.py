"""LLMClient against a real local HTTP server speaking the OpenAI API."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.llm import LLMClient, LLMError
from bot.settings import Settings
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

MSG = [{"role": "user", "content": "who won?"}]


def test_from_settings_without_base_url_means_no_llm() -> None:
    assert LLMClient.from_settings(Settings(llm_base_url=None)) is None
    client = LLMClient.from_settings(
        Settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_max_concurrency=3)
    )
    assert client is not None and client.model == "m" and client.base_url.endswith("/v1")


async def test_complete_and_stream(openai_server: FakeOpenAIServer, llm: LLMClient) -> None:
    openai_server.script("Max Verstappen won.", "Max Verstappen won.")
    assert await llm.complete(MSG, max_tokens=50, temperature=0.0) == "Max Verstappen won."
    deltas = [d async for d in llm.stream(MSG, max_tokens=50)]
    assert len(deltas) > 1 and "".join(deltas) == "Max Verstappen won."
    first, second = openai_server.requests
    assert not first.stream and second.stream
    assert first.body["max_tokens"] == 50 and first.body["temperature"] == 0.0
    assert first.body["messages"] == MSG
    assert llm.stats.calls == 2 and llm.stats.failures == 0


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (Behaviour(status=500), "http_error"),
        (Behaviour(status=429), "http_error"),
        (Behaviour(garbage=True), "bad_response"),
        (Behaviour(reply=""), "empty"),
        (Behaviour(hang=True), "timeout"),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
async def test_failures_become_llm_error(
    openai_server: FakeOpenAIServer,
    llm: LLMClient,
    behaviour: Behaviour,
    reason: str,
    streaming: bool,
) -> None:
    openai_server.script(behaviour)
    t0 = time.perf_counter()
    with pytest.raises(LLMError) as info:
        if streaming:
            async for _ in llm.stream(MSG):
                pass
        else:
            await llm.complete(MSG)
    assert info.value.reason == reason
    # The client's timeout_s=0.5 ends a hung call: well before this bound, far from flaky.
    assert time.perf_counter() - t0 < 10
    assert llm.stats.failures == 1 and llm.stats.timeouts == (1 if reason == "timeout" else 0)
    assert len(openai_server.requests) == 1  # no hidden retries inside the client


async def test_stream_dropped_midway_and_slow_stream_hit_deadline(
    openai_server: FakeOpenAIServer, llm: LLMClient
) -> None:
    openai_server.script(Behaviour(reply="one two three four", fail_after_chunks=2))
    got: list[str] = []
    with pytest.raises(LLMError) as info:
        async for d in llm.stream(MSG):
            got.append(d)
    assert got == ["one ", "two "] and info.value.reason in ("connection", "bad_response")

    # Tokens keep coming, but the whole answer must be done within timeout_s.
    openai_server.script(Behaviour(reply="a b c d e f g h i j", chunk_delay_s=0.25))
    with pytest.raises(LLMError) as info:
        async for _ in llm.stream(MSG):
            pass
    assert info.value.reason == "timeout"


async def test_concurrency_is_bounded() -> None:
    async with FakeOpenAIServer(default=Behaviour(reply="ok", delay_s=0.2)) as srv:
        client = LLMClient(base_url=srv.base_url, timeout_s=5, max_concurrency=1)
        t0 = time.perf_counter()
        await asyncio.gather(*(client.complete(MSG) for _ in range(3)))
        elapsed = time.perf_counter() - t0
        starts = sorted(r.received_at for r in srv.requests)
        await client.aclose()
    assert elapsed >= 0.55  # one at a time: 3 x 0.2 s
    assert all(b - a >= 0.18 for a, b in zip(starts, starts[1:], strict=False))


async def test_abandoned_stream_frees_its_slot(openai_server: FakeOpenAIServer) -> None:
    import contextlib

    client = LLMClient(base_url=openai_server.base_url, timeout_s=2, max_concurrency=1)
    openai_server.set_default(Behaviour(reply="a b c d e f", chunk_delay_s=0.05))
    async with contextlib.aclosing(client.stream(MSG)) as s:
        async for _ in s:
            break  # e.g. the claim guard rejected the first words
    assert await asyncio.wait_for(client.complete(MSG), 2) == "a b c d e f"
    await client.aclose()


async def test_health(openai_server: FakeOpenAIServer, llm: LLMClient) -> None:
    assert await llm.health() is True
    dead = LLMClient(base_url="http://127.0.0.1:9/v1", timeout_s=1)
    assert await dead.health(timeout_s=1) is False
    await dead.aclose()
