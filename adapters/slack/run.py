"""Running the Slack adapter: Socket Mode or HTTP mode until stopped.

`run_slack(settings, dispatcher, stop=...)` runs it until `stop` is set:
Socket Mode when `SLACK_APP_TOKEN` is set, otherwise HTTP mode (Events API on
`SLACK_HOST:SLACK_PORT`, signatures checked with `SLACK_SIGNING_SECRET`).
`SlackPoster` posts Track Pulse highlights (a `ChannelPoster`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import aiohttp

from bot.health import StateReport
from bot.model import ChannelPoster

from .app import Dispatches, SlackAdapter, make_web_client
from .poster import SlackPoster
from .settings import SlackSettings

log = logging.getLogger(__name__)


async def run_slack(
    settings: SlackSettings,
    dispatcher: Dispatches,
    *,
    stop: asyncio.Event,
    poster_ready: Callable[[ChannelPoster], None] | None = None,
    started: Callable[[SlackAdapter], None] | None = None,
    max_concurrent_handlers: int = 128,
    on_state: StateReport | None = None,
    release: asyncio.Event | None = None,
) -> None:
    """Run the Slack adapter until `stop` is set, then shut down cleanly.

    Args:
        settings: needs `slack_bot_token`, and `slack_app_token` (Socket Mode)
            or `slack_signing_secret` (HTTP mode, served on slack_host:slack_port).
        dispatcher: the core `Dispatcher` (anything with `handle(incoming, responder)`).
        stop: set it to stop.
        poster_ready: receives the `SlackPoster` for highlight delivery once connected.
        started: receives the running adapter (tests read its bound port / state).
        max_concurrent_handlers: answers worked on at once; the rest wait (acked already),
            so that a burst of questions cannot starve the acks.
        on_state: told (up, detail) once Slack can reach us (HTTP bound / socket connected),
            or why not.
        release: after `stop`, new events are refused (HTTP 503, so Slack retries; Socket
            Mode disconnects) but replies can still be sent until this is set.
    """
    if not settings.slack_bot_token:
        raise RuntimeError("SLACK_BOT_TOKEN is not set")
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise RuntimeError(
            "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)"
        )
    # One pooled HTTP session for every Web API call (slack_sdk opens one per call otherwise).
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    client = make_web_client(
        settings.slack_bot_token, base_url=settings.slack_api_base_url, session=session
    )
    poster_client = make_web_client(
        settings.slack_bot_token,
        base_url=settings.slack_api_base_url,
        session=session,
        rate_limit_retries=0,
    )
    adapter = SlackAdapter(
        dispatcher,
        client=client,
        signing_secret=settings.slack_signing_secret,
        max_concurrent_handlers=max_concurrent_handlers,
    )
    try:
        try:
            if settings.slack_app_token:
                await adapter.start_socket_mode(settings.slack_app_token)
                detail = "Socket Mode connected"
            else:
                await adapter.start_http(settings.slack_host, settings.slack_port)
                detail = f"HTTP listening on {settings.slack_host}:{adapter.port}"
        except Exception as exc:
            if on_state is not None:
                on_state(False, f"cannot connect: {type(exc).__name__}: {exc}"[:200])
            raise
        if on_state is not None:
            on_state(True, detail)
        if poster_ready is not None:
            poster_ready(SlackPoster(poster_client))
        if started is not None:
            started(adapter)
        await stop.wait()
        if release is not None:
            await adapter.stop_accepting()
            await release.wait()
    finally:
        await adapter.close()
        await session.close()
        log.info("Slack adapter stopped")
