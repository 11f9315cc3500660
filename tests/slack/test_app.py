"""The whole bot (wiring.build_app on the bundled demo data) behind the real Bolt app.

Signed HTTP requests in, Web API calls out to the fake Slack; the LLM, when
used, is the fake OpenAI-compatible server from tests/fakes.
"""

from __future__ import annotations

import re

from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.fakes.slack_server import mention_event, message_event, new_ts


def _section_text(call) -> str:
    return "\n".join(
        b["text"]["text"] for b in call.blocks() if b["type"] == "section" and "text" in b
    )


async def test_f1_results_command(start_slack, demo_app) -> None:
    app = await demo_app()
    run = await start_slack(app.dispatcher)
    res = await run.command("results monza 2023")
    assert res.status == 200  # acked; ack latency under load is bench/bench_slack.py's figure
    (post,) = await run.fake.wait_calls("chat.postMessage", timeout_s=10)
    text = post.all_text()
    assert post.args["channel"] == "C0GENERAL"
    assert "Verstappen" in text and "Italian Grand Prix" in text


async def test_f1_help_lists_commands(start_slack, demo_app) -> None:
    app = await demo_app()
    run = await start_slack(app.dispatcher)
    await run.command("")  # a bare /f1 is help, shown to the asker only
    (post,) = await run.fake.wait_calls("chat.postEphemeral", timeout_s=10)
    assert post.args["user"] == "U0MEMBER"
    text = post.all_text()
    for cmd in app.registry.commands():
        assert cmd.name in text


async def test_mention_question_then_thread_follow_up(start_slack, demo_app) -> None:
    app = await demo_app()
    run = await start_slack(app.dispatcher)
    root = new_ts()
    await run.event(mention_event("who won monza 2023?", ts=root))
    (answer,) = await run.fake.wait_calls("chat.postMessage", timeout_s=10)
    assert answer.args["thread_ts"] == root
    assert "Verstappen" in answer.all_text()

    # a plain thread reply (no mention) follows up on the same race
    await run.event(message_event("and who set the fastest lap?", thread_ts=root))
    posts = await run.fake.wait_calls("chat.postMessage", 2, timeout_s=10)
    assert posts[1].args["thread_ts"] == root
    assert "Piastri" in posts[1].all_text() and "Italian Grand Prix" in posts[1].all_text()

    # the same question in a new thread has no memory: the default (latest) race
    other = new_ts()
    await run.event(mention_event("who set the fastest lap?", ts=other))
    posts = await run.fake.wait_calls("chat.postMessage", 3, timeout_s=10)
    assert posts[2].args["thread_ts"] == other and "Italian Grand Prix" not in posts[2].all_text()


async def test_thread_follow_up_reaches_a_second_worker(start_slack, demo_app) -> None:
    """Two Slack workers on one database (or one worker before and after a restart): a plain
    reply in a thread the first answered is a follow-up for the second, with its subject."""
    first, second = await demo_app(), await demo_app()
    run1 = await start_slack(first.dispatcher)
    run2 = await start_slack(second.dispatcher)
    root = new_ts()
    await run1.event(mention_event("who won monza 2023?", ts=root))
    (answer,) = await run1.fake.wait_calls("chat.postMessage", timeout_s=10)
    assert "Verstappen" in answer.all_text()
    await run1.settle()

    await run2.event(message_event("and who set the fastest lap?", thread_ts=root))
    posts = await run2.fake.wait_calls("chat.postMessage", 2, timeout_s=10)
    assert posts[1].args["thread_ts"] == root
    assert "Piastri" in posts[1].all_text() and "Italian Grand Prix" in posts[1].all_text()

    # A thread nobody answered in stays ordinary chatter for both.
    await run2.event(message_event("and who set the fastest lap?", thread_ts=new_ts()))
    await run2.settle()
    assert len(run2.fake.posts()) == 2


async def test_streamed_answer(start_slack, demo_app) -> None:
    # A text the claim guard accepts (the answer's claims, then prose that states nothing),
    # streamed word by word over about 4 s.
    text = ("Max Verstappen won the 2023 Italian Grand Prix for Red Bull Racing from P2 on the grid. "
            + "The race turned on tyre management and clean air. " * 12)
    chunks = [w + " " for w in text.split()]
    async with FakeOpenAIServer(default=Behaviour(chunks=chunks, chunk_delay_s=0.04)) as llm:
        app = await demo_app(llm_base_url=llm.base_url, llm_max_tokens=4000)
        run = await start_slack(app.dispatcher)
        root = new_ts()
        await run.event(mention_event("who won monza 2023?", ts=root))
        await run.fake.wait_calls("chat.update", 2, timeout_s=15)
        await run.fake.wait_for(lambda: "▌" not in str(run.fake.calls_to("chat.update")[-1].args.get("text")),
                                timeout_s=15)
        await run.settle()
    posts = run.fake.posts()
    updates = run.fake.calls_to("chat.update")
    assert all(p.args["thread_ts"] == root for p in posts)
    # edits paced by the streaming interval (1 s), not one per token
    assert len(updates) < len(chunks) / 5
    # what each message finally shows (its last edit), in order
    final = {p.response["ts"]: p for p in posts}
    for u in updates:
        final[u.args["ts"]] = u
    for call in final.values():
        assert len(call.args["text"]) <= 3900
        assert all(len(b["text"]["text"]) <= 3000 for b in call.blocks() if b["type"] == "section")
    shown = " ".join(_section_text(final[p.response["ts"]]) for p in posts)
    squashed = re.sub(r"\s+", "", shown)  # message / section breaks may fall inside a sentence
    assert squashed.startswith("MaxVerstappenwonthe2023ItalianGrandPrix")
    assert squashed.count("Theraceturnedontyremanagementandcleanair.") == 12
    assert "▌" not in shown  # the streaming cursor is gone at the end


async def test_model_output_channel_ping_is_inert(start_slack, demo_app) -> None:
    reply = "<!channel> <!here> <@U0ADMIN> Verstappen won the Italian Grand Prix."
    async with FakeOpenAIServer(default=Behaviour(reply=reply)) as llm:
        app = await demo_app(llm_base_url=llm.base_url)
        run = await start_slack(app.dispatcher)
        await run.event(mention_event("who won monza 2023?"))
        await run.fake.wait_calls("chat.postMessage", timeout_s=10)
        await run.settle()
        assert llm.requests, "the model was asked"
    sent = [
        c
        for c in run.fake.calls
        if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
    ]
    assert sent
    for call in sent:
        assert re.search(r"<[!@][^>]*>", call.all_text()) is None, call.all_text()
        assert call.args.get("parse") == "none" and call.args.get("link_names") in (
            False,
            "false",
            "0",
        )
    final = sent[-1].all_text()
    # The claim guard refuses the pinging text; the data's answer is shown.
    assert "channel" not in final and "here" not in final and "Verstappen (VER)* won" in final


async def test_real_moderator_command_refused_to_member(start_slack, demo_app) -> None:
    from bot.model import Privilege

    app = await demo_app()
    mod_cmds = [
        c for c in app.registry.commands(include_hidden=True) if c.privilege >= Privilege.MODERATOR
    ]
    assert mod_cmds, "the registry has moderator commands"
    cmd = mod_cmds[0]
    run = await start_slack(app.dispatcher)
    await run.command(cmd.name, user="U0MEMBER")
    (refusal,) = await run.fake.wait_calls("chat.postEphemeral", timeout_s=10)
    assert refusal.args["user"] == "U0MEMBER"
    assert "moderator" in refusal.args["text"].lower() or "rights" in refusal.args["text"].lower()
    await run.settle()
    assert run.fake.posts() == []
