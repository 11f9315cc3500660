"""History import benchmark: the full Ergast CSV set into a fresh SQLite store.

    python bench/bench_history.py [--csv ../shared/data/ergast-csv] [--runs 3]

Prints parse / write / total time of a first import (fresh store) and of an
idempotent re-import. Target: full import ≤ 15 s on SQLite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from storage.db import init_db, make_engine
from storage.history import import_history

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", type=Path, default=ROOT.parent / "shared" / "data" / "ergast-csv")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    firsts, agains = [], []
    for i in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="bench-history-"))
        engine = make_engine(f"sqlite:///{work / 'store.db'}")
        init_db(engine)
        rep = import_history(engine, args.csv)
        again = import_history(engine, args.csv)
        firsts.append(rep.elapsed_s)
        agains.append(again.elapsed_s)
        print(f"run {i + 1}: {rep.total_rows} rows; first import {rep.elapsed_s:.2f} s "
              f"(parse {rep.parse_s:.2f} s, write {rep.write_s:.2f} s, "
              f"{rep.total_rows / rep.elapsed_s:,.0f} rows/s); re-import {again.elapsed_s:.2f} s")
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    print(f"median first import {statistics.median(firsts):.2f} s, "
          f"median re-import {statistics.median(agains):.2f} s (target ≤ 15 s)")


if __name__ == "__main__":
    main()
