"""Discord adapter under load: 200 questions in flight at once.

The real bot (`build_app` on the bundled demo data, real discord.py client,
LLM path on) answers N concurrent questions, half `/f1 ask` slash commands and
half @mentions, sent back-to-back over the gateway. The fake Discord and the
fake OpenAI server (fixed delay before the first token) run on their OWN
thread and event loop, so they neither slow the bot's loop nor hide its stalls.

Printed figures (perf_counter, one clock for both threads):
- gateway event sent -> first reply request at the fake: the interaction
  callback (defer) for slash commands, the reply message for mentions;
- event -> first answer content (edit of the deferred original / reply POST);
- the bot loop's worst stall: the longest single loop step (a blocking call)
  and the worst lateness of a 5 ms ticker (queueing when the loop is saturated).

Usage: python bench/bench_discord.py [--n 200] [--llm-delay 0.5] [--llm-concurrency 200] [--max-handlers 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.discord import run_discord  # noqa: E402
from adapters.discord.settings import DiscordSettings  # noqa: E402
from bot.settings import Settings  # noqa: E402
from slipstream.wiring import build_app  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.demo import load_demo  # noqa: E402
from tests.fakes.discord_server import FakeDiscord, FakeUser, snowflake  # noqa: E402
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer, phrase_claims  # noqa: E402

QUESTIONS = [
    "who won the 2023 italian grand prix?",
    "who set the fastest lap at monza 2023?",
    "how did the pit stops go at monza 2023?",
    "who was on the podium at the 2023 italian grand prix?",
]


class FakesThread:
    """Fake Discord + fake OpenAI on a private event loop in a daemon thread."""

    def __init__(self, llm_delay_s: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self.thread.start()
        self.discord: FakeDiscord = self.call(self._make_discord())
        self.llm: FakeOpenAIServer = self.call(self._make_llm(llm_delay_s))

    async def _make_discord(self) -> FakeDiscord:
        fake = FakeDiscord()
        await fake.start()
        return fake

    async def _make_llm(self, delay: float) -> FakeOpenAIServer:
        srv = FakeOpenAIServer(
            default=Behaviour(reply_fn=phrase_claims, delay_s=delay)
        )
        await srv.start()
        return srv

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def submit(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.call(self.discord.close())
        self.call(self.llm.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


class StepTimer:
    """Longest single event-loop step (one callback / task step): a true blocking stall."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_what = ""
        self._orig = asyncio.events.Handle._run

    def install(self) -> None:
        orig = self._orig
        timer = self

        def _run(handle: asyncio.events.Handle) -> None:
            t0 = time.perf_counter()
            orig(handle)
            dt = time.perf_counter() - t0
            if dt > timer.worst and threading.current_thread() is threading.main_thread():
                timer.worst = dt
                timer.worst_what = repr(handle)[:160]

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]

    def uninstall(self) -> None:
        asyncio.events.Handle._run = self._orig  # type: ignore[method-assign]


async def stall_monitor(stop: asyncio.Event, out: list[float], tick: float = 0.005) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(tick)
        out.append(time.perf_counter() - t0 - tick)


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-discord-"))
    db_url = f"sqlite:///{work / 'demo.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    t0 = time.perf_counter()
    load_demo(engine, work_dir=work)
    engine.dispose()
    print(f"demo data loaded in {time.perf_counter() - t0:.1f}s")

    fakes = FakesThread(args.llm_delay)
    fake = fakes.discord
    discord_settings = DiscordSettings(
        discord_token=fake.token, discord_api_base=fake.api_base, discord_gateway_url=fake.gateway_url,
    )
    settings = Settings(
        database_url=db_url,
        llm_base_url=fakes.llm.base_url,
        llm_max_concurrency=args.llm_concurrency,
        llm_timeout_s=60,
        rate_user_per_min=1_000_000,
        rate_channel_per_min=1_000_000,
    )
    app = build_app(settings)
    stop = asyncio.Event()
    client_task = asyncio.create_task(
        run_discord(discord_settings, app.dispatcher, stop=stop, max_concurrent_handlers=args.max_handlers)
    )
    while not fake.connected.is_set() or fake.identify_count == 0:
        if client_task.done():
            client_task.result()
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # guild cache filled

    # Build the events: users differ so nothing is throttled or deduplicated.
    events: list[tuple[str, dict[str, Any]]] = []
    for i in range(args.n):
        user = FakeUser(snowflake(), f"fan{i}")
        q = QUESTIONS[i % len(QUESTIONS)]
        if i % 2 == 0:
            events.append(("slash", fake.interaction("ask", {"question": q}, user=user)))
        else:
            events.append(("mention", fake.message(q, mention_bot=True, author=user)))

    stall_stop = asyncio.Event()
    stalls: list[float] = []
    monitor = asyncio.create_task(stall_monitor(stall_stop, stalls))
    steps = StepTimer()
    steps.install()
    n_requests_before = len(fake.requests)

    async def send_all() -> None:
        for kind, payload in events:
            if kind == "slash":
                await fake.send_interaction(payload)
            else:
                await fake.send_message(payload)

    t_send = time.perf_counter()
    fakes.call(send_all())
    send_s = time.perf_counter() - t_send

    def answered() -> int:
        reqs = fake.requests[n_requests_before:]
        tokens = {
            r.path.split("/")[3]
            for r in reqs
            if r.method == "PATCH" and r.path.endswith("@original")
        }
        refs = {
            str(r.json["message_reference"]["message_id"])
            for r in reqs
            if r.method == "POST" and r.json and r.json.get("message_reference")
        }
        return len(tokens) + len(refs)

    deadline = time.perf_counter() + args.timeout
    while answered() < args.n and time.perf_counter() < deadline:
        if client_task.done():
            client_task.result()
            raise RuntimeError("client ended")
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - t_send
    stall_stop.set()
    await monitor
    steps.uninstall()
    # Let streaming edits finish before stopping (quiet for 1.5 s).
    last = -1
    while len(fake.requests) != last:
        last = len(fake.requests)
        await asyncio.sleep(1.5)

    reqs = list(fake.requests[n_requests_before:])
    first_req: dict[str, list[float]] = {"slash": [], "mention": []}
    first_answer: dict[str, list[float]] = {"slash": [], "mention": []}
    missing = 0
    for kind, payload in events:
        sent = fake.dispatch_times[payload["id"]]
        if kind == "slash":
            cb = next(
                (
                    r
                    for r in reqs
                    if r.path.endswith("/callback") and f"/{payload['id']}/" in r.path
                ),
                None,
            )
            edit = next(
                (
                    r
                    for r in reqs
                    if r.method == "PATCH"
                    and payload["token"] in r.path
                    and (r.json or {}).get("content")
                ),
                None,
            )
        else:
            cb = edit = next(
                (
                    r
                    for r in reqs
                    if r.method == "POST"
                    and r.json
                    and str((r.json.get("message_reference") or {}).get("message_id"))
                    == payload["id"]
                ),
                None,
            )
        if cb is None or edit is None:
            missing += 1
            continue
        first_req[kind].append(cb.at - sent)
        first_answer[kind].append(edit.at - sent)

    print(
        f"\n{args.n} questions in flight ({args.n // 2} /f1 ask + {args.n - args.n // 2} mentions), "
        f"LLM fixed delay {args.llm_delay:.2f}s, llm concurrency {args.llm_concurrency}"
    )
    print(
        f"gateway send of all events: {send_s * 1000:.0f} ms; all answered after {wall:.2f}s; missing {missing}"
    )
    for kind, label in (("slash", "slash (defer)"), ("mention", "mention (reply)")):
        v = first_req[kind]
        if v:
            print(
                f"event -> first reply request, {label:16s}: p50 {pct(v, 50) * 1000:7.1f} ms  "
                f"p99 {pct(v, 99) * 1000:7.1f} ms  max {max(v) * 1000:7.1f} ms  (n={len(v)})"
            )
    for kind in ("slash", "mention"):
        v = first_answer[kind]
        if v:
            print(
                f"event -> first answer content, {kind:7s}:     p50 {pct(v, 50) * 1000:7.1f} ms  "
                f"p99 {pct(v, 99) * 1000:7.1f} ms"
            )
    allv = first_req["slash"] + first_req["mention"]
    if allv:
        print(
            f"event -> first reply request, all:           p50 {pct(allv, 50) * 1000:7.1f} ms  p99 {pct(allv, 99) * 1000:7.1f} ms"
        )
    print(f"bot event loop: longest single step {steps.worst * 1000:.1f} ms ({steps.worst_what})")
    print(
        f"bot event loop: worst tick lateness {max(stalls) * 1000:.1f} ms, p99 stall {pct(stalls, 99) * 1000:.1f} ms, "
        f"median {statistics.median(stalls) * 1000:.2f} ms over {len(stalls)} ticks"
    )
    print(f"LLM requests served: {len(fakes.llm.requests)}")

    stop.set()
    await asyncio.wait({client_task}, timeout=10)
    await app.aclose()
    fakes.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--llm-delay", type=float, default=0.5)
    ap.add_argument("--llm-concurrency", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument(
        "--max-handlers", type=int, default=32, help="questions in the core at once (adapter)"
    )
    asyncio.run(main(ap.parse_args()))
