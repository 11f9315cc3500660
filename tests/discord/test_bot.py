"""The whole bot on Discord: `build_app` on the demo data + real discord.py client + fake Discord.

Each test checks what Discord (the fake) received: the interaction callback,
edits of the original response, follow-ups, channel messages and their
`allowed_mentions`.
"""

from __future__ import annotations

import re
from typing import Any

from bot.model import Privilege, Reply
from storage.conversations import load_conversation
from tests.discord.conftest import build_demo_app, running_bot
from tests.fakes.discord_server import FakeDiscord, Recorded
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

EPHEMERAL = 64


def _callback(r: Recorded) -> bool:
    return r.method == "POST" and r.path.endswith("/callback")


def _edit_original(r: Recorded) -> bool:
    return r.method == "PATCH" and r.path.endswith("/messages/@original")


def _channel_post(channel_id: int) -> Any:
    return lambda r: r.method == "POST" and r.path == f"/channels/{channel_id}/messages"


async def test_slash_command_defers_then_edits_with_results(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction("results", {"race": "monza 2023"})
        await fake_discord.send_interaction(payload)
        defer = await bot.wait_request(_callback)
        assert defer.json["type"] == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE ("thinking…")
        assert defer.query.get("with_response") == "1"
        assert str(payload["id"]) in defer.path
        edit = await bot.wait_request(_edit_original)
        # Discord's 3 s window is met by deferring before any work; the edit comes after.
        # (How fast, under load, is bench/bench_discord.py's figure, not a test's.)
        assert fake_discord.dispatch_times[payload["id"]] <= defer.at <= edit.at
        body = edit.json
        assert "Verstappen" in body["content"]  # Monza 2023 winner, from the demo store
        assert body["allowed_mentions"] == {"parse": []}
        (embed,) = body["embeds"]
        assert "Italian Grand Prix" in embed["title"] and "VER" in embed["description"]
        assert len(embed["description"]) <= 4096
        # The deferred original now holds the answer: Discord shows it to everyone.
        original = fake_discord.messages[fake_discord.originals[payload["token"]]]
        assert not (original["flags"] or 0) & EPHEMERAL and "Verstappen" in original["content"]
    await app.aclose()


async def test_bad_input_gets_an_ephemeral_error(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction("results", {"race": "zzyzx grand prix 1066"})
        await fake_discord.send_interaction(payload)
        await bot.wait_request(_callback)
        followup = await bot.wait_request(
            lambda r: (
                r.method == "POST"
                and r.path == f"/webhooks/{fake_discord.app_id}/{payload['token']}"
            )
        )
        assert followup.json["flags"] & EPHEMERAL  # only the asker sees the error
        assert (
            0 < len(followup.json["content"]) < 400 and "Traceback" not in followup.json["content"]
        )
        # The public "thinking…" placeholder was removed rather than left hanging.
        assert fake_discord.requests_to("DELETE", r"/messages/@original$")
        assert fake_discord.originals[payload["token"]] not in fake_discord.messages
    await app.aclose()


async def test_autocomplete_offers_races_from_the_store(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction("results", {"race": "ital"}, focused="race")
        await fake_discord.send_interaction(payload)
        cb = await bot.wait_request(_callback)
        assert cb.json["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        choices = cb.json["data"]["choices"]
        assert 0 < len(choices) <= 25
        assert any("Italian" in c["name"] for c in choices), choices
        assert all(len(c["name"]) <= 100 for c in choices)
    await app.aclose()


async def test_group_has_typed_options_choices_and_autocomplete(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        assert bot.client is not None
        (group,) = [c.to_dict(bot.client.tree) for c in bot.client.tree.get_commands()]
        assert group["name"] == "f1"
        subs = {o["name"]: o for o in group["options"]}
        assert set(subs) == {c.name for c in app.registry.commands()}
        results = {o["name"]: o for o in subs["results"]["options"]}
        assert results["race"]["type"] == 3 and results["race"]["autocomplete"] is True
        assert [c["value"] for c in results["kind"]["choices"]] == ["race", "sprint", "quali"]
        schedule = {o["name"]: o for o in subs["schedule"]["options"]}
        assert schedule["season"]["type"] == 4  # integer
    await app.aclose()


async def test_mention_with_a_question_is_answered_as_a_reply(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        msg = fake_discord.message("who won the 2023 italian grand prix?", mention_bot=True)
        await fake_discord.send_message(msg)
        reply = await bot.wait_request(_channel_post(fake_discord.channel_id))
        assert "Verstappen" in reply.json["content"]
        assert reply.json["message_reference"]["message_id"] == int(msg["id"])
        assert reply.json["allowed_mentions"] == {"parse": []}  # also: the asker is not pinged
    await app.aclose()


async def test_dm_is_answered_without_a_mention(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        msg = fake_discord.message("who won the 2023 italian grand prix?", dm=True)
        await fake_discord.send_message(msg)
        reply = await bot.wait_request(_channel_post(fake_discord.dm_channel_id))
        assert "Verstappen" in reply.json["content"]
        assert reply.json["allowed_mentions"] == {"parse": []}
        # A DM is one conversation, keyed with "@me" where a guild id would be.
        key = f"discord:@me:{fake_discord.dm_channel_id}"
        await bot.wait_until(lambda: _turns(app, key))
    await app.aclose()


async def test_plain_channel_chatter_is_ignored(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        mark = bot.mark()
        await fake_discord.send_message(
            fake_discord.message("who won the 2023 italian grand prix?")
        )
        # A mention right after is answered: so the first one was seen and deliberately ignored.
        probe = fake_discord.message("who won the 2023 italian grand prix?", mention_bot=True)
        await fake_discord.send_message(probe)
        reply = await bot.wait_request(_channel_post(fake_discord.channel_id), start=mark)
        assert reply.json["message_reference"]["message_id"] == int(probe["id"])
        assert len(fake_discord.requests_to("POST", r"/channels/\d+/messages$", start=mark)) == 1
    await app.aclose()


async def test_thread_follow_up_uses_the_earlier_turn(
    fake_discord: FakeDiscord, demo_url: str, openai_server: FakeOpenAIServer
) -> None:
    openai_server.set_default(Behaviour(reply_fn=lambda body: "Here is what the data says."))
    app = build_demo_app(fake_discord, demo_url, llm_base_url=openai_server.base_url)
    thread = fake_discord.thread_id
    async with running_bot(fake_discord, app.dispatcher) as bot:
        first = fake_discord.message(
            "who won the 2023 italian grand prix?", mention_bot=True, channel_id=thread
        )
        await fake_discord.send_message(first)
        await bot.wait_until(lambda: _final_text(fake_discord, thread))
        n_llm = len(openai_server.requests)
        mark = bot.mark()
        # No race named: the follow-up must keep Monza 2023 from the first turn.
        second = fake_discord.message(
            "and who set the fastest lap?", mention_bot=True, channel_id=thread
        )
        await fake_discord.send_message(second)
        await bot.wait_request(_channel_post(thread), start=mark)
        await bot.wait_until(lambda: len(openai_server.requests) > n_llm)
        prompt = openai_server.requests[n_llm].messages
        flat = "\n".join(str(m.get("content")) for m in prompt)
        assert "who won the 2023 italian grand prix?" in flat  # the earlier turn is in the history
        assert "Italian Grand Prix" in flat or "Monza" in flat  # and its race is the context
        key = f"discord:{fake_discord.guild_id}:{thread}"  # the thread is one conversation
        history = await bot.wait_until(lambda: len(_turns(app, key)) == 2 and _turns(app, key))
        assert [q for q, _ in history] == [
            "who won the 2023 italian grand prix?",
            "and who set the fastest lap?",
        ]
    await app.aclose()


def _final_text(fake: FakeDiscord, channel_id: int) -> str:
    msgs = fake.channel_messages(channel_id)
    return msgs[-1]["content"] if msgs and "▌" not in msgs[-1]["content"] else ""


# A model text the claim guard accepts for "how was the 2023 italian grand prix won?" (its claims,
# then prose that states nothing), about 640 characters streamed over a few seconds.
LONG = ("Max Verstappen won the 2023 Italian Grand Prix for Red Bull Racing from P2 on the grid, in 1:13:41.143. "
        + " ".join(["The race turned on tyre management and clean air, and the leader controlled the pace."] * 5))


async def test_streamed_answer_is_edited_about_once_a_second(
    fake_discord: FakeDiscord, demo_url: str, openai_server: FakeOpenAIServer
) -> None:
    openai_server.set_default(Behaviour(reply=LONG, chunk_delay_s=0.04))
    app = build_demo_app(fake_discord, demo_url, llm_base_url=openai_server.base_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction(
            "ask", {"question": "how was the 2023 italian grand prix won?"}
        )
        await fake_discord.send_interaction(payload)
        # Let the stream finish: the last message stops changing.
        await bot.wait_until(lambda: _stream_done(fake_discord, payload["token"]), timeout_s=20)
        writes = [
            r
            for r in fake_discord.requests
            if payload["token"] in r.path
            and r.method in ("PATCH", "POST")
            and r.json
            and "content" in r.json
        ]
        assert all(len(r.json["content"]) <= 2000 for r in writes)
        assert all(r.json.get("allowed_mentions") == {"parse": []} for r in writes)
        edits = [r for r in writes if r.method == "PATCH"]
        assert len(edits) >= 3  # streamed by edits, not one final message
        # Throttled to about one edit a second (the first send and each final flush come at once).
        gaps = sorted(b.at - a.at for a, b in zip(edits, edits[1:], strict=False))
        assert gaps[len(gaps) // 2] >= 0.9, gaps
        span = edits[-1].at - edits[0].at
        assert len(edits) <= span / 0.9 + 2 * 3 + 1, (len(edits), span)
        texts = _final_messages(fake_discord, payload["token"])
        assert _norm(" ".join(texts)) == _norm(LONG)
    await app.aclose()


async def test_answer_outliving_the_interaction_token_continues_in_the_channel(
    fake_discord: FakeDiscord, demo_url: str, openai_server: FakeOpenAIServer
) -> None:
    """Discord refuses a token 15 minutes after the interaction (401, code 50027): an
    answer still streaming then must go on through the channel's own endpoints."""
    openai_server.set_default(Behaviour(reply=LONG, chunk_delay_s=0.04))
    app = build_demo_app(fake_discord, demo_url, llm_base_url=openai_server.base_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction("ask", {"question": "how was the 2023 italian grand prix won?"})
        token, channel = payload["token"], fake_discord.channel_id
        await fake_discord.send_interaction(payload)
        await bot.wait_request(_edit_original, timeout_s=20)  # the answer has begun
        fake_discord.expire_token(token)
        expired_at = len(fake_discord.requests)

        original = fake_discord.originals[token]
        channel_edit = re.compile(rf"^/channels/{channel}/messages/{original}$")
        await bot.wait_until(
            lambda: _norm(_channel_texts(fake_discord, original)) == _norm(LONG), timeout_s=30
        )
        after = fake_discord.requests[expired_at:]
        refused = [r for r in after if token in r.path]
        assert len(refused) == 1 and refused[0].status == 401, refused  # tried once, then remembered
        assert any(r.method == "PATCH" and channel_edit.match(r.path) for r in after)
        assert all(r.json.get("allowed_mentions") == {"parse": []} for r in after if r.json and "content" in r.json)
    await app.aclose()


def _channel_texts(fake: FakeDiscord, original: int) -> str:
    """The original response, then the bot's later messages in the channel, in order."""
    later = [m for i, m in fake.messages.items() if i > original and m.get("type") == 0]
    return " ".join(m["content"] for m in [fake.messages[original], *later] if m["content"])


async def test_thread_answered_before_a_restart_is_still_followed(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    """With Message Content on, an unmentioned message in a thread the bot answered in is a
    follow-up, also for the next process: the store's conversation memory says so."""
    fake_discord.privileged_intents = 1 << 15  # enabled in the "Developer Portal"
    thread = fake_discord.thread_id
    before = build_demo_app(fake_discord, demo_url)
    async with running_bot(fake_discord, before.dispatcher, message_content=True) as bot:
        await fake_discord.send_message(fake_discord.message(
            "who won the 2023 italian grand prix?", mention_bot=True, channel_id=thread))
        await bot.wait_until(lambda: _turns(before, f"discord:{fake_discord.guild_id}:{thread}"))
    await before.aclose()

    after = build_demo_app(fake_discord, demo_url)  # a new process on the same store
    async with running_bot(fake_discord, after.dispatcher, message_content=True) as bot:
        mark = bot.mark()
        await fake_discord.send_message(
            fake_discord.message("and who set the fastest lap?", channel_id=thread))
        reply = await bot.wait_request(_channel_post(thread), start=mark)
        assert "Piastri" in reply.json["content"] and "1:25.072" in reply.json["content"]
    await after.aclose()


def _turns(app: Any, conversation_id: str) -> list[tuple[str, str]]:
    """The conversation's remembered turns, as stored (a quick read of the test's SQLite)."""
    state = load_conversation(app.engine, conversation_id)
    return state.turns if state else []


def _messages_for(fake: FakeDiscord, token: str) -> list[dict[str, Any]]:
    ids = [fake.originals.get(token)] + [
        int(m["id"])
        for m in fake.messages.values()
        if m.get("type") == 20 and int(m["id"]) != fake.originals.get(token)
    ]
    return [fake.messages[i] for i in ids if i in fake.messages]


def _final_messages(fake: FakeDiscord, token: str) -> list[str]:
    return [m["content"] for m in _messages_for(fake, token) if m["content"]]


def _stream_done(fake: FakeDiscord, token: str) -> bool:
    texts = _final_messages(fake, token)
    return (
        len(texts) >= 1
        and not any("▌" in t for t in texts)
        and _norm(" ".join(texts)) == _norm(LONG)
    )


def _norm(text: str) -> str:
    text = re.sub(r"^-# Try:.*$", " ", text, flags=re.M)  # follow-up suggestions under the answer
    return " ".join(re.sub(r"[▌…]", " ", text).split())


async def test_model_output_with_everyone_is_not_shown_and_pings_nobody(
    fake_discord: FakeDiscord, demo_url: str, openai_server: FakeOpenAIServer
) -> None:
    # A model obeying "ping everyone": the claim guard refuses the text, the data's answer is shown,
    # and every send and edit disables pings anyway.
    openai_server.set_default(Behaviour(reply="Max Verstappen won it, @everyone and @here cheer!"))
    app = build_demo_app(fake_discord, demo_url, llm_base_url=openai_server.base_url)
    async with running_bot(fake_discord, app.dispatcher) as bot:
        msg = fake_discord.message("who won the 2023 italian grand prix?", mention_bot=True)
        await fake_discord.send_message(msg)
        await bot.wait_until(
            lambda: any(
                "1:13:41.143" in m["content"]
                for m in fake_discord.channel_messages(fake_discord.channel_id)
            )
        )
        writes = [
            r
            for r in fake_discord.requests
            if r.method in ("POST", "PATCH")
            and "/channels/" in r.path
            and r.json
            and "content" in r.json
        ]
        assert writes
        assert not any("everyone" in r.json["content"] for r in writes)  # never shown, not even streamed
        for r in writes:  # every send and every streaming edit disables all pings
            assert r.json["allowed_mentions"] == {"parse": []}, r
            assert r.json["allowed_mentions"].get("replied_user", False) is False
    await app.aclose()


async def test_moderator_only_command_refused_to_a_member(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    ran: list[str] = []
    moderator_cmds = [
        c for c in app.registry.commands(include_hidden=True) if c.privilege >= Privilege.MODERATOR
    ]
    if not moderator_cmds:  # none in the core yet: a test-only one on this app's own registry

        @app.registry.command(privilege=Privilege.MODERATOR)
        async def spoilers(ctx: Any, hours: int) -> Reply:
            """Set the spoiler delay for this channel (test-only moderator command).

            Args:
                hours: delay in hours.
            """
            ran.append(ctx.incoming.user.id)
            return Reply(text=f"Spoiler delay set to {hours} h.")

        name, args = "spoilers", {"hours": 2}
    else:
        name, args = moderator_cmds[0].name, {}
    async with running_bot(fake_discord, app.dispatcher) as bot:
        payload = fake_discord.interaction(name, args, user=fake_discord.member)
        await fake_discord.send_interaction(payload)
        denied = await bot.wait_request(
            lambda r: (
                r.method == "POST"
                and r.path == f"/webhooks/{fake_discord.app_id}/{payload['token']}"
            )
        )
        assert denied.json["flags"] & EPHEMERAL
        assert "moderator" in denied.json["content"].lower()
        assert ran == []
        if name == "spoilers":
            # A member of the configured-by-permission moderator role (Manage Server) may run it.
            mod = fake_discord.interaction(name, args, user=fake_discord.moderator)
            await fake_discord.send_interaction(mod)
            ok = await bot.wait_request(lambda r: _edit_original(r) and mod["token"] in r.path)
            assert "Spoiler delay set to 2 h." in ok.json["content"]
            assert ran == [f"discord:{fake_discord.moderator.id}"]
    await app.aclose()


async def test_reconnect_resume_mid_conversation_keeps_the_thread(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    app = build_demo_app(fake_discord, demo_url)
    thread = fake_discord.thread_id
    async with running_bot(fake_discord, app.dispatcher) as bot:
        first = fake_discord.message(
            "who won the 2023 italian grand prix?", mention_bot=True, channel_id=thread
        )
        await fake_discord.send_message(first)
        answer = await bot.wait_request(_channel_post(thread))
        assert "Verstappen" in answer.json["content"]
        mark = bot.mark()
        await fake_discord.request_reconnect()
        # Reply to the bot's answer while the gateway is down: replayed after RESUME.
        bot_msg_id = int(fake_discord.channel_messages(thread)[-1]["id"])
        follow = fake_discord.message(
            "who was on the podium?", reply_to=bot_msg_id, channel_id=thread
        )
        await fake_discord.send_message(follow)
        reply = await bot.wait_request(_channel_post(thread), start=mark)
        assert fake_discord.resume_count == 1 and fake_discord.identify_count == 1
        assert reply.json["message_reference"]["message_id"] == int(follow["id"])
        assert "Italian Grand Prix" in reply.json["content"] or "Monza" in reply.json["content"]
        key = f"discord:{fake_discord.guild_id}:{thread}"
        await bot.wait_until(lambda: len(_turns(app, key)) == 2)
    await app.aclose()
