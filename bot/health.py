"""What each configured part of a running service reports about itself, for `/healthz`.

Adapters report their connection (`up()` once they can take events, `down(reason)`
when they cannot, with a reason an admin can act on, e.g. "login failed: 401
Unauthorized"). A part that never reported is down ("not connected yet"): a
configured adapter that never connected must not look healthy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

StateReport = Callable[[bool, str], None]  # (up, detail): what an adapter is given


@dataclass(slots=True)
class PartState:
    up: bool
    detail: str


class HealthBoard:
    """The state of each expected part; `changed` wakes whoever waits for "all up"."""

    def __init__(self) -> None:
        self._parts: dict[str, PartState] = {}
        self.changed = asyncio.Event()

    def expect(self, name: str) -> StateReport:
        """Register a part (down until it reports) and return its reporting callback."""
        self._parts[name] = PartState(False, "not connected yet")

        def report(up: bool, detail: str = "") -> None:
            self.set(name, up, detail)

        return report

    def set(self, name: str, up: bool, detail: str = "") -> None:
        self._parts[name] = PartState(up, detail or ("up" if up else "down"))
        self.changed.set()

    def down_parts(self) -> dict[str, str]:
        """{part: why} for every part that is not up."""
        return {n: s.detail for n, s in self._parts.items() if not s.up}

    def all_up(self) -> bool:
        return all(s.up for s in self._parts.values())

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {n: {"up": s.up, "detail": s.detail} for n, s in self._parts.items()}
