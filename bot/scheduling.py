"""What the service should do and when: a pure plan from the season's sessions and the job ledger.

The scheduler (APScheduler, see `slipstream.service`) is only the alarm clock.
Whether a job still has to run is decided here, from two facts read from the
store: the sessions (start / end) and the job ledger (which keys are done, which
failed and when). Planning again after a restart therefore gives back every
job that has not finished, and never one that has:

- `schedule:<date>`        daily schedule sync (first thing each UTC day, at `sync_at`)
- `live:<sid>`             during a session window: poll for new laps, run detectors
- `reminder:<sid>:<min>`   `min` minutes before the start of a subscribed session type
- `ingest:<sid>:<n>`       attempt n: first at end + 30 min, then back-off after each
                           failed / incomplete attempt, until complete or `max_attempts`
- `pulse:<sid>`            Track Pulse over the ingested session (after a complete ingest)
- `summary:<sid>`          post the race summary (races and sprints, after pulse)
- `final:<sid>`            one more ingest later, for the final classification
- `pulse_final:<sid>`      Track Pulse again over the final data (new keys only)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from storage.jobs import LedgerEntry, SessionSlot

# Order of kinds due at the same instant: data first, then what reads it.
KIND_ORDER = {
    "schedule": 0,
    "live": 1,
    "reminder": 2,
    "ingest": 3,
    "pulse": 4,
    "summary": 5,
    "final": 6,
    "pulse_final": 7,
}

SUMMARY_TYPES = frozenset({"R", "S"})


@dataclass(frozen=True, slots=True)
class JobSpec:
    key: str
    kind: str
    run_at: dt.datetime  # aware UTC
    session_id: int | None = None
    attempt: int = 0
    offset_min: int | None = None

    def sort_key(self) -> tuple[dt.datetime, int, str]:
        return (self.run_at, KIND_ORDER.get(self.kind, 99), self.key)


@dataclass(frozen=True, slots=True)
class Policy:
    """Timings. Defaults follow how F1 data appears after a session."""

    first_ingest_after: dt.timedelta = dt.timedelta(minutes=30)
    retry_base: dt.timedelta = dt.timedelta(minutes=10)
    retry_factor: float = 2.0
    retry_max: dt.timedelta = dt.timedelta(hours=3)
    max_attempts: int = 8
    # Stewards' decisions and Jolpica's classification usually settle within a day.
    final_after: dt.timedelta = dt.timedelta(hours=24)
    live_types: frozenset[str] = frozenset({"SQ", "S", "Q", "R"})
    live_lead: dt.timedelta = dt.timedelta(minutes=2)  # start polling this early
    live_tail: dt.timedelta = dt.timedelta(minutes=20)  # keep polling after the scheduled end
    reminder_grace: dt.timedelta = dt.timedelta(minutes=5)
    sync_at: dt.time = dt.time(6, 0)  # daily schedule sync, UTC
    # Sessions that ended longer ago than this are history, not work (a fresh store
    # filled with past seasons must not start ingesting all of them).
    lookback: dt.timedelta = dt.timedelta(days=3)
    horizon: dt.timedelta = dt.timedelta(days=8)
    summary_types: frozenset[str] = field(default=SUMMARY_TYPES)


def backoff(attempt: int, policy: Policy) -> dt.timedelta:
    """Wait after failed attempt `attempt` (1-based) before the next: base * factor^(n-1), capped."""
    seconds = policy.retry_base.total_seconds() * policy.retry_factor ** max(0, attempt - 1)
    return min(dt.timedelta(seconds=seconds), policy.retry_max)


def ingest_key(session_id: int, attempt: int) -> str:
    return f"ingest:{session_id}:{attempt}"


def _is_open(entry: LedgerEntry | None, now: dt.datetime) -> bool:
    """A job must (still or again) run: never claimed, or claimed by a holder that died."""
    if entry is None:
        return True
    if entry.status == "running":
        return entry.lease_until is not None and entry.lease_until < now
    return False


def plan(
    sessions: Iterable[SessionSlot],
    now: dt.datetime,
    ledger: Mapping[str, LedgerEntry],
    *,
    policy: Policy = Policy(),
    reminder_offsets: Mapping[str, frozenset[int]] | None = None,
) -> list[JobSpec]:
    """Every job that still has to run, with its time (past-due jobs keep their old time).

    Args:
        sessions: the season's sessions from the store.
        now: the current instant (aware UTC).
        ledger: job key -> ledger entry, for the keys of these sessions.
        policy: timings.
        reminder_offsets: session type -> minutes before the start that some channel wants.
    """
    jobs: list[JobSpec] = []
    jobs.append(_schedule_job(now, ledger, policy))
    for s in sessions:
        jobs.extend(_session_jobs(s, now, ledger, policy, reminder_offsets or {}))
    return sorted(jobs, key=JobSpec.sort_key)


def _schedule_job(now: dt.datetime, ledger: Mapping[str, LedgerEntry], policy: Policy) -> JobSpec:
    today = now.date()
    key = f"schedule:{today.isoformat()}"
    if _is_open(ledger.get(key), now):
        return JobSpec(key, "schedule", dt.datetime.combine(today, policy.sync_at, tzinfo=dt.UTC))
    tomorrow = today + dt.timedelta(days=1)
    at = dt.datetime.combine(tomorrow, policy.sync_at, tzinfo=dt.UTC)
    return JobSpec(f"schedule:{tomorrow.isoformat()}", "schedule", at)


def _session_jobs(
    s: SessionSlot,
    now: dt.datetime,
    ledger: Mapping[str, LedgerEntry],
    policy: Policy,
    reminder_offsets: Mapping[str, frozenset[int]],
) -> list[JobSpec]:
    if s.start_utc is None:
        return []
    end = s.end_utc or s.start_utc + dt.timedelta(hours=2)
    if end < now - policy.lookback or s.start_utc > now + policy.horizon:
        return []
    out: list[JobSpec] = []
    sid = s.session_id

    # Reminders: only while they are still useful (before the start).
    for offset in sorted(reminder_offsets.get(s.type, frozenset()), reverse=True):
        key = f"reminder:{sid}:{offset}"
        at = s.start_utc - dt.timedelta(minutes=offset)
        # A reminder missed by more than the grace (service down) is dropped, not sent
        # late: "starts in 1 hour" ten minutes before the start would be wrong.
        if now < s.start_utc and now <= at + policy.reminder_grace and _is_open(ledger.get(key), now):
            out.append(JobSpec(key, "reminder", at, sid, offset_min=offset))

    # Live polling during the window.
    key = f"live:{sid}"
    if s.type in policy.live_types and now < end + policy.live_tail and _is_open(ledger.get(key), now):
        out.append(JobSpec(key, "live", s.start_utc - policy.live_lead, sid))

    # Ingestion attempts: the next one after the last finished attempt.
    done_at: dt.datetime | None = None
    at = end + policy.first_ingest_after
    for n in range(1, policy.max_attempts + 1):
        entry = ledger.get(ingest_key(sid, n))
        if _is_open(entry, now):
            out.append(JobSpec(ingest_key(sid, n), "ingest", at, sid, attempt=n))
            break
        assert entry is not None
        if entry.status == "running":
            break  # in progress under a live lease
        if entry.status == "done":
            done_at = entry.finished_at or at
            break
        # failed / incomplete: the next attempt after a back-off from when it finished
        at = (entry.finished_at or at) + backoff(n, policy)

    if done_at is not None:
        chain = [("pulse", f"pulse:{sid}")]
        if s.type in policy.summary_types:
            chain.append(("summary", f"summary:{sid}"))
        for kind, key in chain:
            entry = ledger.get(key)
            if _is_open(entry, now):
                out.append(JobSpec(key, kind, done_at, sid))
                break  # the next link is planned once this one is done
            if entry is None or entry.status == "running":
                break
            done_at = entry.finished_at or done_at

        final_key = f"final:{sid}"
        final_entry = ledger.get(final_key)
        if _is_open(final_entry, now):
            out.append(JobSpec(final_key, "final", end + policy.final_after, sid))
        elif final_entry is not None and final_entry.status == "done":
            pf_key = f"pulse_final:{sid}"
            if _is_open(ledger.get(pf_key), now):
                out.append(JobSpec(pf_key, "pulse_final", final_entry.finished_at or now, sid))
    return out


def parse_offsets(text: str) -> list[int]:
    """"60,10" -> [60, 10]; raises ValueError with a readable reason."""
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"`{part}` is not a number of minutes")
        value = int(part)
        if not 1 <= value <= 24 * 60:
            raise ValueError(f"{value} minutes is outside 1..1440")
        if value not in out:
            out.append(value)
    if not out:
        raise ValueError("no reminder offsets given")
    return sorted(out, reverse=True)
