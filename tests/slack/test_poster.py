"""SlackPoster against the fake Slack Web API: pacing, 429s, never posting twice."""

from __future__ import annotations

import json
import time

import pytest

from adapters.slack import SlackPoster
from adapters.slack.poster import PostUncertain
from bot.errors import DeliveryError, RateLimited
from bot.model import Card, CardField, Reply
from tests.fakes.slack_server import FakeSlack

HIGHLIGHT = Reply(
    text="**Lead change!** Leclerc passes Verstappen into Turn 1 <!channel>",
    cards=[Card(title="Lap 14", fields=[CardField("Gap", "0.4 s")])],
)


def _metadata_key(call) -> str:
    meta = call.args["metadata"]
    meta = json.loads(meta) if isinstance(meta, str) else meta
    return meta["event_payload"]["idempotency_key"]


async def test_highlight_posted_once_per_key(fake_slack: FakeSlack, poster_client) -> None:
    poster = SlackPoster(poster_client)
    ts = await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-1:C0PULSE")
    again = await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-1:C0PULSE")
    assert again == ts
    (call,) = fake_slack.posts("C0PULSE")
    assert call.response["ts"] == ts
    assert _metadata_key(call) == "hl-1:C0PULSE"
    assert "<!channel>" not in call.all_text() and "&lt;!channel&gt;" in call.args["text"]
    assert any(b["type"] == "header" and b["text"]["text"] == "Lap 14" for b in call.blocks())


async def test_paced_to_one_message_per_second_per_channel(
    fake_slack: FakeSlack, poster_client
) -> None:
    poster = SlackPoster(poster_client, min_interval_s=1.0)
    for i in range(3):
        await poster.post("slack:T0TEST:C0PULSE", Reply(text=f"h{i}"), idempotency_key=f"k{i}")
    posts = fake_slack.posts("C0PULSE")
    assert [p.args["text"] for p in posts] == ["h0", "h1", "h2"]
    gaps = [b.at - a.at for a, b in zip(posts, posts[1:], strict=False)]
    assert all(0.95 <= g < 10 for g in gaps), gaps  # paced, not stalled (bounds far apart)

    # Another channel is not held back by this one's pacing. With a 60 s interval the
    # bound below is far from both outcomes: at once if per channel, 60 s if shared.
    slow = SlackPoster(poster_client, min_interval_s=60.0)
    await slow.post("slack:T0TEST:C0PULSE", Reply(text="h3"), idempotency_key="k3")
    start = time.perf_counter()
    await slow.post("slack:T0TEST:C0OTHER", Reply(text="other"), idempotency_key="k-other")
    assert time.perf_counter() - start < 20
    assert [p.args["text"] for p in fake_slack.posts("C0OTHER")] == ["other"]


async def test_429_with_short_retry_after_is_waited_out(
    fake_slack: FakeSlack, poster_client
) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=1)
    poster = SlackPoster(poster_client)
    start = time.perf_counter()
    ts = await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-429")
    elapsed = time.perf_counter() - start
    refused, ok = fake_slack.calls_to("chat.postMessage", ok_only=False)
    assert refused.status == 429 and ok.status == 200
    assert ok.at - refused.at >= 1.0  # honoured Retry-After
    assert ts == ok.response["ts"] and elapsed >= 1.0
    assert len(fake_slack.posts("C0PULSE")) == 1


async def test_429_with_long_retry_after_becomes_rate_limited(
    fake_slack: FakeSlack, poster_client
) -> None:
    fake_slack.fail_next("chat.postMessage", retry_after=30)
    poster = SlackPoster(poster_client)
    with pytest.raises(RateLimited) as info:
        await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-slow")
    assert info.value.retry_after == 30
    assert fake_slack.posts("C0PULSE") == []
    # the deliverer retries later; it posts exactly once
    await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-slow")
    assert len(fake_slack.posts("C0PULSE")) == 1


async def test_dropped_connection_does_not_post_twice(fake_slack: FakeSlack, poster_client) -> None:
    fake_slack.drop_next("chat.postMessage")  # Slack posts it, but the answer is lost
    poster = SlackPoster(poster_client)
    with pytest.raises(PostUncertain):  # not RateLimited: that would mean "not posted"
        await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-drop")
    assert len(fake_slack.posts("C0PULSE")) == 1
    ts = await poster.post("slack:T0TEST:C0PULSE", HIGHLIGHT, idempotency_key="hl-drop")
    assert len(fake_slack.posts("C0PULSE")) == 1  # found in history, not posted again
    assert ts == fake_slack.posts("C0PULSE")[0].response["ts"]
    assert fake_slack.calls_to("conversations.history")


async def test_permanent_errors_raise_delivery_error(fake_slack: FakeSlack, poster_client) -> None:
    fake_slack.fail_next(
        "chat.postMessage", status=200, error="channel_not_found", retry_after=None
    )
    poster = SlackPoster(poster_client)
    with pytest.raises(DeliveryError):
        await poster.post("slack:T0TEST:C0GONE", HIGHLIGHT, idempotency_key="hl-gone")
    with pytest.raises(DeliveryError):
        await poster.post("discord:1:2", HIGHLIGHT, idempotency_key="wrong-platform")
