"""`DiscordPoster`: Track Pulse highlights and reminders posted to channels.

Idempotent: the message nonce comes from the deliverer's idempotency key and is
sent with `enforce_nonce`, so if a post reached Discord but the answer was lost
(timeout, 5xx) the retried request returns the first message instead of
posting a second one. Short 429s are waited out inside discord.py (it honours
`retry_after`); a wait longer than the client's `max_ratelimit_timeout` is
raised as `bot.errors.RateLimited` so the deliverer can reschedule the row
instead of holding a worker.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord

from adapters.discord.convert import parse_channel_key
from adapters.discord.render import NO_MENTIONS, render, render_one
from bot.errors import DeliveryError, RateLimited
from bot.model import Reply

log = logging.getLogger(__name__)

MAX_NONCE = 25  # Discord: a nonce is an integer or a string of at most 25 characters
TRANSIENT_RETRY_S = 5.0


def nonce_for(idempotency_key: str, part: int = 0) -> str:
    """A stable <=25-char nonce for (key, message part)."""
    digest = hashlib.sha256(f"{idempotency_key}#{part}".encode()).hexdigest()
    return digest[:MAX_NONCE]


class DiscordPoster:
    """ChannelPoster for `discord:<guild>:<channel>` ids, over a logged-in discord.py client."""

    platform = "discord"
    # Reminders carry `Reply.local_times`: `render` shows them as `<t:…>` timestamps.
    renders_local_times = True

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(
        self, channel_id: str, reply: Reply, *, idempotency_key: str, maybe_posted: bool = False
    ) -> str:
        """Post `reply`; the nonce makes a retry return the first message.

        `maybe_posted` needs no look-up here: the nonce (kept by Discord for a few
        minutes, longer than the deliverer's lease) de-duplicates the retry itself.
        """
        try:
            channel_snowflake = parse_channel_key(channel_id)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        channel = self._client.get_partial_messageable(channel_snowflake)
        first: str | None = None
        for i, part in enumerate(render(reply)):
            with _errors(channel_id, "post to"):
                msg = await channel.send(
                    content=part.content or None,
                    embeds=part.embeds,
                    files=part.discord_files(),
                    nonce=nonce_for(idempotency_key, i),  # discord.py adds enforce_nonce=true
                    allowed_mentions=NO_MENTIONS,
                )
            if first is None:
                first = str(msg.id)
        assert first is not None  # render() always yields at least one message
        return first

    async def edit(self, channel_id: str, message_id: str, reply: Reply) -> str:
        """Replace a posted message's content (a Track Pulse story moved on): one PATCH
        /channels/{cid}/messages/{mid}, idempotent, so a retry just edits again.

        The edit is one message (`render_one`: text clipped to Discord's limit); a
        highlight is far shorter. A deleted message is a `DeliveryError`.
        """
        try:
            channel_snowflake = parse_channel_key(channel_id)
            mid = int(message_id)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        part = render_one(reply)
        message = self._client.get_partial_messageable(channel_snowflake).get_partial_message(mid)
        with _errors(channel_id, "edit a message in"):
            if part.files:
                await message.edit(content=part.content or None, embeds=part.embeds,
                                   attachments=part.discord_files(), allowed_mentions=NO_MENTIONS)
            else:
                await message.edit(content=part.content or None, embeds=part.embeds,
                                   allowed_mentions=NO_MENTIONS)
        return message_id


@contextmanager
def _errors(channel_id: str, action: str) -> Iterator[None]:
    """discord.py's errors as the deliverer's: `RateLimited` = not done, retry later;
    `DeliveryError` = never will be."""
    try:
        yield
    except discord.RateLimited as exc:  # longer than max_ratelimit_timeout
        raise RateLimited(exc.retry_after, f"Discord rate limit on {channel_id}") from None
    except (discord.Forbidden, discord.NotFound) as exc:
        raise DeliveryError(f"cannot {action} {channel_id}: {exc.status} {exc.text}") from None
    except discord.DiscordServerError as exc:
        # Transient; the nonce (a post) or the edit's idempotency makes the retry safe.
        raise RateLimited(TRANSIENT_RETRY_S, f"Discord {exc.status} on {channel_id}") from None
    except discord.HTTPException as exc:
        if exc.status == 429:  # retries exhausted inside discord.py
            raise RateLimited(TRANSIENT_RETRY_S, f"Discord rate limit on {channel_id}") from None
        raise DeliveryError(
            f"Discord rejected an attempt to {action} {channel_id}: {exc.status} {exc.text}"
        ) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise RateLimited(
            TRANSIENT_RETRY_S, f"network error trying to {action} {channel_id}: {exc}"
        ) from None
