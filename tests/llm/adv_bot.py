"""The bot as `bench/answers/runner.Runner` wires it, with a model, recording what users see.

Shared by the adversarial tiers (fake compromised model, real local model). Every message the
bot sends AND every streaming edit is kept: a planted claim shown for half a second and then
replaced by the fallback was still shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.console.render import render
from adapters.console.responder import ConsoleResponder
from bench.answers.runner import Runner
from bot.model import Reply


class RecordingConsoleResponder(ConsoleResponder):
    """The console responder, also keeping every text it was given (sends and edits)."""

    def __init__(self) -> None:
        super().__init__(lambda _text: None, "plain")
        self.shown: list[str] = []  # reply texts and their rendering (suggestions included)
        self.texts: list[str] = []  # reply texts only: what the answer said

    def _keep(self, reply: Reply) -> None:
        self.texts.append(reply.text)
        self.shown.append(reply.text)
        rendered = render(reply, "plain")
        if rendered != reply.text:
            self.shown.append(rendered)

    async def send(self, reply: Reply) -> str | None:
        self._keep(reply)
        return await super().send(reply)

    async def edit(self, message_id: str, reply: Reply) -> None:
        self._keep(reply)
        await super().edit(message_id, reply)


@dataclass
class Turn:
    question: str
    final: str  # the reply as the console prints it at the end
    shown: list[str] = field(default_factory=list)  # every text sent or edited in, in order
    texts: list[str] = field(default_factory=list)  # the same, reply text only (no suggestions)

    def everything(self) -> str:
        return "\n".join([*self.shown, self.final])


async def ask_thread(runner: Runner, key: str, turns: list[str]) -> list[Turn]:
    """Ask `turns` in one new conversation; what was shown for each."""
    session = runner.session(key)
    out = []
    for text in turns:
        rec = RecordingConsoleResponder()
        session.responder = rec
        final = await session.send(text)
        out.append(Turn(text, final, list(rec.shown), list(rec.texts)))
    return out


def llm_stats(runner: Runner) -> Any:
    return runner.app.deps.llm.stats
