"""The console as a service adapter: `run_console` (chat in the terminal) and `ConsolePoster`.

Same shape as `run_discord` / `run_slack`: `slipstream run --console` starts it
next to (or instead of) the platform adapters. The terminal is one channel,
`console:local:terminal`; `ConsolePoster` implements `ChannelPoster`, so Track
Pulse highlights and reminders for `console:` channels a moderator subscribed
(`/f1 subscribe` typed here with `--as-moderator` rights, or stored) print in
the terminal between answers.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from adapters.console.chat import QUIT_WORDS, ConsoleSession
from adapters.console.render import RenderMode, render
from bot.model import ChannelPoster, Reply
from bot.settings import Settings

log = logging.getLogger(__name__)


def _print(text: str) -> None:
    print(text, flush=True)  # flush: stdout is often a pipe (systemd, docker logs, tests)


class ConsolePoster:
    """Prints highlights and reminders for `console:` channels to the terminal.

    Idempotency: the terminal cannot take a message back, so the key of each
    printed post is remembered (bounded) and a re-post with the same key after
    a lost acknowledgement is not printed twice.
    """

    platform = "console"
    # Reminders carry `Reply.local_times`: every render mode shows them (UTC + relative here).
    renders_local_times = True

    def __init__(self, write: Callable[[str], None] = _print, mode: RenderMode = "plain",
                 *, remember: int = 10_000) -> None:
        self._write = write
        self.mode = mode
        self._remember = remember
        self._posted: dict[str, str] = {}

    async def post(self, channel_id: str, reply: Reply, *, idempotency_key: str) -> str:
        if idempotency_key in self._posted:
            return self._posted[idempotency_key]
        self._write(f"[{channel_id}] {render(reply, self.mode)}")
        self._posted[idempotency_key] = idempotency_key
        if len(self._posted) > self._remember:
            self._posted.pop(next(iter(self._posted)))
        return idempotency_key

    async def edit(self, channel_id: str, message_id: str, reply: Reply) -> str:
        """A terminal cannot change printed lines: a story's update is printed anew,
        marked "↻" so it reads as the same story moving on, not a new one."""
        self._write(f"[{channel_id}] ↻ {render(reply, self.mode)}")
        return message_id


async def run_console(
    settings: Settings,
    dispatcher: Any,
    *,
    stop: asyncio.Event,
    poster_ready: Callable[[ChannelPoster], None] | None = None,
    stdin: TextIO | None = None,
    write: Callable[[str], None] = _print,
    moderator: bool = False,
    mode: RenderMode = "plain",
) -> None:
    """Chat in the terminal until `stop` is set, or `quit` (which sets `stop`).

    End of input (Ctrl-D, or stdin closed under a service manager) ends the chat
    but not the service: the other adapters and the deliverer keep running
    until SIGTERM. stdin is read by a daemon thread, not the loop's executor: a
    blocked `readline()` must never hold up shutdown.

    Args:
        settings: the service settings (uniform adapter signature; nothing console-specific today).
        dispatcher: the core's dispatcher (or the metered wrapper).
        stop: set to end the chat; `quit` sets it (stops the whole service).
        poster_ready: receives the `ConsolePoster` at once.
        stdin / write: where lines come from and replies go (tests).
        moderator: act as a moderator (moderator commands at the terminal).
        mode: plain, or preview replies as discord / slack would render them.
    """
    del settings
    if poster_ready is not None:
        poster_ready(ConsolePoster(write, mode))
    session = ConsoleSession(dispatcher, moderator=moderator, mode=mode, write=write)
    source = stdin if stdin is not None else sys.stdin
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def _reader() -> None:
        try:
            for line in source:
                loop.call_soon_threadsafe(lines.put_nowait, line)
        except (OSError, ValueError):  # stdin closed under us
            pass
        finally:
            try:
                loop.call_soon_threadsafe(lines.put_nowait, None)
            except RuntimeError:  # the loop is already closed: nobody is listening
                pass

    threading.Thread(target=_reader, name="console-stdin", daemon=True).start()
    stopper = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            getter = asyncio.ensure_future(lines.get())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            line = getter.result()
            if line is None:
                log.info("console: end of input; the service keeps running until SIGTERM")
                break
            text = line.strip()
            if text.lower() in QUIT_WORDS:
                stop.set()
                break
            if text:
                await session.send(text)
    finally:
        stopper.cancel()
