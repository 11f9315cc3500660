"""The Slack adapter: a slack-bolt `AsyncApp` in front of the core dispatcher.

Listeners:

* `/f1 <text>` — ack() at once (inside Slack's 3 s), then the core parses the
  text with `Registry.parse` and answers in the channel.
* `app_mention` — a question; answered in a thread rooted at the mention.
* `message` — DMs are questions; thread replies (no mention) are follow-ups
  when the thread is one we answered in. Edits (`message_changed`), deletes,
  joins and other subtypes, our own and other bots' messages are ignored.

Events are acknowledged before any work (Bolt acks Events API requests
itself; for the command we call ack() first) and the work runs in a tracked
task, so a slow LLM never makes Slack redeliver. Slack still redelivers
sometimes (`X-Slack-Retry-Num`): we drop an event id we have seen already in
this process, and the core claims `Incoming.event_id` in the store before any
answer work, so a retry that reaches another worker is not answered twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import Incoming, Responder

from .convert import (
    PrivilegeCache,
    conversation_key,
    incoming_from_command,
    incoming_from_event,
    user_ref,
)
from .endpoint import make_web_app
from .responder import SlackResponder

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
# Message subtypes that are still a person talking to us; every other subtype
# (message_changed, message_deleted, bot_message, channel_join, ...) is ignored.
_HUMAN_SUBTYPES = {None, "file_share", "thread_broadcast"}


class Dispatches(Protocol):
    """What the adapter needs from the core (`bot.dispatch.Dispatcher`)."""

    async def handle(self, incoming: Incoming, responder: Responder) -> None: ...

    async def knows_conversation(self, conversation_id: str) -> bool: ...


class _SeenIds:
    """Bounded memory of event ids already taken (Slack redelivers on late acks)."""

    def __init__(self, size: int = 20_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, key: str) -> bool:
        """Record `key`; False when it was seen before."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True

    def __contains__(self, key: str) -> bool:
        return key in self._ids


def make_web_client(
    token: str,
    *,
    base_url: str | None = None,
    session: aiohttp.ClientSession | None = None,
    rate_limit_retries: int = 2,
) -> AsyncWebClient:
    """An AsyncWebClient for `base_url` (keep the trailing slash; slack_sdk joins by concatenation).

    Conversational replies retry a 429 after `Retry-After` (slack_sdk does not
    retry unless given a handler). Connection errors are not retried: a
    request that may have reached Slack must not post twice.
    """
    url = base_url or DEFAULT_API_BASE
    if not url.endswith("/"):
        url += "/"
    handlers = (
        [AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)]
        if rate_limit_retries
        else []
    )
    return AsyncWebClient(token=token, base_url=url, session=session, retry_handlers=handlers)


class SlackAdapter:
    """One Bolt app wired to one dispatcher. Start with `start_http` or `start_socket_mode`."""

    def __init__(
        self,
        dispatcher: Dispatches,
        *,
        client: AsyncWebClient,
        signing_secret: str | None = None,
        privilege_ttl_s: float = 600.0,
        max_concurrent_handlers: int = 128,
    ) -> None:
        self.dispatcher = dispatcher
        self.client = client
        self.privileges = PrivilegeCache(client, ttl_s=privilege_ttl_s)
        self._seen = _SeenIds()
        self._active_threads: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_concurrent_handlers)
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.bot_user_id: str | None = None
        self.port: int | None = None  # HTTP mode: the bound port
        self.redeliveries_dropped = 0
        self.accepting = True  # False while shutting down: HTTP requests get 503 (Slack retries)
        self.app = AsyncApp(
            client=client,
            # Socket Mode has no signatures; HTTP mode must have a secret (checked in start_http).
            signing_secret=signing_secret or "",
            request_verification_enabled=bool(signing_secret),
            ignoring_self_events_enabled=True,
            name="slipstream",
        )
        self.app.command("/f1")(self._on_command)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.error(self._on_error)

    # ------------------------------------------------------------------ listeners
    async def _on_command(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        await ack()  # first, always: Slack shows an error after 3 s without it
        key = f"cmd:{body.get('trigger_id')}"
        if not self._seen.add(key):
            self.redeliveries_dropped += 1
            return
        self._spawn(self._run_command(body), key)

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]
    ) -> None:
        self._remember_bot(context)
        if not self._first_time(body):
            return
        if event.get("bot_id") or event.get("subtype") not in _HUMAN_SUBTYPES:
            return
        self._spawn(self._run_event(body, event, kind="mention"), body.get("event_id", ""))

    async def _on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]
    ) -> None:
        self._remember_bot(context)
        if (
            event.get("subtype") not in _HUMAN_SUBTYPES
            or event.get("bot_id")
            or not event.get("user")
        ):
            return  # edits, deletes, joins, bots (ourselves included)
        if event.get("user") == self.bot_user_id:
            return
        channel = str(event.get("channel", ""))
        is_dm = event.get("channel_type") == "im" or channel.startswith("D")
        thread_ts = event.get("thread_ts")
        mentions_us = bool(self.bot_user_id) and f"<@{self.bot_user_id}" in str(
            event.get("text", "")
        )
        if is_dm:
            kind = "thread_reply" if thread_ts and thread_ts != event.get("ts") else "dm"
        elif mentions_us:
            return  # the app_mention event for the same message answers it
        elif thread_ts and thread_ts != event.get("ts") and await self._our_thread(
            str(body.get("team_id") or event.get("team", "")), channel, str(thread_ts)
        ):
            kind = "thread_reply"
        else:
            return  # ordinary channel chatter
        if not self._first_time(body):
            return
        self._spawn(self._run_event(body, event, kind=kind), body.get("event_id", ""))

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error(
            "Slack listener error for %s: %r",
            body.get("event_id") or body.get("command"),
            error,
            exc_info=error,
        )

    # ------------------------------------------------------------------ work after ack
    async def _run_command(self, body: dict[str, Any]) -> None:
        team = str(body.get("team_id", ""))
        user_id = str(body.get("user_id", ""))
        user = await user_ref(self.privileges, team, user_id)
        incoming = incoming_from_command(body, user)
        responder = SlackResponder(
            self.client,
            channel=str(body.get("channel_id", "")),
            user=user_id,
            response_url=body.get("response_url") or None,
        )
        await self.dispatcher.handle(incoming, responder)

    async def _run_event(self, body: dict[str, Any], event: dict[str, Any], *, kind: str) -> None:
        team = str(body.get("team_id") or event.get("team", ""))
        user_id = str(event.get("user", ""))
        user = await user_ref(self.privileges, team, user_id)
        incoming = incoming_from_event(body, event, user, kind=kind, bot_user_id=self.bot_user_id)
        channel = str(event.get("channel", ""))
        is_dm = incoming.channel.is_dm
        # Channel answers go in a thread (rooted at the question when it was top-level); DMs flow.
        thread_ts = event.get("thread_ts") or (None if is_dm else event.get("ts"))
        responder = SlackResponder(
            self.client,
            channel=channel,
            user=user_id,
            thread_ts=thread_ts,
            on_thread_reply=self._mark_thread,
        )
        await self.dispatcher.handle(incoming, responder)

    def _spawn(self, coro: Awaitable[None], label: str) -> None:
        async def guarded() -> None:
            try:
                # A bounded number of answers in progress: under a burst the acks
                # (and Socket Mode envelopes) keep the event loop to themselves.
                async with self._slots:
                    await coro
            except asyncio.CancelledError:
                raise
            except Exception:  # the dispatcher answers its own errors; this is adapter trouble
                log.exception("Slack handling failed for %s", label)

        task = asyncio.create_task(guarded(), name=f"slack:{label}")
        self._tasks.add(task)  # strong reference: the loop only keeps weak ones
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ bookkeeping
    def _first_time(self, body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        if self._seen.add(f"ev:{event_id}"):
            return True
        self.redeliveries_dropped += 1
        log.info("dropped redelivered Slack event %s", event_id)
        return False

    def _remember_bot(self, context: dict[str, Any]) -> None:
        if self.bot_user_id is None and context.get("bot_user_id"):
            self.bot_user_id = str(context["bot_user_id"])

    async def _our_thread(self, team: str, channel: str, thread_ts: str) -> bool:
        """A thread this process posted in, or one whose conversation the store remembers
        (answered before a restart, or by another worker)."""
        if (channel, thread_ts) in self._active_threads:
            return True
        return await self.dispatcher.knows_conversation(conversation_key(team, channel, thread_ts))

    def _mark_thread(self, channel: str, thread_ts: str) -> None:
        self._active_threads[(channel, thread_ts)] = None
        self._active_threads.move_to_end((channel, thread_ts))
        while len(self._active_threads) > 50_000:
            self._active_threads.popitem(last=False)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for in-flight answers (tests, shutdown); cancel what is left after `timeout_s`."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # ------------------------------------------------------------------ transports
    async def start_http(self, host: str = "127.0.0.1", port: int = 3000) -> int:
        """Serve the Events API endpoint (`/slack/events`) ourselves; returns the bound port.

        `AsyncApp.start()` would bind 0.0.0.0 and block; this binds where told.
        """
        if not self.app._signing_secret:  # noqa: SLF001 - Bolt keeps it private
            raise RuntimeError("HTTP mode needs SLACK_SIGNING_SECRET (requests must be verified)")
        # Our verifying handler in front of Bolt (adapters/slack/endpoint.py): Bolt alone
        # parsed bodies before checking signatures and answered malformed ones with a 500.
        web_app = make_web_app(
            EVENTS_PATH, self.app._signing_secret, self.app.async_dispatch  # noqa: SLF001
        )
        # During shutdown every request gets 503 before anything reads it (Slack retries elsewhere).
        web_app.middlewares.append(self._refuse_when_stopping)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        # A burst of questions opens many connections at once: the default backlog (128)
        # drops SYNs and costs the client a 1 s retransmit.
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        server = site._server  # noqa: SLF001 - the only way to learn an ephemeral port
        bound = server.sockets[0].getsockname()[1] if server and server.sockets else port  # type: ignore[union-attr]
        log.info("Slack HTTP mode listening on http://%s:%s%s", host, bound, EVENTS_PATH)
        self.port = int(bound)
        return self.port

    @web.middleware
    async def _refuse_when_stopping(self, request: web.Request, handler: Any) -> web.StreamResponse:
        # Not acked while shutting down: Slack redelivers the event (to another worker or
        # to us after the restart) instead of it being acked here and never answered.
        if not self.accepting:
            return web.Response(status=503, text="shutting down", headers={"Retry-After": "10"})
        return await handler(request)

    async def stop_accepting(self) -> None:
        """Take no new events; replies to events already taken can still be sent."""
        self.accepting = False
        if self._socket is not None:  # Socket Mode: disconnect, Slack sends to other connections
            await self._socket.close_async()
            self._socket = None

    async def start_socket_mode(self, app_token: str) -> None:
        """Connect over Socket Mode (`apps.connections.open` with the xapp- token)."""
        self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
        await self._socket.connect_async()
        log.info("Slack Socket Mode connected")

    async def close(self, drain_timeout: float = 10.0) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.drain(drain_timeout)
