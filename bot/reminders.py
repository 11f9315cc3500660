"""Session reminders: the message and the sender that posts the reminder outbox.

A reminder is sent once per (channel, session, offset): the reminder job
enqueues one row per subscribed channel (`storage.reminders`), and the sender
claims rows, posts each with a stable idempotency key and records the result.

The start time is a neutral `bot.model.LocalTime` in the reply: each adapter
renders it in the reader's own zone where its platform can (Discord `<t:…>`,
Slack `<!date^…>`) and as UTC plus a relative time on the console. A poster
that does not declare `renders_local_times` gets the UTC text, never a marker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping

from sqlalchemy import Engine

from bot.errors import DeliveryError, RateLimited
from bot.model import ChannelPoster, LocalTime, Reply
from bot.pulse.deliver import post_once
from storage.reminders import (
    ClaimedReminder,
    ReminderInfo,
    claim_reminders,
    finish_reminder,
    retry_reminder_after,
)

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
CLAIM_S = 60.0  # a claimed reminder is retried by anyone after this (the claimer died)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def platform_of(channel_id: str) -> str:
    """"discord:1:2" -> "discord" (ids are namespaced by platform)."""
    return channel_id.split(":", 1)[0]


def _minutes_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def reminder_reply(info: ReminderInfo, offset_min: int, now: dt.datetime | None = None) -> Reply:
    """The reminder message, the same for every platform (the start is a `LocalTime`).

    The "starts in" figure is the time actually left when it is sent (a reminder
    posted a little late must not claim the subscribed offset).
    """
    start = LocalTime.new(info.start_utc)
    minutes = offset_min
    if now is not None:
        minutes = max(1, round((info.start_utc - now).total_seconds() / 60))
    text = (
        f"⏱️ **{info.year} {info.event_name}: {info.session_name}** starts in "
        f"{_minutes_text(minutes)}, {start.marker}."
    )
    return Reply(text=text, local_times=(start,))


class ReminderSender:
    """Posts pending reminders through the platform posters (on the leader only)."""

    def __init__(
        self,
        engine: Engine,
        posters: Mapping[str, ChannelPoster],
        *,
        clock: Clock = utcnow,
        max_attempts: int = 5,
    ) -> None:
        self.engine = engine
        self.posters = posters  # live mapping: adapters add their poster when ready
        self.clock = clock
        self.max_attempts = max_attempts
        self.sent = 0

    def _claim(self) -> list[ClaimedReminder]:
        # Only channels whose adapter is up: the others stay pending until it connects.
        return claim_reminders(self.engine, list(self.posters), now=self.clock(), lease_s=CLAIM_S)

    async def _finish(self, row: ClaimedReminder, status: str, **values: object) -> None:
        await asyncio.to_thread(finish_reminder, self.engine, row.id, status, **values)  # type: ignore[arg-type]

    async def run_once(self) -> int:
        """Post what is pending; returns how many were sent."""
        claimed = await asyncio.to_thread(self._claim)
        sent = 0
        for row in claimed:
            now = self.clock()
            if row.info is None or now >= row.info.start_utc:
                # Late is useless for a reminder: record it, do not post it.
                await self._finish(row, "skipped", error="session started")
                continue
            poster = self.posters[platform_of(row.channel_id)]
            reply = reminder_reply(row.info, row.offset_min, now)
            if not getattr(poster, "renders_local_times", False):
                reply = reply.with_utc_times()  # a poster that cannot localise: UTC, never a marker
            try:
                # attempts > 1: an earlier claim of this row may have posted before dying.
                msg_id = await post_once(
                    poster, row.channel_id, reply, idempotency_key=row.idempotency_key,
                    maybe_posted=row.attempts > 1,
                )
            except RateLimited as exc:
                until = self.clock() + dt.timedelta(seconds=exc.retry_after)
                await asyncio.to_thread(retry_reminder_after, self.engine, row.id, until)
                continue
            except DeliveryError as exc:
                log.warning("reminder %s to %s failed: %s", row.id, row.channel_id, exc)
                await self._finish(row, "failed", error=str(exc))
                continue
            except Exception as exc:  # transient: let the claim expire and retry, up to a limit
                log.exception("reminder %s to %s: unexpected error", row.id, row.channel_id)
                if row.attempts >= self.max_attempts:
                    await self._finish(row, "failed", error=str(exc))
                continue
            await self._finish(row, "sent", sent_at=self.clock(), message_id=msg_id)
            sent += 1
        self.sent += sent
        return sent

    async def run_forever(self, stop: asyncio.Event, *, interval_s: float = 2.0) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("reminder sender pass failed")
            try:
                await asyncio.wait_for(stop.wait(), interval_s)
            except TimeoutError:
                pass
