"""How fast things give up, stop or go on: figures the tests no longer time.

    python bench/bench_give_up.py [--runs 10]

The tests check these behaviours with bounds far from the real figures, so a
loaded machine cannot fail them; the figures themselves are printed here
(median and max over `--runs`), all against local fakes, no network:

- LLM call to a model that never answers, `timeout_s=0.5`: time until
  `LLMError("timeout")`, for `complete()` and `stream()` (target: within
  0.2 s of the timeout);
- the console adapter asked to stop while its stdin reader blocks (nothing is
  ever typed): `stop.set()` -> `run_console` returned (target ≤ 1 s);
- Slack pacing (`SlackPoster`, 1 s per channel): a post to another channel
  right after one here (target: not held back, ≤ 0.5 s) and the next post to
  the same channel (target: the interval, 1.0 s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.console import run_console  # noqa: E402
from adapters.slack import SlackPoster, make_web_client  # noqa: E402
from bot.app import BotDeps  # noqa: E402
from bot.dispatch import Dispatcher  # noqa: E402
from bot.llm import LLMClient, LLMError  # noqa: E402
from bot.model import Reply  # noqa: E402
from bot.registry import Registry  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

MSG = [{"role": "user", "content": "who won?"}]


def line(name: str, values_s: list[float], unit: str = "ms") -> str:
    scale = 1000.0 if unit == "ms" else 1.0
    med, worst = statistics.median(values_s) * scale, max(values_s) * scale
    return f"{name:<58} n={len(values_s):<3} median {med:8.2f} {unit}   max {worst:8.2f} {unit}"


async def llm_timeouts(runs: int) -> None:
    async with FakeOpenAIServer(default=Behaviour(hang=True)) as srv:
        client = LLMClient(base_url=srv.base_url, timeout_s=0.5, max_concurrency=2)
        for mode in ("complete", "stream"):
            took: list[float] = []
            for _ in range(runs):
                t0 = time.perf_counter()
                try:
                    if mode == "complete":
                        await client.complete(MSG)
                    else:
                        async for _ in client.stream(MSG):
                            pass
                except LLMError as exc:
                    assert exc.reason == "timeout", exc
                took.append(time.perf_counter() - t0)
            print(line(f"LLM {mode}() on a hung model, timeout_s=0.5 -> LLMError", took, "s"))
        await client.aclose()


async def console_stops(runs: int, work: Path) -> None:
    engine = make_engine(f"sqlite:///{work / 'console.db'}")
    init_db(engine)
    settings = Settings()
    dispatcher = Dispatcher(BotDeps(settings=settings, store=Store(engine), registry=Registry()))
    took: list[float] = []
    for _ in range(runs):
        r_fd, w_fd = os.pipe()  # nothing is ever written: readline() blocks in the reader thread
        stdin = os.fdopen(r_fd, "r")
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_console(settings, dispatcher, stop=stop, stdin=stdin, write=lambda _s: None)
        )
        await asyncio.sleep(0.1)
        t0 = time.perf_counter()
        stop.set()
        await task
        took.append(time.perf_counter() - t0)
        os.close(w_fd)
        stdin.close()
    engine.dispose()
    print(line("console: stop.set() -> run_console returned (stdin blocked)", took))


async def slack_pacing(runs: int) -> None:
    other: list[float] = []
    same: list[float] = []
    async with FakeSlack() as fake:
        client = make_web_client("xoxb-bench", base_url=fake.api_url, rate_limit_retries=0)
        poster = SlackPoster(client, min_interval_s=1.0)
        for i in range(runs):
            await poster.post("slack:T0:C0PACED", Reply(text=f"a{i}"), idempotency_key=f"a{i}")
            t0 = time.perf_counter()
            await poster.post(f"slack:T0:C0OTHER{i}", Reply(text=f"o{i}"), idempotency_key=f"o{i}")
            other.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await poster.post("slack:T0:C0PACED", Reply(text=f"b{i}"), idempotency_key=f"b{i}")
            same.append(time.perf_counter() - t0)
            await asyncio.sleep(1.0)  # let the paced channel's interval pass before the next round
    print(line("Slack: post to another channel right after one here", other))
    print(line("Slack: next post to the same channel (interval 1.0 s)", same, "s"))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # every timed-out call logs one line: expected here
    await llm_timeouts(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        await console_stops(args.runs, Path(tmp))
    await slack_pacing(max(3, args.runs // 2))


if __name__ == "__main__":
    asyncio.run(main())
