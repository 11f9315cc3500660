"""Showing a reply while it is being written, within platform limits.

A small class with no platform knowledge, testable on its own: post a placeholder,
edit at most once per `responder.limits.edit_interval_s`, continue in a new message
before `responder.limits.max_text`, and on error append a warning to the partial
text rather than replacing it. The clock is injectable so tests need not sleep.

Text only grows between `start()` and `finish()` (except via `reset()`), so the
split into messages is a pure function of the text and stays stable: a message
that was continued is never rewritten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.errors import RateLimited
from bot.model import Reply, Responder
from bot.textsplit import split_markdown

log = logging.getLogger(__name__)

PLACEHOLDER = "…"
CURSOR = " ▌"  # shown at the end of the text while more is coming
CONTINUED_ABOVE = "(see above)"  # for a continuation message left over after a shorter rewrite
WARNING_PREFIX = "⚠️ "


def split_text(text: str, budget: int) -> list[str]:
    """Split `text` into chunks of at most `budget` chars (`bot.textsplit`: Markdown-aware).

    Deterministic on prefixes: appending text never moves an earlier split point
    once a chunk is full, which keeps streamed continuation messages stable.
    """
    return split_markdown(text, budget) or [text]


class StreamingReply:
    """One streamed answer, shown through a `Responder`.

    Args:
        responder: the adapter's responder for this event.
        clock: seconds, monotonic; injectable for tests.
        placeholder: what the first message shows before any text arrives.
    """

    def __init__(
        self,
        responder: Responder,
        *,
        clock: Callable[[], float] = time.monotonic,
        placeholder: str = PLACEHOLDER,
    ) -> None:
        self.responder = responder
        self.clock = clock
        self.placeholder = placeholder
        self.limits = responder.limits
        self.text = ""
        self.message_ids: list[str | None] = []
        self.edits = 0  # edit calls made (for tests / metrics)
        self.sends = 0  # send calls made
        self.finished = False
        self._shown: list[str] = []  # what each message shows now
        self._last_flush: float | None = None
        self._editable = True
        self._placing: asyncio.Future[None] | None = None  # the placeholder post, once begun
        # Room for the cursor so a streamed message never exceeds the limit.
        self._budget = max(self.limits.max_text - len(CURSOR) - 1, 20)

    @property
    def started(self) -> bool:
        return bool(self.message_ids)

    def begin(self) -> None:
        """Start posting the placeholder without waiting for it.

        The caller sends the model its request meanwhile, so the platform's round trip
        and the model's prompt processing overlap instead of adding up. `start()`
        (called by every method that shows text) waits for it and raises its error.
        """
        if self._placing is None and not self.started:
            self._placing = asyncio.ensure_future(self._post_placeholder())

    async def start(self) -> None:
        """Post the placeholder (idempotent). Called by `push` if not called before."""
        # Hazard: two callers racing here must share one post, or the channel gets two "…".
        self.begin()
        if self._placing is not None:
            await self._placing  # a done future re-raises its error to each caller

    async def _post_placeholder(self) -> None:
        mid = await self.responder.send(Reply(text=self.placeholder))
        self.sends += 1
        self.message_ids.append(mid)
        self._shown.append(self.placeholder)
        # A platform that cannot edit (no message id) gets the whole text at the end.
        self._editable = mid is not None
        self._last_flush = None  # the first text replaces the placeholder at once

    async def push(self, delta: str) -> None:
        """Add text; show it if the last edit is at least `edit_interval_s` old."""
        if self.finished or not delta:
            return
        await self.start()
        self.text += delta
        now = self.clock()
        if self._last_flush is None or now - self._last_flush >= self.limits.edit_interval_s:
            await self._flush(final=False)

    async def reset(self) -> None:
        """Drop the text shown so far (a retry will write a new answer in the same messages)."""
        self.text = ""

    async def finish(
        self, final_text: str | None = None, *, suggestions: list[str] | None = None
    ) -> None:
        """Show the complete text (or `final_text` instead of what was streamed)."""
        if self.finished:
            return
        await self.start()
        self.text = (self.text if final_text is None else final_text).strip()
        await self._flush(final=True, suggestions=suggestions or [])
        self.finished = True

    async def fail(self, warning: str) -> None:
        """Keep the partial text and append a warning line (never replace what was said)."""
        if self.finished:
            return
        await self.start()
        body = self.text.rstrip()
        self.text = f"{body}\n\n{WARNING_PREFIX}{warning}" if body else f"{WARNING_PREFIX}{warning}"
        await self._flush(final=True)
        self.finished = True

    async def _flush(self, *, final: bool, suggestions: list[str] | None = None) -> None:
        chunks = split_text(self.text, self._budget) if self.text else [self.placeholder]
        if not self._editable:
            if final:  # cannot edit: send the whole answer once, at the end
                for i, chunk in enumerate(chunks):
                    last = i == len(chunks) - 1
                    await self._send(Reply(text=chunk, suggestions=suggestions if last else []))
            return
        try:
            for i, chunk in enumerate(chunks):
                last = i == len(chunks) - 1
                desired = chunk if (final or not last) else chunk.rstrip() + CURSOR
                reply = Reply(
                    text=desired, suggestions=(suggestions or []) if (final and last) else []
                )
                if i < len(self.message_ids):
                    if self._shown[i] != desired or reply.suggestions:
                        await self._edit(i, reply)
                else:
                    mid = await self._send(reply)
                    self.message_ids.append(mid)
                    self._shown.append(desired)
            if final:
                # A rewrite (reset / final_text) may be shorter than what was streamed.
                for i in range(len(chunks), len(self.message_ids)):
                    if self._shown[i] != CONTINUED_ABOVE:
                        await self._edit(i, Reply(text=CONTINUED_ABOVE))
        except RateLimited as exc:
            if final:
                raise
            # Hazard: an edit storm gets throttled; skip this one, the next flush catches up.
            log.info("streaming edit rate-limited, retry after %.1fs", exc.retry_after)
        self._last_flush = self.clock()

    async def _edit(self, index: int, reply: Reply) -> None:
        mid = self.message_ids[index]
        assert mid is not None
        await self.responder.edit(mid, reply)
        self.edits += 1
        self._shown[index] = reply.text

    async def _send(self, reply: Reply) -> str | None:
        mid = await self.responder.send(reply)
        self.sends += 1
        return mid
