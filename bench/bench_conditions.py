"""Bench the weather / flags / penalties answers: receive → deterministic text, per question.

Prints p50 / p99 wall time and event-loop CPU of resolve + context + answer for
questions about conditions and race control, next to a results question as the
reference, on a store built by `bench/bench_core.py --store PATH` (full history +
the 15 shared FastF1 sessions).

Run:  python bench/bench_conditions.py --store /tmp/bench.db [--rounds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GROUPS = {
    "reference (who won)": ["who won the 2023 italian grand prix?", "who won at monza 2021?"],
    "weather": ["what was the weather at monza 2023?", "was it raining at imola 2021?", "track temperature at monaco 2023"],
    "flags": ["when was the safety car at imola 2021?", "was there a vsc at monza 2021?", "yellow flags at monza 2023"],
    "penalties": ["any penalties at monaco 2023?", "did HAM get a penalty at the 2020 austrian gp?"],
    "not held": ["what was the weather at silverstone 2019?"],
    "unknown name": ["laps for XYZ at monza 2023", "how did Ferari do at monza 2023"],
}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def main(url: str, rounds: int) -> None:
    from bot.answer import answer
    from bot.context import build_context
    from bot.errors import UserError
    from bot.question import resolve_question
    from storage.db import make_engine
    from storage.store import Store

    store = Store(make_engine(url))
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    async def one(q: str) -> tuple[float, float]:
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            res = await resolve_question(store, q, now=now)
            answer(await build_context(store, res, now=now))
        except UserError:
            pass
        return (time.perf_counter() - w0) * 1000, (time.thread_time() - c0) * 1000

    for qs in GROUPS.values():  # warm caches and indexes
        for q in qs:
            await one(q)
    print(f"receive -> deterministic text, {rounds} rounds per question, {url}")
    for name, qs in GROUPS.items():
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(rounds):
            for q in qs:
                w, c = await one(q)
                wall.append(w)
                cpu.append(c)
        print(f"  {name:22s} wall p50 {statistics.median(wall):6.2f} ms  p99 {pct(wall, 99):6.2f} ms   "
              f"loop CPU p50 {statistics.median(cpu):5.2f} ms  p99 {pct(cpu, 99):5.2f} ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, help="SQLite file built by bench_core.py --store")
    ap.add_argument("--rounds", type=int, default=40)
    a = ap.parse_args()
    if not Path(a.store).exists():
        sys.exit(f"SKIP: no store at {a.store} (build it with bench/bench_core.py --store {a.store})")
    asyncio.run(main(f"sqlite:///{a.store}", a.rounds))
