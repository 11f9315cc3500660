"""Store statistics for `slipstream db stats` (row counts, freshness per season)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, case, func, select

from storage.db import table
from storage.models import (
    Circuit,
    Constructor,
    ConstructorStanding,
    Driver,
    DriverStanding,
    Event,
    IngestRun,
    Lap,
    PitStop,
    RaceControlMessage,
    Result,
    Season,
    SessionDriver,
    Stint,
    TrackStatusChange,
    WeatherSample,
)
from storage.models import Session as RaceSession

_TABLES = (Season, Circuit, Event, RaceSession, Driver, Constructor, SessionDriver, Result, Lap,
           Stint, PitStop, RaceControlMessage, WeatherSample, TrackStatusChange, DriverStanding,
           ConstructorStanding, IngestRun)


@dataclass(frozen=True)
class SeasonStats:
    year: int
    events: int
    sessions_ingested: int
    sessions_failed: int
    results: int
    laps: int
    last_ingested_at: dt.datetime | None
    last_history_at: dt.datetime | None


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table(m).name: conn.execute(select(func.count()).select_from(table(m))).scalar_one()
            for m in _TABLES
        }


def season_stats(engine: Engine) -> list[SeasonStats]:
    ev, se, res, lap = table(Event), table(RaceSession), table(Result), table(Lap)
    with engine.connect() as conn:
        base = {
            r.year: r
            for r in conn.execute(
                select(
                    ev.c.year,
                    func.count(func.distinct(ev.c.id)).label("events"),
                    func.sum(case((se.c.status == "ingested", 1), else_=0)).label("ok"),
                    func.sum(case((se.c.status == "failed", 1), else_=0)).label("failed"),
                    func.max(se.c.ingested_at).label("ingested_at"),
                    func.max(se.c.history_at).label("history_at"),
                )
                .select_from(ev.outerjoin(se, se.c.event_id == ev.c.id))
                .group_by(ev.c.year)
            )
        }
        results = dict(conn.execute(
            select(ev.c.year, func.count()).select_from(
                res.join(se, se.c.id == res.c.session_id).join(ev, ev.c.id == se.c.event_id)
            ).group_by(ev.c.year)
        ).all())
        laps = dict(conn.execute(
            select(ev.c.year, func.count()).select_from(
                lap.join(se, se.c.id == lap.c.session_id).join(ev, ev.c.id == se.c.event_id)
            ).group_by(ev.c.year)
        ).all())
    return [
        SeasonStats(
            year=y, events=r.events, sessions_ingested=int(r.ok or 0), sessions_failed=int(r.failed or 0),
            results=results.get(y, 0), laps=laps.get(y, 0),
            last_ingested_at=r.ingested_at, last_history_at=r.history_at,
        )
        for y, r in sorted(base.items())
    ]


@dataclass(frozen=True, slots=True)
class OutboxFigures:
    """What `/metrics` reports about posting, read from the store at scrape time."""

    highlights_posted: int
    delivery_backlog: int  # highlight deliveries pending or claimed
    delivery_lag_s: float  # age of the oldest due delivery not yet posted (0 = none waiting)
    reminders_sent: int


def outbox_figures(engine: Engine, now_unix: float) -> OutboxFigures:
    """Outbox figures for the metrics (Track Pulse's `not_before` is UNIX seconds)."""
    from storage.pulse_models import PulseDelivery
    from storage.reminders import reminders_sent

    d = table(PulseDelivery)
    waiting = d.c.status.in_(("pending", "claimed"))
    with engine.connect() as conn:
        posted = conn.execute(select(func.count()).select_from(d).where(d.c.status == "posted")).scalar_one()
        backlog = conn.execute(select(func.count()).select_from(d).where(waiting)).scalar_one()
        oldest = conn.execute(
            select(func.min(d.c.not_before)).where(waiting, d.c.not_before <= now_unix)
        ).scalar_one()
    lag = max(0.0, now_unix - float(oldest)) if oldest is not None else 0.0
    return OutboxFigures(int(posted), int(backlog), lag, reminders_sent(engine))


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query (raises otherwise): the health check."""
    with engine.connect() as conn:
        conn.execute(select(1))
    return True


def has_race_data(engine: Engine) -> bool:
    """Whether the store holds any season, event or result (cheap: EXISTS, no counts).

    The first-start bootstrap imports the bundled data only when this is False, so a
    store someone has filled (history import, ingest) is never touched.
    """
    with engine.connect() as conn:
        return any(
            conn.execute(select(select(table(m)).exists())).scalar_one()
            for m in (Season, Event, Result)
        )
