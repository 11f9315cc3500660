"""Huge integers and lone surrogates over Slack get a short clear answer (issue 14, item 5).

The whole bot on the demo data behind the real Bolt app; signed requests over HTTP.
"""

from __future__ import annotations

import datetime as dt
import logging

from tests.fakes.slack_server import mention_event

NEXT_YEAR = dt.datetime.now(dt.UTC).year + 1


async def test_huge_integer_option_names_the_range(start_slack, demo_app, caplog) -> None:
    app = await demo_app()
    run = await start_slack(app.dispatcher)
    with caplog.at_level(logging.INFO):
        res = await run.command("standings drivers " + "9" * 1500)
        assert res.status == 200
        (post,) = await run.fake.wait_calls("chat.postEphemeral", timeout_s=10)
        await run.settle()
    text = post.all_text()
    assert f"must be between 1950 and {NEXT_YEAR}" in text and len(post.args["text"]) < 120
    assert "something went wrong" not in text
    assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text


async def test_lone_surrogate_in_a_mention_is_dropped(start_slack, demo_app, caplog) -> None:
    app = await demo_app()
    run = await start_slack(app.dispatcher)
    with caplog.at_level(logging.INFO):
        # json.dumps writes "\ud800" as an escape: valid JSON, a lone surrogate once parsed.
        res = await run.event(mention_event("who won monza 2023?\ud800\x00"))
        assert res.status == 200
        (post,) = await run.fake.wait_calls("chat.postMessage", timeout_s=10)
        await run.settle()
    assert "Verstappen" in post.all_text()
    assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text
