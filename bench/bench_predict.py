"""Predictions benchmark: forecast latency, incremental update, full refit, backtest figures.

    python bench/bench_predict.py [--shared ../shared/data] [--runs 15] [--updates 5]
                                  [--from 2014] [--to 2025]

Imports the shared Ergast CSV (1950–2025) into SQLite in a temp dir, then prints:
- full refit 1950–2025 (read + fold + store; median of 3; target <= 60 s);
- incremental update after one new race: a store fitted through the race before the
  last one, the full CSV re-imported, `update()` timed (median of `--updates`;
  target <= 1 s);
- a race forecast through the async `Predictor`, warm (model loaded): uncached
  (a new race or stage each time) and cached, medians of `--runs` (target <= 200 ms);
- the walk-forward backtest summary (log loss of the winner, Brier top-3, calibration)
  next to the two baselines, per season and overall.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.predict import backtest as bt  # noqa: E402
from bot.predict.service import PredictCore, Predictor  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.history import import_history  # noqa: E402
from storage.predict_store import race_history  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.predict.conftest import copy_csv  # noqa: E402


def _ms(xs: list[float]) -> str:
    return f"median {1000 * statistics.median(xs):.1f} ms (min {1000 * min(xs):.1f}, max {1000 * max(xs):.1f}, n={len(xs)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--updates", type=int, default=5)
    ap.add_argument("--from", dest="start", type=int, default=2014)
    ap.add_argument("--to", dest="end", type=int, default=2025)
    a = ap.parse_args()
    csv_dir = a.shared / "ergast-csv"
    tmp = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    try:
        db = tmp / "full.db"
        engine = make_engine(f"sqlite:///{db}")
        init_db(engine)
        import_history(engine, csv_dir)
        core = PredictCore(engine)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            rep = core.refit()
            times.append(time.perf_counter() - t0)
        print(f"full refit 1950–2025: {rep.races_folded} races, median {statistics.median(times):.2f} s "
              f"(max {max(times):.2f} s) [target <= 60 s]")

        # Incremental: a store through the race before the last, then the last one lands.
        last = rep.data_through
        assert last is not None
        cut = copy_csv(csv_dir, tmp / "cut", keep=lambda f, race, r: race < last)
        template = tmp / "cut.db"
        e2 = make_engine(f"sqlite:///{template}")
        init_db(e2)
        import_history(e2, cut)
        PredictCore(e2).fold_new_results()
        e2.dispose()
        upd = []
        for i in range(a.updates):
            path = tmp / f"u{i}.db"
            shutil.copyfile(template, path)
            e3 = make_engine(f"sqlite:///{path}")
            import_history(e3, csv_dir)
            c3 = PredictCore(e3)
            c3.race(last[0], last[1] - 1, after_quali=False)  # a running bot: posterior already loaded
            t0 = time.perf_counter()
            r3 = c3.fold_new_results()
            upd.append(time.perf_counter() - t0)
            assert r3.races_folded == 1 and not r3.refit, r3
            e3.dispose()
        print(f"incremental update after one new race ({last}): {_ms(upd)} [target <= 1 s]")

        asyncio.run(_forecasts(engine, last, a.runs))
        engine.dispose()

        history = race_history(make_engine(f"sqlite:///{db}"))
        result = bt.Backtest()
        t0 = time.perf_counter()
        n = sum(1 for _ in bt.run(history, core.params, result, start=a.start, end=a.end, seed=core.seed))
        took = time.perf_counter() - t0
        summary = bt.summary(result)
        print(f"\nwalk-forward backtest {a.start}–{a.end}: {n} races in {took:.1f} s "
              f"(parameters tuned on 1996–2013 only)")
        print("season  stage        model LL  base LL  | model Brier  base Brier")
        for season, stages in summary.items():
            for stage, ms in stages.items():
                base = ms.get("champ_base") or ms.get("grid_base")
                print(f"{season:>6}  {stage:11}  {ms['model']['logloss_winner']:7.3f}  {base['logloss_winner']:7.3f}"
                      f"  |  {ms['model']['brier_top3']:.4f}      {base['brier_top3']:.4f}"
                      f"  {'beats' if ms['model']['logloss_winner'] < base['logloss_winner'] else 'LOSES'}")
        for stage, ms in summary["all"].items():  # type: ignore[union-attr]
            print(f"\ncalibration {stage} (P(win) and P(podium) pooled): bin, n, predicted, observed, gap")
            for c in ms["model"]["calibration"]:
                gap = 100 * (c["observed"] - c["predicted"])
                flag = "" if c["n"] < 50 or abs(gap) <= 5 else "  > 5 points"
                print(f"  {c['bin']:>9}  {c['n']:5d}  {100 * c['predicted']:5.1f}%  {100 * c['observed']:5.1f}%"
                      f"  {gap:+5.1f}{flag}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _forecasts(engine: object, last: tuple[int, int], runs: int) -> None:
    store = Store(engine)  # type: ignore[arg-type]
    pred = Predictor(store)
    try:
        await pred.race(last[0], last[1])  # load history + posterior (cold)
        rounds = [(last[0], r) for r in range(max(1, last[1] - runs + 1), last[1] + 1)]
        uncached = []
        for y, r in rounds:
            t0 = time.perf_counter()
            await pred.race(y, r, after_quali=False)
            uncached.append(time.perf_counter() - t0)
        cached = []
        for y, r in rounds:
            t0 = time.perf_counter()
            await pred.race(y, r, after_quali=False)
            cached.append(time.perf_counter() - t0)
        nxt = await pred.next_race(dt.datetime(last[0], 1, 1, tzinfo=dt.UTC))
        t0 = time.perf_counter()
        await pred.title(last[0])
        title = time.perf_counter() - t0
        print(f"race forecast, warm, uncached (4,000 runs): {_ms(uncached)} [target <= 200 ms]")
        print(f"race forecast, warm, cached: {_ms(cached)}")
        print(f"title odds {last[0]} (2,000 runs, uncached): {1000 * title:.1f} ms; next race from Jan 1: {nxt}")
    finally:
        pred.close()
        store.close()


if __name__ == "__main__":
    main()
