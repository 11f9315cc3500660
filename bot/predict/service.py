"""`Predictor`: the async face of the predictions model (built once in `build_app`).

All model work runs in one worker thread of its own (never on the event loop;
one thread also serialises updates against forecasts). Forecasts are cached by
(arguments, posterior version, race-data version): a repeat question is free,
and a new result or a new posterior drops them all.

`PredictCore` is the synchronous part (the CLI and the bench call it directly).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from bot.lru import Lru
from bot.predict import forecast as fc
from bot.predict.model import Fit, Params, State, fit
from bot.predict.simulate import Weekend
from bot.predict.types import (
    PredictUnavailable,
    RaceForecast,
    TitleForecast,
    TitleKind,
    UpdateReport,
)
from storage import aggregates as agg
from storage import predict_store as ps
from storage.store import Store
from storage.versions import data_version

log = logging.getLogger(__name__)

NOT_IN_CALENDAR = "Round {round} is not in the {year} calendar I hold."
NO_SEASON_RESULTS = "The {year} season has no results yet, so there are no standings to start from."
NO_STANDINGS = "I hold no {kind} standings for {year} after round {round}."
CACHE_SIZE = 256


class PredictCore:
    """Synchronous model service over one engine: fit, update, forecast."""

    def __init__(self, engine: Engine, *, params: Params | None = None, seed: int = 17,
                 draws: int = 250, sims: int = 16, title_draws: int = 100, title_sims: int = 20) -> None:
        self.engine = engine
        self.params = params or Params()
        self.seed, self.draws, self.sims = seed, draws, sims
        self.title_draws, self.title_sims = title_draws, title_sims
        self._fit: Fit | None = None
        self._stored: ps.StoredPosterior | None = None
        self._history: list[ps.RaceRows] = []
        self._data_version: Any = None
        self._cache: Lru[Any] = Lru(CACHE_SIZE)

    # ------------------------------------------------------------------ state

    def _load(self) -> UpdateReport | None:
        """Reload the history and the posterior when the race data or the posterior changed.

        Returns the report of the first fit when the store had no posterior yet.
        """
        dv = data_version(self.engine)
        if dv != self._data_version:
            self._history = ps.race_history(self.engine)
            self._data_version = dv
            self._cache.clear()
        version = ps.posterior_version(self.engine)
        if self._stored is not None and version == self._stored.version:
            return None  # the posterior in memory is current
        stored = ps.latest_posterior(self.engine)
        if stored is None and any(r.race for r in self._history):
            return self._save_refit(self._history, time.perf_counter(), "first fit")
        if stored is not None and (self._stored is None or stored.version != self._stored.version):
            self._fit, self._stored = Fit.loads(stored.blob), stored
            self._cache.clear()
        return None

    def _fitted_at(self) -> dt.datetime:
        at = self._stored.fitted_at if self._stored else time.time()
        return dt.datetime.fromtimestamp(at, dt.UTC)

    def _save_refit(self, history: list[ps.RaceRows], t0: float, note: str) -> UpdateReport:
        f = fit(history, self.params)
        hashes = {(r.year, r.round): ps.race_hash(r) for r in history if r.race}
        stored = ps.save_posterior(self.engine, f.dumps(), through=f.state.through, races=f.state.races,
                                   hashes=hashes, replace=True)
        self._fit, self._stored = f, stored
        self._cache.clear()
        return UpdateReport(f.state.races, None, True, time.perf_counter() - t0, f.state.through, stored.version,
                            (note,))

    def refit(self) -> UpdateReport:
        t0 = time.perf_counter()
        self._history = ps.race_history(self.engine)
        self._data_version = data_version(self.engine)
        return self._save_refit(self._history, t0, "full refit")

    def fold_new_results(self) -> UpdateReport:
        """Fold new races; refold from the season of the earliest changed or inserted one."""
        t0 = time.perf_counter()
        self._data_version = None  # force a fresh read of the history
        first = self._load()
        if first is not None:
            return first
        stored, f = self._stored, self._fit
        if stored is None or f is None:
            return UpdateReport(0, None, False, time.perf_counter() - t0, None, 0, ("no history",))
        races = [r for r in self._history if r.race]
        hashes = {(r.year, r.round): ps.race_hash(r) for r in races}
        folded = ps.folded_hashes(self.engine)
        pos = {(r.year, r.round): i for i, r in enumerate(races)}
        changed = [k for k, h in folded.items() if hashes.get(k) != h]  # edited or removed
        new = [k for k in hashes if k not in folded]
        last_folded = max((pos[k] for k in folded if k in pos), default=-1)
        inserted = [k for k in new if pos[k] < last_folded]
        if not changed and not new:
            return UpdateReport(0, None, False, time.perf_counter() - t0, f.state.through, stored.version)
        if changed or inserted:
            start = min(changed + inserted, key=lambda k: (pos.get(k, -1), k))
            year = start[0]
            snap = f.snapshots.get(year)
            if snap is None:
                return self._save_refit(races, t0, "refit (no snapshot)")
            base = Fit(snap.copy(), {y: s for y, s in f.snapshots.items() if y < year})
            todo = [r for r in races if r.year >= year]
            nf = fit(todo, self.params, start=base)
            saved = ps.save_posterior(self.engine, nf.dumps(), through=nf.state.through, races=nf.state.races,
                                      hashes=hashes, replace=True)
            self._fit, self._stored = nf, saved
            self._cache.clear()
            return UpdateReport(len(todo), (year, min(r.round for r in todo if r.year == year)), False,
                                time.perf_counter() - t0, nf.state.through, saved.version,
                                (f"changed {len(changed)}, inserted {len(inserted)}",))
        todo = [r for r in races if (r.year, r.round) in set(new)]
        nf = fit(todo, self.params, start=f)
        saved = ps.save_posterior(self.engine, nf.dumps(), through=nf.state.through, races=nf.state.races,
                                  hashes={(r.year, r.round): hashes[(r.year, r.round)] for r in todo}, replace=False)
        self._fit, self._stored = nf, saved
        self._cache.clear()
        return UpdateReport(len(todo), None, False, time.perf_counter() - t0, nf.state.through, saved.version)

    @property
    def state(self) -> State | None:
        return self._fit.state if self._fit else None

    def _cached(self, key: Any, make: Any) -> Any:
        full = (key, self._stored.version if self._stored else 0, self._data_version)
        hit = self._cache.get(full)
        if hit is None:
            hit = make()
            self._cache.put(full, hit)
        return hit

    # ------------------------------------------------------------------ forecasts

    def race(self, year: int, round_: int, *, after_quali: bool | None = None) -> RaceForecast:
        self._load()
        if self._fit is None:
            raise PredictUnavailable(fc.NO_HISTORY)
        fit_ = self._fit

        def make() -> RaceForecast:
            cal = {e.round: e.name for e in ps.calendar(self.engine, year)}
            wk = next((r for r in self._history if (r.year, r.round) == (year, round_)), None)
            name = cal.get(round_) or (wk.name if wk else None)
            if name is None:
                raise PredictUnavailable(NOT_IN_CALENDAR.format(year=year, round=round_))
            return fc.race_forecast(fit_, self._history, year=year, round_=round_, event_name=name,
                                    after_quali=after_quali, p=self.params, seed=self.seed,
                                    fitted_at=self._fitted_at(), draws=self.draws, sims=self.sims)

        return self._cached(("race", year, round_, after_quali), make)  # type: ignore[no-any-return]

    def title(self, year: int, *, after_round: int | None = None, kind: TitleKind = "drivers") -> TitleForecast:
        self._load()
        if self._fit is None:
            raise PredictUnavailable(fc.NO_HISTORY)
        fit_ = self._fit

        def make() -> TitleForecast:
            rnd = after_round
            if rnd is None:
                rnd = max((r.round for r in self._history if r.year == year and r.race), default=None)
                if rnd is None:
                    raise PredictUnavailable(NO_SEASON_RESULTS.format(year=year))
            standings = ps.standings_points(self.engine, kind, year, rnd)
            if not standings:
                raise PredictUnavailable(NO_STANDINGS.format(kind=kind[:-1], year=year, round=rnd))
            left = agg.points_left(self.engine, kind, year, rnd)
            last = agg.final_round(self.engine, year)
            weekends = [Weekend(r.round, bool(r.sprint), year == 2014 and r.round == last) for r in left.races]
            tf = fc.title_forecast(fit_, self._history, year=year, after_round=rnd, kind=kind,
                                   standings=standings, remaining=weekends, max_points=left.max_points,
                                   p=self.params, seed=self.seed, fitted_at=self._fitted_at(),
                                   draws=self.title_draws, sims=self.title_sims)
            unknown = sum(r.sprint is None for r in left.races) if left.max_if_sprints > left.max_points else 0
            return dataclasses.replace(tf, sprints_unknown=unknown)

        return self._cached(("title", year, after_round, kind), make)  # type: ignore[no-any-return]

    def next_race(self, now: dt.datetime) -> tuple[int, int] | None:
        self._load()
        run = {(r.year, r.round) for r in self._history if r.race}
        for e in ps.future_events(self.engine, (now - dt.timedelta(days=1)).date()):
            if (e.year, e.round) not in run:
                return e.year, e.round
        return None


class Predictor:
    """Race and championship forecasts over the stored posterior (async, one worker thread)."""

    def __init__(self, store: Store, *, params: Params | None = None, seed: int = 17, draws: int = 250,
                 sims: int = 16) -> None:
        self.store = store
        self.core = PredictCore(store.engine, params=params, seed=seed, draws=draws, sims=sims)
        # One thread: numpy releases the GIL in its kernels, and one thread keeps an
        # update from racing a forecast over the in-memory fit.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def race(self, year: int, round: int, *, after_quali: bool | None = None) -> RaceForecast:
        """Forecast one race; `after_quali=None` uses the grid when qualifying is stored."""
        return await self._run(self.core.race, year, round, after_quali=after_quali)  # type: ignore[no-any-return]

    async def title(
        self, year: int, *, after_round: int | None = None, kind: TitleKind = "drivers",
    ) -> TitleForecast:
        """Championship odds after `after_round` (None = the last round with results)."""
        return await self._run(self.core.title, year, after_round=after_round, kind=kind)  # type: ignore[no-any-return]

    async def next_race(self, now: dt.datetime) -> tuple[int, int] | None:
        """(year, round) of the next race that has not been run, or None."""
        return await self._run(self.core.next_race, now)  # type: ignore[no-any-return]

    async def fold_new_results(self) -> UpdateReport:
        """Fold new or changed races (found by content hash) into the posterior."""
        rep: UpdateReport = await self._run(self.core.fold_new_results)
        log.info("predictions updated: %d race(s) folded in %.2f s (version %d)", rep.races_folded, rep.seconds,
                 rep.version)
        return rep

    async def refit(self) -> UpdateReport:
        """Rebuild the posterior from the whole history."""
        return await self._run(self.core.refit)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the worker thread (queued work finishes first)."""
        self._pool.shutdown(wait=True)
