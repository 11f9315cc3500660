"""The real Bolt app over real HTTP (signed requests) and Socket Mode, with a test registry.

The dispatcher is the core's real `Dispatcher` over a real SQLite store; the
registry here is a test-only one (a member command, a moderator command and a
command that reports how the request reached the core).
"""

from __future__ import annotations

import time

import pytest

from bot.app import BotDeps, CommandContext
from bot.dispatch import Dispatcher
from bot.model import Card, CardField, Image, Privilege, Reply
from bot.registry import Registry
from bot.settings import Settings
from storage.store import Store
from tests.fakes.slack_server import BOT_ID, BOT_USER_ID, mention_event, message_event, new_ts

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _registry() -> Registry:
    reg = Registry()

    @reg.command()
    async def ping(ctx: CommandContext) -> Reply:
        """Answer pong."""
        return Reply(text="pong")

    @reg.command()
    async def whereami(ctx: CommandContext) -> Reply:
        """Say how the request reached the core."""
        inc = ctx.incoming
        return Reply(
            text=f"kind={inc.kind} conv={inc.conversation_id} chan={inc.channel.id} user={inc.user.id}"
        )

    @reg.command(privilege=Privilege.MODERATOR)
    async def purge(ctx: CommandContext) -> Reply:
        """Clear the channel's highlight queue (moderators only)."""
        return Reply(text="purged")

    @reg.command()
    async def chart(ctx: CommandContext) -> Reply:
        """Answer with a big card set and an image."""
        cards = [
            Card(
                title=f"Stint {i}",
                description="<!here> pace " * 400,
                fields=[CardField(f"Lap {j}", "1:2{j}.456") for j in range(12)],
            )
            for i in range(8)
        ]
        return Reply(text="Pace chart", cards=cards, images=[Image("pace.png", PNG, alt="pace")])

    @reg.command()
    async def slow(ctx: CommandContext) -> Reply:
        """Take four seconds, longer than Slack waits for an ack."""
        import asyncio

        await asyncio.sleep(4)
        return Reply(text="done slowly")

    return reg


@pytest.fixture
def dispatcher(sqlite_engine) -> Dispatcher:
    settings = Settings(rate_user_per_min=1000, rate_channel_per_min=1000)
    return Dispatcher(BotDeps(settings=settings, store=Store(sqlite_engine), registry=_registry()))


async def test_command_acked_within_request_answered_after(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    sent_at = time.perf_counter()
    res = await run.command("slow")
    assert res.status == 200 and res.body == ""
    # Acked before the 4 s of work was done (Slack gives up after 3 s): the answer is not
    # posted yet. Ack latency under load is bench/bench_slack.py's figure.
    assert run.fake.posts() == []
    (post,) = await run.fake.wait_calls("chat.postMessage", timeout_s=10)
    assert post.args["text"] == "done slowly" and post.args["channel"] == "C0GENERAL"
    assert post.at - sent_at >= 4.0  # the work ran after the ack


async def test_member_refused_moderator_command_admin_allowed(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    assert (await run.command("purge", user="U0MEMBER")).status == 200
    (refusal,) = await run.fake.wait_calls("chat.postEphemeral")
    assert refusal.args["user"] == "U0MEMBER" and "needs moderator rights" in refusal.args["text"]
    assert run.fake.posts() == []
    assert (await run.command("purge", user="U0ADMIN")).status == 200  # workspace admin
    (post,) = await run.fake.wait_calls("chat.postMessage")
    assert post.args["text"] == "purged"
    # privilege came from users.info, looked up once per user
    looked_up = [c.args["user"] for c in run.fake.calls_to("users.info")]
    assert sorted(looked_up) == ["U0ADMIN", "U0MEMBER"]


async def test_mention_and_thread_follow_up_share_a_conversation(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    root = new_ts()
    assert (await run.event(mention_event("whereami", ts=root))).status == 200
    (answer,) = await run.fake.wait_calls("chat.postMessage")
    assert answer.args["thread_ts"] == root  # answered in a thread rooted at the question
    assert f"conv=slack:T0TEST:C0GENERAL:{root}" in answer.args["text"]
    assert (
        "kind=mention" in answer.args["text"]
        and "user=slack:T0TEST:U0MEMBER" in answer.args["text"]
    )

    # a plain reply in that thread (no mention) is a follow-up in the same conversation
    assert (await run.event(message_event("whereami", thread_ts=root))).status == 200
    posts = await run.fake.wait_calls("chat.postMessage", 2)
    assert posts[1].args["thread_ts"] == root
    assert "kind=thread_reply" in posts[1].args["text"] and f":{root}" in posts[1].args["text"]

    # chatter elsewhere, edits, bot messages and our own messages are ignored
    await run.event(message_event("ping"))
    await run.event(message_event("ping", thread_ts=new_ts()))  # a thread we never joined
    await run.event(
        message_event(
            "ping",
            subtype="message_changed",
            thread_ts=root,
            message={"text": "ping", "user": "U0MEMBER"},
        )
    )
    await run.event(
        message_event("ping", user=None, subtype="bot_message", bot_id="B0OTHER", thread_ts=root)
    )
    await run.event(message_event("ping", user=BOT_USER_ID, bot_id=BOT_ID, thread_ts=root))
    await run.settle()
    assert len(run.fake.posts()) == 2


async def test_dm_is_a_question(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    await run.event(message_event("whereami", channel="D0DM", channel_type="im"))
    (post,) = await run.fake.wait_calls("chat.postMessage")
    assert post.args["channel"] == "D0DM" and "thread_ts" not in post.args
    assert "kind=dm" in post.args["text"] and "conv=slack:T0TEST:D0DM" in post.args["text"]


async def test_redelivered_event_answered_once(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    ev = mention_event("ping")
    first = await run.event(ev, event_id="Ev0REDELIVER")
    again = await run.event(ev, event_id="Ev0REDELIVER", retry_num=1)
    third = await run.event(ev, event_id="Ev0REDELIVER", retry_num=2)
    assert first.status == again.status == third.status == 200  # acked, so Slack stops retrying
    await run.settle()
    assert [p.args["text"] for p in run.fake.posts()] == ["pong"]
    assert run.adapter.redeliveries_dropped == 2


@pytest.mark.parametrize("problem", ["bad_signature", "stale_timestamp"])
async def test_unverified_requests_rejected(start_slack, dispatcher, problem: str) -> None:
    run = await start_slack(dispatcher)
    if problem == "bad_signature":
        kw = {"secret": "not-the-signing-secret"}
    else:
        kw = {"timestamp": int(time.time()) - 6 * 60}  # older than Slack's 5-minute window
    res_cmd = await run.command("ping", **kw)
    res_ev = await run.event(mention_event("ping"), **kw)
    assert res_cmd.status == 401 and res_ev.status == 401
    await run.settle()
    assert [c.method for c in run.fake.calls if c.method.startswith(("chat.", "users."))] == []


async def test_socket_mode_command_and_mention(start_slack, dispatcher, fake_slack) -> None:
    run = await start_slack(dispatcher, socket_mode=True)
    assert fake_slack.calls_to("apps.connections.open")
    assert (
        fake_slack.calls_to("apps.connections.open")[0]
        .headers["Authorization"]
        .startswith("Bearer xapp-")
    )
    from urllib.parse import parse_qsl

    from tests.fakes.slack_server import event_body, slash_command_body

    cmd = dict(parse_qsl(slash_command_body("ping")))
    env = await fake_slack.send_envelope("slash_commands", cmd)
    ack = await fake_slack.wait_ack(env)
    assert ack["envelope_id"] == env
    (post,) = await fake_slack.wait_calls("chat.postMessage")
    assert post.args["text"] == "pong"

    root = new_ts()
    body = event_body(mention_event("whereami", ts=root), event_id="Ev0SOCKET")
    env2 = await fake_slack.send_envelope("events_api", body)
    await fake_slack.wait_ack(env2)
    env3 = await fake_slack.send_envelope(
        "events_api", body, retry_attempt=1, retry_reason="timeout"
    )
    await fake_slack.wait_ack(env3)
    posts = await fake_slack.wait_calls("chat.postMessage", 2)
    await run.settle()
    assert len(fake_slack.posts()) == 2  # the retried envelope was acked, not answered again
    assert posts[1].args["thread_ts"] == root and "kind=mention" in posts[1].args["text"]


async def test_cards_become_block_kit_and_images_are_uploaded(start_slack, dispatcher) -> None:
    run = await start_slack(dispatcher)
    root = new_ts()
    await run.event(mention_event("chart", ts=root))
    await run.fake.wait_calls("files.completeUploadExternal")
    posts = run.fake.posts()
    assert len(posts) >= 2  # more than 50 blocks: continued in a second message
    for post in posts:
        blocks = post.blocks()
        assert len(blocks) <= 50 and post.args["thread_ts"] == root
        assert all(
            len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b
        )
        assert "<!here>" not in post.all_text()
    headers = [b["text"]["text"] for p in posts for b in p.blocks() if b["type"] == "header"]
    assert headers == [f"Stint {i}" for i in range(8)]
    (upload_url,) = run.fake.calls_to("files.getUploadURLExternal")
    assert upload_url.args["filename"] == "pace.png" and int(upload_url.args["length"]) == len(PNG)
    assert list(run.fake.uploads.values()) == [PNG]
    (done,) = run.fake.calls_to("files.completeUploadExternal")
    assert done.args["channel_id"] == "C0GENERAL" and done.args["thread_ts"] == root
    # The external-upload flow, in order: announce, POST the bytes, complete into the thread.
    methods = [c.method for c in run.fake.calls if c.method.startswith("files.") or c.method == "upload"]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (shared,) = run.fake.shared_files()
    assert shared.data == PNG and shared.alt_txt == "pace" and shared.title == "Pace chart"
    assert (shared.channel_id, shared.thread_ts) == ("C0GENERAL", root)
    assert not run.fake.calls_to("files.upload")  # the retired single-call upload is never used


async def test_command_in_a_channel_the_bot_is_not_in_uses_response_url(
    start_slack, dispatcher
) -> None:
    run = await start_slack(dispatcher)
    run.fake.fail_next("chat.postMessage", status=200, error="not_in_channel", retry_after=None)
    await run.command("ping", channel="C0PRIVATE")
    (hook,) = await run.fake.wait_calls("response_url")
    assert hook.args["text"] == "pong" and hook.args["response_type"] == "in_channel"
    assert run.fake.posts() == []


async def test_slash_command_chart_is_uploaded_into_the_channel_with_alt_text(
    start_slack, dispatcher
) -> None:
    run = await start_slack(dispatcher)
    await run.command("chart")
    await run.fake.wait_calls("files.completeUploadExternal")
    (url_call,) = run.fake.calls_to("files.getUploadURLExternal")
    assert url_call.args["alt_txt"] == "pace"  # sent where Slack takes it: with the upload URL
    (shared,) = run.fake.shared_files()
    assert shared.channel_id == run.fake.posts()[0].args["channel"] and shared.thread_ts is None
    assert shared.data == PNG and shared.title == "Pace chart"
