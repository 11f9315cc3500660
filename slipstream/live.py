"""The production live feed: re-ingest the running session every minute or so.

`Service._live` (job `live:<session>`, from 2 min before the start to 20 min
after the end) calls `poll(slot)` in a loop and runs Track Pulse whenever it
returns new laps; the detectors give the same keys lap by lap as for the whole
race, so only what is new is queued. This feed makes `poll` real: it re-runs
the child-process ingest of `storage.ingest` for that ONE session (FastF1 in a
spawned worker, time-limited), at most once per `interval_s`, and reports how
many laps the store gained.

It calls `storage.ingest.ingest_session(...)`, the public single-session step:
an explicitly requested session is attempted whether or not it has ended (a
season-wide `ingest()` only tries sessions that have ended). Same child process,
same one-transaction write, same content-hash skip (an unchanged poll writes
nothing); the stored schedule is used, so a poll never re-downloads it.

Limit: FastF1's static archive is published for completed sessions, so in
production the laps usually land in one burst near the end of the window (or
the `ingest:` job gets them); see docs/service.md "Live mode".

Hazards handled here:
- FastF1's pickle cache never expires: a partial session loaded at lap 12 would
  be served again at lap 40. Online, every poll therefore loads into a scratch
  cache directory of its own (`<cache>/live/<year>-<round>-<type>`), wiped first.
- Nothing published yet, a timeout, a crash or `exit()` in FastF1, a DB error:
  logged, recorded in `state(...)`, retried at the next poll; `poll` never raises.
- One FastF1 worker is kept for the whole window (spawning + importing FastF1
  costs 1-2 s a poll) and closed when the window ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from storage.jobs import SessionSlot, lap_count, load_slot, session_complete

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One poll of one session, as `state()` reports it."""

    outcome: str  # added / updated / skipped / failed / throttled
    new_laps: int
    laps: int  # laps of the session in the store after the poll
    reason: str = ""
    seconds: float = 0.0


@dataclass
class LiveState:
    """What the feed knows about one session's live window."""

    polls: list[PollRecord] = field(default_factory=list)
    last_attempt: float | None = None  # monotonic seconds of the last ingest attempt
    complete: bool = False  # laps (and results for classified sessions) are stored
    done: bool = False  # the window is over for this feed (runner released)

    @property
    def attempts(self) -> list[PollRecord]:
        return [p for p in self.polls if p.outcome != "throttled"]

    @property
    def failures(self) -> int:
        return sum(1 for p in self.polls if p.outcome == "failed")


class IngestLiveFeed:
    """`LiveFeed` for production: poll = re-ingest this one session, report the new laps.

    `offline=True` reads `cache_dir` as is (tests, replays of a recorded cache);
    `offline=False` downloads through FastF1 into a fresh scratch cache each poll.
    `interval_s` is in real (monotonic) seconds and bounds how often FastF1 is
    asked, however often the service polls.
    """

    def __init__(
        self,
        engine: Engine,
        cache_dir: str | Path,
        *,
        offline: bool = False,
        interval_s: float = 60.0,
        timeout_s: float = 90.0,
        clock: Callable[[], dt.datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.cache_dir = Path(cache_dir).expanduser()
        self.offline = offline
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.monotonic = monotonic
        self._states: dict[int, LiveState] = {}
        self._runner: Any | None = None  # storage.ingest.ChildRunner, kept for the window
        self._lock = asyncio.Lock()  # one FastF1 worker: one ingest at a time

    # ----------------------------------------------------------------- LiveFeed protocol
    async def poll(self, slot: SessionSlot) -> int:
        """Re-ingest `slot` if `interval_s` has passed; return how many laps the store gained."""
        state = self.state(slot.session_id)
        now = self.monotonic()
        if state.last_attempt is not None and now - state.last_attempt < self.interval_s:
            state.polls.append(
                PollRecord("throttled", 0, state.polls[-1].laps if state.polls else 0)
            )
            return 0
        state.last_attempt = now
        state.done = False
        async with self._lock:
            t0 = time.perf_counter()
            try:
                record, complete = await asyncio.to_thread(self._ingest_once, slot)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # DB down, bad cache dir ...: the next poll tries again
                log.warning(
                    "live %s: poll failed: %s: %s; retrying at the next poll",
                    slot.session_id,
                    type(exc).__name__,
                    exc,
                )
                record = PollRecord(
                    "failed",
                    0,
                    state.polls[-1].laps if state.polls else 0,
                    f"{type(exc).__name__}: {exc}"[:300],
                )
                complete = state.complete
            record = PollRecord(
                record.outcome,
                record.new_laps,
                record.laps,
                record.reason,
                time.perf_counter() - t0,
            )
        state.polls.append(record)
        state.complete = complete
        if record.outcome == "failed":
            log.warning("live %s: %s; retrying at the next poll", slot.session_id, record.reason)
        else:
            log.info(
                "live %s: %s, %d new laps (%d stored) in %.2f s%s",
                slot.session_id,
                record.outcome,
                record.new_laps,
                record.laps,
                record.seconds,
                f" ({record.reason})" if record.reason else "",
            )
        return record.new_laps

    def finished(self, slot: SessionSlot) -> bool:
        """Nothing more to come: the session has ended, its data is complete and the
        last real poll changed nothing. (Otherwise the service's window decides.)"""
        state = self._states.get(slot.session_id)
        if state is None or not state.complete or slot.start_utc is None:
            return False
        # Same fallback as the service's window: schedules often carry no end time.
        end = slot.end_utc or slot.start_utc + dt.timedelta(hours=2)
        if self.clock() < end:
            return False
        attempts = state.attempts
        if not attempts or attempts[-1].outcome != "skipped":
            return False
        return True

    async def end(self, slot: SessionSlot) -> None:
        """The service's live window is over: release the FastF1 worker."""
        async with self._lock:
            await asyncio.to_thread(self._release, slot)

    # ----------------------------------------------------------------- inspection
    def state(self, session_id: int) -> LiveState:
        return self._states.setdefault(session_id, LiveState())

    # ----------------------------------------------------------------- internals
    def _release(self, slot: SessionSlot) -> None:
        self.state(slot.session_id).done = True
        if all(s.done for s in self._states.values()) and self._runner is not None:
            runner, self._runner = self._runner, None
            runner.close()

    def _poll_cache(self, slot: SessionSlot) -> Path:
        if self.offline:
            return self.cache_dir
        # Online: FastF1 would serve a partial session from its pickles forever; start clean.
        scratch = self.cache_dir / "live" / f"{slot.year}-{slot.round:02d}-{slot.type}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch

    def _ingest_once(self, slot: SessionSlot) -> tuple[PollRecord, bool]:
        """One ingest of the session (blocking: child process + DB). Never raises for a
        FastF1 problem or bad input: that comes back as a `failed` record."""
        from storage.ingest import ChildRunner, IngestError, ingest_session

        before = lap_count(self.engine, slot.session_id)
        # The slot's id is the identity: resolve year / round / type from the store, so a
        # stale or foreign slot never ingests some other session under that name.
        stored = load_slot(self.engine, slot.session_id)
        if stored is None:
            return PollRecord("failed", 0, before, "session not in the stored schedule"), False
        if self._runner is None:
            self._runner = ChildRunner()
        year, round_, type_ = stored.year, stored.round, stored.type
        try:
            out = ingest_session(
                self.engine,
                year,
                round_,
                type_,
                cache_dir=self._poll_cache(slot),
                offline=self.offline,
                runner=self._runner,
                timeout_s=self.timeout_s,
            )
        except IngestError as exc:  # missing cache dir and the like: retried next poll
            return PollRecord("failed", 0, before, str(exc)[:300]), False
        after = lap_count(self.engine, slot.session_id)
        complete = session_complete(self.engine, stored.session_id, stored.type)
        return PollRecord(out.outcome, max(after - before, 0), after, out.reason or ""), complete


def default_live_feed(
    engine: Engine,
    ingest: Any,
    *,
    clock: Callable[[], dt.datetime] = _utcnow,
    interval_s: float = 60.0,
    timeout_s: float = 90.0,
) -> IngestLiveFeed | None:
    """The live feed matching the service's store ingest (`slipstream.service.StoreIngest`),
    so `slipstream run` polls the same cache and mode. None for any other ingest hook."""
    from slipstream.service import StoreIngest

    if not isinstance(ingest, StoreIngest):
        return None
    return IngestLiveFeed(
        engine, ingest.cache_dir, offline=ingest.offline, interval_s=interval_s, timeout_s=timeout_s,
        clock=clock,
    )
