"""The discord.py client: gateway events in, the core's dispatcher, responders out.

Intents: `guilds`, `guild_messages`, `dm_messages` — none privileged. Discord
still delivers message *content* without the privileged Message Content intent
for DMs, messages that mention the bot and replies to the bot's messages
(a reply mentions the replied-to author by default), which is all a mention
bot needs. Enable `message_content=True` (and the intent in the Developer
Portal) only to follow unmentioned messages in a thread the bot answered in.

No `tree.sync()` here: syncing on every (re)connect burns a tight rate limit;
`slipstream discord sync` does it once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

import discord
import yarl
from discord import app_commands

from adapters.discord.commands import build_group
from adapters.discord.convert import ConversationIndex, channel_key, from_interaction, from_message
from adapters.discord.render import NO_MENTIONS
from adapters.discord.responder import InteractionResponder, MessageResponder
from bot.health import StateReport
from bot.model import Incoming, Reply, Responder
from bot.registry import Command, Registry

log = logging.getLogger(__name__)
INTERACTION_ACKNOWLEDGED = 40060  # Discord: "Interaction has already been acknowledged."

GENERIC_APOLOGY = (
    "Sorry, something went wrong while answering. The team has the details in the log."
)


class DispatcherLike(Protocol):
    """What the adapter needs from `bot.dispatch.Dispatcher`."""

    registry: Registry

    async def handle(self, incoming: Incoming, responder: Responder) -> None: ...

    async def autocomplete(
        self, source: str, prefix: str, limit: int = 25
    ) -> list[tuple[str, str]]: ...

    async def knows_conversation(self, conversation_id: str) -> bool: ...


def configure_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another REST base / gateway (tests, self-hosted proxies).

    Hazard: both are class attributes in discord.py, so this is process-wide;
    discord.py offers no per-client setting. Call it once, before logging in.
    """
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def default_intents(*, message_content: bool = False) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True  # guild / channel / thread / role cache (privilege from roles)
    intents.guild_messages = True  # mentions and replies in servers
    intents.dm_messages = True  # DMs
    intents.message_content = message_content  # privileged: see the module docstring
    return intents


class SlipstreamClient(discord.Client):
    """A plain `discord.Client` + `CommandTree` with one `/f1` group built from the registry."""

    def __init__(
        self,
        dispatcher: DispatcherLike | None,
        *,
        registry: Registry | None = None,
        intents: discord.Intents | None = None,
        moderator_role_ids: Iterable[int] = (),
        message_content: bool = False,
        max_ratelimit_timeout: float = 10.0,
        max_concurrent_handlers: int = 32,
        on_state: StateReport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            intents=intents or default_intents(message_content=message_content),
            allowed_mentions=NO_MENTIONS,  # default for anything sent through this client
            max_ratelimit_timeout=max_ratelimit_timeout,
            **options,
        )
        self.dispatcher = dispatcher
        self.moderator_role_ids = frozenset(moderator_role_ids)
        self.follow_unmentioned = message_content
        self.conversations = ConversationIndex()
        self._answered_threads: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_state = on_state
        self.accepting = True  # False while shutting down: messages are left to other workers / later
        # Acks (defer / typing) go out at once; the core's work is admitted a few at a
        # time, so a burst of questions cannot crowd the 3-second defers off the loop.
        self._admit = asyncio.Semaphore(max(1, max_concurrent_handlers))
        self.tree = app_commands.CommandTree(self)
        reg = (
            registry
            if registry is not None
            else (dispatcher.registry if dispatcher is not None else Registry())
        )
        self.tree.add_command(build_group(reg, self._invoke, dispatcher))
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

    # ---------------------------------------------------------------- connection state
    def report(self, up: bool, detail: str) -> None:
        """Tell the service's health board (if any) whether we can take events."""
        if self._on_state is not None:
            self._on_state(up, detail)

    async def on_ready(self) -> None:
        self.report(True, "gateway ready")

    async def on_resumed(self) -> None:
        self.report(True, "gateway resumed")

    async def on_disconnect(self) -> None:
        # discord.py reconnects by itself; until then we take no events.
        self.report(False, "gateway disconnected (reconnecting)")

    # ---------------------------------------------------------------- slash commands
    async def _invoke(
        self, interaction: discord.Interaction, cmd: Command, args: dict[str, Any]
    ) -> None:
        incoming = from_interaction(
            interaction, cmd.name, args, moderator_role_ids=self.moderator_role_ids
        )
        conversation_id = incoming.conversation_id or ""
        responder = InteractionResponder(
            interaction, on_sent=lambda mid: self.conversations.remember(mid, conversation_id)
        )
        # Defer first, before any core work: Discord drops an interaction not answered in 3 s.
        try:
            await responder.defer()
        except discord.HTTPException as exc:
            if exc.code == INTERACTION_ACKNOWLEDGED:
                # Another worker (a second gateway session) took this interaction first; it
                # answers, and its claim in the store (bot.dispatch) covers any replay.
                log.info("interaction %s: acknowledged by another worker", interaction.id)
                return
            log.exception("could not defer interaction %s", interaction.id)
            return
        await self._handle(incoming, responder)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("app command error for interaction %s: %r", interaction.id, error, exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(
                    GENERIC_APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
            else:
                await interaction.response.send_message(
                    GENERIC_APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
        except discord.HTTPException:
            log.exception("could not report the error to interaction %s", interaction.id)

    # ---------------------------------------------------------------- messages
    async def on_message(self, message: discord.Message) -> None:
        if self.user is None or self.dispatcher is None or not self.accepting:
            return
        follow: frozenset[int] = frozenset()
        if self.follow_unmentioned:
            await self._learn_thread(message)
            follow = frozenset(self._answered_threads)
        incoming = from_message(
            message,
            self.user,
            self.conversations,
            moderator_role_ids=self.moderator_role_ids,
            follow_threads=follow,
        )
        if incoming is None:
            return
        conversation_id = incoming.conversation_id or ""
        channel = message.channel

        def remember(mid: int) -> None:
            self.conversations.remember(mid, conversation_id)
            if isinstance(channel, discord.Thread):
                self._answered_threads.add(channel.id)

        responder = MessageResponder(message, on_sent=remember)
        # on_message runs inline in discord.py's dispatch; the answer may take seconds.
        task = asyncio.create_task(
            self._handle(incoming, responder), name=f"discord-msg-{message.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _learn_thread(self, message: discord.Message) -> None:
        """A thread this process has not answered in may still be ours: answered before a
        restart (the conversation memory in the store remembers it)."""
        channel = message.channel
        if not isinstance(channel, discord.Thread) or channel.id in self._answered_threads:
            return
        if message.author.bot or self.dispatcher is None:
            return
        guild_id = message.guild.id if message.guild is not None else None
        if await self.dispatcher.knows_conversation(channel_key(guild_id, channel.id)):
            self._answered_threads.add(channel.id)

    async def _ack_and_handle(self, incoming: Incoming, responder: MessageResponder) -> None:
        await responder.defer()  # typing indicator: cheap, before waiting for a core slot
        await self._handle(incoming, responder)

    async def _handle(self, incoming: Incoming, responder: Responder) -> None:
        assert self.dispatcher is not None
        try:
            async with self._admit:
                await self.dispatcher.handle(incoming, responder)
        except Exception:  # the dispatcher should catch everything; this is the last line
            log.exception("dispatcher failed on %s", incoming.event_id)
            try:
                await responder.send(Reply(text=GENERIC_APOLOGY, ephemeral=True))
            except Exception:
                log.exception("could not send the apology for %s", incoming.event_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().close()
