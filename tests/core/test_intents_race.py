"""Race-detail, lap-story and qualifying intents (bot.intents.race) on the demo store.

Each test builds the plan the parser would hand over (event, session, slots), runs the
intent's real build + render against a real store, and checks the reply against facts
computed here from the raw Ergast CSV or FastF1's loader — never from our store.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot import format as f
from bot.errors import UserError
from bot.intents import all_intents
from bot.plan import QueryPlan
from storage import queries as q
from storage.db import init_db, make_engine
from storage.history import import_history
from storage.ingest import ingest
from storage.store import Store
from tests.conftest import SHARED_DATA
from tests.storage.test_race_detail import ergast, fastf1_best, fastf1_leaders, monza_laps, race_id

NOW = dt.datetime(2023, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(demo_store_url: str) -> Iterator[Engine]:
    eng = make_engine(demo_store_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def store(engine: Engine) -> Iterator[Store]:
    s = Store(engine)
    try:
        yield s
    finally:
        s.close()


def plan(engine: Engine, focus: str, round_: int = 14, stype: str = "R", drivers: tuple[str, ...] = (),
         **slots: Any) -> QueryPlan:
    ev = q.event_by_round(engine, 2023, round_)
    assert ev is not None
    ds = [q.find_drivers(engine, d, year=2023)[0] for d in drivers]
    return QueryPlan(text="", focus=focus, year=2023, event=ev, session_type=stype,
                     session=q.session_for(engine, ev.id, stype), drivers=ds, **slots)


async def ask(store: Store, p: QueryPlan) -> str:
    it = all_intents()[p.focus]
    ctx = await it.build(store, p, NOW)
    assert ctx["focus"] == p.focus
    json.dumps(ctx)  # the same facts go to the LLM prompt: plain data only
    return it.render(ctx)


# ----------------------------------------------------------------------------- raw CSV helpers


def codes() -> dict[str, str]:
    return {r["driverId"]: r["code"] for r in ergast("drivers")}


def statuses() -> dict[str, str]:
    return {r["statusId"]: r["status"] for r in ergast("status")}


def rows(name: str, round_: int) -> list[dict[str, str]]:
    rid = race_id(2023, round_)
    return [r for r in ergast(name) if r["raceId"] == rid]


def num(s: str) -> int | None:
    return None if s in ("\\N", "") else int(s)


# ----------------------------------------------------------------------------- positions & points


async def test_position_nth_and_last(store: Store, engine: Engine) -> None:
    res = rows("results", 14)
    fifth = next(codes()[r["driverId"]] for r in res if r["position"] == "5")
    text = await ask(store, plan(engine, "position", position=5))
    assert f"({fifth})** finished P5 in the 2023 Italian Grand Prix" in text

    classified = [r for r in res if num(r["position"]) is not None]
    last = max(classified, key=lambda r: int(r["position"]))
    sheet = max(res, key=lambda r: int(r["positionOrder"]))
    text = await ask(store, plan(engine, "position", position=-1))
    assert f"({codes()[last['driverId']]})** was last classified in the 2023 Italian Grand Prix: P{last['position']}" in text
    assert sheet is not last and "Last on the sheet (not classified): **" in text
    assert f"({codes()[sheet['driverId']]})" in text.split("Last on the sheet")[1]

    with pytest.raises(UserError, match=f"Nobody was classified P{len(classified) + 1} .*{len(classified)} cars"):
        await ask(store, plan(engine, "position", position=len(classified) + 1))


async def test_position_in_qualifying(store: Store, engine: Engine) -> None:
    third = next(r for r in rows("qualifying", 14) if r["position"] == "3")
    text = await ask(store, plan(engine, "position", stype="Q", position=3))
    assert f"({codes()[third['driverId']]})** qualified P3 for the 2023 Italian Grand Prix qualifying" in text
    assert third["q3"] in text


async def test_points_finishers_race_and_sprint(store: Store, engine: Engine) -> None:
    for rnd, stype, name in ((14, "R", "results"), (4, "S", "sprint_results")):
        scorers = sorted((r for r in rows(name, rnd) if float(r["points"]) > 0), key=lambda r: int(r["positionOrder"]))
        text = await ask(store, plan(engine, "points_finishers", round_=rnd, stype=stype))
        got = re.findall(r"(\d+)\. \*\*([A-Z]{3})\*\* ([\d.]+)", text)
        assert got == [(r["position"], codes()[r["driverId"]], f.points(float(r["points"]))) for r in scorers]
    res = {codes()[r["driverId"]]: r for r in rows("results", 14)}
    text = await ask(store, plan(engine, "points_finishers", drivers=("HAM", "OCO")))
    ham = f.points(float(res["HAM"]["points"]))
    assert f"(HAM)** scored {ham} points in the 2023 Italian Grand Prix (finished P{res['HAM']['position']})" in text
    assert float(res["OCO"]["points"]) == 0 and "(OCO)** scored no points in the 2023 Italian Grand Prix (retired" in text
    with pytest.raises(UserError, match="Only races and sprints award points"):
        await ask(store, plan(engine, "points_finishers", stype="Q"))


# ----------------------------------------------------------------------------- grid, retirements, laps


async def test_grid_change_named_and_biggest(store: Store, engine: Engine) -> None:
    res = {codes()[r["driverId"]]: r for r in rows("results", 14)}
    text = await ask(store, plan(engine, "grid_change", drivers=("LEC", "HAM")))
    for code in ("LEC", "HAM"):
        g, p = int(res[code]["grid"]), int(res[code]["position"])
        word = "gained" if g > p else "lost" if g < p else "no change"
        assert re.search(rf"\({code}\)\*\*: P{g} on the grid → P{p}, {word}" + (rf" {abs(g - p)} place" if g != p else ""), text)

    moves = {c: int(r["grid"]) - int(r["position"]) for c, r in res.items()
             if num(r["position"]) is not None and int(r["grid"]) > 0}
    text = await ask(store, plan(engine, "grid_change"))
    gains = re.findall(r"\*\*([A-Z]{3})\*\* P\d+→P\d+ \(\+(\d+)\)", text.split("Biggest losses")[0])
    assert int(gains[0][1]) == max(moves.values()) and moves[gains[0][0]] == max(moves.values())
    dnf = [c for c, r in res.items() if num(r["position"]) is None]
    assert dnf and all(f"{c} started P{res[c]['grid']}" in text for c in dnf)  # non-finishers said apart


async def test_grid_change_pit_lane_starts_said_apart(store: Store, engine: Engine) -> None:
    st = statuses()
    pit = [r for r in rows("results", 3) if r["grid"] == "0" and r["positionText"] != "W"
           and st[r["statusId"]] != "Did not start"]
    assert pit  # Australia 2023: cars that started from the pit lane
    text = await ask(store, plan(engine, "grid_change", round_=3))
    gains = text.split("Not counted")[0]
    for r in pit:
        code = codes()[r["driverId"]]
        assert f"**{code}**" not in gains  # no "places gained" from a pit-lane start
        assert f"{code} started from the pit lane and " in text.split("Not counted")[1]
    r = pit[0]
    text = await ask(store, plan(engine, "grid_change", round_=3, drivers=(codes()[r["driverId"]],)))
    assert "started from the pit lane and finished P" + r["position"] in text


async def test_retirements_with_lap_and_reason(store: Store, engine: Engine) -> None:
    st = statuses()
    out = [r for r in rows("results", 3) if r["positionText"] == "R"]
    text = await ask(store, plan(engine, "retirements", round_=3))
    assert f"Did not finish the 2023 Australian Grand Prix ({len(out)})" in text
    for r in out:
        laps = int(r["laps"])
        when = f"retired on lap {laps + 1}" if laps else "retired before completing a lap"
        assert re.search(rf"\({codes()[r['driverId']]}\)\*\* \([^)]*\) {when} \({st[r['statusId']].lower()}\)", text)

    winner = next(r for r in rows("results", 3) if r["position"] == "1")
    who = codes()[winner["driverId"]]
    text = await ask(store, plan(engine, "retirements", round_=3, drivers=(codes()[out[0]["driverId"]], who)))
    assert f"({who})** finished P1 in the 2023 Australian Grand Prix" in text


async def test_disqualified_and_did_not_start(store: Store, engine: Engine) -> None:
    for metric, texts, head in (("dsq", ("D", "E"), "Disqualified or excluded from"), ("dns", ("W",), "Did not start")):
        found = [(int(race["round"]), r) for race in ergast("races") if race["year"] == "2023"
                 for r in ergast("results") if r["raceId"] == race["raceId"] and r["positionText"] in texts]
        assert found, metric
        rnd = found[0][0]
        want = {codes()[r["driverId"]] for n, r in found if n == rnd}
        text = await ask(store, plan(engine, "retirements", round_=rnd, metric=metric))
        assert text.startswith(f"{head} the 2023 ")
        assert set(re.findall(r"\(([A-Z]{3})\)\*\*", text)) == want
    text = await ask(store, plan(engine, "retirements", metric="dsq"))
    assert text == "Nobody was disqualified or excluded from the 2023 Italian Grand Prix."


async def test_laps_completed(store: Store, engine: Engine) -> None:
    res = {codes()[r["driverId"]]: r for r in rows("results", 14)}
    total = max(int(r["laps"]) for r in res.values())
    text = await ask(store, plan(engine, "laps_completed", drivers=("OCO",)))
    assert f"completed {res['OCO']['laps']} of {total} laps in the 2023 Italian Grand Prix" in text
    text = await ask(store, plan(engine, "laps_completed"))
    assert f"ran over {total} laps" in text


# ----------------------------------------------------------------------------- lap story (FastF1)


async def test_laps_led_lead_changes_and_leader(store: Store, engine: Engine) -> None:
    leaders = fastf1_leaders()
    led = Counter(leaders.values())
    text = await ask(store, plan(engine, "laps_led"))
    assert dict((c, int(n)) for c, n in re.findall(r"\*\*([A-Z]{3})\*\* (\d+)", text)) == dict(led)
    text = await ask(store, plan(engine, "laps_led", drivers=("SAI", "ALO")))
    assert f"(SAI)** led {led['SAI']} of {max(leaders)} laps" in text and "(ALO)** led 0 of" in text

    seq = [leaders[k] for k in sorted(leaders)]
    changes = [(lap, leaders[lap]) for lap in sorted(leaders)[1:] if leaders[lap] != leaders[lap - 1]]
    text = await ask(store, plan(engine, "lead_changes"))
    assert text.startswith(f"{len(changes)} lead change")
    assert re.findall(r"lap (\d+): \*\*([A-Z]{3})\*\* took the lead", text) == [(str(a), b) for a, b in changes]
    assert f"({seq[0]}) led lap 1" in text

    text = await ask(store, plan(engine, "leader_on_lap", lap_range=(22, 22)))
    assert f"({leaders[22]})** led at the end of lap 22" in text
    with pytest.raises(UserError, match=f"only {max(leaders)} laps"):
        await ask(store, plan(engine, "leader_on_lap", lap_range=(70, 70)))


async def test_driver_lap_and_last_lap(store: Store, engine: Engine) -> None:
    laps = {(x["driver"], x["lap"]): x for x in monza_laps()}
    x = laps[("VER", 30)]
    text = await ask(store, plan(engine, "driver_lap", drivers=("VER",), lap_range=(30, 30)))
    assert f"lap 30 of the 2023 Italian Grand Prix, **Max Verstappen (VER)** was P{x['position']} " \
           f"with a {f.lap_time(x['ms'])} on {x['compound']} tyres" in text
    last = max(n for c, n in laps if c == "OCO")
    y = laps[("OCO", last)]
    text = await ask(store, plan(engine, "driver_lap", drivers=("OCO",), notes=["last_lap"]))
    assert f"On lap {last} (their last)" in text and f"P{y['position']}" in text
    text = await ask(store, plan(engine, "driver_lap", drivers=("OCO",), lap_range=(last + 1, last + 1)))
    assert f"has no lap {last + 1}" in text and "retired on lap" in text


async def test_best_lap_driver_compound_and_session(store: Store, engine: Engine) -> None:
    ms, lap = fastf1_best("VER")
    text = await ask(store, plan(engine, "best_lap", drivers=("VER",)))
    assert f"best lap in the 2023 Italian Grand Prix: {f.lap_time(ms)} on lap {lap}" in text
    ms, lap = fastf1_best("VER", "MEDIUM")
    text = await ask(store, plan(engine, "best_lap", drivers=("VER",), compound="MEDIUM"))
    assert f"on MEDIUM tyres: {f.lap_time(ms)} on lap {lap}" in text
    ms, lap = fastf1_best(None)
    text = await ask(store, plan(engine, "best_lap"))
    assert f"set the fastest lap of the 2023 Italian Grand Prix: {f.lap_time(ms)} on lap {lap}" in text

    # A history-only race: the official per-driver fastest lap column.
    ham = next(r for r in rows("results", 3) if codes()[r["driverId"]] == "HAM")
    text = await ask(store, plan(engine, "best_lap", round_=3, drivers=("HAM",)))
    assert f"{ham['fastestLapTime']} on lap {ham['fastestLap']} (rank {ham['rank']}" in text
    with pytest.raises(UserError, match="lap-by-lap data only.*I hold it for 2023 Italian Grand Prix"):
        await ask(store, plan(engine, "best_lap", round_=3, compound="SOFT"))


async def test_lap_questions_on_a_race_without_lap_data(store: Store, engine: Engine) -> None:
    for focus, slots in (("laps_led", {}), ("lead_changes", {}), ("leader_on_lap", {"lap_range": (3, 3)}),
                         ("driver_lap", {"drivers": ("VER",), "lap_range": (3, 3)})):
        with pytest.raises(UserError) as err:
            await ask(store, plan(engine, focus, round_=3, **slots))  # type: ignore[arg-type]
        assert err.value.message == ("I don't hold lap-by-lap data for the 2023 Australian Grand Prix; "
                                     "I hold it for 2023 Italian Grand Prix.")


# ----------------------------------------------------------------------------- pit stops


async def test_stops_count(store: Store, engine: Engine) -> None:
    stops = Counter(codes()[r["driverId"]] for r in rows("pit_stops", 14))
    started = [codes()[r["driverId"]] for r in rows("results", 14)]
    text = await ask(store, plan(engine, "stops_count"))
    assert f"{sum(stops.values())} in all (official pit-stop record)" in text
    for label, n in (("No stop", 0), ("One stop", 1), ("Two stops", 2)):
        want = {c for c in started if stops.get(c, 0) == n}
        line = next((ln for ln in text.splitlines() if ln.startswith(f"- {label} ")), None)
        if want:
            assert line is not None and set(line.split(": ")[1].split(", ")) == want, label
        else:
            assert line is None
    ver_laps = [r["lap"] for r in rows("pit_stops", 14) if codes()[r["driverId"]] == "VER"]
    text = await ask(store, plan(engine, "stops_count", drivers=("VER",)))
    assert f"made {len(ver_laps)} stop" in text and ", ".join(ver_laps) in text


async def test_fastest_pitstop_says_pit_lane(store: Store, engine: Engine) -> None:
    timed = [r for r in rows("pit_stops", 14) if num(r["milliseconds"])]
    best = min(timed, key=lambda r: int(r["milliseconds"]))
    avg = round(sum(int(r["milliseconds"]) for r in timed) / len(timed))
    text = await ask(store, plan(engine, "fastest_pitstop"))
    assert f"({codes()[best['driverId']]})** on lap {best['lap']}, pit lane {f.seconds(int(best['milliseconds']))}" in text
    assert f"Average {f.seconds(avg)} over {len(timed)} stops" in text
    assert "PIT-LANE times from the official record" in text and "not stationary times" in text


# ----------------------------------------------------------------------------- qualifying


async def test_quali_times_tops_and_eliminated(store: Store, engine: Engine) -> None:
    qual = {codes()[r["driverId"]]: r for r in rows("qualifying", 14)}
    lec = qual["LEC"]
    text = await ask(store, plan(engine, "quali", drivers=("LEC",)))
    assert f"Q1 {lec['q1']}, Q2 {lec['q2']}, Q3 {lec['q3']} — qualified P{lec['position']}" in text

    def ms(t: str) -> int:
        mi, s = t.split(":")
        return round((int(mi) * 60 + float(s)) * 1000)

    q2 = min((r for r in qual.values() if r["q2"] not in ("\\N", "")),
             key=lambda r: ms(r["q2"]))
    text = await ask(store, plan(engine, "quali", drivers=("LEC",), part="Q2"))
    assert f"(LEC)** in the 2023 Italian Grand Prix qualifying: Q2 {lec['q2']} — qualified" in text
    text = await ask(store, plan(engine, "quali", part="Q2"))
    assert f"({codes()[q2['driverId']]})** topped Q2 of the 2023 Italian Grand Prix qualifying with {q2['q2']}" in text

    for part, nxt in (("Q1", "q2"), ("Q2", "q3")):
        cur = part.lower()
        out = {c for c, r in qual.items() if r[nxt] in ("\\N", "") and (part == "Q1" or r[cur] not in ("\\N", ""))
               and (part == "Q2" or r["q3"] in ("\\N", ""))}
        text = await ask(store, plan(engine, "eliminated", part=part))
        assert set(re.findall(r"\*\*([A-Z]{3})\*\*", text)) == out, part
        assert f"({len(out)}: no {nxt.upper()} time)" in text

    pole = next(r for r in qual.values() if r["position"] == "1")
    ver = qual["VER"]
    text = await ask(store, plan(engine, "gap_to_pole", drivers=("VER",)))
    assert f"was {f.gap(ms(ver['q3']) - ms(pole['q3']))} off pole" in text
    assert f"{codes()[pole['driverId']]}'s pole {pole['q3']}" in text


async def test_eliminated_before_the_knockout_format(store: Store, engine: Engine) -> None:
    p = plan(engine, "eliminated", part="Q1")
    assert p.event is not None
    old = dataclasses.replace(p, event=dataclasses.replace(p.event, year=2004), session=None)
    with pytest.raises(UserError, match="Qualifying in 2004 was not the Q1/Q2/Q3 knockout"):
        await ask(store, old)


async def test_teammate_head_to_head(store: Store, engine: Engine) -> None:
    rounds = {r["raceId"] for r in ergast("races") if r["year"] == "2023"}
    con = next(c["constructorId"] for c in ergast("constructors") if c["constructorRef"] == "red_bull")
    cd = codes()

    dns = {sid for sid, st in statuses().items() if st == "Did not start"}

    def tally(name: str, key: str) -> tuple[int, int, int]:
        by: dict[str, dict[str, int]] = {}
        for r in ergast(name):
            if r["raceId"] in rounds and r["constructorId"] == con:
                by.setdefault(r["raceId"], {})[cd[r["driverId"]]] = int(r[key])
                # a race counts when both cars started it (not withdrawn, not "did not start")
                if r.get("positionText") == "W" or r.get("statusId") in dns:
                    by[r["raceId"]]["skip"] = 1
        both = [v for v in by.values() if "VER" in v and "PER" in v and "skip" not in v]
        return (sum(v["VER"] < v["PER"] for v in both), sum(v["PER"] < v["VER"] for v in both), len(both))

    qa, qb, qn = tally("qualifying", "position")
    ra, rb, rn = tally("results", "positionOrder")
    p = plan(engine, "quali_h2h", drivers=("VER",))
    text = await ask(store, dataclasses.replace(p, event=None, session=None, years=[2023]))
    assert f"Qualifying: VER {qa}–{qb} PER ({qn} sessions" in text
    assert f"Races: VER {ra}–{rb} PER ({rn} races" in text


async def test_team_head_to_head_with_a_changing_lineup(store: Store, engine: Engine) -> None:
    """AlphaTauri 2023 ran four drivers: every pair that shared the garage gets its own tally."""
    rounds = {r["raceId"] for r in ergast("races") if r["year"] == "2023"}
    con = next(c["constructorId"] for c in ergast("constructors") if c["constructorRef"] == "alphatauri")
    cd = codes()
    dns = {sid for sid, st in statuses().items() if st == "Did not start"}

    def sessions(name: str, key: str) -> list[dict[str, int]]:
        by: dict[str, dict[str, int]] = {}
        for r in ergast(name):
            if r["raceId"] in rounds and r["constructorId"] == con and r.get("positionText") != "W" \
                    and r.get("statusId") not in dns:
                by.setdefault(r["raceId"], {})[cd[r["driverId"]]] = int(r[key])
        return list(by.values())

    want: dict[tuple[str, frozenset[str]], tuple[dict[str, int], int]] = {}
    for kind, (name, key) in (("Qualifying", ("qualifying", "position")), ("Races", ("results", "positionOrder"))):
        for v in sessions(name, key):
            if len(v) == 2:
                a, b = sorted(v, key=v.__getitem__)
                wins, n = want.setdefault((kind, frozenset(v)), ({a: 0, b: 0}, 0))
                wins[a] += 1
                want[(kind, frozenset(v))] = (wins, n + 1)
    assert len({pair for _, pair in want}) >= 3
    p = plan(engine, "quali_h2h", teams=[("alphatauri", "AlphaTauri")])
    text = await ask(store, dataclasses.replace(p, event=None, session=None, years=[2023]))
    got = re.findall(r"(Qualifying|Races): ([A-Z]{3}) (\d+)–(\d+) ([A-Z]{3}) \((\d+)", text)
    assert {(k, frozenset((a, b))): ({a: int(x), b: int(y)}, int(n)) for k, a, x, y, b, n in got} == want


# ----------------------------------------------------------------------------- story & honesty


async def test_story_of_a_lap_data_race(store: Store, engine: Engine) -> None:
    res = sorted(rows("results", 14), key=lambda r: int(r["positionOrder"]))
    pole = next(r for r in rows("qualifying", 14) if r["position"] == "1")
    leaders = fastf1_leaders()
    changes = sum(1 for lap in sorted(leaders)[1:] if leaders[lap] != leaders[lap - 1])
    ms, lap = fastf1_best(None)
    first_name = q.find_drivers(engine, leaders[1], year=2023)[0].name
    text = await ask(store, plan(engine, "story"))
    lines = text.splitlines()
    assert 4 <= len(lines) <= 8
    assert lines[0].startswith("**") and f"({cd(res[0])})" in lines[0] and "won the 2023 Italian Grand Prix" in lines[0]
    assert f"from P{res[0]['grid']} on the grid" in lines[0]
    assert f.gap(int(res[1]["milliseconds"]) - int(res[0]["milliseconds"])) in lines[0]
    assert "Pole: **" in text and f"({cd(pole)})** ({pole['q3']})" in text
    assert f"Start: {first_name} ({leaders[1]}) led lap 1; lead changes at the line: {changes}:" in text
    assert f"{f.lap_time(ms)} on lap {lap}" in text


def cd(r: dict[str, str]) -> str:
    return codes()[r["driverId"]]


async def test_driver_not_in_the_race_is_said(store: Store, engine: Engine) -> None:
    entrants = {cd(r) for r in rows("results", 14)}
    ric = q.find_drivers(engine, "RIC", year=2023)[0]
    assert "RIC" not in entrants  # injured; Lawson drove at Monza
    p = dataclasses.replace(plan(engine, "grid_change"), drivers=[ric])
    text = await ask(store, p)
    assert "Daniel Ricciardo (RIC) did not take part in the 2023 Italian Grand Prix. Those who did:" in text
    assert set(text.split("Those who did: ")[1].rstrip(".").split(", ")) == entrants


async def test_missing_session_is_said(store: Store, engine: Engine) -> None:
    p = plan(engine, "points_finishers", stype="S")  # Monza 2023 had no sprint
    assert p.session is None
    with pytest.raises(UserError, match="I have no sprint for the 2023 Italian Grand Prix"):
        await ask(store, p)
    with pytest.raises(UserError, match="for races and sprints; the 2023 Italian Grand Prix qualifying is neither"):
        await ask(store, plan(engine, "grid_change", stype="Q"))
    with pytest.raises(UserError, match="pit stops for races only; the 2023 Azerbaijan Grand Prix sprint is not one"):
        await ask(store, plan(engine, "fastest_pitstop", round_=4, stype="S"))
    with pytest.raises(UserError, match="(no sprint qualifying for|no results for) the 2023 Azerbaijan Grand Prix"):
        await ask(store, plan(engine, "eliminated", round_=4, stype="S", part="Q1"))


def test_every_intent_is_registered() -> None:
    names = {"position", "points_finishers", "grid_change", "retirements", "laps_completed", "laps_led",
             "lead_changes", "leader_on_lap", "driver_lap", "best_lap", "stops_count", "fastest_pitstop",
             "quali", "eliminated", "gap_to_pole", "quali_h2h", "story"}
    intents = all_intents()
    assert names <= set(intents)
    assert {n for n in names if intents[n].event == "laps"} == {"laps_led", "lead_changes", "leader_on_lap",
                                                               "driver_lap"}
    assert intents["quali_h2h"].event == "none"


# ----------------------------------------------------------------------------- a timing-only (provisional) race


@pytest.fixture
def spain_2019(shared_data: Path, sqlite_engine: Engine, tmp_path: Path) -> Engine:
    """The 2019 Spanish GP ingested from FastF1 alone: its cache has no official results, so
    the classification is FastF1's timing order, provisional."""
    cache = tmp_path / "ff1"
    shutil.copytree(shared_data / "fastf1-cache" / "sessions-2019-2023", cache)
    rep = ingest(sqlite_engine, 2019, "Spain", "R", cache_dir=cache)
    assert rep.ok, rep
    return sqlite_engine


async def test_provisional_race_says_so(spain_2019: Engine) -> None:
    e = spain_2019
    ev = next(x for x in q.events(e, 2019) if x.name == "Spanish Grand Prix")
    p = QueryPlan(text="", focus="position", year=2019, event=ev, session=q.session_for(e, ev.id, "R"))
    store = Store(e)
    try:
        text = await ask(store, dataclasses.replace(p, position=-1))
        assert "is last in the provisional order of the 2019 Spanish Grand Prix" in text
        assert "classified" not in text.splitlines()[0]
        assert text.splitlines()[-1].startswith("_Provisional")
        with pytest.raises(UserError, match="only hold the provisional order of the 2019 Spanish Grand Prix"):
            await ask(store, dataclasses.replace(p, focus="retirements"))
        text = await ask(store, dataclasses.replace(p, focus="story"))
        assert "leads the provisional order" in text and " won " not in text and "results official" not in text
        text = await ask(store, dataclasses.replace(p, focus="stops_count"))
        assert "(pit stops from timing data)" in text  # no official record for this race in the store
        text = await ask(store, dataclasses.replace(p, focus="fastest_pitstop"))
        assert ", from timing data." in text and "PIT-LANE times from timing data" in text
    finally:
        store.close()


# ----------------------------------------------------------------------------- history-only races (full dump)


@pytest.fixture
def history(db_url: str, shared_data: Path) -> Iterator[Engine]:
    """Three seasons of the full Ergast dump (2005: old qualifying; 2010: 24 cars; 2021),
    on SQLite and PostgreSQL; no lap data at all."""
    eng = make_engine(db_url)
    try:
        init_db(eng)
        import_history(eng, shared_data / "ergast-csv", years=[2005, 2010, 2021])
        yield eng
    finally:
        eng.dispose()


def history_plan(e: Engine, focus: str, year: int, round_: int, stype: str = "R", **slots: Any) -> QueryPlan:
    ev = q.event_by_round(e, year, round_)
    assert ev is not None
    return QueryPlan(text="", focus=focus, year=year, event=ev, session_type=stype,
                     session=q.session_for(e, ev.id, stype), **slots)


def shared_rows(name: str, year: int, round_: int) -> list[dict[str, str]]:
    rid = next(r["raceId"] for r in ergast_full("races") if r["year"] == str(year) and r["round"] == str(round_))
    return [r for r in ergast_full(name) if r["raceId"] == rid]


@functools.cache
def ergast_full(name: str) -> list[dict[str, str]]:
    with open(SHARED_DATA / "ergast-csv" / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def full_codes() -> dict[str, str]:
    return {r["driverId"]: r["code"] for r in ergast_full("drivers")}


async def test_story_of_history_only_races(history: Engine) -> None:
    store = Store(history)
    try:
        for round_, name in ((22, "2021 Abu Dhabi Grand Prix"), (11, "2021 Hungarian Grand Prix")):
            res = sorted(shared_rows("results", 2021, round_), key=lambda r: int(r["positionOrder"]))
            pole = next(r for r in shared_rows("qualifying", 2021, round_) if r["position"] == "1")
            fl = next(r for r in res if r["rank"] == "1")
            text = await ask(store, history_plan(history, "story", 2021, round_))
            lines = text.splitlines()
            assert 4 <= len(lines) <= 8, text
            cd_ = full_codes()
            assert f"({cd_[res[0]['driverId']]})** " in lines[0] and f"won the {name}" in lines[0]
            assert f.gap(int(res[1]["milliseconds"]) - int(res[0]["milliseconds"])) + f" ahead of {cd_[res[1]['driverId']]}" in lines[0]
            assert "Pole: **" in lines[1] and f"({cd_[pole['driverId']]})** ({pole['q3']})" in lines[1]
            assert f"Fastest lap: **{cd_[fl['driverId']]}** {fl['fastestLapTime']} on lap {fl['fastestLap']}" in text
            flags = next(ln for ln in lines if ln.startswith("Neutralisations"))
            assert "historical safety-car and red-flag record" in flags
            for sc in (r for r in ergast_full("safety_cars") if r["Race"] == name):
                a, b = int(sc["Deployed"]), int(float(sc["Retreated"]))
                assert (f"safety car laps {a}-{b}" if b != a else f"safety car lap {a}") in flags
            for rf in (r for r in ergast_full("red_flags") if r["Race"] == name):
                assert f"red flag lap {rf['Lap']}" in flags
            out = {cd_[r["driverId"]] for r in res if r["positionText"] in ("R", "D", "N", "E") and 0 < int(r["grid"]) <= 10}
            if out:
                line = next(ln for ln in lines if ln.startswith("Out of the race"))
                assert set(re.findall(r"([A-Z]{3}) \(from P\d+\)", line)) == out
            assert "lap data" not in text  # nothing claimed from lap data we do not hold
    finally:
        store.close()


async def test_knockout_eliminations_count_the_real_field(history: Engine) -> None:
    qual = shared_rows("qualifying", 2010, 1)
    assert len(qual) == 24
    store = Store(history)
    try:
        for part, nxt in (("Q1", "q2"), ("Q2", "q3")):
            out = {full_codes()[r["driverId"]] for r in qual if r[nxt] in ("\\N", "")
                   and (part == "Q1" or r["q2"] not in ("\\N", ""))}
            text = await ask(store, history_plan(history, "eliminated", 2010, 1, "Q", part=part))
            assert f"({len(out)}: no {nxt.upper()} time)" in text
            assert set(re.findall(r"\*\*([A-Z]{3})\*\*", text)) == out
        with pytest.raises(UserError, match="Qualifying in 2005 was not the Q1/Q2/Q3 knockout"):
            await ask(store, history_plan(history, "eliminated", 2005, 1, "Q", part="Q1"))
        with pytest.raises(UserError, match="I don't hold lap-by-lap data for the 2021 Abu Dhabi Grand Prix "
                                            r"\(nor for any race yet\)"):
            await ask(store, history_plan(history, "laps_led", 2021, 22))
    finally:
        store.close()


async def test_the_answer_path_dispatches_to_race_intents(store: Store, engine: Engine) -> None:
    """bot.context.build_context + bot.answer.answer (the path every question takes) reach these intents."""
    from bot.answer import answer
    from bot.context import build_context

    leaders = fastf1_leaders()
    p = plan(engine, "leader_on_lap", lap_range=(40, 40))
    ctx = await build_context(store, p, now=NOW)
    assert ctx["focus"] == "leader_on_lap" and ctx["event"]["name"] == "Italian Grand Prix"
    assert f"({leaders[40]})** led at the end of lap 40 of the 2023 Italian Grand Prix" in answer(ctx)
