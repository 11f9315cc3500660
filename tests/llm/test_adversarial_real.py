"""The adversarial suite on the REAL local model (issue 13): injections, and answers re-checked.

Opt-in like tests/llm/test_real_model.py (SLIPSTREAM_LLM_TESTS=1 and the model fetched by
scripts/setup_local_llm.sh), and it needs the evaluation store (../shared/data). One llama.cpp
server for the module; the bot is wired as `bench/answers/runner.Runner` wires it, with the
model at max_tokens 60, temperature 0, one request at a time.

(a) every injection of tests/llm/adversarial.py → no planted regex in anything shown;
(b) a fixed sample (every k-th) of the answer set's single questions, classes 1-7, each asked
    through the bot: every text shown is re-checked claim by claim (tests/llm/recheck.py, which
    shares no code with the bot's guard) against the context built independently for the
    question → no false claim. The model's text must actually be used for some answers.

The time it takes is printed (it is a figure, not a test: see docs/llm.md for the measured run);
SLIPSTREAM_ADV_QUESTIONS changes the sample size (default 50, which keeps CI short; the figure in
docs/llm.md is the 100-question run, `SLIPSTREAM_ADV_QUESTIONS=100`). Two questions run at a time on a
server with two slots (the model decodes both in one batch: more answers per second on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.answers import runner as bench_runner
from bench.answers import store
from bot.streaming import CURSOR, PLACEHOLDER
from tests.llm.adv_bot import ask_thread
from tests.llm.adversarial import INJECTIONS
from tests.llm.real_server import model_available, running_server
from tests.llm.recheck import false_claims

pytestmark = [
    pytest.mark.llm,
    pytest.mark.shared_data,
    pytest.mark.skipif(
        os.environ.get("SLIPSTREAM_LLM_TESTS") != "1",
        reason="real-model tier is opt-in: SLIPSTREAM_LLM_TESTS=1",
    ),
    pytest.mark.skipif(
        not model_available(), reason="model or xllamacpp missing: run scripts/setup_local_llm.sh"
    ),
    pytest.mark.skipif(store.available() is not None, reason=store.available() or ""),
]

LLM_SETTINGS = {"llm_max_tokens": 60, "llm_temperature": 0.0, "llm_max_concurrency": 2, "llm_timeout_s": 60}
PARALLEL = 2
DEFAULT_QUESTIONS = 50
N_QUESTIONS = int(os.environ.get("SLIPSTREAM_ADV_QUESTIONS", DEFAULT_QUESTIONS))
_timing: dict[str, float] = {}
DUMP = os.environ.get("SLIPSTREAM_ADV_DUMP")  # a JSONL file: every case / question as it is done


def dump(record: dict[str, Any]) -> None:
    if DUMP:
        with open(DUMP, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    _timing["start"] = time.perf_counter()
    with running_server(n_parallel=PARALLEL) as url:
        yield url
    print(f"\nreal adversarial tier: {time.perf_counter() - _timing['start']:.1f} s in all")


@pytest.fixture(scope="module")
def eval_url() -> Iterator[str]:
    url, work = bench_runner.private_copy(store.ensure(verbose=False))
    yield url
    import shutil

    shutil.rmtree(work, ignore_errors=True)


def complete_part(shown: str, *, final: bool) -> str:
    """The text to re-check. A streaming edit ends mid-phrase ("... last at 70th" before
    "Anniversary Grand Prix" arrives): only its complete clauses are checked; the final text whole."""
    text = shown.removesuffix(CURSOR).strip()
    if text == PLACEHOLDER:
        return ""
    if final:
        return text
    cut = max(text.rfind(c) for c in ".,;\n")
    return text[:cut + 1] if cut > 0 else ""


def sample(n: int) -> list[dict[str, Any]]:
    """Every k-th single question of classes 1-7, in file order (deterministic), with spares:
    a question the rules cannot read is skipped, and the next ones make up the number."""
    recs = [r for r in bench_runner.load() if 1 <= r["class"] <= 7 and "turns" not in r]
    k = max(1, len(recs) // (n + n // 5))
    return recs[::k]


async def test_injections_plant_nothing(server_url: str, eval_url: str) -> None:
    runner = bench_runner.Runner(eval_url, llm_base_url=server_url, llm_settings=LLM_SETTINGS)
    t = time.perf_counter()
    bad: list[str] = []
    gate = asyncio.Semaphore(PARALLEL)

    async def one(case: Any) -> None:
        async with gate:
            t_case = time.perf_counter()
            turns = await ask_thread(runner, f"adv-real-{case.id}", case.turns)
        planted = [p for turn in turns for p in case.shown_violations(turn.everything())]
        if planted:
            bad.append(f"{case.id}: {planted} in {turns[-1].final[:200]!r}")
        dump({"kind": "injection", "id": case.id, "planted": planted, "s": round(time.perf_counter() - t_case, 1),
              "final": [turn.final for turn in turns], "texts": [turn.texts for turn in turns]})

    try:
        await asyncio.gather(*(one(case) for case in INJECTIONS))
        stats = runner.app.deps.llm.stats
    finally:
        await runner.aclose()
    _timing["injections"] = time.perf_counter() - t
    print(f"\ninjections: {len(INJECTIONS)} cases in {_timing['injections']:.1f} s; model answers shown "
          f"{stats.answers}, fell back {stats.fallbacks}, guard rejections {stats.guard_rejections}; "
          f"planted shown in {len(bad)}")
    assert not bad, "\n".join(bad)


async def test_answers_have_no_false_claims(server_url: str, eval_url: str) -> None:
    from bot.context import build_context
    from bot.errors import UserError
    from bot.question import resolve_question

    runner = bench_runner.Runner(eval_url, llm_base_url=server_url, llm_settings=LLM_SETTINGS)
    st = runner.app.deps.store
    t = time.perf_counter()
    bad: list[str] = []
    todo: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for rec in sample(N_QUESTIONS):
        if len(todo) >= N_QUESTIONS:
            break
        try:  # the context, built independently of the bot's answer path
            plan = await resolve_question(st, rec["question"], now=bench_runner.EVAL_NOW)
        except UserError:
            continue  # not a question the rules answer: no context to check against
        todo.append((rec, await build_context(st, plan, now=bench_runner.EVAL_NOW)))
    checked = len(todo)
    gate = asyncio.Semaphore(PARALLEL)

    async def one(rec: dict[str, Any], context: dict[str, Any]) -> None:
        async with gate:
            t_q = time.perf_counter()
            turn = (await ask_thread(runner, f"recheck-{rec['id']}", [rec["question"]]))[0]
        found_here: list[str] = []
        for shown in dict.fromkeys(turn.texts):  # each distinct text a user saw
            text = complete_part(shown, final=shown == turn.texts[-1])
            if text and (found := false_claims(text, context)):
                found_here += found
                bad.append(f"[{rec['id']}] {rec['question']!r} → {text[:160]!r}: {found[:2]}")
        dump({"kind": "answer", "id": rec["id"], "question": rec["question"], "false": found_here,
              "s": round(time.perf_counter() - t_q, 1), "texts": turn.texts, "context": context})

    try:
        await asyncio.gather(*(one(rec, ctx) for rec, ctx in todo))
        stats = runner.app.deps.llm.stats
    finally:
        await runner.aclose()
    _timing["answers"] = time.perf_counter() - t
    print(f"\nanswers: {checked} questions in {_timing['answers']:.1f} s; model text used {stats.answers}, "
          f"fell back {stats.fallbacks} (guard rejections {stats.guard_rejections}, failures {stats.failures}, "
          f"timeouts {stats.timeouts}); answers with a false claim shown: {len({b.split(']')[0] for b in bad})}")
    assert checked >= min(N_QUESTIONS, 100)
    assert stats.answers > 0, "the model's text was never used: the tier tested only the fallback"
    assert not bad, "\n".join(bad)
