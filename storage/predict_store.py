"""All SQL of the predictions model: read the history it is fitted on, keep its posterior.

`race_history` reads every race that has results (with its qualifying and
sprint rows) in date order, as plain tuples the pure model in `bot.predict`
folds; `race_hash` is the content hash an update compares with `predict_race`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, insert, select

from storage.db import table
from storage.models import Constructor, ConstructorStanding, Driver, DriverStanding, Event, Result
from storage.models import Session as RaceSession
from storage.predict_models import PredictPosterior, PredictRace

# Posterior versions kept (the newest few; older blobs are deleted on save).
KEEP_VERSIONS = 3


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One car in one session (race, sprint or qualifying)."""

    driver_ref: str
    code: str
    name: str
    constructor_ref: str
    team: str
    grid: int | None  # race / sprint start; 0 = pit lane
    position: int | None  # official classified position (qualifying: its order)
    position_order: int | None  # order of every car, classified or not
    status: str | None
    points: float | None


@dataclass(frozen=True, slots=True)
class RaceRows:
    """A Grand Prix weekend with results, as the model folds it."""

    year: int
    round: int
    name: str
    date: dt.date | None
    race: tuple[EntryRow, ...]
    quali: tuple[EntryRow, ...]
    sprint: tuple[EntryRow, ...]


@dataclass(frozen=True, slots=True)
class EventRow:
    year: int
    round: int
    name: str
    date: dt.date | None


def _code(ref: str, code: str | None, last: str | None) -> str:
    if code:
        return code
    base = (last or ref).replace(" ", "").replace("_", "")
    return base[:3].upper()


def race_history(engine: Engine, *, through: tuple[int, int] | None = None) -> list[RaceRows]:
    """Every weekend with race, qualifying or sprint results, in date order (optionally up to `through`)."""
    r, s, e, d = table(Result), table(RaceSession), table(Event), table(Driver)
    c = table(Constructor)
    stmt = (
        select(e.c.year, e.c.round, e.c.name, e.c.date, s.c.type, d.c.ref, d.c.code, d.c.full_name,
               d.c.first_name, d.c.last_name, r.c.constructor_ref,
               func.coalesce(c.c.name, r.c.team_name, r.c.constructor_ref), r.c.grid, r.c.position,
               r.c.position_order, r.c.status, r.c.points, r.c.timing_position)
        .select_from(r.join(s, s.c.id == r.c.session_id).join(e, e.c.id == s.c.event_id)
                     .join(d, d.c.id == r.c.driver_id)
                     .outerjoin(c, c.c.ref == r.c.constructor_ref))
        .where(s.c.type.in_(("R", "Q", "S")), e.c.round >= 1)
    )
    rows: dict[tuple[int, int], dict[str, list[EntryRow]]] = defaultdict(lambda: defaultdict(list))
    meta: dict[tuple[int, int], tuple[str, dt.date | None]] = {}
    with engine.connect() as conn:
        for (year, rnd, name, date, stype, ref, code, full, first, last, cref, team, grid, pos, order,
             status, pts, timing) in conn.execute(stmt):
            if through is not None and (year, rnd) > through:
                continue
            meta[(year, rnd)] = (name, date)
            nm = full or " ".join(x for x in (first, last) if x) or ref
            rows[(year, rnd)][stype].append(EntryRow(
                ref, _code(ref, code, last), nm, cref or "unknown", team or cref or "unknown", grid,
                pos if pos is not None else (timing if stype == "Q" else None),
                order if order is not None else (pos if pos is not None else timing), status, pts))
    out = []
    for key, parts in rows.items():
        # A weekend with qualifying but no race yet is kept (its entry list and grid);
        # the model folds only weekends whose race has results.
        name, date = meta[key]
        srt = lambda xs: tuple(sorted(xs, key=lambda x: (x.position_order or 999, x.driver_ref)))  # noqa: E731
        out.append(RaceRows(key[0], key[1], name, date, srt(parts["R"]), srt(parts.get("Q", [])),
                            srt(parts.get("S", []))))
    out.sort(key=lambda x: (x.date or dt.date(x.year, 12, 31), x.year, x.round))
    return out


def race_hash(race: RaceRows) -> str:
    """Content hash of a weekend's result rows (race + qualifying + sprint)."""
    h = hashlib.sha256()
    for kind, part in (("R", race.race), ("Q", race.quali), ("S", race.sprint)):
        for x in part:
            h.update(repr((kind, x.driver_ref, x.constructor_ref, x.grid, x.position, x.position_order,
                           x.status, x.points)).encode())
    return h.hexdigest()


def calendar(engine: Engine, year: int) -> list[EventRow]:
    """The rounds of a season (championship rounds only), in order."""
    e = table(Event)
    stmt = select(e.c.year, e.c.round, e.c.name, e.c.date).where(e.c.year == year, e.c.round >= 1,
                                                                  func.coalesce(e.c.format, "") != "testing")
    with engine.connect() as conn:
        return sorted((EventRow(*row) for row in conn.execute(stmt)), key=lambda x: x.round)


def future_events(engine: Engine, after: dt.date) -> list[EventRow]:
    """Championship rounds dated on or after `after`, soonest first (a season or two: small)."""
    e = table(Event)
    stmt = (select(e.c.year, e.c.round, e.c.name, e.c.date)
            .where(e.c.date >= after, e.c.round >= 1, func.coalesce(e.c.format, "") != "testing")
            .order_by(e.c.date, e.c.round))
    with engine.connect() as conn:
        return [EventRow(*row) for row in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class StandingPoints:
    key: str  # driver ref / constructor ref
    code: str  # driver code / constructor ref
    name: str
    points: float
    position: int | None


def standings_points(engine: Engine, kind: str, year: int, after_round: int) -> list[StandingPoints]:
    """Official standings after a round (drivers' or constructors')."""
    with engine.connect() as conn:
        if kind == "constructors":
            cs = table(ConstructorStanding)
            stmt = select(cs.c.constructor_ref, func.coalesce(cs.c.name, cs.c.constructor_ref), cs.c.points,
                          cs.c.position).where(cs.c.year == year, cs.c.round == after_round)
            return [StandingPoints(ref, ref, name, float(p), pos) for ref, name, p, pos in conn.execute(stmt)]
        ds, d = table(DriverStanding), table(Driver)
        stmt = select(d.c.ref, d.c.code, d.c.last_name, d.c.full_name, ds.c.points, ds.c.position) \
            .select_from(ds.join(d, d.c.id == ds.c.driver_id)) \
            .where(ds.c.year == year, ds.c.round == after_round)
        return [StandingPoints(ref, _code(ref, code, last), name or ref, float(p), pos)
                for ref, code, last, name, p, pos in conn.execute(stmt)]


def last_standings_round(engine: Engine, year: int) -> int | None:
    """The last round of `year` with official drivers' standings."""
    ds = table(DriverStanding)
    with engine.connect() as conn:
        return conn.execute(select(func.max(ds.c.round)).where(ds.c.year == year)).scalar()


# --------------------------------------------------------------------------- posterior


@dataclass(frozen=True, slots=True)
class StoredPosterior:
    version: int
    fitted_at: float
    through: tuple[int, int] | None
    races: int
    blob: bytes


def posterior_version(engine: Engine) -> int | None:
    """The current posterior version (cheap: no blob), None when none is stored."""
    p = table(PredictPosterior)
    with engine.connect() as conn:
        return conn.execute(select(func.max(p.c.version))).scalar()


def latest_posterior(engine: Engine) -> StoredPosterior | None:
    p = table(PredictPosterior)
    with engine.connect() as conn:
        row = conn.execute(select(p.c.version, p.c.fitted_at, p.c.through_year, p.c.through_round, p.c.races,
                                  p.c.blob).order_by(p.c.version.desc()).limit(1)).first()
    if row is None:
        return None
    through = (row[2], row[3]) if row[2] is not None else None
    return StoredPosterior(row[0], row[1], through, row[4], bytes(row[5]))


def folded_hashes(engine: Engine) -> dict[tuple[int, int], str]:
    pr = table(PredictRace)
    with engine.connect() as conn:
        return {(y, r): h for y, r, h in conn.execute(select(pr.c.year, pr.c.round, pr.c.content_hash))}


def save_posterior(
    engine: Engine, blob: bytes, *, through: tuple[int, int] | None, races: int,
    hashes: dict[tuple[int, int], str], replace: bool, fitted_at: float | None = None,
) -> StoredPosterior:
    """Write a new posterior version and its folded races in one transaction.

    `replace=True` (refit / refold) rewrites the whole `predict_race` table from
    `hashes`; otherwise `hashes` are the races appended by this update.
    """
    p, pr = table(PredictPosterior), table(PredictRace)
    at = time.time() if fitted_at is None else fitted_at
    with engine.begin() as conn:
        version = (conn.execute(select(func.max(p.c.version))).scalar() or 0) + 1
        conn.execute(insert(p).values(version=version, fitted_at=at, through_year=through[0] if through else None,
                                      through_round=through[1] if through else None, races=races, blob=blob))
        if replace:
            conn.execute(delete(pr))
        else:
            for y, r in hashes:
                conn.execute(delete(pr).where(pr.c.year == y, pr.c.round == r))
        if hashes:
            conn.execute(insert(pr), [{"year": y, "round": r, "content_hash": h, "version": version}
                                      for (y, r), h in hashes.items()])
        conn.execute(delete(p).where(p.c.version <= version - KEEP_VERSIONS))
    return StoredPosterior(version, at, through, races, blob)
