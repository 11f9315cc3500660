"""Generate bench/answers/questions.jsonl: fan-phrased questions with answers from the RAW data.

    python -m bench.answers.generate [--seed 12] [--out bench/answers/questions.jsonl]

Expected answers come from the Ergast CSV and the FastF1 caches in `$SLIPSTREAM_SHARED_DATA`
(default `../shared/data` beside the checkout), read directly (`raw.py`); never from our store
or our bot code. Seeded: the same inputs and seed give the same file byte for byte.
Record shape: see docs/answers.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.answers.phrasing import (
    CIRCUIT_ALIASES,
    Names,
    fan,
    two_digit,
)
from bench.answers.raw import Ergast, LapRace, load_ergast, load_fastf1

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SLIPSTREAM_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = Path(__file__).resolve().parent / "questions.jsonl"
SEED = 12

Rec = dict[str, Any]
# Seasons where a fan's "italy"/"the italian race" could mean several races (Mugello, Imola).
_ITALY_AMBIGUOUS = {1980, 2020, 2021}


class Gen:
    """The generator's shared state: data, names, the relative-time anchor, the seed."""

    def __init__(self, e: Ergast, laps: dict[tuple[int, int], LapRace], seed: int) -> None:
        self.e = e
        self.laps = laps
        self.seed = seed
        spans: dict[int, tuple[int, int]] = {}
        for rid, rows in e.results.items():
            y = e.races[rid]["year"]
            for r in rows:
                a, b = spans.get(r["driverId"], (y, y))
                spans[r["driverId"]] = (min(a, y), max(b, y))
        self.n = Names(e.drivers, e.constructors, spans)
        self.latest_year, self.last_race = e.latest()
        self.code_to_id = {d["code"]: i for i, d in e.drivers.items()
                           if d.get("code") and spans.get(i, (0, 0))[1] >= 2018}

    def rng(self, name: str) -> random.Random:
        """One stream per question kind, so editing one kind leaves the others as they were."""
        return random.Random(f"{self.seed}:{name}")

    # ---- races -----------------------------------------------------------------------------
    def race_label(self, race: Rec) -> str:
        return f"{race['year']} {race['name']} (raceId {race['raceId']})"

    def race_aliases(self, race: Rec) -> list[str]:
        """What a fan may call this race, each naming only it in its season."""
        year = race["year"]
        base = race["name"].replace(" Grand Prix", "").lower()
        out = [f"{base} gp", f"{base} grand prix", f"the {base} gp"]
        ref = self.e.circuits[race["circuitId"]]["circuitRef"]
        same_circuit = [r for r in self.e.held(year) if r["circuitId"] == race["circuitId"]]
        if len(same_circuit) == 1:
            for a in CIRCUIT_ALIASES.get(ref, []):
                if a in ("italy", "the italian race") and (year in _ITALY_AMBIGUOUS or ref != "monza"):
                    continue
                out.append(a)
        return out

    def year_words(self, year: int, rng: random.Random, *, relative: bool = True) -> str:
        if relative and year == self.latest_year and rng.random() < 0.5:
            return rng.choice(["this season", "this year"])
        if relative and year == self.latest_year - 1 and rng.random() < 0.5:
            return "last year"
        if year >= 2000 and rng.random() < 0.45:
            return two_digit(year, rng)
        if year < 2000 and rng.random() < 0.2:
            return f"'{year % 100:02d}"
        return str(year)

    def race_q(self, race: Rec, rng: random.Random) -> str:
        """A fan's name for the race with its season, in one of several word orders."""
        alias = rng.choice(self.race_aliases(race))
        yw = self.year_words(race["year"], rng)
        if yw in ("this season", "this year", "last year"):
            bare = alias.removeprefix("the ")
            return rng.choice([f"{alias} {yw}", f"{yw}'s {bare}" if yw == "last year" else f"{alias} {yw}"])
        if alias.startswith("the "):
            return rng.choice([f"{alias} {yw}", f"the {yw} {alias[4:]}"])
        return rng.choice([f"{alias} {yw}", f"{yw} {alias}", f"{alias} in {yw}", f"{alias} {yw}"])

    def pick_races(self, rng: random.Random, k: int, *, since: int = 1950, until: int | None = None,
                   need: Callable[[Rec], bool] | None = None) -> list[Rec]:
        """k distinct races with results, spread across eras (stratified by decade)."""
        until = until or self.latest_year
        pool = [r for y in range(since, until + 1) for r in self.e.held(y) if need is None or need(r)]
        by_decade: dict[int, list[Rec]] = defaultdict(list)
        for r in pool:
            by_decade[r["year"] // 10].append(r)
        decades = sorted(by_decade)
        out: list[Rec] = []
        i = 0
        while len(out) < k and any(by_decade.values()):
            d = decades[i % len(decades)]
            i += 1
            if by_decade[d]:
                out.append(by_decade[d].pop(rng.randrange(len(by_decade[d]))))
        return out

    # ---- results ----------------------------------------------------------------------------
    def results(self, race: Rec) -> list[Rec]:
        return self.e.results.get(race["raceId"], [])

    def winner(self, race: Rec) -> int | None:
        rows = [r for r in self.results(race) if r["position"] == 1]
        return rows[0]["driverId"] if len(rows) == 1 else None  # shared drives (1950s): no single winner

    def finished_at(self, race: Rec, pos: int) -> int | None:
        rows = [r for r in self.results(race) if r["position"] == pos]
        return rows[0]["driverId"] if len(rows) == 1 else None

    def entry(self, race: Rec, did: int) -> Rec | None:
        rows = [r for r in self.results(race) if r["driverId"] == did]
        return rows[0] if len(rows) == 1 else None

    def status(self, row: Rec) -> str:
        return self.e.status.get(row["statusId"], "")

    def not_in(self, race: Rec, dids: set[int]) -> list[str]:
        """Forbid regexes for drivers who were NOT in this race (a confident wrong name)."""
        present = {r["driverId"] for r in self.results(race)}
        return [self.n.driver_re(d) for d in sorted(dids - present)]

    def confusers(self, race: Rec) -> set[int]:
        """Winners a wrong guess would give: the latest race's, and this GP's in the latest season."""
        out = {self.winner(self.last_race)}
        same = [r for r in self.e.held(self.latest_year) if r["name"] == race["name"]]
        if same:
            out.add(self.winner(same[0]))
        return {d for d in out if d is not None}


def rec(rid: str, cls: int, question: str | list[str], expect: list[Any], forbid: list[Any], source: str) -> Rec:
    r: Rec = {"id": rid, "class": cls}
    if isinstance(question, list):
        r["turns"] = [fan(t) for t in question]
    else:
        r["question"] = fan(question)
    r["expect"] = expect
    r["forbid"] = forbid
    r["source"] = source
    return r


def date_re(iso: str) -> str:
    """A date in any common form: 2023-09-03, 3 Sep(tember), Sep 3rd."""
    y, m, d = (int(x) for x in iso.split("-"))
    mon = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"][m - 1]
    mword = rf"{mon}[a-z]*\.?"
    return rf"{iso}|\b{d}(?:st|nd|rd|th)?\s+{mword}|\b{mword}\s+{d}(?:st|nd|rd|th)?\b|\b{d:02d}/{m:02d}/{y}\b"


def any_of(res: list[str]) -> str:
    return "|".join(f"(?:{r})" for r in res)


def write(records: list[Rec], out: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")


def generate(seed: int = SEED, shared: Path = SHARED) -> list[Rec]:
    from bench.answers import classes

    e = load_ergast(shared / "ergast-csv")
    laps = load_fastf1(shared / "fastf1-cache" / "sessions-2019-2023")
    g = Gen(e, laps, seed)
    records: list[Rec] = []
    for make in classes.ALL:
        records.extend(make(g))
    records.sort(key=lambda r: r["class"])  # stable: each class keeps its kinds' order
    return check_records(records)


def check_records(records: list[Rec]) -> list[Rec]:
    """Every set's last step: ids are unique and every regex compiles (else stop, naming them)."""
    ids = Counter(r["id"] for r in records)
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        raise SystemExit(f"duplicate ids: {dup[:5]}")
    for r in records:
        for x in r["expect"] + r["forbid"]:
            for pat in (x if isinstance(x, list) else [x]):
                re.compile(pat)
    return records


def cli(doc: str | None, out: Path, make: Callable[[int], list[Rec]], seed: int) -> None:
    """The command line every set's generator shares: `--seed`, `--out`, then a summary line."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--out", type=Path, default=out)
    args = ap.parse_args()
    records = make(args.seed)
    write(records, args.out)
    per = Counter(r["class"] for r in records)
    hard = per[9] + per[10]
    print(f"{len(records)} questions -> {args.out}; per class {dict(sorted(per.items()))}; "
          f"unanswerable + follow-ups {hard} ({hard / len(records):.0%})")


def main() -> None:
    cli(__doc__, OUT, generate, SEED)


if __name__ == "__main__":
    main()
