"""`slipstream discord sync`: the /f1 group is published over REST, to a guild or globally."""

from __future__ import annotations

import discord
from typer.testing import CliRunner

from adapters.discord.commands import build_group
from bot.model import Reply
from bot.registry import Registry
from slipstream.cli_discord import sync_commands
from tests.discord.conftest import discord_settings
from tests.fakes.discord_server import FakeDiscord


async def test_guild_sync_puts_one_f1_group_with_every_command(fake_discord: FakeDiscord) -> None:
    from bot.commands import register_all

    registry = Registry()
    register_all(registry)
    result = await sync_commands(discord_settings(fake_discord), [fake_discord.guild_id])
    assert result == {str(fake_discord.guild_id): ["f1"]}
    (put,) = fake_discord.requests_to("PUT", r"/commands$")
    assert (
        put.path == f"/applications/{fake_discord.app_id}/guilds/{fake_discord.guild_id}/commands"
    )
    (group,) = put.json
    assert group["name"] == "f1" and group["type"] == 1
    subs = {o["name"]: o for o in group["options"]}
    assert set(subs) == {c.name for c in registry.commands()}
    assert all(o["type"] == 1 for o in subs.values())  # each command is a subcommand
    assert all(len(o["description"]) <= 100 for o in subs.values())
    assert not fake_discord.gateway_frames  # REST only: no gateway session for a sync
    assert fake_discord.requests_to("PUT", r"/applications/\d+/commands$") == []  # nothing global


async def test_global_sync(fake_discord: FakeDiscord) -> None:
    result = await sync_commands(discord_settings(fake_discord), [])
    assert result == {"global": ["f1"]}
    (put,) = fake_discord.requests_to("PUT", r"/commands$")
    assert put.path == f"/applications/{fake_discord.app_id}/commands"


def test_cli_has_the_sync_command() -> None:
    from slipstream.cli import _register_all, app

    _register_all()
    out = CliRunner().invoke(app, ["discord", "sync", "--help"])
    assert out.exit_code == 0 and "--guild" in out.output


async def test_more_than_25_commands_overflow_into_a_nested_group() -> None:
    registry = Registry()
    for i in range(30):

        async def handler(ctx: object, season: int | None = None) -> Reply:
            """A generated command.

            Args:
                season: a season.
            """
            return Reply(text="")

        registry.command(f"cmd{i:02d}")(handler)

    async def invoke(*_: object) -> None:
        return None

    client = discord.Client(intents=discord.Intents.none())
    tree = discord.app_commands.CommandTree(client)
    group = build_group(registry, invoke, None)
    tree.add_command(group)
    data = group.to_dict(tree)
    top = [o for o in data["options"] if o["type"] == 1]
    nested = [o for o in data["options"] if o["type"] == 2]
    assert len(data["options"]) <= 25
    assert [n["name"] for n in nested] == ["more"]
    names = {o["name"] for o in top} | {o["name"] for o in nested[0]["options"]}
    assert names == {f"cmd{i:02d}" for i in range(30)}  # none lost
    await client.close()
