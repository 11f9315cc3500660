"""Schedule intents on the demo store (SQLite and PostgreSQL), checked against the raw Ergast CSV.

Expected rounds, dates, session times and sprint weekends are read from the bundled
`races.csv` here, not from our store. The plans are built by hand (the parser's
job is tested elsewhere): these tests pin what each intent does with its slots.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.answer import answer
from bot.context import build_context
from bot.errors import UserError
from bot.intents import all_intents
from bot.intents.schedule import timed_reply
from bot.plan import QueryPlan
from storage.db import make_engine
from storage.queries import EventInfo
from storage.store import Store

ERGAST = Path(__file__).resolve().parents[2] / "slipstream" / "demo_data" / "ergast"
NOW = dt.datetime(2023, 12, 1, 12, 0, tzinfo=dt.UTC)


def _csv(name: str) -> list[dict[str, str]]:
    with (ERGAST / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


RACES = sorted((r for r in _csv("races") if r["year"] == "2023"), key=lambda r: int(r["round"]))


def _at(date: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{date}T{time}+00:00")


def _utc_text(at: dt.datetime) -> str:
    return at.strftime("%a %d %b %H:%M UTC")


@pytest.fixture
async def store(demo_store_url: str) -> AsyncIterator[Store]:
    engine = make_engine(demo_store_url)
    s = Store(engine)
    try:
        yield s
    finally:
        s.close()
        engine.dispose()


async def _event(store: Store, row: dict[str, str]) -> EventInfo:
    """The stored event for a CSV row (picked by year + round; the facts checked come from the CSV)."""
    ev = await store.event_by_round(int(row["year"]), int(row["round"]))
    assert ev is not None
    return ev


async def _ask(store: Store, plan: QueryPlan, now: dt.datetime = NOW) -> str:
    it = all_intents()[plan.focus]
    return it.render(await it.build(store, plan, now))


def test_registered_with_their_event_needs() -> None:
    intents = all_intents()
    assert {n: intents[n].event for n in ("round_of", "race_date", "weekend")} == dict.fromkeys(
        ("round_of", "race_date", "weekend"), "race")
    assert {intents[n].event for n in ("sprint_weekends", "races_in_month", "season_races")} == {"none"}


async def test_round_of(store: Store) -> None:
    for row in (RACES[0], RACES[13], RACES[-1]):
        ev = await _event(store, row)
        text = await _ask(store, QueryPlan(text="which round", focus="round_of", event=ev, year=ev.year))
        d = dt.date.fromisoformat(row["date"])
        assert f"2023 {row['name']}" in text
        assert f"was round {row['round']} of {len(RACES)} of the 2023 season" in text
        assert f"{d.day} {d:%B} 2023" in text


async def test_race_date_of_a_sprint_weekend(store: Store) -> None:
    row = next(r for r in RACES if r["sprint_date"] != r"\N")
    ev = await _event(store, row)
    text = await _ask(store, QueryPlan(text="when", focus="race_date", event=ev, year=ev.year))
    race = _at(row["date"], row["time"])
    assert f"was on {race:%A} {race.day} {race:%B} 2023, lights out at {_utc_text(race)}" in text
    assert f"- Qualifying: {_utc_text(_at(row['quali_date'], row['quali_time']))}" in text
    assert f"- Sprint: {_utc_text(_at(row['sprint_date'], row['sprint_time']))}" in text
    # Competitive sessions only; a 2023 sprint weekend had no second practice.
    assert "Practice" not in text and "Sprint Shootout" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("- ")]
    assert [ln.split(":")[0] for ln in lines] == ["- Qualifying", "- Sprint Shootout", "- Sprint"]


async def test_weekend_lists_every_session_in_order(store: Store) -> None:
    row = next(r for r in RACES if r["sprint_date"] == r"\N" and r["fp3_date"] != r"\N")
    ev = await _event(store, row)
    ctx = await all_intents()["weekend"].build(store, QueryPlan(text="weekend", focus="weekend", event=ev), NOW)
    text = all_intents()["weekend"].render(ctx)
    expected = [("Practice 1", "fp1"), ("Practice 2", "fp2"), ("Practice 3", "fp3"), ("Qualifying", "quali")]
    for name, col in expected:
        assert f"- {name}: {_utc_text(_at(row[col + '_date'], row[col + '_time']))}" in text
    assert [ln[2:].split(":")[0] for ln in text.splitlines() if ln.startswith("- ")] == [n for n, _ in expected]

    # Discord / Slack: the same reply with each time as a LocalTime marker.
    reply = timed_reply(ctx)
    assert len(reply.local_times) == 5 and "UTC" not in reply.text
    assert all(t.marker in reply.text for t in reply.local_times)
    assert sorted(t.at for t in reply.local_times) == sorted(
        [_at(row[c + "_date"], row[c + "_time"]) for _, c in expected] + [_at(row["date"], row["time"])])


async def test_no_race_named_means_the_next_one(store: Store) -> None:
    now = dt.datetime(2023, 8, 30, 9, 0, tzinfo=dt.UTC)
    nxt = next(r for r in RACES if dt.date.fromisoformat(r["date"]) >= now.date())
    last = await store.last_event_with_results()  # what the parser defaults to
    plan = QueryPlan(text="when is the race", focus="race_date", event=last, notes=["default_event"])
    text = await _ask(store, plan, now)
    assert text.startswith(f"The **2023 {nxt['name']}**") and " is on " in text
    assert "next one on the calendar" in text


async def test_sprint_weekends(store: Store) -> None:
    sprints = [r for r in RACES if r["sprint_date"] != r"\N"]
    text = await _ask(store, QueryPlan(text="sprints", focus="sprint_weekends", year=2023))
    assert f"had {len(sprints)} sprint weekends (of {len(RACES)} rounds)" in text
    assert re.findall(r"round (\d+)", text) == [r["round"] for r in sprints]
    assert all(r["name"] in text for r in sprints)


async def test_races_in_month(store: Store) -> None:
    june = [r for r in RACES if r["date"][5:7] == "06"]
    text = await _ask(store, QueryPlan(text="june", focus="races_in_month", month=6))  # latest season held
    assert text.startswith("Races in June 2023:")
    assert re.findall(r"round (\d+)", text) == [r["round"] for r in june]
    assert not any(r["date"][5:7] == "01" for r in RACES)
    none = await _ask(store, QueryPlan(text="january", focus="races_in_month", month=1, year=2023))
    assert none.startswith("No race of the 2023 calendar falls in January")
    with pytest.raises(UserError, match="Which month"):
        await _ask(store, QueryPlan(text="races in the month", focus="races_in_month"))


async def test_season_races(store: Store) -> None:
    text = await _ask(store, QueryPlan(text="how many races", focus="season_races", years=[2023]))
    first, last = (dt.date.fromisoformat(RACES[i]["date"]) for i in (0, -1))
    assert text == (f"The 2023 season had {len(RACES)} races: from the {RACES[0]['name']} "
                    f"({first.day} {first:%b}) to the {RACES[-1]['name']} ({last.day} {last:%b}).")
    mid = await _ask(store, QueryPlan(text="how many races", focus="season_races", year=2023),
                     dt.datetime(2023, 7, 1, tzinfo=dt.UTC))
    run = sum(1 for r in RACES if r["date"] < "2023-07-01")
    assert f"has {len(RACES)} races ({run} run so far)" in mid


async def test_season_not_held_is_said_plainly(store: Store) -> None:
    assert "1990" not in {r["year"] for r in _csv("races")}
    with pytest.raises(UserError, match="1990"):
        await _ask(store, QueryPlan(text="races in 1990", focus="season_races", years=[1990]))
    with pytest.raises(UserError, match="1990"):
        await _ask(store, QueryPlan(text="sprints 1990", focus="sprint_weekends", year=1990))


async def test_dispatch_through_context_and_answer(store: Store) -> None:
    row = RACES[13]
    ev = await _event(store, row)
    ctx = await build_context(store, QueryPlan(text="round?", focus="round_of", event=ev), now=NOW)
    assert ctx["focus"] == "round_of"
    assert f"round {row['round']} of {len(RACES)}" in answer(ctx)


# ------------------------------------------------------------- the whole history (../shared/data)


@pytest.fixture
async def history_store(shared_data: Path, engine: object) -> AsyncIterator[tuple[Store, Path]]:
    """2021 and 2025 of the shared Ergast CSV, imported into a private store (SQLite and PostgreSQL)."""
    from storage.history import import_history

    csv_dir = shared_data / "ergast-csv"
    import_history(engine, csv_dir, years=[2021, 2025])  # type: ignore[arg-type]
    s = Store(engine)  # type: ignore[arg-type]
    try:
        yield s, csv_dir
    finally:
        s.close()


def _rows(csv_dir: Path, name: str) -> list[dict[str, str]]:
    with (csv_dir / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.shared_data
async def test_sessions_without_times_and_seasons_still_running(history_store: tuple[Store, Path]) -> None:
    store, csv_dir = history_store
    races = _rows(csv_dir, "races")
    # A 2021 sprint weekend: the CSV has session dates but no times for anything but the race.
    row = next(r for r in races if r["year"] == "2021" and r.get("sprint_date") not in (None, "", r"\N"))
    assert row["fp1_time"] == r"\N" and row["sprint_time"] == r"\N"
    ev = await _event(store, row)
    text = await _ask(store, QueryPlan(text="weekend", focus="weekend", event=ev), NOW)
    race = _at(row["date"], row["time"])
    assert f"lights out at {_utc_text(race)}" in text
    assert "Also that weekend:" in text and "Sprint" in text and "not in the data we hold" in text

    # 2025 while it runs (the CSV ends at the Singapore GP): the sprints held so far, and the
    # rounds whose format the data does not give yet (no sessions beyond the race date).
    now = dt.datetime(2025, 10, 10, 12, tzinfo=dt.UTC)
    r25 = sorted((r for r in races if r["year"] == "2025"), key=lambda r: int(r["round"]))
    ids = {r["raceId"]: int(r["round"]) for r in r25}
    sprint_rounds = sorted({ids[s["raceId"]] for s in _rows(csv_dir, "sprint_results") if s["raceId"] in ids})
    run = {ids[s["raceId"]] for s in _rows(csv_dir, "results") if s["raceId"] in ids}
    open_rounds = [int(r["round"]) for r in r25 if int(r["round"]) not in run]
    assert sprint_rounds and open_rounds
    text = await _ask(store, QueryPlan(text="sprints", focus="sprint_weekends", year=2025), now)
    assert f"has had {len(sprint_rounds)} sprint weekend" in text and f"(of {len(r25)} rounds)" in text
    assert [int(x) for x in re.findall(r"\(round (\d+)", text)] == sprint_rounds
    assert f"rounds {open_rounds[0]}-{open_rounds[-1]} have a sprint" in text
