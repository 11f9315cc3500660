"""A deliverer process posting to the fake Slack, to be SIGKILLed by the test.

    python -m tests.slack.crash_child DB_URL SLACK_API_URL

Runs the real `Deliverer` with the real `SlackPoster` (one post at a time, 5 s
lease) until killed. The test holds the fake's answer to a `chat.postMessage`
that Slack already stored, kills this process, and so produces "posted on
Slack, not recorded in the outbox" with nothing of it left in any memory.
"""

from __future__ import annotations

import asyncio
import sys

from adapters.slack import SlackPoster, make_web_client
from bot.pulse.deliver import Deliverer
from storage.db import make_engine


async def run(url: str, api_url: str) -> None:
    client = make_web_client("xoxb-test-token", base_url=api_url, rate_limit_retries=0)
    poster = SlackPoster(client, min_interval_s=0.0)
    dl = Deliverer(make_engine(url), {"slack": poster}, lease_s=5.0, batch=1, concurrency=1)
    while True:
        if not await dl.run_once():
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2]))
