"""What comes next on the calendar: one reply for `/f1 next`, `/f1 schedule` and free questions.

Session times go out as `LocalTime`s (each platform shows them in the reader's zone
with a live countdown). With nothing after now the reply says until when the stored
calendar runs and what refreshes it, rather than a bare "nothing upcoming".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot import format as f
from bot import messages as m
from bot.errors import UserError
from bot.model import Card, LocalTime, Reply
from storage.queries import ScheduleItem
from storage.store import Store


def aware(ts: dt.datetime) -> dt.datetime:
    """Stored times are UTC; a naive one is taken as UTC."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)


async def next_reply(store: Store, now: dt.datetime) -> Reply:
    """The next session with its start and countdown (UserError: the calendar ran out)."""
    items = await store.upcoming_sessions(now, limit=1)
    if not items:
        raise UserError(await stale_calendar(store, now))
    i = items[0]
    times: list[LocalTime] = []
    text = m.NEXT_SESSION.format(year=i.event.year, event=i.event.name, session=i.session_name,
                                 at=f.local_time(i.start_utc, times))
    return Reply(text=text, local_times=tuple(times))


async def upcoming_reply(store: Store, now: dt.datetime, *, limit: int = 15) -> Reply:
    """The next `limit` sessions as a list card (UserError: the calendar ran out)."""
    items = await store.upcoming_sessions(aware(now), limit=limit)
    if not items:
        raise UserError(await stale_calendar(store, now))
    return _session_card("Upcoming sessions", items, None)


async def season_reply(store: Store, season: int, now: dt.datetime) -> Reply:
    """A season's race weekends: session times where the store has them, else dates."""
    items = [i for i in await store.season_schedule(season) if i.session_type == "R"]
    if not items:
        events = await store.events(season)
        if not events:
            raise UserError(m.NO_SCHEDULE.format(year=season))
        # History only (dates, no session times): a plain date table.
        tbl = f.table(["Rd", "Grand Prix", "Date"],
                      [(e.round, e.name, e.date.isoformat() if e.date else "?") for e in events])
        return Reply(cards=[Card(title=f"{season} calendar", description=tbl)])
    return _session_card(f"{season} calendar", items, now)


def _session_card(title: str, items: Sequence[ScheduleItem], now: dt.datetime | None) -> Reply:
    """Sessions as a list card with their times; with `now`, those already started say "(done)".

    A list, not a code-block table: platform time markup does not render inside code.
    """
    times: list[LocalTime] = []
    lines = [
        "- " + m.SCHEDULE_LINE.format(round=i.event.round, event=i.event.name, session=i.session_name,
                                      at=f.local_time(i.start_utc, times))
        + (m.SCHEDULE_DONE if now is not None and aware(i.start_utc) <= aware(now) else "")
        for i in items
    ]
    return Reply(cards=[Card(title=title, description="\n".join(lines))], local_times=tuple(times))


async def stale_calendar(store: Store, now: dt.datetime) -> str:
    """Nothing after now: say until when the stored calendar runs and what refreshes it."""
    seasons = await store.seasons()
    for year in sorted(seasons, reverse=True):
        sessions = await store.season_schedule(year)
        if sessions:
            last = max(sessions, key=lambda i: aware(i.start_utc))
            end, event = f.utc(last.start_utc), f"{last.event.year} {last.event.name}"
        else:
            dated = [e for e in await store.events(year) if e.date is not None]
            if not dated:
                continue
            last_event = max(dated, key=lambda e: e.date)  # type: ignore[arg-type, return-value]
            end, event = last_event.date.isoformat(), f"{last_event.year} {last_event.name}"  # type: ignore[union-attr]
        return m.CALENDAR_ENDS.format(now=f.utc(now), end=end, event=event, year=now.year)
    return m.NO_CALENDAR.format(year=now.year)
