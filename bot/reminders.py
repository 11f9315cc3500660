"""Session reminders: the message, the per-channel outbox rows, and the sender.

A reminder is sent once per (channel, session, offset): the reminder job inserts
one `ReminderSent` row per subscribed channel with ON CONFLICT DO NOTHING, and
the sender claims a row, posts it with a stable idempotency key and marks it
sent. Each member sees the time in their own time zone where the platform can
render it (Discord `<t:…>` timestamps, Slack `<!date^…>`); the console gets UTC.

Slack escapes `<` in every text it renders (so model output can never ping), so
a Slack date token cannot travel in `Reply.text`. Instead a reminder for Slack
is a `TimedReply`: its text holds an unguessable marker per time, and the
structured `LocalTime` next to it tells the Slack renderer which date token to
put there after escaping. Only code builds a `LocalTime`; generated text can
neither create one nor forge its marker (64 random bits per reply).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.errors import DeliveryError, RateLimited
from bot.model import ChannelPoster, Reply
from bot.pulse.deliver import post_once
from storage.models import Event, Session
from storage.service_models import ReminderSent, ReminderSubscription

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
CLAIM_S = 60.0  # a claimed reminder is retried by anyone after this (the claimer died)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def platform_of(channel_id: str) -> str:
    """"discord:1:2" -> "discord" (ids are namespaced by platform)."""
    return channel_id.split(":", 1)[0]


def fallback_time(when: dt.datetime) -> str:
    """Plain UTC text, for platforms without local-time rendering and as Slack's fallback."""
    when = when.astimezone(dt.UTC)
    return when.strftime("%a %d %b %H:%M UTC")


def local_time(platform: str, when: dt.datetime) -> str:
    """The start time as each reader's platform shows it in their own time zone."""
    unix = int(when.timestamp())
    if platform == "discord":
        return f"<t:{unix}:F> (<t:{unix}:R>)"
    if platform == "slack":
        # Slack renders the token in the reader's zone and shows the fallback elsewhere.
        return f"<!date^{unix}^{{date_short_pretty}} {{time}}|{fallback_time(when)}>"
    return fallback_time(when)


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A trusted moment to show in each reader's time zone (Slack `<!date^…>`).

    `marker` stands in the reply's text where the time goes; `fallback` is what
    a platform (or a Slack client) that cannot localise shows instead.
    """

    marker: str
    unix: int
    fallback: str


@dataclass(slots=True)
class TimedReply(Reply):
    """A `Reply` whose text carries `LocalTime` markers (see the module doc).

    Renderers that know it (Slack) replace each marker after escaping the text;
    `plain()` gives the same message with the UTC fallbacks for any other one.
    """

    local_times: tuple[LocalTime, ...] = ()

    def plain(self) -> Reply:
        text = self.text
        for t in self.local_times:
            text = text.replace(t.marker, t.fallback)
        return Reply(text=text, cards=self.cards, images=self.images, ephemeral=self.ephemeral,
                     suggestions=self.suggestions)


def new_local_time(when: dt.datetime) -> LocalTime:
    """A `LocalTime` with a fresh marker: letters and digits only, so no renderer step
    (escaping, markdown, splitting at spaces) can alter or cut it."""
    return LocalTime(marker=f"SLIPTIME{secrets.token_hex(8)}Z", unix=int(when.timestamp()),
                     fallback=fallback_time(when))


def _minutes_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@dataclass(frozen=True, slots=True)
class ReminderInfo:
    session_id: int
    year: int
    event_name: str
    session_name: str
    start_utc: dt.datetime


def reminder_reply(platform: str, info: ReminderInfo, offset_min: int,
                   now: dt.datetime | None = None) -> Reply:
    """The reminder message for one platform.

    The "starts in" figure is the time actually left when it is sent (a reminder
    posted a little late must not claim the subscribed offset).
    """
    # Discord renders `<t:…>` in each reader's zone from plain text. Slack's renderer
    # escapes `<`, so its date token travels as a structured LocalTime (see module doc).
    slack_time = new_local_time(info.start_utc) if platform == "slack" else None
    when = slack_time.marker if slack_time else local_time(platform, info.start_utc)
    minutes = offset_min
    if now is not None:
        minutes = max(1, round((info.start_utc - now).total_seconds() / 60))
    text = (
        f"⏱️ **{info.year} {info.event_name}: {info.session_name}** starts in "
        f"{_minutes_text(minutes)}, {when}."
    )
    if slack_time is not None:
        return TimedReply(text=text, local_times=(slack_time,))
    return Reply(text=text)


def idempotency_key(row: ReminderSent) -> str:
    return f"reminder:{row.session_id}:{row.offset_min}:{row.channel_id}"


def _csv(text: str) -> set[str]:
    return {p.strip() for p in text.split(",") if p.strip()}


def wanted_offsets(engine: Engine) -> dict[str, frozenset[int]]:
    """Session type -> minutes before the start that at least one active channel wants."""
    out: dict[str, set[int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(ReminderSubscription.session_types, ReminderSubscription.offsets_min).where(
                ReminderSubscription.active.is_(True)  # type: ignore[attr-defined]
            )
        ).all()
    for types, offsets in rows:
        mins = {int(o) for o in _csv(offsets) if o.isdigit()}
        for t in _csv(types):
            out.setdefault(t, set()).update(mins)
    return {k: frozenset(v) for k, v in out.items()}


def enqueue_reminders(engine: Engine, session_id: int, offset_min: int, now: dt.datetime) -> int:
    """Insert one pending reminder per channel subscribed to this session type and offset.

    Idempotent: the unique (channel, session, offset) key makes a second call,
    from this process or another, insert nothing. Returns the rows inserted.
    """
    with engine.begin() as conn:
        stype = conn.execute(select(Session.type).where(Session.id == session_id)).scalar_one_or_none()
        if stype is None:
            return 0
        subs = conn.execute(
            select(
                ReminderSubscription.channel_id,
                ReminderSubscription.session_types,
                ReminderSubscription.offsets_min,
            ).where(ReminderSubscription.active.is_(True))  # type: ignore[attr-defined]
        ).all()
        rows = [
            {
                "channel_id": ch,
                "session_id": session_id,
                "offset_min": offset_min,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for ch, types, offsets in subs
            if stype in _csv(types) and str(offset_min) in _csv(offsets)
        ]
        if not rows:
            return 0
        tbl = ReminderSent.__table__  # type: ignore[attr-defined]
        ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(tbl)
        stmt = ins.on_conflict_do_nothing(index_elements=["channel_id", "session_id", "offset_min"])
        result = conn.execute(stmt.returning(tbl.c.id), rows)
        return len(result.all())


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

    def _claim(self) -> list[tuple[ReminderSent, ReminderInfo | None]]:
        now = self.clock()
        until = now + dt.timedelta(seconds=CLAIM_S)
        claimed: list[tuple[ReminderSent, ReminderInfo | None]] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(ReminderSent)
                .where(
                    ReminderSent.status == "pending",
                    or_(
                        ReminderSent.claimed_until.is_(None),  # type: ignore[union-attr]
                        ReminderSent.claimed_until < now,  # type: ignore[operator]
                    ),
                )
                .order_by(ReminderSent.id)
                .limit(50)
            ).all()
            for r in rows:
                row = ReminderSent.model_validate(r._mapping)
                if platform_of(row.channel_id) not in self.posters:
                    continue  # that adapter is not up (yet): leave it pending
                # Conditional update = the claim; another sender that read the same row loses here.
                res = conn.execute(
                    update(ReminderSent)
                    .where(
                        and_(
                            ReminderSent.id == row.id,
                            ReminderSent.status == "pending",
                            or_(
                                ReminderSent.claimed_until.is_(None),  # type: ignore[union-attr]
                                ReminderSent.claimed_until < now,  # type: ignore[operator]
                            ),
                        )
                    )
                    .values(claimed_until=until, attempts=ReminderSent.attempts + 1)
                )
                if res.rowcount != 1:
                    continue
                info = conn.execute(
                    select(Session.id, Event.year, Event.name, Session.name, Session.start_utc)
                    .join(Event, Event.id == Session.event_id)
                    .where(Session.id == row.session_id)
                ).first()
                claimed.append((row, ReminderInfo(*info) if info and info[4] else None))
        return claimed

    def _finish(self, row_id: int, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(ReminderSent).where(ReminderSent.id == row_id).values(**values))

    async def run_once(self) -> int:
        """Post what is pending; returns how many were sent."""
        claimed = await asyncio.to_thread(self._claim)
        sent = 0
        for row, info in claimed:
            assert row.id is not None
            now = self.clock()
            if info is None or now >= info.start_utc:
                # Late is useless for a reminder: record it, do not post it.
                await asyncio.to_thread(self._finish, row.id, status="skipped", error="session started")
                continue
            poster = self.posters[platform_of(row.channel_id)]
            reply: Reply = reminder_reply(platform_of(row.channel_id), info, row.offset_min, now)
            if isinstance(reply, TimedReply) and not getattr(poster, "renders_local_times", False):
                reply = reply.plain()  # a poster that cannot localise: UTC, never a raw marker
            try:
                # attempts > 0: an earlier claim of this row may have posted before dying.
                msg_id = await post_once(
                    poster, row.channel_id, reply, idempotency_key=idempotency_key(row),
                    maybe_posted=row.attempts > 0,
                )
            except RateLimited as exc:
                until = self.clock() + dt.timedelta(seconds=exc.retry_after)
                await asyncio.to_thread(self._finish, row.id, claimed_until=until)
                continue
            except DeliveryError as exc:
                log.warning("reminder %s to %s failed: %s", row.id, row.channel_id, exc)
                await asyncio.to_thread(self._finish, row.id, status="failed", error=str(exc)[:500])
                continue
            except Exception as exc:  # transient: let the claim expire and retry, up to a limit
                log.exception("reminder %s to %s: unexpected error", row.id, row.channel_id)
                if row.attempts + 1 >= self.max_attempts:
                    await asyncio.to_thread(self._finish, row.id, status="failed", error=str(exc)[:500])
                continue
            await asyncio.to_thread(
                self._finish, row.id, status="sent", sent_at=self.clock(), message_id=msg_id
            )
            sent += 1
        self.sent += sent
        return sent

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(ReminderSent.id).where(ReminderSent.status == "pending")).all())

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
