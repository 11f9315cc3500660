"""Race Lab through the bot's service: does the event loop stay free while it simulates?

    python bench/bench_lab_loop.py [--runs 10000] [--questions 6] [--store URL]

On the bundled demo store (Monza 2023; a fresh copy unless --store), through the real app
(`build_app`: `RaceLab` with its worker process): a ticker wakes every 5 ms and records how late
it wakes (the loop's longest block) while what-ifs of `--runs` simulated races each run end to
end through the dispatcher (placeholder, then edit). Prints the longest block (target: never
> 50 ms), the what-if end-to-end median cold (new strategy: a simulation) and cached (the same
question again), the cold first question (worker start + fit) and the worker's pid against ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Ticker:
    """Wakes every `period` s and keeps the worst lateness: how long the loop was blocked."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.late: list[float] = []
        self.phase = ""
        self.worst: tuple[float, str] = (0.0, "")
        self._stop = False

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop:
            t = loop.time()
            await asyncio.sleep(self.period)
            late = loop.time() - t - self.period
            self.late.append(late)
            if late > self.worst[0]:
                self.worst = (late, self.phase)

    def stop(self) -> None:
        self._stop = True


async def bench(url: str, runs: int, questions: int) -> None:
    from bot.model import PlatformLimits, Reply
    from slipstream.wiring import build_app
    from tests.core.conftest import NOW, incoming, make_settings

    class Quiet:
        limits = PlatformLimits(max_text=2000, edit_interval_s=0.0)

        def __init__(self) -> None:
            self.last = ""

        async def defer(self) -> None:
            return None

        async def send(self, reply: Reply) -> str:
            self.last = reply.text
            return "1"

        async def edit(self, message_id: str, reply: Reply) -> None:
            self.last = reply.text

    app = build_app(make_settings(url, lab_runs=runs, lab_timeout_s=300), clock=lambda: NOW)
    lab = app.deps.lab
    # As `slipstream run` starts: the resolver's indexes built and the heap frozen (`warm_up`),
    # so a full garbage collection does not walk the long-lived objects. The worker is NOT
    # warmed: the first question pays for starting it (what `ask` and tests see).
    from bot.resolve import warm_up

    await warm_up(app.store, now=NOW)
    idle = Ticker()
    tick = asyncio.create_task(idle.run())
    await asyncio.sleep(2.0)  # the machine's own noise: the same ticker with nothing to do
    idle.stop()
    await tick
    ticker = Ticker()
    tick = asyncio.create_task(ticker.run())
    try:
        async def one(text: str, phase: str) -> float:
            ticker.phase = phase
            r = Quiet()
            t = time.perf_counter()
            await app.dispatcher.handle(incoming(text), r)  # type: ignore[arg-type]
            took = time.perf_counter() - t
            if "What if" not in r.last:
                raise SystemExit(f"unexpected reply to {text!r}: {r.last[:200]}")
            return took

        first = await one("/f1 whatif LEC pit 25 hard monza 2023", "the first question")  # worker start + fit + simulation
        cold, cached = [], []
        for k in range(questions):
            q = f"/f1 whatif {('VER', 'SAI', 'LEC', 'HAM', 'NOR', 'RUS')[k % 6]} pit {26 + k} hard monza 2023"
            cold.append(await one(q, "a cold what-if"))
            cached.append(await one(q, "a cached what-if"))
        await asyncio.sleep(0.05)
    finally:
        ticker.stop()
        await tick
        await app.aclose()
    late_ms = sorted(x * 1000 for x in ticker.late)
    print(f"what-ifs of {runs:,} simulated races through RaceLab (demo store, Monza 2023), "
          f"{questions} cold + {questions} cached + 1 first question")
    print(f"event loop: {len(late_ms)} ticks of 5 ms; longest block {late_ms[-1]:.1f} ms, "
          f"p99 {late_ms[int(0.99 * (len(late_ms) - 1))]:.1f} ms, median {statistics.median(late_ms):.2f} ms "
          f"(target: never > 50 ms); idle loop on this machine, same ticker: longest "
          f"{1000 * max(idle.late):.1f} ms; the longest block came during {ticker.worst[1]}")
    print(f"first question (worker start + model fit + simulation): {first:.2f} s")
    print(f"what-if end to end: cold median {statistics.median(cold):.2f} s (max {max(cold):.2f}), "
          f"cached median {1000 * statistics.median(cached):.1f} ms")
    print(f"worker pids {sorted(lab.worker_pids)} (this process {os.getpid()}); jobs {lab.jobs}, cache hits {lab.hits}")
    pulse_forecast(url)


def pulse_forecast(url: str) -> None:
    """The Track Pulse forecast step (after detection, once per new battle) on Monza 2023."""
    from bot.pulse.detectors import detect_all
    from bot.pulse.forecast import add_forecasts
    from bot.pulse.pipeline import circuit_params
    from storage import pulse_store
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        feed = pulse_store.load_feed(engine, pulse_store.find_session(engine, 2023, "Monza", "R"))
        t = time.perf_counter()
        circuit = circuit_params(engine, feed)
        fit_s = time.perf_counter() - t
    finally:
        engine.dispose()
    found = detect_all(feed)
    battles = sum(h.kind == "battle" for h in found)
    detect_ms, step_ms = [], []
    for _ in range(7):
        t = time.perf_counter()
        found = detect_all(feed)
        detect_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        add_forecasts(feed, found, circuit)
        step_ms.append(1000 * (time.perf_counter() - t))
    print(f"Track Pulse, Monza 2023: detection median {statistics.median(detect_ms):.1f} ms a race (unchanged: "
          f"no forecast inside); forecast step for its {battles} battles {statistics.median(step_ms):.1f} ms "
          f"({statistics.median(step_ms) / max(1, battles):.2f} ms a battle, once per battle); circuit fit {fit_s:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--questions", type=int, default=6)
    ap.add_argument("--store", help="database URL (default: a fresh copy of the demo store)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.store
        if url is None:
            from storage.db import init_db, make_engine
            from storage.demo import load_demo

            url = f"sqlite:///{Path(tmp) / 'demo.db'}"
            engine = make_engine(url)
            init_db(engine)
            load_demo(engine, work_dir=Path(tmp) / "work")
            engine.dispose()
        asyncio.run(bench(url, args.runs, args.questions))
    return 0


if __name__ == "__main__":  # the Race Lab worker is spawned: it re-imports this module
    raise SystemExit(main())
