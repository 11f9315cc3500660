"""`Store`: the bot's async face of `storage.queries`.

Each method runs one synchronous query in a worker thread so the event loop
never blocks on the database. One engine is passed in (wired in
`slipstream.wiring`); the store owns no global state. The event list is cached
briefly because the resolver scans it on every question.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from storage import conversations as conv
from storage import queries as q

T = TypeVar("T")


class Store:
    """Async read API over one engine (and the bot's one write: conversation memory)."""

    def __init__(self, engine: Engine, *, cache_ttl_s: float = 30.0) -> None:
        self.engine = engine
        self._cache_ttl_s = cache_ttl_s
        self._cache: dict[Any, tuple[float, Any]] = {}
        # Writes get a thread of their own: on SQLite they queue for one lock anyway, and
        # a burst of them waiting in the shared pool would hold up every read behind them.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run any `queries` function (or other sync read) off the event loop."""
        return await asyncio.to_thread(fn, self.engine, *args, **kwargs)

    async def _write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(self.engine, *args, **kwargs))

    def close(self) -> None:
        """Let queued writes finish, then stop the writer thread."""
        self._writer.shutdown(wait=True)

    async def _cached(self, key: Any, fn: Callable[..., T], *args: Any) -> T:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._cache_ttl_s:
            return hit[1]  # type: ignore[no-any-return]
        value = await self.run(fn, *args)
        self._cache[key] = (now, value)
        return value

    def invalidate(self) -> None:
        """Forget cached lists (call after an ingest)."""
        self._cache.clear()

    # -- seasons & events
    async def seasons(self) -> list[int]:
        return await self._cached("seasons", q.seasons)

    async def events(self, year: int | None = None) -> list[q.EventInfo]:
        return await self._cached(("events", year), q.events, year)

    async def event_by_round(self, year: int, round_: int) -> q.EventInfo | None:
        return await self.run(q.event_by_round, year, round_)

    async def last_event_with_results(
        self, *, year: int | None = None, session_type: str = "R"
    ) -> q.EventInfo | None:
        return await self._cached(
            ("last", year, session_type), _last_event, year, session_type
        )

    async def last_event_with_laps(self, *, year: int | None = None) -> q.EventInfo | None:
        return await self._cached(("last_laps", year), _last_laps, year)

    # -- sessions & results
    async def session_for(self, event_id: int, session_type: str) -> q.SessionInfo | None:
        return await self.run(q.session_for, event_id, session_type)

    async def sessions_of_event(self, event_id: int) -> list[q.SessionInfo]:
        return await self.run(q.sessions_of_event, event_id)

    async def results(self, session_id: int) -> q.Classification | None:
        return await self.run(q.results, session_id)

    async def laps_of_driver(
        self, session_id: int, driver_id: int, *, first: int | None = None, last: int | None = None
    ) -> list[q.LapRow]:
        return await self.run(q.laps_of_driver, session_id, driver_id, first=first, last=last)

    async def stints(self, session_id: int, driver_id: int | None = None) -> list[q.StintRow]:
        return await self.run(q.stints, session_id, driver_id)

    async def pit_stops(self, session_id: int, driver_id: int | None = None) -> list[q.PitStopRow]:
        return await self.run(q.pit_stops, session_id, driver_id)

    async def fastest_lap(self, session_id: int) -> q.FastestLap | None:
        return await self.run(q.fastest_lap, session_id)

    async def has_laps(self, session_id: int) -> bool:
        return await self.run(q.has_laps, session_id)

    # -- standings & schedule
    async def standings(
        self, kind: str = "drivers", year: int | None = None, round_: int | None = None
    ) -> q.Standings | None:
        return await self.run(q.standings, kind, year, round_)

    async def upcoming_sessions(self, now: dt.datetime, *, limit: int = 10) -> list[q.ScheduleItem]:
        return await self.run(q.upcoming_sessions, now, limit=limit)

    async def season_schedule(self, year: int) -> list[q.ScheduleItem]:
        return await self.run(q.season_schedule, year)

    # -- drivers & teams
    async def find_drivers(self, text: str, *, year: int | None = None) -> list[q.DriverInfo]:
        return await self.run(q.find_drivers, text, year=year)

    async def all_drivers(self) -> list[q.DriverInfo]:
        return await self._cached("drivers", q.all_drivers)

    async def drivers_in_season(self, year: int) -> list[q.DriverInfo]:
        return await self._cached(("drivers", year), q.drivers_in_season, year)

    async def driver_form(self, driver_id: int, year: int) -> q.DriverForm | None:
        return await self.run(q.driver_form, driver_id, year)

    async def last_year_of_driver(self, driver_id: int) -> int | None:
        return await self.run(q.last_year_of_driver, driver_id)

    async def constructors_in_season(self, year: int) -> list[tuple[str, str]]:
        return await self._cached(("teams", year), q.constructors_in_season, year)

    # -- conversation memory (shared by every process on this database)
    async def conversation(self, conversation_id: str) -> conv.ConversationState | None:
        return await self.run(conv.load_conversation, conversation_id)

    async def save_conversation(
        self, conversation_id: str, state: conv.ConversationState, now: dt.datetime, *, max_turns: int
    ) -> None:
        await self._write(conv.save_conversation, conversation_id, state, now, max_turns=max_turns)

    async def has_conversation(self, conversation_id: str) -> bool:
        return await self.run(conv.conversation_exists, conversation_id)

    async def prune_conversations(self, older_than: dt.datetime) -> int:
        return await self._write(conv.prune_conversations, older_than)


def _last_event(engine: Engine, year: int | None, session_type: str) -> q.EventInfo | None:
    return q.last_event_with_results(engine, year=year, session_type=session_type)


def _last_laps(engine: Engine, year: int | None) -> q.EventInfo | None:
    return q.last_event_with_laps(engine, year=year)
