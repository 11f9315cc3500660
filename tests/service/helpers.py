"""Helpers for the service tests: a fake clock, a poster that records to a file, store set-up."""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import os
import shutil
from pathlib import Path

from sqlalchemy import Engine, select

from bot.model import Reply
from slipstream.service import Service
from storage.models import Event
from storage.models import Session as RaceSession

UTC = dt.UTC


class FakeClock:
    """A settable clock (aware UTC)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        assert when >= self.now, "time does not run backwards"
        self.now = when


class FilePoster:
    """A ChannelPoster that appends one JSON line per post to a file (the "channel").

    Appends with O_APPEND are atomic for small lines, so several processes can
    share the file; tests count posts per idempotency key to prove "exactly once".

    Like the real adapters it honours the `maybe_posted` contract of
    `bot.pulse.deliver.post_once`: a re-post flagged `maybe_posted=True` (an earlier
    claim of that row ended without a result, e.g. its process was SIGKILLed between
    posting and recording) first looks in the channel for a message carrying the
    key and returns it instead of posting again (Slack's history check; Discord's
    nonce does the same). Each such look is logged to `<file>.rechecks`. A post NOT
    flagged is appended blindly, so a service that re-posts without knowing it may
    have posted already still shows up as a duplicate.
    """

    def __init__(self, platform: str, path: Path) -> None:
        self.platform = platform
        self.path = path

    async def post(self, channel_id: str, reply: Reply, *, idempotency_key: str,
                   maybe_posted: bool = False) -> str:
        # Synchronous on purpose (a local append): posts keep the order they were made in.
        return self._post(channel_id, reply, idempotency_key, maybe_posted)

    def _post(self, channel_id: str, reply: Reply, idempotency_key: str, maybe_posted: bool) -> str:
        line = json.dumps({"channel": channel_id, "key": idempotency_key, "text": reply.text,
                           "pid": os.getpid()}) + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # The lock makes "look, then append" atomic across processes.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if maybe_posted:
                found = next((p for p in read_posts(self.path)
                              if p["key"] == idempotency_key and p["channel"] == channel_id), None)
                with open(rechecks_path(self.path), "a") as log:
                    log.write(json.dumps({"key": idempotency_key, "found": found is not None,
                                         "posted_by": found["pid"] if found else None,
                                         "pid": os.getpid()}) + "\n")
                if found is not None:
                    return f"m-{idempotency_key}"
            os.write(fd, line.encode())
        finally:
            os.close(fd)  # releases the lock
        return f"m-{idempotency_key}"


def rechecks_path(posts: Path) -> Path:
    return posts.with_name(posts.name + ".rechecks")


def read_rechecks(posts: Path) -> list[dict]:
    """The `maybe_posted` look-ups a FilePoster made (see its docstring)."""
    return read_posts(rechecks_path(posts))


def read_posts(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def schedule_only_cache(src: Path, dest: Path) -> Path:
    """The Monza cache without the race's timing files: the schedule is known, the data is not yet."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / "fastf1_http_cache.sqlite", dest / "fastf1_http_cache.sqlite")
    return dest


def publish_race_data(src: Path, dest: Path) -> None:
    """The race's timing files "appear" (F1 published them)."""
    shutil.copytree(src / "2023", dest / "2023", dirs_exist_ok=True)


def monza_sessions(engine: Engine) -> dict[str, int]:
    """Session type -> id of the 2023 Italian GP in the store."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(RaceSession.type, RaceSession.id)
            .join(Event, Event.id == RaceSession.event_id)
            .where(Event.year == 2023, Event.round == 14)
        ).all()
    return {t: i for t, i in rows}


async def next_job_time(service: Service) -> dt.datetime | None:
    assert service.scheduler is not None
    jobs = await asyncio.to_thread(service.scheduler.get_jobs)
    times = [j.next_run_time for j in jobs if j.next_run_time is not None]
    return min(times) if times else None


async def run_until(service: Service, clock: FakeClock, end: dt.datetime,
                    on_time: object = None) -> None:
    """Jump the fake clock from job to job until `end`, running each due job."""
    await service.tick()
    while True:
        nxt = await next_job_time(service)
        if nxt is None or nxt > end:
            clock.set(max(clock.now, end))
            await service.tick()
            return
        clock.set(max(clock.now, nxt))
        if callable(on_time):
            on_time(clock.now)
        await service.tick()
