"""Reliability suite: load held, memory growth, duplicates/losses over repeated SIGKILLs.

    python bench/bench_reliability.py [--questions 200] [--retries 20] [--memory-questions 3000]
                                      [--kills 5] [--highlights 200] [--backends sqlite,postgres]
                                      [--only load,memory,kills]

Three parts, each bounded in count and time, loopback only (127.0.0.1):

1. **Load held**: the whole bot (`wiring.build_app` on the bundled demo data) behind the
   real slack-bolt app in HTTP mode; `--questions` signed `app_mention` questions sent at
   once, each in its own thread, Web API calls to the fake Slack
   (`tests/fakes/slack_server.py`), the LLM the fake OpenAI-compatible server answering
   after `--llm-delay`. `--retries` of them are sent again as Slack retries
   (`X-Slack-Retry-Num: 1`, same event id). Prints HTTP statuses, threads answered
   exactly once / not at all / more than once, and p50 / p99 of ack and answer times.
2. **Memory growth**: `--memory-questions` questions (varied text, users, channels and
   threads) through the dispatcher of one app; RSS after a warm-up and every 500
   questions, and the growth from the warm-up to the end.
3. **SIGKILLs of the deliverer**: `--highlights` Track Pulse messages queued for one Slack
   channel; the real `Deliverer` + `SlackPoster` runs in a child process
   (`tests/slack/crash_child.py`, as `tests/slack/test_delivery_crash.py` uses it) and is
   SIGKILLed `--kills` times, each time right after the fake Slack stored a post and
   before the child heard back (the worst moment: posted, not recorded). A fresh
   deliverer then drains the rest. Prints posts, duplicates (an idempotency key posted
   twice), losses (a queued message never posted) and the outbox's final states, per
   backend (PostgreSQL skipped when 127.0.0.1:5432 does not answer).

Not a test: figures to read. Exit status 1 when a duplicate, a loss or an unanswered
question was seen.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.slack import SlackAdapter, SlackPoster, make_web_client, run_slack  # noqa: E402
from adapters.slack.settings import SlackSettings  # noqa: E402
from bot.model import ChannelRef, Incoming, PlatformLimits, Reply, UserRef  # noqa: E402
from bot.pulse.deliver import Deliverer  # noqa: E402
from bot.pulse.types import Priority, PulseHighlight  # noqa: E402
from bot.settings import Settings  # noqa: E402
from slipstream.wiring import build_app  # noqa: E402
from storage import pulse_store  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.demo import load_demo  # noqa: E402
from storage.pulse_models import POSTED  # noqa: E402
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer, phrase_claims  # noqa: E402
from tests.fakes.slack_server import (  # noqa: E402
    FakeSlack,
    event_body,
    mention_event,
    new_ts,
    signed_headers,
)
from tests.pulse.conftest import TEAMS, add_race_session  # noqa: E402

SECRET = "bench-signing-secret"
QUESTIONS = [
    "who won monza 2023?",
    "who set the fastest lap at monza 2023?",
    "how did leclerc do at monza 2023?",
    "who was on pole at monza 2023?",
    "/f1 standings drivers 2023",
    "pit stops at monza 2023",
]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
KILL_CHANNEL = "slack:T0TEST:C0PULSE"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def line(name: str, values_s: list[float]) -> str:
    if not values_s:
        return f"{name:<34} n=0"
    ms = [v * 1000 for v in values_s]
    return (f"{name:<34} n={len(ms):<4} p50={pct(ms, 50):8.1f} ms  p99={pct(ms, 99):8.1f} ms  "
            f"max={max(ms):8.1f} ms")


def rss_mib() -> float:
    """Resident set size of this process (Linux /proc)."""
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def demo_store(work: Path) -> str:
    """A SQLite store holding the bundled demo data; returns its URL."""
    url = f"sqlite:///{work / 'demo.db'}"
    engine = make_engine(url)
    try:
        init_db(engine)
        t = time.perf_counter()
        report = load_demo(engine, work_dir=work / "cache")
        assert report.ok, report
        print(f"demo data loaded in {time.perf_counter() - t:.1f} s")
    finally:
        engine.dispose()
    return url


# ---------------------------------------------------------------------- 1. load held


async def load_held(db_url: str, args: argparse.Namespace) -> bool:
    async with (
        FakeSlack() as fake,
        FakeOpenAIServer(default=Behaviour(reply_fn=phrase_claims, delay_s=args.llm_delay)) as llm,  # says the claims: accepted
    ):
        settings = Settings(database_url=db_url, llm_base_url=llm.base_url, llm_timeout_s=120,
                            rate_user_per_min=100_000, rate_channel_per_min=100_000)
        slack_settings = SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token="xoxb-bench", slack_signing_secret=SECRET, slack_host="127.0.0.1",
            slack_port=0, slack_api_base_url=fake.api_url,
        )
        app = build_app(settings)
        stop = asyncio.Event()
        started: asyncio.Future[SlackAdapter] = asyncio.get_running_loop().create_future()
        runner = asyncio.create_task(run_slack(slack_settings, app.dispatcher, stop=stop,
                                               started=started.set_result))
        adapter = await asyncio.wait_for(started, 10)
        url = f"http://127.0.0.1:{adapter.port}/slack/events"
        statuses: Counter[int] = Counter()
        acks: list[float] = []
        sends: dict[str, float] = {}

        async def post(session: aiohttp.ClientSession, body: str, retry: int | None) -> None:
            headers = signed_headers(SECRET, body, content_type="application/json", retry_num=retry)
            t = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as resp:
                await resp.read()
                statuses[resp.status] += 1
            acks.append(time.perf_counter() - t)

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            # Warm-up: one question end to end (auth.test, imports, first reads).
            warm = json.dumps(event_body(mention_event(QUESTIONS[0], user="U0WARM", channel="C0WARM")))
            await post(session, warm, None)
            await adapter.drain(60)
            fake.calls.clear()
            statuses.clear()
            acks.clear()

            bodies: list[str] = []
            for i in range(args.questions):
                ts = new_ts()
                sends[ts] = 0.0
                ev = mention_event(QUESTIONS[i % len(QUESTIONS)], user=f"U{i:07d}",
                                   channel=f"C{i % 20:07d}", ts=ts)
                bodies.append(json.dumps(event_body(ev, event_id=f"Ev{uuid.uuid4().hex[:12]}")))
            wall = time.perf_counter()
            for ts in sends:
                sends[ts] = wall
            # All at once; the retries are the same events again (Slack's redelivery).
            firsts = [post(session, b, None) for b in bodies]
            retries = [post(session, b, 1) for b in bodies[: args.retries]]
            await asyncio.wait_for(asyncio.gather(*firsts, *retries), args.time_limit)
            await adapter.drain(args.time_limit)
            await asyncio.sleep(0.5)  # a duplicate answer would land here too
            wall = time.perf_counter() - wall

        posts_by_thread: Counter[str] = Counter()
        done_at: dict[str, float] = {}
        thread_of_ts: dict[str, str] = {}
        for c in fake.posts():
            thread = c.args.get("thread_ts")
            if thread in sends:
                posts_by_thread[thread] += 1
                thread_of_ts[c.response.get("ts", "")] = thread
                done_at[thread] = max(done_at.get(thread, 0.0), c.at)
        for c in fake.calls_to("chat.update"):
            thread = thread_of_ts.get(c.args.get("ts", ""))
            if thread is not None:
                done_at[thread] = max(done_at[thread], c.at)
        stop.set()
        await asyncio.wait_for(runner, 30)
        await app.aclose()

    once = sum(1 for t in sends if posts_by_thread[t] == 1)
    twice = sum(1 for t in sends if posts_by_thread[t] > 1)
    lost = sum(1 for t in sends if posts_by_thread[t] == 0)
    print(f"\n1. load held: {args.questions} concurrent signed questions over Slack HTTP "
          f"(+{args.retries} Slack retries), fake LLM delay {args.llm_delay * 1000:.0f} ms, wall {wall:.2f} s")
    print(f"   HTTP statuses: {dict(sorted(statuses.items()))}  LLM requests: {len(llm.requests)}")
    print(f"   threads answered exactly once: {once}/{args.questions}  more than once: {twice}  "
          f"not answered: {lost}")
    print("   " + line("signed request -> ack", acks))
    print("   " + line("signed request -> answer done", [done_at[t] - s for t, s in sends.items() if t in done_at]))
    return twice == 0 and lost == 0 and set(statuses) == {200}


# ---------------------------------------------------------------------- 2. memory growth


class _Sink:
    """A responder that keeps nothing (the bot's memory is what is measured)."""

    limits = PlatformLimits(max_text=4000)

    def __init__(self) -> None:
        self.replies = 0

    async def defer(self) -> None:
        return None

    async def send(self, reply: Reply) -> str:
        self.replies += 1
        return str(self.replies)

    async def edit(self, message_id: str, reply: Reply) -> None:
        return None


async def memory_growth(db_url: str, args: argparse.Namespace) -> bool:
    app = build_app(Settings(database_url=db_url, llm_base_url=None,
                             rate_user_per_min=100_000, rate_channel_per_min=100_000))
    sink = _Sink()
    warm_up = 300
    total = warm_up + args.memory_questions
    marks: list[tuple[int, float, int]] = []
    t0 = time.perf_counter()
    try:
        for i in range(total):
            # Distinct users, channels and threads: per-user / per-thread state would show here.
            inc = Incoming(
                event_id=f"mem{i}", channel=ChannelRef("console", f"console:local:c{i % 50}"),
                user=UserRef("console", f"console:u{i}"), text=QUESTIONS[i % len(QUESTIONS)],
                kind="mention", conversation_id=f"thread-{i}" if i % 3 == 0 else None,
            )
            await app.dispatcher.handle(inc, sink)
            done = i + 1 - warm_up
            if done == 0 or (done > 0 and done % 500 == 0):
                gc.collect()
                # RSS is coarse (freed memory stays in Python's arenas); live objects are exact.
                marks.append((done, rss_mib(), len(gc.get_objects())))
    finally:
        await app.aclose()
    elapsed = time.perf_counter() - t0
    base = marks[0][1]
    growth = marks[-1][1] - base
    print(f"\n2. memory growth: {args.memory_questions} questions through the dispatcher "
          f"(after {warm_up} warm-up), {elapsed:.1f} s, {sink.replies} replies")
    print("   RSS MiB: " + "  ".join(f"{n}:{mib:.1f}" for n, mib, _ in marks))
    print("   live objects: " + "  ".join(f"{n}:{objs}" for n, _, objs in marks))
    print(f"   growth after warm-up: {growth:+.1f} MiB ({growth * 1024 / max(1, args.memory_questions):.2f} KiB/question), "
          f"{marks[-1][2] - marks[0][2]:+d} live objects")
    return sink.replies >= total


# ---------------------------------------------------------------------- 3. SIGKILLs


def _pg_url() -> str | None:
    """A fresh PostgreSQL database on 127.0.0.1, or None when the server does not answer."""
    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        name = f"bench_rel_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return f"postgresql://postgres@127.0.0.1:5432/{name}"
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        print(f"   (PostgreSQL skipped: {type(exc).__name__})")
        return None


def _drop_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _queue(engine: Any, n: int) -> None:
    sid = add_race_session(engine)
    hs = [PulseHighlight(key=f"fastest_lap:{lap}:VER", kind="fastest_lap", lap=lap,
                         priority=Priority.HIGH, drivers=("VER",), facts={"lap": lap})
          for lap in range(1, n + 1)]
    stored = pulse_store.save_highlights(engine, sid, hs, teams=TEAMS, now=time.time())
    msgs = [pulse_store.Message(KILL_CHANNEL, (h,), f"Lap {h.lap}: fastest lap for VER", 0.0)
            for h in stored]
    assert pulse_store.enqueue(engine, msgs) == n


def _key(call: Any) -> str:
    meta = call.args["metadata"]
    meta = json.loads(meta) if isinstance(meta, str) else meta
    return str(meta["event_payload"]["idempotency_key"])


async def kills(backend: str, url: str, args: argparse.Namespace, rng: random.Random) -> bool:
    engine = make_engine(url)
    init_db(engine)
    _queue(engine, args.highlights)
    killed = 0
    t0 = time.perf_counter()
    async with FakeSlack() as fake:
        channel = KILL_CHANNEL.rsplit(":", 1)[1]
        for _ in range(args.kills):
            remaining = args.highlights - len({_key(p) for p in fake.posts(channel)})
            if remaining < 40:
                break  # keep some for the final drain
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.slack.crash_child", url, fake.api_url, cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                before = len(fake.posts(channel))
                run_for = rng.randint(3, 30)  # posts to let through before the kill
                await fake.wait_for(lambda b=before, k=run_for: len(fake.posts(channel)) >= b + k,
                                    timeout_s=60)
                # Hazard: the next post is stored by Slack, its answer held: the child dies
                # knowing nothing of it, so the row stays claimed as "maybe posted".
                done, release = fake.hold_next("chat.postMessage")
                await asyncio.wait_for(done.wait(), 60)
                proc.send_signal(signal.SIGKILL)
                assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
                killed += 1
                release.set()
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        # A restarted deliverer (fresh poster, no memory) after the lease: drains the rest.
        client = make_web_client("xoxb-test-token", base_url=fake.api_url, rate_limit_retries=0)
        final = Deliverer(engine, {"slack": SlackPoster(client, min_interval_s=0.0)},
                          clock=lambda: time.time() + 30)
        for _ in range(args.highlights + 50):
            if not await final.run_once():
                break
        keys = [_key(p) for p in fake.posts(channel)]
        history_lookups = len(fake.calls_to("conversations.history"))
    counts = pulse_store.outbox_counts(engine)
    engine.dispose()
    dupes = len(keys) - len(set(keys))
    lost = args.highlights - len(set(keys))
    print(f"   {backend:<10} kills {killed}  queued {args.highlights}  posts {len(keys)}  "
          f"duplicates {dupes}  lost {lost}  outbox {counts}  history look-ups {history_lookups}  "
          f"{time.perf_counter() - t0:.1f} s")
    return dupes == 0 and lost == 0 and counts == {POSTED: args.highlights}


async def main_async(args: argparse.Namespace) -> int:
    parts = set(args.only.split(","))
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-rel-") as tmp:
        work = Path(tmp)
        db_url = demo_store(work) if parts & {"load", "memory"} else ""
        if "load" in parts:
            ok &= await asyncio.wait_for(load_held(db_url, args), args.time_limit * 3)
        if "memory" in parts:
            ok &= await asyncio.wait_for(memory_growth(db_url, args), args.time_limit * 3)
        if "kills" in parts:
            print("\n3. SIGKILLs of the deliverer (Slack poster, real Deliverer in a child process, "
                  "killed after Slack stored a post and before the child heard back)")
            rng = random.Random(args.seed)
            for backend in args.backends.split(","):
                url = f"sqlite:///{work / 'kills.db'}" if backend == "sqlite" else _pg_url()
                if url is None:
                    continue
                try:
                    ok &= await asyncio.wait_for(kills(backend, url, args, rng), args.time_limit * 3)
                finally:
                    if backend == "postgres":
                        _drop_pg(url)
    print("\nresult:", "OK (no duplicate, no loss, every question answered once)" if ok else "FAILED")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--retries", type=int, default=20, help="questions sent again as Slack retries")
    parser.add_argument("--llm-delay", type=float, default=0.3)
    parser.add_argument("--memory-questions", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--highlights", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--only", default="load,memory,kills")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per stage before giving up")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
