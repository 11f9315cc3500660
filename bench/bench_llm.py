"""LLM path overhead: our time to first token vs the model's own, cold and warm; output speed.

Needs the local model (scripts/setup_local_llm.sh). Run from the repo root:

    python bench/bench_llm.py [--cold 3] [--warm 5]

Figures printed:
- model TTFT: a raw HTTP streaming request (httpx, no openai client, no prompts
  rendered in the timed span) to the first content delta.
- ours, first token: render the prompts + LLMClient.stream (openai client,
  semaphore, deadline) to the first content delta, same messages.
- ours, first text shown: answer_with_llm with a responder, to the first guarded
  text handed to the platform (includes waiting for the first whole word).
- overhead ratios (median ours / median model - 1), target <= 5 %.
- output speed (tokens/s after the first token), and pure CPU costs of rendering,
  building the fact index and guarding a full answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.factguard import FactIndex  # noqa: E402
from bot.grounded import answer_with_llm  # noqa: E402
from bot.llm import LLMClient  # noqa: E402
from bot.model import PlatformLimits, Reply  # noqa: E402
from bot.prompting import PromptRenderer, Style  # noqa: E402
from tests.llm.conftest import MONZA_CONTEXT  # noqa: E402
from tests.llm.real_server import MODEL_ALIAS, model_available, running_server  # noqa: E402

QUESTION = "Who won the 2023 Italian Grand Prix, and who set the fastest lap?"
FALLBACK = "Max Verstappen (VER) won; Oscar Piastri (PIA) set the fastest lap, 1:25.072."
MAX_TOKENS = 60


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
        if self.first_text_at is None:
            self.first_text_at = time.perf_counter()


async def raw_ttft(
    url: str, messages: list[dict[str, str]], http: httpx.AsyncClient | None = None
) -> tuple[float, float, int]:
    """(ttft, total, content chunks) for a raw streaming request."""
    body = {
        "model": MODEL_ALIAS,
        "messages": messages,
        "max_tokens": MAX_TOKENS,
        "temperature": 0.0,
        "stream": True,
    }
    first = None
    chunks = 0
    async with contextlib.AsyncExitStack() as stack:
        client = http or await stack.enter_async_context(httpx.AsyncClient(timeout=300))
        t0 = time.perf_counter()
        async with client.stream("POST", f"{url}/chat/completions", json=body) as r:
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                obj = json.loads(line[6:])
                choices = obj.get("choices") or []
                if choices and (choices[0].get("delta") or {}).get("content"):
                    chunks += 1
                    if first is None:
                        first = time.perf_counter() - t0
        total = time.perf_counter() - t0
    assert first is not None, "model sent no content"
    return first, total, chunks


async def ours_first_token(client: LLMClient, renderer: PromptRenderer, style: Style) -> float:
    t0 = time.perf_counter()
    messages = renderer.messages(
        template="answer.md.j2", facts=MONZA_CONTEXT, question=QUESTION, history=[], style=style
    )
    first = None
    # Consume the whole answer, as the raw request does: an abandoned stream keeps the
    # server's only slot busy for a while and would slow down the next measurement.
    async for _ in client.stream(messages, max_tokens=MAX_TOKENS, temperature=0.0):
        if first is None:
            first = time.perf_counter() - t0
    if first is None:
        raise RuntimeError("no token")
    return first


async def ours_first_text(
    client: LLMClient, renderer: PromptRenderer, style: Style
) -> tuple[float, str]:
    resp = TimingResponder()
    t0 = time.perf_counter()
    ans = await answer_with_llm(
        llm=client,
        renderer=renderer,
        context=MONZA_CONTEXT,
        question=QUESTION,
        history=[],
        style=style,
        responder=resp,
        fallback_text=FALLBACK,
    )
    shown = (resp.first_text_at or time.perf_counter()) - t0
    return shown, ans.reason


def med(xs: list[float]) -> float:
    return statistics.median(xs)


async def measure(url: str, runs: int, label: str) -> None:
    renderer = PromptRenderer()
    style = Style(length="short")
    messages = renderer.messages(
        template="answer.md.j2", facts=MONZA_CONTEXT, question=QUESTION, history=[], style=style
    )
    raw, ours, shown, speeds, reasons = [], [], [], [], []
    # One long-lived client on each side, as in production (the bot builds its LLMClient once).
    http = httpx.AsyncClient(timeout=300)
    client = LLMClient(base_url=url, timeout_s=300, max_tokens=MAX_TOKENS, temperature=0.0)
    for _ in range(runs):  # interleave so load changes hit both sides alike
        ttft, total, chunks = await raw_ttft(url, messages, http)
        raw.append(ttft)
        if chunks > 1:
            speeds.append((chunks - 1) / (total - ttft))
        ours.append(await ours_first_token(client, renderer, style))
        s, reason = await ours_first_text(client, renderer, style)
        shown.append(s)
        reasons.append(reason)
    await http.aclose()
    await client.aclose()
    m_raw, m_ours, m_shown = med(raw), med(ours), med(shown)
    paired = med([o - r for o, r in zip(ours, raw, strict=True)])
    print(f"[{label}] runs={runs}")
    print(
        f"  model TTFT (raw HTTP)        median {m_raw * 1000:8.1f} ms  all {[round(x * 1000) for x in raw]}"
    )
    print(
        f"  ours, first token            median {m_ours * 1000:8.1f} ms  all {[round(x * 1000) for x in ours]}"
    )
    print(
        f"  ours, first text shown       median {m_shown * 1000:8.1f} ms  all {[round(x * 1000) for x in shown]}"
    )
    print(f"  overhead first token         {100 * (m_ours / m_raw - 1):+6.1f} %  (target <= 5 %)")
    print(f"  paired difference, median    {paired * 1000:+8.1f} ms  (ours - model, same run)")
    print(
        f"  overhead first text shown    {100 * (m_shown / m_raw - 1):+6.1f} %  (waits for a whole word)"
    )
    if speeds:
        print(f"  output speed                 median {med(speeds):6.1f} tok/s")
    print(f"  answer outcomes              {reasons}")


async def fake_overhead(runs: int = 200) -> None:
    """Our own overhead, free of model noise: a local fake server answers instantly.

    before request: answer_with_llm called -> request received by the server
    (prompt rendering, fact index, openai client, HTTP). after first token: the
    server wrote the first chunk -> first guarded text handed to the platform
    (SSE parsing, guard, streaming reply). The fake streams word-sized chunks.
    """
    from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

    answer = "Max Verstappen won the 2023 Italian Grand Prix; Oscar Piastri set 1:25.072."
    async with FakeOpenAIServer(default=Behaviour(reply=answer)) as srv:
        client = LLMClient(base_url=srv.base_url, timeout_s=10, max_tokens=MAX_TOKENS)
        renderer = PromptRenderer()
        before, after = [], []
        for _ in range(runs):
            resp = TimingResponder()
            t0 = time.perf_counter()
            ans = await answer_with_llm(
                llm=client, renderer=renderer, context=MONZA_CONTEXT, question=QUESTION,
                history=[], style=Style(length="short"), responder=resp, fallback_text=FALLBACK,
            )  # fmt: skip
            assert ans.used_llm, ans
            req = srv.requests[-1]
            assert req.first_chunk_at is not None and resp.first_text_at is not None
            before.append(req.received_at - t0)
            after.append(resp.first_text_at - req.first_chunk_at)
        await client.aclose()
    for name, xs in (("before request", before), ("after first token", after)):
        xs = sorted(xs)
        p50, p99 = xs[len(xs) // 2] * 1e3, xs[int(len(xs) * 0.99)] * 1e3
        print(f"  {name:<28} p50 {p50:.2f} ms  p99 {p99:.2f} ms")


def cpu_costs() -> None:
    renderer = PromptRenderer()
    style = Style(length="short")
    answer = (
        "Max Verstappen won the 2023 Italian Grand Prix from P2, ahead of Sergio Pérez and "
        "Carlos Sainz. Oscar Piastri set the fastest lap, 1:25.072 on lap 43, on MEDIUM tyres."
    )

    def timeit(fn, n: int = 300) -> tuple[float, float]:
        xs = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            xs.append(time.perf_counter() - t0)
        xs.sort()
        return xs[len(xs) // 2] * 1e3, xs[int(len(xs) * 0.99)] * 1e3

    r = timeit(
        lambda: renderer.messages(
            template="answer.md.j2", facts=MONZA_CONTEXT, question=QUESTION, history=[], style=style
        )
    )
    i = timeit(lambda: FactIndex(MONZA_CONTEXT))
    idx = FactIndex(MONZA_CONTEXT)
    c = timeit(lambda: idx.check(answer))
    # Streaming checks the growing prefix at each word: total guard cost for one answer.
    words = answer.split(" ")
    s = timeit(lambda: [idx.check(" ".join(words[:k]) + " ") for k in range(1, len(words) + 1)], 50)
    print("[cpu] p50 / p99 ms")
    print(f"  render prompts               {r[0]:.3f} / {r[1]:.3f}")
    print(f"  build fact index             {i[0]:.3f} / {i[1]:.3f}")
    print(f"  guard one answer ({len(answer)} ch)  {c[0]:.3f} / {c[1]:.3f}")
    print(f"  guard while streaming, all words  {s[0]:.3f} / {s[1]:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", type=int, default=3)
    ap.add_argument("--warm", type=int, default=7)
    a = ap.parse_args()
    cpu_costs()
    print("[our overhead against an instant local fake server, 200 answers]")
    asyncio.run(fake_overhead())
    if not model_available():
        print("local model missing: run scripts/setup_local_llm.sh")
        return
    # Cold: prompt cache off, so every request processes the whole prompt (as a first question does).
    t0 = time.perf_counter()
    with running_server(cache_prompt=False) as url:
        print(f"[server] ready in {time.perf_counter() - t0:.1f} s (cache_prompt off)")
        asyncio.run(measure(url, a.cold, "cold: prompt not cached"))
    with running_server(cache_prompt=True) as url:
        asyncio.run(_prime(url))
        asyncio.run(measure(url, a.warm, "warm: prompt cached"))


async def _prime(url: str) -> None:
    renderer = PromptRenderer()
    messages = renderer.messages(
        template="answer.md.j2",
        facts=MONZA_CONTEXT,
        question=QUESTION,
        history=[],
        style=Style(length="short"),
    )
    await raw_ttft(url, messages)


if __name__ == "__main__":
    main()
