"""Fixtures for the LLM path: the fake OpenAI server, a client on it, a recording responder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.llm import LLMClient
from bot.model import PlatformLimits, Reply
from bot.prompting import PromptRenderer
from tests.fakes.openai_server import FakeOpenAIServer, openai_server  # noqa: F401 (fixture)

# Facts as the core hands them over: JSON-able, names + codes + numbers (Monza 2023, real).
MONZA_CONTEXT: dict[str, Any] = {
    "event": "2023 Italian Grand Prix",
    "circuit": "Monza",
    "season": 2023,
    "round": 14,
    "session": "Race",
    "status": "final",
    "laps": 51,
    "winner": {"position": 1, "code": "VER", "name": "Max Verstappen", "team": "Red Bull Racing",
               "grid": 2, "points": 25},
    "podium": [
        {"position": 1, "code": "VER", "name": "Max Verstappen"},
        {"position": 2, "code": "PER", "name": "Sergio Pérez"},
        {"position": 3, "code": "SAI", "name": "Carlos Sainz"},
    ],
    "fastest_lap": {"code": "PIA", "name": "Oscar Piastri", "time": "1:25.072", "lap": 43,
                    "compound": "MEDIUM"},
    "stints": {"VER": [{"compound": "MEDIUM", "laps": "1-20"}, {"compound": "HARD", "laps": "21-51"}]},
}  # fmt: skip


@dataclass
class RecordingResponder:
    """A platform stand-in that records what a user would see (send / edit, in order)."""

    limits: PlatformLimits = field(default_factory=lambda: PlatformLimits(max_text=2000))
    editable: bool = True
    events: list[tuple[str, str | None, Reply]] = field(default_factory=list)
    messages: dict[str, Reply] = field(default_factory=dict)
    deferred: int = 0

    async def defer(self) -> None:
        self.deferred += 1

    async def send(self, reply: Reply) -> str | None:
        mid = f"m{len(self.messages) + 1}"
        self.events.append(("send", mid, reply))
        self.messages[mid] = reply
        return mid if self.editable else None

    async def edit(self, message_id: str, reply: Reply) -> None:
        assert message_id in self.messages, "edit of a message never sent"
        self.events.append(("edit", message_id, reply))
        self.messages[message_id] = reply

    def shown_texts(self) -> list[str]:
        """Every text a user could have seen at some moment."""
        return [r.text for _, _, r in self.events]

    def final_texts(self) -> list[str]:
        return [r.text for r in self.messages.values()]


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def renderer() -> PromptRenderer:
    return PromptRenderer()


@pytest.fixture
async def llm(openai_server: FakeOpenAIServer) -> AsyncIterator[LLMClient]:  # noqa: F811
    client = LLMClient(base_url=openai_server.base_url, timeout_s=0.5, max_concurrency=2)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def monza_context() -> dict[str, Any]:
    import copy

    return copy.deepcopy(MONZA_CONTEXT)
