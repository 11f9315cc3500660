"""Track Pulse stories on Slack: the SlackPoster against the fake Slack Web API. A story
of three messages is one chat.postMessage, then chat.update of that ts; an edit's
refusals, rate limits and lost answers reach the deliverer like a post's."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from adapters.slack import SlackPoster
from adapters.slack.poster import PostUncertain
from bot.errors import DeliveryError, RateLimited
from bot.model import Reply
from bot.pulse.deliver import Deliverer
from storage import pulse_store
from tests.fakes.slack_server import FakeSlack
from tests.pulse.story_rows import store_laps, told

T0 = 1_800_000_000.0
CHANNEL = "slack:T0TEST:C0PULSE"


async def test_a_story_is_posted_once_then_updated_by_ts(
    fake_slack: FakeSlack, poster_client, sqlite_engine: Engine
) -> None:
    fl = store_laps(sqlite_engine, "battle", range(1, 4))
    pulse_store.enqueue(sqlite_engine, [told(CHANNEL, h, "battle:LEC:SAI") for h in fl], now=T0)
    poster = SlackPoster(poster_client, min_interval_s=0.0)
    dl = Deliverer(sqlite_engine, {"slack": poster}, clock=lambda: T0 + 1)
    posted = 0
    for _ in range(10):
        if not (n := await dl.run_once()):
            break
        posted += n
    assert posted == 3
    (post,) = fake_slack.posts("C0PULSE")
    ts = post.response["ts"]
    updates = fake_slack.updates("C0PULSE")
    assert [(u.args["ts"], u.args["text"]) for u in updates] == [
        (ts, "battle lap 2"), (ts, "battle lap 3")]
    history = fake_slack._m_conversations_history({"channel": "C0PULSE"})["messages"]
    assert [(m["ts"], m["text"]) for m in history] == [(ts, "battle lap 3")]
    assert [m for _k, m in pulse_store.posted_for_channel(sqlite_engine, CHANNEL)] == [ts] * 3


async def test_edit_errors_are_the_deliverers_errors(fake_slack: FakeSlack, poster_client) -> None:
    poster = SlackPoster(poster_client, min_interval_s=0.0, max_wait_s=1.0)
    ts = await poster.post(CHANNEL, Reply(text="lap 1"), idempotency_key="s-1")
    fake_slack.fail_next("chat.update", retry_after=30)  # longer than max_wait_s
    with pytest.raises(RateLimited):
        await poster.edit(CHANNEL, ts, Reply(text="lap 2"))
    fake_slack.fail_next("chat.update", retry_after=0.1)  # short: waited out, then edited
    assert await poster.edit(CHANNEL, ts, Reply(text="lap 2")) == ts
    fake_slack.drop_next("chat.update")  # edited, but the answer never came
    with pytest.raises(PostUncertain):
        await poster.edit(CHANNEL, ts, Reply(text="lap 3"))
    assert await poster.edit(CHANNEL, ts, Reply(text="lap 3")) == ts  # edited again: harmless
    fake_slack.fail_next("chat.update", status=200, error="message_not_found", retry_after=None)
    with pytest.raises(DeliveryError):
        await poster.edit(CHANNEL, "1.000001", Reply(text="lap 4"))
    assert [u.args["text"] for u in fake_slack.updates("C0PULSE")] == ["lap 2", "lap 3", "lap 3"]
    assert len(fake_slack.posts("C0PULSE")) == 1
