"""The fan-question answer set (issue 12): its shape, its source, and a fixed slice graded.

The slice (every 3rd question, all ten classes) and the whole held-out set run through the
real bot core against the evaluation store (full Ergast history + the shared FastF1 sessions),
built once per session from the raw shared data. The floors sit a few points under what the
parser scores now (see docs/answers.md), so a change that costs understanding fails here.
"""

from __future__ import annotations

import asyncio
import csv
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.answers import runner, store

ROOT = Path(__file__).resolve().parents[2]
# When the set was written main scored 30.5 % on this slice (28.5 % on the full set); see docs/answers.md.
ACCURACY_FLOOR = 0.95
HOLDOUT_FLOOR = 0.93
SLICE_STEP = 3

RECORDS = runner.load()


def test_set_shape() -> None:
    """At least 450 questions over the ten classes; a fifth or more unanswerable or follow-ups."""
    per = Counter(r["class"] for r in RECORDS)
    assert len(RECORDS) >= 450
    assert set(per) == set(range(1, 11))
    assert (per[9] + per[10]) / len(RECORDS) >= 0.2
    assert len({r["id"] for r in RECORDS}) == len(RECORDS)


def test_records_are_gradable() -> None:
    """Every record demands something, every regex compiles, follow-ups grade turn by turn."""
    for r in RECORDS:
        assert r["source"], r["id"]
        turns = runner.turns_of(r)
        assert any(expect for _, expect, _ in turns), r["id"]
        for text, expect, forbid in turns:
            assert text.strip(), r["id"]
            for pat in expect + forbid:
                re.compile(pat)
        if r["class"] == 10:
            assert 2 <= len(r["turns"]) <= 3, r["id"]


def _csv(shared: Path, name: str) -> list[dict[str, str]]:
    with (shared / "ergast-csv" / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_grading_demands_the_fact(shared_data: Path) -> None:
    """Champion and season-win records, checked against the raw CSV: the right fact passes,
    a wrong name or number fails (the regexes demand the fact, not a lucky substring)."""
    races = {r["raceId"]: r for r in _csv(shared_data, "races.csv")}
    drivers = {d["driverId"]: d for d in _csv(shared_data, "drivers.csv")}
    results = _csv(shared_data, "results.csv")
    standings = _csv(shared_data, "driver_standings.csv")
    checked = 0
    for r in RECORDS:
        m = re.fullmatch(r"driver_standings\.csv position=1 at the last race of (\d{4})", r["source"])
        if r["id"].startswith("c7-champ-") and m:
            year = m.group(1)
            last = max((x for x in races.values() if x["year"] == year), key=lambda x: int(x["round"]))
            champ = next(s["driverId"] for s in standings if s["raceId"] == last["raceId"] and s["position"] == "1")
            other = next(d for d in drivers.values() if d["surname"] not in (drivers[champ]["surname"], "Hill"))
            right = f"{drivers[champ]['forename']} {drivers[champ]['surname']} won the {year} title."
            assert not runner.grade(right, r["expect"], r["forbid"]), (r["id"], right)
            assert runner.grade(f"{other['forename']} {other['surname']} won the {year} title.", r["expect"], []), r["id"]
            checked += 1
        m = re.fullmatch(r"results\.csv position=1 in (\d{4}), driverId=(\d+)", r["source"])
        if r["id"].startswith("c7-swins-") and m:
            year, did = m.groups()
            wins = sum(1 for x in results if x["driverId"] == did and x["position"] == "1"
                       and races[x["raceId"]]["year"] == year)
            assert not runner.grade(f"He won {wins} races in {year}.", r["expect"], []), r["id"]
            assert runner.grade(f"He won {wins + 1} races in {year}.", r["expect"], []), r["id"]
            checked += 1
    assert checked >= 15


SETS = [("generate", "questions.jsonl"), ("holdout", "holdout.jsonl"), ("holdout2", "holdout2.jsonl"),
        ("holdout3", "holdout3.jsonl"), ("holdout4", "holdout4.jsonl")]


def test_committed_sets_are_what_the_generators_make(shared_data: Path, tmp_path: Path) -> None:
    """Regenerating from the raw shared data gives each committed file byte for byte (seeded)."""
    # Child processes (FastF1's cache configuration is process-wide), two at a time: each is
    # mostly CPU-bound loading, and the machine has two cores.
    pending = list(SETS)
    running: list[tuple[str, str, subprocess.Popen[bytes]]] = []
    while pending or running:
        while pending and len(running) < 2:
            module, name = pending.pop(0)
            running.append((module, name, subprocess.Popen(
                [sys.executable, "-m", f"bench.answers.{module}", "--out", str(tmp_path / name)],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        module, name, proc = running.pop(0)
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (module, err.decode()[-2000:])
        assert (tmp_path / name).read_bytes() == runner.QUESTIONS.with_name(name).read_bytes(), name


@pytest.fixture(scope="session")
def eval_store_url(shared_data: Path) -> Iterator[str]:
    """A private copy of the evaluation store (history + 15 FastF1 sessions), built once."""
    why = store.available()
    if why:
        pytest.skip(why)
    url, work = runner.private_copy(store.ensure(verbose=False))
    yield url
    import shutil

    shutil.rmtree(work, ignore_errors=True)


def test_answer_accuracy_floor(eval_store_url: str) -> None:
    """A fixed slice of the set through the real bot core: accuracy at or above the floor."""
    chosen = RECORDS[::SLICE_STEP]
    assert len(chosen) >= 150 and {r["class"] for r in chosen} == set(range(1, 11))
    outcomes = asyncio.run(runner.run_all(eval_store_url, chosen))
    right = sum(o.ok for o in outcomes)
    print("\n" + runner.summary(outcomes))
    assert right / len(outcomes) >= ACCURACY_FLOOR, runner.summary(outcomes)


@pytest.mark.parametrize("name", ["holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl", "holdout4.jsonl"])
def test_holdout_accuracy_floor(eval_store_url: str, name: str) -> None:
    """The held-out sets (phrasings written without reading the parser) at or above their floor."""
    chosen = runner.load(runner.QUESTIONS.with_name(name))
    outcomes = asyncio.run(runner.run_all(eval_store_url, chosen))
    right = sum(o.ok for o in outcomes)
    print("\n" + runner.summary(outcomes))
    assert right / len(outcomes) >= HOLDOUT_FLOOR, runner.summary(outcomes)
