"""The LLM path on the real local model: prompt size, first visible text vs the model's own
time to first token, and the claim guard's outcomes, cold and warm.

Needs the local model (scripts/setup_local_llm.sh). Run from the repo root:

    python bench/bench_llm.py [--runs 2]

For a fixed list of real questions over the evaluation store (`bench/answers/store.py`, built
from `../shared/data`), each question's deterministic answer is computed by the bot, then:
- prompt tokens: counted by the model server's own tokenizer (`/tokenize`), for the claims
  prompt the model now gets, next to the context JSON alone that earlier prompts carried;
- model TTFT: a raw HTTP streaming request with the same messages (no client, no rendering) to
  the first content delta;
- ours, first text: `answer_with_llm` with a responder, from the call to the first checked text
  handed to the platform (rendering, claims, client, guard and the held-back words included);
- guard outcomes: accepted / fresh attempt / fallback / skipped, and the rejected claim kinds.
Cold: a server without prompt caching (every prompt read in full). Warm: prompt caching on,
each question asked once before it is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.answers.runner import EVAL_NOW  # noqa: E402
from bot.model import PlatformLimits, Reply  # noqa: E402
from tests.llm.real_server import MODEL_ALIAS, model_available, running_server  # noqa: E402

MAX_TOKENS = 80
QUESTIONS = [
    "who won monza 2023", "who was on pole at monza 2023", "where did hamilton finish at monza 2023",
    "who set the fastest lap at monza 2023", "gap between verstappen and perez at monza 2023",
    "who was on the podium at monza 2023", "what place did leclerc finish in monza 2023",
    "how many points did sainz score at monza 2023", "did alonso finish monza 2023",
    "where did norris start at monza 2023",
]
SHARED_QUESTIONS = [
    "who won the 1976 british gp", "where did alonso finish in bahrain 2023", "who won silverstone 2022",
    "how many wins does hamilton have", "who was on pole at monaco 2024", "who won the 2021 drivers title",
    "fastest lap silverstone 2022", "how many poles does senna have", "who won spa 2021",
    "who finished second at imola 2022",
]


class TimingResponder:
    """Records when the first real text (not the placeholder) reached the 'platform'."""

    limits = PlatformLimits(max_text=2000, edit_interval_s=1.0)

    def __init__(self) -> None:
        self.first_text_at: float | None = None
        self._n = 0

    async def defer(self) -> None:
        return None

    async def send(self, reply: Reply) -> str | None:
        self._n += 1
        if self._n > 1 and self.first_text_at is None:
            self.first_text_at = time.perf_counter()
        return f"m{self._n}"

    async def edit(self, message_id: str, reply: Reply) -> None:
        if self.first_text_at is None and reply.text.strip("… ▌"):
            self.first_text_at = time.perf_counter()


async def raw_ttft(http: httpx.AsyncClient, url: str, messages: list[dict[str, str]]) -> float:
    """Seconds to the first content delta of a raw streaming request (the whole answer is read)."""
    try:
        return await _raw_ttft(http, url, messages)
    except httpx.RemoteProtocolError:  # a kept-alive connection the server closed: once more
        return await _raw_ttft(http, url, messages)


async def _raw_ttft(http: httpx.AsyncClient, url: str, messages: list[dict[str, str]]) -> float:
    body = {"model": MODEL_ALIAS, "messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0.0,
            "stream": True}
    first = None
    t0 = time.perf_counter()
    async with http.stream("POST", f"{url}/chat/completions", json=body) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or []
            if first is None and choices and (choices[0].get("delta") or {}).get("content"):
                first = time.perf_counter() - t0
    if first is None:
        raise RuntimeError("model sent no content")
    return first


async def tokens(http: httpx.AsyncClient, url: str, text: str) -> int:
    r = await http.post(url.removesuffix("/v1") + "/tokenize", json={"content": text})
    r.raise_for_status()
    return len(r.json()["tokens"])


async def prepare(database_url: str) -> list[dict[str, Any]]:
    """Each question's deterministic answer and context, computed by the bot (no model)."""
    from bot.answer import answer
    from bot.context import build_context
    from bot.question import resolve_question
    from bot.settings import Settings
    from slipstream.wiring import build_app

    app = build_app(Settings(database_url=database_url), create_store=False, clock=lambda: EVAL_NOW)
    out = []
    try:
        for q in QUESTIONS + SHARED_QUESTIONS:
            res = await resolve_question(app.deps.store, q, now=EVAL_NOW)
            ctx = await build_context(app.deps.store, res, now=EVAL_NOW)
            out.append({"question": q, "context": ctx, "answer": answer(ctx),
                        "read": [s.text for s in res.spans]})
        from bot.vocab import vocabulary

        vocab = await vocabulary(app.deps.store)
    finally:
        await app.aclose()
    for item in out:
        item["vocab"] = vocab
    return out


async def run_pass(url: str, items: list[dict[str, Any]], runs: int, warm: bool) -> dict[str, Any]:
    from bot.claimguard import unread_words
    from bot.claims import claims_from_answer
    from bot.grounded import MAX_CLAIMS, _must, answer_with_llm
    from bot.lexicon import FILLER
    from bot.llm import LLMClient
    from bot.prompting import PromptRenderer, Style, compact_json

    renderer, style = PromptRenderer(), Style(length="short")
    client = LLMClient(base_url=url, timeout_s=120, max_concurrency=1, max_tokens=MAX_TOKENS, temperature=0.0)
    model_ttft, ours, prompt_tok, json_tok, ratios, one_fact = [], [], [], [], [], []
    kinds: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=300) as http:
        for item in items:
            claims = claims_from_answer(item["answer"], item["vocab"])
            lines = claims.lines()
            phrased = bool(lines) and len(lines) <= MAX_CLAIMS and bool(claims.must_entities)
            msgs = renderer.phrase_messages(claims=lines, must=_must(claims), question=item["question"], style=style)
            if phrased:
                prompt_tok.append(await tokens(http, url, msgs[0]["content"] + msgs[1]["content"]))
                json_tok.append(await tokens(http, url, compact_json(item["context"])))
                if len(lines) <= 2:  # a one-fact answer: who, and the fact
                    one_fact.append(prompt_tok[-1])
            for _ in range(runs):
                if warm:  # the same prompt once before, so the server's prompt cache holds it
                    await raw_ttft(http, url, msgs)
                own = await raw_ttft(http, url, msgs) if phrased else None
                if own is not None:
                    model_ttft.append(own)
                resp = TimingResponder()
                t0 = time.perf_counter()
                ans = await answer_with_llm(
                    llm=client, renderer=renderer, vocab=item["vocab"], question=item["question"], style=style,
                    responder=resp, fallback_text=item["answer"],
                    watch=unread_words(item["question"], item["read"], FILLER),
                )  # fmt: skip
                if ans.outcome != "skipped" and resp.first_text_at is not None and ans.used_llm:
                    ours.append(resp.first_text_at - t0)
                    if own:
                        ratios.append(ours[-1] / own)
                kinds.update(k for k, _ in ans.problems)
                item.setdefault("shown", []).append((ans.outcome, ans.text))
    stats = client.stats.snapshot()
    await client.aclose()
    return {"model_ttft": model_ttft, "ours": ours, "prompt_tok": prompt_tok, "json_tok": json_tok,
            "ratios": ratios, "one_fact": one_fact,
            "guard": stats["guard"], "rejected": dict(kinds)}


def _med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def report(label: str, r: dict[str, Any]) -> None:
    total = sum(r["guard"].values()) or 1
    m, o = _med(r["model_ttft"]), _med(r["ours"])
    print(f"\n== {label}")
    print(f"prompt tokens (claims prompt, system + user): median {_med(r['prompt_tok']):.0f}, "
          f"max {max(r['prompt_tok'], default=0)}  |  context JSON alone (earlier prompts' facts): "
          f"median {_med(r['json_tok']):.0f}, max {max(r['json_tok'], default=0)}")
    print(f"prompt tokens of one-fact answers (<= 2 claims): median {_med(r['one_fact']):.0f}, "
          f"max {max(r['one_fact'], default=0)} (n={len(r['one_fact'])}; target <= 250)")
    print(f"first text: model TTFT median {m:.3f} s  |  ours, first checked text shown median {o:.3f} s "
          f"(n={len(r['ours'])}, where the model's text was shown)")
    rs = sorted(r["ratios"])
    print(f"ours / the model's own TTFT, same prompt, paired: median {_med(rs):.2f}, max {max(rs, default=0):.2f} "
          f"(n={len(rs)}; target <= 1.25)")
    print("guard outcomes: " + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in sorted(r["guard"].items())))
    print("rejected claim kinds (attempts): " + (", ".join(f"{k} {v}" for k, v in sorted(r["rejected"].items()))
                                                or "none"))


async def amain(runs: int, show: bool) -> None:
    from bench.answers import store as eval_store

    if (why := eval_store.available()) is not None:
        sys.exit(f"bench_llm needs the evaluation store: {why}")
    database_url = eval_store.ensure(verbose=False)
    items = await prepare(database_url)
    print(f"{len(items)} questions; store {database_url}; max_tokens {MAX_TOKENS}, temperature 0, "
          f"channel length short; {runs} run(s) each")
    with running_server(cache_prompt=False) as url:
        cold = await run_pass(url, items, runs, warm=False)
    report("cold (no prompt cache)", cold)
    with running_server() as url:
        warm = await run_pass(url, items, runs, warm=True)
    report("warm (prompt cached)", warm)
    if show:
        for item in items:
            print(f"\nQ: {item['question']}")
            for outcome, text in item["shown"][-runs:]:
                print(f"  [{outcome}] {text.splitlines()[0][:160]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="measured runs per question and pass")
    ap.add_argument("--show", action="store_true", help="print what the user was shown for each question")
    args = ap.parse_args()
    if not model_available():
        sys.exit("local model missing: run scripts/setup_local_llm.sh")
    asyncio.run(amain(args.runs, args.show))


if __name__ == "__main__":
    main()
