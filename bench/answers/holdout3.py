"""The third held-out set: bench/answers/holdout3.jsonl, written blind to the parser.

    python -m bench.answers.holdout3 [--seed 31337] [--out bench/answers/holdout3.jsonl]

Why: the parser was tuned on questions.jsonl and on the first two held-out sets, so their
scores overstate how well it reads questions it has never seen. This set was written without
reading bot/, storage/, classes.py, questions.jsonl or the earlier held-out sets; expected
answers come from the raw data only (raw.py) and are graded with phrasing.py's regexes.

Styles: very terse ("ver monza 23?", "pole spa 19"), long rambling sentences, "the 2019
season", comparatives ("did lewis or max win more races in 2021"), "how many times",
negations ("who didn't finish at ..."), first / last ("first race of 2019"), and follow-ups
of every kind in 2-3 turns. Races the earlier sets ask about are skipped (their raceIds are
read from the `source` fields only), except the ten lap races.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.answers.generate import SHARED, Gen, cli, date_re, rec
from bench.answers.phrasing import (
    FORBID_WON,
    REFUSE,
    count_re,
    fold,
    lap_time,
    near,
    pos_of,
    secs_re,
    time_re,
)
from bench.answers.phrasing import fan as fan
from bench.answers.raw import load_ergast, load_fastf1

HERE = Path(__file__).resolve().parent
OUT = HERE / "holdout3.jsonl"
SEED = 31337
Rec = dict[str, Any]

# Nicknames and misspellings by driverRef: ours, not phrasing.py's (beyond the obvious ones).
NICK: dict[str, list[str]] = {
    "max_verstappen": ["ver", "maxy", "verstappan", "max v"],
    "hamilton": ["ham", "hammy", "lewis h", "hamiltion"],
    "leclerc": ["lec", "charles l", "leclair"],
    "vettel": ["seb v", "vettell", "baby schumi"],
    "alonso": ["el nano", "alonzo", "fernando a"],
    "raikkonen": ["kimi", "the iceman", "raikonnen"],
    "ricciardo": ["the honey badger", "danny ricc", "riccardo"],
    "bottas": ["val", "bottass"],
    "button": ["jense", "jenson b"],
    "rosberg": ["nico r", "rossberg"],
    "webber": ["aussie grit", "webbr"],
    "massa": ["felipe", "masa"],
    "michael_schumacher": ["msc", "the red baron", "michael schu"],
    "senna": ["ayrton s", "sena"],
    "prost": ["the professor", "alain"],
    "mansell": ["our nige", "nigel", "mansel"],
    "hakkinen": ["mika", "hakkinnen", "the flying finn"],
    "perez": ["checo p", "sergio"],
    "norris": ["lando n", "norriss"],
    "sainz": ["carlito", "sainz jnr"],
    "magnussen": ["kmag", "k-mag"],
    "hulkenberg": ["the hulk", "hulkenburg"],
    "piquet": ["nelson piquet"],
    "lauda": ["niki", "nikki lauda"],
    "damon_hill": ["damon"],
    "coulthard": ["dc", "coulthart"],
    "barrichello": ["rubens", "rubinho", "barichello"],
    "montoya": ["jpm", "juan pablo"],
}

# Misspelt race adjectives a fan types in a hurry.
RACE_TYPO: dict[str, str] = {
    "hungarian": "hungarain", "belgian": "belgain", "brazilian": "brazillian", "japanese": "japenese",
    "canadian": "canadien", "australian": "austrailian", "british": "brittish", "german": "germna",
    "malaysian": "malaysain", "spanish": "spainish", "french": "frensh", "portuguese": "portugese",
    "mexican": "mexcian", "european": "europian", "singapore": "singapour", "austrian": "austrain",
    "italian": "itallian", "monaco": "monacco", "chinese": "chinnese", "turkish": "turksih",
}

# Chatter wrappers ; {q} is the question.
WRAP = [
    "ok so {q} lol", "{q} im blanking", "random but {q}", "{q}?? my mate says otherwise",
    "hold on {q}", "right, {q}", "{q} - anyone?", "wait {q}", "yo {q}", "been arguing about this all day, {q}",
    "not sure if this is the right channel but {q}", "{q} (for a quiz tonight)", "k {q}", "hmm {q}",
]


class H3(Gen):
    """Gen plus what this set needs: nicknames, typos, a taken-race filter."""

    def __init__(self, *args: Any, taken: set[int], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.taken = taken
        self.lap_rids = {self.e.race(y, r)["raceId"] for (y, r) in self.laps}

    def dq(self, did: int, rng: Any, possessive: bool = False) -> str:
        ref = self.e.drivers[did]["driverRef"]
        if ref in NICK and rng.random() < 0.55:
            name = rng.choice(NICK[ref])
            return name + ("'" if name.endswith("s") else "'s") if possessive else name
        d = self.e.drivers[did]
        if sum(1 for o in self.e.drivers.values() if fold(o["surname"]).lower() == fold(d["surname"]).lower()) > 1:
            name = f"{d['forename']} {d['surname']}".lower()  # "verstappen" in 2000 is Jos: a fan says "jos verstappen"
            return name + ("'" if name.endswith("s") else "'s") if possessive else name
        return self.n.driver_q(did, rng, possessive)

    def yw(self, year: int, rng: Any) -> str:
        opts = [str(year), f"'{year % 100:02d}", str(year)]
        if year >= 2000:
            opts.append(f"{year % 100:02d}")
        return rng.choice(opts)

    def rq(self, race: Rec, rng: Any, *, terse: bool = False) -> str:
        """The race as a fan types it: misspelt adjective, circuit nickname, season in some order."""
        base = race["name"].replace(" Grand Prix", "").lower()
        forms = [f"{base} gp", f"the {base} gp", f"{base} grand prix"] + ([base] if terse else [])
        if base in RACE_TYPO:
            forms.append(f"{RACE_TYPO[base]} gp")
        al = self.race_aliases(race)
        forms += [a for a in al if not a.startswith(base) and not a.startswith("the " + base)]
        name = rng.choice(forms)
        y = self.yw(race["year"], rng)
        if terse:
            return f"{name.removeprefix('the ')} {y}"
        return rng.choice([f"{name} {y}", f"{y} {name.removeprefix('the ')}", f"{name} in {y}",
                           f"the {race['year']} {name.removeprefix('the ')}"])

    def races(self, rng: Any, k: int, *, since: int = 1960, need: Any = None) -> list[Rec]:
        def ok(r: Rec) -> bool:
            return (r["raceId"] not in self.taken and r["name"].endswith("Grand Prix")
                    and (need is None or need(r)))
        return self.pick_races(rng, k, since=since, need=ok)

    def wrap(self, q: str, rng: Any, p: float = 0.4) -> str:
        return rng.choice(WRAP).format(q=q) if rng.random() < p else q


def taken_races() -> set[int]:
    """raceIds the other sets ask about, from their `source` fields only."""
    out: set[int] = set()
    for name in ("questions.jsonl", "holdout.jsonl", "holdout2.jsonl"):
        p = HERE / name
        if not p.exists():
            continue
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out |= {int(x) for x in re.findall(r"raceId (\d+)", json.loads(line).get("source", ""))}
    return out


def forbid_names(g: H3, dids: list[int]) -> list[str]:
    return [g.n.driver_re(d) for d in dids]


# ---- class 1: names & time ---------------------------------------------------------------------

def c1(g: H3) -> list[Rec]:
    rng = g.rng("c1")
    out: list[Rec] = []
    pats = ["{r} winner?", "who won {r}", "ok so who won {r} lol", "{r} who took the win", "winner {r}",
            "who ended up winning {r}", "who won the race at {r}", "{r}, who won it?",
            "so i was rewatching some old stuff last night and cant remember who actually won {r}, anyone know"]
    races = g.races(rng, 16, need=lambda r: g.winner(r) is not None)
    for i, race in enumerate(races):
        w = g.winner(race)
        assert w is not None
        if i % 4 == 3:  # "in 2016 at spa who won"
            q = f"in {race['year']} at {g.rq(race, rng).rsplit(' ', 1)[0].removeprefix('the ').removeprefix(str(race['year']) + ' ')} who won"
        else:
            q = rng.choice(pats).format(r=g.rq(race, rng, terse=i % 3 == 0))
        out.append(rec(f"h3-c1-win-{i:02d}", 1, g.wrap(q, rng, 0.3), [g.n.driver_re(w)],
                       forbid_names(g, sorted(g.confusers(race) - {w})), f"results.csv position=1 of {g.race_label(race)}"))
    # "ver monza 23?" terse: where did X finish
    races = g.races(rng, 10, since=1980, need=lambda r: len(g.results(r)) > 10)
    for i, race in enumerate(races):
        rows = [r for r in g.results(race) if r["position"] is not None and 2 <= r["position"] <= 12]
        row = rng.choice(rows)
        d = g.dq(row["driverId"], rng)
        q = rng.choice([f"{d} {g.rq(race, rng, terse=True)}?", f"where did {d} finish {g.rq(race, rng)}",
                        f"{g.rq(race, rng)} what did {d} finish", f"{d} result {g.rq(race, rng, terse=True)}"])
        out.append(rec(f"h3-c1-pos-{i:02d}", 1, q, [pos_of(g.n.driver_re(row["driverId"]), row["position"])], [],
                       f"results.csv driverId={row['driverId']} position={row['position']} of {g.race_label(race)}"))
    # team wins in a season
    for i, (year, cref) in enumerate([(2012, "mclaren"), (2016, "red_bull"), (1998, "ferrari"), (2005, "renault"),
                                      (2009, "brawn"), (1988, "mclaren")]):
        cid = next(k for k, c in g.e.constructors.items() if c["constructorRef"] == cref)
        n = sum(1 for r in g.e.held(year) for x in g.results(r) if x["position"] == 1 and x["constructorId"] == cid)
        tq = g.n.team_q(cid, rng) if cref != "brawn" else "brawn"
        q = rng.choice([f"how many races did {tq} win in the {year} season", f"{tq} wins {year}?",
                        f"how many gps did {tq} win in {g.yw(year, rng)}"])
        out.append(rec(f"h3-c1-teamwins-{i}", 1, q, [count_re(n, "(?:win|victor|race)")], [],
                       f"results.csv position=1 constructorId={cid} in {year}"))
    return out


# ---- class 2: positions & teams ---------------------------------------------------------------

def c2(g: H3) -> list[Rec]:
    rng = g.rng("c2")
    out: list[Rec] = []
    races = g.races(rng, 12, since=1970, need=lambda r: len(g.results(r)) >= 14)
    for i, race in enumerate(races):
        p = rng.randint(4, 10)
        did = g.finished_at(race, p)
        if did is None:
            continue
        rr = g.rq(race, rng, terse=i % 2 == 0)
        q = rng.choice([f"p{p} {rr}?", f"who was p{p} at {rr}", f"{rr} who finished {p}th", f"who came {p}th in {rr}",
                        f"{rr} - who ended up p{p}"])
        out.append(rec(f"h3-c2-pn-{i:02d}", 2, g.wrap(q, rng, 0.3), [pos_of(g.n.driver_re(did), p)], [],
                       f"results.csv position={p} of {g.race_label(race)}"))
    races = g.races(rng, 8, since=1965)
    for i, race in enumerate(races):
        top = [g.finished_at(race, k) for k in (1, 2, 3)]
        if None in top:
            continue
        rr = g.rq(race, rng)
        q = rng.choice([f"top 3 {rr}?", f"who was on the podium at {rr}", f"{rr} podium pls", f"podium finishers {rr}"])
        out.append(rec(f"h3-c2-podium-{i}", 2, q, [g.n.driver_re(d) for d in top if d is not None], [],
                       f"results.csv positions 1-3 of {g.race_label(race)}"))
    # who did X drive for at race
    races = g.races(rng, 7, since=1975)
    for i, race in enumerate(races):
        row = rng.choice([r for r in g.results(race) if r["position"] is not None][:10])
        d = g.dq(row["driverId"], rng)
        q = rng.choice([f"what team was {d} at in {g.rq(race, rng)}", f"{d} team {g.rq(race, rng, terse=True)}?",
                        f"who was {d} driving for at {g.rq(race, rng)}"])
        out.append(rec(f"h3-c2-team-{i}", 2, q, [g.n.team_re(row["constructorId"])], [],
                       f"results.csv constructorId of driverId={row['driverId']} in {g.race_label(race)}"))
    # teammates in a season (two-driver teams only)
    for i, (year, dref) in enumerate([(2011, "webber"), (2017, "bottas"), (2003, "montoya"), (1991, "mansell"),
                                      (2019, "leclerc")]):
        did = next(k for k, d in g.e.drivers.items() if d["driverRef"] == dref)
        mates: Counter[int] = Counter()
        for r in g.e.held(year):
            mine = [x for x in g.results(r) if x["driverId"] == did]
            if mine:
                for x in g.results(r):
                    if x["constructorId"] == mine[0]["constructorId"] and x["driverId"] != did:
                        mates[x["driverId"]] += 1
        mate = mates.most_common(1)[0][0]
        dp = g.dq(did, rng, possessive=True)
        q = rng.choice([f"who was {dp} teammate in the {year} season", f"{dp} team mate in {g.yw(year, rng)}?",
                        f"in {year} who partnered {g.dq(did, rng)}"])
        out.append(rec(f"h3-c2-mate-{i}", 2, q, [g.n.driver_re(mate)], [],
                       f"results.csv same constructorId as driverId={did} in {year}"))
    return out


# ---- class 3: result detail ---------------------------------------------------------------------

def c3(g: H3) -> list[Rec]:
    rng = g.rng("c3")
    out: list[Rec] = []

    def has_gap(r: Rec) -> bool:
        a, b = g.results(r)[:2] if len(g.results(r)) >= 2 else (None, None)
        return bool(a and b and a["position"] == 1 and b["position"] == 2 and a["milliseconds"] and b["milliseconds"])

    for i, race in enumerate(g.races(rng, 7, since=1985, need=has_gap)):
        a, b = g.results(race)[:2]
        gap = (b["milliseconds"] - a["milliseconds"]) / 1000
        q = rng.choice([f"winning margin {g.rq(race, rng)}?", f"by how much did {g.dq(a['driverId'], rng)} win {g.rq(race, rng)}",
                        f"gap between p1 and p2 at {g.rq(race, rng)}"])
        out.append(rec(f"h3-c3-margin-{i}", 3, q, [secs_re(gap)], [],
                       f"results.csv milliseconds P2-P1 of {g.race_label(race)}"))

    def one_dnf(r: Rec) -> bool:
        return any(x["position"] is None and x["laps"] and x["laps"] > 0 and g.status(x) not in ("Disqualified",)
                   for x in g.results(r)[:12])

    for i, race in enumerate(g.races(rng, 8, since=1990, need=one_dnf)):
        row = next(x for x in g.results(race)[:12] if x["position"] is None and x["laps"] and x["laps"] > 0
                   and g.status(x) != "Disqualified")
        st = g.status(row)
        d = g.dq(row["driverId"], rng)
        q = rng.choice([f"why did {d} dnf {g.rq(race, rng)}", f"{d} {g.rq(race, rng, terse=True)} what happened? didnt finish right",
                        f"what put {d} out of {g.rq(race, rng)}"])
        out.append(rec(f"h3-c3-why-{i}", 3, q, [re.escape(st.lower()) if st != "Retired" else r"retir"], [],
                       f"results.csv statusId={row['statusId']} ({st}) driverId={row['driverId']} {g.race_label(race)}"))
    # negation: who didn't finish (races with 1-3 non-finishers)

    def few_dnf(r: Rec) -> bool:
        n = [x for x in g.results(r) if x["position"] is None]
        return 1 <= len(n) <= 3

    for i, race in enumerate(g.races(rng, 6, since=2005, need=few_dnf)):
        dnf = [x["driverId"] for x in g.results(race) if x["position"] is None]
        q = rng.choice([f"who didn't finish {g.rq(race, rng)}", f"who didnt make it to the end at {g.rq(race, rng)}",
                        f"dnfs {g.rq(race, rng, terse=True)}?"])
        out.append(rec(f"h3-c3-dnf-{i}", 3, q, [g.n.driver_re(d) for d in dnf], [],
                       f"results.csv position NULL of {g.race_label(race)}"))
    # places gained
    for i, race in enumerate(g.races(rng, 6, since=1995)):
        rows = [x for x in g.results(race) if x["position"] and x["grid"] and x["grid"] - x["position"] >= 4]
        if not rows:
            continue
        row = rng.choice(rows)
        n = row["grid"] - row["position"]
        d = g.dq(row["driverId"], rng)
        q = rng.choice([f"how many places did {d} make up at {g.rq(race, rng)}", f"{d} positions gained {g.rq(race, rng, terse=True)}",
                        f"where did {d} start and finish at {g.rq(race, rng)}"])
        exp = [count_re(n, "(?:place|position|spot)")] if "start and finish" not in q else [
            pos_of(g.n.driver_re(row["driverId"]), row["position"]),
            rf"(?:grid|start)[^\n]{{0,30}}\b(?:P)?{row['grid']}(?:st|nd|rd|th)?\b|\bP?{row['grid']}(?:st|nd|rd|th)?\b[^\n]{{0,20}}(?:grid|start)"]
        out.append(rec(f"h3-c3-gain-{i}", 3, q, exp, [],
                       f"results.csv grid={row['grid']} position={row['position']} driverId={row['driverId']} {g.race_label(race)}"))
    return out


# ---- class 4: lap story ---------------------------------------------------------------------------

def c4(g: H3) -> list[Rec]:
    rng = g.rng("c4")
    out: list[Rec] = []
    for (year, rnd), lr in sorted(g.laps.items()):
        race = g.e.race(year, rnd)
        w = g.winner(race)
        code = {c: g.code_to_id.get(c) for c in lr.laps}
        last = {c for c, laps in lr.laps.items() if laps.get(lr.total_laps, {}).get("pos") == 1}
        pos_ok = (year, rnd) != (2020, 1) and len(last) == 1 and code.get(next(iter(last))) == w
        tag = f"{year}/{rnd}"
        if pos_ok:
            led = Counter(c for c, laps in lr.laps.items() for n, x in laps.items() if x["pos"] == 1)
            c, n = led.most_common(1)[0]
            q = rng.choice([f"how many laps did {g.dq(code[c], rng)} lead {g.rq(race, rng)}",
                            f"{g.dq(code[c], rng)} laps in front {g.rq(race, rng, terse=True)}?"])
            out.append(rec(f"h3-c4-led-{tag}", 4, q, [count_re(n, "lap")], [], f"FastF1 Position==1 laps {tag}"))
            lap = rng.randint(3, lr.total_laps - 3)
            leaders = [c for c, laps in lr.laps.items() if laps.get(lap, {}).get("pos") == 1]
            if len(leaders) == 1 and code.get(leaders[0]):
                q = rng.choice([f"who was leading on lap {lap} at {g.rq(race, rng)}", f"leader lap {lap} {g.rq(race, rng, terse=True)}",
                                f"{g.rq(race, rng)} lap {lap} who was in front"])
                out.append(rec(f"h3-c4-leadlap-{tag}", 4, q, [g.n.driver_re(code[leaders[0]])], [],
                               f"FastF1 Position==1 on lap {lap} {tag}"))
            c2 = rng.choice(sorted(c for c in lr.laps if code.get(c)))
            lap = rng.randint(5, lr.total_laps - 5)
            p = lr.laps[c2].get(lap, {}).get("pos")
            if p:
                q = rng.choice([f"where was {g.dq(code[c2], rng)} on lap {lap} of {g.rq(race, rng)}",
                                f"{g.dq(code[c2], rng)} position lap {lap} {g.rq(race, rng, terse=True)}"])
                out.append(rec(f"h3-c4-poslap-{tag}", 4, q, [pos_of(g.n.driver_re(code[c2]), p)], [],
                               f"FastF1 Position of {c2} on lap {lap} {tag}"))
        # best lap where FastF1 agrees with the CSV
        rows = {x["driverId"]: x for x in g.results(race)}
        cands = []
        for c, laps in lr.laps.items():
            did = code.get(c)
            ts = [x["time_s"] for x in laps.values() if x["time_s"]]
            if did in rows and ts and rows[did]["fastestLapTime"] and _lt(min(ts)) == rows[did]["fastestLapTime"]:
                cands.append((c, min(ts)))
        if cands:
            c, t = rng.choice(sorted(cands))
            q = rng.choice([f"{g.dq(code[c], rng, possessive=True)} quickest lap at {g.rq(race, rng)}",
                            f"fastest lap {g.dq(code[c], rng)} did {g.rq(race, rng, terse=True)}?",
                            f"what was {g.dq(code[c], rng, possessive=True)} best lap time in {g.rq(race, rng)}"])
            out.append(rec(f"h3-c4-best-{tag}", 4, q, [time_re(t)], [], f"FastF1 min LapTime {c} == results.csv fastestLapTime {tag}"))
        # number of stops where pit_stops.csv agrees with the stints and no red-flag rows
        pits = g.e.pits.get(race["raceId"], [])
        if pits:
            cands2 = []
            for c, laps in lr.laps.items():
                did = code.get(c)
                mine = [p for p in pits if p["driverId"] == did]
                stints = {x["stint"] for x in laps.values() if x["stint"]}
                if did and stints and all(":" not in (p["duration"] or "") for p in mine) and len(mine) == max(stints) - 1:
                    cands2.append((c, len(mine)))
            if cands2:
                c, n = rng.choice(sorted(cands2))
                q = rng.choice([f"how many times did {g.dq(code[c], rng)} pit {g.rq(race, rng)}",
                                f"{g.dq(code[c], rng)} stops {g.rq(race, rng, terse=True)}?",
                                f"was {g.dq(code[c], rng)} on a one stop or two stop at {g.rq(race, rng)}"])
                out.append(rec(f"h3-c4-stops-{tag}", 4, q, [count_re(n, "(?:stop|pit)") + "|" + ["", "one[- ]stop", "two[- ]stop", "three[- ]stop"][min(n, 3)] if n else count_re(n, "stop")], [],
                               f"pit_stops.csv rows for {c} == FastF1 stints-1 {tag}"))
    return out


def _lt(t: float) -> str:
    return lap_time(t)


# ---- class 5: qualifying & sprints ------------------------------------------------------------------

def _sprint_2021(g: H3) -> set[int]:
    return {rid for rid in g.e.sprints if g.e.races[rid]["year"] == 2021}


def c5(g: H3) -> list[Rec]:
    rng = g.rng("c5")
    out: list[Rec] = []
    bad = _sprint_2021(g)

    def pole_ok(r: Rec) -> bool:
        q = g.e.qualifying.get(r["raceId"], [])
        g1 = [x for x in g.results(r) if x["grid"] == 1]
        return (r["raceId"] not in bad and bool(q) and q[0]["position"] == 1 and len(g1) == 1
                and g1[0]["driverId"] == q[0]["driverId"])

    for i, race in enumerate(g.races(rng, 12, since=1996, need=pole_ok)):
        pole = g.e.qualifying[race["raceId"]][0]
        rr = g.rq(race, rng, terse=i % 2 == 0)
        q = rng.choice([f"pole {rr}", f"who got pole at {rr}", f"{rr} quali who was p1", f"pole sitter {rr}?",
                        f"who qualified fastest for {rr}"])
        exp = [g.n.driver_re(pole["driverId"])]
        if pole["q3"] and i % 3 == 0:
            q = rng.choice([f"what was the pole time at {rr}", f"{rr} pole lap time?"])
            exp = [rf"(?<![\d:.]){re.escape(pole['q3'])}(?!\d)"]
        out.append(rec(f"h3-c5-pole-{i:02d}", 5, g.wrap(q, rng, 0.3), exp, [],
                       f"qualifying.csv position=1 (== results grid 1) of {g.race_label(race)}"))
    # sprint winners
    sprint_races = sorted(g.e.sprints, key=lambda rid: (g.e.races[rid]["year"], g.e.races[rid]["round"]))
    for i, rid in enumerate(rng.sample(sprint_races, 6)):
        race = g.e.races[rid]
        w = [x for x in g.e.sprints[rid] if x["position"] == 1][0]["driverId"]
        q = rng.choice([f"sprint winner {g.rq(race, rng, terse=True)}", f"who won the sprint at {g.rq(race, rng)}",
                        f"{g.rq(race, rng)} saturday sprint who won"])
        out.append(rec(f"h3-c5-sprint-{i}", 5, q, [g.n.driver_re(w)], [], f"sprint_results.csv position=1 of {g.race_label(race)}"))
    # comparative poles in a season
    for i, (year, a, b) in enumerate([(2019, "leclerc", "max_verstappen"), (2014, "hamilton", "rosberg"),
                                      (2010, "vettel", "webber"), (2007, "raikkonen", "hamilton"), (2022, "leclerc", "max_verstappen"),
                                      (2016, "rosberg", "hamilton"), (2001, "michael_schumacher", "hakkinen"),
                                      (2012, "hamilton", "vettel"), (2018, "vettel", "hamilton"), (1999, "hakkinen", "coulthard")]):
        ids = [next(k for k, d in g.e.drivers.items() if d["driverRef"] == x) for x in (a, b)]
        cnt = {d: sum(1 for r in g.e.held(year) for x in g.e.qualifying.get(r["raceId"], [])
                      if x["position"] == 1 and x["driverId"] == d) for d in ids}
        grid = {d: sum(1 for r in g.e.held(year) for x in g.results(r) if x["grid"] == 1 and x["driverId"] == d) for d in ids}
        if cnt != grid or cnt[ids[0]] == cnt[ids[1]]:
            continue
        more = max(ids, key=lambda d: cnt[d])
        q = rng.choice([f"who had more poles in {year}, {g.dq(ids[0], rng)} or {g.dq(ids[1], rng)}",
                        f"{g.dq(ids[0], rng)} vs {g.dq(ids[1], rng)} poles in the {year} season",
                        f"did {g.dq(ids[0], rng)} or {g.dq(ids[1], rng)} get more pole positions in {g.yw(year, rng)}"])
        out.append(rec(f"h3-c5-morepoles-{i}", 5, q, [near(g.n.driver_re(more), count_re(cnt[more], "pole"), 80)], [],
                       f"qualifying.csv position=1 counts {year} (== grid 1 counts)"))
    return out


# ---- class 6: standings -------------------------------------------------------------------------

def c6(g: H3) -> list[Rec]:
    rng = g.rng("c6")
    out: list[Rec] = []
    for i, race in enumerate(g.races(rng, 8, since=1975, need=lambda r: r["raceId"] in g.e.dstand and r["round"] > 2)):
        top = g.e.dstand[race["raceId"]][0]
        q = rng.choice([f"who was leading the championship after {g.rq(race, rng)}", f"wdc leader after {g.rq(race, rng, terse=True)}?",
                        f"after {g.rq(race, rng)} who was top of the standings"])
        out.append(rec(f"h3-c6-lead-{i}", 6, q, [g.n.driver_re(top["driverId"])], [],
                       f"driver_standings.csv position=1 after {g.race_label(race)}"))
    for i, race in enumerate(g.races(rng, 6, since=1990, need=lambda r: r["raceId"] in g.e.dstand and r["round"] > 3)):
        row = rng.choice(g.e.dstand[race["raceId"]][1:6])
        q = rng.choice([f"how many points did {g.dq(row['driverId'], rng)} have after {g.rq(race, rng)}",
                        f"{g.dq(row['driverId'], rng)} points after {g.rq(race, rng, terse=True)}?"])
        out.append(rec(f"h3-c6-pts-{i}", 6, q, [count_re(row["points"], "(?:points|pts)")], [],
                       f"driver_standings.csv driverId={row['driverId']} after {g.race_label(race)}"))
    for i, race in enumerate(g.races(rng, 5, since=1980, need=lambda r: r["raceId"] in g.e.cstand and r["round"] > 2)):
        top = g.e.cstand[race["raceId"]][0]
        q = rng.choice([f"constructors leader after {g.rq(race, rng)}", f"wcc standings after {g.rq(race, rng, terse=True)} who was top",
                        f"which team led the constructors after {g.rq(race, rng)}"])
        out.append(rec(f"h3-c6-wcc-{i}", 6, q, [g.n.team_re(top["constructorId"])], [],
                       f"constructor_standings.csv position=1 after {g.race_label(race)}"))
    # final place in a season
    for i, (year, dref) in enumerate([(2016, "ricciardo"), (2008, "kubica"), (1994, "damon_hill"), (2013, "grosjean"),
                                      (2001, "coulthard")]):
        did = next(k for k, d in g.e.drivers.items() if d["driverRef"] == dref)
        last = g.e.held(year)[-1]
        row = next(x for x in g.e.dstand[last["raceId"]] if x["driverId"] == did)
        q = rng.choice([f"where did {g.dq(did, rng)} finish in the {year} championship", f"{g.dq(did, rng)} final standing {year}?",
                        f"what place was {g.dq(did, rng)} in the {year} season standings"])
        out.append(rec(f"h3-c6-final-{i}", 6, q, [pos_of(g.n.driver_re(did), row["position"])], [],
                       f"driver_standings.csv driverId={did} after the last race of {year}"))
    return out


# ---- class 7: history aggregates ----------------------------------------------------------------

def _did(g: H3, ref: str) -> int:
    return next(k for k, d in g.e.drivers.items() if d["driverRef"] == ref)


def _wins(g: H3, did: int, year: int | None = None, circuit: int | None = None) -> list[Rec]:
    return [r for rid, rows in g.e.results.items() for r in [g.e.races[rid]]
            if (year is None or r["year"] == year) and (circuit is None or r["circuitId"] == circuit)
            and any(x["position"] == 1 and x["driverId"] == did for x in rows)]


def c7(g: H3) -> list[Rec]:
    rng = g.rng("c7")
    out: list[Rec] = []
    for i, ref in enumerate(["hakkinen", "button", "webber", "massa", "piquet", "mansell", "barrichello"]):
        did = _did(g, ref)
        n = len(_wins(g, did))
        q = rng.choice([f"how many gp wins does {g.dq(did, rng)} have", f"{g.dq(did, rng)} career wins?",
                        f"how many times did {g.dq(did, rng)} win a race", f"total wins {g.dq(did, rng)}"])
        out.append(rec(f"h3-c7-career-{i}", 7, q, [count_re(n, "(?:win|victor|race)")], [], f"results.csv position=1 count driverId={did}"))
    champs = {}
    for y in sorted(g.e.by_year):
        held = g.e.held(y)
        if held and held[-1]["raceId"] in g.e.dstand and y < g.latest_year:
            champs[y] = g.e.dstand[held[-1]["raceId"]][0]["driverId"]
    for i, y in enumerate(rng.sample(sorted(y for y in champs if y >= 1955), 7)):
        q = rng.choice([f"wdc {g.yw(y, rng)}?", f"who won the title in the {y} season", f"{y} world champ",
                        f"who was champion in {g.yw(y, rng)}"])
        out.append(rec(f"h3-c7-champ-{i}", 7, q, [g.n.driver_re(champs[y])], [], f"driver_standings.csv position=1 after last race of {y}"))
    for i, y in enumerate(rng.sample(sorted(y for y in champs if y >= 1960), 4)):
        last = g.e.held(y)[-1]
        cid = g.e.cstand[last["raceId"]][0]["constructorId"]
        q = rng.choice([f"wcc {g.yw(y, rng)}", f"who won the constructors in {y}", f"constructors champions the {y} season?"])
        out.append(rec(f"h3-c7-wcc-{i}", 7, q, [g.n.team_re(cid)], [], f"constructor_standings.csv position=1 after last race of {y}"))
    # comparatives in a season
    for i, (y, a, b) in enumerate([(2021, "hamilton", "max_verstappen"), (2012, "alonso", "vettel"),
                                   (1989, "senna", "prost"), (2006, "alonso", "michael_schumacher")]):
        da, db = _did(g, a), _did(g, b)
        na, nb = len(_wins(g, da, y)), len(_wins(g, db, y))
        if na == nb:
            continue
        more, nm = (da, na) if na > nb else (db, nb)
        q = rng.choice([f"did {g.dq(da, rng)} or {g.dq(db, rng)} win more races in {y}",
                        f"who won more in the {y} season, {g.dq(da, rng)} or {g.dq(db, rng)}"])
        out.append(rec(f"h3-c7-morewins-{i}", 7, q, [near(g.n.driver_re(more), count_re(nm, "(?:win|race|victor)"), 80)], [],
                       f"results.csv position=1 counts {y}: {da}={na} {db}={nb}"))
    # how many times at a circuit
    for i, (ref, cref) in enumerate([("senna", "monaco"), ("michael_schumacher", "magny_cours"), ("hamilton", "silverstone"),
                                     ("prost", "ricard")]):
        did = _did(g, ref)
        cid = next(k for k, c in g.e.circuits.items() if c["circuitRef"] == cref)
        n = len(_wins(g, did, circuit=cid))
        place = {"magny_cours": "magny cours", "ricard": "paul ricard"}.get(cref, cref)
        q = rng.choice([f"how many times did {g.dq(did, rng)} win at {place}", f"{g.dq(did, rng)} wins at {place}?"])
        out.append(rec(f"h3-c7-circuit-{i}", 7, q, [count_re(n, "(?:win|time|victor)")], [], f"results.csv position=1 driverId={did} circuitId={cid}"))
    # first / last win
    for i, (ref, which) in enumerate([("button", "first"), ("raikkonen", "last"), ("rosberg", "first"), ("massa", "last"),
                                      ("ricciardo", "first")]):
        did = _did(g, ref)
        ws = sorted(_wins(g, did), key=lambda r: (r["year"], r["round"]))
        r = ws[0] if which == "first" else ws[-1]
        q = rng.choice([f"when was {g.dq(did, rng, possessive=True)} {which} win", f"{g.dq(did, rng, possessive=True)} {which} ever win?",
                        f"where did {g.dq(did, rng)} get his {which} win"])
        core = r["name"].replace(" Grand Prix", "")
        out.append(rec(f"h3-c7-{which}win-{i}", 7, q, [near(re.escape(core), str(r["year"]), 60)], [],
                       f"results.csv {which} position=1 driverId={did}: {g.race_label(r)}"))
    return out


# ---- class 8: schedule --------------------------------------------------------------------------

def c8(g: H3) -> list[Rec]:
    rng = g.rng("c8")
    out: list[Rec] = []
    for i, race in enumerate(g.races(rng, 7, since=1970)):
        n = race["round"]
        q = rng.choice([f"what round was {g.rq(race, rng)}", f"{g.rq(race, rng, terse=True)} round number?",
                        f"which round of the {race['year']} season was the {race['name'].replace(' Grand Prix', '').lower()} gp"])
        out.append(rec(f"h3-c8-round-{i}", 8, q, [rf"\bround\s*{n}\b|\b{n}(?:st|nd|rd|th)\b[^\n]{{0,20}}round|\bR{n}\b"], [],
                       f"races.csv round of {g.race_label(race)}"))
    for i, race in enumerate(g.races(rng, 7, since=1985)):
        q = rng.choice([f"when was {g.rq(race, rng)}", f"date of {g.rq(race, rng)}?", f"{g.rq(race, rng, terse=True)} what date was it"])
        out.append(rec(f"h3-c8-date-{i}", 8, q, [date_re(race["date"])], [], f"races.csv date of {g.race_label(race)}"))
    years = rng.sample(range(1975, 2025), 10)
    for i, y in enumerate(years[:5]):
        held = g.e.held(y)
        which = "first" if i % 2 == 0 else "last"
        r = held[0] if which == "first" else held[-1]
        core = r["name"].replace(" Grand Prix", "")
        q = rng.choice([f"{which} race of {y}?", f"what was the {which} race of the {y} season", f"{y} {which} gp",
                        f"where was the {which} race in {g.yw(y, rng)}"])
        out.append(rec(f"h3-c8-{which}-{i}", 8, q, [re.escape(core)], [], f"races.csv round {r['round']} of {y} ({g.race_label(r)})"))
    for i, y in enumerate(years[5:]):
        n = len(g.e.held(y))
        q = rng.choice([f"how many races were there in the {y} season", f"{y} how many gps", f"number of rounds in {g.yw(y, rng)}?"])
        out.append(rec(f"h3-c8-count-{i}", 8, q, [count_re(n, "(?:race|round|grand)")], [], f"races.csv with results in {y}"))
    # was a race held
    for i, (name, y) in enumerate([("portuguese", 1996), ("turkish", 2011), ("malaysian", 2017)]):
        race = next((r for r in g.e.held(y) if r["name"].lower().startswith(name)), None)
        assert race is not None
        q = rng.choice([f"was there a {name} gp in {y}", f"was there a {RACE_TYPO.get(name, name)} gp in {y}?",
                        f"did the {name} gp happen in {y}"])
        core = re.escape(race["name"].replace(" Grand Prix", ""))
        out.append(rec(f"h3-c8-held-{i}", 8, q, [r"\byes\b|round|held|" + date_re(race["date"]) + rf"|{y}[^\n]{{0,10}}{core}"],
                       [r"\bno\b|not held|wasn't held"], f"races.csv {g.race_label(race)}"))
    return out


# ---- class 9: unanswerable ------------------------------------------------------------------------

def c9(g: H3) -> list[Rec]:
    rng = g.rng("c9")
    out: list[Rec] = []
    forbid = [FORBID_WON]
    last_w = g.winner(g.last_race)
    fw = forbid + ([g.n.driver_re(last_w)] if last_w else [])
    qs = [
        ("nothere", "who won the french gp 2011? or was that not a thing", "French GP not held 2011"),
        ("nothere2", "german gp 2015 winner", "German GP not held 2015"),
        ("nothere3", "pole at the european gp in 2018?", "European GP not held 2018"),
        ("nothere4", "who won at hockenheim in 2017", "no race at Hockenheim 2017"),
        ("nothere5", "singapore 2020 podium", "Singapore not held 2020"),
        ("nothere6", "ok so who won malaysia 2019 lol", "Malaysian GP last held 2017"),
        ("nothere7", "korean gp 2016 winner?", "Korean GP held 2010-2013"),
        ("season1", "who won the 1948 season", "no championship before 1950"),
        ("season2", "wdc 2031?", "season not held"),
        ("season3", "how many races in the 1947 season", "no data 1947"),
        ("future", "who wins abu dhabi this year", "2025 Abu Dhabi GP not run at EVAL_NOW"),
        ("future2", "who's gonna win the title next year", "prediction"),
        ("future3", "las vegas 2025 result?", "2025 Las Vegas not run at EVAL_NOW"),
        ("notin1", "where did senna finish at monaco 1995", "Senna died 1994"),
        ("notin2", "hamilton result at the 2005 monaco gp", "Hamilton debuted 2007"),
        ("notin3", "how did verstappen do at silverstone 2014", "Verstappen debuted 2015"),
        ("notin4", "what did schumi qualify at spa 2013", "M. Schumacher retired 2012"),
        ("notin5", "alonso's points in 2020", "Alonso absent 2019-2020"),
        ("nodata1", "top speed at monza 2023? whos fastest through the trap", "speed trap not held"),
        ("nodata2", "what tyre pressures were they running at spa 2021", "tyre pressures not held"),
        ("nodata3", "ver throttle trace monaco 23", "telemetry not held"),
        ("nodata4", "what did lec say on the radio at monaco 2022", "team radio not held"),
        ("nodata5", "how much fuel did max start with at imola 2022", "fuel loads not held"),
        ("nodata6", "who had the most drs activations at bahrain 2022", "DRS not held"),
        ("nodata7", "what was the air temp at jeddah 2018", "no Jeddah race 2018"),
        ("nonsense1", "who won the zorblax gp 2019", "no such race"),
        ("nonsense2", "how many wins does johnny frostbeard have", "no such driver"),
        ("nonsense3", "qxz result monza 2019", "no such code"),
        ("nonsense4", "who won the glorbington grand prix last year", "no such race"),
        ("nonsense5", "flimflam team wins 2010", "no such team"),
    ]
    for key, q, src in qs:
        extra = fw if key.startswith(("nothere", "future", "nonsense")) else forbid
        out.append(rec(f"h3-c9-{key}", 9, g.wrap(q, rng, 0.25), [REFUSE], extra, src))
    return out


# ---- class 10: follow-ups -------------------------------------------------------------------------

def c10(g: H3) -> list[Rec]:
    rng = g.rng("c10")
    out: list[Rec] = []
    # win -> p2 -> pole
    for i, race in enumerate(g.races(rng, 5, since=1996, need=lambda r: g.winner(r) is not None
                                     and g.finished_at(r, 2) is not None and r["raceId"] in g.e.qualifying
                                     and r["raceId"] not in _sprint_2021(g))):
        w, p2 = g.winner(race), g.finished_at(race, 2)
        pole = g.e.qualifying[race["raceId"]][0]["driverId"]
        t = [rng.choice([f"who won {g.rq(race, rng)}", f"{g.rq(race, rng, terse=True)} winner"]),
             rng.choice(["and p2?", "who was second", "runner up?"]),
             rng.choice(["and who was on pole", "pole?", "what about quali, who got pole"])]
        out.append(rec(f"h3-c10-wp2pole-{i}", 10, t, [[g.n.driver_re(w)], [pos_of(g.n.driver_re(p2), 2)], [g.n.driver_re(pole)]],
                       [[], [], []], f"results.csv P1/P2, qualifying.csv P1 of {g.race_label(race)}"))
    # wins -> poles -> titles (career)
    for i, ref in enumerate(["vettel", "alonso", "raikkonen", "rosberg"]):
        did = _did(g, ref)
        wins = len(_wins(g, did))
        poles = sum(1 for rows in g.e.qualifying.values() for x in rows if x["driverId"] == did and x["position"] == 1)
        gridp = sum(1 for rows in g.e.results.values() for x in rows if x["driverId"] == did and x["grid"] == 1)
        t = [rng.choice([f"how many wins has {g.dq(did, rng)} got", f"{g.dq(did, rng)} wins total"]), rng.choice(["and poles?", "poles?"])]
        exp: list[list[str]] = [[count_re(wins, "(?:win|victor)")], [count_re(poles, "pole")] if poles == gridp else []]
        if ref != "rosberg":
            t.append(rng.choice(["how many titles tho", "and championships?"]))
            titles = sum(1 for y in range(1950, g.latest_year) if g.e.held(y) and g.e.held(y)[-1]["raceId"] in g.e.dstand
                         and g.e.dstand[g.e.held(y)[-1]["raceId"]][0]["driverId"] == did)
            exp.append([count_re(titles, "(?:title|championship|wdc)")])
        out.append(rec(f"h3-c10-career-{i}", 10, t, exp, [[] for _ in t], f"results.csv / qualifying.csv / driver_standings.csv driverId={did}"))
    # X result -> what about Y
    for i, race in enumerate(g.races(rng, 5, since=1985, need=lambda r: len([x for x in g.results(r) if x["position"]]) >= 8)):
        rows = [x for x in g.results(race) if x["position"] and x["position"] <= 10]
        a, b = rng.sample(rows, 2)
        t = [rng.choice([f"{g.dq(a['driverId'], rng)} {g.rq(race, rng, terse=True)}?", f"how did {g.dq(a['driverId'], rng)} get on at {g.rq(race, rng)}"]),
             rng.choice([f"what about {g.dq(b['driverId'], rng)}", f"and {g.dq(b['driverId'], rng)}?", f"{g.dq(b['driverId'], rng)}?"])]
        out.append(rec(f"h3-c10-other-{i}", 10, t, [[pos_of(g.n.driver_re(a["driverId"]), a["position"])],
                                                    [pos_of(g.n.driver_re(b["driverId"]), b["position"])]], [[], []],
                       f"results.csv positions of {a['driverId']},{b['driverId']} {g.race_label(race)}"))
    # winner -> year before (same GP)
    for i, race in enumerate(g.races(rng, 5, since=1970, need=lambda r: g.winner(r) is not None)):
        prev = next((r for r in g.e.held(race["year"] - 1) if r["name"] == race["name"]), None)
        if prev is None or g.winner(prev) is None:
            continue
        t = [rng.choice([f"who won {g.rq(race, rng)}", f"winner {g.rq(race, rng, terse=True)}?"]),
             rng.choice(["and the year before?", "what about the previous year", f"and {race['year'] - 1}?"])]
        out.append(rec(f"h3-c10-prev-{i}", 10, t, [[g.n.driver_re(g.winner(race))], [g.n.driver_re(g.winner(prev))]], [[], []],
                       f"results.csv position=1 of {g.race_label(race)} and {g.race_label(prev)}"))
    # standings leader -> constructors
    for i, race in enumerate(g.races(rng, 4, since=1985, need=lambda r: r["raceId"] in g.e.dstand and r["raceId"] in g.e.cstand and r["round"] > 3)):
        d = g.e.dstand[race["raceId"]][0]["driverId"]
        c = g.e.cstand[race["raceId"]][0]["constructorId"]
        t = [rng.choice([f"championship leader after {g.rq(race, rng)}", f"who led the wdc after {g.rq(race, rng, terse=True)}"]),
             rng.choice(["and the constructors?", "wcc?", "what about teams"])]
        out.append(rec(f"h3-c10-stand-{i}", 10, t, [[g.n.driver_re(d)], [g.n.team_re(c)]], [[], []],
                       f"driver/constructor_standings.csv position=1 after {g.race_label(race)}"))
    # champion -> runner up / season wins
    for i, y in enumerate([1976, 1997, 2008]):
        last = g.e.held(y)[-1]
        champ = g.e.dstand[last["raceId"]][0]["driverId"]
        second = g.e.dstand[last["raceId"]][1]["driverId"]
        t = [rng.choice([f"who won the {y} title", f"wdc {g.yw(y, rng)}"]), rng.choice(["and who was runner up", "who came second in the championship"]),
             "how many races did he win that year"]
        out.append(rec(f"h3-c10-champ-{i}", 10, t, [[g.n.driver_re(champ)], [g.n.driver_re(second)],
                                                    [count_re(len(_wins(g, second, y)), "(?:win|race|victor)")]], [[], [], []],
                       f"driver_standings.csv positions 1-2 after {g.race_label(last)}; wins of {second} in {y}"))
    # lap races: laps led -> who led most
    for i, (y, rnd) in enumerate([(2021, 14), (2023, 6)]):
        lr = g.laps.get((y, rnd))
        if lr is None:
            continue
        race = g.e.race(y, rnd)
        led = Counter(c for c, laps in lr.laps.items() for n, x in laps.items() if x["pos"] == 1)
        (c1_, n1), = led.most_common(1)
        w = g.winner(race)
        t = [f"who won {g.rq(race, rng)}", "how many laps did he lead", "anyone else lead?"]
        others = [g.n.driver_re(g.code_to_id[c]) for c in led if c != c1_ and g.code_to_id.get(c)]
        out.append(rec(f"h3-c10-laps-{i}", 10, t, [[g.n.driver_re(w)], [count_re(n1, "lap")], others or [r"\bno\b|only|nobody|every"]],
                       [[], [], []], f"results.csv P1 and FastF1 Position==1 laps {y}/{rnd}"))
    # season points -> compare
    for i, (y, a, b) in enumerate([(2018, "vettel", "hamilton"), (2003, "raikkonen", "michael_schumacher")]):
        last = g.e.held(y)[-1]
        da, db = _did(g, a), _did(g, b)
        pa = next(x for x in g.e.dstand[last["raceId"]] if x["driverId"] == da)["points"]
        pb = next(x for x in g.e.dstand[last["raceId"]] if x["driverId"] == db)["points"]
        t = [f"how many points did {g.dq(da, rng)} score in the {y} season", f"and {g.dq(db, rng)}?"]
        out.append(rec(f"h3-c10-pts-{i}", 10, t, [[count_re(pa, "(?:points|pts)")], [count_re(pb, "(?:points|pts)")]], [[], []],
                       f"driver_standings.csv after last race of {y}"))
    # pole -> and who won? -> by how much
    for i, race in enumerate(g.races(rng, 3, since=2000, need=lambda r: r["raceId"] in g.e.qualifying and r["raceId"] not in _sprint_2021(g)
                                     and g.winner(r) is not None and g.finished_at(r, 2) is not None
                                     and bool(g.results(r)[1]["milliseconds"]) and bool(g.results(r)[0]["milliseconds"]))):
        pole = g.e.qualifying[race["raceId"]][0]["driverId"]
        a, b = g.results(race)[:2]
        t = [rng.choice([f"pole {g.rq(race, rng, terse=True)}", f"who was on pole for {g.rq(race, rng)}"]),
             rng.choice(["and who won?", "who won the race tho"]), rng.choice(["by how much", "whats the margin"])]
        out.append(rec(f"h3-c10-polewin-{i}", 10, t, [[g.n.driver_re(pole)], [g.n.driver_re(a["driverId"])],
                                                      [secs_re((b["milliseconds"] - a["milliseconds"]) / 1000)]], [[], [], []],
                       f"qualifying.csv P1, results.csv P1/P2 milliseconds of {g.race_label(race)}"))
    # schedule: first race of a season -> and the last? -> how many in total
    for i, y in enumerate([1983, 2004, 2014]):
        held = g.e.held(y)
        t = [rng.choice([f"first race of {y}?", f"what was the first gp of the {y} season"]), rng.choice(["and the last?", "and the final one"]),
             rng.choice(["how many races in total", "how many rounds was that"])]
        out.append(rec(f"h3-c10-sched-{i}", 10, t, [[re.escape(held[0]["name"].replace(" Grand Prix", ""))],
                                                    [re.escape(held[-1]["name"].replace(" Grand Prix", ""))],
                                                    [count_re(len(held), "(?:race|round|grand)")]], [[], [], []],
                       f"races.csv rounds 1 and {len(held)} of {y}"))
    # date -> which round
    for i, race in enumerate(g.races(rng, 2, since=1990)):
        t = [f"when was {g.rq(race, rng)}", rng.choice(["what round was that", "and which round"])]
        out.append(rec(f"h3-c10-date-{i}", 10, t, [[date_re(race["date"])], [rf"\bround\s*{race['round']}\b|\b{race['round']}(?:st|nd|rd|th)\b[^\n]{{0,20}}round"]],
                       [[], []], f"races.csv date and round of {g.race_label(race)}"))
    # team of a driver at a race -> who was his teammate
    for i, race in enumerate(g.races(rng, 3, since=1990)):
        row = g.results(race)[0]
        mates = [x["driverId"] for x in g.results(race) if x["constructorId"] == row["constructorId"] and x["driverId"] != row["driverId"]]
        if len(mates) != 1:
            continue
        t = [f"who was {g.dq(row['driverId'], rng)} driving for at {g.rq(race, rng)}", rng.choice(["and his teammate?", "who was the other driver there"]),
             "where did he finish"]
        mrow = g.entry(race, mates[0])
        exp3 = [pos_of(g.n.driver_re(mates[0]), mrow["position"])] if mrow and mrow["position"] else [r"retir|dnf|did not finish|didn't finish|" + re.escape(g.status(mrow).lower()) if mrow else REFUSE]
        out.append(rec(f"h3-c10-team-{i}", 10, t, [[g.n.team_re(row["constructorId"])], [g.n.driver_re(mates[0])], exp3], [[], [], []],
                       f"results.csv constructorId of P1 and his team-mate in {g.race_label(race)}"))
    # lap race: who led lap N -> and lap M?
    for i, (y, rnd) in enumerate([(2019, 5), (2022, 4)]):
        lr = g.laps.get((y, rnd))
        if lr is None:
            continue
        race = g.e.race(y, rnd)
        laps = sorted(rng.sample(range(2, lr.total_laps - 1), 2))
        lead = [[c for c, ls in lr.laps.items() if ls.get(n, {}).get("pos") == 1] for n in laps]
        if any(len(x) != 1 for x in lead):
            continue
        t = [f"who was leading lap {laps[0]} of {g.rq(race, rng)}", f"and lap {laps[1]}?"]
        out.append(rec(f"h3-c10-leadlap-{i}", 10, t, [[g.n.driver_re(g.code_to_id[x[0]])] for x in lead], [[], []],
                       f"FastF1 Position==1 on laps {laps} {y}/{rnd}"))
    # retirements -> why
    for i, race in enumerate(g.races(rng, 3, since=2000, need=lambda r: sum(1 for x in g.results(r) if x["position"] is None) == 1)):
        row = next(x for x in g.results(race) if x["position"] is None)
        st = g.status(row)
        t = [f"who dnf'd at {g.rq(race, rng)}", rng.choice(["why?", "what happened to him", "and on which lap"])]
        exp2 = [re.escape(st.lower()) if st != "Retired" else "retir"] if "lap" not in t[1] else [rf"\blap\s*{row['laps'] + 1}\b|\b{row['laps']}\s*laps|lap\s*{row['laps']}\b"]
        out.append(rec(f"h3-c10-dnf-{i}", 10, t, [[g.n.driver_re(row["driverId"])], exp2], [[], []],
                       f"results.csv position NULL driverId={row['driverId']} status={st} laps={row['laps']} {g.race_label(race)}"))
    # unanswerable follow-up
    t = ["who won monaco 2019", "and what was his top speed"]
    r19 = next(r for r in g.e.held(2019) if r["name"] == "Monaco Grand Prix")
    out.append(rec("h3-c10-nodata", 10, t, [[g.n.driver_re(g.winner(r19))], [REFUSE]], [[], [r"\d{3}(?:\.\d)? ?km/h"]],
                   f"results.csv P1 {g.race_label(r19)}; speed not held"))
    return out


def generate(seed: int = SEED, shared: Path = SHARED) -> list[Rec]:
    e = load_ergast(shared / "ergast-csv")
    laps = load_fastf1(shared / "fastf1-cache" / "sessions-2019-2023")
    g = H3(e, laps, seed, taken=taken_races())
    out: list[Rec] = []
    for f in (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10):
        out += f(g)
    wraps = [re.compile("^" + re.escape(fan(w)).replace(re.escape("{q}"), ".+") + "$") for w in WRAP]
    for r in out:
        _italy_clarify(g, r)
        q = r.get("question")
        if q is not None:
            chatter = any(w.match(q) for w in wraps)
            r["tags"] = ["chatter"] if chatter else (["terse"] if len(q.split()) <= 5 else ["plain"])
    ids = [r["id"] for r in out]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    return out


def _italy_clarify(g: H3, r: Rec) -> None:
    """"italy '95" is two races (San Marino at Imola, Italian at Monza): asking which is right too."""
    q = r.get("question") or " ".join(r.get("turns", []))
    m = re.search(r"\b(?:19|20)(\d\d)\b|'(\d\d)\b|\b(\d\d)\b", q)
    if not re.search(r"\bitaly\b|\bthe italian race\b", q) or not m or "turns" in r:
        return
    yy = int(next(x for x in m.groups() if x))
    year = int(m.group(0)) if len(m.group(0)) == 4 else (2000 + yy if yy < 50 else 1900 + yy)
    if sum(1 for x in g.e.held(year) if g.e.circuits[x["circuitId"]]["country"] == "Italy") > 1:
        both = "".join(f"(?=[\\s\\S]*(?:{e}))" for e in r["expect"])
        r["expect"] = [rf"^{both}|which one|more than one race"]


def main() -> None:
    cli(__doc__, OUT, generate, SEED)


if __name__ == "__main__":
    main()
