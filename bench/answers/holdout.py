"""Generate bench/answers/holdout.jsonl: a HELD-OUT fan-question set the parser was never tuned on.

    python -m bench.answers.holdout [--seed 2026] [--out bench/answers/holdout.jsonl]

Same record shape and grading as questions.jsonl (docs/answers.md), same raw ground truth
(raw.py: the Ergast CSV and the FastF1 caches, never our store or bot code), but NEW
phrasings written the way people chat in Discord (slang, typos, questions buried in chatter)
and, where the data allows, races the main set does not use (its `raceId`s are skipped).
Seeded with another seed: the same data gives the same file byte for byte.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.answers.generate import SHARED, Gen, check_records, cli, date_re, rec
from bench.answers.phrasing import FORBID_WON, REFUSE, count_re, near, pos_of, time_re
from bench.answers.raw import load_ergast, load_fastf1

OUT = Path(__file__).resolve().parent / "holdout.jsonl"
MAIN_SET = Path(__file__).resolve().parent / "questions.jsonl"
SEED = 2026
Rec = dict[str, Any]

# Chatter a fan wraps a question in ("ok so {q} lol"): the fact asked is unchanged.
WRAP = ["{q}"] * 9 + ["ok so {q} lol", "quick one: {q}", "{q}?? cant remember", "yo {q}", "hey bot {q}",
        "{q} asking for a friend", "lads {q}", "sorry if dumb but {q}", "{q} pls"]


CHATTER = re.compile(r"^(?:ok so|quick one:|yo|hey bot|lads|sorry if dumb but) | lol$|\?\? cant remember$"
                     r"| asking for a friend$| pls$")


def wrap(q: str, rng: random.Random) -> str:
    return rng.choice(WRAP).format(q=q)


def tags(r: Rec) -> list[str]:
    """What makes a question hard beyond its fact: chatter around it, 'back in <year>', a follow-up."""
    text = " ".join(r.get("turns") or [r["question"]])
    out = ["chatter"] if any(CHATTER.search(t) for t in (r.get("turns") or [r["question"]])) else []
    if " back in " in text:
        out.append("back-in")
    return out


def used_races() -> set[int]:
    """raceIds the main set asks about: the held-out set prefers others."""
    if not MAIN_SET.exists():
        return set()
    return {int(m) for m in re.findall(r"raceId (\d+)", MAIN_SET.read_text(encoding="utf-8"))}


class Hold:
    """The generator state (Gen) plus the held-out phrasing of races."""

    def __init__(self, g: Gen) -> None:
        self.g = g
        self.used = used_races()

    def fresh(self, r: Rec) -> bool:
        """Not asked about in the main set, and a Grand Prix (not the 1950s Indianapolis 500)."""
        return r["raceId"] not in self.used and r["name"].endswith("Grand Prix")

    def race(self, race: Rec, rng: random.Random) -> str:
        """A race as fans type it: '{alias} {yyyy}', "{alias} '{yy}", 'the {yyyy} {alias}', '{yyyy}s {alias}'."""
        # Not a country that held another race that season ("japan 1995": Suzuka and Aida).
        others = {self.g.e.circuits[r["circuitId"]]["country"].lower() for r in self.g.e.held(race["year"])
                  if r["raceId"] != race["raceId"]}
        aliases = [a for a in self.g.race_aliases(race) if a.removeprefix("the ") not in others]
        alias = rng.choice(aliases).removeprefix("the ")
        y = race["year"]
        forms = [f"{alias} {y}", f"{alias} '{y % 100:02d}", f"{y}'s {alias}", f"{alias} back in {y}"]
        if alias.endswith((" gp", " grand prix")):
            forms.append(f"the {y} {alias}")
        return rng.choice(forms)

    def dq(self, did: int, rng: random.Random, possessive: bool = False) -> str:
        return self.g.n.driver_q(did, rng, possessive=possessive)


def _t(s: str | None) -> float | None:
    if not s:
        return None
    m = re.fullmatch(r"(?:(\d+):)?(\d+(?:\.\d+)?)", s.strip())
    return None if not m else int(m.group(1) or 0) * 60 + float(m.group(2))


# ---- 1 names & time -----------------------------------------------------------------------------
def h1(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h1"), []
    tm = ["who took the chequered flag at {r}", "{r} who got the win", "remind me who won {r}",
          "who was the winner in {r} again", "{r} - winner?", "whod win {r}", "{r} winnr?"]
    for k, race in enumerate(g.pick_races(rng, 14, since=1960, need=h.fresh)):
        w = g.winner(race)
        if w is None:
            continue
        q = wrap(rng.choice(tm).format(r=h.race(race, rng)), rng)
        out.append(rec(f"h1-win-{k:03d}", 1, q, [g.n.driver_re(w)], g.not_in(race, g.confusers(race)),
                       f"results.csv position=1 of {g.race_label(race)}"))
    tm = ["where did {d} end up at {r}", "what did {d} finish {r}", "{dp} finishing position {r}?", "{d} result in {r}"]
    for k, race in enumerate(g.pick_races(rng, 10, since=1990, need=h.fresh)):
        rows = [r for r in g.results(race) if r["position"] and 2 <= r["position"] <= 12]
        row = rng.choice(rows)
        d = row["driverId"]
        q = rng.choice(tm).format(d=h.dq(d, rng), dp=h.dq(d, rng, True), r=h.race(race, rng))
        out.append(rec(f"h1-fin-{k:03d}", 1, wrap(q, rng), [pos_of(g.n.driver_re(d), row["position"])], [],
                       f"results.csv driverId={d} position of {g.race_label(race)}"))
    return out


# ---- 2 positions & teams ------------------------------------------------------------------------
def h2(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h2"), []
    tm = ["who came {o} at {r}", "{r} who was {o}", "who finished {p} in {r}", "{p} at {r} was who"]
    for k, race in enumerate(g.pick_races(rng, 10, since=1970, need=h.fresh)):
        n = rng.randint(2, 8)
        d = g.finished_at(race, n)
        if d is None:
            continue
        from bench.answers.phrasing import ordinal
        q = rng.choice(tm).format(o=ordinal(n), p=f"p{n}", r=h.race(race, rng))
        out.append(rec(f"h2-pos-{k:03d}", 2, wrap(q, rng), [g.n.driver_re(d)], [],
                       f"results.csv position={n} of {g.race_label(race)}"))
    tm = ["gimme the podium from {r}", "top 3 {r}?", "who was on the podium in {r}", "{r} podium finishers", "podim at {r}?"]
    for k, race in enumerate(g.pick_races(rng, 6, since=1980, need=h.fresh)):
        ds = [g.finished_at(race, i) for i in (1, 2, 3)]
        if None in ds:
            continue
        out.append(rec(f"h2-podium-{k:03d}", 2, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng),
                       [g.n.driver_re(d) for d in ds if d], [], f"results.csv positions 1-3 of {g.race_label(race)}"))
    tm = ["what team was {d} in {y}", "who was {d} driving for in {y}", "{dp} team in {y}?", "{d} {y} which team"]
    k = 0
    for race in g.pick_races(rng, 12, since=2000, need=h.fresh):
        rows = g.results(race)
        row = rng.choice(rows[:10])
        d, y = row["driverId"], race["year"]
        teams = {r["constructorId"] for rr in g.e.held(y) for r in g.results(rr) if r["driverId"] == d}
        if len(teams) != 1 or k >= 7:
            continue
        q = rng.choice(tm).format(d=h.dq(d, rng), dp=h.dq(d, rng, True), y=y)
        out.append(rec(f"h2-team-{k:03d}", 2, wrap(q, rng), [g.n.team_re(row["constructorId"])], [],
                       f"results.csv: every {y} row of driverId={d} has constructorId={row['constructorId']}"))
        k += 1
    return out


# ---- 3 result detail ------------------------------------------------------------------------------
def h3(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h3"), []
    tm = ["why did {d} retire from {r}", "what happened to {d} in {r}, why the dnf", "{dp} dnf at {r} what was it",
          "{d} out of {r} why"]
    k = 0
    for race in g.pick_races(rng, 30, since=1995, need=h.fresh):
        rows = [r for r in g.results(race) if r["position"] is None and r["statusId"] not in (1,)
                and not re.search(r"Lap|Disqualified|Did not|Withdrew|Not classified|Retired", g.status(r))]
        if not rows or k >= 8:
            continue
        row = rng.choice(rows)
        d, st = row["driverId"], g.status(row)
        q = rng.choice(tm).format(d=h.dq(d, rng), dp=h.dq(d, rng, True), r=h.race(race, rng))
        out.append(rec(f"h3-dnf-{k:03d}", 3, wrap(q, rng), [re.escape(st.lower())], [],
                       f"results.csv status '{st}' of driverId={d} in {g.race_label(race)}"))
        k += 1
    tm = ["how much did {a} beat {b} by at {r}", "gap between {a} and {b} at the end of {r}",
          "{r} how far was {b} behind {a} at the flag"]
    k = 0
    for race in g.pick_races(rng, 20, since=1996, need=h.fresh):
        rows = [r for r in g.results(race) if r["position"] in (1, 2) and r["milliseconds"]]
        if len(rows) != 2 or k >= 7:
            continue
        a, b = rows
        gap = (b["milliseconds"] - a["milliseconds"]) / 1000
        q = rng.choice(tm).format(a=h.dq(a["driverId"], rng), b=h.dq(b["driverId"], rng), r=h.race(race, rng))
        out.append(rec(f"h3-gap-{k:03d}", 3, wrap(q, rng), [rf"(?<![\d.:]){gap:.3f}(?!\d)"], [],
                       f"results.csv milliseconds P2-P1 of {g.race_label(race)}"))
        k += 1
    tm = ["how many places did {d} make up at {r}", "{d} positions gained {r}?", "how many spots did {d} gain in {r}"]
    k = 0
    for race in g.pick_races(rng, 20, since=2000, need=h.fresh):
        rows = [r for r in g.results(race) if r["position"] and r["grid"] and r["grid"] - r["position"] >= 3]
        if not rows or k >= 7:
            continue
        row = rng.choice(rows)
        n = row["grid"] - row["position"]
        q = rng.choice(tm).format(d=h.dq(row["driverId"], rng), r=h.race(race, rng))
        out.append(rec(f"h3-gain-{k:03d}", 3, wrap(q, rng), [count_re(n, r"(?:places?|positions?|spots?)")], [],
                       f"results.csv grid {row['grid']} -> position {row['position']} of driverId={row['driverId']}, "
                       f"{g.race_label(race)}"))
        k += 1
    return out


# ---- 4 race story from lap data ---------------------------------------------------------------
def h4(h: Hold) -> list[Rec]:
    from bench.answers.classes import positions_ok

    g, rng, out = h.g, h.g.rng("h4"), []
    for (year, rnd), lr in sorted(g.laps.items()):
        race = g.e.race(year, rnd)
        src = f"FastF1 laps of {g.race_label(race)}"
        codes = sorted(c for c in lr.laps if c in g.code_to_id)
        if not positions_ok(g, race, lr):
            continue
        led = Counter(c for c in codes for lap in lr.laps[c].values() if lap["pos"] == 1)
        code, n = rng.choice(led.most_common()[:3])
        q = rng.choice(["how long was {d} in front at {r}, in laps", "{d} led how many laps {r}",
                        "no of laps {d} led at {r}"]).format(d=h.dq(g.code_to_id[code], rng), r=h.race(race, rng))
        out.append(rec(f"h4-led-{year}-{rnd}", 4, wrap(q, rng), [count_re(n, r"laps?")], [],
                       f"{src}: Position==1 laps of {code}"))
        n = rng.randint(3, lr.total_laps - 2)
        leaders = [c for c in codes if lr.laps[c].get(n, {}).get("pos") == 1]
        if len(leaders) == 1:
            q = rng.choice(["who was p1 on lap {n} at {r}", "at {r} who was in the lead on lap {n}",
                            "lap {n} {r} who was out front"]).format(n=n, r=h.race(race, rng))
            out.append(rec(f"h4-leader-{year}-{rnd}", 4, wrap(q, rng), [g.n.driver_re(g.code_to_id[leaders[0]])], [],
                           f"{src}: Position==1 on lap {n}"))
        code = rng.choice(codes)
        laps = [m for m, lap in lr.laps[code].items() if lap["pos"] and 1 < m < lr.total_laps]
        if laps:
            m = rng.choice(laps)
            p = lr.laps[code][m]["pos"]
            did = g.code_to_id[code]
            q = rng.choice(["where was {d} running on lap {n} of {r}", "{dp} position lap {n} {r}?",
                            "what place was {d} in on lap {n}, {r}"]).format(
                d=h.dq(did, rng), dp=h.dq(did, rng, True), n=m, r=h.race(race, rng))
            out.append(rec(f"h4-pos-{year}-{rnd}", 4, wrap(q, rng), [pos_of(g.n.driver_re(did), p)], [],
                           f"{src}: Position of {code} on lap {m}"))
        # a driver's best lap where FastF1 agrees with the CSV's fastestLapTime
        for row in rng.sample(g.results(race)[:10], 10):
            code2 = g.e.drivers[row["driverId"]].get("code")
            if code2 not in lr.laps:
                continue
            times = [lap["time_s"] for lap in lr.laps[code2].values() if lap["time_s"]]
            csv_t = _t(row.get("fastestLapTime"))
            if not times or csv_t is None or abs(min(times) - csv_t) > 0.0005:
                continue
            q = rng.choice(["{dp} quickest lap at {r}?", "fastest lap {d} did in {r}", "what was {dp} pb lap {r}"]).format(
                d=h.dq(row["driverId"], rng), dp=h.dq(row["driverId"], rng, True), r=h.race(race, rng))
            out.append(rec(f"h4-best-{year}-{rnd}", 4, wrap(q, rng), [time_re(csv_t)], [],
                           f"{src}: min LapTime of {code2} == results.csv fastestLapTime"))
            break
    return out


# ---- 5 qualifying & sprints ------------------------------------------------------------------------
def h5(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h5"), []
    sprint_2021 = {rid for rid in g.e.sprints if g.e.races[rid]["year"] == 2021}
    tm = ["who stuck it on pole at {r}", "polesitter for {r}?", "{r} who qualified p1", "who got pole for {r} in quali", "who got poll position at {r}"]
    k = 0
    for race in g.pick_races(rng, 20, since=1995, need=h.fresh):
        if race["raceId"] in sprint_2021 or k >= 9:
            continue
        rows = [r for r in g.e.qualifying.get(race["raceId"], []) if r["position"] == 1]
        if len(rows) != 1:
            continue
        q = rng.choice(tm).format(r=h.race(race, rng))
        out.append(rec(f"h5-pole-{k:03d}", 5, wrap(q, rng), [g.n.driver_re(rows[0]["driverId"])], [],
                       f"qualifying.csv position=1 of {g.race_label(race)}"))
        k += 1
    tm = ["what was the pole time at {r}", "{r} pole lap time?", "how fast was pole in {r}"]
    k = 0
    for race in g.pick_races(rng, 20, since=2008, need=h.fresh):
        if race["raceId"] in sprint_2021 or k >= 6:
            continue
        rows = [r for r in g.e.qualifying.get(race["raceId"], []) if r["position"] == 1]
        t = _t(rows[0].get("q3")) if len(rows) == 1 else None
        if t is None:
            continue
        out.append(rec(f"h5-poletime-{k:03d}", 5, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng), [time_re(t)], [],
                       f"qualifying.csv q3 of position=1, {g.race_label(race)}"))
        k += 1
    tm = ["who qualified p{n} for {r}", "{r} qualy p{n}?", "who was p{n} in quali at {r}", "who lined up p{n} after quali at {r}"]
    k = 0
    for race in g.pick_races(rng, 20, since=1994, need=h.fresh):
        n = rng.randint(2, 6)
        rows = [r for r in g.e.qualifying.get(race["raceId"], []) if r["position"] == n]
        if race["raceId"] in sprint_2021 or len(rows) != 1 or k >= 6:
            continue
        q = rng.choice(tm).format(n=n, r=h.race(race, rng))
        out.append(rec(f"h5-qpos-{k:03d}", 5, wrap(q, rng), [g.n.driver_re(rows[0]["driverId"])], [],
                       f"qualifying.csv position={n} of {g.race_label(race)}"))
        k += 1
    tm = ["who took the sprint at {r}", "{r} sprint race winner", "sprint {r} who won it"]
    sprint_races = sorted((g.e.races[rid] for rid in g.e.sprints if h.fresh(g.e.races[rid])),
                          key=lambda r: (r["year"], r["round"]))
    for k, race in enumerate(rng.sample(sprint_races, min(7, len(sprint_races)))):
        rows = [r for r in g.e.sprints[race["raceId"]] if r["position"] == 1]
        if len(rows) != 1:
            continue
        out.append(rec(f"h5-sprint-{k:03d}", 5, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng),
                       [g.n.driver_re(rows[0]["driverId"])], [], f"sprint_results.csv position=1 of {g.race_label(race)}"))
    return out


# ---- 6 standings -------------------------------------------------------------------------------------
def h6(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h6"), []
    tm = ["who was top of the wdc after {r}", "championship leader after {r}?", "who led the drivers standings after {r}", "champoinship leader after {r}"]
    for k, race in enumerate(g.pick_races(rng, 9, since=1970, need=h.fresh)):
        rows = [r for r in g.e.dstand.get(race["raceId"], []) if r["position"] == 1]
        if len(rows) != 1:
            continue
        out.append(rec(f"h6-lead-{k:03d}", 6, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng),
                       [g.n.driver_re(rows[0]["driverId"])], [], f"driver_standings.csv position=1 after {g.race_label(race)}"))
    tm = ["how many pts did {d} have after {r}", "{dp} points total after {r}", "{d} points in the championship after {r}?"]
    for k, race in enumerate(g.pick_races(rng, 8, since=1990, need=h.fresh)):
        rows = [r for r in g.e.dstand.get(race["raceId"], []) if r["position"] and 2 <= r["position"] <= 6]
        if not rows:
            continue
        row = rng.choice(rows)
        q = rng.choice(tm).format(d=h.dq(row["driverId"], rng), dp=h.dq(row["driverId"], rng, True), r=h.race(race, rng))
        out.append(rec(f"h6-pts-{k:03d}", 6, wrap(q, rng), [count_re(row["points"], r"(?:points|pts)")], [],
                       f"driver_standings.csv points of driverId={row['driverId']} after {g.race_label(race)}"))
    tm = ["which team led the constructors after {r}", "wcc leader after {r}?", "top team in the constructors standings after {r}"]
    for k, race in enumerate(g.pick_races(rng, 6, since=1990, need=h.fresh)):
        rows = [r for r in g.e.cstand.get(race["raceId"], []) if r["position"] == 1]
        if len(rows) != 1:
            continue
        out.append(rec(f"h6-wcc-{k:03d}", 6, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng),
                       [g.n.team_re(rows[0]["constructorId"])], [], f"constructor_standings.csv position=1 after {g.race_label(race)}"))
    return out


# ---- 7 history aggregates ------------------------------------------------------------------------------
def h7(h: Hold) -> list[Rec]:
    from bench.answers.classes import _career, _champions

    g, rng, out = h.g, h.g.rng("h7"), []
    car = _career(g)
    ref = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    pool = ["hamilton", "max_verstappen", "alonso", "vettel", "raikkonen", "button", "rosberg", "ricciardo", "hill",
            "coulthard", "barrichello", "hakkinen", "mansell", "piquet", "stewart", "lauda", "leclerc", "norris"]
    pool = [p for p in pool if p in ref]
    tm = ["how many gps has {d} won in total", "{dp} career win count?", "total race wins for {d}", "{d} number of wins all time"]
    for k, r in enumerate(rng.sample(pool, 7)):
        d = ref[r]
        q = rng.choice(tm).format(d=h.dq(d, rng), dp=h.dq(d, rng, True))
        out.append(rec(f"h7-wins-{k:03d}", 7, wrap(q, rng), [count_re(car[d]["wins"], r"(?:wins?|victories|races?|gps?|grands? prix)")], [],
                       f"results.csv count position=1 of driverId={d}"))
    tm = ["how many podiums did {d} get in his career", "{dp} podium count", "career podiums {d}?"]
    for k, r in enumerate(rng.sample(pool, 5)):
        d = ref[r]
        q = rng.choice(tm).format(d=h.dq(d, rng), dp=h.dq(d, rng, True))
        out.append(rec(f"h7-pod-{k:03d}", 7, wrap(q, rng), [count_re(car[d]["podiums"], r"podiums?")], [],
                       f"results.csv count position<=3 of driverId={d}"))
    champs = _champions(g)
    tm = ["who took the title in {y}", "{y} world champ?", "who was champ in {y}", "wdc winner {y}"]
    for k, y in enumerate(sorted(rng.sample([y for y in champs if y not in (1984, 2008, 2016, 2021)], 7))):
        out.append(rec(f"h7-champ-{k:03d}", 7, wrap(rng.choice(tm).format(y=y), rng), [g.n.driver_re(champs[y])], [],
                       f"driver_standings.csv position=1 after the last race of {y}"))
    tm = ["how many times did {d} win in {y}", "{dp} win count for {y}?", "{d} {y} how many wins"]
    k = 0
    for y in sorted(rng.sample(range(1985, 2025), 12)):
        wins = Counter(r["driverId"] for race in g.e.held(y) for r in g.results(race) if r["position"] == 1)
        cands = [d for d, n in wins.items() if n >= 2]
        if not cands or k >= 6:
            continue
        d = rng.choice(sorted(cands))
        q = rng.choice(tm).format(d=h.dq(d, rng), dp=h.dq(d, rng, True), y=y)
        out.append(rec(f"h7-swins-{k:03d}", 7, wrap(q, rng), [count_re(wins[d], r"(?:wins?|races?|victories)")], [],
                       f"results.csv count position=1 of driverId={d} in {y}"))
        k += 1
    return out


# ---- 8 schedule ------------------------------------------------------------------------------------------
def h8(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h8"), []
    tm = ["what round was {r}", "{r} was what round number", "which rnd of the season was {r}"]
    for k, race in enumerate(g.pick_races(rng, 8, since=1980, need=h.fresh)):
        out.append(rec(f"h8-round-{k:03d}", 8, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng),
                       [rf"\bround\s*{race['round']}\b|\bR{race['round']}\b|\b{race['round']}(?:st|nd|rd|th)\b"], [],
                       f"races.csv round of {g.race_label(race)}"))
    tm = ["when was {r} held", "what date was {r} on", "{r} date?", "what day did {r} happen", "wen was {r} raced"]
    for k, race in enumerate(g.pick_races(rng, 8, since=1980, need=h.fresh)):
        out.append(rec(f"h8-date-{k:03d}", 8, wrap(rng.choice(tm).format(r=h.race(race, rng)), rng),
                       [date_re(race["date"])], [], f"races.csv date of {g.race_label(race)}"))
    tm = ["how many gps were there in {y}", "no. of races in {y}?", "how many rounds did {y} have"]
    for k, y in enumerate(sorted(rng.sample(range(1955, 2025), 6))):
        n = len(g.e.held(y))
        out.append(rec(f"h8-count-{k:03d}", 8, wrap(rng.choice(tm).format(y=y), rng),
                       [count_re(n, r"(?:races?|rounds?|gps?|grands? prix|events?)")], [], f"races.csv races with results in {y}"))
    return out


# ---- 9 unanswerable --------------------------------------------------------------------------------------
NOT_HELD = [("the french gp", 2023), ("german grand prix", 2021), ("malaysia", 2019), ("korea", 2015),
            ("the turkish gp", 2022), ("india", 2016), ("valencia", 2014), ("portimao", 2022), ("the usa gp", 2009),
            ("sepang", 2020)]
NOT_DATA = ["{dp} top speed at {r}? kph", "how much fuel did {d} use at {r}", "tyre temps for {d} at {r}?",
            "{dp} throttle trace {r}", "did {d} use drs on lap 10 at {r}", "what did {d} say on the radio at {r}",
            "{dp} brake temps at {r}", "how many g did {d} pull at {r}"]
NONSENSE = ["who won the zorblax gp 2019", "how many wins does bobby mcfastface have", "qwerty grand prix 2022 result",
            "where did xavier zoomington finish in monza 2023"]


def h9(h: Hold) -> list[Rec]:
    g, rng, out = h.g, h.g.rng("h9"), []
    fallback = g.n.driver_re(g.winner(g.last_race))
    for a, y in NOT_HELD:  # a fan's name for a Grand Prix that season did not have
        key = a.removeprefix("the ").removesuffix(" gp").removesuffix(" grand prix")
        key = {"usa": "united states", "malaysia": "malaysian", "korea": "korean", "india": "indian",
               "valencia": "european", "portimao": "portuguese", "sepang": "malaysian"}.get(key, key)
        assert not any(key in r["name"].lower() for r in g.e.held(y)), (a, y)
    tm = ["who won at {a} in {y} then", "{a} {y} who won?", "results from {a} {y} pls", "who got pole {a} {y}"]
    for k, (a, y) in enumerate(NOT_HELD):
        q = rng.choice(tm).format(a=a, y=y)
        out.append(rec(f"h9-notheld-{k:03d}", 9, wrap(q, rng), [REFUSE], [FORBID_WON, fallback],
                       f"races.csv: no race '{a}' with results in {y}"))
    for k, q in enumerate(["who wins the 2027 wdc", "who won monaco 2028", "2029 calendar?", "who won the 1946 british gp"]):
        out.append(rec(f"h9-season-{k:03d}", 9, q, [REFUSE + r"|\byet\b"], [FORBID_WON, fallback],
                       f"races.csv seasons {min(g.e.by_year)}-{g.latest_year} only"))
    ref = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    pool = [ref[r] for r in ("norris", "piastri", "russell", "leclerc", "antonelli", "bearman", "senna", "prost")]
    k = 0
    for race in g.pick_races(rng, 30, since=1975, need=h.fresh):
        absent = [d for d in pool if d not in {r["driverId"] for r in g.results(race)}]
        if not absent or k >= 6:
            continue
        d = rng.choice(absent)
        q = rng.choice(["how did {d} get on at {r}", "{dp} finish at {r}?", "where did {d} qualify for {r}"]).format(
            d=h.dq(d, rng), dp=h.dq(d, rng, True), r=h.race(race, rng))
        dre = g.n.driver_re(d)
        out.append(rec(f"h9-absent-{k:03d}", 9, wrap(q, rng), [REFUSE],
                       [FORBID_WON, rf"(?:{dre})[^\n]{{0,40}}(?:\bP\d{{1,2}}\b|finished \d|\b\d{{1,2}}(?:st|nd|rd|th)\b)"],
                       f"results.csv: driverId={d} has no row in {g.race_label(race)}"))
        k += 1
    lap_races = [g.e.race(y, r) for (y, r) in sorted(g.laps)]
    for k, tmpl in enumerate(NOT_DATA):
        race = rng.choice(lap_races)
        d = rng.choice([r["driverId"] for r in g.results(race)[:10]])
        q = tmpl.format(d=h.dq(d, rng), dp=h.dq(d, rng, True), r=h.race(race, rng))
        out.append(rec(f"h9-data-{k:03d}", 9, wrap(q, rng), [REFUSE],
                       [FORBID_WON, r"\b\d{2,3}(?:\.\d+)?\s*(?:km/?h|kph|mph|psi|rpm|kg|g\b|°)"],
                       "not in the Ergast CSV nor the FastF1 caches (no car_data / radio / fuel)"))
    for k, q in enumerate(NONSENSE):
        out.append(rec(f"h9-nonsense-{k:03d}", 9, q, [REFUSE], [FORBID_WON, fallback], "no such name in drivers.csv / races.csv"))
    return out


# ---- 10 follow-ups -----------------------------------------------------------------------------------------
def h10(h: Hold) -> list[Rec]:
    from bench.answers.classes import _career, _champions
    from bench.answers.phrasing import ordinal

    g, rng, out = h.g, h.g.rng("h10"), []
    # winner -> another finishing place
    for k, race in enumerate(g.pick_races(rng, 7, since=1980, need=h.fresh)):
        w, n = g.winner(race), rng.choice([2, 3, 4])
        d = g.finished_at(race, n)
        if w is None or d is None:
            continue
        t2 = rng.choice(["ok and {p}?", "who came {o} then", "and in {p}", "what about {o} place"]).format(p=f"p{n}", o=ordinal(n))
        out.append(rec(f"h10-place-{k:03d}", 10, [rng.choice(["who won {r} again", "{r} winner pls"]).format(r=h.race(race, rng)), t2],
                       [[g.n.driver_re(w)], [g.n.driver_re(d)]], [[], []],
                       f"results.csv positions 1 and {n} of {g.race_label(race)}"))
    # champion -> the year after
    champs = _champions(g)
    years = [y for y in champs if y + 1 in champs and champs[y] != champs[y + 1] and y >= 1960]
    for k, y in enumerate(sorted(rng.sample(years, 6))):
        t2 = rng.choice(["and the year after?", "what about {n}", "and {n}?", "ok next year?"]).format(n=y + 1)
        out.append(rec(f"h10-champ-{k:03d}", 10, [rng.choice(["{y} champ?", "whos the {y} world champion"]).format(y=y), t2],
                       [[g.n.driver_re(champs[y])], [g.n.driver_re(champs[y + 1])]], [[], []],
                       f"driver_standings.csv position=1 after the last race of {y} and {y + 1}"))
    # career wins -> podiums
    car = _career(g)
    ref = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    for k, r in enumerate(["vettel", "alonso", "raikkonen", "rosberg", "button", "webber"]):
        d = ref[r]
        t2 = rng.choice(["and podiums?", "what about podiums", "how many podiums tho"])
        out.append(rec(f"h10-wp-{k:03d}", 10, [rng.choice(["how many wins has {d} got", "{dp} win tally"]).format(
            d=h.dq(d, rng), dp=h.dq(d, rng, True)), t2],
            [[count_re(car[d]["wins"], r"(?:wins?|victories|races?)")], [count_re(car[d]["podiums"], r"podiums?")]], [[], []],
            f"results.csv count position=1 and position<=3 of driverId={d}"))
    # a driver's result -> another driver at the same race
    for k, race in enumerate(g.pick_races(rng, 6, since=2000, need=h.fresh)):
        rows = [r for r in g.results(race) if r["position"] and r["position"] <= 10]
        a, b = rng.sample(rows, 2)
        t1 = rng.choice(["{d} at {r}, where did he come", "{dp} result {r}"]).format(
            d=h.dq(a["driverId"], rng), dp=h.dq(a["driverId"], rng, True), r=h.race(race, rng))
        t2 = rng.choice(["and {d}??", "how bout {d}", "how about {d} there"]).format(d=h.dq(b["driverId"], rng))
        out.append(rec(f"h10-other-{k:03d}", 10, [t1, t2],
                       [[pos_of(g.n.driver_re(a["driverId"]), a["position"])],
                        [pos_of(g.n.driver_re(b["driverId"]), b["position"])]], [[], []],
                       f"results.csv positions of driverIds {a['driverId']}, {b['driverId']} in {g.race_label(race)}"))
    # pole -> who won
    sprint_2021 = {rid for rid in g.e.sprints if g.e.races[rid]["year"] == 2021}
    k = 0
    for race in g.pick_races(rng, 12, since=1995, need=h.fresh):
        rows = [r for r in g.e.qualifying.get(race["raceId"], []) if r["position"] == 1]
        w = g.winner(race)
        if race["raceId"] in sprint_2021 or len(rows) != 1 or w is None or k >= 5:
            continue
        pole = rows[0]["driverId"]
        t2 = rng.choice(["and who won the race", "did they convert? who won", "and the race winner?"])
        exp2 = [g.n.driver_re(w)] if w != pole else [g.n.driver_re(w) + "|" + near(r"\byes\b", r"\bwon\b|\bwin\b|\bconvert", 60) + r"|\byes\b"]
        out.append(rec(f"h10-polewin-{k:03d}", 10, [rng.choice(["who was on pole {r}", "who started from pole at {r}?"]).format(r=h.race(race, rng)), t2],
                       [[g.n.driver_re(pole)], exp2], [[], []],
                       f"qualifying.csv position=1 and results.csv position=1 of {g.race_label(race)}"))
        k += 1
    return out


ALL = [h1, h2, h3, h4, h5, h6, h7, h8, h9, h10]


def generate(seed: int = SEED, shared: Path = SHARED) -> list[Rec]:
    e = load_ergast(shared / "ergast-csv")
    laps = load_fastf1(shared / "fastf1-cache" / "sessions-2019-2023")
    h = Hold(Gen(e, laps, seed))
    records: list[Rec] = []
    for make in ALL:
        records.extend(make(h))
    for r in records:
        r["tags"] = tags(r)
    return check_records(records)


def main() -> None:
    cli(__doc__, OUT, generate, SEED)


if __name__ == "__main__":
    main()
