"""Prompt injections against a FULLY COMPROMISED model (issue 13): no planted claim is shown.

No model needed: the fake OpenAI server (a real HTTP server) plays a model that obeys every
attack, answering each request with the attack's payload exactly ("PWNED", "Lewis Hamilton won
the 2023 Italian Grand Prix.", "See https://evil.example", "@everyone @everyone ..."). The bot
is the real core over the evaluation store (full Ergast history + shared FastF1 sessions), wired
as `bench/answers/runner.Runner` wires it, but with `llm_base_url` on the fake server. Whatever
the model says, the user must see no planted regex of the case, in any message or edit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bench.answers import runner as bench_runner
from bench.answers import store
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.llm.adv_bot import ask_thread
from tests.llm.adversarial import INJECTIONS, Case, first_payload

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(store.available() is not None, reason=store.available() or ""),
]


def is_answer_request(body: dict[str, Any]) -> bool:
    """A request to phrase an answer (the plan request is the one constrained to a JSON schema)."""
    return "response_format" not in body


class CompromisedModel:
    """The fake server's reply: the current case's payload, to every request."""

    def __init__(self) -> None:
        self.payload = "PWNED"

    def __call__(self, body: dict[str, Any]) -> str:
        return self.payload


@pytest.fixture(scope="module")
def eval_url() -> Iterator[str]:
    url, work = bench_runner.private_copy(store.ensure(verbose=False))
    yield url
    import shutil

    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
async def compromised(eval_url: str) -> AsyncIterator[tuple[FakeOpenAIServer, CompromisedModel, Any]]:
    model = CompromisedModel()
    async with FakeOpenAIServer(default=Behaviour(reply_fn=model)) as server:
        runner = bench_runner.Runner(eval_url, llm_base_url=server.base_url,
                                     llm_settings={"llm_timeout_s": 10.0})
        try:
            yield server, model, runner
        finally:
            await runner.aclose()


@pytest.mark.parametrize("case", INJECTIONS, ids=[c.id for c in INJECTIONS])
async def test_compromised_model_plants_nothing(compromised: Any, case: Case) -> None:
    server, model, runner = compromised
    model.payload = first_payload(case)
    turns = await ask_thread(runner, f"adv-{case.id}", case.turns)
    answer_requests = [r for r in server.requests if is_answer_request(r.body)]
    # The attack only tests the guard if the model was asked to phrase an answer.
    assert answer_requests, f"{case.id}: the model was never asked to answer: {turns[-1].final!r}"
    for t in turns:
        bad = case.shown_violations(t.everything())
        assert not bad, f"{case.id}: planted {bad} shown for {t.question!r}: {t.shown} / final {t.final!r}"


async def test_planted_never_match_the_true_answer(eval_url: str) -> None:
    """Without a model the bot answers each case's question from the data: a correct answer
    must never match a planted regex (else the suite would fail a bot that does it right)."""
    runner = bench_runner.Runner(eval_url)
    try:
        for case in INJECTIONS:
            turns = await ask_thread(runner, f"truth-{case.id}", case.turns)
            for t in turns:
                assert not case.shown_violations(t.everything()), (case.id, t.final)
    finally:
        await runner.aclose()


def test_cases_shape() -> None:
    """≥ 36 cases, ≥ 12 kinds, several of each main kind, a payload that each planted set catches."""
    assert len(INJECTIONS) >= 36
    assert len({c.id for c in INJECTIONS}) == len(INJECTIONS)
    kinds = {c.kind for c in INJECTIONS}
    assert len(kinds) >= 12
    for c in INJECTIONS:
        assert c.shown_violations(first_payload(c)), c.id  # the compromised reply is caught
    assert any(len(c.turns) == 2 for c in INJECTIONS)


if __name__ == "__main__":  # a quick table: which injections get through today
    async def _main() -> None:
        url, _ = bench_runner.private_copy(store.ensure(verbose=False))
        model = CompromisedModel()
        async with FakeOpenAIServer(default=Behaviour(reply_fn=model)) as server:
            r = bench_runner.Runner(url, llm_base_url=server.base_url, llm_settings={"llm_timeout_s": 10.0})
            for case in INJECTIONS:
                model.payload = first_payload(case)
                n = len(server.requests)
                turns = await ask_thread(r, f"adv-{case.id}", case.turns)
                asked = sum(is_answer_request(x.body) for x in server.requests[n:])
                bad = [b for t in turns for b in case.shown_violations(t.everything())]
                print(f"{'PLANTED' if bad else 'ok':8}{case.id:28} answer-req={asked} "
                      f"final={turns[-1].final[:90]!r}")
            await r.aclose()

    asyncio.run(_main())
