"""Running the Discord adapter: log in, hand out the poster, keep the gateway until stopped.

`run_discord(settings, dispatcher, stop=...)` logs in, hands a `DiscordPoster`
to `poster_ready` (for the Track Pulse deliverer) and runs the gateway until
`stop` is set. Command sync is separate (`slipstream discord sync`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

import discord

from adapters.discord.client import (
    DispatcherLike,
    SlipstreamClient,
    configure_endpoints,
)
from adapters.discord.poster import DiscordPoster
from adapters.discord.settings import DiscordSettings
from bot.health import StateReport
from bot.model import ChannelPoster

log = logging.getLogger(__name__)


def guild_ids(settings: DiscordSettings) -> list[int]:
    """`DISCORD_GUILD_IDS` ("1,2, 3") as snowflakes (checked when the settings were built)."""
    return settings.guild_ids()


async def run_discord(
    settings: DiscordSettings,
    dispatcher: DispatcherLike,
    *,
    stop: asyncio.Event,
    poster_ready: Callable[[ChannelPoster], None] | None = None,
    moderator_role_ids: Iterable[int] = (),
    message_content: bool = False,
    client_ready: Callable[[SlipstreamClient], None] | None = None,
    max_concurrent_handlers: int = 32,
    on_state: StateReport | None = None,
    release: asyncio.Event | None = None,
) -> None:
    """Run the Discord client until `stop` is set; raise if the client dies.

    Args:
        settings: needs `discord_token`; `discord_api_base` / `discord_gateway_url` override endpoints.
        dispatcher: the core's dispatcher (`handle`, `autocomplete`, `registry`).
        stop: set it to log out cleanly.
        poster_ready: receives the `DiscordPoster` once logged in.
        moderator_role_ids: roles whose members count as moderators (besides Manage Server).
        message_content: request the privileged Message Content intent (follow unmentioned thread messages).
        client_ready: receives the client once logged in (tests, benchmarks).
        max_concurrent_handlers: questions the core works on at once (acks never wait for it).
        on_state: told (up, detail) when the gateway is ready, lost, or login fails.
        release: after `stop`, the connection stays open (answers in progress can still
            finish or be marked interrupted) until this is set.
    """
    if not settings.discord_token:
        raise ValueError("DISCORD_TOKEN is not set")
    configure_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    client = SlipstreamClient(
        dispatcher,
        moderator_role_ids=moderator_role_ids,
        message_content=message_content,
        max_concurrent_handlers=max_concurrent_handlers,
        on_state=on_state,
    )
    async with client:
        try:
            await client.login(settings.discord_token)
        except discord.HTTPException as exc:  # LoginFailure's cause: the refused request
            client.report(False, f"login failed: {_http_reason(exc)}")
            raise
        except discord.LoginFailure as exc:
            cause = exc.__cause__
            why = _http_reason(cause) if isinstance(cause, discord.HTTPException) else str(exc)
            client.report(False, f"login failed: {why}")
            raise
        except Exception as exc:
            client.report(False, f"login failed: {type(exc).__name__}: {exc}"[:200])
            raise
        if poster_ready is not None:
            poster_ready(DiscordPoster(client))
        if client_ready is not None:
            client_ready(client)
        connect = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
        stopper = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            done, _ = await asyncio.wait({connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if release is not None and stop.is_set() and not connect.done():
                # Stop taking events, keep the REST session for finishing/marking answers.
                client.accepting = False
                await release.wait()
            if not connect.done():
                await client.close()
                try:
                    await asyncio.wait_for(connect, timeout=10)
                except (TimeoutError, asyncio.CancelledError):
                    connect.cancel()
        if connect in done and not stop.is_set():
            # The gateway loop ended on its own: a fatal close (bad token, missing intent).
            exc = connect.exception()
            client.report(False, f"gateway closed: {type(exc).__name__}: {exc}"[:200] if exc else "gateway closed")
            if exc is not None:
                raise exc
            raise RuntimeError("the Discord gateway connection ended unexpectedly")


def _http_reason(exc: discord.HTTPException) -> str:
    """ "401 Unauthorized": the status line of a refused request, for health and logs."""
    reason = getattr(getattr(exc, "response", None), "reason", None) or exc.text or ""
    return f"{exc.status} {reason}".strip()
