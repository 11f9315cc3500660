"""`Store`: the bot's async face of `storage.queries`.

Each method runs one synchronous query in a worker thread so the event loop
never blocks on the database. One engine is passed in (wired in
`slipstream.wiring`); the store owns no global state.

Lists the resolver reads on every question (seasons, events, drivers, teams) and
the indexes built from them (`derive`) are cached by DATA VERSION, not by time:
every ingest and history import records an `ingest_run` row in the same
transaction as its data, so `(count, max id)` of that table changes exactly when
race data changes, in this process or any other (ingest child, a second worker
on PostgreSQL). The version is read with one tiny query at most every
`version_check_s` seconds; between writes the cached objects live on unchanged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine

from storage import chart_data as cd
from storage import claims, lab_data
from storage import conversations as conv
from storage import queries as q
from storage.lab_types import RaceData
from storage.versions import DataVersion, data_version

T = TypeVar("T")


class Store:
    """Async read API over one engine (and the bot's one write: conversation memory)."""

    def __init__(
        self, engine: Engine, *, version_check_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self._version_check_s = version_check_s
        self._clock = clock
        self._version: DataVersion | None = None
        self._checked_at = float("-inf")
        # Values of the current data version only: a new version drops them all, so
        # stale lists and indexes never pile up.
        self._cache: dict[Any, Any] = {}
        self._generation = 0  # bumped with every drop: in-flight reads never cross it
        self._inflight: dict[Any, asyncio.Future[Any]] = {}
        self.rebuilds = 0  # values built since start (bench and tests read it)
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

    @property
    def data_version(self) -> DataVersion | None:
        """The race-data version the cached values belong to (None before the first check)."""
        return self._version

    async def check_version(self, *, force: bool = False) -> DataVersion:
        """Read the data version if the last read is older than `version_check_s`.

        One check runs at a time: a burst of questions shares it. A changed version
        drops every cached value, so the next read rebuilds it (in a worker thread).
        """
        if not force and self._version is not None and (
            self._clock() - self._checked_at < self._version_check_s
        ):
            return self._version
        return await self._single(("version",), self._read_version)  # type: ignore[no-any-return]

    async def _read_version(self) -> DataVersion:
        version = await asyncio.to_thread(data_version, self.engine)
        self._checked_at = self._clock()
        if version != self._version:
            self._drop()
            self._version = version
        return version

    async def derive(
        self, key: Any, build: Callable[..., T], inputs: Callable[[], Awaitable[tuple[Any, ...]]]
    ) -> T:
        """`build(*await inputs())` computed once per data version, in a worker thread.

        For what is built FROM cached lists (the resolver's indexes): built off the
        event loop, shared by concurrent callers, dropped with the version. The inputs
        are read inside the computation, so a value is only ever kept with the version
        of the lists it was built from.
        """
        async def make() -> T:
            args = await inputs()
            return await asyncio.to_thread(build, *args)

        await self.check_version()
        return await self._memo(("derive", key), make)  # type: ignore[no-any-return]

    async def _cached(self, key: Any, fn: Callable[..., T], *args: Any) -> T:
        await self.check_version()
        return await self._memo(key, lambda: self.run(fn, *args))  # type: ignore[no-any-return]

    def _drop(self) -> None:
        self._cache = {}
        self._generation += 1

    async def _memo(self, key: Any, make: Callable[[], Awaitable[Any]]) -> Any:
        cache = self._cache
        if key in cache:
            return cache[key]
        # Hazard: a read started before a new version was seen may hold older rows; keyed
        # by generation, callers after the drop never join it.
        value = await self._single((self._generation, key), make)
        if cache is self._cache:  # not dropped by a newer version meanwhile
            cache[key] = value
        return value

    async def _single(self, key: Any, make: Callable[[], Awaitable[Any]]) -> Any:
        """Single flight: concurrent callers of one key share one computation.

        Hazard: a future belongs to the loop that made it, and a store can outlive a
        loop (tests, CLI commands calling `asyncio.run` twice): only share within one.
        """
        loop = asyncio.get_running_loop()
        fut = self._inflight.get(key)
        if fut is None or fut.get_loop() is not loop:
            fut = asyncio.ensure_future(make())
            self._inflight[key] = fut
            fut.add_done_callback(lambda f, k=key: self._inflight.pop(k, None) if self._inflight.get(k) is f else None)
            if key != ("version",):  # a value, not the version check
                self.rebuilds += 1
        # shield: one caller cancelled (a timed-out question) must not cancel the others' read.
        return await asyncio.shield(fut)

    def invalidate(self) -> None:
        """Forget cached values now (an in-process ingest; others are seen within `version_check_s`)."""
        self._drop()
        self._checked_at = float("-inf")

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

    # -- charts (whole-session and whole-season tables, see storage.chart_data)
    async def chart_laps(
        self, session_id: int, *, first: int | None = None, last: int | None = None
    ) -> list[cd.ChartLap]:
        return await self.run(cd.session_laps, session_id, first=first, last=last)

    async def races_with_laps(self, *, limit: int = 5) -> list[q.EventInfo]:
        return await self.run(cd.races_with_laps, limit=limit)

    # -- Race Lab (storage.lab_data): one race's laps, stops, classification and history
    async def race_data(self, year: int, round_: int) -> RaceData:
        """Raises `storage.lab_data.NoLapData` when the race or its laps are not stored."""
        return await self.run(lab_data.race_data, year, round_)

    async def season_results(self, year: int, session_type: str = "R") -> list[cd.SeasonResult]:
        return await self.run(cd.season_results, year, session_type)

    async def points_by_round(self, year: int, *, up_to: int | None = None) -> list[cd.PointsRow]:
        return await self.run(cd.points_by_round, year, up_to=up_to)

    async def season_rounds(self, year: int) -> dict[int, str]:
        return await self.run(cd.season_rounds, year)

    async def latest_season_with_results(self) -> int | None:
        return await self.run(cd.latest_season_with_results)

    async def team_colours(self, year: int) -> dict[str, str]:
        return await self._cached(("team_colours", year), q.team_colours, year)

    async def flags(self, session_id: int) -> q.FlagsReport | None:
        return await self.run(q.flags, session_id)

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

    # -- event claims and rate counters (shared by every worker on this database)
    async def claim_event(self, key: str, *, ttl_s: float) -> bool:
        """True when this worker is the first to take event `key` (see `storage.claims`)."""
        return await self._claims(claims.claim_event, key, ttl_s=ttl_s, now=time.time())

    async def hit_rate(self, key: str, *, limit: int, window_s: float) -> float | None:
        """A rate-limit hit counted across workers: None, or the seconds to wait."""
        return await self._claims(claims.hit_rate, key, limit=limit, window_s=window_s, now=time.time())

    async def prune_claims(self) -> int:
        return await self._claims(claims.prune, now=time.time())

    async def _claims(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # SQLite has one writer: these small writes join the writer thread's queue rather
        # than fight for the file lock from the shared pool. PostgreSQL takes them in parallel.
        if self.engine.dialect.name == "sqlite":
            return await self._write(fn, *args, **kwargs)
        return await self.run(fn, *args, **kwargs)


def _last_event(engine: Engine, year: int | None, session_type: str) -> q.EventInfo | None:
    return q.last_event_with_results(engine, year=year, session_type=session_type)


def _last_laps(engine: Engine, year: int | None) -> q.EventInfo | None:
    return q.last_event_with_laps(engine, year=year)
