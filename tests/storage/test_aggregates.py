"""storage.aggregates against the raw Ergast CSV (the full 1950–2025 history import).

Expected figures are computed here from the CSV files with `csv`, by the
counting rules the module states (poles: qualifying P1 where the race has
qualifying rows, else grid 1; DNF: positionText R or N; starts: not W / F),
never read back from the store. Runs on SQLite and PostgreSQL; the store is
built once per run and backend and only read.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage import aggregates as agg
from storage import queries as q
from storage.db import init_db, make_engine
from storage.history import import_history
from tests.conftest import create_pg_database, drop_pg_database

N = "\\N"


class Ergast:
    """The raw CSV, read with `csv` only: the independent side of every comparison."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def rows(self, name: str) -> list[dict[str, str]]:
        with (self.root / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    @cached_property
    def races(self) -> dict[str, dict[str, str]]:
        return {r["raceId"]: r for r in self.rows("races")}

    @cached_property
    def driver_ids(self) -> dict[str, str]:
        return {r["driverRef"]: r["driverId"] for r in self.rows("drivers")}

    @cached_property
    def driver_names(self) -> dict[str, str]:
        return {r["driverId"]: f"{r['forename']} {r['surname']}" for r in self.rows("drivers")}

    @cached_property
    def constructor_ids(self) -> dict[str, str]:
        return {r["constructorRef"]: r["constructorId"] for r in self.rows("constructors")}

    @cached_property
    def constructor_names(self) -> dict[str, str]:
        return {r["constructorId"]: r["name"] for r in self.rows("constructors")}

    @cached_property
    def results(self) -> list[dict[str, str]]:
        return self.rows("results")

    @cached_property
    def sprints(self) -> list[dict[str, str]]:
        return self.rows("sprint_results")

    @cached_property
    def qualifying(self) -> list[dict[str, str]]:
        return self.rows("qualifying")

    def year(self, race_id: str) -> int:
        return int(self.races[race_id]["year"])

    def round(self, race_id: str) -> int:
        return int(self.races[race_id]["round"])

    def poles(self, limit: int = 1) -> list[dict[str, str]]:
        """Race rows on grid 1 (1-2); qualifying P1 (P1-2) only for a race without any grid."""
        with_grid = {r["raceId"] for r in self.results if r["grid"] not in (N, "0")}
        out = [r for r in self.results if r["grid"] != N and 1 <= int(r["grid"]) <= limit]
        out += [r for r in self.qualifying if r["raceId"] not in with_grid and r["position"] != N
                and 1 <= int(r["position"]) <= limit]
        return out

    def facts(self, metric: str) -> list[dict[str, str]]:
        res = self.results
        if metric == "wins":
            return [r for r in res if r["position"] == "1"]
        if metric == "podiums":
            return [r for r in res if r["position"] in ("1", "2", "3")]
        if metric == "dnfs":
            return [r for r in res if r["positionText"] in ("R", "N")]
        if metric == "starts":
            return [r for r in res if r["positionText"] not in ("W", "F")]
        if metric == "fastest_laps":
            return [r for r in res if r["rank"] == "1"]
        if metric == "points_finishes":
            return [r for r in res if float(r["points"]) > 0]
        if metric == "poles":
            return self.poles(1)
        if metric == "front_rows":
            return self.poles(2)
        raise AssertionError(metric)

    def count(self, metric: str, *, driver: str | None = None, team: str | None = None,
              years: set[int] | None = None, circuit: str | None = None) -> float:
        """A driver's (one per race) or a team's count, optionally within seasons or at a circuit id."""
        if metric == "points" and circuit is None:
            return self.season_points(driver=driver, team=team, years=years)
        if metric == "points":
            rows = [r for r in self.results + self.sprints if float(r["points"]) > 0]
        else:
            rows = self.facts(metric)
        if driver is not None:
            rows = [r for r in rows if r["driverId"] == self.driver_ids[driver]]
        if team is not None:
            rows = [r for r in rows if r["constructorId"] == self.constructor_ids[team]]
        if years is not None:
            rows = [r for r in rows if self.year(r["raceId"]) in years]
        if circuit is not None:
            rows = [r for r in rows if self.races[r["raceId"]]["circuitId"] == circuit]
        if metric == "points":
            return sum(float(r["points"]) for r in rows)
        if team is not None and metric == "starts":
            return len({r["raceId"] for r in rows})
        if driver is not None:
            return len({r["raceId"] for r in rows})  # a 1950s shared drive is one race
        return len(rows)

    def season_points(self, *, driver: str | None, team: str | None, years: set[int] | None) -> float:
        """Each season's championship points (standings after its last round), else its result points."""
        name, col, key = (("driver_standings", "driverId", self.driver_ids[driver]) if driver is not None
                          else ("constructor_standings", "constructorId", self.constructor_ids[team or ""]))
        finals = {y: {r[col]: float(r["points"]) for r in rows} for y, rows in self.final_standings(name).items()}
        by_year: dict[int, float] = defaultdict(float)
        for r in self.results + self.sprints:
            if r[col] == key:
                by_year[self.year(r["raceId"])] += float(r["points"])
        for y, table in finals.items():
            if key in table:
                by_year[y] = table[key]
        return sum(v for y, v in by_year.items() if years is None or y in years)

    def final_standings(self, name: str) -> dict[int, list[dict[str, str]]]:
        """Each season's last standings round (rows of `name`)."""
        by_year: dict[int, dict[int, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
        for r in self.rows(name):
            by_year[self.year(r["raceId"])][self.round(r["raceId"])].append(r)
        return {y: rounds[max(rounds)] for y, rounds in by_year.items()}

    def standings_after(self, name: str, year: int, rnd: int) -> list[dict[str, str]]:
        return [r for r in self.rows(name) if self.year(r["raceId"]) == year and self.round(r["raceId"]) == rnd]

    def calendar_end(self, year: int) -> int:
        return max(int(r["round"]) for r in self.races.values() if int(r["year"]) == year)


@pytest.fixture(scope="session")
def ergast(shared_data: Path) -> Ergast:
    return Ergast(shared_data / "ergast-csv")


def _import(url: str, csv_dir: Path) -> None:
    eng = make_engine(url)
    try:
        init_db(eng)
        import_history(eng, csv_dir)
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def history_sqlite_url(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The full history import on SQLite, built once per run (tests only read it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'history.db'}"
    _import(url, shared_data / "ergast-csv")
    return url


@pytest.fixture(scope="session")
def history_pg_url(shared_data: Path, pg_available: bool) -> Iterator[str]:
    if not pg_available:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = create_pg_database()
    try:
        _import(url, shared_data / "ergast-csv")
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def history(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on the full history store, on SQLite and PostgreSQL (read only)."""
    url = request.getfixturevalue("history_sqlite_url" if request.param == "sqlite" else "history_pg_url")
    eng = make_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()


def _driver_id(engine: Engine, ref: str) -> int:
    found = [d for d in q.all_drivers(engine) if d.ref == ref]
    assert len(found) == 1, ref
    return found[0].id


CAREER_DRIVERS = ("hamilton", "max_verstappen", "alonso", "raikkonen", "prost", "senna", "fangio")
# Hazard: the history import folds a 1950s shared drive (two cars, one race) into one row, the
# better-finishing car's, so a pole set in the other car is lost (Fangio: 4 of 29). Known gap,
# reported to the lead (storage/history._dedupe_results); grid-based metrics skip those drivers.
SHARED_DRIVES = {"fangio"}
GRID_METRICS = {"poles", "front_rows", "dnfs", "starts"}
MODERN = set(range(1960, 2026))  # after the shared drives


def test_career_counts_match_the_csv(history: Engine, ergast: Ergast) -> None:
    for ref in CAREER_DRIVERS:
        did = _driver_id(history, ref)
        for metric in ("wins", "poles", "podiums", "points", "dnfs", "starts", "fastest_laps",
                       "points_finishes", "front_rows"):
            if ref in SHARED_DRIVES and metric in GRID_METRICS:
                continue
            got = agg.stat(history, metric, driver_id=did)
            assert got.total == pytest.approx(ergast.count(metric, driver=ref)), (ref, metric)
        years = sorted({ergast.year(r["raceId"]) for r in ergast.results
                        if r["driverId"] == ergast.driver_ids[ref]})
        assert (got.first_year, got.last_year) == (years[0], years[-1])


def test_pole_is_the_car_starting_first(history: Engine, ergast: Ergast) -> None:
    """Turkey 2021: Hamilton topped qualifying, took a grid penalty; Bottas started first (the record's pole)."""
    race_id = next(i for i, r in ergast.races.items() if r["year"] == "2021" and r["name"] == "Turkish Grand Prix")
    on_grid_1 = next(r["driverId"] for r in ergast.results if r["raceId"] == race_id and r["grid"] == "1")
    q_p1 = next(r["driverId"] for r in ergast.qualifying if r["raceId"] == race_id and r["position"] == "1")
    assert on_grid_1 != q_p1  # the case the rule is for
    circuit = next(r["circuitRef"] for r in ergast.rows("circuits")
                   if r["circuitId"] == ergast.races[race_id]["circuitId"])
    for did, expected in ((on_grid_1, 1), (q_p1, 0)):
        ref = next(k for k, v in ergast.driver_ids.items() if v == did)
        got = agg.stat(history, "poles", driver_id=_driver_id(history, ref), years=[2021], circuit_ref=circuit)
        assert got.total == expected, ref


def test_season_counts_and_seasons_not_raced(history: Engine, ergast: Ergast) -> None:
    did = _driver_id(history, "alonso")
    got = agg.stat(history, "wins", driver_id=did, years=[2005, 2019, 2012])
    by_year = {c.year: c for c in got.seasons}
    assert [c.year for c in got.seasons] == [2005, 2012, 2019]
    for y in (2005, 2012):
        assert by_year[y].entered and by_year[y].value == ergast.count("wins", driver="alonso", years={y})
    raced_2019 = any(r["driverId"] == ergast.driver_ids["alonso"] and ergast.year(r["raceId"]) == 2019
                     for r in ergast.results)
    assert by_year[2019].entered is raced_2019 is False
    assert got.total == ergast.count("wins", driver="alonso", years={2005, 2012})


def test_team_counts(history: Engine, ergast: Ergast) -> None:
    for team in ("ferrari", "mclaren", "red_bull"):
        got = agg.stat(history, "wins", team_ref=team)
        assert got.total == ergast.count("wins", team=team), team
        for metric in ("poles", "podiums", "starts", "dnfs"):  # shared drives: see SHARED_DRIVES
            got = agg.stat(history, metric, team_ref=team, years=sorted(MODERN))
            assert got.total == ergast.count(metric, team=team, years=MODERN), (team, metric)
    got = agg.stat(history, "points", team_ref="mclaren", years=[2024])
    assert got.total == pytest.approx(ergast.count("points", team="mclaren", years={2024}))


def test_circuit_counts_and_leaders(history: Engine, ergast: Ergast) -> None:
    monza = next(r["circuitId"] for r in ergast.rows("circuits") if r["circuitRef"] == "monza")
    did = _driver_id(history, "hamilton")
    got = agg.stat(history, "wins", driver_id=did, circuit_ref="monza")
    assert got.total == ergast.count("wins", driver="hamilton", circuit=monza)
    got = agg.stat(history, "wins", driver_id=did, circuit_ref="monza", years=[2017, 2018])
    assert got.total == ergast.count("wins", driver="hamilton", circuit=monza, years={2017, 2018})

    wins = Counter(r["driverId"] for r in ergast.facts("wins") if ergast.races[r["raceId"]]["circuitId"] == monza)
    top = agg.leaders(history, "wins", circuit_ref="monza")
    fifth = sorted(wins.values(), reverse=True)[4]
    expected = {ergast.driver_names[d]: n for d, n in wins.items() if n >= fifth}
    assert {r.name: r.value for r in top} == expected  # ties at the cut included


def test_leaders_career_season_record_and_one_season(history: Engine, ergast: Ergast) -> None:
    wins = Counter(r["driverId"] for r in ergast.facts("wins"))
    top = agg.leaders(history, "wins")
    assert [(r.name, r.value) for r in top[:3]] == [(ergast.driver_names[d], n) for d, n in wins.most_common(3)]

    per_season = Counter((r["driverId"], ergast.year(r["raceId"])) for r in ergast.facts("wins"))
    (best_driver, best_year), best = per_season.most_common(1)[0]
    rec = agg.leaders(history, "wins", by_season=True)[0]
    assert (rec.name, rec.year, rec.value) == (ergast.driver_names[best_driver], best_year, best)

    poles_2023 = Counter(r["driverId"] for r in ergast.poles(1) if ergast.year(r["raceId"]) == 2023)
    got = agg.leaders(history, "poles", years=[2023])
    assert got[0].name == ergast.driver_names[poles_2023.most_common(1)[0][0]]
    assert got[0].value == poles_2023.most_common(1)[0][1]

    team_wins = Counter(r["constructorId"] for r in ergast.facts("wins"))
    teams = agg.leaders(history, "wins", teams=True)
    cid, n = team_wins.most_common(1)[0]
    assert (teams[0].name, teams[0].value) == (ergast.constructor_names[cid], n)


def test_sprint_wins_only_when_asked(history: Engine, ergast: Ergast) -> None:
    did = _driver_id(history, "norris")
    sprint_wins = sum(1 for r in ergast.sprints if r["position"] == "1" and r["driverId"] == ergast.driver_ids["norris"])
    assert sprint_wins > 0
    assert agg.stat(history, "wins", driver_id=did, sprint=True).total == sprint_wins
    assert agg.stat(history, "wins", driver_id=did).total == ergast.count("wins", driver="norris")


def test_titles_and_champions(history: Engine, ergast: Ergast) -> None:
    finals = ergast.final_standings("driver_standings")
    open_year = max(finals)
    assert ergast.calendar_end(open_year) > max(ergast.round(r["raceId"]) for r in finals[open_year])
    champs = {y: next(r["driverId"] for r in rows if r["position"] == "1") for y, rows in finals.items()}
    ham = [y for y, d in champs.items() if d == ergast.driver_ids["hamilton"] and y != open_year]
    got = agg.titles(history, "drivers", driver_id=_driver_id(history, "hamilton"))
    assert [t.year for t in got if t.decided] == sorted(ham)

    leader = champs[open_year]
    lead = agg.titles(history, "drivers", driver_id=int(_driver_id(history, next(
        ref for ref, i in ergast.driver_ids.items() if i == leader))))
    assert [(t.year, t.decided) for t in lead if t.year == open_year] == [(open_year, False)]

    got_champs = agg.champions(history, "drivers", [1950, 1988, 2021, open_year])
    for y in (1950, 1988, 2021):
        assert got_champs[y][0].name == ergast.driver_names[champs[y]] and got_champs[y][0].decided
    assert not got_champs[open_year][0].decided

    cfinals = ergast.final_standings("constructor_standings")
    cons = agg.champions(history, "constructors", [1955, 1958, 2024])
    assert 1955 not in cons and min(cfinals) == agg.FIRST_CONSTRUCTORS_YEAR
    for y in (1958, 2024):
        cid = next(r["constructorId"] for r in cfinals[y] if r["position"] == "1")
        assert cons[y][0].name == ergast.constructor_names[cid]


def test_first_and_last_win(history: Engine, ergast: Ergast) -> None:
    did = _driver_id(history, "hamilton")
    wins = sorted((ergast.year(r["raceId"]), ergast.round(r["raceId"]), r["grid"]) for r in ergast.facts("wins")
                  if r["driverId"] == ergast.driver_ids["hamilton"])
    first = agg.occasion(history, "wins", "first", driver_id=did)
    last = agg.occasion(history, "wins", "last", driver_id=did)
    assert first is not None and last is not None
    assert (first.year, first.round, str(first.grid)) == wins[0]
    assert (last.year, last.round, str(last.grid)) == wins[-1]
    assert agg.occasion(history, "wins", "first", driver_id=_driver_id(history, "sargeant")) is None


def test_team_spells_and_teammates(history: Engine, ergast: Ergast) -> None:
    did = _driver_id(history, "lawson")
    lawson = ergast.driver_ids["lawson"]
    rows = [r for r in ergast.results if r["driverId"] == lawson and ergast.year(r["raceId"]) == 2025]
    teams = Counter(ergast.constructor_names[r["constructorId"]] for r in rows)
    assert len(teams) == 2  # a mid-season switch
    got = agg.team_spells(history, did, years=[2025])
    assert {s.team: s.races for s in got} == dict(teams)

    mates: Counter[str] = Counter()
    for r in rows:
        for o in ergast.results:
            if o["raceId"] == r["raceId"] and o["constructorId"] == r["constructorId"] and o["driverId"] != lawson:
                mates[ergast.driver_names[o["driverId"]]] += 1
    got_mates = agg.teammates_of(history, did, year=2025)
    assert {m.driver.name: m.races for m in got_mates} == dict(mates)


@pytest.mark.parametrize(("year", "rnd"), [(1950, 3), (1988, 16), (2021, 5), (2023, 7), (2025, 10)])
def test_standings_after_any_round(history: Engine, ergast: Ergast, year: int, rnd: int) -> None:
    """storage.queries.standings after a given round matches driver_standings.csv for that round."""
    raw = ergast.standings_after("driver_standings", year, rnd)
    st = q.standings(history, "drivers", year, rnd)
    assert st is not None and (st.year, st.round) == (year, rnd)
    expected = sorted((int(r["position"]), ergast.driver_names[r["driverId"]], float(r["points"])) for r in raw)
    assert [(r.position, r.name, r.points) for r in st.rows] == expected
    if year >= agg.FIRST_CONSTRUCTORS_YEAR:
        raw_c = ergast.standings_after("constructor_standings", year, rnd)
        cst = q.standings(history, "constructors", year, rnd)
        assert cst is not None
        exp_c = sorted((int(r["position"]), ergast.constructor_names[r["constructorId"]], float(r["points"]))
                       for r in raw_c)
        assert [(r.position, r.name, r.points) for r in cst.rows] == exp_c


def test_points_left_counts_remaining_rounds_and_sprints(history: Engine, ergast: Ergast) -> None:
    later = [r for r in ergast.races.values() if int(r["year"]) == 2023 and int(r["round"]) > 15]
    sprints = sum(1 for r in later if r["sprint_date"] != N)
    got = agg.points_left(history, "drivers", 2023, 15)
    assert [r.round for r in got.races] == sorted(int(r["round"]) for r in later)
    assert got.max_points == len(later) * 26 + sprints * 8  # 2023: 25 + fastest lap, sprint win 8
    team = agg.points_left(history, "constructors", 2023, 15)
    assert team.max_points == len(later) * 44 + sprints * 15

    # 2025 in the dump: the remaining races carry no session dates, so sprints are unknown.
    finals = ergast.final_standings("driver_standings")
    last = max(ergast.round(r["raceId"]) for r in finals[2025])
    left = agg.points_left(history, "drivers", 2025, last)
    assert len(left.races) == ergast.calendar_end(2025) - last
    assert all(r.sprint is None for r in left.races)
    assert left.max_points == 25 * len(left.races) < left.max_if_sprints


def test_season_race_count(history: Engine, ergast: Ergast) -> None:
    for y in (2023, 2025):
        held = len({r["raceId"] for r in ergast.results if ergast.year(r["raceId"]) == y})
        cal = sum(1 for r in ergast.races.values() if int(r["year"]) == y)
        assert agg.season_race_count(history, y) == (held, cal)


def test_title_leaders_count_decided_seasons_only(history: Engine, ergast: Ergast) -> None:
    finals = ergast.final_standings("constructor_standings")
    open_year = max(finals)
    champs = Counter(next(r["constructorId"] for r in rows if r["position"] == "1")
                     for y, rows in finals.items() if y != open_year)
    got = agg.title_leaders(history, "constructors")
    cid, n = champs.most_common(1)[0]
    assert (got[0].name, got[0].value) == (ergast.constructor_names[cid], n)
    assert sum(r.value for r in agg.title_leaders(history, "constructors", limit=1000)) == sum(champs.values())


def test_season_points_are_the_championship_points(history: Engine, ergast: Ergast) -> None:
    """1988: Prost scored 105 points but the championship counted 87 (best 11 results)."""
    did = _driver_id(history, "prost")
    scored = sum(float(r["points"]) for r in ergast.results
                 if r["driverId"] == ergast.driver_ids["prost"] and ergast.year(r["raceId"]) == 1988)
    counted = next(float(r["points"]) for r in ergast.final_standings("driver_standings")[1988]
                   if r["driverId"] == ergast.driver_ids["prost"])
    assert scored != counted  # the case the rule is for
    assert agg.stat(history, "points", driver_id=did, years=[1988]).total == counted
    circuit = agg.stat(history, "points", driver_id=did, years=[1988], circuit_ref="monaco").total
    monaco = next(c["circuitId"] for c in ergast.rows("circuits") if c["circuitRef"] == "monaco")
    assert circuit == ergast.count("points", driver="prost", years={1988}, circuit=monaco)
