"""The Slack `Responder`: replies to one incoming event, after `ack()` was sent.

Replies go to the event's thread (a top-level mention gets its answer in a
thread rooted at the mention); slash-command answers go to the channel.
Ephemeral replies (errors, refusals) use `chat.postEphemeral` so only the
asker sees them. Streaming uses `edit` -> `chat.update`; the core's
`StreamingReply` paces edits by `limits.edit_interval_s` and continues in a
new message before `limits.max_text`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.errors import DeliveryError, RateLimited
from bot.model import Image, PlatformLimits, Reply

from .render import render

log = logging.getLogger(__name__)

# One streamed message holds at most this much text: Slack truncates display of
# `text` past ~4,000 characters and sections hold 3,000 each (render splits them).
SLACK_LIMITS = PlatformLimits(max_text=3900, edit_interval_s=1.0)
# The bot cannot post where it is not a member; a slash command's response_url still works there.
_NOT_A_MEMBER = {"not_in_channel", "channel_not_found"}
MAX_ALT_TXT = 1000  # files.getUploadURLExternal: alt_txt is at most 1000 characters
MAX_TITLE = 250


class SlackResponder:
    """Responder for one event in one channel (and thread)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        user: str,
        thread_ts: str | None = None,
        on_thread_reply: Callable[[str, str], None] | None = None,
        response_url: str | None = None,
        limits: PlatformLimits = SLACK_LIMITS,
    ) -> None:
        self.client = client
        self.channel = channel
        self.user = user
        self.thread_ts = thread_ts
        self.limits = limits
        self._on_thread_reply = on_thread_reply
        self.response_url = response_url
        self.sent: list[str] = []  # message ts, in order (tests and benchmarks read it)

    async def defer(self) -> None:
        """Slack was acked already; nothing to show until the first message."""

    async def send(self, reply: Reply) -> str | None:
        messages = render(reply)
        first: str | None = None
        try:
            if reply.ephemeral:
                for msg in messages:
                    kw = msg.kwargs()
                    for key in ("unfurl_links", "unfurl_media"):  # not chat.postEphemeral args
                        kw.pop(key)
                    await self.client.chat_postEphemeral(
                        channel=self.channel, user=self.user, thread_ts=self.thread_ts, **kw
                    )
                return None  # ephemeral messages cannot be edited
            for msg in messages:
                resp = await self.client.chat_postMessage(
                    channel=self.channel, thread_ts=self.thread_ts, **msg.kwargs()
                )
                ts = str(resp["ts"])
                self.sent.append(ts)
                first = first or ts
            if self.thread_ts and self._on_thread_reply:
                self._on_thread_reply(self.channel, self.thread_ts)
            for image in reply.images:
                await self._upload(image, upload_title(reply, image))
        except SlackApiError as exc:
            if self.response_url and not first and exc.response.get("error") in _NOT_A_MEMBER:
                await self._via_response_url(reply)
                return None  # not editable: streaming then sends the whole answer at the end
            raise _delivery_error(exc) from exc
        return first

    async def _via_response_url(self, reply: Reply) -> None:
        """Answer a slash command through its response_url (works in channels we are not in)."""
        hook = AsyncWebhookClient(self.response_url or "", session=self.client.session)
        for msg in render(reply):
            resp = await hook.send(
                text=msg.text,
                blocks=msg.blocks or None,
                response_type="ephemeral" if reply.ephemeral else "in_channel",
            )
            if resp.status_code != 200:
                raise DeliveryError(
                    f"Slack response_url: HTTP {resp.status_code} {resp.body[:100]}"
                )

    async def edit(self, message_id: str, reply: Reply) -> None:
        messages = render(reply)
        try:
            kw = messages[0].kwargs()
            for key in ("unfurl_links", "unfurl_media"):
                kw.pop(key)
            await self.client.chat_update(channel=self.channel, ts=message_id, **kw)
            for extra in messages[1:]:  # a card-heavy final edit can outgrow one message
                resp = await self.client.chat_postMessage(
                    channel=self.channel, thread_ts=self.thread_ts, **extra.kwargs()
                )
                self.sent.append(str(resp["ts"]))
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc

    async def _upload(self, image: Image, title: str) -> None:
        """One image into this channel and thread, by Slack's external-upload flow
        (`files_upload_v2`: getUploadURLExternal, POST the bytes, completeUploadExternal;
        the old `files.upload` is retired). Needs the `files:write` scope. `alt_txt` is
        what screen readers say for the image."""
        await self.client.files_upload_v2(
            channel=self.channel,
            thread_ts=self.thread_ts,
            filename=image.filename,
            content=image.data,
            title=title,
            alt_txt=image.alt[:MAX_ALT_TXT] if image.alt else None,
        )


def upload_title(reply: Reply, image: Image) -> str:
    """The title Slack shows above an uploaded image: the reply's first line (what the chart
    answers), else the file name; with several images the file name tells them apart."""
    first = next((x.strip().strip("#*_ ") for x in reply.text.splitlines() if x.strip()), "")
    if not first:
        return image.filename
    title = first[:MAX_TITLE]
    return f"{title} ({image.filename})" if len(reply.images) > 1 else title


def _delivery_error(exc: SlackApiError) -> Exception:
    status = getattr(exc.response, "status_code", 0)
    if status == 429:
        retry_after = float((exc.response.headers or {}).get("Retry-After", 1))
        return RateLimited(retry_after, "Slack rate limit")
    error = exc.response.get("error") if hasattr(exc.response, "get") else str(exc)
    log.warning("Slack API error: %s", error)
    return DeliveryError(f"Slack: {error}")
