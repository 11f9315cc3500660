"""Race Lab benchmark: fitting a race model, and 10,000 Monte Carlo runs of a race.

    python bench/bench_lab.py [--repeat 7] [--runs 10000] [--shared]

Prints the median time to fit the race model of the bundled Monza 2023 race (target
<= 1 s; reading the race from the store shown apart), and the median time of
10,000 runs of a 58-lap, 20-car race (target <= 2 s): the Monza model stretched to
58 laps, actual strategies, real neutralisations (none) and drawn ones. Also the
what-if (2 x 2,000 runs) and the strategy search (2,000 runs for the finalists).
`--shared`: also fit each race of the shared evaluation store (built by
`bench/answers/store.py` when missing) and print the median and slowest fit.
Then, unless `--no-loop`, `bench/bench_lab_loop.py` in its own process: the event loop's
longest block while 10,000-run what-ifs run in the Race Lab worker (target <= 50 ms), and a
what-if end to end, cold and cached.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.lab import Strategy, best_strategies, fit_race_model, simulate, whatif  # noqa: E402
from bot.lab.types import RaceModel  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.demo import load_demo  # noqa: E402
from storage.lab_data import race_data  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def stretch(model: RaceModel, laps: int) -> RaceModel:
    """The same cars over `laps` laps (a 58-lap race from the 51-lap Monza fit)."""
    assert model.neutral_lap_s is not None
    extra = laps - model.total_laps
    return dataclasses.replace(
        model, total_laps=laps,
        neutralised=np.r_[model.neutralised, np.zeros(extra, dtype=np.int8)],
        neutral_lap_s=np.r_[model.neutral_lap_s, np.full(extra, np.nan)],
        dry_lap_offset_s=(None if model.dry_lap_offset_s is None
                          else np.r_[model.dry_lap_offset_s, np.zeros(extra)]),
        retire_lap=np.where(model.retire_lap >= model.total_laps, laps, model.retire_lap),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--shared", action="store_true", help="also fit every shared race")
    ap.add_argument("--no-loop", action="store_true", help="skip the event-loop figures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/demo.db")
        init_db(engine)
        load_demo(engine, work_dir=Path(tmp) / "work")
        read_s, data = timed(lambda: race_data(engine, 2023, 14), args.repeat)
        engine.dispose()
    t = time.perf_counter()
    fit_race_model(data)  # type: ignore[arg-type]
    cold_s = time.perf_counter() - t  # first call: imports scipy's solver
    fit_s, model = timed(lambda: fit_race_model(data), args.repeat)  # type: ignore[arg-type]
    print(f"read race (Monza 2023, {len(data.laps)} laps rows): median {read_s * 1000:.0f} ms")  # type: ignore[attr-defined]
    print(f"fit race model: median {fit_s * 1000:.0f} ms (target <= 1000 ms); "
          f"first call in the process {cold_s * 1000:.0f} ms")
    m58 = stretch(model, 58)  # type: ignore[arg-type]
    print(f"race: {m58.total_laps} laps, {len(m58.codes)} cars")
    for mode in ("actual", "drawn"):
        sim_s, res = timed(lambda mode=mode: simulate(m58, runs=args.runs, seed=1,  # type: ignore[misc]
                                                      neutralisations=mode), args.repeat)
        print(f"simulate {args.runs:,} runs, neutralisations {mode}: median {sim_s:.2f} s "
              f"(target <= 2 s)")
    wi_s, _ = timed(lambda: whatif(model, "LEC", Strategy.parse("M-30-H"), runs=2000, seed=1), 3)  # type: ignore[arg-type]
    print(f"what-if (2 x 2,000 runs): median {wi_s:.2f} s")
    best_s, best = timed(lambda: best_strategies(model, "LEC", runs=2000, seed=1), 1)  # type: ignore[arg-type]
    print(f"best strategies (screen + 12 finalists x 2,000 runs): {best_s:.2f} s; top: "
          f"{best[0].strategy} mean position {best[0].mean_position:.2f}")  # type: ignore[index]
    if args.shared:
        bench_shared(args.repeat)
    if not args.no_loop:
        # Its own process: the Race Lab worker is spawned and re-imports the script's module.
        subprocess.run([sys.executable, str(ROOT / "bench" / "bench_lab_loop.py"), "--runs", str(args.runs)],
                       check=True)


def bench_shared(repeat: int) -> None:
    """Fit time of each race of the shared evaluation store."""
    from bench.answers import store as eval_store
    from storage.chart_data import races_with_laps

    why = eval_store.available()
    if why:
        print(f"(shared: {why})")
        return
    engine = make_engine(eval_store.ensure(verbose=False))
    fits = []
    for ev in races_with_laps(engine, limit=100):
        data = race_data(engine, ev.year, ev.round)
        fit_s, _ = timed(lambda data=data: fit_race_model(data), repeat)  # type: ignore[misc]
        fits.append((fit_s, f"{ev.year} {ev.name}"))
    engine.dispose()
    slow = max(fits)
    med = statistics.median(f for f, _ in fits)
    print(f"fit, {len(fits)} shared races: median {med * 1000:.0f} ms,"
          f" slowest {slow[0] * 1000:.0f} ms ({slow[1]})")


if __name__ == "__main__":
    main()
