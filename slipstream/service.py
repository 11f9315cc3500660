"""The running service: leader election, the job scheduler, live polling, delivery.

Shape:
- every process runs `Service.run(stop)`; only the leader (see `storage.leader`)
  starts the scheduler, the highlight deliverer and the reminder sender;
- APScheduler (AsyncIOScheduler + SQLAlchemyJobStore in the SAME database) is
  the alarm clock. What has to run is planned by `bot.scheduling.plan` from the
  sessions and the job ledger (`JobRun`), so a restart re-plans every job that
  did not finish and none that did, and a job claims its ledger row before it
  runs, so no key ever runs twice;
- ingestion goes through `storage.ingest` (FastF1 in a child process with a
  time limit): a hang, crash or `exit()` there becomes a failed attempt, retried
  with back-off, never a dead bot.
- The clock is injected: tests drive the scheduler on a fake clock (`tick()`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.model import ChannelPoster
from bot.reminders import ReminderSender, enqueue_reminders, wanted_offsets
from bot.scheduling import LedgerEntry, Policy, SessionSlot, plan
from storage.leader import Leadership, default_holder_id, make_leadership
from storage.models import Event, Lap, Result
from storage.models import Session as RaceSession
from storage.service_models import JobRun

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
JOB_PREFIXES = ("schedule:", "live:", "reminder:", "ingest:", "pulse:", "summary:", "final:", "pulse_final:")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


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


def session_complete(engine: Engine, slot: SessionSlot) -> bool:
    """Laps are stored, and results too for sessions that classify (all but practice)."""
    with engine.connect() as conn:
        laps = conn.execute(
            select(func.count()).select_from(Lap).where(Lap.session_id == slot.session_id)
        ).scalar_one()
        results = conn.execute(
            select(func.count()).select_from(Result).where(Result.session_id == slot.session_id)
        ).scalar_one()
    return laps > 0 and (results > 0 or slot.type.startswith("FP"))


def make_store_ingest(
    engine: Engine, cache_dir: str | Path, *, offline: bool = False, timeout_s: float = 300.0
) -> IngestFn:
    """Ingest one session through `storage.ingest` (FastF1 in a child process, time-limited)."""

    async def _ingest(slot: SessionSlot) -> IngestResult:
        from storage.ingest import IngestError, ingest_async

        try:
            report = await ingest_async(
                engine, slot.year, slot.round, slot.type,
                cache_dir=cache_dir, offline=offline, timeout_s=timeout_s,
            )
        except IngestError as exc:
            return IngestResult(False, "failed", str(exc))
        outcome = report.sessions[0] if report.sessions else None
        complete = await asyncio.to_thread(session_complete, engine, slot)
        if outcome is None:
            return IngestResult(complete, "failed", "no session ingested")
        return IngestResult(complete, outcome.outcome, outcome.reason or "")

    # Read by `slipstream.live.default_live_feed`: the live feed polls the same cache, same mode.
    _ingest.live_source = (Path(cache_dir), offline)  # type: ignore[attr-defined]
    return _ingest


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


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Await an async hook, or run a sync one in a thread (DB / pandas work)."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    return await asyncio.to_thread(fn, *args)


def default_pulse(engine: Engine, llm: Any | None = None) -> SessionFn | None:
    """Track Pulse (detect what is new, queue it for subscribed channels), when installed."""
    try:
        from bot.pulse.commentary import Commentator
        from bot.pulse.pipeline import run_session
    except ImportError:
        return None
    commentator = Commentator(llm=llm)

    async def _pulse(session_id: int) -> Any:
        run = await run_session(engine, session_id, commentator)
        return run.new_highlights

    return _pulse


# --------------------------------------------------------------------------- scheduler


class ServiceExecutor(BaseExecutor):
    """Runs due jobs as tasks on the service's loop, handing them the service.

    APScheduler pickles a job's function by reference; our jobs need the live
    `Service`, which must not be a module global, so the executor passes it in.
    """

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service
        self.tasks: set[asyncio.Task[Any]] = set()

    def _do_submit_job(self, job: Any, run_times: Sequence[dt.datetime]) -> None:
        task = asyncio.get_running_loop().create_task(
            self.service.run_job(job.id, **job.kwargs), name=f"job:{job.id}"
        )
        self.tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if t.cancelled():
                self._run_job_success(job.id, [])
            elif t.exception() is not None:
                self._run_job_error(job.id, t.exception())
            else:
                self._run_job_success(job.id, [])

        task.add_done_callback(_done)


class ClockedScheduler(AsyncIOScheduler):
    """AsyncIOScheduler whose notion of "now" is an injected clock (real or fake)."""

    def __init__(self, clock: Clock, *, autowake: bool = True, max_wait_s: float = 30.0,
                 **kwargs: Any) -> None:
        self._clock = clock
        self._autowake = autowake  # False: only `Service.tick()` runs jobs (fake-clock tests)
        self._max_wait_s = max_wait_s
        super().__init__(timezone=dt.UTC, **kwargs)

    def wakeup(self) -> None:
        if self._autowake:
            super().wakeup()

    def _start_timer(self, wait_seconds: float | None) -> None:
        if self._autowake:
            super()._start_timer(wait_seconds)

    def _process_jobs(self) -> float | None:  # noqa: C901 - mirrors the base method
        from apscheduler.schedulers.base import STATE_PAUSED

        if self.state == STATE_PAUSED:
            return None
        now = _aware(self._clock())
        assert now is not None
        next_wakeup: dt.datetime | None = None
        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                try:
                    due = store.get_due_jobs(now)
                except Exception as exc:  # DB hiccup: try again soon, do not die
                    self._logger.warning("job store %r: %s", alias, exc)
                    retry = now + dt.timedelta(seconds=self.jobstore_retry_interval)
                    next_wakeup = retry if next_wakeup is None else min(next_wakeup, retry)
                    continue
                for job in due:
                    run_times = job._get_run_times(now)
                    run_times = run_times[-1:] if run_times and job.coalesce else run_times
                    if not run_times:
                        continue
                    # Remove (or advance) BEFORE running: the ledger, not the store,
                    # decides whether it runs again, so losing a job here is harmless.
                    nxt = job.trigger.get_next_fire_time(run_times[-1], now)
                    if nxt:
                        job._modify(next_run_time=nxt)
                        store.update_job(job)
                    else:
                        self.remove_job(job.id, alias)
                    try:
                        self._lookup_executor(job.executor).submit_job(job, run_times)
                    except Exception:
                        self._logger.exception("cannot submit job %s", job.id)
                store_next = store.get_next_run_time()
                if store_next and (next_wakeup is None or store_next < next_wakeup):
                    next_wakeup = store_next
        if next_wakeup is None:
            return self._max_wait_s
        wait = (next_wakeup - now).total_seconds()
        return min(max(wait, 0.0), self._max_wait_s)


# --------------------------------------------------------------------------- ledger


def _insert(conn: Any) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def claim_job(
    engine: Engine, key: str, kind: str, session_id: int | None, owner: str, now: dt.datetime,
    lease_s: float,
) -> bool:
    """Claim a job key: new, or abandoned (running with an expired lease). True = ours to run."""
    tbl = JobRun.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        ins = _insert(conn)(tbl).values(
            key=key, kind=kind, session_id=session_id, status="running", attempts=1, owner=owner,
            lease_until=now + dt.timedelta(seconds=lease_s), started_at=now,
        )
        stmt = ins.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "status": "running",
                "owner": ins.excluded.owner,
                "lease_until": ins.excluded.lease_until,
                "started_at": ins.excluded.started_at,
                "attempts": tbl.c.attempts + 1,
            },
            where=(tbl.c.status == "running") & (tbl.c.lease_until < now),
        )
        conn.execute(stmt)
        got = conn.execute(select(tbl.c.owner, tbl.c.status).where(tbl.c.key == key)).one()
    return bool(got.owner == owner and got.status == "running")


def finish_job(engine: Engine, key: str, owner: str, status: str, now: dt.datetime,
               result: dict[str, Any]) -> None:
    tbl = JobRun.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            tbl.update()
            .where(tbl.c.key == key, tbl.c.owner == owner)
            .values(status=status, finished_at=now, lease_until=None, result=json.dumps(result))
        )


def renew_job(engine: Engine, key: str, owner: str, until: dt.datetime) -> None:
    tbl = JobRun.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(tbl.update().where(tbl.c.key == key, tbl.c.owner == owner).values(lease_until=until))


def load_slots(engine: Engine, start: dt.datetime, end: dt.datetime) -> list[SessionSlot]:
    """Sessions starting in [start, end], for planning."""
    stmt = (
        select(
            RaceSession.id, Event.year, Event.round, RaceSession.type, RaceSession.name,
            Event.name, RaceSession.start_utc, RaceSession.end_utc,
        )
        .join(Event, Event.id == RaceSession.event_id)
        .where(RaceSession.start_utc.is_not(None))  # type: ignore[union-attr]
        .where(RaceSession.start_utc >= start, RaceSession.start_utc <= end)  # type: ignore[operator]
        .order_by(RaceSession.start_utc)
    )
    with engine.connect() as conn:
        return [
            SessionSlot(r[0], r[1], r[2], r[3], r[4], r[5], _aware(r[6]), _aware(r[7]))
            for r in conn.execute(stmt)
        ]


def load_ledger(engine: Engine, session_ids: Sequence[int]) -> dict[str, LedgerEntry]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(JobRun.key, JobRun.status, JobRun.finished_at, JobRun.lease_until).where(
                (JobRun.session_id.in_(list(session_ids))) | (JobRun.kind == "schedule")  # type: ignore[union-attr]
            )
        ).all()
    return {r[0]: LedgerEntry(r[0], r[1], _aware(r[2]), _aware(r[3])) for r in rows}


# --------------------------------------------------------------------------- service


@dataclass
class ServiceConfig:
    policy: Policy = Policy()
    ingest_timeout_s: float = 300.0
    ingest_lease_s: float = 600.0  # > timeout: a live ingest is never taken over
    job_lease_s: float = 120.0
    live_poll_s: float = 30.0
    live_ingest_interval_s: float = 60.0  # production live feed: FastF1 at most this often
    live_ingest_timeout_s: float = 90.0  # ... and each load time-limited (child killed after)
    reconcile_every_s: float = 300.0
    flush_timeout_s: float = 10.0
    scheduler_max_wait_s: float = 30.0  # re-check at least this often (real seconds)
    live_types: frozenset[str] = frozenset({"SQ", "S", "Q", "R"})


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
        self.reminders = ReminderSender(engine, self.posters, clock=clock)
        self.scheduler: ClockedScheduler | None = None
        self.executor: ServiceExecutor | None = None
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
        self.executor = ServiceExecutor(self)
        self.scheduler = ClockedScheduler(
            self.clock,
            autowake=self.autowake,
            max_wait_s=self.config.scheduler_max_wait_s,
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename="apscheduler_jobs")},
            executors={"default": self.executor},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.start()
        self._reconcile_lock = asyncio.Lock()  # this term's, on the running loop
        await self.reconcile()
        self._lead_stop = asyncio.Event()
        self._lead_tasks = [
            asyncio.create_task(self.reminders.run_forever(self._lead_stop), name="reminders"),
            asyncio.create_task(self._reconcile_loop(self._lead_stop), name="reconcile"),
        ]
        if self.deliverer_factory is not None:
            self.deliverer = self.deliverer_factory(self.engine, self.posters)
            self._lead_tasks.append(
                asyncio.create_task(self.deliverer.run_forever(self._lead_stop), name="deliverer")
            )
        log.info("service: %s is leader", self.holder)

    async def stop_leading(self, *, flush: bool) -> None:
        """Stop scheduling; with `flush`, let running jobs end and post what is pending."""
        self.is_leader = False
        self._set_gauge("leader", 0)
        if self.scheduler is not None:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self._lead_stop is not None:
            self._lead_stop.set()
        if self.executor is not None and self.executor.tasks:
            tasks = list(self.executor.tasks)
            if not flush:
                for t in tasks:
                    t.cancel()
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

    async def _reconcile_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.config.reconcile_every_s)
            except TimeoutError:
                try:
                    await self.reconcile()
                except Exception:
                    log.exception("service: reconcile failed")

    # ----------------------------------------------------------------- planning
    def _plan(self) -> list[Any]:
        now = _aware(self.clock())
        assert now is not None
        policy = self.config.policy
        slots = load_slots(self.engine, now - policy.lookback - dt.timedelta(days=1), now + policy.horizon)
        ledger = load_ledger(self.engine, [s.session_id for s in slots])
        return plan(slots, now, ledger, policy=policy, reminder_offsets=wanted_offsets(self.engine))

    async def reconcile(self) -> int:
        """Make the job store hold exactly the planned jobs. Returns how many are planned."""
        async with self._reconcile_lock:
            return await self._reconcile()

    async def _reconcile(self) -> int:
        scheduler = self.scheduler
        if scheduler is None:
            return 0
        specs = await asyncio.to_thread(self._plan)
        existing = {job.id: job for job in await asyncio.to_thread(scheduler.get_jobs)}
        wanted = set()
        for spec in specs:
            wanted.add(spec.key)
            job = existing.get(spec.key)
            if job is not None and job.next_run_time == spec.run_at:
                continue
            kwargs = {"kind": spec.kind, "session_id": spec.session_id, "attempt": spec.attempt,
                      "offset_min": spec.offset_min}
            await asyncio.to_thread(
                scheduler.add_job, "slipstream.service:scheduled_job", DateTrigger(run_date=spec.run_at),
                id=spec.key, name=spec.key, kwargs=kwargs, replace_existing=True,
            )
        for job_id in existing.keys() - wanted:
            if job_id.startswith(JOB_PREFIXES):
                try:
                    await asyncio.to_thread(scheduler.remove_job, job_id)
                except JobLookupError:
                    # It fell due (the scheduler removes a job as it submits it) since we
                    # listed the store: gone either way; its ledger claim decides if it runs.
                    pass
        return len(specs)

    async def tick(self) -> None:
        """Run every job due at the clock's "now" and what they chain, then return (tests, bench)."""
        if self.scheduler is None:
            return
        for _ in range(500):
            self.scheduler._process_jobs()
            await asyncio.sleep(0)
            if self.executor is not None and self.executor.tasks:
                await asyncio.gather(*list(self.executor.tasks), return_exceptions=True)
            elif not await self._due_now():
                return

    async def _due_now(self) -> bool:
        assert self.scheduler is not None
        now = _aware(self.clock())
        nxt = [j.next_run_time for j in await asyncio.to_thread(self.scheduler.get_jobs)]
        return any(t is not None and now is not None and t <= now for t in nxt)

    # ----------------------------------------------------------------- jobs
    async def run_job(self, key: str, *, kind: str, session_id: int | None = None,
                      attempt: int = 0, offset_min: int | None = None) -> None:
        """Claim `key` in the ledger, run it, record the outcome, plan what follows."""
        owner = f"{self.holder}:{uuid.uuid4().hex[:8]}"
        now = _aware(self.clock())
        assert now is not None
        lease = self.config.ingest_lease_s if kind in ("ingest", "final", "live") else self.config.job_lease_s
        if not await asyncio.to_thread(claim_job, self.engine, key, kind, session_id, owner, now, lease):
            log.info("job %s: already done or running elsewhere; skipped", key)
            return
        slot = await asyncio.to_thread(self._slot, session_id) if session_id is not None else None
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
        await asyncio.to_thread(finish_job, self.engine, key, owner, status, _aware(self.clock()), result)
        self.history.append((key, status))
        self._count_job(kind, status)
        if status == "failed" and kind in ("ingest", "final"):
            last = attempt >= self.config.policy.max_attempts
            level = logging.ERROR if last else logging.WARNING
            log.log(level, "ingest %s attempt %s incomplete: %s%s", key, attempt, result.get("message", result),
                    " (giving up)" if last else "; retrying with back-off")
        await self.reconcile()

    def _slot(self, session_id: int) -> SessionSlot | None:
        stmt = (
            select(
                RaceSession.id, Event.year, Event.round, RaceSession.type, RaceSession.name,
                Event.name, RaceSession.start_utc, RaceSession.end_utc,
            )
            .join(Event, Event.id == RaceSession.event_id)
            .where(RaceSession.id == session_id)
        )
        with self.engine.connect() as conn:
            r = conn.execute(stmt).first()
        return None if r is None else SessionSlot(r[0], r[1], r[2], r[3], r[4], r[5], _aware(r[6]), _aware(r[7]))

    async def _execute(self, key: str, kind: str, slot: SessionSlot | None, owner: str,
                       offset_min: int | None) -> tuple[str, dict[str, Any]]:
        if kind == "schedule":
            if self.schedule_sync is None:
                return "done", {"events": 0, "note": "no schedule source configured"}
            now = _aware(self.clock())
            assert now is not None
            n = await self.schedule_sync(now.year)
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
            now = _aware(self.clock())
            n = await asyncio.to_thread(enqueue_reminders, self.engine, slot.session_id, offset_min, now)
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
            now = _aware(self.clock())
            assert now is not None
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


async def scheduled_job(**_: Any) -> None:
    """The function APScheduler stores by reference. `ServiceExecutor` runs `Service.run_job` instead."""
    raise RuntimeError("scheduled jobs run through ServiceExecutor, which passes the Service")
