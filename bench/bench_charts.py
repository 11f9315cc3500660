"""Charts benchmark: render time per kind, cache hits, against FastF1, memory over 1,000 renders.

    python bench/bench_charts.py [--shared ../shared/data] [--runs 15] [--renders 1000]

Builds the demo store (2023 history + Monza 2023 laps) on SQLite in a temp dir, then prints:
- render p50 / p95 per kind, uncached (store read + drawing; target p50 <= 300 ms);
- a cache hit (target <= 5 ms);
- loading the Monza 2023 race with FastF1 (offline, a warm copy of the shared cache,
  laps only) and drawing the same lap-time chart, against our uncached render of it
  (target ratio >= 5x);
- RSS after a warm-up and after `--renders` uncached renders across all kinds (growth <= 20 MB).
FastF1 runs last so its imports and frames do not count in the RSS figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.charts import CHART_KINDS, ChartRequest, Charts  # noqa: E402
from bot.charts.gather import MAX_LINES  # noqa: E402
from bot.charts.plot import COMPOUND_COLOURS, Line, Panel, Plot, draw  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.demo import load_demo  # noqa: E402
from storage.store import Store  # noqa: E402

MONZA = {"year": 2023, "round": 14}
REQUESTS: dict[str, ChartRequest] = {
    "positions": ChartRequest("positions", **MONZA),
    "laptimes": ChartRequest("laptimes", drivers=("VER", "LEC"), **MONZA),
    "strategy": ChartRequest("strategy", **MONZA),
    "gaps": ChartRequest("gaps", **MONZA),
    "distribution": ChartRequest("distribution", **MONZA),
    "quali": ChartRequest("quali", **MONZA),
    "points": ChartRequest("points"),
    "pitstops": ChartRequest("pitstops", **MONZA),
    "teammates": ChartRequest("teammates", year=2023, team="ferrari"),
}
assert list(REQUESTS) == list(CHART_KINDS)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def timed(ch: Charts, req: ChartRequest) -> float:
    t = time.perf_counter()
    await ch.render(req)
    return (time.perf_counter() - t) * 1000


async def bench_store(url: str, runs: int, renders: int) -> dict[str, object]:
    store = Store(make_engine(url))
    out: dict[str, object] = {}
    nocache = Charts(store, cache_size=0)
    per_kind: dict[str, tuple[float, float]] = {}
    for kind, req in REQUESTS.items():
        await nocache.render(req)  # first draw of a kind loads fonts and such
        ms = [await timed(nocache, req) for _ in range(runs)]
        per_kind[kind] = (statistics.median(ms), pct(ms, 95))
        print(f"  {kind:13s} p50 {per_kind[kind][0]:6.0f} ms   p95 {per_kind[kind][1]:6.0f} ms", flush=True)
    out["per_kind"] = per_kind

    cached = Charts(store)
    req = REQUESTS["laptimes"]
    await cached.render(req)
    hits = [await timed(cached, req) for _ in range(500)]
    out["hit"] = (statistics.median(hits), pct(hits, 95))
    print(f"  cache hit     p50 {out['hit'][0]:.3f} ms   p95 {out['hit'][1]:.3f} ms", flush=True)  # type: ignore[index]
    cached.close()

    kinds = list(REQUESTS.values())
    for r in kinds * 3:  # warm-up: every kind drawn a few times
        await nocache.render(r)
    before = rss_mb()
    t0 = time.perf_counter()
    for i in range(renders):
        await nocache.render(kinds[i % len(kinds)])
    took = time.perf_counter() - t0
    after = rss_mb()
    out["rss"] = (before, after, renders, took)
    print(f"  RSS {before:.1f} MB -> {after:.1f} MB after {renders} renders ({took:.0f} s)", flush=True)
    nocache.close()
    store.engine.dispose()
    return out


def fastf1_laptimes(shared: Path, runs: int) -> tuple[list[float], list[float]]:
    """(load ms, load + draw ms) per run: FastF1 session load (laps only), same chart drawn."""
    import logging
    import warnings

    import fastf1

    src = shared / "fastf1-cache" / "monza-2023"
    tmp = Path(tempfile.mkdtemp(prefix="bench-charts-ff1-"))
    try:
        shutil.copytree(src, tmp / "cache")
        fastf1.Cache.configure(cache_dir=str(tmp / "cache"), ignore_version=True)
        fastf1.Cache.offline_mode(True)
        logging.getLogger("fastf1").setLevel(logging.ERROR)
        warnings.simplefilter("ignore")
        loads, totals = [], []
        for _ in range(runs):
            t = time.perf_counter()
            s = fastf1.get_session(2023, "Monza", "R")
            s.load(laps=True, telemetry=False, weather=False, messages=False)
            loaded = time.perf_counter()
            lines = []
            for code in ("VER", "LEC"):
                laps = s.laps.pick_drivers(code)
                xs = tuple(float(x) for x in laps["LapNumber"])
                ys = tuple(None if v != v else v.total_seconds() for v in laps["LapTime"])
                comps = tuple(COMPOUND_COLOURS.get(str(c).upper(), "#8a8a8a") for c in laps["Compound"])
                colour = "#" + str(laps["TeamColor"].iloc[0]) if "TeamColor" in laps else "#3671C6"
                lines.append(Line(code, colour, xs, ys, point_colours=comps))
            draw(Plot("Lap times · 2023 Italian Grand Prix · Race", (Panel("", "Lap", "Lap time (s)", lines=tuple(lines)),)))
            end = time.perf_counter()
            loads.append((loaded - t) * 1000)
            totals.append((end - t) * 1000)
        return loads, totals
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--renders", type=int, default=1000)
    ap.add_argument("--ff1-runs", type=int, default=3)
    a = ap.parse_args()

    print(f"cores: {os.cpu_count()}   line charts cut at {MAX_LINES} drivers", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    try:
        url = f"sqlite:///{tmp / 'demo.db'}"
        eng = make_engine(url)
        init_db(eng)
        t = time.perf_counter()
        load_demo(eng, work_dir=tmp / "work")
        eng.dispose()
        print(f"demo store built in {time.perf_counter() - t:.1f} s", flush=True)
        print("SQLite store, uncached renders (store read + draw, 1 worker thread):", flush=True)
        res = asyncio.run(bench_store(url, a.runs, a.renders))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("FastF1 (offline, warm cache copy): load the race (laps only) + draw the same lap-time chart:", flush=True)
    loads, totals = fastf1_laptimes(Path(a.shared), a.ff1_runs)
    ff1 = statistics.median(totals)
    print(f"  load p50 {statistics.median(loads):.0f} ms   load + draw p50 {ff1:.0f} ms", flush=True)

    per_kind: dict[str, tuple[float, float]] = res["per_kind"]  # type: ignore[assignment]
    hit: tuple[float, float] = res["hit"]  # type: ignore[assignment]
    before, after, n, took = res["rss"]  # type: ignore[misc]
    ours = per_kind["laptimes"][0]
    print()
    print("| figure | measured | target |")
    print("|---|---|---|")
    for kind, (p50, p95) in per_kind.items():
        print(f"| render `{kind}` p50 / p95 | {p50:.0f} / {p95:.0f} ms | p50 <= 300 ms |")
    print(f"| cache hit p50 / p95 | {hit[0]:.2f} / {hit[1]:.2f} ms | <= 5 ms |")
    print(f"| FastF1 load + draw laptimes (p50 of {a.ff1_runs}) | {ff1:.0f} ms | |")
    print(f"| our uncached laptimes render (p50) | {ours:.0f} ms | |")
    print(f"| ratio FastF1 / ours | {ff1 / ours:.1f}x | >= 5x |")
    print(f"| RSS after warm-up -> after {n} renders | {before:.1f} -> {after:.1f} MB "
          f"(+{after - before:.1f} MB, {took:.0f} s) | growth <= 20 MB |")


if __name__ == "__main__":
    main()
