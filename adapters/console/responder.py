"""A `Responder` for the terminal: keeps the messages, prints each when it is final.

Streaming edits replace the stored message; the console prints a message
once, when the dispatcher is done with the event (`flush`), so a terminal
shows the final text rather than every intermediate edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adapters.console.files import ImageSaver
from adapters.console.render import RenderMode, render
from bot.model import PlatformLimits, Reply


@dataclass(frozen=True, slots=True)
class Shown:
    """A reply as the console delivered it: the reply and where its images were written."""

    reply: Reply
    paths: tuple[Path, ...] = ()


class ConsoleResponder:
    """Collects replies for one incoming message."""

    limits = PlatformLimits(max_text=4000, edit_interval_s=0.5)

    def __init__(
        self,
        write: Callable[[str], None],
        mode: RenderMode = "plain",
        images: ImageSaver | None = None,
    ) -> None:
        self._write = write
        self.mode = mode
        self.images = images or ImageSaver()
        self.delivered: list[Shown] = []  # what the last flush delivered (`ask --json` reads it)
        self.messages: dict[str, Reply] = {}
        self._order: list[str] = []
        self.deferred = False

    async def defer(self) -> None:
        self.deferred = True

    async def send(self, reply: Reply) -> str | None:
        mid = str(len(self._order) + 1)
        self.messages[mid] = reply
        self._order.append(mid)
        return mid

    async def edit(self, message_id: str, reply: Reply) -> None:
        if message_id in self.messages:
            self.messages[message_id] = reply

    def replies(self) -> list[Reply]:
        return [self.messages[mid] for mid in self._order]

    def flush(self) -> str:
        """Print (and return) everything sent since the last flush; images are written to
        files first (only final replies: a streamed edit never holds images twice)."""
        self.delivered = [
            Shown(r, tuple(self.images.save(image) for image in r.images)) for r in self.replies()
        ]
        text = "\n\n".join(render(s.reply, self.mode, s.paths) for s in self.delivered)
        self.messages.clear()
        self._order.clear()
        if text:
            self._write(text)
        return text
