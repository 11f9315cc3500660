"""Gateway behaviour: RECONNECT -> RESUME replays missed events; a dead client fails fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.model import Reply
from bot.registry import Registry
from tests.discord.conftest import make_dispatcher, running_bot
from tests.fakes.discord_server import FakeDiscord


def _echo_registry() -> Registry:
    reg = Registry()

    @reg.command()
    async def echo(ctx: object, words: str) -> Reply:
        """Repeat the words back (test-only command).

        Args:
            words: what to repeat.
        """
        return Reply(text=f"echo: {words}")

    return reg


async def test_reconnect_resumes_and_replays_missed_events(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    async with running_bot(fake_discord, make_dispatcher(tmp_path, _echo_registry())) as bot:
        first = fake_discord.message("/f1 echo one", mention_bot=True)
        await fake_discord.send_message(first)
        await bot.wait_request(
            lambda r: r.method == "POST" and (r.json or {}).get("content") == "echo: one"
        )

        await fake_discord.request_reconnect()
        # Sent while the client is reconnecting: Discord queues it and replays it after RESUME.
        second = fake_discord.message("/f1 echo two", mention_bot=True)
        await fake_discord.send_message(second)
        reply = await bot.wait_request(
            lambda r: r.method == "POST" and (r.json or {}).get("content") == "echo: two"
        )
        assert reply.json["message_reference"]["message_id"] == int(second["id"])
        assert fake_discord.identify_count == 1  # resumed, not re-identified
        assert fake_discord.resume_count == 1
        resume = next(f for f in fake_discord.gateway_frames if f["op"] == 6)
        assert resume["d"]["seq"] >= 2  # READY + GUILD_CREATE at least
        # Exactly one answer each: the replay did not double-dispatch.
        answers = [r for r in fake_discord.requests_to("POST", r"/channels/\d+/messages$")]
        assert sorted(r.json["content"] for r in answers) == ["echo: one", "echo: two"]


async def test_intents_are_the_least_needed(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    import discord

    async with running_bot(fake_discord, make_dispatcher(tmp_path)) as _bot:
        identify = next(f for f in fake_discord.gateway_frames if f["op"] == 2)
        intents = discord.Intents._from_value(identify["d"]["intents"])
        assert intents.guilds and intents.guild_messages and intents.dm_messages
        assert not intents.message_content and not intents.members and not intents.presences


async def test_dead_client_fails_the_wait_instead_of_hanging(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    with pytest.raises(AssertionError, match="client task ended"):
        async with running_bot(fake_discord, make_dispatcher(tmp_path)) as bot:
            bad = fake_discord.interaction("echo", {"words": "x"})
            del bad["attachment_size_limit"]  # discord.py 2.7 raises KeyError in the gateway loop
            await fake_discord.send_interaction(bad)
            # A wait that ran into its timeout fails with "timed out ...", not the message
            # matched above: so passing proves the wait ended because the client task died.
            await bot.wait_request(lambda r: r.path.endswith("/callback"), timeout_s=30)


async def test_cards_and_images_reach_discord_as_embeds_and_files(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    from bot.model import Card, CardField, Image

    reg = Registry()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

    @reg.command()
    async def chart(ctx: object) -> Reply:
        """A card and a chart (test-only command)."""
        return Reply(
            text="Lights out at 2023-09-03T13:00:00Z",
            cards=[
                Card(
                    title="Ferrari",
                    description="SAI P3",
                    colour="E8002D",
                    fields=[CardField("Stops", "1")],
                )
            ],
            images=[Image("pace.png", png, "pace chart")],
        )

    async with running_bot(fake_discord, make_dispatcher(tmp_path, reg)) as bot:
        payload = fake_discord.interaction("chart", {})
        await fake_discord.send_interaction(payload)
        edit = await bot.wait_request(
            lambda r: r.method == "PATCH" and r.path.endswith("@original")
        )
        assert edit.files == [("pace.png", png)]  # multipart upload
        assert edit.json["embeds"][0]["color"] == 0xE8002D
        assert edit.json["embeds"][0]["image"]["url"] == "attachment://pace.png"
        assert edit.json["embeds"][0]["fields"] == [{"name": "Stops", "value": "1", "inline": True}]
        assert "<t:1693746000:R>" in edit.json["content"]  # each member sees local time
        assert edit.json["allowed_mentions"] == {"parse": []}


async def test_message_content_intent_not_enabled_fails_loudly(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    import asyncio

    import discord

    from adapters.discord import run_discord
    from tests.discord.conftest import discord_settings

    stop = asyncio.Event()
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(
            run_discord(
                discord_settings(fake_discord),
                make_dispatcher(tmp_path),
                stop=stop,
                message_content=True,
            ),
            timeout=10,
        )


async def test_message_content_intent_follows_unmentioned_thread_messages(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake_discord.privileged_intents = 1 << 15  # enabled in the "Developer Portal"
    async with running_bot(
        fake_discord, make_dispatcher(tmp_path, _echo_registry()), message_content=True
    ) as bot:
        thread = fake_discord.thread_id
        await fake_discord.send_message(
            fake_discord.message("/f1 echo one", mention_bot=True, channel_id=thread)
        )
        await bot.wait_request(
            lambda r: r.method == "POST" and (r.json or {}).get("content") == "echo: one"
        )
        # No mention, no reply: followed only because the bot answered in this thread.
        await fake_discord.send_message(fake_discord.message("/f1 echo two", channel_id=thread))
        await bot.wait_request(
            lambda r: r.method == "POST" and (r.json or {}).get("content") == "echo: two"
        )
        # In a plain channel an unmentioned message is still not for us.
        mark = bot.mark()
        await fake_discord.send_message(fake_discord.message("/f1 echo three"))
        await fake_discord.send_message(fake_discord.message("/f1 echo four", mention_bot=True))
        await bot.wait_request(
            lambda r: r.method == "POST" and (r.json or {}).get("content") == "echo: four",
            start=mark,
        )
        assert not any(
            (r.json or {}).get("content") == "echo: three" for r in fake_discord.requests[mark:]
        )
