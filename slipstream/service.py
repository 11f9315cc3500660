"""The running service: leader election, the job scheduler, live polling, delivery.

Shape:
- every process runs `Service.run(stop)`; only the leader (see `storage.leader`)
  starts the scheduler, the highlight deliverer and the reminder sender;
- APScheduler 3 (`AsyncIOScheduler`, used through its public API only) is the
  alarm clock. What has to run is planned by `bot.scheduling.plan` from the
  sessions and the job ledger (`storage.jobs`), and the jobs are (re)added to an
  in-memory job store from that plan at start and after every job: the ledger,
  not a persisted job store, is the record of what ran (see docs/service.md,
  "Why the jobs are rebuilt"). A job claims its ledger key before it runs, so no
  key ever runs twice, however often it fires;
- ingestion goes through `storage.ingest` (FastF1 in a child process with a
  time limit): a hang, crash or `exit()` there becomes a failed attempt, retried
  with back-off, never a dead bot.
- The clock is injected. With the real clock the scheduler fires jobs itself;
  with `autowake=False` (a fake clock: tests, replays) it is started paused and
  `run_due()` / `tick()` start the jobs the plan says are due by that clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.model import ChannelPoster
from bot.reminders import ReminderSender
from bot.scheduling import KIND_ORDER, JobSpec, Policy, plan
from storage.jobs import (
    SessionSlot,
    claim_job,
    finish_job,
    load_ledger,
    load_slot,
    load_slots,
    renew_job,
    session_complete,
)
from storage.leader import Leadership, default_holder_id, make_leadership
from storage.reminders import enqueue_reminders, wanted_offsets

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
JOB_PREFIXES = ("schedule:", "live:", "reminder:", "ingest:", "pulse:", "summary:", "final:", "pulse_final:")
RECONCILE_JOB = "reconcile"  # the periodic re-plan (not a ledger job)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _now(clock: Clock) -> dt.datetime:
    """The clock's "now" as aware UTC (a naive clock value is taken as UTC)."""
    now = clock()
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- hooks


@dataclass(frozen=True, slots=True)
class IngestResult:
    """One ingestion attempt, as the service judges it."""

    complete: bool  # laps (and results, where a session has them) are in the store
    outcome: str  # added / updated / skipped / failed
    message: str = ""


class LiveFeed(Protocol):
    """New laps during a session: real polling, or a recorded feed replayed in tests."""

    async def poll(self, slot: SessionSlot) -> int:
        """Write what is new into the store; return how many laps were added."""

    def finished(self, slot: SessionSlot) -> bool:
        """True when there is nothing more to come (the replay ran out)."""


IngestFn = Callable[[SessionSlot], Awaitable[IngestResult]]
SessionFn = Callable[[int], Awaitable[Any]]
ScheduleFn = Callable[[int], Awaitable[int]]


class JobError(Exception):
    """An expected job failure (source unreachable, data missing): one log line, no traceback."""


@dataclass(frozen=True, slots=True)
class StoreIngest:
    """Ingest one session through `storage.ingest` (FastF1 in a child process, time-limited).

    Its cache and mode are public: the production live feed (`slipstream.live.default_live_feed`)
    polls the same FastF1 cache, online or offline alike.
    """

    engine: Engine
    cache_dir: Path
    offline: bool = False
    timeout_s: float = 300.0

    async def __call__(self, slot: SessionSlot) -> IngestResult:
        from storage.ingest import IngestError, ingest_async

        try:
            report = await ingest_async(
                self.engine, slot.year, slot.round, slot.type,
                cache_dir=self.cache_dir, offline=self.offline, timeout_s=self.timeout_s,
            )
        except IngestError as exc:
            return IngestResult(False, "failed", str(exc))
        outcome = report.sessions[0] if report.sessions else None
        complete = await asyncio.to_thread(session_complete, self.engine, slot.session_id, slot.type)
        if outcome is None:
            return IngestResult(complete, "failed", "no session ingested")
        return IngestResult(complete, outcome.outcome, outcome.reason or "")


def make_store_ingest(
    engine: Engine, cache_dir: str | Path, *, offline: bool = False, timeout_s: float = 300.0
) -> StoreIngest:
    """The service's ingest hook for this store and FastF1 cache."""
    return StoreIngest(engine, Path(cache_dir), offline, timeout_s)


def make_schedule_sync(engine: Engine, cache_dir: str | Path, *, offline: bool = False,
                       timeout_s: float = 120.0) -> ScheduleFn:
    """Refresh one season's event schedule (FastF1 in a child process)."""

    async def _sync(year: int) -> int:
        from storage.ingest import ChildRunner, IngestError, prepare_cache, write_schedule

        def _run() -> int:
            try:
                # FastF1 refuses a cache directory that does not exist yet (fresh machine).
                cache = prepare_cache(cache_dir, offline)
            except IngestError as exc:
                raise JobError(f"schedule {year}: {exc}") from None
            with ChildRunner() as runner:
                res = runner.call("schedule", str(cache), offline, year, timeout_s=timeout_s)
            if not res["ok"]:
                # No network, FastF1 and its fallbacks down: expected, retried tomorrow.
                raise JobError(f"schedule {year}: {res['error']}")
            with engine.begin() as conn:
                write_schedule(conn, year, res["value"])
            return len(res["value"])

        return await asyncio.to_thread(_run)

    return _sync


def default_pulse(engine: Engine, llm: Any | None = None, predictor: Any | None = None) -> SessionFn:
    """Track Pulse: detect what is new in a session, queue it for subscribed channels (with a
    predictor: the title odds in the championship highlight, the race preview after qualifying)."""
    # Imported on use: importing this module (the CLI does) stays cheap.
    from bot.pulse.commentary import Commentator
    from bot.pulse.pipeline import run_session

    commentator = Commentator(llm=llm)

    async def _pulse(session_id: int) -> Any:
        run = await run_session(engine, session_id, commentator, predictor=predictor)
        return run.new_highlights

    return _pulse


# --------------------------------------------------------------------------- service


@dataclass
class ServiceConfig:
    policy: Policy = Policy()
    ingest_lease_s: float = 600.0  # > timeout: a live ingest is never taken over
    job_lease_s: float = 120.0
    live_poll_s: float = 30.0
    live_ingest_interval_s: float = 60.0  # production live feed: FastF1 at most this often
    live_ingest_timeout_s: float = 90.0  # ... and each load time-limited (child killed after)
    reconcile_every_s: float = 300.0  # re-plan this often (real seconds): expired leases, new sessions
    flush_timeout_s: float = 10.0
    # On the real clock, refresh the current season's calendar when leadership starts: the
    # daily sync runs at `policy.sync_at` and once a day, so a restart (or a fresh install
    # before 06:00 UTC) would otherwise answer `/f1 next` from an old calendar for hours.
    sync_schedule_at_start: bool = True


class Service:
    """Everything the leader runs. One instance per process; nothing global."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utcnow,
        config: ServiceConfig | None = None,
        ingest: IngestFn | None = None,
        schedule_sync: ScheduleFn | None = None,
        pulse: SessionFn | None = None,
        summary: SessionFn | None = None,
        live_feed: LiveFeed | None = None,
        posters: MutableMapping[str, ChannelPoster] | None = None,
        leadership: Leadership | None = None,
        deliverer_factory: Callable[[Engine, MutableMapping[str, ChannelPoster]], Any] | None = None,
        holder: str | None = None,
        autowake: bool = True,
        metrics: Any | None = None,
        on_results: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.config = config or ServiceConfig()
        self.ingest = ingest
        self.schedule_sync = schedule_sync
        self.pulse = pulse if pulse is not None else default_pulse(engine)
        self.summary = summary
        if live_feed is None:  # production: re-ingest the running session (slipstream.live)
            from slipstream.live import default_live_feed

            live_feed = default_live_feed(
                engine, ingest, clock=clock, interval_s=self.config.live_ingest_interval_s,
                timeout_s=self.config.live_ingest_timeout_s,
            )
        self.live_feed = live_feed
        self.posters: MutableMapping[str, ChannelPoster] = posters if posters is not None else {}
        self.holder = holder or default_holder_id()
        self.leadership = leadership or make_leadership(engine, holder=self.holder)
        self.deliverer_factory = deliverer_factory
        self.autowake = autowake
        self.metrics = metrics
        # Called after a race, sprint or qualifying ingest wrote results (the predictions update).
        self.on_results = on_results
        self.reminders = ReminderSender(engine, self.posters, clock=clock)
        self.scheduler: AsyncIOScheduler | None = None
        self._jobs: set[asyncio.Task[None]] = set()  # running job bodies (ours, not APScheduler's)
        self.deliverer: Any | None = None
        self._lead_stop: asyncio.Event | None = None
        self._lead_tasks: list[asyncio.Task[Any]] = []
        # Reconciles come from the loop and from every finished job: one at a time, so one
        # never acts on a job list another has just changed.
        self._reconcile_lock = asyncio.Lock()
        self.history: list[tuple[str, str]] = []  # (key, status) of jobs run here, in order
        self.is_leader = False

    def add_poster(self, poster: ChannelPoster) -> None:
        """Adapters hand over their poster when connected (possibly after we became leader)."""
        self.posters[poster.platform] = poster
        if self.deliverer is not None and hasattr(self.deliverer, "add_poster"):
            self.deliverer.add_poster(poster)

    # ----------------------------------------------------------------- leadership loop
    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: become leader when possible, lead while leader, then step down."""
        try:
            while not stop.is_set():
                if not self.is_leader:
                    if await self.leadership.try_acquire():
                        await self.start_leading()
                elif not await self.leadership.check():
                    log.warning("service: leadership lost; stopping scheduler and delivery")
                    await self.stop_leading(flush=False)
                try:
                    await asyncio.wait_for(stop.wait(), self.leadership.retry_s)
                except TimeoutError:
                    pass
        finally:
            if self.is_leader:
                await self.stop_leading(flush=True)
            await self.leadership.release()

    async def start_leading(self) -> None:
        """Start the scheduler, plan the jobs, start the deliverer and the reminder sender."""
        self.is_leader = True
        self._set_gauge("leader", 1)
        # Defaults for every job; the ledger makes a second firing harmless anyway.
        self.scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        # autowake=False (a fake clock): started paused, so nothing fires by APScheduler's own
        # real-time clock; `run_due()` starts what is due by ours.
        self.scheduler.start(paused=not self.autowake)
        if self.autowake:
            # On a fake clock the caller re-plans (`reconcile()`); a paused interval job would
            # only sit in `get_jobs()` with a real-time next run, among the fake-time ones.
            self.scheduler.add_job(
                self._replan, IntervalTrigger(seconds=self.config.reconcile_every_s),
                id=RECONCILE_JOB, name=RECONCILE_JOB, replace_existing=True,
            )
        self._reconcile_lock = asyncio.Lock()  # this term's, on the running loop
        await self.reconcile()
        if self.autowake and self.config.sync_schedule_at_start and self.schedule_sync is not None:
            await self._sync_schedule_at_start()
        self._lead_stop = asyncio.Event()
        self._lead_tasks = [
            asyncio.create_task(self.reminders.run_forever(self._lead_stop), name="reminders"),
        ]
        if self.deliverer_factory is not None:
            self.deliverer = self.deliverer_factory(self.engine, self.posters)
            self._lead_tasks.append(
                asyncio.create_task(self.deliverer.run_forever(self._lead_stop), name="deliverer")
            )
        log.info("service: %s is leader", self.holder)

    async def _sync_schedule_at_start(self) -> None:
        """Refresh the current season's calendar now, unless today's daily sync is due now anyway."""
        now = _now(self.clock)
        plan_now = await asyncio.to_thread(self._plan)
        if any(j.kind == "schedule" and j.run_at <= now for j in plan_now):
            return  # the scheduler fires today's sync at once: that is the refresh
        # A job of its own (ledger row, one warning line when offline), not awaited here:
        # FastF1 may take a minute and must not hold up the deliverer and reminders.
        self._start({"key": f"schedule:start:{now:%Y-%m-%dT%H:%M:%S}", "kind": "schedule"})

    async def stop_leading(self, *, flush: bool) -> None:
        """Stop scheduling; with `flush`, let running jobs end and post what is pending."""
        self.is_leader = False
        self._set_gauge("leader", 0)
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)  # fires nothing more; our job tasks are ours to end
        if self._lead_stop is not None:
            self._lead_stop.set()
        if self._jobs:
            tasks = list(self._jobs)
            if not flush:
                for t in tasks:
                    t.cancel()  # lost leadership: the lease expires, the next leader re-runs it
            await asyncio.wait(tasks, timeout=self.config.flush_timeout_s if flush else 5)
        for t in self._lead_tasks:
            try:
                await asyncio.wait_for(t, self.config.flush_timeout_s)
            except (TimeoutError, asyncio.CancelledError):
                t.cancel()
            except Exception:
                log.exception("service: %s ended with an error", t.get_name())
        self._lead_tasks = []
        if flush:
            await self.flush()

    async def flush(self) -> None:
        """Post pending reminders and highlights once more before exiting (bounded)."""
        try:
            await asyncio.wait_for(self._flush_once(), self.config.flush_timeout_s)
        except TimeoutError:
            log.warning("service: flush timed out; pending rows stay in the outbox")

    async def _flush_once(self) -> None:
        await self.reminders.run_once()
        if self.deliverer is not None:
            await self.deliverer.run_once()

    # ----------------------------------------------------------------- planning
    def _plan(self) -> list[JobSpec]:
        now = _now(self.clock)
        policy = self.config.policy
        slots = load_slots(self.engine, now - policy.lookback - dt.timedelta(days=1), now + policy.horizon)
        ledger = load_ledger(self.engine, [s.session_id for s in slots])
        return plan(slots, now, ledger, policy=policy, reminder_offsets=wanted_offsets(self.engine))

    async def reconcile(self) -> int:
        """Make the scheduler hold exactly the planned jobs. Returns how many are planned."""
        async with self._reconcile_lock:
            return await self._reconcile()

    async def _reconcile(self) -> int:
        if self.scheduler is None:
            return 0
        specs = await asyncio.to_thread(self._plan)
        scheduler = self.scheduler  # re-read: leadership may have ended while we planned
        if scheduler is None:
            return 0
        existing = {job.id: job for job in scheduler.get_jobs()}
        wanted = set()
        grace = int(self.config.policy.reminder_grace.total_seconds())
        for spec in specs:
            wanted.add(spec.key)
            job = existing.get(spec.key)
            if job is not None and job.next_run_time == spec.run_at:
                continue
            scheduler.add_job(
                self._fire, DateTrigger(run_date=spec.run_at), id=spec.key, name=spec.key,
                kwargs={"key": spec.key, "kind": spec.kind, "session_id": spec.session_id,
                        "attempt": spec.attempt, "offset_min": spec.offset_min},
                replace_existing=True, coalesce=True, max_instances=1,
                # A reminder later than its grace is wrong ("starts in 1 hour" at the start), so
                # it is dropped; anything else runs however late (a past-due ingest still matters).
                misfire_grace_time=grace if spec.kind == "reminder" else None,
            )
        for job_id in existing.keys() - wanted:
            if job_id.startswith(JOB_PREFIXES):
                try:
                    scheduler.remove_job(job_id)
                except JobLookupError:
                    # It fired since we listed the jobs (a fired date job is removed):
                    # gone either way; its ledger claim decides if it runs.
                    pass
        return len(specs)

    async def _replan(self) -> None:
        """The periodic re-plan, as APScheduler calls it: run as a task of ours (see `_fire`)."""
        self._track(asyncio.get_running_loop().create_task(self._replan_logged(), name="reconcile"))

    async def _replan_logged(self) -> None:
        try:
            await self.reconcile()
        except Exception:
            log.exception("service: reconcile failed; the next one tries again")

    async def _fire(self, **job: Any) -> None:
        """What APScheduler calls: start the job body as a task of ours and return at once.

        Ours, not the executor's: stepping down decides whether running jobs finish
        (clean stop) or are cancelled (leadership lost), and `tick()` can await them.
        """
        self._start(job)

    def _start(self, job: dict[str, Any]) -> asyncio.Task[None]:
        return self._track(asyncio.get_running_loop().create_task(self.run_job(**job), name=f"job:{job['key']}"))

    def _track(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    def run_due(self) -> list[asyncio.Task[None]]:
        """Start every planned job due by the service's clock (for a paused, fake-clock scheduler).

        Uses only the scheduler's public API: the due jobs are listed with their
        `next_run_time`, removed (as a fired date job is) and run like a firing.
        """
        if self.scheduler is None:
            return []
        now = _now(self.clock)
        due = [j for j in self.scheduler.get_jobs()
               if j.id.startswith(JOB_PREFIXES) and j.next_run_time is not None and j.next_run_time <= now]
        due.sort(key=lambda j: (j.next_run_time, KIND_ORDER.get(j.kwargs["kind"], 99), j.id))
        started = []
        for job in due:
            try:
                self.scheduler.remove_job(job.id)
            except JobLookupError:
                continue  # a reconcile replaced or dropped it meanwhile
            started.append(self._start(dict(job.kwargs)))
        return started

    async def tick(self) -> None:
        """Run every job due by the clock, and what they chain, until none is due (tests, bench)."""
        for _ in range(500):
            started = self.run_due()
            if self._jobs:
                await asyncio.gather(*list(self._jobs), return_exceptions=True)
            elif not started:
                return

    # ----------------------------------------------------------------- jobs
    async def run_job(self, key: str, *, kind: str, session_id: int | None = None,
                      attempt: int = 0, offset_min: int | None = None) -> None:
        """Claim `key` in the ledger, run it, record the outcome, plan what follows."""
        owner = f"{self.holder}:{uuid.uuid4().hex[:8]}"
        now = _now(self.clock)
        lease = self.config.ingest_lease_s if kind in ("ingest", "final", "live") else self.config.job_lease_s
        if not await asyncio.to_thread(claim_job, self.engine, key, kind, session_id, owner, now, lease):
            log.info("job %s: already done or running elsewhere; skipped", key)
            return
        slot = await asyncio.to_thread(load_slot, self.engine, session_id) if session_id is not None else None
        status, result = "done", {}
        try:
            status, result = await self._execute(key, kind, slot, owner, offset_min)
        except asyncio.CancelledError:
            raise  # lost leadership mid-job: the lease expires, the next leader re-runs it
        except JobError as exc:
            log.warning("job %s failed: %s", key, exc)
            status, result = "failed", {"error": str(exc)[:500]}
        except Exception as exc:
            log.exception("job %s failed", key)
            status, result = "failed", {"error": f"{type(exc).__name__}: {exc}"[:500]}
        await asyncio.to_thread(finish_job, self.engine, key, owner, status, _now(self.clock), result)
        if (status == "done" and kind in ("ingest", "final") and slot is not None
                and slot.type in ("R", "S", "Q") and self.on_results is not None):
            try:
                await self.on_results()
            except Exception:  # a failed model update must not fail the ingest job
                log.exception("predictions update after %s failed", key)
        self.history.append((key, status))
        self._count_job(kind, status)
        if status == "failed" and kind in ("ingest", "final"):
            last = attempt >= self.config.policy.max_attempts
            level = logging.ERROR if last else logging.WARNING
            log.log(level, "ingest %s attempt %s incomplete: %s%s", key, attempt, result.get("message", result),
                    " (giving up)" if last else "; retrying with back-off")
        await self.reconcile()

    async def _execute(self, key: str, kind: str, slot: SessionSlot | None, owner: str,
                       offset_min: int | None) -> tuple[str, dict[str, Any]]:
        if kind == "schedule":
            if self.schedule_sync is None:
                return "done", {"events": 0, "note": "no schedule source configured"}
            n = await self.schedule_sync(_now(self.clock).year)
            return "done", {"events": n}
        if slot is None:
            return "failed", {"error": "session not in the store"}
        if kind in ("ingest", "final"):
            if self.ingest is None:
                return "failed", {"message": "no ingest configured"}
            res = await self.ingest(slot)
            if self.metrics is not None:
                self.metrics.ingestion_runs.labels(outcome=res.outcome).inc()
            return ("done" if res.complete else "failed"), {
                "outcome": res.outcome, "complete": res.complete, "message": res.message,
            }
        if kind in ("pulse", "pulse_final"):
            if self.pulse is None:
                return "done", {"note": "Track Pulse not installed"}
            found = await self.pulse(slot.session_id)
            return "done", {"highlights": len(found) if isinstance(found, list | tuple) else found}
        if kind == "summary":
            if self.summary is None:
                return "done", {"note": "no summary poster configured"}
            out = await self.summary(slot.session_id)
            return "done", {"summary": out if isinstance(out, int | str) else bool(out)}
        if kind == "reminder":
            assert offset_min is not None
            n = await asyncio.to_thread(enqueue_reminders, self.engine, slot.session_id, offset_min,
                                        _now(self.clock))
            sent = await self.reminders.run_once()
            return "done", {"enqueued": n, "sent": sent}
        if kind == "live":
            return await self._live(key, slot, owner)
        return "failed", {"error": f"unknown job kind {kind}"}

    async def _live(self, key: str, slot: SessionSlot, owner: str) -> tuple[str, dict[str, Any]]:
        """Poll for new laps during the session window and run the detectors incrementally."""
        if self.live_feed is None:
            return "done", {"note": "no live feed configured"}
        assert slot.start_utc is not None
        end = (slot.end_utc or slot.start_utc + dt.timedelta(hours=2)) + self.config.policy.live_tail
        polls = laps = pulses = 0
        while True:
            now = _now(self.clock)
            if now >= end or self.live_feed.finished(slot):
                break
            try:
                new = await self.live_feed.poll(slot)
            except Exception:
                log.exception("live %s: poll failed; next poll goes on", key)
                new = 0
            polls += 1
            laps += new
            if new and self.pulse is not None:
                await self.pulse(slot.session_id)  # detectors keep stable keys: only new ones enqueue
                pulses += 1
            until = now + dt.timedelta(seconds=self.config.ingest_lease_s)
            await asyncio.to_thread(renew_job, self.engine, key, owner, until)
            await asyncio.sleep(self.config.live_poll_s)
        end_hook = getattr(self.live_feed, "end", None)
        if end_hook is not None:  # e.g. release the FastF1 worker of slipstream.live
            try:
                await end_hook(slot)
            except Exception:
                log.exception("live %s: feed end hook failed", key)
        return "done", {"polls": polls, "laps": laps, "pulse_runs": pulses}

    # ----------------------------------------------------------------- metrics
    def _set_gauge(self, name: str, value: float) -> None:
        if self.metrics is not None and hasattr(self.metrics, name):
            getattr(self.metrics, name).set(value)

    def _count_job(self, kind: str, status: str) -> None:
        if self.metrics is not None:
            self.metrics.jobs.labels(kind=kind, status=status).inc()
