"""Answer accuracy on the fan-question set (issue 12): per class, with answer times.

    python bench/bench_answers.py [--set main|holdout|holdout2|holdout3|holdout4] [--store URL] [--ids ID ...] [--class N] [--show-misses]

Runs every question of bench/answers/questions.jsonl through the real bot core in process
(as `slipstream ask`: `build_app` + a console session per question or follow-up group;
no LLM, rate limits off) and grades each reply by the record's regexes. Without --store it
builds (or reuses) the evaluation store from the shared raw data (bench/answers/store.py).
The bot's clock is fixed at the day after the data's latest race (see runner.EVAL_NOW).
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
        "holdout4": runner.QUESTIONS.with_name("holdout4.jsonl")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", dest="qset", choices=sorted(SETS), default="main",
                    help="main = questions.jsonl (the parser was tuned on it); holdout / holdout2 / holdout3 / holdout4 = holdout*.jsonl (written blind)")
    ap.add_argument("--store", help="database URL of a store to evaluate (default: the evaluation store)")
    ap.add_argument("--ids", nargs="*", help="only these question ids")
    ap.add_argument("--class", dest="cls", type=int, action="append", help="only this class (repeatable)")
    ap.add_argument("--show-misses", action="store_true", help="print each miss: question, reply, failed regex")
    args = ap.parse_args()
    records = runner.load(SETS[args.qset])
    if args.ids:
        records = [r for r in records if r["id"] in set(args.ids)]
    if args.cls:
        records = [r for r in records if r["class"] in args.cls]
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
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)
    if args.show_misses:
        print(runner.misses(outcomes))
        print()
    print(runner.summary(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
