"""Console sessions: one-shot questions and the interactive chat loop."""

from __future__ import annotations

import asyncio
import getpass
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from adapters.console.files import ImageSaver
from adapters.console.render import RenderMode
from adapters.console.responder import ConsoleResponder
from bot.dispatch import Dispatcher
from bot.model import ChannelRef, Incoming, Privilege, UserRef

PROMPT = "you> "
QUIT_WORDS = {"quit", "exit", ":q", "/quit", "/exit"}


class ConsoleSession:
    """The terminal as one channel and one user, speaking through the dispatcher."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        moderator: bool = False,
        mode: RenderMode = "plain",
        write: Callable[[str], None] = print,
        conversation: bool = True,
        out_dir: Path | str | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        name = _user_name()
        self.user = UserRef(
            "console",
            f"console:{name}",
            name=name,
            privilege=Privilege.MODERATOR if moderator else Privilege.USER,
        )
        self.channel = ChannelRef("console", "console:local:terminal", is_dm=True, name="terminal")
        # Charts are written here (default: a new temp dir, made on the first chart).
        self.responder = ConsoleResponder(write, mode, ImageSaver(out_dir))
        self._ids = itertools.count(1)
        self.conversation_id = f"console:{os.getpid()}" if conversation else None

    async def send(self, text: str) -> str:
        """Feed one line to the bot; print and return the bot's reply."""
        incoming = Incoming(
            event_id=f"console:{os.getpid()}:{next(self._ids)}",
            channel=self.channel,
            user=self.user,
            text=text,
            kind="dm",
            conversation_id=self.conversation_id,
        )
        await self.dispatcher.handle(incoming, self.responder)
        return self.responder.flush()


def _user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "local"


async def run_chat(
    session: ConsoleSession,
    *,
    stdin: TextIO | None = None,
    write: Callable[[str], None] = print,
    intro: str | None = None,
) -> int:
    """Read lines until EOF or `quit`; answer each. Returns the number of questions."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    if intro:
        write(intro)
    count = 0
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            sys.stdout.write(PROMPT)
            sys.stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break  # EOF (Ctrl-D or end of piped input)
        line = line.strip()
        if not line:
            continue
        if line.lower() in QUIT_WORDS:
            break
        await session.send(line)
        count += 1
    return count
