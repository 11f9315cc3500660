"""Answers in progress, so that a shutdown finishes them or marks them, never orphans them.

`InFlight` wraps the dispatcher (it has the same `handle`, everything else passes
through). Each `handle` runs as a task of ours with a `TrackedResponder` around the
adapter's responder, which remembers every message still showing a placeholder
("…") or a streaming cursor. On shutdown:

1. `shutdown(grace_s)` stops taking new events (a question arriving now gets a short
   "restarting" reply instead of an answer that could not finish);
2. answers in progress get `grace_s` to finish;
3. the rest are cancelled, and each open message is edited to say "interrupted —
   please ask again" (after the partial text, if any). An event that showed nothing
   yet (a deferred Discord interaction, a Slack question still waiting for the model)
   gets that line as a new message. Slack does not redeliver an acked event, so this
   line is the only way the asker learns to ask again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot import messages as m
from bot.model import Incoming, Reply, Responder
from bot.streaming import CURSOR, PLACEHOLDER, WARNING_PREFIX

log = logging.getLogger(__name__)

SETTLE_S = 5.0  # a platform call already on its way when we cancel gets this long to land
MARK_S = 10.0  # all "interrupted" edits together get this long (the process is stopping)


def _unfinished(text: str) -> bool:
    """Whether a message shows a placeholder or a streaming cursor (more was coming)."""
    return text == PLACEHOLDER or text.endswith(CURSOR)


class TrackedResponder:
    """A responder that knows which of its messages still show an unfinished answer."""

    def __init__(self, inner: Responder) -> None:
        self.inner = inner
        self.limits = inner.limits
        self.closed = False
        self.sent_any = False
        self._open: dict[str, str] = {}  # message id -> text shown (placeholder or cursor)
        self._blind = False  # an unfinished message went out with no id: it cannot be edited
        self._calls: set[asyncio.Future[Any]] = set()

    async def defer(self) -> None:
        await self.inner.defer()

    async def send(self, reply: Reply) -> str | None:
        if self.closed:
            # Hazard: a placeholder post scheduled (`StreamingReply.begin`) just before the
            # answer was cancelled would otherwise land after the "interrupted" marking.
            return None
        call = asyncio.ensure_future(self.inner.send(reply))
        call.add_done_callback(lambda c: self._sent(c, reply.text))
        return await self._settle(call)

    async def edit(self, message_id: str, reply: Reply) -> None:
        if self.closed:
            return
        call = asyncio.ensure_future(self.inner.edit(message_id, reply))
        call.add_done_callback(lambda c: self._edited(c, message_id, reply.text))
        await self._settle(call)

    async def _settle(self, call: asyncio.Future[Any]) -> Any:
        # Hazard: cancelling the answer mid-request must not cancel the request itself,
        # or a message may be posted whose id we never learn (an orphan). The call runs
        # on and its done-callback records what it showed; `interrupt` waits for it.
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)
        return await asyncio.shield(call)

    def _sent(self, call: asyncio.Future[Any], text: str) -> None:
        if call.cancelled() or call.exception() is not None:
            return
        self.sent_any = True
        mid = call.result()
        if _unfinished(text):
            if mid is None:
                self._blind = True
            else:
                self._open[str(mid)] = text

    def _edited(self, call: asyncio.Future[Any], message_id: str, text: str) -> None:
        if call.cancelled() or call.exception() is not None:
            return
        if _unfinished(text):
            self._open[message_id] = text
        else:
            self._open.pop(message_id, None)

    @property
    def open_messages(self) -> dict[str, str]:
        return dict(self._open)

    async def interrupt(self) -> int:
        """Mark every unfinished message (or say so once if nothing was shown); returns edits made."""
        self.closed = True
        if self._calls:
            await asyncio.wait(set(self._calls), timeout=SETTLE_S)
        marked = 0
        for mid, text in list(self._open.items()):
            try:
                await self.inner.edit(mid, Reply(text=self._marked(text)))
                self._open.pop(mid, None)
                marked += 1
            except Exception as exc:  # the platform refused: nothing more we can do in chat
                log.warning("could not mark message %s interrupted: %s", mid, exc)
        if marked == 0 and (self._blind or not self.sent_any):
            try:
                await self.inner.send(Reply(text=m.INTERRUPTED))
                marked += 1
            except Exception as exc:
                log.warning("could not send the interrupted note: %s", exc)
        return marked

    def _marked(self, text: str) -> str:
        """The partial answer (if any) with the interrupted line after it, within the limit."""
        body = "" if text == PLACEHOLDER else text.removesuffix(CURSOR).rstrip()
        tail = f"{WARNING_PREFIX}{m.INTERRUPTED}"
        if not body:
            return tail
        room = self.limits.max_text - len(tail) - 3
        if len(body) > room:
            body = body[: max(room - 1, 0)].rstrip() + "…"
        return f"{body}\n\n{tail}"


Handle = Callable[[Incoming, Responder], Awaitable[None]]


class InFlight:
    """The dispatcher seen by adapters during a service's life: tracks answers for shutdown."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.accepting = True
        self._running: dict[asyncio.Task[None], TrackedResponder] = {}
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # registry, autocomplete, knows_conversation ...

    @property
    def in_flight(self) -> int:
        return len(self._running)

    async def handle(self, incoming: Incoming, responder: Responder) -> None:
        """Answer one event as a tracked task; during shutdown, say so instead."""
        if not self.accepting:
            self.refused += 1
            log.info("shutting down: event %s from %s not answered", incoming.event_id, incoming.user.id)
            try:
                await responder.send(Reply(text=m.SHUTTING_DOWN, ephemeral=True))
            except Exception as exc:
                log.warning("could not send the restarting note: %s", exc)
            return
        tracked = TrackedResponder(responder)
        task = asyncio.ensure_future(self._inner.handle(incoming, tracked))
        self._running[task] = tracked
        task.add_done_callback(lambda t: self._running.pop(t, None))
        await task

    async def shutdown(self, grace_s: float) -> tuple[int, int]:
        """Stop taking events, let answers finish for `grace_s`, mark the rest interrupted.

        Returns (finished, interrupted) among the answers in progress when it was called.
        """
        self.accepting = False
        running = dict(self._running)
        if not running:
            return 0, 0
        done, pending = await asyncio.wait(set(running), timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            marks = [running[t].interrupt() for t in pending]
            try:
                await asyncio.wait_for(asyncio.gather(*marks, return_exceptions=True), MARK_S)
            except TimeoutError:
                log.warning("shutdown: marking interrupted answers timed out")
        log.info(m.LOG_SHUTDOWN, len(done), len(pending), grace_s)
        return len(done), len(pending)
