"""Integration tier on a real local model (xllamacpp + Qwen2.5-0.5B, see docs/llm.md).

Opt-in: runs only with SLIPSTREAM_LLM_TESTS=1 and the model fetched by
scripts/setup_local_llm.sh (.ci/run does both). Small models wander, so the checks
are on substrings of what the USER gets: either a guarded model answer or the
deterministic fallback, never an invented number.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.claimguard import ClaimGuard
from bot.claims import claims_from_answer
from bot.grounded import answer_with_llm
from bot.llm import LLMClient
from bot.model import PlatformLimits
from bot.prompting import PromptRenderer, Style
from bot.streaming import CURSOR
from bot.vocab import basic_vocabulary
from tests.llm.conftest import RecordingResponder
from tests.llm.real_server import model_available, running_server

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        os.environ.get("SLIPSTREAM_LLM_TESTS") != "1",
        reason="real-model tier is opt-in: SLIPSTREAM_LLM_TESTS=1",
    ),
    pytest.mark.skipif(
        not model_available(), reason="model or xllamacpp missing: run scripts/setup_local_llm.sh"
    ),
]

MAX_TOKENS = 48  # keeps each answer to a few seconds on 2 shared cores


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with running_server() as url:
        yield url


@pytest.fixture
async def real_llm(server_url: str) -> AsyncIterator[LLMClient]:
    client = LLMClient(
        base_url=server_url, timeout_s=90, max_concurrency=1, max_tokens=MAX_TOKENS, temperature=0.0
    )
    try:
        yield client
    finally:
        await client.aclose()


async def test_health_and_plain_completion(real_llm: LLMClient) -> None:
    assert await real_llm.health()
    text = await real_llm.complete(
        [{"role": "user", "content": "Reply with the single word: ready"}], max_tokens=5
    )
    assert "ready" in text.lower()


@pytest.mark.parametrize(
    ("question", "fallback", "must_contain"),
    [
        (
            "Who won the 2023 Italian Grand Prix?",
            "**Max Verstappen (VER)** won the 2023 Italian Grand Prix for Red Bull Racing from P2 on the grid, "
            "in 1:13:41.143.",
            "Verstappen",
        ),
        (
            "What was the fastest lap time and who set it?",
            "**Oscar Piastri (PIA)** set the fastest lap of the 2023 Italian Grand Prix: 1:25.072 on lap 43.",
            "1:25.072",
        ),
    ],
)
async def test_grounded_answers_are_correct(
    real_llm: LLMClient, question: str, fallback: str, must_contain: str
) -> None:
    resp = RecordingResponder(limits=PlatformLimits(max_text=2000, edit_interval_s=0.5))
    vocab = basic_vocabulary()
    ans = await answer_with_llm(
        llm=real_llm, renderer=PromptRenderer(), vocab=vocab, question=question,
        style=Style(length="short"), responder=resp, fallback_text=fallback,
    )  # fmt: skip
    assert real_llm.stats.calls >= 1
    assert real_llm.stats.failures == 0, ans.reason  # the real model answered, in time
    # Whatever the model did, the user sees a correct answer and nothing unguarded.
    assert must_contain in ans.text, ans
    guard = ClaimGuard(claims_from_answer(fallback, vocab), vocab, question=question)
    for shown in resp.shown_texts():
        visible = shown.removesuffix(CURSOR)
        assert visible in ("…", fallback) or guard.check(visible, final=False).ok, shown
    assert resp.final_texts() == [ans.text]


async def test_a_note_is_never_sent_to_the_model(real_llm: LLMClient) -> None:
    """A reply that states nothing about anyone (a refusal) is shown as it is: no model call."""
    fallback = "I don't have car specifications; I can tell you Monza 2023 results and laps."
    before = real_llm.stats.calls
    ans = await answer_with_llm(
        llm=real_llm, renderer=PromptRenderer(), vocab=basic_vocabulary(),
        question="What engine horsepower and top speed did Verstappen's car have?",
        style=Style(length="short"), responder=None, fallback_text=fallback,
    )  # fmt: skip
    assert ans.text == fallback and real_llm.stats.calls == before
