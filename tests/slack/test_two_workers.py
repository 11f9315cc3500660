"""Two real `slipstream run` processes on one PostgreSQL, Slack over HTTP (Events API):
the same event, its retry (`X-Slack-Retry-Num`) and the same `/f1` trigger reaching
both workers are answered exactly once (issue 14, item 1)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack_server import BOT_USER_ID, FakeSlack
from tests.service.test_run import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-workers-secret"
ANSWER_METHODS = ("chat.postMessage", "chat.postEphemeral", "response_url")

pytestmark = pytest.mark.postgres


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a worker and read its log until "ready" (blocking: run it in a thread)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from slipstream.cli import main; main()", "run"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        lines.append(line)
        if "slipstream: ready" in line or time.monotonic() > deadline:
            break
    return proc, lines


def _signed(body: bytes, content_type: str, retry: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={sig}"}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


def _answers(fake: FakeSlack, channel: str, *, hooks: bool = False) -> list[str]:
    """Answer calls in `channel` (with `hooks`: plus response_url posts, the command's only)."""
    return [
        f"{method}:{call.args.get('channel')}"
        for method in ANSWER_METHODS
        for call in fake.calls_to(method)
        if call.args.get("channel") == channel or (hooks and method == "response_url")
    ]


async def test_two_workers_answer_an_event_its_retry_and_a_trigger_once(pg_url: str, tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "LLM_"))}
        env.update(DATABASE_URL=pg_url, SLACK_BOT_TOKEN="xoxb-two", SLACK_SIGNING_SECRET=SECRET,
                   SLACK_API_BASE_URL=fake.api_url, SLACK_HOST="127.0.0.1",
                   FASTF1_CACHE_DIR=str(tmp_path / "ff1"), LOG_LEVEL="INFO", METRICS_HOST="127.0.0.1")
        ports = [free_port(), free_port()]
        procs: list[subprocess.Popen[str]] = []
        try:
            for port in ports:
                proc, lines = await asyncio.to_thread(
                    _start, {**env, "SLACK_PORT": str(port), "METRICS_PORT": str(free_port())})
                procs.append(proc)
                assert "slipstream: ready" in lines[-1], "".join(lines)
            urls = [f"http://127.0.0.1:{p}/slack/events" for p in ports]

            event = json.dumps({
                "token": "t", "team_id": fake.team_id, "api_app_id": "A1", "type": "event_callback",
                "event_id": "Ev0TWOWORKERS", "event_time": int(time.time()),
                "authorizations": [{"team_id": fake.team_id, "user_id": BOT_USER_ID, "is_bot": True}],
                "event": {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER_ID}> help",
                          "ts": "1700000000.000100", "channel": "C1", "event_ts": "1700000000.000100"},
            }).encode()
            command = urllib.parse.urlencode({
                "token": "t", "team_id": fake.team_id, "channel_id": "C2", "user_id": "U2",
                "command": "/f1", "text": "help", "trigger_id": "13345224609.738474920.8088930838d88f008e0",
                "response_url": fake.response_url,
            }).encode()
            async with aiohttp.ClientSession() as http:
                async def post(url: str, body: bytes, ctype: str, retry: int | None = None) -> int:
                    async with http.post(url, data=body, headers=_signed(body, ctype, retry)) as resp:
                        return resp.status

                # The delivery to one worker and Slack's retries to both, all at once.
                statuses = await asyncio.gather(
                    post(urls[0], event, "application/json"),
                    post(urls[1], event, "application/json", retry=1),
                    post(urls[0], event, "application/json", retry=2),
                    post(urls[1], command, "application/x-www-form-urlencoded"),
                    post(urls[0], command, "application/x-www-form-urlencoded"),
                )
                assert statuses == [200] * 5
                # Wait for the answers, then long enough for any duplicate to show up too.
                await fake.wait_for(lambda: _answers(fake, "C1") and _answers(fake, "C2", hooks=True), timeout_s=30)
                await asyncio.sleep(3)
        finally:
            errs = []
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    _, err = await asyncio.to_thread(proc.communicate, timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    _, err = proc.communicate()
                errs.append(err)
        logs = "".join(errs)
        assert "Traceback" not in logs, logs
        event_answers = _answers(fake, "C1")
        command_answers = _answers(fake, "C2", hooks=True)
        print("answers:", event_answers, command_answers)
        assert len(event_answers) == 1, (event_answers, logs)
        assert len(command_answers) == 1, (command_answers, logs)
        # The other worker saw the event and the trigger and stood down (claim lost in the store).
        assert logs.count("already claimed by another worker") == 2, logs
