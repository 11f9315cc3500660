"""Answer accuracy on the fan-question set (issue 12): per class, with answer times.

    python bench/bench_answers.py [--set main|holdout|holdout2|holdout3|holdout4|forecast] [--store URL] [--ids ID ...] [--class N] [--show-misses]
    python bench/bench_answers.py --llm [--sample N] [--set ...]   # the same questions without and with the local model

Runs every question of bench/answers/questions.jsonl through the real bot core in process
(as `slipstream ask`: `build_app` + a console session per question or follow-up group;
no LLM, rate limits off) and grades each reply by the record's regexes. Without --store it
builds (or reuses) the evaluation store from the shared raw data (bench/answers/store.py).
The bot's clock is fixed at the day after the data's latest race (see runner.EVAL_NOW).

--llm (needs scripts/setup_local_llm.sh): every k-th record (--sample N of them) is asked twice in
one run, once without a model and once with the local model phrasing the answers (max_tokens 80,
temperature 0, two requests at a time on a two-slot server); both accuracies are printed side by
side with the claim guard's outcomes, and every question right without the model but wrong with it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.answers import runner, store  # noqa: E402

SETS = {"main": runner.QUESTIONS, "holdout": runner.QUESTIONS.with_name("holdout.jsonl"),
        "holdout2": runner.QUESTIONS.with_name("holdout2.jsonl"),
        "holdout3": runner.QUESTIONS.with_name("holdout3.jsonl"),
        "holdout4": runner.QUESTIONS.with_name("holdout4.jsonl"),
        "forecast": runner.QUESTIONS.with_name("forecast.jsonl")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", dest="qset", choices=sorted(SETS), default="main",
                    help="main = questions.jsonl (the parser was tuned on it); holdout / holdout2 / holdout3 / holdout4 = holdout*.jsonl (written blind); forecast = forecast.jsonl (questions about what is to come)")
    ap.add_argument("--store", help="database URL of a store to evaluate (default: the evaluation store)")
    ap.add_argument("--ids", nargs="*", help="only these question ids")
    ap.add_argument("--class", dest="cls", type=int, action="append", help="only this class (repeatable)")
    ap.add_argument("--show-misses", action="store_true", help="print each miss: question, reply, failed regex")
    ap.add_argument("--llm", action="store_true", help="also answer with the local model and compare")
    ap.add_argument("--sample", type=int, default=0, help="with --llm: every k-th record, about N of them")
    args = ap.parse_args()
    records = runner.load(SETS[args.qset])
    if args.ids:
        records = [r for r in records if r["id"] in set(args.ids)]
    if args.cls:
        records = [r for r in records if r["class"] in args.cls]
    if args.sample and len(records) > args.sample:
        records = records[:: max(1, len(records) // args.sample)][: args.sample]
    if not records:
        print("no questions selected")
        return 1
    url, work = args.store, None
    if url is None:
        t = time.perf_counter()
        url, work = runner.private_copy(store.ensure())
        print(f"evaluation store ready in {time.perf_counter() - t:.1f} s")
    try:
        outcomes = asyncio.run(runner.run_all(url, records))
        if args.llm:
            with_llm, stats, secs = _with_llm(url, records)
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)
    if args.llm:
        _compare(outcomes, with_llm, stats, secs)
        return 0
    if args.show_misses:
        print(runner.misses(outcomes))
        print()
    print(runner.summary(outcomes))
    return 0


def _with_llm(url: str, records: list[dict]) -> tuple[list[runner.Outcome], dict, float]:
    from tests.llm.real_server import model_available, running_server

    if not model_available():
        sys.exit("--llm needs the local model: bash scripts/setup_local_llm.sh")

    async def go(base_url: str) -> tuple[list[runner.Outcome], dict]:
        r = runner.Runner(url, llm_base_url=base_url, llm_settings={
            "llm_max_tokens": 80, "llm_temperature": 0.0, "llm_max_concurrency": 2, "llm_timeout_s": 120})
        gate = asyncio.Semaphore(2)

        async def one(rec: dict) -> runner.Outcome:
            async with gate:
                return await r.ask(rec)

        try:
            outs = list(await asyncio.gather(*(one(rec) for rec in records)))
            return outs, r.app.deps.llm.stats.snapshot()
        finally:
            await r.aclose()

    t = time.perf_counter()
    with running_server(n_parallel=2) as base_url:
        outs, stats = asyncio.run(go(base_url))
    return outs, stats, time.perf_counter() - t


def _compare(without: list[runner.Outcome], with_llm: list[runner.Outcome], stats: dict, secs: float) -> None:
    n = len(without)
    a, b = sum(o.ok for o in without), sum(o.ok for o in with_llm)
    print(f"{n} questions: without the model {a} right ({a / n:.1%}) | with the model {b} right ({b / n:.1%})"
          f"  [{secs:.0f} s with the model]")
    total = sum(stats["guard"].values()) or 1
    print("claim guard: " + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in sorted(stats["guard"].items()))
          + f"; model text shown for {stats['answers']} answers")
    print("rejected claim kinds (attempts): " + ", ".join(f"{k} {v}" for k, v in sorted(stats["rejected"].items())))
    worse = [(o, w) for o, w in zip(without, with_llm, strict=True) if o.ok and not w.ok]
    better = [(o, w) for o, w in zip(without, with_llm, strict=True) if w.ok and not o.ok]
    print(f"right without, wrong with: {len(worse)}; wrong without, right with: {len(better)}")
    for o, w in worse:
        print(f"  [{o.rec['id']}] {o.rec.get('question') or ' → '.join(o.rec['turns'])}")
        print(f"    without: {o.replies[-1][:160]!r}\n    with:    {w.replies[-1][:160]!r}\n    failed: {w.failed[:2]}")


if __name__ == "__main__":
    sys.exit(main())
