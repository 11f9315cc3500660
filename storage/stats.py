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
