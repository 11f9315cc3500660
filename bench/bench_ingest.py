"""Ingestion benchmark: FastF1 load vs our store write, and unchanged re-ingest.

    python bench/bench_ingest.py [--shared ../shared/data] [--pg URL]

For the Monza fixture and every session of the shared 2019-2023 cache it prints
FastF1's own load time (measured in the child), our store-write time (one
transaction), their ratio, rows/s, and the unchanged re-ingest time per session
(a full `ingest()` call for that one session, which includes reading the
round's rows of FastF1's HTTP cache for the fingerprint). Targets: write ≤ 30 % of the
load; unchanged re-ingest ≤ 50 ms per session.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from storage.db import init_db, make_engine
from storage.ingest import HTTP_CACHE_NAME, HttpCacheIndex, ingest

ROOT = Path(__file__).resolve().parent.parent


def run(label: str, cache_src: Path, years: list[int], url: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    cache = work / "cache"
    shutil.copytree(cache_src, cache)
    engine = make_engine(url or f"sqlite:///{work / 'store.db'}")
    init_db(engine)
    print(f"\n== {label} ({engine.dialect.name}) ==")
    print(f"{'session':<12}{'rows':>7}{'FastF1 load s':>15}{'write s':>10}{'ratio':>8}{'rows/s':>10}{'re-ingest ms':>14}")
    ratios, reingest_ms, loads, writes = [], [], [], []
    for year in years:
        rep = ingest(engine, year, cache_dir=cache)
        for s in rep.sessions:
            if s.reason == "not in the offline cache":
                continue
            if s.outcome == "failed":
                print(f"{s.target:<12} FAILED: {s.reason}")
                continue
            rnd, typ = s.target.split("/")[1:]
            t0 = time.perf_counter()
            again = ingest(engine, year, int(rnd), typ, cache_dir=cache)
            re_ms = (time.perf_counter() - t0) * 1000
            assert again.sessions[0].outcome == "skipped", again.sessions
            ratio = (s.write_s or 0) / (s.load_s or 1)
            ratios.append(ratio)
            reingest_ms.append(re_ms)
            loads.append(s.load_s or 0)
            writes.append(s.write_s or 0)
            print(f"{s.target:<12}{s.rows:>7}{s.load_s:>15.3f}{s.write_s:>10.3f}{ratio:>8.1%}"
                  f"{s.rows / (s.write_s or 1):>10.0f}{re_ms:>14.1f}")
    if ratios:
        print(f"median write/load ratio {statistics.median(ratios):.1%} (max {max(ratios):.1%}); "
              f"total load {sum(loads):.2f} s, total write {sum(writes):.2f} s "
              f"({sum(writes) / sum(loads):.1%}); unchanged re-ingest median "
              f"{statistics.median(reingest_ms):.1f} ms, max {max(reingest_ms):.1f} ms")
    http = cache / HTTP_CACHE_NAME
    if http.is_file():  # part of every offline fingerprint: read once per ingest() call
        scans = []
        for _ in range(20):
            t0 = time.perf_counter()
            HttpCacheIndex(cache).digest(years[-1], 1)
            scans.append((time.perf_counter() - t0) * 1000)
        print(f"HTTP-cache index scan ({http.stat().st_size / 1024:.0f} KB): median "
              f"{statistics.median(scans):.2f} ms, max {max(scans):.2f} ms (included in re-ingest)")
    engine.dispose()
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--pg", default=None, help="PostgreSQL URL of an EMPTY scratch database")
    args = ap.parse_args()
    run("Monza 2023 fixture", ROOT / "tests" / "fixtures" / "fastf1" / "monza-2023", [2023], args.pg)
    shared = args.shared / "fastf1-cache" / "sessions-2019-2023"
    if shared.is_dir():
        run("shared cache 2019-2023", shared, [2019, 2020, 2021, 2022, 2023], None)
    else:
        print(f"(no shared cache at {shared}: skipped)")


if __name__ == "__main__":
    main()
