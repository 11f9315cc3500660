"""Slack adapter latency under load: signed request -> ack, -> first chat.postMessage, -> answer done.

The whole bot (wiring.build_app on the bundled demo data) runs behind the real
slack-bolt app in HTTP mode; N signed `app_mention` questions are sent at once
(all in flight together); Web API calls go to the fake Slack on 127.0.0.1 and
the LLM is the fake OpenAI-compatible server answering after a fixed delay.

    python bench/bench_slack.py [--questions 200] [--llm-delay 0.5] [--llm-concurrency 16] [--handlers 128]

Prints p50 / p99 / max for each stage. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack import SlackAdapter, run_slack  # noqa: E402
from adapters.slack.settings import SlackSettings  # noqa: E402
from bot.settings import Settings  # noqa: E402
from slipstream.wiring import build_app  # noqa: E402
from storage.db import init_db, make_engine  # noqa: E402
from storage.demo import load_demo  # noqa: E402
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer, phrase_claims  # noqa: E402
from tests.fakes.slack_server import FakeSlack, event_body, mention_event, new_ts, signed_headers  # noqa: E402

SECRET = "bench-signing-secret"
QUESTIONS = [
    "who won monza 2023?",
    "who set the fastest lap at monza 2023?",
    "how did leclerc do at monza 2023?",
    "who was on pole at monza 2023?",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def line(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (
        f"{name:<34} n={len(ms):<4} p50={pct(ms, 50):8.1f} ms  p99={pct(ms, 99):8.1f} ms  "
        f"max={max(ms):8.1f} ms  mean={statistics.fmean(ms):8.1f} ms"
    )


async def bench(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    db_url = f"sqlite:///{work / 'demo.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    t = time.perf_counter()
    load_demo(engine, work_dir=work / "cache")
    engine.dispose()
    print(f"demo data loaded in {time.perf_counter() - t:.1f} s")

    async with (
        FakeSlack(latency_s=args.slack_latency) as fake,
        FakeOpenAIServer(default=Behaviour(reply_fn=phrase_claims, delay_s=args.llm_delay)) as llm,  # says the claims: accepted
    ):
        settings = Settings(
            database_url=db_url,
            llm_base_url=llm.base_url,
            llm_max_concurrency=args.llm_concurrency,
            llm_timeout_s=120,
            rate_user_per_min=100_000,
            rate_channel_per_min=100_000,
        )
        slack_settings = SlackSettings(
            slack_bot_token="xoxb-bench", slack_signing_secret=SECRET, slack_host="127.0.0.1",
            slack_port=0, slack_api_base_url=fake.api_url,
        )
        app = build_app(settings)
        stop = asyncio.Event()
        started: asyncio.Future[SlackAdapter] = asyncio.get_running_loop().create_future()
        runner = asyncio.create_task(
            run_slack(
                slack_settings,
                app.dispatcher,
                stop=stop,
                started=started.set_result,
                max_concurrent_handlers=args.handlers,
            )
        )
        adapter = await asyncio.wait_for(started, 10)
        url = f"http://127.0.0.1:{adapter.port}/slack/events"

        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            # warm-up: one question end to end (auth.test, imports, first DB reads)
            await _ask(session, url, "who won monza 2023?", "U0WARM", "C0WARM")
            await adapter.drain(60)
            fake.calls.clear()

            sends: dict[str, float] = {}
            acks: list[float] = []
            statuses: list[int] = []

            async def one(i: int) -> None:
                ts = new_ts()
                body = json.dumps(
                    event_body(
                        mention_event(
                            QUESTIONS[i % len(QUESTIONS)],
                            user=f"U{i:07d}",
                            channel=f"C{i % 20:07d}",
                            ts=ts,
                        )
                    )
                )
                headers = signed_headers(SECRET, body, content_type="application/json")
                start = time.perf_counter()
                sends[ts] = start
                async with session.post(url, data=body.encode(), headers=headers) as resp:
                    await resp.read()
                    statuses.append(resp.status)
                acks.append(time.perf_counter() - start)

            wall = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(args.questions)))
            await adapter.drain(600)
            wall = time.perf_counter() - wall

        first_post: list[float] = []
        done: list[float] = []
        by_thread: dict[str, list[float]] = {}
        for c in fake.calls:
            if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
                thread = c.args.get("thread_ts")
                if c.method == "chat.update":
                    thread = next(
                        (
                            p.args.get("thread_ts")
                            for p in fake.posts()
                            if p.response.get("ts") == c.args.get("ts")
                        ),
                        None,
                    )
                if thread in sends:
                    by_thread.setdefault(thread, []).append(c.at)
        for thread, start in sends.items():
            posts = [c.at for c in fake.posts() if c.args.get("thread_ts") == thread]
            if posts:
                first_post.append(min(posts) - start)
            if thread in by_thread:
                done.append(max(by_thread[thread]) - start)

        stop.set()
        await runner
        await app.aclose()

    print(
        f"\n{args.questions} concurrent signed app_mention questions, HTTP mode, "
        f"LLM fixed delay {args.llm_delay * 1000:.0f} ms, LLM concurrency {args.llm_concurrency}, "
        f"handlers {args.handlers}, "
        f"fake Slack latency {args.slack_latency * 1000:.0f} ms"
    )
    print(
        f"HTTP statuses: {sorted(set(statuses))}  answered threads: {len(first_post)}/{args.questions}  "
        f"LLM requests: {len(llm.requests)}  wall: {wall:.2f} s"
    )
    print(line("signed request -> ack (HTTP 200)", acks))
    print(line("signed request -> first postMessage", first_post))
    print(line("signed request -> last post/edit", done))


async def _ask(
    session: aiohttp.ClientSession, url: str, text: str, user: str, channel: str
) -> None:
    body = json.dumps(event_body(mention_event(text, user=user, channel=channel)))
    async with session.post(
        url,
        data=body.encode(),
        headers=signed_headers(SECRET, body, content_type="application/json"),
    ) as r:
        await r.read()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument(
        "--llm-delay", type=float, default=0.5, help="seconds before the fake LLM answers"
    )
    parser.add_argument("--llm-concurrency", type=int, default=16, help="LLM_MAX_CONCURRENCY")
    parser.add_argument("--handlers", type=int, default=128, help="adapter max_concurrent_handlers")
    parser.add_argument(
        "--slack-latency", type=float, default=0.0, help="seconds added to every fake Web API call"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
