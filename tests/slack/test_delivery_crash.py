"""Slack never gets a highlight twice, even when the deliverer dies after Slack accepted
a post and before the outbox recorded it (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time

from sqlalchemy import Engine

from adapters.slack import SlackPoster, make_web_client
from adapters.slack.poster import PostUncertain
from adapters.slack.render import render
from bot.model import Card, Reply
from bot.pulse.deliver import Deliverer
from bot.pulse.types import Priority, PulseHighlight
from storage import pulse_store
from storage.pulse_models import CLAIMED, POSTED
from tests.conftest import ROOT
from tests.fakes.slack_server import FakeSlack
from tests.pulse.conftest import TEAMS, add_race_session

CHANNEL = "slack:T0TEST:C0PULSE"


def _meta_key(call) -> str:  # type: ignore[no-untyped-def]
    meta = call.args["metadata"]
    meta = json.loads(meta) if isinstance(meta, str) else meta
    return meta["event_payload"]["idempotency_key"]


def _queue(engine: Engine, n: int, channel: str = CHANNEL) -> list[pulse_store.StoredHighlight]:
    """n highlights of one session queued for `channel`, one message each."""
    sid = add_race_session(engine)
    hs = [
        PulseHighlight(key=f"fastest_lap:{lap}:VER", kind="fastest_lap", lap=lap,
                       priority=Priority.HIGH, drivers=("VER",), facts={"lap": lap})
        for lap in range(10, 10 + n)
    ]
    stored = pulse_store.save_highlights(engine, sid, hs, teams=TEAMS, now=time.time())
    msgs = [pulse_store.Message(channel, (h,), f"Lap {h.lap}: fastest lap for VER", 0.0)
            for h in stored]
    assert pulse_store.enqueue(engine, msgs) == n
    return stored


async def _drain(dl: Deliverer) -> None:
    for _ in range(100):
        if not await dl.run_once():
            return


async def test_killed_between_slack_post_and_record_posts_once_after_restart(
    engine: Engine,
) -> None:
    _queue(engine, 3)
    url = engine.url.render_as_string(hide_password=False)
    async with FakeSlack() as fake:
        fake.add_user("U0MEMBER")
        # Hold the answers to the posts; the 2nd is stored by Slack when the deliverer dies.
        done1, release1 = fake.hold_next("chat.postMessage")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.slack.crash_child", url, fake.api_url,
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(done1.wait(), 60)  # 1st post stored; let its answer go
            done2, release2 = fake.hold_next("chat.postMessage")
            release1.set()
            await asyncio.wait_for(done2.wait(), 30)  # 2nd post stored on Slack ...
            proc.send_signal(signal.SIGKILL)          # ... and the deliverer dies right now
            assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
            release2.set()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        posts = fake.posts("C0PULSE")
        assert len(posts) == 2
        counts = pulse_store.outbox_counts(engine)
        assert counts.get(POSTED) == 1 and counts.get(CLAIMED) == 1  # posted, not recorded
        # Restart: a new process (a fresh SlackPoster with no memory), after the lease.
        client = make_web_client("xoxb-test-token", base_url=fake.api_url, rate_limit_retries=0)
        restarted = Deliverer(engine, {"slack": SlackPoster(client, min_interval_s=0.0)},
                              clock=lambda: time.time() + 30)
        await _drain(restarted)
        posts = fake.posts("C0PULSE")
        keys = [_meta_key(p) for p in posts]
        assert len(posts) == 3 and len(set(keys)) == 3  # exactly one message per highlight
        assert [p.args["text"] for p in posts] == [f"Lap {lap}: fastest lap for VER"
                                                   for lap in (10, 11, 12)]
        # The claimed row was matched through history, not posted again.
        assert len(fake.calls_to("conversations.history")) == 1
        assert pulse_store.outbox_counts(engine) == {POSTED: 3}
        recorded = [mid for _, mid in pulse_store.posted_for_channel(engine, CHANNEL)]
        assert recorded == [p.response["ts"] for p in posts]


async def test_lost_answer_then_restart_checks_history_not_memory(engine: Engine) -> None:
    """Slack stored the post but the connection dropped; the process then restarts (its
    in-memory "ambiguous" set is gone). The row itself says "maybe posted"."""
    _queue(engine, 2)
    async with FakeSlack() as fake:
        client = make_web_client("xoxb-test-token", base_url=fake.api_url, rate_limit_retries=0)
        first = Deliverer(engine, {"slack": SlackPoster(client, min_interval_s=0.0)})
        fake.drop_next("chat.postMessage")
        assert await first.run_once() == 0
        assert len(fake.posts("C0PULSE")) == 1
        assert pulse_store.outbox_counts(engine).get(CLAIMED) == 1  # kept as "maybe posted"
        # Before the retry time nobody touches it; the next message waits behind it.
        assert await first.run_once() == 0 and len(fake.posts("C0PULSE")) == 1
        client2 = make_web_client("xoxb-test-token", base_url=fake.api_url, rate_limit_retries=0)
        second = Deliverer(engine, {"slack": SlackPoster(client2, min_interval_s=0.0)},
                           clock=lambda: time.time() + 60)
        await _drain(second)
        posts = fake.posts("C0PULSE")
        assert len(posts) == 2 and len({_meta_key(p) for p in posts}) == 2
        assert len(fake.calls_to("conversations.history")) == 1
        assert pulse_store.outbox_counts(engine) == {POSTED: 2}


async def test_maybe_posted_posts_only_the_missing_parts(fake_slack: FakeSlack) -> None:
    """A reply over 50 blocks is several Slack messages; the second one failed (5xx)."""
    client = make_web_client("xoxb-test-token", base_url=fake_slack.api_url, rate_limit_retries=0)
    reply = Reply(text="Standings", cards=[Card(title=f"P{i}") for i in range(60)])
    fake_slack.fail_next("chat.postMessage", status=500, error="internal_error",
                         retry_after=None, skip=1)
    try:
        await SlackPoster(client, min_interval_s=0.0).post(CHANNEL, reply, idempotency_key="big")
        raise AssertionError("the 5xx must surface")
    except PostUncertain:
        pass
    assert [_meta_key(p) for p in fake_slack.posts("C0PULSE")] == ["big"]
    fresh = SlackPoster(client, min_interval_s=0.0)  # a restarted process
    ts = await fresh.post(CHANNEL, reply, idempotency_key="big", maybe_posted=True)
    posts = fake_slack.posts("C0PULSE")
    parts = len(render(reply))
    assert parts >= 3
    assert [_meta_key(p) for p in posts] == ["big"] + [f"big#{i}" for i in range(1, parts)]
    assert ts == posts[0].response["ts"]
    # Without the hint a new key is simply posted (the look-up costs a call only when needed).
    before = len(fake_slack.calls_to("conversations.history"))
    await fresh.post(CHANNEL, Reply(text="next"), idempotency_key="next")
    assert len(fake_slack.calls_to("conversations.history")) == before
