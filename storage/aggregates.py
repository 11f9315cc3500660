"""History aggregates: counts, records, titles, teams and title maths over the whole store.

Every figure comes from the official result rows the store holds (the Ergast
history import and, where history has nothing, FastF1). The counting rules, in
one place so the replies can say them:

- wins / podiums / points finishes / fastest laps: Grand Prix results only
  (position 1 / 1-3 / points > 0 / fastest-lap rank 1); sprints count only when
  asked for (`sprint=True`: the sprint's results instead). Fastest-lap ranks
  exist in the data from 2004 only.
- poles / front rows: starting grid 1 (1-2) of the Grand Prix, the car that
  starts first, as the record books count pole (after grid penalties and
  exclusions; 2021's sprints set the grid); qualifying P1 (P1-2) only for a
  race whose results hold no grid (timing-only data).
- points: a season's points are the championship's (the standings after its
  last round held: dropped scores applied, shared drives split as the
  championship did); a career is the sum of its seasons. Where no standings
  exist (constructors before 1958) and at a circuit: race + sprint result points.
- starts (= races for a driver or team): a race entry that was not withdrawn
  (W) or a failure to qualify (F). For a team, races entered (one per Grand Prix).
- DNFs: started and not classified (Ergast position "R" retired or "N" not
  classified); disqualifications are not DNFs.
- titles: position 1 in the final standings (the season's last standings
  round) of a season whose calendar is complete; a season with rounds still to
  run has a leader, not a champion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from storage.models import (
    Circuit,
    Constructor,
    ConstructorStanding,
    Driver,
    DriverStanding,
    Event,
    Result,
    Session,
)
from storage.points import weekend_max
from storage.queries import _DRIVER_COLS, Db, DriverInfo, _connect, _driver

METRICS = (
    "wins", "poles", "podiums", "points", "dnfs", "starts", "races", "fastest_laps",
    "points_finishes", "front_rows",
)
FIRST_FASTEST_LAP_YEAR = 2004  # fastest-lap ranks in the results start here
FIRST_CONSTRUCTORS_YEAR = 1958  # the constructors' championship started in 1958

_NOT_STARTED = ("W", "F")  # withdrawn, failed to (pre-)qualify
_NOT_CLASSIFIED = ("R", "N")  # retired, not classified


# --------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class SeasonCount:
    year: int
    value: float
    entered: bool  # the subject had a race entry that season (in the asked scope)


@dataclass(frozen=True, slots=True)
class StatResult:
    metric: str
    seasons: tuple[SeasonCount, ...]  # the asked seasons (or every season entered for a career)
    total: float
    first_year: int | None  # first / last season the subject has a race entry in the store
    last_year: int | None


@dataclass(frozen=True, slots=True)
class Occasion:
    """One race where a metric happened (a win, a pole ...)."""

    year: int
    round: int
    event: str
    circuit_ref: str | None
    grid: int | None
    position: int | None
    driver: str | None
    team: str | None


@dataclass(frozen=True, slots=True)
class Leader:
    name: str
    key: str  # driver ref or constructor ref
    year: int | None  # the season (single-season records)
    value: float


@dataclass(frozen=True, slots=True)
class Title:
    year: int
    round: int  # standings round it is decided (or led) after
    name: str
    key: str
    points: float
    wins: int
    decided: bool  # False: the season has rounds still to run (a leader, not a champion)


@dataclass(frozen=True, slots=True)
class TeamSpell:
    """A driver's races for one team in one season."""

    year: int
    team_ref: str | None
    team: str | None
    first_round: int
    last_round: int
    races: int


@dataclass(frozen=True, slots=True)
class Mate:
    """A driver who raced for a team in the asked season or race."""

    driver: DriverInfo
    team_ref: str | None
    team: str | None
    races: int


@dataclass(frozen=True, slots=True)
class RemainingRace:
    round: int
    name: str
    sprint: bool | None  # None: the stored calendar does not say


# --------------------------------------------------------------------------- facts


def _rows(stype: str | Sequence[str], *extra: object, where: Sequence[Any] = ()) -> Select:  # type: ignore[type-arg]
    """Result rows of these session types, with `where` (conditions on Result / Event) applied."""
    types = [stype] if isinstance(stype, str) else list(stype)
    return (
        select(
            Event.id.label("event_id"), Event.year.label("year"), Event.round.label("round"),
            Event.name.label("event_name"), Event.circuit_ref.label("circuit_ref"),
            Result.driver_id.label("driver_id"), Result.constructor_ref.label("team_ref"),
            Result.team_name.label("team_name"), Result.grid.label("grid"),
            Result.position.label("position"), *extra,
        )
        .select_from(Result)
        .join(Session, Session.id == Result.session_id)
        .join(Event, Event.id == Session.event_id)
        .where(Session.type.in_(types), *where)
    )


def _started() -> object:
    return or_(Result.position_text.is_(None), Result.position_text.not_in(_NOT_STARTED))


def _front(limit: int, sprint: bool, where: Sequence[Any]) -> Select:  # type: ignore[type-arg]
    """Poles (limit 1) / front rows (limit 2): the race's starting grid, as official records count them.

    Why not qualifying P1: the record books credit pole to the car that starts
    first, after grid penalties and exclusions (Turkey 2021, Spain 2012, Hungary
    2007), and 2021's sprints set the grid; Ergast's qualifying table also has
    gaps (1996-2002). Qualifying P1 (P1-2) is used only for a race whose results
    hold no grid at all (timing-only data).
    """
    one = literal(1).label("value")
    if sprint:
        return _rows("S", one, where=where).where(Result.grid >= 1, Result.grid <= limit)
    with_grid = (
        select(Session.event_id).join(Result, Result.session_id == Session.id)
        .where(Session.type == "R", Result.grid >= 1)
    )
    from_grid = _rows("R", one, where=where).where(Result.grid >= 1, Result.grid <= limit)
    from_q = _rows("Q", one, where=where).where(
        Result.position >= 1, Result.position <= limit, Event.id.not_in(with_grid)
    )
    return union_all(from_grid, from_q)  # type: ignore[return-value]


def _facts(metric: str, sprint: bool = False, where: Sequence[Any] = ()) -> Select:  # type: ignore[type-arg]
    """Rows where `metric` happened, each with its `value` (1, or the points scored).

    `where` filters every branch inside (subject, seasons, circuit), so the
    indexes on results serve it rather than a scan of the whole history.
    """
    one = literal(1).label("value")
    race = "S" if sprint else "R"
    if metric == "wins":
        return _rows(race, one, where=where).where(Result.position == 1)
    if metric == "podiums":
        return _rows(race, one, where=where).where(Result.position >= 1, Result.position <= 3)
    if metric == "points":
        types = ["S"] if sprint else ["R", "S"]
        return _rows(types, Result.points.label("value"), where=where).where(Result.points > 0)
    if metric == "points_finishes":
        return _rows(race, one, where=where).where(Result.points > 0)
    if metric == "fastest_laps":
        return _rows(race, one, where=where).where(Result.fastest_lap_rank == 1)
    if metric == "dnfs":
        return _rows(race, one, where=where).where(Result.position_text.in_(_NOT_CLASSIFIED))
    if metric in ("starts", "races"):
        return _rows(race, one, where=where).where(_started())  # type: ignore[arg-type]
    if metric == "poles":
        return _front(1, sprint, where)
    if metric == "front_rows":
        return _front(2, sprint, where)
    raise ValueError(f"unknown metric {metric!r}")


def _filtered(
    metric: str, *, driver_id: int | None, team_ref: str | None, years: Sequence[int] | None,
    circuit_ref: str | None, sprint: bool,
):  # type: ignore[no-untyped-def]
    conds: list[Any] = []
    if driver_id is not None:
        conds.append(Result.driver_id == driver_id)
    if team_ref is not None:
        conds.append(Result.constructor_ref == team_ref)
    if years:
        conds.append(Event.year.in_(list(years)))
    if circuit_ref is not None:
        conds.append(Event.circuit_ref == circuit_ref)
    return _facts(metric, sprint, conds).subquery(), literal(True)


def _amount(f, metric: str, team: bool):  # type: ignore[no-untyped-def]
    """A team's starts are Grands Prix entered, not cars; everything else adds up."""
    if team and metric in ("starts", "races"):
        return func.count(func.distinct(f.c.event_id))
    return func.coalesce(func.sum(f.c.value), 0)


# --------------------------------------------------------------------------- counts


def stat(
    db: Db, metric: str, *, driver_id: int | None = None, team_ref: str | None = None,
    years: Sequence[int] | None = None, circuit_ref: str | None = None, sprint: bool = False,
) -> StatResult:
    """A driver's or team's count of `metric`: per season asked (or per season entered) and in total."""
    team = driver_id is None
    f, cond = _filtered(metric, driver_id=driver_id, team_ref=team_ref, years=years,
                        circuit_ref=circuit_ref, sprint=sprint)
    per_year = select(f.c.year, _amount(f, metric, team)).where(cond).group_by(f.c.year)
    entered = _rows("S" if sprint else "R", literal(1)).with_only_columns(
        Event.year, func.count()
    ).group_by(Event.year)
    span = _rows("R", literal(1)).with_only_columns(func.min(Event.year), func.max(Event.year))
    if driver_id is not None:
        entered = entered.where(Result.driver_id == driver_id)
        span = span.where(Result.driver_id == driver_id)
    else:
        entered = entered.where(Result.constructor_ref == team_ref)
        span = span.where(Result.constructor_ref == team_ref)
    if circuit_ref is not None:
        entered = entered.where(Event.circuit_ref == circuit_ref)
    if years:
        entered = entered.where(Event.year.in_(list(years)))
    with _connect(db) as conn:
        counts = {r[0]: float(r[1]) for r in conn.execute(per_year)}
        if metric == "points" and circuit_ref is None and not sprint:
            # A season's points are the championship's (dropped scores applied), where it held one.
            counts.update(_championship_points(conn, driver_id=driver_id, team_ref=team_ref, years=years))
        in_season = {r[0] for r in conn.execute(entered)}
        first, last = conn.execute(span).one()
    wanted = sorted(set(years)) if years else sorted(in_season | set(counts))
    seasons = tuple(SeasonCount(y, counts.get(y, 0.0), y in in_season) for y in wanted)
    # Seasons add up: a team's Grands Prix entered are distinct within each season too.
    return StatResult(metric, seasons, sum(counts.values()), first, last)


def _championship_points(
    conn, *, driver_id: int | None, team_ref: str | None, years: Sequence[int] | None,
) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Season -> points in the standings after the season's last round held (drivers' or constructors')."""
    t = DriverStanding if driver_id is not None else ConstructorStanding
    last = select(t.year.label("year"), func.max(t.round).label("round")).group_by(t.year)
    if years:
        last = last.where(t.year.in_(list(years)))
    last_sq = last.subquery()
    stmt = select(t.year, t.points).join(last_sq, and_(last_sq.c.year == t.year, last_sq.c.round == t.round))
    if driver_id is not None:
        stmt = stmt.where(DriverStanding.driver_id == driver_id)
    else:
        stmt = stmt.where(ConstructorStanding.constructor_ref == team_ref)
    return {y: float(p) for y, p in conn.execute(stmt)}


def occasion(
    db: Db, metric: str, which: str, *, driver_id: int | None = None, team_ref: str | None = None,
    sprint: bool = False,
) -> Occasion | None:
    """The first (`which="first"`) or last race where `metric` happened for a driver or team."""
    f, cond = _filtered(metric, driver_id=driver_id, team_ref=team_ref, years=None,
                        circuit_ref=None, sprint=sprint)
    order = (f.c.year, f.c.round) if which == "first" else (f.c.year.desc(), f.c.round.desc())
    stmt = (
        select(f.c.year, f.c.round, f.c.event_name, f.c.circuit_ref, f.c.grid, f.c.position,
               func.coalesce(Driver.full_name, Driver.ref), f.c.team_name)
        .select_from(f).join(Driver, Driver.id == f.c.driver_id)
        .where(cond).order_by(*order).limit(1)
    )
    with _connect(db) as conn:
        row = conn.execute(stmt).first()
    return Occasion(*row) if row else None  # type: ignore[arg-type]


def leaders(
    db: Db, metric: str, *, by_season: bool = False, years: Sequence[int] | None = None,
    circuit_ref: str | None = None, teams: bool = False, sprint: bool = False, limit: int = 5,
) -> list[Leader]:
    """Top `limit` drivers (or teams) by `metric`, ties at the cut included.

    `by_season`: the single-season record (one row per driver and season).
    """
    f, cond = _filtered(metric, driver_id=None, team_ref=None, years=years,
                        circuit_ref=circuit_ref, sprint=sprint)
    amount = _amount(f, metric, teams).label("amount")
    if teams:
        name = func.coalesce(func.max(Constructor.name), f.c.team_ref)
        keys = [f.c.team_ref]
        stmt = select(name, f.c.team_ref).select_from(f).outerjoin(Constructor, Constructor.ref == f.c.team_ref)
        cond = and_(cond, f.c.team_ref.is_not(None))
    else:
        name = func.coalesce(func.max(Driver.full_name), func.max(Driver.ref))
        keys = [f.c.driver_id]
        stmt = select(name, func.max(Driver.ref)).select_from(f).join(Driver, Driver.id == f.c.driver_id)
    if by_season:
        keys.append(f.c.year)
        stmt = stmt.add_columns(f.c.year)
    else:
        stmt = stmt.add_columns(literal(None))
    stmt = stmt.add_columns(amount).where(cond).group_by(*keys).order_by(amount.desc()).limit(limit + 25)
    with _connect(db) as conn:
        rows = [Leader(r[0], r[1], r[2], float(r[3])) for r in conn.execute(stmt)]
    if len(rows) <= limit:
        return rows
    cut = rows[limit - 1].value
    return [r for r in rows if r.value >= cut and r.value > 0]


# --------------------------------------------------------------------------- titles


def _standing_table(kind: str):  # type: ignore[no-untyped-def]
    return ConstructorStanding if kind == "constructors" else DriverStanding


def _season_ends(conn, kind: str) -> dict[int, tuple[int, bool]]:  # type: ignore[no-untyped-def]
    """Season → (last standings round, decided: no calendar round after it)."""
    t = _standing_table(kind)
    last = dict(conn.execute(select(t.year, func.max(t.round)).group_by(t.year)).all())
    cal = dict(conn.execute(select(Event.year, func.max(Event.round)).group_by(Event.year)).all())
    return {y: (r, cal.get(y, r) <= r) for y, r in last.items()}


def _leader_rows(conn, kind: str, pairs: list[tuple[int, int]], *, key: object = None):  # type: ignore[no-untyped-def]
    if not pairs:
        return []
    t = _standing_table(kind)
    match = or_(*[and_(t.year == y, t.round == r) for y, r in pairs])
    if kind == "constructors":
        stmt = select(t.year, t.round, func.coalesce(t.name, t.constructor_ref), t.constructor_ref,
                      t.points, t.wins)
        if key is not None:
            stmt = stmt.where(t.constructor_ref == key)
    else:
        stmt = (select(t.year, t.round, func.coalesce(Driver.full_name, Driver.ref), Driver.ref, t.points, t.wins)
                .join(Driver, Driver.id == t.driver_id))
        if key is not None:
            stmt = stmt.where(t.driver_id == key)
    return conn.execute(stmt.where(match, t.position == 1).order_by(t.year)).all()


def champions(db: Db, kind: str, years: Sequence[int]) -> dict[int, list[Title]]:
    """Champion(s) of each asked season (or its current leader when not decided); absent → no standings."""
    with _connect(db) as conn:
        ends = _season_ends(conn, kind)
        pairs = [(y, ends[y][0]) for y in years if y in ends]
        out: dict[int, list[Title]] = {}
        for y, r, name, key, pts, wins in _leader_rows(conn, kind, pairs):
            out.setdefault(y, []).append(Title(y, r, name, key, float(pts), wins, ends[y][1]))
    return out


def titles(db: Db, kind: str, *, driver_id: int | None = None, team_ref: str | None = None) -> list[Title]:
    """Every season a driver (drivers' title) or a team (constructors') ended first; undecided ones flagged."""
    key: object = driver_id if kind == "drivers" else team_ref
    with _connect(db) as conn:
        ends = _season_ends(conn, kind)
        rows = _leader_rows(conn, kind, [(y, r) for y, (r, _) in ends.items()], key=key)
        return [Title(y, r, name, k, float(p), w, ends[y][1]) for y, r, name, k, p, w in rows]


def title_leaders(db: Db, kind: str, *, limit: int = 5) -> list[Leader]:
    """Most championships (decided seasons only), ties at the cut included."""
    with _connect(db) as conn:
        ends = _season_ends(conn, kind)
        rows = _leader_rows(conn, kind, [(y, r) for y, (r, done) in ends.items() if done])
    counts: dict[str, list[Any]] = {}
    for _, _, name, key, _, _ in rows:
        counts.setdefault(key, [name, 0])[1] += 1
    ranked = sorted((Leader(n, k, None, float(c)) for k, (n, c) in counts.items()), key=lambda r: -r.value)
    if len(ranked) <= limit:
        return ranked
    cut = ranked[limit - 1].value
    return [r for r in ranked if r.value >= cut]


def season_rounds(db: Db, year: int) -> tuple[int | None, int | None]:
    """(last round with driver standings, last calendar round) of a season: equal once it is decided."""
    with _connect(db) as conn:
        st = conn.execute(select(func.max(DriverStanding.round)).where(DriverStanding.year == year)).scalar()
        cal = conn.execute(select(func.max(Event.round)).where(Event.year == year)).scalar()
    return st, cal


def final_round(db: Db, year: int) -> int | None:
    """The last round of a season's calendar in the store."""
    with _connect(db) as conn:
        return conn.execute(select(func.max(Event.round)).where(Event.year == year)).scalar()


# --------------------------------------------------------------------------- teams


def team_spells(db: Db, driver_id: int, *, years: Sequence[int] | None = None) -> list[TeamSpell]:
    """The teams a driver raced for (race entries), per season and team, in order."""
    stmt = (
        _rows("R").with_only_columns(
            Event.year, Result.constructor_ref, func.max(Result.team_name),
            func.min(Event.round), func.max(Event.round), func.count(),
        )
        .where(Result.driver_id == driver_id)
        .group_by(Event.year, Result.constructor_ref)
        .order_by(Event.year, func.min(Event.round))
    )
    if years:
        stmt = stmt.where(Event.year.in_(list(years)))
    with _connect(db) as conn:
        return [TeamSpell(*r) for r in conn.execute(stmt)]  # type: ignore[arg-type]


def team_in_event(db: Db, driver_id: int, event_id: int) -> tuple[str | None, str | None, str] | None:
    """(team ref, team name, session type) of a driver at one event: race entry, else qualifying."""
    with _connect(db) as conn:
        for stype in ("R", "Q", "S"):
            row = conn.execute(
                _rows(stype).with_only_columns(Result.constructor_ref, Result.team_name)
                .where(Result.driver_id == driver_id, Event.id == event_id)
            ).first()
            if row:
                return row[0], row[1], stype
    return None


def drivers_of_team(
    db: Db, team_refs: Sequence[str], *, year: int, event_id: int | None = None
) -> list[Mate]:
    """Drivers with race entries for these teams in a season (or one race), most races first."""
    stmt = (
        _rows("R").with_only_columns(
            *_DRIVER_COLS, Result.constructor_ref, func.max(Result.team_name), func.count(),
        )
        .join(Driver, Driver.id == Result.driver_id)
        .where(Result.constructor_ref.in_(list(team_refs)), Event.year == year)
        .group_by(*_DRIVER_COLS, Result.constructor_ref)
        .order_by(Result.constructor_ref, func.count().desc(), func.min(Event.round))
    )
    if event_id is not None:
        stmt = stmt.where(Event.id == event_id)
    n = len(_DRIVER_COLS)
    with _connect(db) as conn:
        return [Mate(_driver(r), r[n], r[n + 1], r[n + 2]) for r in conn.execute(stmt)]


def teammates_of(db: Db, driver_id: int, *, year: int, event_id: int | None = None) -> list[Mate]:
    """Drivers who raced for the same team in the same races as a driver (a season, or one race)."""
    me, mate = aliased(Result), aliased(Result)
    stmt = (
        select(*_DRIVER_COLS, mate.constructor_ref, func.max(mate.team_name), func.count())
        .select_from(me)
        .join(mate, and_(mate.session_id == me.session_id, mate.constructor_ref == me.constructor_ref,
                         mate.driver_id != me.driver_id))
        .join(Session, Session.id == me.session_id)
        .join(Event, Event.id == Session.event_id)
        .join(Driver, Driver.id == mate.driver_id)
        .where(me.driver_id == driver_id, Session.type == "R", Event.year == year)
        .group_by(*_DRIVER_COLS, mate.constructor_ref)
        .order_by(func.min(Event.round), func.count().desc())
    )
    if event_id is not None:
        stmt = stmt.where(Event.id == event_id)
    n = len(_DRIVER_COLS)
    with _connect(db) as conn:
        return [Mate(_driver(r), r[n], r[n + 1], r[n + 2]) for r in conn.execute(stmt)]


def team_name(db: Db, team_ref: str) -> str | None:
    with _connect(db) as conn:
        return conn.execute(select(Constructor.name).where(Constructor.ref == team_ref)).scalar()


def team_span(db: Db, team_ref: str) -> tuple[int | None, int | None]:
    """First and last season a team has race entries in the store."""
    stmt = _rows("R").with_only_columns(func.min(Event.year), func.max(Event.year)).where(
        Result.constructor_ref == team_ref)
    with _connect(db) as conn:
        a, b = conn.execute(stmt).one()
    return a, b


def circuit_name(db: Db, circuit_ref: str) -> str | None:
    with _connect(db) as conn:
        return conn.execute(select(Circuit.name).where(Circuit.ref == circuit_ref)).scalar()


def season_race_count(db: Db, year: int) -> tuple[int, int]:
    """(Grands Prix held with results, Grands Prix on the calendar) of a season."""
    held = _rows("R").with_only_columns(func.count(func.distinct(Event.id))).where(Event.year == year)
    with _connect(db) as conn:
        n_held = conn.execute(held).scalar() or 0
        # FastF1 schedules list pre-season testing as round 0: not a round of the championship.
        rounds = select(func.count()).select_from(Event).where(
            Event.year == year, Event.round >= 1, or_(Event.format.is_(None), Event.format != "testing"))
        n_cal = conn.execute(rounds).scalar() or 0
    return int(n_held), int(n_cal)


# --------------------------------------------------------------------------- title maths


def remaining_races(db: Db, year: int, after_round: int) -> list[RemainingRace]:
    """Calendar rounds of `year` after `after_round`, with whether each has a sprint.

    `sprint` is None when the stored calendar does not say (the history dump lists
    a season's remaining races without their sessions): no sessions but the race,
    no format.
    """
    other = aliased(Session)
    sprint = func.sum(case((other.type == "S", 1), else_=0))
    known = func.sum(case((other.type != "R", 1), else_=0))
    stmt = (
        select(Event.round, Event.name, sprint, known, func.max(Event.format))
        .select_from(Event)
        .outerjoin(other, other.event_id == Event.id)
        .where(Event.year == year, Event.round > after_round)
        .group_by(Event.id, Event.round, Event.name)
        .order_by(Event.round)
    )
    out = []
    with _connect(db) as conn:
        for rnd, name, n_sprint, n_known, fmt in conn.execute(stmt):
            has: bool | None = bool(n_sprint) or ("sprint" in (fmt or ""))
            if not has and not n_known and not fmt:
                has = None
            out.append(RemainingRace(rnd, name, has))
    return out


@dataclass(frozen=True, slots=True)
class PointsRule:
    """Most points one driver (or team) can score at one weekend in a season."""

    race_driver: int  # winner + fastest-lap point where it counted
    race_team: int  # a one-two (+ fastest lap) where both cars scored for the team
    sprint_driver: int
    sprint_team: int
    note: str


def points_rule(year: int) -> PointsRule:
    """The scoring rules that bound the title maths of a season (stated in the reply); the
    numbers come from the season's points system (`storage.points`)."""
    if year >= 2025:
        note = "25 a Grand Prix win, 8 a sprint win, no fastest-lap point"
    elif year >= 2019:
        note = "25 a win + 1 fastest lap" + (", 3 a sprint win" if year == 2021 else
                                               ", 8 a sprint win" if year >= 2022 else "")
    elif year >= 2010:
        note = "25 a win"
    elif year >= 1991:
        note = "10 a win"
    elif year >= 1961:
        note = "9 a win; dropped scores ignored"
    elif year == 1960:
        note = "8 a win; dropped scores ignored"
    else:
        note = "8 a win + 1 fastest lap; dropped scores ignored"
    return PointsRule(*weekend_max(year), note)


@dataclass(frozen=True, slots=True)
class PointsLeft:
    races: tuple[RemainingRace, ...]
    max_points: float  # the most one driver (or team) can still score (unknown sprints: none)
    max_if_sprints: float  # the same if every round the calendar does not detail had a sprint
    rule: PointsRule


def points_left(db: Db, kind: str, year: int, after_round: int) -> PointsLeft:
    """The most points still available in `year` after `after_round` (the title maths' bound).

    Every remaining round counts its Grand Prix win (+ fastest lap where it
    scored) and, on a sprint weekend, the sprint win; 2014's final round paid double.
    """
    races = remaining_races(db, year, after_round)
    rule = points_rule(year)
    last = final_round(db, year)
    team = kind == "constructors"
    total = unknown = 0.0
    for r in races:
        race = rule.race_team if team else rule.race_driver
        total += race * (2 if year == 2014 and r.round == last else 1)
        sprint = rule.sprint_team if team else rule.sprint_driver
        if r.sprint:
            total += sprint
        elif r.sprint is None:
            unknown += sprint
    return PointsLeft(tuple(races), total, total + unknown, rule)
