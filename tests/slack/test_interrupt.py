"""`bot.inflight.InFlight` in front of the real app on demo data, behind the real Bolt app.

The shutdown races that a subprocess test cannot aim at: SIGTERM while the "…" is on
its way to Slack (Slack has it, we do not know its ts yet), and while an answer is
half streamed.
"""

from __future__ import annotations

import asyncio

from bot.inflight import InFlight
from bot.messages import INTERRUPTED, SHUTTING_DOWN
from bot.streaming import CURSOR, PLACEHOLDER
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.fakes.slack_server import FakeSlack, mention_event


def _final_texts(fake: FakeSlack) -> dict[str, str]:
    shown = {str(p.response["ts"]): str(p.args.get("text", "")) for p in fake.posts()}
    for u in fake.calls_to("chat.update"):
        shown[str(u.args["ts"])] = str(u.args.get("text", ""))
    return shown


async def test_placeholder_still_on_its_way_is_marked_not_orphaned(start_slack, demo_app) -> None:
    async with FakeOpenAIServer(default=Behaviour(hang=True)) as llm:
        app = await demo_app(llm_base_url=llm.base_url)
        inflight = InFlight(app.dispatcher)
        run = await start_slack(inflight)
        done, release = run.fake.hold_next("chat.postMessage")
        await run.event(mention_event("who won monza 2023"))
        await asyncio.wait_for(done.wait(), 10)  # Slack shows "…"; its ts is not back yet
        shutting = asyncio.create_task(inflight.shutdown(0.1))
        await asyncio.sleep(0.5)  # the answer is cancelled while the post is held
        release.set()
        finished, interrupted = await asyncio.wait_for(shutting, 20)
    assert (finished, interrupted) == (0, 1)
    shown = _final_texts(run.fake)
    assert len(shown) == 1, shown
    (text,) = shown.values()
    assert text.endswith(INTERRUPTED) and PLACEHOLDER not in text


async def test_half_streamed_answer_keeps_its_text_and_says_interrupted(start_slack, demo_app) -> None:
    chunks = ["Max Verstappen won the 2023 Italian Grand Prix. "] + ["The race turned on tyre management. "] * 15
    async with FakeOpenAIServer(default=Behaviour(chunks=chunks, chunk_delay_s=0.5)) as llm:
        app = await demo_app(llm_base_url=llm.base_url)
        inflight = InFlight(app.dispatcher)
        run = await start_slack(inflight)
        await run.event(mention_event("who won monza 2023"))
        await run.fake.wait_for(
            lambda: any("Verstappen" in str(u.args.get("text")) for u in run.fake.calls_to("chat.update")),
            timeout_s=15,
        )
        finished, interrupted = await asyncio.wait_for(inflight.shutdown(0.1), 20)
        # A question arriving now is not started: the asker is told to ask again.
        await run.event(mention_event("who won monza 2023?"))
        (note,) = await run.fake.wait_calls("chat.postEphemeral", timeout_s=10)
    assert (finished, interrupted) == (0, 1)
    shown = list(_final_texts(run.fake).values())
    assert len(shown) == 1, shown
    assert shown[0].startswith("Max Verstappen won the 2023 Italian Grand Prix.")
    assert shown[0].endswith(INTERRUPTED) and CURSOR not in shown[0]
    assert note.all_text().startswith(SHUTTING_DOWN.split(" —")[0])
    assert inflight.refused == 1
