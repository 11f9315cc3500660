"""`slipstream discord sync [--guild ID]`: publish the `/f1` command group to Discord.

Sync is a deliberate step, not part of connecting: Discord rate-limits command
writes tightly, and `tree.sync()` in `on_ready` would re-run on every reconnect.
Guild sync is instant (use it while developing, `DISCORD_GUILD_IDS` or
`--guild`); global sync can take a while to reach every client.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from adapters.discord.settings import DiscordSettings


async def sync_commands(
    settings: DiscordSettings, guilds: list[int], *, clear_global: bool = False
) -> dict[str, list[str]]:
    """Log in over REST only (no gateway) and sync; returns {scope: [top-level command names]}."""
    import discord  # noqa: I001 (bot.commands may not be importable when linting alone)

    from adapters.discord import SlipstreamClient, configure_endpoints
    from bot.commands import register_all
    from bot.registry import Registry

    if not settings.discord_token:
        raise typer.BadParameter("DISCORD_TOKEN is not set")
    configure_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    registry = Registry()
    register_all(registry)
    client = SlipstreamClient(None, registry=registry)
    out: dict[str, list[str]] = {}
    async with client:
        await client.login(settings.discord_token)
        if guilds:
            for gid in guilds:
                guild = discord.Object(id=gid)
                client.tree.copy_global_to(guild=guild)
                synced = await client.tree.sync(guild=guild)
                out[str(gid)] = [c.name for c in synced]
            if clear_global:
                client.tree.clear_commands(guild=None)
                await client.tree.sync()
                out["global"] = []
        else:
            synced = await client.tree.sync()
            out["global"] = [c.name for c in synced]
    return out


def register(app: typer.Typer) -> None:
    discord_app = typer.Typer(help="Discord: publish slash commands.", no_args_is_help=True)

    @discord_app.command("sync")
    def sync(
        guild: Annotated[
            list[int] | None,
            typer.Option(
                "--guild",
                help="Guild id to sync to (instant). Repeatable. Default: DISCORD_GUILD_IDS, else global.",
            ),
        ] = None,
        global_: Annotated[
            bool, typer.Option("--global", help="Sync globally even if DISCORD_GUILD_IDS is set.")
        ] = False,
        clear_global: Annotated[
            bool,
            typer.Option(
                "--clear-global",
                help="After a guild sync, remove the global commands (avoids duplicates).",
            ),
        ] = False,
    ) -> None:
        """Publish the /f1 command group built from the command registry."""
        from adapters.discord.settings import DiscordSettings
        from slipstream.wiring import load_platforms

        # Checked like `run` does (a bad id is one line, status 2); an unset token is refused below.
        settings = load_platforms().discord or DiscordSettings()
        guilds = [] if global_ else (list(guild or []) or settings.guild_ids())
        result = asyncio.run(sync_commands(settings, guilds, clear_global=clear_global))
        for scope, names in result.items():
            where = "globally" if scope == "global" else f"to guild {scope}"
            typer.echo(
                f"synced {len(names)} command(s) {where}: {', '.join('/' + n for n in names) or '(none)'}"
            )

    app.add_typer(discord_app, name="discord")
