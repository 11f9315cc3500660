"""`RaceLab`: the Race Lab as a service of the bot (issue 16, part 3).

Reads `RaceData` through the store (a thread), fits the race model and runs the Monte
Carlo in a WORKER PROCESS with a time limit, and caches models per (race, data version)
and answers per (race, data version, question) in one bounded LRU. Built once in
`slipstream.wiring.build_app` (on `BotDeps.lab`) and closed in `App.aclose`.

Why a process and not a thread (as `bot.charts` uses): 10,000 simulated races are
~1-2 s of numpy; numpy releases the GIL only inside single operations, so a thread doing
thousands of small array steps would still hold the event loop up for tens of ms at a
time. A process cannot, and a hung job can be killed (a thread cannot).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot.errors import UserError
from bot.lab import jobs
from bot.lab.types import (
    BattleForecast,
    LapRecord,
    RaceData,
    RaceModel,
    RankedStrategy,
    Strategy,
    WhatIf,
    count_passes,
)
from bot.lru import Lru
from storage.lab_data import NoLapData
from storage.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT_TEXT = "The simulation took too long and was stopped; try again in a minute."
BROKEN_TEXT = "The simulation was interrupted; please ask again."


class LabTimeout(UserError):
    """A worker job ran past the time limit (its message is the chat reply)."""


class RaceLab:
    """One per app: the worker process pool and the model/result cache.

    Args:
        store: the bot's store (race data and its version).
        workers: worker processes (1 by default: the machine's cores are shared with the bot).
        timeout_s: time limit of one job, waiting in the queue included.
        cache_size: models + answers kept (LRU).
        runs: simulated races per what-if; `best_runs` per candidate of a strategy search.
        seed: fixed, so the same question gets the same figures (and the cache is honest).
        niceness: how much lower the worker's CPU priority is (0 = the same as the bot's).
    """

    def __init__(
        self, store: Store, *, workers: int = 1, timeout_s: float = 60.0, cache_size: int = 64,
        runs: int = 10_000, best_runs: int = 1_000, seed: int = 16, niceness: int = 10,
    ) -> None:
        self.store = store
        self.workers = max(1, workers)
        self.timeout_s = timeout_s
        self.runs = runs
        self.best_runs = best_runs
        self.seed = seed
        self.niceness = niceness  # the worker's CPU priority below the bot's (`jobs.init_worker`)
        self._pool: ProcessPoolExecutor | None = None
        self._cache: Lru[Any] = Lru(cache_size)
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        # Counters for tests, the bench and logs.
        self.jobs = 0  # jobs finished in a worker
        self.hits = 0  # answers served from the cache
        self.recycles = 0  # pools killed after a time-out or a crash
        self.worker_pids: set[int] = set()

    # ------------------------------------------------------------------ the pool

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Hazard: "fork" copies a parent with live threads (the store's, asyncio's) and
            # their held locks; "spawn" starts a clean interpreter that imports only
            # `bot.lab.jobs` (and numpy).
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=jobs.init_worker, initargs=(self.niceness,))
        return self._pool

    def _recycle(self) -> None:
        """Kill the pool's processes (a hung job cannot be cancelled) and start afresh next time.
        Other jobs queued on it end with `BrokenProcessPool` ("ask again")."""
        if self._pool is not None:
            self.recycles += 1
        self._kill()

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Hazard: ProcessPoolExecutor has no public way to stop a running job before Python
        # 3.14 (`terminate_workers`); `_processes` is its pid → Process map.
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                proc.terminate()
            except Exception:  # already gone
                pass
        pool.shutdown(wait=False, cancel_futures=True)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the worker process, within `timeout_s`; `LabTimeout` when it runs out
        (the pool is then recycled), `UserError` when the worker died."""
        try:
            # Submitted from a thread: the first submit starts the worker (fork + exec of this
            # process, tens of ms), which must not happen on the event loop.
            submitted = await asyncio.to_thread(self._executor().submit, fn, *args)
            return await asyncio.wait_for(asyncio.wrap_future(submitted), self.timeout_s)
        except TimeoutError:
            log.warning("race lab job %s ran past %.0f s: worker recycled", getattr(fn, "__name__", fn),
                        self.timeout_s)
            self._recycle()
            raise LabTimeout(TIMEOUT_TEXT) from None
        except BrokenProcessPool:
            log.warning("race lab worker died during %s: pool recycled", getattr(fn, "__name__", fn))
            self._recycle()
            raise UserError(BROKEN_TEXT) from None

    async def _job(self, fn: Callable[..., tuple[T, int]], *args: Any) -> T:
        value, pid = await self.call(fn, *args)
        self.jobs += 1
        self.worker_pids.add(pid)
        return value

    async def warm(self) -> None:
        """Start the worker and import numpy there (about a second) before the first question."""
        self.worker_pids.add(await self.call(jobs.warm))

    def close(self) -> None:
        """Stop the workers: jobs in progress are abandoned (nobody is waiting at teardown)."""
        self._kill()

    # ------------------------------------------------------------------ the cache

    async def _memo(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """LRU get-or-make with single flight: two fans asking at once share one job."""
        if key in self._cache:
            self.hits += 1
            return self._cache.get(key)
        fut = self._inflight.get(key)
        if fut is None or fut.get_loop() is not asyncio.get_running_loop():
            fut = asyncio.ensure_future(make())
            self._inflight[key] = fut
            try:
                value = await asyncio.shield(fut)
            finally:
                self._inflight.pop(key, None)
        else:
            value = await asyncio.shield(fut)
        self._cache.put(key, value)
        return value

    # ------------------------------------------------------------------ questions

    async def race(self, year: int, round_: int) -> RaceData:
        """The race's data, read once per data version; `UserError` naming races with laps."""
        version = await self.store.check_version()

        async def read() -> RaceData:
            try:
                return await self.store.race_data(year, round_)
            except NoLapData:
                raise UserError(await self.no_laps_text(year, round_)) from None

        return await self._memo(("data", year, round_, version), read)  # type: ignore[no-any-return]

    async def no_laps_text(self, year: int, round_: int) -> str:
        """"No lap data for that race; races with laps: …" (the refusal names where to look)."""
        have = await self.store.races_with_laps(limit=6)
        names = ", ".join(f"{e.name} {e.year}" for e in have) or "none yet"
        ev = await self.store.event_by_round(year, round_)
        what = f"the {ev.year} {ev.name}" if ev else f"round {round_} of {year}"
        return f"I hold no lap data for {what}, so I cannot simulate it. Races with laps: {names}."

    async def model(self, year: int, round_: int) -> RaceModel:
        """The fitted race model, per (race, data version)."""
        data = await self.race(year, round_)
        version = await self.store.check_version()
        return await self._memo(("model", year, round_, version),  # type: ignore[no-any-return]
                                lambda: self._job(jobs.fit_job, data))

    async def whatif(self, year: int, round_: int, code: str, alt: Strategy, *, runs: int | None = None) -> WhatIf:
        model = await self.model(year, round_)
        n = runs or self.runs
        version = await self.store.check_version()
        return await self._memo(("whatif", year, round_, version, code, alt.format(), n),  # type: ignore[no-any-return]
                                lambda: self._job(jobs.whatif_job, model, code, alt, n, self.seed))

    async def best(self, year: int, round_: int, code: str, *, top: int = 5,
                   n_stops: int | None = None) -> list[RankedStrategy]:
        model = await self.model(year, round_)
        version = await self.store.check_version()
        key = ("best", year, round_, version, code, top, self.best_runs, n_stops)
        return await self._memo(key,  # type: ignore[no-any-return]
                                lambda: self._job(jobs.best_job, model, code, self.best_runs, self.seed, top, n_stops))

    async def screen(self, year: int, round_: int, code: str, cands: tuple[Strategy, ...]
                     ) -> list[tuple[Strategy, float, float]]:
        """Candidates (a stop moved over a few laps) against the actual, `best_runs` each."""
        model = await self.model(year, round_)
        version = await self.store.check_version()
        key = ("screen", year, round_, version, code, tuple(c.format() for c in cands), self.best_runs)
        return await self._memo(key,  # type: ignore[no-any-return]
                                lambda: self._job(jobs.screen_job, model, code, cands, self.best_runs, self.seed))

    async def battle(self, year: int, round_: int, chaser: str, leader: str, lap: int) -> BattleForecast:
        """The forecast from the two cars' laps up to `lap` (pure and fast, but it needs the
        fitted model's circuit parameters, so it runs where the model is made)."""
        model = await self.model(year, round_)
        data = await self.race(year, round_)
        laps: tuple[LapRecord, ...] = tuple(r for r in data.laps if r.code in (chaser, leader) and r.lap <= lap)
        passes = count_passes(data.laps, up_to=lap)  # the race's on-track passes up to `lap` only
        version = await self.store.check_version()
        return await self._memo(("battle", year, round_, version, chaser, leader, lap),  # type: ignore[no-any-return]
                                lambda: self._job(jobs.battle_job, laps, chaser, leader, lap,
                                                  model.circuit_params(), passes))


__all__ = ["BROKEN_TEXT", "TIMEOUT_TEXT", "LabTimeout", "RaceLab"]
