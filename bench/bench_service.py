"""Service figures: scheduler overhead, reminder claims against a backlog, leader take-over
time, idle memory of `slipstream run`.

    python bench/bench_service.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Prints medians / p99. Scheduler overhead is measured on SQLite and (when reachable)
PostgreSQL with a synthetic 24-round season (5 sessions a round) and no-op job
bodies, so what is timed is the planning, the job store and the ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.scheduling import Policy, plan  # noqa: E402
from slipstream.service import IngestResult, Service, ServiceConfig  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.jobs import LedgerEntry, SessionSlot  # noqa: E402
from storage.models import Event, Season  # noqa: E402
from storage.models import Session as RaceSession  # noqa: E402

UTC = dt.UTC
SEASON_START = dt.datetime(2030, 3, 1, tzinfo=UTC)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def seed_season(engine: object) -> None:
    rows_e, rows_s = [], []
    sid = 1
    for rnd in range(1, 25):
        day = SEASON_START + dt.timedelta(days=14 * (rnd - 1))
        rows_e.append({"id": rnd, "year": 2030, "round": rnd, "name": f"Round {rnd} Grand Prix"})
        for i, (t, name) in enumerate((("FP1", "Practice 1"), ("FP2", "Practice 2"), ("FP3", "Practice 3"),
                                       ("Q", "Qualifying"), ("R", "Race"))):
            start = day + dt.timedelta(hours=11 + 4 * i)
            rows_s.append({"id": sid, "event_id": rnd, "type": t, "name": name, "start_utc": start,
                           "end_utc": start + dt.timedelta(hours=1 if t != "R" else 2), "status": "scheduled"})
            sid += 1
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(Season.__table__.insert(), [{"year": 2030}])
        conn.execute(Event.__table__.insert(), rows_e)
        conn.execute(RaceSession.__table__.insert(), rows_s)


def bench_plan() -> None:
    slots = [
        SessionSlot(i, 2030, i // 5 + 1, "R", "Race", "GP", SEASON_START + dt.timedelta(days=i),
                    SEASON_START + dt.timedelta(days=i, hours=2))
        for i in range(120)
    ]
    now = SEASON_START + dt.timedelta(days=60)
    ledger = {f"ingest:{i}:1": LedgerEntry(f"ingest:{i}:1", "failed", now - dt.timedelta(hours=1)) for i in range(120)}
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        jobs = plan(slots, now, ledger, policy=Policy(horizon=dt.timedelta(days=400), lookback=dt.timedelta(days=400)),
                    reminder_offsets={"R": frozenset({60, 10})})
        times.append(time.perf_counter() - t0)
    print(f"plan() pure, 120 sessions -> {len(jobs)} jobs: median {statistics.median(times) * 1e3:.2f} ms, "
          f"p99 {pct(times, 99) * 1e3:.2f} ms")


async def bench_scheduler(url: str, label: str) -> None:
    engine = make_engine(url)
    init_db(engine)
    seed_season(engine)
    now = [SEASON_START - dt.timedelta(days=1)]

    async def ingest(_slot: SessionSlot) -> IngestResult:
        return IngestResult(True, "skipped", "bench")

    svc = Service(engine, clock=lambda: now[0], ingest=ingest, pulse=None, autowake=False,
                  config=ServiceConfig(policy=Policy(live_types=frozenset())))
    svc.pulse = None
    await svc.start_leading()
    rec = []
    for _ in range(20):
        t0 = time.perf_counter()
        await svc.reconcile()
        rec.append(time.perf_counter() - t0)
    # Run four race weekends (every job, in time order).
    t0 = time.perf_counter()
    end = SEASON_START + dt.timedelta(days=14 * 4)
    while True:
        jobs = await asyncio.to_thread(svc.scheduler.get_jobs)  # type: ignore[union-attr]
        nxt = min((j.next_run_time for j in jobs), default=None)
        if nxt is None or nxt > end:
            break
        now[0] = max(now[0], nxt)
        await svc.tick()
    elapsed = time.perf_counter() - t0
    n = len(svc.history)
    await svc.stop_leading(flush=False)
    print(f"[{label}] reconcile (24 rounds in store, 8-day horizon): median {statistics.median(rec) * 1e3:.1f} ms, "
          f"p99 {pct(rec, 99) * 1e3:.1f} ms")
    print(f"[{label}] scheduler overhead per job (claim + run no-op + finish + re-plan): "
          f"{elapsed / max(n, 1) * 1e3:.1f} ms over {n} jobs")
    engine.dispose()


def bench_claim(url: str, label: str) -> None:
    """Claim + finish batches of 50 reminders (`storage.outbox` through `storage.reminders`)
    with a small and a large backlog: the claim reads through the status index, so its cost
    should not grow with the backlog (nor with the history of sent rows)."""
    from sqlalchemy import text

    from storage.reminders import claim_reminders, finish_reminder
    from storage.service_models import ReminderSent

    engine = make_engine(url)
    init_db(engine)
    # Its own season and ids: on PostgreSQL this shares the scheduler figures' database.
    start = dt.datetime(2031, 3, 1, tzinfo=UTC)
    now = start - dt.timedelta(hours=2)
    with engine.begin() as conn:
        conn.execute(Season.__table__.insert(), [{"year": 2031}])
        conn.execute(Event.__table__.insert(), [{"id": 9001, "year": 2031, "round": 1, "name": "Round 1"}])
        conn.execute(RaceSession.__table__.insert(), [{"id": 9001, "event_id": 9001, "type": "R",
                                                       "name": "Race", "start_utc": start,
                                                       "status": "scheduled"}])
    for history, backlog in ((0, 1_000), (45_000, 45_000)):
        # Sent rows first (lower ids), then the pending ones: the layout that made PostgreSQL
        # walk the primary key through the history before the partial index existed.
        with engine.begin() as conn:
            conn.execute(ReminderSent.__table__.insert(), [
                {"channel_id": f"console:local:{status}{backlog}-{i}", "session_id": 9001, "offset_min": 60,
                 "status": status, "attempts": 0, "created_at": now}
                for status, n in (("sent", history), ("pending", backlog)) for i in range(n)])
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE reminder_sent"))
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            rows = claim_reminders(engine, ["console"], now=now, lease_s=60)
            times.append(time.perf_counter() - t0)
            for r in rows:  # finished rows become history the next claims must not read
                finish_reminder(engine, r.id, "sent", sent_at=now, message_id="m")
        print(f"[{label}] reminder claim of 50 with {backlog:,} pending behind {history:,} sent: median "
              f"{statistics.median(times) * 1e3:.2f} ms, p99 {pct(times, 99) * 1e3:.2f} ms")
    engine.dispose()


def pg_url_for(admin: str) -> str | None:
    try:
        import psycopg

        name = f"slipstream_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return admin.rsplit("/", 1)[0] + f"/{name}"
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc}); skipping PostgreSQL figures")
        return None


def drop_pg(admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


HOLDER = """
import asyncio, sys
from storage.db import make_engine
from storage.leader import make_leadership
async def main():
    lead = make_leadership(make_engine(sys.argv[1]), holder="victim")
    assert await lead.try_acquire()
    print("HELD", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


async def bench_takeover(url: str, runs: int = 5, retry_s: float = 3.0) -> None:
    from storage.leader import make_leadership

    engine = make_engine(url)
    times = []
    for _ in range(runs):
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
        assert proc.stdout is not None and proc.stdout.readline().strip() == "HELD"
        follower = make_leadership(engine, holder="follower", retry_s=retry_s)
        acquired = asyncio.get_running_loop().create_future()

        async def loop(f: object = follower, done: asyncio.Future = acquired) -> None:
            # The service's ordinary retry loop: try, wait retry_s, try again.
            while not await f.try_acquire():  # type: ignore[attr-defined]  # noqa: ASYNC110
                await asyncio.sleep(retry_s)
            done.set_result(time.perf_counter())

        task = asyncio.create_task(loop())
        await asyncio.sleep(random.uniform(0.5, retry_s + 0.5))  # kill at a random phase of the loop
        killed = time.perf_counter()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        got = await acquired
        await task
        times.append(got - killed)
        await follower.release()
    engine.dispose()
    print(f"[postgresql] leader take-over after SIGKILL (retry every {retry_s:g} s): "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s over {runs} kills")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_idle_rss(idle_s: float = 5.0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "LLM_"))}
        env.update(DATABASE_URL=f"sqlite:///{tmp}/run.db", METRICS_PORT=str(free_port()),
                   FASTF1_CACHE_DIR=f"{tmp}/ff1")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", "from slipstream.cli import main; main()", "run"],
                                cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "slipstream: ready" in line:
                break
        ready = time.perf_counter() - t0
        time.sleep(idle_s)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
        t1 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        stop = time.perf_counter() - t1
    print(f"slipstream run (console only, SQLite): ready in {ready:.2f} s, idle RSS after {idle_s:g} s "
          f"{rss / 1024:.1f} MiB, SIGTERM to exit {stop:.2f} s (code {proc.returncode})")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default=os.environ.get("SLIPSTREAM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    bench_plan()
    with tempfile.TemporaryDirectory() as tmp:
        await bench_scheduler(f"sqlite:///{tmp}/bench.db", "sqlite")
        bench_claim(f"sqlite:///{tmp}/claim.db", "sqlite")
    url = pg_url_for(args.pg)
    if url:
        try:
            await bench_scheduler(url, "postgresql")
            bench_claim(url, "postgresql")
            await bench_takeover(url)
        finally:
            drop_pg(args.pg, url)
    bench_idle_rss()


if __name__ == "__main__":
    asyncio.run(main())
