"""Championship odds against the title maths, computed here from the raw CSV: on every round
of several seasons `can_win` is the mathematical check, P(title) > 0 only where it holds,
the odds sum to one, and a finished season gives its champion 1.0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.predict.service import PredictCore
from tests.predict.conftest import demo_csv, history_engine, read_csv

# The most one driver / one team can score at a weekend (F1 sporting regulations):
# (Grand Prix driver, Grand Prix team, sprint driver, sprint team).
RULES = {
    2008: (10, 18, 0, 0),
    2014: (25, 43, 0, 0),  # the final round paid double
    2021: (26, 44, 3, 5),  # 25 + fastest lap; sprint 3-2-1
    2023: (26, 44, 8, 15),
    2025: (25, 43, 8, 15),  # no fastest-lap point any more
}


def _check_season(core: PredictCore, csv_dir: Path, year: int) -> int:
    races = [r for r in read_csv(csv_dir / "races.csv") if int(r["year"]) == year]
    by_id = {r["raceId"]: int(r["round"]) for r in races}
    last = max(int(r["round"]) for r in races)
    # A round whose sprint the calendar does not state (2025's last rounds in the shared dump
    # have no session columns) counts no sprint, as the bot's title maths states in its reply.
    sprint = {int(r["round"]) for r in races if r.get("sprint_date") not in (None, "\\N", "")}
    sprint |= {by_id[r["raceId"]] for r in read_csv(csv_dir / "sprint_results.csv") if r["raceId"] in by_id}
    code = {r["driverId"]: r["code"] for r in read_csv(csv_dir / "drivers.csv")}
    run = {by_id[r["raceId"]] for r in read_csv(csv_dir / "results.csv") if r["raceId"] in by_id}
    cref = {r["constructorId"]: r["constructorRef"] for r in read_csv(csv_dir / "constructors.csv")}
    tables = {
        "drivers": [(by_id[r["raceId"]], code[r["driverId"]], float(r["points"]))
                    for r in read_csv(csv_dir / "driver_standings.csv") if r["raceId"] in by_id],
        "constructors": [(by_id[r["raceId"]], cref[r["constructorId"]], float(r["points"]))
                         for r in read_csv(csv_dir / "constructor_standings.csv") if r["raceId"] in by_id],
    }
    gp_d, gp_t, sp_d, sp_t = RULES[year]
    checked = 0
    for kind, rows in tables.items():
        team = kind == "constructors"
        for rnd in sorted({r for r, _, _ in rows}):
            pts = {k: p for r, k, p in rows if r == rnd}
            left = sum((gp_t if team else gp_d) * (2 if year == 2014 and r == last else 1)
                       + ((sp_t if team else sp_d) if r in sprint else 0) for r in range(rnd + 1, last + 1))
            t = core.title(year, after_round=rnd, kind=kind)  # type: ignore[arg-type]
            assert t.rounds_left == last - rnd
            # Rounds whose sprint the calendar leaves open, in a season with sprints: said so. In the
            # raw dump: no sprint date, no sprint result, and not run yet (no race result).
            open_rounds = [r for r in races if int(r["round"]) > rnd and int(r["round"]) not in sprint
                           and int(r["round"]) not in run and r.get("sprint_date") in (None, "", "\\N")
                           and r.get("fp1_date") in (None, "", "\\N")]
            assert t.sprints_unknown == (len(open_rounds) if sp_d and not team or sp_t and team else 0)
            assert sum(e.p_title for e in t.entries) == pytest.approx(1.0, abs=1e-9)
            for e in t.entries:
                rival = max(p for k, p in pts.items() if k != e.key)
                maths = pts[e.key] + left >= rival
                assert e.can_win == maths, (year, rnd, kind, e)
                assert e.max_points == pytest.approx(pts[e.key] + left)
                assert e.p_title == 0 or maths
                checked += 1
            if rnd == last:
                champ = max(pts, key=pts.__getitem__)
                assert t.decided and t.champion == champ
                assert next(e for e in t.entries if e.key == champ).p_title == 1.0
    return checked


def test_demo_season_title_odds_agree_with_the_maths(demo_engine: Engine) -> None:
    core = PredictCore(demo_engine, title_draws=20, title_sims=10)
    assert _check_season(core, demo_csv(), 2023) > 22 * 20


@pytest.fixture(scope="module")
def shared_core(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PredictCore]:
    engine = history_engine(tmp_path_factory.mktemp("predict-shared") / "h.db", shared_data / "ergast-csv")
    yield PredictCore(engine, title_draws=20, title_sims=10)
    engine.dispose()


@pytest.mark.shared_data
@pytest.mark.parametrize("year", [2008, 2014, 2021, 2025])
def test_shared_seasons_title_odds_agree_with_the_maths(shared_core: PredictCore, shared_data: Path,
                                                        year: int) -> None:
    assert _check_season(shared_core, shared_data / "ergast-csv", year) > 0
