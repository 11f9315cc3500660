"""The Events API endpoint refuses bad requests before Bolt parses them (adapters/slack/endpoint.py).

The real Bolt app is served on 127.0.0.1 by `run_slack`; requests are sent over
real HTTP. Each refusal must be a 400 / 401 / 413 (never a 500), leave one log
line without a traceback, and never log the body it refused.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from adapters.slack.endpoint import DEFAULT_MAX_BODY
from bot.app import BotDeps, CommandContext
from bot.dispatch import Dispatcher
from bot.model import Reply
from bot.registry import Registry
from bot.settings import Settings
from storage.store import Store
from tests.fakes.slack_server import mention_event, sign_request
from tests.slack.conftest import SIGNING_SECRET

MARKER = "SECRETBODYMARKER"  # appears in every refused body; must never appear in the log


@pytest.fixture
def dispatcher(sqlite_engine) -> Dispatcher:
    reg = Registry()

    @reg.command()
    async def ping(ctx: CommandContext) -> Reply:
        """Answer pong."""
        return Reply(text="pong")

    settings = Settings(rate_user_per_min=1000, rate_channel_per_min=1000)
    return Dispatcher(BotDeps(settings=settings, store=Store(sqlite_engine), registry=reg))


def _signed(body: str, content_type: str = "application/json", ts: str | None = None) -> dict[str, str]:
    stamp = ts or str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign_request(SIGNING_SECRET, body, stamp),
    }


def _case(name: str) -> tuple[str, dict[str, str], int]:
    """(body, headers, expected status) for one bad request."""
    now = str(int(time.time()))
    obj = json.dumps({"type": "event_callback", "note": MARKER})
    if name == "malformed_json_unsigned":
        return '{"note": "' + MARKER, {"Content-Type": "application/json"}, 401
    if name == "malformed_json_signed":
        body = '{"note": "' + MARKER
        return body, _signed(body), 400
    if name == "json_array_signed":
        body = json.dumps([MARKER])
        return body, _signed(body), 400
    if name == "json_string_signed":
        body = json.dumps(MARKER)
        return body, _signed(body), 400
    if name == "bad_form_signed":
        body = f"{MARKER}&&&===%zz"
        return body, _signed(body, "application/x-www-form-urlencoded"), 400
    if name == "bad_payload_field_signed":
        body = f"payload=%5B%22{MARKER}%22%5D"  # payload=["..."]: not an object
        return body, _signed(body, "application/x-www-form-urlencoded"), 400
    if name == "not_utf8_signed":
        return "\udcff" + MARKER, {}, 400  # built below from raw bytes
    if name == "no_signature":
        return obj, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": now}, 401
    if name == "no_timestamp":
        h = _signed(obj)
        del h["X-Slack-Request-Timestamp"]
        return obj, h, 401
    if name == "non_numeric_timestamp":
        h = _signed(obj, ts="soon")
        return obj, h, 401
    if name == "huge_timestamp":
        h = _signed(obj, ts="9" * 400)
        return obj, h, 401
    if name == "stale_timestamp":
        return obj, _signed(obj, ts=str(int(time.time()) - 6 * 60)), 401
    if name == "wrong_signature":
        h = _signed(obj)
        h["X-Slack-Signature"] = "v0=" + "0" * 64
        return obj, h, 401
    raise AssertionError(name)


CASES = [
    "malformed_json_unsigned",
    "malformed_json_signed",
    "json_array_signed",
    "json_string_signed",
    "bad_form_signed",
    "bad_payload_field_signed",
    "not_utf8_signed",
    "no_signature",
    "no_timestamp",
    "non_numeric_timestamp",
    "huge_timestamp",
    "stale_timestamp",
    "wrong_signature",
]


@pytest.mark.parametrize("case", CASES)
async def test_bad_request_refused_without_traceback(start_slack, dispatcher, caplog, case) -> None:
    run = await start_slack(dispatcher)
    body, headers, expected = _case(case)
    raw = body.encode("utf-8", "surrogateescape")
    if case == "not_utf8_signed":
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign_request(SIGNING_SECRET, raw, stamp),
        }
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        async with run.session.post(run.url, data=raw, headers=headers) as resp:
            status = await resp.text() and resp.status
        await run.settle()
    assert status == expected, (case, status)
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert MARKER not in caplog.text
    refusals = [r for r in caplog.records if r.name == "adapters.slack.endpoint"]
    assert len(refusals) == 1 and "sha256" in refusals[0].getMessage()
    assert [c.method for c in run.fake.calls if c.method.startswith("chat.")] == []


async def test_oversized_body_refused_early(start_slack, dispatcher, caplog) -> None:
    run = await start_slack(dispatcher)
    body = json.dumps({"note": MARKER, "pad": "x" * (DEFAULT_MAX_BODY + 10)})
    with caplog.at_level(logging.DEBUG):
        res = await run.post_raw(body, _signed(body))
        # Streamed without a Content-Length: refused after reading the limit, not the whole body.
        async def chunks():
            for _ in range(64):
                yield b"x" * 65536

        async with run.session.post(run.url, data=chunks(), headers=_signed("x")) as resp:
            streamed = resp.status
    assert res.status == 413 and streamed == 413
    assert "Traceback" not in caplog.text and MARKER not in caplog.text
    assert len([r for r in caplog.records if r.name == "adapters.slack.endpoint"]) == 2


async def test_ten_unsigned_large_requests_add_little_log(start_slack, dispatcher, caplog) -> None:
    """The issue's measurement: 10 unsigned 900 KB requests added 4.4 MB of log."""
    run = await start_slack(dispatcher)
    body = json.dumps({"note": MARKER, "pad": "y" * 900_000})
    with caplog.at_level(logging.DEBUG):
        for _ in range(10):
            res = await run.post_raw(body, {"Content-Type": "application/json"})
            assert res.status == 401
    assert len(caplog.text) < 10 * 300


async def test_good_requests_still_answered(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    assert (await run.command("ping")).status == 200
    assert (await run.event(mention_event("ping"))).status == 200
    await run.fake.wait_calls("chat.postMessage", 2, timeout_s=10)
    # Slack's URL check on setup is signed JSON too, and still gets its challenge back.
    body = json.dumps({"type": "url_verification", "challenge": "c0ffee", "token": "t"})
    res = await run.post_raw(body, _signed(body))
    assert res.status == 200 and "c0ffee" in res.body
