"""Learn the recalibration knots of `bot/predict/calibrate.py` on the 1996–2013 backtest.

    python bench/fit_calibration.py [--shared ../shared/data] [--from 1996] [--to 2013]

Runs the walk-forward backtest with the recalibration off (the raw Monte Carlo
probabilities, same draws as `slipstream predict backtest`), pools each stage's
P(win) and P(podium) with what happened, and prints the isotonic knots to paste
into `KNOTS`. Only seasons before 2014 are used, so 2014–2025 stays out of sample.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.predict import backtest as bt  # noqa: E402
from bot.predict.calibrate import learn  # noqa: E402
from bot.predict.forecast import entrants  # noqa: E402
from bot.predict.model import Params  # noqa: E402
from storage.predict_store import race_history  # noqa: E402
from tests.predict.conftest import history_engine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--from", dest="start", type=int, default=1996)
    ap.add_argument("--to", dest="end", type=int, default=2013)
    a = ap.parse_args()
    if a.end >= 2014:
        sys.exit("refusing to learn on 2014 or later: that period is the out-of-sample test")
    tmp = Path(tempfile.mkdtemp(prefix="fit-cal-"))
    try:
        engine = history_engine(tmp / "h.db", a.shared / "ergast-csv")
        history = race_history(engine)
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    by = {(r.year, r.round): r for r in history}
    raw = dataclasses.replace(Params(), calibrate=False)
    pooled: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for obj in bt.run(history, raw, bt.Backtest(), start=a.start, end=a.end, seed=17):
        race = by[(obj["year"], obj["round"])]  # type: ignore[index]
        won, pod = bt._outcomes(race, entrants(race, None, with_grid=True))
        for stage in ("pre_quali", "after_quali"):
            for kind, key, hit in (("win", "p_win", won), ("podium", "p_podium", pod)):
                if stage in obj:
                    ps, hs = pooled.setdefault((stage, kind), ([], []))
                    ps.extend(d[key] for d in obj[stage])  # type: ignore[attr-defined]
                    hs.extend(float(h) for h in hit)
    for (stage, kind), (ps, hs) in pooled.items():
        kx, ky = learn(np.array(ps), np.array(hs))
        print(f"(\"{stage}\", \"{kind}\"): (\n    {kx},\n    {ky}),")


if __name__ == "__main__":
    main()
