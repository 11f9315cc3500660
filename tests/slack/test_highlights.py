"""Track Pulse on Slack: Monza 2023 highlights -> outbox -> Deliverer -> SlackPoster -> channel."""

from __future__ import annotations

import asyncio
import json
import re

from bot.pulse.commentary import Commentator
from bot.pulse.deliver import Deliverer
from bot.pulse.pipeline import run_session
from storage import pulse_store

SUBSCRIBED = "slack:T0TEST:C0PULSE"


async def test_highlights_posted_to_the_subscribed_channel_once(start_slack, demo_app) -> None:
    app = await demo_app()
    engine = app.engine
    await asyncio.to_thread(pulse_store.subscribe, engine, SUBSCRIBED, min_priority="critical")
    session_id = await asyncio.to_thread(pulse_store.find_session, engine, 2023, "monza", "R")
    pulse = await run_session(engine, session_id, Commentator())
    assert pulse.messages > 0
    run = await start_slack(app.dispatcher)
    (poster,) = run.posters  # handed over by run_slack's poster_ready
    deliverer = Deliverer(engine, {"slack": poster})
    # One 429 on the way: waited out (Retry-After 1 s), not lost and not doubled.
    run.fake.fail_next("chat.postMessage", retry_after=1)
    posted = 0
    for _ in range(100):
        posted += await deliverer.run_once()
        if posted >= pulse.messages:
            break
        await asyncio.sleep(0.05)
    assert posted == pulse.messages
    posts = run.fake.posts("C0PULSE")
    assert len(posts) == pulse.messages
    assert run.fake.posts("C0GENERAL") == []  # only the subscribed channel
    assert (
        len(run.fake.calls_to("chat.postMessage", ok_only=False)) == pulse.messages + 1
    )  # the 429
    keys = [
        json.loads(p.args["metadata"])
        if isinstance(p.args["metadata"], str)
        else p.args["metadata"]
        for p in posts
    ]
    assert len({k["event_payload"]["idempotency_key"] for k in keys}) == len(posts)
    for p in posts:
        assert re.search(r"<[!@][^>]*>", p.all_text()) is None
    # Slack's pace: about one message a second per channel
    gaps = [b.at - a.at for a, b in zip(posts, posts[1:], strict=False)]
    assert all(g >= 0.95 for g in gaps), gaps
    # the outbox holds Slack's message ts; another round posts nothing
    rows = await asyncio.to_thread(pulse_store.posted_for_channel, engine, SUBSCRIBED)
    assert {mid for _, mid in rows} == {p.response["ts"] for p in posts}
    assert await deliverer.run_once() == 0
    assert len(run.fake.posts("C0PULSE")) == pulse.messages
