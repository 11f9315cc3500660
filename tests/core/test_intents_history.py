"""The history intents (bot/intents/history.py): plan in, reply out, on real stores.

Most run on the full 1950–2025 history import (`shared_data`; skipped when
absent); a few on the demo store (the bundled 2023 history) so a clean clone
tests them too. Expected figures come from the raw Ergast CSV, read with `csv`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.answer import answer
from bot.context import build_context
from bot.errors import UserError
from bot.intents import all_intents
from bot.plan import QueryPlan
from storage import queries as q
from storage.db import make_engine
from storage.demo import demo_data_dir
from storage.store import Store
from tests.storage.test_aggregates import Ergast, ergast, history_sqlite_url  # noqa: F401  (shared fixtures)

NOW = dt.datetime(2025, 10, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def store(history_sqlite_url: str) -> AsyncIterator[Store]:  # noqa: F811
    s = Store(make_engine(history_sqlite_url))
    try:
        yield s
    finally:
        s.close()
        s.engine.dispose()


@pytest.fixture
async def demo(demo_store_url: str) -> AsyncIterator[Store]:
    """The demo store on SQLite and on PostgreSQL."""
    s = Store(make_engine(demo_store_url))
    try:
        yield s
    finally:
        s.close()
        s.engine.dispose()


def driver(store: Store, ref: str) -> q.DriverInfo:
    return next(d for d in q.all_drivers(store.engine) if d.ref == ref)


def event(store: Store, year: int, rnd: int) -> q.EventInfo:
    ev = q.event_by_round(store.engine, year, rnd)
    assert ev is not None
    return ev


async def ask(store: Store, focus: str, **slots: Any) -> str:
    """The real dispatch: `build_context` then `answer`, as the bot runs a resolved question."""
    plan = QueryPlan(text="(test)", focus=focus, **slots)
    ctx = await build_context(store, plan, now=NOW)
    assert ctx["focus"] in (focus, "titles")
    json.dumps(ctx)  # the same facts go to the LLM path: plain data only
    return answer(ctx)


def number_after(text: str, label: str) -> str:
    m = re.search(rf"{label}\D*?(\d+(?:\.\d+)?)", text)
    assert m, (label, text)
    return m.group(1)


def test_every_history_intent_is_registered() -> None:
    names = {"stat", "titles", "champion", "first_win", "last_win", "leaders", "team_of", "teammates",
             "points_gap", "can_win"}
    intents = all_intents()
    assert names <= set(intents)
    assert all(intents[n].event == "none" for n in names)


async def test_career_wins_and_per_season(store: Store, ergast: Ergast) -> None:  # noqa: F811
    ham = driver(store, "hamilton")
    text = await ask(store, "stat", metric="wins", drivers=[ham])
    assert f"{ergast.count('wins', driver='hamilton'):g} wins in their career" in text
    assert "2025 Singapore Grand Prix" in text  # counts cover the store up to its newest race

    ver = driver(store, "max_verstappen")
    text = await ask(store, "stat", metric="podiums", drivers=[ham, ver], years=[2021, 2022])
    lines = text.splitlines()
    assert lines[0].startswith("**Lewis Hamilton**") and lines[1].startswith("**Max Verstappen**")
    for line, ref in zip(lines, ("hamilton", "max_verstappen"), strict=False):
        for y in (2021, 2022):
            assert f"{y}: {ergast.count('podiums', driver=ref, years={y})} podiums" in line
        assert f"{ergast.count('podiums', driver=ref, years={2021, 2022})} podiums in total" in line


async def test_poles_rule_is_stated(store: Store, ergast: Ergast) -> None:  # noqa: F811
    text = await ask(store, "stat", metric="poles", drivers=[driver(store, "senna")])
    assert f"{ergast.count('poles', driver='senna')} poles" in text
    assert "pole = starting first on the Grand Prix grid" in text


async def test_a_season_not_raced_is_said_plainly(store: Store) -> None:
    text = await ask(store, "stat", metric="wins", drivers=[driver(store, "piastri")], years=[2010])
    assert text.startswith("Oscar Piastri did not race in 2010")
    text = await ask(store, "team_of", drivers=[driver(store, "piastri")], event=event(store, 2016, 5))
    assert "did not take part in the 2016" in text


async def test_wins_at_a_circuit(store: Store, ergast: Ergast) -> None:  # noqa: F811
    monza = event(store, 2023, 14)
    assert monza.circuit_ref == "monza"
    cid = next(r["circuitId"] for r in ergast.rows("circuits") if r["circuitRef"] == "monza")
    text = await ask(store, "stat", metric="wins", drivers=[driver(store, "hamilton")], scope="circuit", event=monza,
                     year=2023)
    assert f"{ergast.count('wins', driver='hamilton', circuit=cid)} wins at" in text  # all years, not 2023


async def test_titles_and_the_open_season(store: Store, ergast: Ergast) -> None:  # noqa: F811
    finals = ergast.final_standings("driver_standings")
    open_year = max(finals)
    leader_id = next(r["driverId"] for r in finals[open_year] if r["position"] == "1")
    leader_ref = next(ref for ref, i in ergast.driver_ids.items() if i == leader_id)
    wins = {y for y, rows in finals.items() if y != open_year
            and next(r["driverId"] for r in rows if r["position"] == "1") == ergast.driver_ids["alonso"]}
    text = await ask(store, "titles", drivers=[driver(store, "alonso"), driver(store, leader_ref)])
    alonso, leader = text.splitlines()
    assert f"{len(wins)} drivers' titles ({', '.join(str(y) for y in sorted(wins))})" in alonso
    assert f"leads the {open_year} championship" in leader and "not yet decided" in leader

    text = await ask(store, "champion", years=[2021, open_year])
    champ = ergast.driver_names[next(r["driverId"] for r in finals[2021] if r["position"] == "1")]
    assert f"2021 drivers' champion: **{champ}**" in text
    assert f"{open_year} drivers' championship — season in progress: not yet decided" in text
    assert f"{open_year} drivers' champion:" not in text

    text = await ask(store, "champion", years=[1955], standings_kind="constructors")
    assert "no constructors' championship in 1955" in text


async def test_first_win_and_leaders(store: Store, ergast: Ergast) -> None:  # noqa: F811
    wins = sorted((ergast.year(r["raceId"]), ergast.round(r["raceId"]), r["grid"]) for r in ergast.facts("wins")
                  if r["driverId"] == ergast.driver_ids["piastri"])
    y, rnd, grid = wins[0]
    text = await ask(store, "first_win", drivers=[driver(store, "piastri")])
    assert f"first win: {y} {event(store, y, rnd).name} (round {rnd}), from grid {grid}" in text

    per_season = Counter((r["driverId"], ergast.year(r["raceId"])) for r in ergast.facts("wins"))
    (who, year), n = per_season.most_common(1)[0]
    text = await ask(store, "leaders", metric="wins", scope="season")
    assert text.splitlines()[1] == f"1. **{ergast.driver_names[who]}** ({year}) — {n} wins"


async def test_team_of_a_mid_season_switch(store: Store, ergast: Ergast) -> None:  # noqa: F811
    lawson = ergast.driver_ids["lawson"]
    teams = Counter(ergast.constructor_names[r["constructorId"]] for r in ergast.results
                    if r["driverId"] == lawson and ergast.year(r["raceId"]) == 2025)
    text = await ask(store, "team_of", drivers=[driver(store, "lawson")], years=[2025])
    assert "several teams in 2025" in text
    for team, n in teams.items():
        assert f"{team} (rounds" in text and f"{n} races)" in text


async def test_points_gap_after_a_round(store: Store, ergast: Ergast) -> None:  # noqa: F811
    raw = {r["driverId"]: float(r["points"]) for r in ergast.standings_after("driver_standings", 2023, 7)}
    a, b = raw[ergast.driver_ids["max_verstappen"]], raw[ergast.driver_ids["perez"]]
    text = await ask(store, "points_gap", drivers=[driver(store, "max_verstappen"), driver(store, "perez")],
                     years=[2023], round=7)
    assert text.startswith(f"After round 7 of 2023 ({event(store, 2023, 7).name})")
    assert f"a gap of {abs(a - b):g} points" in text
    # "after the 2023 spanish gp": a named race is the round the standings are taken after.
    text = await ask(store, "points_gap", drivers=[driver(store, "max_verstappen"), driver(store, "perez")],
                     years=[2023], event=event(store, 2023, 7))
    assert text.startswith("After round 7 of 2023") and f"a gap of {abs(a - b):g} points" in text


async def test_can_win_with_the_numbers(store: Store, ergast: Ergast) -> None:  # noqa: F811
    raw = {r["driverId"]: float(r["points"]) for r in ergast.standings_after("driver_standings", 2023, 15)}
    later = [r for r in ergast.races.values() if int(r["year"]) == 2023 and int(r["round"]) > 15]
    left = 26 * len(later) + 8 * sum(1 for r in later if r["sprint_date"] != "\\N")
    top = max(raw.values())
    alive = {ergast.driver_names[d] for d, p in raw.items() if p + left >= top}
    text = await ask(store, "can_win", years=[2023], round=15)
    assert f"{left} points still available over {len(later)} rounds" in text
    shown = set(re.findall(r"\*\*(.+?)\*\*", text.splitlines()[0]))
    assert shown == alive

    hopeless = min(raw, key=lambda d: raw[d])
    ref = next(r for r, i in ergast.driver_ids.items() if i == hopeless)
    text = await ask(store, "can_win", years=[2023], round=15, drivers=[driver(store, ref)])
    assert "no, mathematically out of it" in text


async def test_can_win_in_the_open_season_says_what_it_cannot_tell(store: Store) -> None:
    text = await ask(store, "can_win")
    assert "season in progress: not yet decided" in text
    assert "does not say which of the remaining rounds are sprint weekends" in text


async def test_unclear_questions_are_refused(store: Store) -> None:
    with pytest.raises(UserError):
        await ask(store, "stat", metric="wins")
    with pytest.raises(UserError):
        await ask(store, "points_gap", drivers=[driver(store, "hamilton")])
    with pytest.raises(UserError):
        await ask(store, "stat", metric="laps_led", drivers=[driver(store, "hamilton")])
    # A season the store does not hold is not a season with zero wins.
    last = max(q.seasons(store.engine))
    with pytest.raises(UserError, match=f"I hold no {last + 5} season"):
        await ask(store, "stat", metric="wins", drivers=[driver(store, "hamilton")], years=[2010, last + 5])


# --------------------------------------------------------------------------- demo store (clean clone)


def _demo_csv() -> Ergast:
    return Ergast(Path(demo_data_dir()) / "ergast")


async def test_demo_season_count_and_champion(demo: Store) -> None:
    raw = _demo_csv()
    ver = driver(demo, "max_verstappen")
    text = await ask(demo, "stat", metric="wins", drivers=[ver], years=[2023])
    assert f"2023: {raw.count('wins', driver='max_verstappen', years={2023})} wins" in text
    finals = raw.final_standings("driver_standings")
    champ = raw.driver_names[next(r["driverId"] for r in finals[2023] if r["position"] == "1")]
    text = await ask(demo, "champion", years=[2023])
    assert f"2023 drivers' champion: **{champ}**" in text


async def test_demo_teammates_and_points_gap(demo: Store) -> None:
    raw = _demo_csv()
    text = await ask(demo, "teammates", teams=[("ferrari", "Ferrari")], years=[2023])
    fer = raw.constructor_ids["ferrari"]
    names = {raw.driver_names[r["driverId"]] for r in raw.results if r["constructorId"] == fer}
    for n in names:
        assert n in text
    finals = raw.final_standings("constructor_standings")
    pts = {r["constructorId"]: float(r["points"]) for r in finals[2023]}
    text = await ask(demo, "points_gap", teams=[("ferrari", "Ferrari"), ("mclaren", "McLaren")], years=[2023])
    assert f"a gap of {abs(pts[fer] - pts[raw.constructor_ids['mclaren']]):g} points" in text
    assert number_after(text, "Ferrari\\*\\* P") is not None


async def test_a_named_race_wins_over_its_season(store: Store, ergast: Ergast) -> None:  # noqa: F811
    monza = event(store, 2023, 14)
    race_id = next(i for i, r in ergast.races.items() if r["year"] == "2023" and r["round"] == "14")
    ver = ergast.driver_ids["max_verstappen"]
    team = next(r["constructorId"] for r in ergast.results if r["raceId"] == race_id and r["driverId"] == ver)
    mates = {ergast.driver_names[r["driverId"]] for r in ergast.results
             if r["raceId"] == race_id and r["constructorId"] == team and r["driverId"] != ver}
    text = await ask(store, "teammates", drivers=[driver(store, "max_verstappen")], event=monza, years=[2023])
    assert text.startswith("**Max Verstappen**'s teammates in the 2023 Italian Grand Prix: ")
    assert set(re.findall(r"(?:: |, )\*\*(.+?)\*\*", text)) == mates


async def test_career_teams_folded_by_consecutive_seasons(store: Store, ergast: Ergast) -> None:  # noqa: F811
    ham = ergast.driver_ids["hamilton"]
    seasons = sorted({(ergast.year(r["raceId"]), ergast.constructor_names[r["constructorId"]])
                      for r in ergast.results if r["driverId"] == ham})
    runs: list[list[Any]] = []
    for y, team in seasons:
        if runs and runs[-1][0] == team and runs[-1][2] == y - 1:
            runs[-1][2] = y
        else:
            runs.append([team, y, y])
    expected = ", ".join(f"{t} {a}" + (f"–{b}" if b != a else "") for t, a, b in runs)
    text = await ask(store, "team_of", drivers=[driver(store, "hamilton")])
    assert text == f"**Lewis Hamilton**'s teams: {expected}."


async def test_no_metric_gives_the_main_counts(store: Store, ergast: Ergast) -> None:  # noqa: F811
    text = await ask(store, "stat", drivers=[driver(store, "norris")])
    for metric, word in (("starts", "starts"), ("wins", "wins"), ("podiums", "podiums"), ("poles", "poles")):
        assert f"{ergast.count(metric, driver='norris')} {word}" in text
    assert f"{ergast.count('points', driver='norris'):g} points" in text
    assert "points include sprints" in text


async def test_most_titles(store: Store, ergast: Ergast) -> None:  # noqa: F811
    finals = ergast.final_standings("driver_standings")
    open_year = max(finals)
    champs = Counter(next(r["driverId"] for r in rows if r["position"] == "1")
                     for y, rows in finals.items() if y != open_year)
    top = max(champs.values())
    text = await ask(store, "leaders", metric="titles")
    first = {ergast.driver_names[d] for d, n in champs.items() if n == top}
    assert set(re.findall(r"^1\. \*\*(.+?)\*\* — (\d+) titles?$", text, re.M)) == {(n, str(top)) for n in first}


async def test_demo_can_win_leaders_and_titles(demo: Store) -> None:
    raw = _demo_csv()
    rnd = 15
    after = raw.standings_after("driver_standings", 2023, rnd)
    pts = {r["driverId"]: float(r["points"]) for r in after}
    later = [r for r in raw.races.values() if int(r["year"]) == 2023 and int(r["round"]) > rnd]
    left = 26 * len(later) + 8 * sum(1 for r in later if r.get("sprint_date", "\\N") != "\\N")
    alive = {raw.driver_names[d] for d, p in pts.items() if p + left >= max(pts.values())}
    text = await ask(demo, "can_win", years=[2023], round=rnd)
    assert set(re.findall(r"\*\*(.+?)\*\*", text.splitlines()[0])) == alive

    podiums = Counter(r["driverId"] for r in raw.results if r["position"] in ("1", "2", "3"))
    (top, n), = podiums.most_common(1)
    text = await ask(demo, "leaders", metric="podiums", years=[2023])
    assert text.splitlines()[1] == f"1. **{raw.driver_names[top]}** — {n} podiums"

    finals = raw.final_standings("constructor_standings")[2023]
    champ = next(r["constructorId"] for r in finals if r["position"] == "1")
    ref = next(k for k, v in raw.constructor_ids.items() if v == champ)
    text = await ask(demo, "titles", teams=[(ref, raw.constructor_names[champ])])
    assert f"**{raw.constructor_names[champ]}**: 1 constructors' title (2023)" in text
