"""The fourth held-out answer set (bench/answers/holdout4.jsonl), written blind to the parser.

    python -m bench.answers.holdout4 [--seed 4242] [--out bench/answers/holdout4.jsonl]

Phrasings are this module's own (hurried Discord chatter: terse "ver monza 23?", long rambling
lines, misspelt names, nicknames, "'04", wdc/wcc/dnf/fl/quali/p1-p20, team questions, 2-3 turn
follow-ups of every kind). Expected facts come from the RAW data only (raw.py: the Ergast CSV and
the FastF1 caches); the generator's plumbing (generate.Gen) is reused for names and picks, never
its question templates. Seeded: the same data gives the same file byte for byte.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.answers.generate import SHARED, Gen, check_records, cli, date_re, rec
from bench.answers.phrasing import FORBID_WON, REFUSE, count_re, pos_of, secs_re, time_re
from bench.answers.raw import load_ergast, load_fastf1

OUT = Path(__file__).resolve().parent / "holdout4.jsonl"
SEED = 4242
Rec = dict[str, Any]

# Our own fan names (nicknames, short forms, misspellings), by Ergast driverRef.
NICKS: dict[str, list[str]] = {
    "max_verstappen": ["ver", "maxy", "verstappen", "verstappan", "max"],
    "hamilton": ["ham", "hammy", "lewis", "hamilton", "lewis ham"],
    "leclerc": ["lec", "charles", "leclerc", "leclarc"],
    "vettel": ["seb", "vettel", "vet", "vettle"],
    "alonso": ["alo", "nando", "alonso", "fernando alonso"],
    "raikkonen": ["kimi", "raikkonen", "kimi r", "raikonnen"],
    "bottas": ["bottas", "val", "bot", "valteri"],
    "ricciardo": ["danny ric", "ricciardo", "daniel ric", "riccardo"],
    "norris": ["lando", "nor", "norris"],
    "perez": ["checo", "perez", "per"],
    "rosberg": ["nico rosberg", "rosberg", "britney"],
    "button": ["jb", "button", "jenson button"],
    "massa": ["massa", "felipe"],
    "webber": ["webber", "webbo"],
    "sainz": ["sainz", "carlos", "chilli"],
    "russell": ["russell", "george", "rus"],
    "piastri": ["oscar", "piastri", "pia"],
    "michael_schumacher": ["michael schumacher", "schumi", "msc"],
    "senna": ["senna", "ayrton"],
    "prost": ["prost", "the professor"],
    "mansell": ["mansell", "nigel mansell", "our nige"],
    "hakkinen": ["hakkinen", "mika hakkinen", "hakinen"],
    "coulthard": ["coulthard", "dc"],
    "barrichello": ["barrichello", "rubens", "rubinho"],
    "gasly": ["gasly", "pierre"],
    "ocon": ["ocon", "esteban"],
    "stroll": ["stroll", "lance"],
    "hulkenberg": ["hulk", "hulkenberg", "hulkenburg"],
}

TEAM_NICKS: dict[str, list[str]] = {
    "red_bull": ["red bull", "rbr", "redbull", "bulls"],  # not "rb": RB F1 Team is a constructor
    "mclaren": ["mclaren", "macca", "papaya", "mclaran"],
    "mercedes": ["mercedes", "merc", "mercs"],
    "ferrari": ["ferrari", "ferarri", "the scuderia", "sf"],
    "williams": ["williams", "willams"],
    "renault": ["renault"],
    "lotus_f1": ["lotus"],
    "brabham": ["brabham"],
    "tyrrell": ["tyrrell", "tyrell"],
    "benetton": ["benetton", "beneton"],
}

# Hurried chatter around a question.
LEAD = ["ok so ", "quick one ", "lads ", "random q but ", "sorry if dumb q, ", "bit of a pub quiz q: ",
        "settle this: ", "", "", "", "hey bot ", "yo "]
TAIL = [" lol", "?", "??", "", "", " thx", " cheers", " pls", " anyone?", " (asking for a friend)"]


class H4:
    """Helpers of this set: our names, race names with typos, year styles."""

    def __init__(self, g: Gen) -> None:
        self.g = g
        self.e = g.e

    def rng(self, kind: str) -> random.Random:
        return self.g.rng("h4:" + kind)

    def who(self, did: int, rng: random.Random) -> str:
        d = self.e.drivers[did]
        opts = NICKS.get(d["driverRef"])
        if opts and not self.g.n._clash(did, "surname"):  # noqa: SLF001 - plumbing reused
            return rng.choice(opts)
        if self.g.n._clash(did, "surname"):  # noqa: SLF001
            return f"{d['forename']} {d['surname']}".lower()
        return rng.choice([d["surname"].lower(), f"{d['forename']} {d['surname']}".lower()])

    def team(self, cid: int, rng: random.Random) -> str:
        c = self.e.constructors[cid]
        return rng.choice(TEAM_NICKS.get(c["constructorRef"]) or [c["name"].lower()])

    def season(self, year: int, rng: random.Random) -> str:
        """A season on its own: never a bare two-digit number."""
        return rng.choice([str(year), f"'{year % 100:02d}", f"the {year} season", str(year)])

    def yr(self, year: int, rng: random.Random) -> str:
        if year >= 2000:
            return rng.choice([str(year), f"'{year % 100:02d}", f"{year % 100:02d}", str(year)])
        return rng.choice([str(year), str(year), f"'{year % 100:02d}"])

    def place(self, race: Rec, rng: random.Random) -> str:
        alias = rng.choice(self.g.race_aliases(race))
        return alias

    def race(self, race: Rec, rng: random.Random) -> str:
        """Race + season in one of our word orders."""
        a = self.place(race, rng)
        y = self.yr(race["year"], rng)
        bare = a.removeprefix("the ")
        forms = [f"{bare} {y}", f"{y} {bare}", f"{bare} in {y}", f"{bare} back in {race['year']}"]
        if bare.endswith(("gp", "grand prix")):
            forms.append(f"the {race['year']} {bare}")
        return rng.choice(forms)

    def chat(self, q: str, rng: random.Random) -> str:
        return (rng.choice(LEAD) + q + rng.choice(TAIL)).strip()


def _modern(g: Gen, r: Rec) -> bool:
    return r["raceId"] in g.e.results


def class1(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c1")
    races = [r for r in g.pick_races(rng, 40, since=1960) if g.winner(r)]
    forms = ["{r} winner{t}", "who took the chequered flag first at {r}", "in {y} at {p} who won",
             "{r} - who got the win", "who won {r} i forgot", "{r} who won it",
             "remind me who won {r}, was it a good race", "winner {r}"]
    for i, race in enumerate(races[:11]):
        w = g.winner(race)
        f = forms[i % len(forms)]
        q = f.format(r=h.race(race, rng), y=h.yr(race["year"], rng), p=h.place(race, rng).removeprefix("the "),
                     t=rng.choice(["?", "", " pls"]))
        out.append(rec(f"h4c1-win-{i:02d}", 1, h.chat(q, rng), [g.n.driver_re(w)],
                       g.not_in(race, g.confusers(race)),
                       f"results.csv position=1 of {g.race_label(race)}"))
    # terse "driver race?" -> finishing position
    fforms = ["{d} {r}?", "how'd {d} get on at {r}", "where did {d} end up in {r}", "{d} result {r}",
              "what did {d} finish at {r}", "{dp} finishing position at {r}"]
    k = 0
    for race in races[11:]:
        rows = [x for x in g.results(race) if x["position"] and 2 <= x["position"] <= 12]
        if not rows:
            continue
        row = rng.choice(rows)
        did = row["driverId"]
        if g.n._clash(did, "surname") and rng.random() < 0.5:  # noqa: SLF001
            continue
        d = h.who(did, rng)
        f = fforms[k % len(fforms)]
        q = f.format(d=d, dp=d + ("'" if d.endswith("s") else "'s"), r=h.race(race, rng))
        out.append(rec(f"h4c1-pos-{k:02d}", 1, q, [pos_of(g.n.driver_re(did), row["position"])], [],
                       f"results.csv {g.race_label(race)} driverId={did} position={row['position']}"))
        k += 1
        if k == 7:
            break
    # team wins in a season
    rng = h.rng("c1t")
    for j, (ref, year) in enumerate([("ferrari", 2004), ("mclaren", 1988), ("williams", 1996), ("red_bull", 2013)]):
        cid = next(i for i, c in g.e.constructors.items() if c["constructorRef"] == ref)
        n = sum(1 for r in g.e.held(year) for x in g.results(r) if x["constructorId"] == cid and x["position"] == 1)
        q = rng.choice(["how many races did {t} win in {y}", "{t} wins in {y}?", "{y} {t} how many wins"]).format(
            t=h.team(cid, rng), y=h.yr(year, rng))
        out.append(rec(f"h4c1-tw-{j}", 1, q, [count_re(n, "(?:wins?|victor|races?)")], [],
                       f"results.csv position=1 constructorId={cid} year={year}: {n}"))
    return out


def class2(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c2")
    races = g.pick_races(rng, 30, since=1970)
    pforms = ["who was p{n} at {r}", "{r} p{n}?", "who came {o} in {r}", "{r} who finished {o}",
              "who finished in {o} place at {r}"]
    from bench.answers.phrasing import ORD_WORDS, ordinal
    for i, race in enumerate(races[:8]):
        n = rng.randint(2, 10)
        did = g.finished_at(race, n)
        if did is None:
            continue
        q = pforms[i % len(pforms)].format(n=n, o=rng.choice([ordinal(n), ORD_WORDS[n]]), r=h.race(race, rng))
        out.append(rec(f"h4c2-pn-{i:02d}", 2, h.chat(q, rng), [g.n.driver_re(did)], [],
                       f"results.csv position={n} of {g.race_label(race)}"))
    podforms = ["{r} podium", "who was on the podium at {r}", "top 3 {r}?", "who made up the rostrum in {r}"]
    for i, race in enumerate(races[8:12]):
        ids = [g.finished_at(race, p) for p in (1, 2, 3)]
        if None in ids:
            continue
        q = podforms[i % len(podforms)].format(r=h.race(race, rng))
        out.append(rec(f"h4c2-pod-{i}", 2, h.chat(q, rng), [g.n.driver_re(d) for d in ids], [],
                       f"results.csv positions 1-3 of {g.race_label(race)}"))
    # who did X drive for at race
    dforms = ["who was {d} driving for at {r}", "{dp} team at {r}?", "what car was {d} in at {r}"]
    for i, race in enumerate(races[13:17]):
        row = rng.choice([x for x in g.results(race) if x["position"]] or g.results(race))
        did = row["driverId"]
        q = dforms[i % len(dforms)].format(d=h.who(did, rng), dp=h.who(did, rng) + "'s", r=h.race(race, rng))
        out.append(rec(f"h4c2-team-{i}", 2, q, [g.n.team_re(row["constructorId"])], [],
                       f"results.csv {g.race_label(race)} driverId={did} constructorId={row['constructorId']}"))
    # team line-ups (exactly two drivers that season)
    tforms = ["{t} drivers {y}", "who drove for {t} in the {Y} season", "{t} lineup {y}?", "who were {t}'s drivers in {y}"]
    k = 0
    for ref, year in [("mclaren", 1998), ("ferrari", 2008), ("red_bull", 2010), ("williams", 1992),
                      ("mercedes", 2014), ("benetton", 1995)]:
        cid = next(i for i, c in g.e.constructors.items() if c["constructorRef"] == ref)
        ds = sorted({x["driverId"] for r in g.e.held(year) for x in g.results(r) if x["constructorId"] == cid})
        if len(ds) != 2:
            continue
        q = tforms[k % len(tforms)].format(t=h.team(cid, rng), y=h.yr(year, rng), Y=year)
        out.append(rec(f"h4c2-line-{k}", 2, q, [g.n.driver_re(d) for d in ds], [],
                       f"results.csv constructorId={cid} year={year}: drivers {ds}"))
        k += 1
    return out


def class3(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c3")
    races = g.pick_races(rng, 60, since=1985)
    k = 0
    for race in races:
        rows = [x for x in g.results(race) if x["position"] is None and g.status(x) not in ("", "Did not start")
                and "Lap" not in g.status(x) and g.status(x) not in ("Disqualified", "Withdrew", "Not classified")]
        if not rows or k >= 7:
            continue
        row = rng.choice(rows)
        st = g.status(row)
        q = rng.choice(["why did {d} dnf at {r}", "what happened to {d} at {r}, did he retire",
                        "{d} {r} dnf reason?", "{dp} retirement at {r} what was it"]).format(
            d=h.who(row["driverId"], rng), dp=h.who(row["driverId"], rng) + "'s", r=h.race(race, rng))
        out.append(rec(f"h4c3-dnf-{k}", 3, q, [re.escape(st.lower()).replace(r"\ ", r"\s*")], [],
                       f"results.csv {g.race_label(race)} driverId={row['driverId']} status={st}"))
        k += 1
    # winning margin (P1 to P2, both with race time)
    k = 0
    for race in races[20:]:
        rows = g.results(race)
        if len(rows) < 2 or rows[0]["position"] != 1 or rows[1]["position"] != 2:
            continue
        a, b = rows[0]["milliseconds"], rows[1]["milliseconds"]
        if not a or not b or k >= 5:
            continue
        gap = (b - a) / 1000
        q = rng.choice(["how much did {w} win {r} by", "{r} winning margin", "gap between p1 and p2 at {r}?",
                        "by how many seconds did {w} beat {s} at {r}"]).format(
            w=h.who(rows[0]["driverId"], rng), s=h.who(rows[1]["driverId"], rng), r=h.race(race, rng))
        out.append(rec(f"h4c3-gap-{k}", 3, q, [secs_re(gap)], [],
                       f"results.csv milliseconds P2-P1 of {g.race_label(race)}: {gap:.3f}"))
        k += 1
    # places gained: grid -> finish
    k = 0
    for race in races[35:]:
        rows = [x for x in g.results(race) if x["position"] and x["grid"] and x["grid"] - x["position"] >= 4]
        if not rows or k >= 5:
            continue
        row = rng.choice(rows)
        n = row["grid"] - row["position"]
        q = rng.choice(["how many places did {d} make up at {r}", "{d} positions gained {r}?",
                        "{d} started p{gr} at {r}, where did he finish"]).format(
            d=h.who(row["driverId"], rng), r=h.race(race, rng), gr=row["grid"])
        exp = (count_re(n, "(?:places?|positions?|spots?)") if "started" not in q
               else pos_of(g.n.driver_re(row["driverId"]), row["position"]))
        out.append(rec(f"h4c3-gain-{k}", 3, q, [exp], [],
                       f"results.csv {g.race_label(race)} driverId={row['driverId']} grid={row['grid']} "
                       f"position={row['position']}"))
        k += 1
    # fastest pit stop
    k = 0
    prace = [r for r in g.pick_races(h.rng("c3p"), 20, since=2012) if r["raceId"] in g.e.pits]
    for race in prace[:4]:
        stops = [p for p in g.e.pits[race["raceId"]] if p["milliseconds"]]
        best = min(stops, key=lambda p: p["milliseconds"])
        if sum(1 for p in stops if p["milliseconds"] == best["milliseconds"]) > 1:
            continue
        q = rng.choice(["quickest stop at {r}?", "fastest pit stop {r}", "who had the best pitstop in {r}"]).format(
            r=h.race(race, rng))
        out.append(rec(f"h4c3-pit-{k}", 3, q, [g.n.driver_re(best["driverId"]), secs_re(best["milliseconds"] / 1000)],
                       [], f"pit_stops.csv min milliseconds of {g.race_label(race)}: {best['duration']}"))
        k += 1
    return out


def class4(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c4")
    code_of = {d["code"]: i for i, d in g.e.drivers.items() if d.get("code")}
    k = 0
    for (year, rnd), lr in sorted(g.laps.items()):
        race = g.e.race(year, rnd)
        w = g.winner(race)
        last = {c: laps[lr.total_laps]["pos"] for c, laps in lr.laps.items() if lr.total_laps in laps}
        leader = next((c for c, p in last.items() if p == 1), None)
        if leader is None or g.code_to_id.get(leader) != w:
            continue
        led = Counter(c for c, laps in lr.laps.items() for n, x in laps.items() if x["pos"] == 1)
        # laps led by the winner and by another
        cands = sorted(led)
        c = rng.choice(cands)
        kind_led = k % 2 == 0
        did = g.code_to_id[c]
        q = rng.choice(["how many laps did {d} lead at {r}", "{d} laps led {r}?", "laps in front for {d} in {r}"]).format(
            d=h.who(did, rng), r=h.race(race, rng))
        if kind_led:
            out.append(rec(f"h4c4-led-{k}", 4, q, [count_re(led[c], "laps?")], [],
                           f"FastF1 {year}/{rnd} Position==1 laps of {c}: {led[c]}"))
        n = rng.randint(3, lr.total_laps - 2)
        lead_n = [c2 for c2, laps in lr.laps.items() if laps.get(n, {}).get("pos") == 1]
        if len(lead_n) == 1 and not kind_led:
            q = rng.choice(["who was leading on lap {n} at {r}", "{r} lap {n} leader", "who was p1 on lap {n} in {r}"]).format(
                n=n, r=h.race(race, rng))
            out.append(rec(f"h4c4-lap-{k}", 4, q, [g.n.driver_re(g.code_to_id[lead_n[0]])], [],
                           f"FastF1 {year}/{rnd} lap {n} Position==1: {lead_n[0]}"))
        # a lap time on lap N
        c3 = rng.choice(sorted(lr.laps))
        m = rng.randint(5, lr.total_laps - 2)
        t = lr.laps[c3].get(m, {}).get("time_s")
        if t and c3 in g.code_to_id and k % 3 == 0:
            q = rng.choice(["{d} lap {m} time at {r}", "what did {d} do on lap {m} in {r}, laptime wise",
                            "{dp} lap {m} {r}?"]).format(d=h.who(g.code_to_id[c3], rng),
                                                        dp=h.who(g.code_to_id[c3], rng) + "'s", m=m, r=h.race(race, rng))
            out.append(rec(f"h4c4-lt-{k}", 4, q, [time_re(t)], [], f"FastF1 {year}/{rnd} {c3} lap {m} LapTime"))
        # stops where FastF1 stints agree with pit_stops.csv
        for c4 in rng.sample(sorted(lr.laps), k=min(4, len(lr.laps))):
            did4 = g.code_to_id.get(c4)
            stints = {x["stint"] for x in lr.laps[c4].values() if x["stint"]}
            pits = [p for p in g.e.pits.get(race["raceId"], []) if p["driverId"] == did4]
            if k % 2 == 1 and did4 and stints and len(stints) - 1 == len(pits) and len(pits) >= 1:
                q = rng.choice(["how many stops did {d} make at {r}", "{d} {r} pitstops?", "{d} 1 stop or 2 stop at {r}"]).format(
                    d=h.who(did4, rng), r=h.race(race, rng))
                words = {1: "one", 2: "two", 3: "three", 4: "four"}
                # racing stops only: red-flag pit-lane visits (2021 Imola: 24 min) are not stops
                n4 = sum(1 for p in pits if p["milliseconds"] and p["milliseconds"] < 60000)
                exp = rf"{count_re(n4, '(?:stops?|pit)')}|\b{words.get(n4, n4)}[- ]stop|\b{n4}[- ]stop"
                out.append(rec(f"h4c4-stop-{k}", 4, q, [exp], [],
                               f"FastF1 {year}/{rnd} {c4} stints={len(stints)}; pit_stops.csv stops={n4}"))
                break
        k += 1
    # who led the most laps
    for (year, rnd), lr in sorted(g.laps.items()):
        race = g.e.race(year, rnd)
        led = Counter(c for c, laps in lr.laps.items() for n, x in laps.items() if x["pos"] == 1)
        top = led.most_common(2)
        if (year, rnd) == (2020, 1) or len(top) < 1 or (len(top) > 1 and top[0][1] == top[1][1]):
            continue
        if g.code_to_id.get(top[0][0]) is None or rng.random() < 0.5:
            continue
        q = rng.choice(["who led most laps at {r}", "{r} most laps in the lead?"]).format(r=h.race(race, rng))
        out.append(rec(f"h4c4-most-{year}-{rnd}", 4, q, [g.n.driver_re(g.code_to_id[top[0][0]])], [],
                       f"FastF1 {year}/{rnd} most Position==1 laps: {top[0]}"))
    del code_of
    return out


def class5(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c5")

    def pole_ok(r: Rec) -> bool:
        q = g.e.qualifying.get(r["raceId"])
        if not q or r["raceId"] in g.e.sprints:
            return False
        grid1 = [x["driverId"] for x in g.results(r) if x["grid"] == 1]
        return q[0]["position"] == 1 and grid1 == [q[0]["driverId"]]

    races = g.pick_races(rng, 30, since=2003, need=pole_ok)
    forms = ["pole {r}", "who was on pole at {r}", "{r} quali p1?", "who qualified fastest {r}",
             "who stuck it on pole in {r}", "{r} pole sitter"]
    for i, race in enumerate(races[:9]):
        q = forms[i % len(forms)].format(r=h.race(race, rng))
        out.append(rec(f"h4c5-pole-{i}", 5, h.chat(q, rng), [g.n.driver_re(g.e.qualifying[race["raceId"]][0]["driverId"])],
                       [], f"qualifying.csv position=1 of {g.race_label(race)} (= grid 1)"))
    k = 0
    for race in races[9:]:
        rows = [x for x in g.e.qualifying[race["raceId"]] if x.get("q3") and 2 <= (x["position"] or 0) <= 8]
        if not rows or k >= 5:
            continue
        row = rng.choice(rows)
        m, s = row["q3"].split(":")
        t = int(m) * 60 + float(s)
        q = rng.choice(["{d} q3 time {r}", "what was {dp} best time in q3 at {r}", "{d} quali lap {r}?"]).format(
            d=h.who(row["driverId"], rng), dp=h.who(row["driverId"], rng) + "'s", r=h.race(race, rng))
        out.append(rec(f"h4c5-q3-{k}", 5, q, [time_re(t)], [],
                       f"qualifying.csv q3 of driverId={row['driverId']} at {g.race_label(race)}: {row['q3']}"))
        k += 1
    k = 0
    for race in races[15:]:
        rows = [x for x in g.e.qualifying[race["raceId"]] if x.get("position") and 3 <= x["position"] <= 15]
        if not rows or k >= 3:
            continue
        row = rng.choice(rows)
        q = rng.choice(["where did {d} qualify at {r}", "{d} grid slot from quali {r}", "{d} quali result {r}"]).format(
            d=h.who(row["driverId"], rng), r=h.race(race, rng))
        out.append(rec(f"h4c5-qpos-{k}", 5, q, [pos_of(g.n.driver_re(row["driverId"]), row["position"])], [],
                       f"qualifying.csv position of driverId={row['driverId']} at {g.race_label(race)}"))
        k += 1
    srng = h.rng("c5s")
    sraces = [r for y in range(2021, g.latest_year + 1) for r in g.e.held(y) if r["raceId"] in g.e.sprints]
    for i, race in enumerate(srng.sample(sraces, 5)):
        rows = g.e.sprints[race["raceId"]]
        w = [x for x in rows if x["position"] == 1][0]["driverId"]
        q = rng.choice(["who won the sprint at {r}", "{r} sprint winner", "sprint race {r} who won",
                        "saturday sprint {r}, winner?"]).format(r=h.race(race, rng))
        out.append(rec(f"h4c5-spr-{i}", 5, q, [g.n.driver_re(w)], [],
                       f"sprint_results.csv position=1 of {g.race_label(race)}"))
    return out


def _final(g: Gen, year: int) -> Rec:
    return g.e.held(year)[-1]


def class6(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c6")
    races = g.pick_races(rng, 30, since=1985, until=2024, need=lambda r: r["round"] >= 3 and r["raceId"] in g.e.dstand)
    forms = ["who was leading the championship after {r}", "wdc leader after {r}?", "standings after {r}, who's top",
             "after {r} who led the points"]
    for i, race in enumerate(races[:7]):
        top = g.e.dstand[race["raceId"]][0]
        q = forms[i % len(forms)].format(r=h.race(race, rng))
        out.append(rec(f"h4c6-lead-{i}", 6, h.chat(q, rng), [g.n.driver_re(top["driverId"])], [],
                       f"driver_standings.csv position=1 after {g.race_label(race)}"))
    for i, race in enumerate(races[7:12]):
        row = rng.choice(g.e.dstand[race["raceId"]][1:8])
        q = rng.choice(["how many points did {d} have after {r}", "{d} points after {r}?",
                        "{dp} championship position after {r}"]).format(
            d=h.who(row["driverId"], rng), dp=h.who(row["driverId"], rng) + "'s", r=h.race(race, rng))
        exp = (pos_of(g.n.driver_re(row["driverId"]), row["position"]) if "position" in q
               else count_re(row["points"], "(?:points|pts)"))
        out.append(rec(f"h4c6-drv-{i}", 6, q, [exp], [],
                       f"driver_standings.csv driverId={row['driverId']} after {g.race_label(race)}: "
                       f"P{row['position']} {row['points']}"))
    for i, race in enumerate(r for r in races[12:] if r["raceId"] in g.e.cstand):
        if i >= 4:
            break
        top = g.e.cstand[race["raceId"]][0]
        q = rng.choice(["wcc leader after {r}", "which team led the constructors after {r}",
                        "constructors standings after {r} who's first"]).format(r=h.race(race, rng))
        out.append(rec(f"h4c6-cons-{i}", 6, q, [g.n.team_re(top["constructorId"])], [],
                       f"constructor_standings.csv position=1 after {g.race_label(race)}"))
    for i, year in enumerate(h.rng("c6f").sample(range(1995, 2024), 5)):
        fin = g.e.dstand[_final(g, year)["raceId"]]
        row = fin[rng.randint(1, 6)]
        q = rng.choice(["where did {d} finish in the {y} championship", "{d} final standing {y}?",
                        "what position was {d} in the drivers standings at the end of {y}"]).format(
            d=h.who(row["driverId"], rng), y=year)
        out.append(rec(f"h4c6-fin-{i}", 6, q, [pos_of(g.n.driver_re(row["driverId"]), row["position"])], [],
                       f"driver_standings.csv final {year} driverId={row['driverId']} P{row['position']}"))
    return out


def class7(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c7")

    def count(did: int, pred: Any) -> int:
        return sum(1 for rows in g.e.results.values() for x in rows if x["driverId"] == did and pred(x))

    refs = ["hakkinen", "button", "webber", "massa", "rosberg", "coulthard", "barrichello", "ricciardo",
            "bottas", "mansell", "prost", "raikkonen"]
    ids = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    for i, ref in enumerate(refs[:6]):
        did = ids[ref]
        n = count(did, lambda x: x["position"] == 1)
        q = rng.choice(["how many gps did {d} win", "{d} career wins?", "total race wins for {d}",
                        "how many times did {d} win a race"]).format(d=h.who(did, rng))
        out.append(rec(f"h4c7-wins-{i}", 7, q, [count_re(n, "(?:wins?|victor|races?|grands? prix|gps?|times)")], [],
                       f"results.csv position=1 count driverId={did}: {n}"))
    for i, ref in enumerate(refs[6:10]):
        did = ids[ref]
        n = count(did, lambda x: x["position"] in (1, 2, 3))
        q = rng.choice(["how many podiums has {d} got", "{d} podium count", "{d} top 3 finishes all time?"]).format(
            d=h.who(did, rng))
        out.append(rec(f"h4c7-pod-{i}", 7, q, [count_re(n, "(?:podiums?|top[- ]?3|finishes)")], [],
                       f"results.csv position<=3 count driverId={did}: {n}"))
    yrs = h.rng("c7y").sample(range(1960, 2025), 6)
    for i, year in enumerate(yrs):
        champ = g.e.dstand[_final(g, year)["raceId"]][0]["driverId"]
        q = rng.choice(["wdc {y}", "who was world champ in {y}", "{y} champion?", "who won the title in the {Y} season",
                        "drivers title {y} who got it"]).format(y=h.yr(year, rng), Y=year)
        out.append(rec(f"h4c7-wdc-{i}", 7, q, [g.n.driver_re(champ)], [],
                       f"driver_standings.csv final {year} position=1"))
    for i, year in enumerate(h.rng("c7c").sample(range(1975, 2025), 3)):
        champ = g.e.cstand[_final(g, year)["raceId"]][0]["constructorId"]
        q = rng.choice(["wcc {y}?", "constructors champions {y}", "which team won the constructors in {y}"]).format(
            y=h.yr(year, rng))
        out.append(rec(f"h4c7-wcc-{i}", 7, q, [g.n.team_re(champ)], [],
                       f"constructor_standings.csv final {year} position=1"))
    for i, (a, b, year) in enumerate([("hamilton", "rosberg", 2016), ("raikkonen", "massa", 2008)]):
        na, nb = (sum(1 for r in g.e.held(year) for x in g.results(r) if x["driverId"] == ids[ref] and x["position"] == 1)
                  for ref in (a, b))
        top = ids[a] if na > nb else ids[b]
        q = rng.choice(["did {a} or {b} win more races in {y}", "who had more wins in {y}, {a} or {b}"]).format(
            a=h.who(ids[a], rng), b=h.who(ids[b], rng), y=h.season(year, rng))
        out.append(rec(f"h4c7-cmp-{i}", 7, q, [g.n.driver_re(top), count_re(max(na, nb), "(?:wins?|victor|races?)")], [],
                       f"results.csv position=1 year={year}: {a}={na} {b}={nb}"))
    for i, (ref, year) in enumerate([("hamilton", 2015), ("alonso", 2006), ("vettel", 2011), ("michael_schumacher", 2002)]):
        did = ids[ref]
        n = sum(1 for r in g.e.held(year) for x in g.results(r) if x["driverId"] == did and x["position"] == 1)
        q = rng.choice(["how many wins did {d} have in {y}", "{d} {y} wins", "did {d} win a lot in the {Y} season, how many"]).format(
            d=h.who(did, rng), y=h.yr(year, rng), Y=year)
        out.append(rec(f"h4c7-sw-{i}", 7, q, [count_re(n, "(?:wins?|victor|races?|times)")], [],
                       f"results.csv position=1 driverId={did} year={year}: {n}"))
    return out


def class8(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c8")
    races = g.pick_races(rng, 20, since=1990, until=2025)
    for i, race in enumerate(races[:6]):
        q = rng.choice(["what round was {r}", "{r} which round of the season?", "round number of {r}"]).format(
            r=h.race(race, rng))
        out.append(rec(f"h4c8-rnd-{i}", 8, q, [rf"(?:round|rd|R)\.?\s*{race['round']}\b|{race['round']}(?:st|nd|rd|th)? (?:round|race)"],
                       [], f"races.csv round of {g.race_label(race)}"))
    for i, race in enumerate(races[6:12]):
        q = rng.choice(["when was {r}", "date of {r}?", "what day was {r} on", "{r} when"]).format(r=h.race(race, rng))
        out.append(rec(f"h4c8-date-{i}", 8, q, [date_re(race["date"])], [], f"races.csv date of {g.race_label(race)}"))
    for i, year in enumerate(h.rng("c8y").sample(range(1980, 2025), 4)):
        first, last = g.e.held(year)[0], g.e.held(year)[-1]
        if i % 2 == 0:
            q = rng.choice(["first race of {y}?", "what was the season opener in {Y}", "{y} opening round where"]).format(
                y=h.season(year, rng), Y=year)
            r = first
        else:
            q = rng.choice(["last race of the {Y} season", "{y} finale where was it", "final gp of {y}?"]).format(
                y=h.season(year, rng), Y=year)
            r = last
        name = re.escape(r["name"].replace(" Grand Prix", ""))
        out.append(rec(f"h4c8-fl-{i}", 8, q, [name], [], f"races.csv year={year} round={r['round']}: {r['name']}"))
    for i, year in enumerate(h.rng("c8n").sample(range(1970, 2025), 3)):
        n = len(g.e.held(year))
        q = rng.choice(["how many races were there in {y}", "number of gps in the {Y} season", "{y} how many rounds"]).format(
            y=h.season(year, rng), Y=year)
        out.append(rec(f"h4c8-n-{i}", 8, q, [count_re(n, "(?:races?|rounds?|grands? prix|gps?)")], [],
                       f"races.csv year={year}: {n} races with results"))
    sr = h.rng("c8s")
    cand = [r for y in (2022, 2023, 2024) for r in g.e.held(y)]
    for i, race in enumerate(sr.sample(cand, 3)):
        has = race["raceId"] in g.e.sprints
        q = rng.choice(["was {r} a sprint weekend", "did {r} have a sprint?", "sprint at {r} or nah"]).format(
            r=h.race(race, rng))
        # "no", or the season's sprint weekends listed without this race
        no = (r"\b(?:no|not|n't|wasn't|without)\b[^.\n]{0,40}sprint|^no\b"
              rf"|sprint weekends?\b[^\n]*:(?![^\n]*{re.escape(race['name'].replace(' Grand Prix', ''))})")
        exp = r"\b(?:yes|was a sprint|had a sprint|sprint weekend|sprint (?:race|winner|result))" if has else no
        bad = [r"\b(?:no|not|n't|wasn't|without)\b[^.\n]{0,20}sprint"] if has else [r"\byes\b", r"sprint[^.\n]{0,20}\bwon\b"]
        bad.append(r"didn't understand")  # a refusal to read the question is not a "no"
        out.append(rec(f"h4c8-spr-{i}", 8, q, [exp], bad,
                       f"sprint_results.csv rows for {g.race_label(race)}: {has}"))
    return out


def class9(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c9")
    fw = [FORBID_WON, r"\bwinner\b[^.\n]{0,20}(?:was|is)\b"]
    qs = [
        ("who won the french gp in 2023", "no French GP in 2023 (races.csv)"),
        ("german gp 2022 winner?", "no German GP in 2022"),
        ("monaco 2020 pole", "Monaco 2020 cancelled"),
        ("ok so who won the 1948 monaco gp", "1948 before the championship"),
        ("who's gonna win the 2031 wdc", "2031 not in the data"),
        ("who won abu dhabi 2025", "2025 Abu Dhabi GP not run yet (races.csv has no results)"),
        ("las vegas 25 podium?", "2025 Las Vegas not run yet"),
        ("max top speed at monza 23", "speed traps not held"),
        ("what tyre pressures did merc run at spa 2019", "tyre pressures not held"),
        ("what did lewis say on the radio after silverstone 2021", "team radio not held"),
        ("how many times did ver use drs in imola 22", "DRS use not held"),
        ("who won the narnia grand prix 2012", "nonsense race"),
        ("how did bob smithers do at monza 2019", "nonsense driver"),
        ("xyzzy's best lap at zandvoort 21", "nonsense driver"),
        ("brake temps for leclerc monaco 2023", "telemetry not held"),
        ("who won the portuguese gp 2019", "no Portuguese GP in 2019"),
        ("turkish gp 2015 winner", "no Turkish GP 2015"),
        ("fuel load of the ferraris at bahrain 22", "fuel not held"),
        ("how did hamilton do at monaco 1996", "Hamilton not in 1996"),
        ("verstappen result indy 2005", "Verstappen not in 2005"),
        ("who won the 2025 drivers title", "2025 season unfinished at Singapore"),
    ]
    for i, (q, why) in enumerate(qs):
        forbid = list(fw)
        if "hamilton" in q:
            forbid.append(r"Hamilton[^\n]{0,30}\b(?:P\d|\d+(?:st|nd|rd|th))\b")
        if "verstappen" in q:
            forbid.append(r"Verstappen[^\n]{0,30}\b(?:P\d|\d+(?:st|nd|rd|th))\b")
        if "2025 drivers title" in q:
            forbid.append(r"\b(?:won|clinched|champion)\b(?![^\n]{0,40}(?:not|n't|yet|undecided|still))")
        if "speed" in q:
            forbid.append(r"\b\d{3}(?:\.\d)?\s*km/?h")
        out.append(rec(f"h4c9-{i:02d}", 9, h.chat(q, rng), [REFUSE], forbid, why))
    del g
    return out


def class10(h: H4) -> list[Rec]:
    g, out = h.g, []
    rng = h.rng("c10")
    ids = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    cid = {c["constructorRef"]: i for i, c in g.e.constructors.items()}
    races = g.pick_races(rng, 40, since=2005, until=2024,
                         need=lambda r: r["raceId"] in g.e.qualifying and r["raceId"] not in g.e.sprints)
    k = 0

    def add(turns: list[str], exp: list[list[str]], src: str) -> None:
        nonlocal k
        out.append(rec(f"h4c10-{k:02d}", 10, turns, exp, [[] for _ in turns], src))
        k += 1

    # winner -> p2 -> pole
    for race in races[:3]:
        w, p2 = g.winner(race), g.finished_at(race, 2)
        pole = g.e.qualifying[race["raceId"]][0]["driverId"]
        add([h.chat(f"who won {h.race(race, rng)}", rng), rng.choice(["and p2?", "who was second then", "runner up?"]),
             rng.choice(["what about quali, who got pole", "and pole?", "who started on pole tho"])],
            [[g.n.driver_re(w)], [g.n.driver_re(p2)], [g.n.driver_re(pole)]],
            f"results.csv P1/P2 + qualifying.csv P1 of {g.race_label(race)}")
    # change the race
    for a, b in [(races[3], races[4]), (races[5], races[6])]:
        add([f"{h.race(a, rng)} winner", rng.choice(["and {p}?", "what about {p}", "same for {p}"]).format(
            p=h.race(b, rng))],
            [[g.n.driver_re(g.winner(a))], [g.n.driver_re(g.winner(b))]],
            f"results.csv P1 of {g.race_label(a)} then {g.race_label(b)}")
    # change the season: same GP a year earlier
    for race in races[7:10]:
        prev = [r for r in g.e.held(race["year"] - 1) if r["circuitId"] == race["circuitId"]]
        if len(prev) != 1 or not g.winner(prev[0]):
            continue
        add([f"who won {h.race(race, rng)}", rng.choice(["and the year before?", "what about the previous year", f"and in {race['year'] - 1}"])],
            [[g.n.driver_re(g.winner(race))], [g.n.driver_re(g.winner(prev[0]))]],
            f"results.csv P1 of {g.race_label(race)} then {g.race_label(prev[0])}")
    # change the driver, then compare
    for race in races[10:13]:
        rows = [x for x in g.results(race) if x["position"] and 2 <= x["position"] <= 10]
        a, b = rng.sample(rows, 2)
        add([f"{h.who(a['driverId'], rng)} {h.race(race, rng)}?", rng.choice(["and {d}?", "what about {d}", "how about {d}"]).format(
            d=h.who(b["driverId"], rng)), rng.choice(["compare them", "who beat who", "so who finished ahead"])],
            [[pos_of(g.n.driver_re(a["driverId"]), a["position"])], [pos_of(g.n.driver_re(b["driverId"]), b["position"])],
             [g.n.driver_re(a["driverId"] if a["position"] < b["position"] else b["driverId"])]],
            f"results.csv {g.race_label(race)} positions {a['driverId']}={a['position']} {b['driverId']}={b['position']}")
    # change the session: sprint -> race
    sraces = [r for y in (2022, 2023, 2024) for r in g.e.held(y) if r["raceId"] in g.e.sprints]
    for race in rng.sample(sraces, 2):
        sw = [x for x in g.e.sprints[race["raceId"]] if x["position"] == 1][0]["driverId"]
        add([f"sprint winner {h.race(race, rng)}", rng.choice(["and the main race?", "who won sunday", "and the gp itself"])],
            [[g.n.driver_re(sw)], [g.n.driver_re(g.winner(race))]],
            f"sprint_results.csv / results.csv P1 of {g.race_label(race)}")
    # change the metric: career wins -> podiums -> poles-free
    for ref in ["vettel", "button"]:
        did = ids[ref]
        wins = sum(1 for rows in g.e.results.values() for x in rows if x["driverId"] == did and x["position"] == 1)
        pods = sum(1 for rows in g.e.results.values() for x in rows if x["driverId"] == did and x["position"] in (1, 2, 3))
        add([f"how many wins did {h.who(did, rng)} get in his career", rng.choice(["and podiums?", "podiums?", "what about podiums"])],
            [[count_re(wins, "(?:wins?|victor|races?|times)")], [count_re(pods, "(?:podiums?|top[- ]?3|finishes)")]],
            f"results.csv driverId={did} wins={wins} podiums={pods}")
    # champion -> constructors -> year before
    for year in h.rng("c10y").sample(range(1990, 2024), 2):
        champ = g.e.dstand[_final(g, year)["raceId"]][0]["driverId"]
        wcc = g.e.cstand[_final(g, year)["raceId"]][0]["constructorId"]
        prev = g.e.cstand[_final(g, year - 1)["raceId"]][0]["constructorId"]  # the last turn was the wcc
        add([f"wdc {h.yr(year, rng)}", rng.choice(["and the constructors?", "which team took the wcc", "and wcc"]),
             rng.choice(["what about the year before", "and the season before that?"])],
            [[g.n.driver_re(champ)], [g.n.team_re(wcc)], [g.n.team_re(prev)]],
            f"standings final {year}; constructor_standings.csv final {year - 1}")
    # standings leader -> constructors
    for race in races[13:15]:
        if race["raceId"] not in g.e.cstand:
            continue
        add([f"who was top of the standings after {h.race(race, rng)}", "and in the constructors?"],
            [[g.n.driver_re(g.e.dstand[race['raceId']][0]['driverId'])],
             [g.n.team_re(g.e.cstand[race['raceId']][0]['constructorId'])]],
            f"standings after {g.race_label(race)}")
    # team line-up -> the year after
    for ref, year in [("mclaren", 2007), ("red_bull", 2013)]:
        c = cid[ref]
        now = sorted({x["driverId"] for r in g.e.held(year) for x in g.results(r) if x["constructorId"] == c})
        nxt = sorted({x["driverId"] for r in g.e.held(year + 1) for x in g.results(r) if x["constructorId"] == c})
        add([f"{h.team(c, rng)} drivers {year}", rng.choice(["and the year after?", f"what about {year + 1}"])],
            [[g.n.driver_re(d) for d in now], [g.n.driver_re(d) for d in nxt]],
            f"results.csv constructorId={c} drivers {year}={now} {year + 1}={nxt}")
    # laps led: change the driver
    lr = g.laps.get((2023, 14))
    if lr:
        race = g.e.race(2023, 14)
        led = Counter(c for c, laps in lr.laps.items() for n, x in laps.items() if x["pos"] == 1)
        a, b = sorted(led, key=lambda c: -led[c])[:2]
        add([f"laps led by {h.who(g.code_to_id[a], rng)} at monza 23", f"and {h.who(g.code_to_id[b], rng)}?"],
            [[count_re(led[a], "laps?")], [count_re(led[b], "laps?")]],
            f"FastF1 2023/14 Position==1 laps {a}={led[a]} {b}={led[b]}")
    # pole -> who won it
    for race in races[15:17]:
        pole = g.e.qualifying[race["raceId"]][0]["driverId"]
        add([f"pole {h.race(race, rng)}?", rng.choice(["who won it tho", "and did he win? who won"])],
            [[g.n.driver_re(pole)], [g.n.driver_re(g.winner(race))]],
            f"qualifying.csv P1 / results.csv P1 of {g.race_label(race)}")
    # points after a race: change the driver, then the gap
    for race in races[17:19]:
        st = g.e.dstand[race["raceId"]]
        a, b = st[0], st[rng.randint(1, 4)]
        diff = a["points"] - b["points"]
        add([f"how many points did {h.who(a['driverId'], rng)} have after {h.race(race, rng)}",
             f"and {h.who(b['driverId'], rng)}?", rng.choice(["gap between them?", "so how far apart were they"])],
            [[count_re(a["points"], "(?:points|pts)")], [count_re(b["points"], "(?:points|pts)")],
             [count_re(diff, "(?:points|pts)")]],
            f"driver_standings.csv after {g.race_label(race)}: {a['points']} vs {b['points']}")
    # team wins: change the season
    for ref, year in [("ferrari", 2002), ("mercedes", 2019)]:
        c = cid[ref]
        n1, n2 = (sum(1 for r in g.e.held(y) for x in g.results(r) if x["constructorId"] == c and x["position"] == 1)
                  for y in (year, year + 1))
        add([f"how many races did {h.team(c, rng)} win in {year}", rng.choice(["and the next year", f"and {year + 1}?"])],
            [[count_re(n1, "(?:wins?|victor|races?)")], [count_re(n2, "(?:wins?|victor|races?)")]],
            f"results.csv position=1 constructorId={c}: {year}={n1} {year + 1}={n2}")
    # qualifying: change the driver
    for race in races[19:21]:
        rows = [x for x in g.e.qualifying[race["raceId"]] if x.get("q3")]
        if len(rows) < 4:
            continue
        a, b = rng.sample(rows[:8], 2)
        ta, tb = ((int(x["q3"].split(":")[0]) * 60 + float(x["q3"].split(":")[1])) for x in (a, b))
        add([f"{h.who(a['driverId'], rng)} q3 lap {h.race(race, rng)}", f"and {h.who(b['driverId'], rng)}'s?"],
            [[time_re(ta)], [time_re(tb)]],
            f"qualifying.csv q3 at {g.race_label(race)}: {a['q3']} / {b['q3']}")
    # race -> the sprint of the same weekend
    for race in rng.sample([r for r in g.e.held(2023) if r["raceId"] in g.e.sprints], 1):
        sw = [x for x in g.e.sprints[race["raceId"]] if x["position"] == 1][0]["driverId"]
        add([f"who won {h.race(race, rng)}", "and the sprint?"],
            [[g.n.driver_re(g.winner(race))], [g.n.driver_re(sw)]],
            f"results.csv / sprint_results.csv P1 of {g.race_label(race)}")
    add(["who won monaco 2019", "and 2020?"],
        [[g.n.driver_re(g.winner(next(r for r in g.e.held(2019) if r["name"] == "Monaco Grand Prix")))], [REFUSE]],
        "results.csv Monaco 2019 P1; Monaco 2020 cancelled")
    # unanswerable follow-up: race not held the year before
    add(["who won the miami gp 2022", "and the year before?"],
        [[g.n.driver_re(g.winner(next(r for r in g.e.held(2022) if r["name"] == "Miami Grand Prix")))], [REFUSE]],
        "results.csv Miami 2022 P1; no Miami GP in 2021")
    return out


def _italy_or_san_marino(e: Any, records: list[Rec]) -> None:
    """"italy" in a season with a San Marino GP (also in Italy) may fairly be asked back: accept that."""
    sm = {r["year"] for r in e.races.values() if r["name"] == "San Marino Grand Prix"}
    ask = r"San Marino[\s\S]{0,200}Italian[\s\S]{0,200}\bwhich\b|Italian[\s\S]{0,200}San Marino[\s\S]{0,200}\bwhich\b"
    for r in records:
        m = re.search(r"(\d{4}) Italian Grand Prix", r["source"])
        if "question" in r and m and int(m.group(1)) in sm and re.search(r"\bitaly\b|italian race", r["question"]):
            r["expect"] = [f"(?:{x})|{ask}" for x in r["expect"]]


def generate(seed: int = SEED, shared: Path = SHARED) -> list[Rec]:
    e = load_ergast(shared / "ergast-csv")
    laps = load_fastf1(shared / "fastf1-cache" / "sessions-2019-2023")
    g = Gen(e, laps, seed)
    h = H4(g)
    records: list[Rec] = []
    for make in (class1, class2, class3, class4, class5, class6, class7, class8, class9, class10):
        records.extend(make(h))
    _italy_or_san_marino(e, records)
    return check_records(records)


def main() -> None:
    cli(__doc__, OUT, generate, SEED)


if __name__ == "__main__":
    main()
