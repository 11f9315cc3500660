"""`SlackPoster`: Track Pulse highlights and reminders into Slack channels.

Hazards handled here:

* Rate limits. Slack allows about one `chat.postMessage` per second per
  channel; we pace to that ourselves (`min_interval_s`). A 429 carries
  `Retry-After`: a short one is waited out once, a long one (or a second 429)
  becomes `bot.errors.RateLimited(retry_after)` so the deliverer reschedules
  the outbox row instead of holding a worker.
* Never posting twice. Slack has no idempotency key for `chat.postMessage`.
  We (1) remember keys already posted in this process and return the same
  message ts; (2) tag every post (and every continuation part, `key#i`) with
  message metadata carrying the key; and (3) when an earlier attempt for a key
  may have reached Slack — it ended ambiguously in this process (connection
  dropped, timeout, 5xx), or the caller says so with `maybe_posted=True` (the
  outbox row was claimed before by a deliverer that died, perhaps in another
  process) — look for that metadata in the channel's recent history and post
  only the parts that are not there. An ambiguous failure is raised as
  `PostUncertain` (not `RateLimited`, which means "certainly not posted"), so
  the deliverer keeps the row marked "maybe posted" across restarts.
  No automatic connection-error retries on this client for the same reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncSlackResponse, AsyncWebClient

from bot.errors import DeliveryError, RateLimited
from bot.model import Platform, Reply

from .convert import split_channel_id
from .render import render

log = logging.getLogger(__name__)

METADATA_EVENT = "slipstream_post"
# Errors after which retrying can never succeed: the deliverer should give up on the row.
_PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "restricted_action",
    "account_inactive",
    "invalid_auth",
    "token_revoked",
    "missing_scope",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    # chat.update: the story's message was deleted, or is not ours to edit.
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
}


class PostUncertain(ConnectionError):
    """The post may or may not have reached Slack; retry after `retry_after` with
    `maybe_posted=True` (the history check decides)."""

    def __init__(self, retry_after: float, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlackPoster:
    """ChannelPoster for `slack:<team>:<channel>` ids."""

    platform: Platform = "slack"
    # Reminders carry `Reply.local_times`: `render` turns their markers into date tokens.
    renders_local_times = True

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        min_interval_s: float = 1.0,
        max_wait_s: float = 5.0,
        history_lookback: int = 100,
        remember: int = 10_000,
    ) -> None:
        self.client = client
        self.min_interval_s = min_interval_s
        self.max_wait_s = max_wait_s  # longest Retry-After we wait out inline
        self.history_lookback = history_lookback
        self._remember = remember
        self._posted: OrderedDict[str, str] = OrderedDict()  # idempotency key -> ts
        self._ambiguous: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_post: dict[str, float] = {}

    async def post(
        self, channel_id: str, reply: Reply, *, idempotency_key: str, maybe_posted: bool = False
    ) -> str:
        """Post `reply` to the channel; return the ts of its first message.

        `maybe_posted`: an earlier attempt with this key may have been posted (see
        the module doc); the channel's history is checked before posting.
        """
        try:
            _team, channel = split_channel_id(channel_id)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:  # one post at a time per channel: pacing and key checks stay exact
            done = self._posted.get(idempotency_key)
            if done is not None:
                return done
            existing: dict[str, str] = {}
            if maybe_posted or idempotency_key in self._ambiguous:
                existing = await self._find_existing(channel, idempotency_key)
            ts = await self._post_messages(channel, reply, idempotency_key, existing)
            self._remember_post(idempotency_key, ts)
            return ts

    async def _pace(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None:
            wait = self.min_interval_s - (time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)

    async def _post_messages(
        self, channel: str, reply: Reply, key: str, existing: dict[str, str]
    ) -> str:
        """Post each rendered part not already in `existing` (part key -> ts)."""
        first: str | None = None
        messages = render(reply)
        for i, msg in enumerate(messages):
            part_key = key if i == 0 else f"{key}#{i}"
            ts = existing.get(part_key)
            if ts is None:
                await self._pace(channel)
                ts = await self._post_one(channel, msg.kwargs(), part_key)
            else:
                log.info("Slack: %s already in %s (ts %s); not posted again", part_key, channel, ts)
            first = first or ts
        assert first is not None
        return first

    async def edit(self, channel_id: str, message_id: str, reply: Reply) -> str:
        """Replace a posted message (a Track Pulse story moved on): `chat.update` of the
        message at ts `message_id`, paced with the channel's posts. Idempotent, so a
        retry after an ambiguous failure simply updates again.

        The update is the first rendered message; a highlight never needs a second.
        """
        try:
            _team, channel = split_channel_id(channel_id)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        kwargs = render(reply)[0].kwargs()
        for key in ("unfurl_links", "unfurl_media"):  # chat.update does not take them
            kwargs.pop(key)
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            await self._pace(channel)
            await self._call(
                channel, None, lambda: self.client.chat_update(channel=channel, ts=message_id,
                                                               **kwargs)
            )
        return message_id

    async def _post_one(self, channel: str, kwargs: dict[str, Any], key: str) -> str:
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"idempotency_key": key}}
        resp = await self._call(
            channel, key, lambda: self.client.chat_postMessage(
                channel=channel, metadata=metadata, **kwargs
            )
        )
        return str(resp["ts"])

    async def _call(
        self, channel: str, key: str | None, send: Callable[[], Awaitable[AsyncSlackResponse]]
    ) -> AsyncSlackResponse:
        """One Web API write with the poster's error rules: a short 429 waited out once,
        a long one `RateLimited`, refusals `DeliveryError`, anything ambiguous
        `PostUncertain` (and, for a post, its `key` marked for a history check)."""
        for attempt in (1, 2):
            try:
                resp = await send()
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    retry_after = _retry_after(exc)
                    if attempt == 1 and retry_after <= self.max_wait_s:
                        log.info("Slack 429 on %s; waiting %.1fs as told", channel, retry_after)
                        await asyncio.sleep(retry_after)
                        continue
                    raise RateLimited(retry_after, f"Slack rate limit on {channel}") from None
                error = str(exc.response.get("error", "unknown_error"))
                if error in _PERMANENT or 400 <= status < 500:
                    raise DeliveryError(f"Slack refused the post to {channel}: {error}") from None
                # A 5xx may or may not have posted: check history before any retry.
                if key is not None:
                    self._ambiguous.add(key)
                raise PostUncertain(2.0, f"Slack server error {status} ({error})") from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                if key is not None:
                    self._ambiguous.add(key)
                log.warning(
                    "Slack post to %s ended ambiguously (%r); will check before retrying",
                    channel,
                    exc,
                )
                raise PostUncertain(2.0, f"Slack connection problem ({exc!r})") from None
            finally:
                self._last_post[channel] = time.monotonic()
            if key is not None:
                self._ambiguous.discard(key)
            return resp
        raise AssertionError("unreachable")

    async def _find_existing(self, channel: str, key: str) -> dict[str, str]:
        """Part key (`key`, `key#1`, …) -> ts of the messages already posted for `key`.

        Looks at the channel's latest `history_lookback` messages: highlights are
        paced and retried within minutes, so an earlier attempt is recent.
        """
        try:
            resp = await self.client.conversations_history(
                channel=channel, limit=self.history_lookback, include_all_metadata=True
            )
        except (SlackApiError, TimeoutError, aiohttp.ClientError) as exc:
            if isinstance(exc, SlackApiError):
                error = str(exc.response.get("error", ""))
                if error in _PERMANENT:
                    raise DeliveryError(f"Slack refused history of {channel}: {error}") from None
            # Cannot tell: refuse to risk a duplicate; the deliverer retries later.
            raise PostUncertain(5.0, f"cannot verify earlier post ({exc!r})") from None
        found: dict[str, str] = {}
        for msg in resp.get("messages") or []:
            meta = msg.get("metadata") or {}
            if meta.get("event_type") != METADATA_EVENT:
                continue
            part = str((meta.get("event_payload") or {}).get("idempotency_key", ""))
            if part == key or part.startswith(key + "#"):
                found.setdefault(part, str(msg.get("ts")))
        return found

    def _remember_post(self, key: str, ts: str) -> None:
        self._ambiguous.discard(key)
        self._posted[key] = ts
        self._posted.move_to_end(key)
        while len(self._posted) > self._remember:
            self._posted.popitem(last=False)


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    for k, v in headers.items():
        if k.lower() == "retry-after":
            value = v[0] if isinstance(v, list) else v
            try:
                return float(value)
            except ValueError:
                break
    return 1.0
