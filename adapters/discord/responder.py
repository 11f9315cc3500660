"""Responders: Discord's reply rules behind the neutral `Responder` protocol.

Interaction (slash command): the first answer must come within 3 s, so the
adapter defers at once ("thinking…"); the first `send` then edits that deferred
original response, later sends are follow-ups. The interaction token lasts 15
minutes: past ~14 the responder falls back to plain channel messages.

Message (mention, DM, reply, thread): the first `send` replies to the user's
message, later ones are plain messages in the same channel.

Every send and edit carries `allowed_mentions=none`: generated text never pings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import discord

from adapters.discord.render import NO_MENTIONS, Outgoing, render, render_one
from bot.model import PlatformLimits, Reply

log = logging.getLogger(__name__)

DISCORD_LIMITS = PlatformLimits(max_text=2000, edit_interval_s=1.0)
# The interaction token is valid for 15 minutes; leave a margin for slow requests.
TOKEN_LIFETIME_S = 14 * 60
INVALID_WEBHOOK_TOKEN = 50027  # Discord's error code for an expired / revoked interaction token

OnSent = Callable[[int], None]  # called with every message id we create (conversation index)


class InteractionResponder:
    """Replies to one application-command interaction."""

    limits = DISCORD_LIMITS

    def __init__(self, interaction: discord.Interaction, *, on_sent: OnSent | None = None) -> None:
        self._interaction = interaction
        self._on_sent = on_sent
        self._started = time.monotonic()
        self._deferred = False
        self._original_id: int | None = None  # set once the deferred original holds a real answer
        self._original_deleted = False
        self._token_rejected = False

    def _token_fresh(self) -> bool:
        return not self._token_rejected and time.monotonic() - self._started < TOKEN_LIFETIME_S

    def _rejected(self, exc: discord.HTTPException) -> bool:
        """True (and remembered) when Discord refused the token itself: switch to the channel."""
        if exc.code != INVALID_WEBHOOK_TOKEN:
            return False
        log.info("interaction %s: token no longer valid; continuing in the channel", self._interaction.id)
        self._token_rejected = True
        return True

    async def defer(self) -> None:
        if self._deferred or self._interaction.response.is_done():
            self._deferred = True
            return
        self._deferred = True
        await self._interaction.response.defer(thinking=True)

    async def send(self, reply: Reply) -> str | None:
        parts = render(reply)
        first_id: int | None = None
        for part in parts:
            mid = await self._send_one(part, ephemeral=reply.ephemeral)
            if first_id is None:
                first_id = mid
        return str(first_id) if first_id is not None else None

    async def _send_one(self, part: Outgoing, *, ephemeral: bool) -> int | None:
        if self._token_fresh():
            try:
                return await self._interaction_send(part, ephemeral=ephemeral)
            except discord.HTTPException as exc:
                if not self._rejected(exc):
                    raise
        if ephemeral:
            # Hazard: in the channel it would be public; only the asker was meant to see it.
            log.warning("interaction %s expired; ephemeral reply dropped", self._interaction.id)
            return None
        return await self._channel_send(part)

    async def _interaction_send(self, part: Outgoing, *, ephemeral: bool) -> int | None:
        interaction = self._interaction
        if not interaction.response.is_done():
            # Not deferred yet (fast answer): the interaction response itself.
            await interaction.response.send_message(
                content=part.content or None,
                embeds=part.embeds,
                files=part.discord_files(),
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
            )
            msg = await interaction.original_response() if not ephemeral else None
            mid = msg.id if msg is not None else None
            if mid is not None:
                self._original_id = mid
                self._sent(mid)
            return mid
        if self._original_id is None and not self._original_deleted:
            if ephemeral:
                # The deferral was public; an error only the asker should see
                # replaces the "thinking…" placeholder with an ephemeral follow-up.
                await interaction.delete_original_response()
                self._original_deleted = True
            else:
                msg = await interaction.edit_original_response(
                    content=part.content or None,
                    embeds=part.embeds,
                    attachments=part.discord_files(),
                    allowed_mentions=NO_MENTIONS,
                )
                self._original_id = msg.id
                self._sent(msg.id)
                return msg.id
        followup = await interaction.followup.send(
            content=part.content or discord.utils.MISSING,
            embeds=part.embeds,
            files=part.discord_files(),
            ephemeral=ephemeral,
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        self._sent(followup.id)
        return followup.id

    async def _channel_send(self, part: Outgoing) -> int | None:
        channel = self._interaction.channel
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            log.warning("interaction token expired and channel unknown; reply dropped")
            return None
        msg = await channel.send(
            content=part.content or None,
            embeds=part.embeds,
            files=part.discord_files(),
            allowed_mentions=NO_MENTIONS,
        )
        self._sent(msg.id)
        return msg.id

    async def edit(self, message_id: str, reply: Reply) -> None:
        part = render_one(reply)
        mid = int(message_id)
        interaction = self._interaction
        kwargs = dict(
            content=part.content or None, embeds=part.embeds, allowed_mentions=NO_MENTIONS
        )
        if part.files:
            kwargs["attachments"] = part.discord_files()
        if self._token_fresh():
            try:
                if mid == self._original_id:
                    await interaction.edit_original_response(**kwargs)
                else:
                    await interaction.followup.edit_message(mid, **kwargs)
                return
            except discord.HTTPException as exc:
                if not self._rejected(exc):
                    raise
        # Public interaction messages are the bot's own: the channel's Edit Message reaches them.
        channel = interaction.channel
        if isinstance(channel, discord.abc.Messageable) and hasattr(channel, "get_partial_message"):
            await channel.get_partial_message(mid).edit(**kwargs)  # type: ignore[union-attr]
        else:
            log.warning("interaction %s expired and channel unknown; edit dropped", interaction.id)

    def _sent(self, message_id: int) -> None:
        if self._on_sent is not None:
            self._on_sent(message_id)


class MessageResponder:
    """Replies to one message: a mention, a DM, a reply to the bot, a thread message."""

    limits = DISCORD_LIMITS

    def __init__(self, message: discord.Message, *, on_sent: OnSent | None = None) -> None:
        self._message = message
        self._channel = message.channel
        self._on_sent = on_sent
        self._typed = False
        self._replied = False

    async def defer(self) -> None:
        # Discord has no deadline for messages; the typing indicator says "working on it".
        if self._typed:
            return
        self._typed = True
        try:
            await self._channel.typing()  # type: ignore[union-attr]
        except discord.HTTPException as exc:
            log.debug("typing indicator failed: %s", exc)

    async def send(self, reply: Reply) -> str | None:
        first_id: int | None = None
        for part in render(reply):
            reference = None
            if not self._replied:
                reference = self._message.to_reference(fail_if_not_exists=False)
            msg = await self._channel.send(  # type: ignore[union-attr]
                content=part.content or None,
                embeds=part.embeds,
                files=part.discord_files(),
                reference=reference,  # type: ignore[arg-type]
                allowed_mentions=NO_MENTIONS,  # replied_user=False too: no ping for the asker
            )
            self._replied = True
            if self._on_sent is not None:
                self._on_sent(msg.id)
            if first_id is None:
                first_id = msg.id
        return str(first_id) if first_id is not None else None

    async def edit(self, message_id: str, reply: Reply) -> None:
        part = render_one(reply)
        kwargs = dict(
            content=part.content or None, embeds=part.embeds, allowed_mentions=NO_MENTIONS
        )
        if part.files:
            kwargs["attachments"] = part.discord_files()
        partial = self._channel.get_partial_message(int(message_id))  # type: ignore[union-attr]
        await partial.edit(**kwargs)
