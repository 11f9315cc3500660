"""Generate bench/answers/holdout2.jsonl: a second held-out set, phrased as a busy Discord channel types.

    python -m bench.answers.holdout2 [--seed 777] [--out bench/answers/holdout2.jsonl]

Written without reading the bot's parser, the main set's templates or the first held-out set:
half sentences ("verstappen monaco 2019?"), replies, two-clause questions, other word orders
("in 2016 at spa who won"), misspelt drivers and races, abbreviations (wdc, wcc, dnf, fl,
quali, p1-p20) and nicknames. Expected facts come from the raw data only (`raw.py`), graded by
the `phrasing.py` helpers. Races the main set or the first held-out set ask about are avoided
(their race ids are read from the `source` fields only, never their questions) except the ten
races with lap data. Seed 777; deterministic: the same data gives the same file byte for byte.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.answers.generate import SHARED, Gen, any_of, check_records, cli, date_re, rec
from bench.answers.phrasing import (
    FORBID_WON,
    REFUSE,
    count_re,
    fold,
    pos_of,
    secs_re,
    time_re,
)
from bench.answers.raw import FASTF1_RACES, load_ergast, load_fastf1

HERE = Path(__file__).resolve().parent
OUT = HERE / "holdout2.jsonl"
SEED = 777
Rec = dict[str, Any]
# "X won the ..." stated as a fact; not the question "who won the race?" a reply may suggest next.
NO_WIN_CLAIM = r"(?<!who )" + FORBID_WON
_NOT_DNF = {"Disqualified", "Did not start", "Withdrew", "Did not qualify", "Did not prequalify", "Not classified",
            "Excluded", "Finished", "Lapped", "Not restarted"}

# Nicknames and misspellings beyond phrasing.DRIVER_ALIASES, by driverRef.
NICK: dict[str, list[str]] = {
    "max_verstappen": ["verstappen", "verstapppen", "maxy", "the dutchman", "max v"],
    "hamilton": ["hamilton", "lewis", "ham", "hammy", "lewis h"],
    "vettel": ["vettel", "vettle", "seb", "baby schumi"],
    "alonso": ["alonso", "alonzo", "nando", "el plan"],
    "raikkonen": ["kimi", "raikonen", "raikkonnen", "the iceman"],
    "rosberg": ["nico rosberg", "rosburg", "britney"],
    "button": ["button", "jb", "jenson button"],
    "webber": ["webber", "webbo", "aussie grit"],
    "massa": ["massa", "felipe"],
    "michael_schumacher": ["michael schumacher", "msc", "schumi", "schumey"],
    "senna": ["senna", "ayrton", "aryton senna"],
    "prost": ["prost", "the professor"],
    "mansell": ["mansell", "nigel", "red 5", "our nige"],
    "piquet": ["nelson piquet", "piquet sr"],
    "lauda": ["lauda", "niki"],
    "hakkinen": ["hakkinen", "mika hakkinen", "hakinen", "the flying finn"],
    "coulthard": ["coulthard", "dc", "coultard"],
    "barrichello": ["rubens", "barichello", "rubinho"],
    "bottas": ["bottas", "valterri", "bottass"],
    "ricciardo": ["danny ric", "ricciardo", "riccardo", "the honey badger"],
    "perez": ["checo", "perez", "sergio"],
    "leclerc": ["leclerc", "charles", "lecler", "sharl"],
    "norris": ["lando", "norris", "landoo"],
    "sainz": ["sainz", "carlos", "chilli"],
    "russell": ["russell", "george", "russel", "mr saturday"],
    "piastri": ["piastri", "oscar", "piastre"],
    "hulkenberg": ["hulkenberg", "hulk", "hulkenburg"],
    "gasly": ["gasly", "gasli", "pierre"],
    "ocon": ["ocon", "esteban"],
    "stroll": ["stroll", "lance"],
    "albon": ["albon", "alex albon"],
    "damon_hill": ["damon hill", "damon"],
    "villeneuve": ["jacques villeneuve", "jv"],
    "stewart": ["jackie stewart", "sir jackie"],
    "fittipaldi": ["emerson fittipaldi", "emmo"],
    "hunt": ["james hunt", "hunt the shunt"],
    "kubica": ["kubica", "robert kubica"],
    "montoya": ["montoya", "jpm"],
    "ralf_schumacher": ["ralf", "ralf schumacher"],
    "fisichella": ["fisichella", "fisico"],
    "trulli": ["trulli", "jarno"],
    "kovalainen": ["kovalainen", "heikki"],
    "grosjean": ["grosjean", "romain"],
    "magnussen": ["magnussen", "k-mag", "kmag"],
    "kvyat": ["kvyat", "the torpedo"],
}

TEAM_NICK: dict[str, list[str]] = {
    "red_bull": ["red bull", "redbull", "rbr", "the bulls", "milton keynes"],
    "mclaren": ["mclaren", "macca", "mclarne", "woking"],
    "mercedes": ["mercedes", "mercs", "merc", "brackley"],
    "ferrari": ["ferrari", "ferrai", "maranello", "the scuderia"],
    "williams": ["williams", "grove"],
    "brawn": ["brawn", "brawn gp"],
    "renault": ["renault", "enstone"],
    "lotus_f1": ["lotus"],
    "team_lotus": ["lotus"],
    "benetton": ["benetton", "beneton"],
    "tyrrell": ["tyrrell", "tyrell"],
    "brabham": ["brabham"],
}

# Circuit words a fan types (with misspellings), by circuitRef; used only when the circuit held
# one race that season.
PLACE: dict[str, list[str]] = {
    "spa": ["spa", "spa-francorchamps", "belgium"],
    "monza": ["monza", "monzaa", "temple of speed"],
    "monaco": ["monaco", "monte carlo", "monoco"],
    "silverstone": ["silverstone", "silverstnoe", "britain"],
    "interlagos": ["interlagos", "brazil", "interlagoss"],
    "hungaroring": ["hungary", "budapest", "hungaroring"],
    "suzuka": ["suzuka", "japan", "suzuka"],
    "catalunya": ["barca", "barcelona", "montmelo"],
    "villeneuve": ["montreal", "canada", "montréal"],
    "albert_park": ["melbourne", "albert park", "melb"],
    "hockenheimring": ["hockenheim", "hockenhiem"],
    "nurburgring": ["nurburgring", "nurburgring"],
    "red_bull_ring": ["spielberg", "red bull ring", "austria"],
    "americas": ["austin", "cota", "the states"],
    "rodriguez": ["mexico city", "mexico"],
    "yas_marina": ["abu dhabi", "abu dabi", "yas"],
    "marina_bay": ["singapore", "marina bay", "singapur"],
    "sepang": ["sepang", "malaysia"],
    "shanghai": ["shanghai", "china"],
    "bahrain": ["bahrain", "bahrian", "sakhir"],
    "zandvoort": ["zandvoort", "zandvort"],
    "imola": ["imola"],
    "istanbul": ["istanbul", "turkey"],
    "magny_cours": ["magny cours", "magny-cours"],
    "ricard": ["paul ricard", "ricard"],
    "estoril": ["estoril"],
    "jerez": ["jerez"],
    "adelaide": ["adelaide"],
    "kyalami": ["kyalami"],
    "zolder": ["zolder"],
    "osterreichring": ["osterreichring", "zeltweg"],
    "hungaroring_": [],
    "baku": ["baku", "azerbaijan"],
    "sochi": ["sochi", "russia"],
    "jeddah": ["jeddah", "saudi"],
    "losail": ["qatar", "losail"],
    "miami": ["miami"],
    "vegas": ["vegas", "las vegas"],
}

# Channel chatter around a question: (prefix, suffix); "{q}" is the question.
WRAP = [
    "{q}", "{q}", "{q}", "{q}?", "{q}??", "ok so {q} lol", "{q} anyone?", "wait {q}", "yo {q}",
    "{q} cant remember", "random but {q}", "{q} pls", "bro {q}", "{q} i forgot", "someone tell me {q}",
    "hold on, {q}", "{q} genuinely curious", "pub quiz q: {q}", "{q} (settling a bet)", "ngl {q}",
]


def _used_races() -> set[int]:
    """Race ids the main set and the first held-out set ask about, from `source` fields only."""
    out: set[int] = set()
    for name in ("questions.jsonl", "holdout.jsonl"):
        path = HERE / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.update(int(x) for x in re.findall(r"raceId (\d+)", json.loads(line).get("source", "")))
    return out


class H2:
    """Question-building state for this set: the shared generator plus this set's own phrasings."""

    def __init__(self, g: Gen) -> None:
        self.g = g
        self.e = g.e
        self.n = g.n
        self.used = _used_races()
        self.lap_ids = {g.e.race(y, r)["raceId"] for y, r in FASTF1_RACES}
        self.out: list[Rec] = []
        self.chatter: set[str] = set()  # questions wrapped in channel chatter (tagged "chatter")

    def rng(self, kind: str) -> random.Random:
        return random.Random(f"{SEED}:h2:{kind}")

    # ---- names -------------------------------------------------------------------------------
    def drv(self, did: int, rng: random.Random, possessive: bool = False) -> str:
        d = self.e.drivers[did]
        opts = NICK.get(d["driverRef"])
        if not opts or self.n._clash(did, "surname"):  # noqa: SLF001 - same era rule as the main set
            return self.n.driver_q(did, rng, possessive)
        name = rng.choice(opts)
        if possessive:
            return name + ("'" if name.endswith("s") else "'s")
        return name

    def team(self, cid: int, rng: random.Random) -> str:
        c = self.e.constructors[cid]
        return rng.choice(TEAM_NICK.get(c["constructorRef"]) or [c["name"].lower()])

    def place(self, race: Rec, rng: random.Random) -> str:
        """The race as a fan names it: its place or a misspelling, or '<country> gp'."""
        year = race["year"]
        base = fold(race["name"].replace(" Grand Prix", "")).lower()
        opts = [f"{base} gp", f"{base} gp", f"{base} grand prix"]
        ref = self.e.circuits[race["circuitId"]]["circuitRef"]
        same = [r for r in self.e.held(year) if r["circuitId"] == race["circuitId"]]
        if len(same) == 1:
            opts += PLACE.get(ref, [])
        return rng.choice(opts)

    def yr(self, year: int, rng: random.Random) -> str:
        if year == self.g.latest_year and rng.random() < 0.3:
            return "this year"
        if year == self.g.latest_year - 1 and rng.random() < 0.3:
            return "last season"
        x = rng.random()
        if year >= 2000 and x < 0.35:
            return f"'{year % 100:02d}"
        if x < 0.5:
            return f"{year % 100:02d}" if year >= 2000 else f"'{year % 100:02d}"
        return str(year)

    def race_words(self, race: Rec, rng: random.Random) -> tuple[str, str]:
        return self.place(race, rng), self.yr(race["year"], rng)

    def wrap(self, q: str, rng: random.Random) -> str:
        form = rng.choice(WRAP)
        out = form.format(q=q)
        if form.strip("{}q?") != "":
            self.chatter.add(out)
        return out

    def races(self, rng: random.Random, k: int, *, since: int = 1960, until: int | None = None,
              need: Any = None, fresh: bool = True) -> list[Rec]:
        def ok(r: Rec) -> bool:
            if fresh and r["raceId"] in self.used:
                return False
            if not r["name"].endswith("Grand Prix") or "Indianapolis" in r["name"]:
                return False
            names = [x["name"] for x in self.e.held(r["year"])]
            return names.count(r["name"]) == 1 and (need is None or need(r))
        return self.g.pick_races(rng, k, since=since, until=until, need=ok)

    def add(self, rid: str, cls: int, q: str | list[str], expect: list[Any], forbid: list[Any], source: str) -> None:
        r = rec(rid, cls, q, expect, forbid, source)
        if isinstance(q, str) and q in self.chatter:
            r["tags"] = ["chatter"]
        self.out.append(r)

    def label(self, race: Rec) -> str:
        return self.g.race_label(race)

    def res(self, race: Rec) -> list[Rec]:
        return self.e.results.get(race["raceId"], [])

    def team_of(self, race: Rec, did: int) -> int | None:
        rows = [r for r in self.res(race) if r["driverId"] == did]
        return rows[0]["constructorId"] if len(rows) == 1 else None


# ---- class 1: names & time ------------------------------------------------------------------
def c1(h: H2) -> None:
    rng = h.rng("c1-win")
    forms = ["{p} {y} winner?", "who won {p} {y}", "in {y} at {p} who won", "{p} {y} who took it",
             "who got the win in {p} {y}", "{y} {p} - who won that one", "remind me who won {p} back in {y}",
             "{p} {y}, winner", "who won at {p} in {y} again", "which driver won the {y} {p}"]
    for i, race in enumerate(h.races(rng, 16, need=lambda r: h.g.winner(r) is not None)):
        p, y = h.race_words(race, rng)
        w = h.g.winner(race)
        q = h.wrap(rng.choice(forms).format(p=p, y=y), rng)
        h.add(f"h2-c1-win-{i:02d}", 1, q, [h.n.driver_re(w)], [], f"results.csv position=1 of {h.label(race)}")
    rng = h.rng("c1-where")
    forms = ["{d} {p} {y}?", "where did {d} finish {p} {y}", "{dp} result at {p} {y}",
             "how'd {d} get on at {p} in {y}", "{p} {y} what position was {d}"]
    picked = h.races(rng, 8, since=1975, need=lambda r: any(x["position"] and 2 <= x["position"] <= 10 for x in h.res(r)))
    for i, race in enumerate(picked):
        rows = [x for x in h.res(race) if x["position"] and 2 <= x["position"] <= 10]
        row = rng.choice(rows)
        p, y = h.race_words(race, rng)
        d = row["driverId"]
        q = rng.choice(forms).format(d=h.drv(d, rng), dp=h.drv(d, rng, True), p=p, y=y)
        h.add(f"h2-c1-where-{i:02d}", 1, h.wrap(q, rng), [pos_of(h.n.driver_re(d), row["position"])], [],
              f"results.csv {h.label(race)} driverId {d} position {row['position']}")
    rng = h.rng("c1-teamwins")
    forms = ["how many races did {t} win in {y}", "{t} wins {y}?", "{y} {t} how many wins",
             "number of gp wins for {t} in {y}"]
    seasons = [y for y in range(1975, 2025)]
    rng.shuffle(seasons)
    i = 0
    for y in seasons:
        if i >= 6:
            break
        wins: Counter[int] = Counter()
        for race in h.e.held(y):
            for r in h.res(race):
                if r["position"] == 1:
                    wins[r["constructorId"]] += 1
        cands = [c for c, n in wins.items() if n >= 2 and h.e.constructors[c]["constructorRef"] in TEAM_NICK]
        if not cands:
            continue
        c = rng.choice(sorted(cands))
        q = rng.choice(forms).format(t=h.team(c, rng), y=h.yr(y, rng))
        h.add(f"h2-c1-teamwins-{i:02d}", 1, h.wrap(q, rng), [count_re(wins[c], r"(?:wins?|victor|races)")], [],
              f"results.csv position=1 rows of constructorId {c} in {y}")
        i += 1


# ---- class 2: positions & teams -------------------------------------------------------------
def c2(h: H2) -> None:
    rng = h.rng("c2-pn")
    forms = ["who was p{n} at {p} {y}", "{p} {y} p{n}?", "who came {o} in {p} {y}", "{y} {p} who finished {o}",
             "p{n} {p} {y} who"]
    for i, race in enumerate(h.races(rng, 9, need=lambda r: len(h.res(r)) >= 10)):
        n = rng.randint(2, 10)
        d = h.g.finished_at(race, n)
        if d is None:
            continue
        p, y = h.race_words(race, rng)
        o = {2: "2nd", 3: "3rd"}.get(n, f"{n}th")
        q = rng.choice(forms).format(n=n, o=o, p=p, y=y)
        h.add(f"h2-c2-pn-{i:02d}", 2, h.wrap(q, rng), [h.n.driver_re(d)], [],
              f"results.csv position={n} of {h.label(race)}")
    rng = h.rng("c2-podium")
    forms = ["{p} {y} podium", "who was on the podium at {p} {y}", "top 3 {p} {y}?", "{y} {p} top three"]
    for i, race in enumerate(h.races(rng, 6, since=1980)):
        top = [h.g.finished_at(race, k) for k in (1, 2, 3)]
        if None in top:
            continue
        p, y = h.race_words(race, rng)
        q = rng.choice(forms).format(p=p, y=y)
        h.add(f"h2-c2-podium-{i:02d}", 2, h.wrap(q, rng), [h.n.driver_re(d) for d in top], [],
              f"results.csv positions 1-3 of {h.label(race)}")
    rng = h.rng("c2-drove")
    forms = ["which team was {d} at in {y}", "{d} {y} team?", "who was {d} driving for in {y}", "{dp} team in {y}"]
    i = 0
    for ref in ["alonso", "raikkonen", "button", "hulkenberg", "perez", "sainz", "ricciardo", "vettel", "massa"]:
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        years = sorted({h.e.races[rid]["year"] for rid, rows in h.e.results.items() for r in rows if r["driverId"] == did})
        y = rng.choice(years)
        teams = {r["constructorId"] for race in h.e.held(y) for r in h.res(race) if r["driverId"] == did}
        if len(teams) != 1:
            continue
        c = teams.pop()
        q = rng.choice(forms).format(d=h.drv(did, rng), dp=h.drv(did, rng, True), y=h.yr(y, rng))
        h.add(f"h2-c2-drove-{i:02d}", 2, h.wrap(q, rng), [h.n.team_re(c)], [],
              f"results.csv constructorId of driverId {did} in {y}")
        i += 1
    rng = h.rng("c2-last")
    forms = ["who finished last at {p} {y}", "{p} {y} last place finisher?", "who was dead last in {p} {y}"]
    for i, race in enumerate(h.races(rng, 3, since=1990)):
        classified = [r for r in h.res(race) if r["position"]]
        last = classified[-1]
        p, y = h.race_words(race, rng)
        h.add(f"h2-c2-last-{i:02d}", 2, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(last["driverId"])], [],
              f"results.csv last classified (position {last['position']}) of {h.label(race)}")


# ---- class 3: result detail -----------------------------------------------------------------
def c3(h: H2) -> None:
    rng = h.rng("c3-gap")
    forms = ["what was the winning margin at {p} {y}", "how far ahead did the winner finish in {p} {y}",
             "{p} {y} gap p1 to p2?", "by how much did {w} win {p} {y}"]

    def timed(r: Rec) -> bool:
        rows = h.res(r)
        return len(rows) >= 2 and rows[0]["position"] == 1 and rows[1]["position"] == 2 and \
            rows[0]["milliseconds"] is not None and rows[1]["milliseconds"] is not None
    for i, race in enumerate(h.races(rng, 6, since=1996, need=timed)):
        a, b = h.res(race)[0], h.res(race)[1]
        gap = (b["milliseconds"] - a["milliseconds"]) / 1000
        p, y = h.race_words(race, rng)
        q = rng.choice(forms).format(p=p, y=y, w=h.drv(a["driverId"], rng))
        h.add(f"h2-c3-gap-{i:02d}", 3, h.wrap(q, rng), [secs_re(gap)], [],
              f"results.csv milliseconds P2-P1 of {h.label(race)}")
    rng = h.rng("c3-why")
    forms = ["why did {d} dnf at {p} {y}", "{d} {p} {y} what happened? retired?", "{dp} dnf {p} {y} reason",
             "what took {d} out of {p} {y}"]

    def dnf(x: Rec) -> bool:
        """A retirement with a reason (not a DNQ, DNS, DSQ, withdrawal or a finish laps down)."""
        st = h.g.status(x)
        return x["position"] is None and bool(st) and st not in _NOT_DNF and not st.startswith("+")

    for i, race in enumerate(h.races(rng, 7, since=1985, need=lambda r: any(dnf(x) for x in h.res(r)))):
        rows = [x for x in h.res(race) if dnf(x)]
        row = rng.choice(rows)
        p, y = h.race_words(race, rng)
        d = row["driverId"]
        q = rng.choice(forms).format(d=h.drv(d, rng), dp=h.drv(d, rng, True), p=p, y=y)
        h.add(f"h2-c3-why-{i:02d}", 3, h.wrap(q, rng), [re.escape(h.g.status(row))], [],
              f"results.csv statusId {row['statusId']} ({h.g.status(row)}) of driverId {d} at {h.label(race)}")
    rng = h.rng("c3-dsq")
    forms = ["who got dsq'd at {p} {y}", "{p} {y} who was disqualified", "was anyone dq'd at {p} {y}"]
    for i, race in enumerate(h.races(rng, 3, since=1980,
                                     need=lambda r: sum(h.g.status(x) == "Disqualified" for x in h.res(r)) == 1)):
        row = next(x for x in h.res(race) if h.g.status(x) == "Disqualified")
        p, y = h.race_words(race, rng)
        h.add(f"h2-c3-dsq-{i:02d}", 3, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(row["driverId"])],
              [], f"results.csv status Disqualified at {h.label(race)}")
    rng = h.rng("c3-pit")
    forms = ["quickest pit stop {p} {y}?", "who had the fastest stop at {p} {y}", "{p} {y} fastest pitstop",
             "best pit stop in {p} {y} who"]

    def uniq_pit(r: Rec) -> bool:
        ms = [p["milliseconds"] for p in h.e.pits.get(r["raceId"], []) if p.get("milliseconds")]
        return bool(ms) and ms.count(min(ms)) == 1
    for i, race in enumerate(h.races(rng, 5, since=2012, need=uniq_pit)):
        best = min((p for p in h.e.pits[race["raceId"]] if p.get("milliseconds")), key=lambda p: p["milliseconds"])
        p, y = h.race_words(race, rng)
        h.add(f"h2-c3-pit-{i:02d}", 3, h.wrap(rng.choice(forms).format(p=p, y=y), rng),
              [h.n.driver_re(best["driverId"]), secs_re(best["milliseconds"] / 1000)], [],
              f"pit_stops.csv min milliseconds at {h.label(race)}")


# ---- class 4: lap data -----------------------------------------------------------------------
def _lap_ok(h: H2) -> list[tuple[Rec, Any]]:
    """The lap races whose FastF1 last-lap leader is the official winner (positions trustworthy)."""
    out = []
    for (y, r), lr in sorted(h.g.laps.items()):
        race = h.e.race(y, r)
        w = h.g.winner(race)
        code = h.e.drivers[w]["code"]
        last = [c for c, laps in lr.laps.items() if laps.get(lr.total_laps, {}).get("pos") == 1]
        if last == [code]:
            out.append((race, lr))
    return out


def c4(h: H2) -> None:
    code_id = h.g.code_to_id
    races = _lap_ok(h)
    rng = h.rng("c4-led")
    forms = ["laps led by {d} at {p} {y}?", "how many laps was {d} in front {p} {y}", "{p} {y} {d} laps leading",
             "{d} led how many laps in {p} {y}"]
    i = 0
    for race, lr in races:
        led = Counter(c for c, laps in lr.laps.items() for n, x in laps.items() if x["pos"] == 1)
        for code, n in sorted(led.items()):
            if code not in code_id or rng.random() < 0.4 or i >= 7:
                continue
            p, y = h.race_words(race, rng)
            q = rng.choice(forms).format(d=h.drv(code_id[code], rng), p=p, y=y)
            h.add(f"h2-c4-led-{i:02d}", 4, h.wrap(q, rng), [count_re(n, "laps?")], [],
                  f"FastF1 laps Position==1 of {code} at {h.label(race)}")
            i += 1
    rng = h.rng("c4-leader")
    forms = ["who was leading on lap {n} at {p} {y}", "{p} {y} lap {n} leader?", "lap {n} {p} {y} who was p1",
             "who was in front after {n} laps at {p} {y}"]
    for i, (race, lr) in enumerate(races):
        n = rng.randint(3, lr.total_laps - 2)
        lead = [c for c, laps in lr.laps.items() if laps.get(n, {}).get("pos") == 1]
        if len(lead) != 1 or lead[0] not in code_id:
            continue
        p, y = h.race_words(race, rng)
        form = rng.choice(forms)
        h.add(f"h2-c4-leader-{i:02d}", 4, h.wrap(form.format(n=n, p=p, y=y), rng), [h.n.driver_re(code_id[lead[0]])], [],
              f"FastF1 lap {n} Position==1 at {h.label(race)}")
    rng = h.rng("c4-poslap")
    forms = ["what position was {d} on lap {n} at {p} {y}", "{d} lap {n} {p} {y} position?", "where was {d} running on lap {n} in {p} {y}"]
    for i, (race, lr) in enumerate(races):
        n = rng.randint(5, lr.total_laps - 5)
        cands = sorted(c for c, laps in lr.laps.items() if laps.get(n, {}).get("pos") and c in code_id
                       and 2 <= laps[n]["pos"] <= 12)
        if not cands:
            continue
        c = rng.choice(cands)
        pos = lr.laps[c][n]["pos"]
        p, y = h.race_words(race, rng)
        q = rng.choice(forms).format(d=h.drv(code_id[c], rng), n=n, p=p, y=y)
        h.add(f"h2-c4-poslap-{i:02d}", 4, h.wrap(q, rng), [pos_of(h.n.driver_re(code_id[c]), pos)], [],
              f"FastF1 lap {n} Position of {c} at {h.label(race)}")
    rng = h.rng("c4-laptime")
    forms = ["{dp} lap {n} time at {p} {y}", "what did {d} do on lap {n} {p} {y}, laptime", "{d} lap {n} {p} {y} how quick"]
    for i, (y0, r0) in enumerate(FASTF1_RACES):
        lr = h.g.laps.get((y0, r0))
        if lr is None or i % 2:
            continue
        race = h.e.race(y0, r0)
        n = rng.randint(10, lr.total_laps - 3)
        cands = sorted(c for c, laps in lr.laps.items() if c in code_id and laps.get(n, {}).get("time_s"))
        c = rng.choice(cands)
        p, y = h.race_words(race, rng)
        q = rng.choice(forms).format(d=h.drv(code_id[c], rng), dp=h.drv(code_id[c], rng, True), n=n, p=p, y=y)
        h.add(f"h2-c4-laptime-{i:02d}", 4, h.wrap(q, rng), [time_re(lr.laps[c][n]["time_s"])], [],
              f"FastF1 LapTime lap {n} of {c} at {h.label(race)}")
    rng = h.rng("c4-best")
    forms = ["{dp} fastest lap at {p} {y}?", "{d} best lap {p} {y}", "quickest lap {d} did at {p} {y}"]
    i = 0
    for (y0, r0), lr in sorted(h.g.laps.items()):
        race = h.e.race(y0, r0)
        rows = [r for r in h.res(race) if r.get("fastestLapTime") and h.e.drivers[r["driverId"]]["code"] in lr.laps]
        rng.shuffle(rows)
        for r in rows:
            code = h.e.drivers[r["driverId"]]["code"]
            times = [x["time_s"] for x in lr.laps[code].values() if x["time_s"]]
            if not times or time_re(min(times)).find(re.escape(r["fastestLapTime"])) < 0:
                continue
            p, y = h.race_words(race, rng)
            q = rng.choice(forms).format(d=h.drv(r["driverId"], rng), dp=h.drv(r["driverId"], rng, True), p=p, y=y)
            h.add(f"h2-c4-best-{i:02d}", 4, h.wrap(q, rng), [time_re(min(times))], [],
                  f"FastF1 min LapTime of {code} = results.csv fastestLapTime at {h.label(race)}")
            i += 1
            break
        if i >= 5:
            break
    rng = h.rng("c4-stops")
    forms = ["how many times did {d} pit at {p} {y}", "{d} stops {p} {y}?", "was {d} a one stopper or two at {p} {y}",
             "{p} {y} {dp} number of pitstops"]
    i = 0
    for (y0, r0), lr in sorted(h.g.laps.items()):
        race = h.e.race(y0, r0)
        # A "stop" of minutes is a red-flag stoppage in pit_stops.csv (2021 Imola), not a pit stop:
        # a driver with one is not asked about (the count would be ambiguous).
        rows = h.e.pits.get(race["raceId"], [])
        pits = Counter(p["driverId"] for p in rows)
        stopped = {p["driverId"] for p in rows if (p.get("milliseconds") or 0) >= 120_000}
        codes = sorted(c for c in lr.laps if c in code_id)
        rng.shuffle(codes)
        for c in codes:
            did = code_id[c]
            stints = {x["stint"] for x in lr.laps[c].values() if x["stint"]}
            row = next((r for r in h.res(race) if r["driverId"] == did), None)
            if row is None or row["position"] is None or pits[did] == 0 or len(stints) - 1 != pits[did] \
                    or did in stopped:
                continue
            p, y = h.race_words(race, rng)
            q = rng.choice(forms).format(d=h.drv(did, rng), dp=h.drv(did, rng, True), p=p, y=y)
            word = {1: "one", 2: "two", 3: "three", 4: "four"}.get(pits[did], "")
            h.add(f"h2-c4-stops-{i:02d}", 4, h.wrap(q, rng),
                  [any_of([count_re(pits[did], r"(?:stops?|pit)"), count_re(word, r"(?:stops?|pit)"),
                           rf"\b{word}[- ]stop"])], [],
                  f"pit_stops.csv rows of driverId {did} (= FastF1 stints-1) at {h.label(race)}")
            i += 1
            break
        if i >= 5:
            break


# ---- class 5: qualifying & sprints ----------------------------------------------------------
def c5(h: H2) -> None:
    sprint21 = {rid for rid in h.e.sprints if h.e.races[rid]["year"] == 2021}
    rng = h.rng("c5-pole")
    forms = ["who was on pole {p} {y}", "{p} {y} pole sitter?", "pole at {p} {y}", "{y} {p} who got pole",
             "quali {p} {y} who was p1", "who took pole in {p} back in {y}"]

    def has_q(r: Rec) -> bool:
        q = h.e.qualifying.get(r["raceId"], [])
        return r["raceId"] not in sprint21 and sum(1 for x in q if x["position"] == 1) == 1
    for i, race in enumerate(h.races(rng, 10, since=2003, need=has_q)):
        pole = next(x for x in h.e.qualifying[race["raceId"]] if x["position"] == 1)
        p, y = h.race_words(race, rng)
        h.add(f"h2-c5-pole-{i:02d}", 5, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(pole["driverId"])],
              [], f"qualifying.csv position=1 of {h.label(race)}")
    rng = h.rng("c5-q3")
    forms = ["{dp} q3 time {p} {y}", "what did {d} do in q3 at {p} {y}", "{d} quali lap q3 {p} {y}?"]

    def has_q3(r: Rec) -> bool:
        return any(x.get("q3") for x in h.e.qualifying.get(r["raceId"], []))
    for i, race in enumerate(h.races(rng, 5, since=2010, need=has_q3)):
        rows = [x for x in h.e.qualifying[race["raceId"]] if x.get("q3") and re.fullmatch(r"\d:\d\d\.\d{3}", x["q3"])]
        row = rng.choice(rows)
        p, y = h.race_words(race, rng)
        d = row["driverId"]
        q = rng.choice(forms).format(d=h.drv(d, rng), dp=h.drv(d, rng, True), p=p, y=y)
        h.add(f"h2-c5-q3-{i:02d}", 5, h.wrap(q, rng), [rf"(?<![\d:.]){re.escape(row['q3'])}(?!\d)"], [],
              f"qualifying.csv q3 of driverId {d} at {h.label(race)}")
    rng = h.rng("c5-qpos")
    forms = ["where did {d} qualify at {p} {y}", "{d} grid slot {p} {y}? quali", "{dp} quali result {p} {y}"]
    for i, race in enumerate(h.races(rng, 4, since=2006, need=has_q)):
        rows = [x for x in h.e.qualifying[race["raceId"]] if x["position"] and 2 <= x["position"] <= 15]
        row = rng.choice(rows)
        p, y = h.race_words(race, rng)
        d = row["driverId"]
        q = rng.choice(forms).format(d=h.drv(d, rng), dp=h.drv(d, rng, True), p=p, y=y)
        h.add(f"h2-c5-qpos-{i:02d}", 5, h.wrap(q, rng), [pos_of(h.n.driver_re(d), row["position"])], [],
              f"qualifying.csv position of driverId {d} at {h.label(race)}")
    rng = h.rng("c5-sprint")
    forms = ["who won the sprint at {p} {y}", "{p} {y} sprint winner", "sprint race {p} {y} who won it",
             "{y} {p} sprint p1?"]
    sprint_races = sorted((h.e.races[rid] for rid in h.e.sprints), key=lambda r: (r["year"], r["round"]))
    fresh = [r for r in sprint_races if r["raceId"] not in h.used] or sprint_races
    rng.shuffle(fresh)
    for i, race in enumerate(fresh[:5]):
        win = [x for x in h.e.sprints[race["raceId"]] if x["position"] == 1]
        if len(win) != 1:
            continue
        p, y = h.race_words(race, rng)
        h.add(f"h2-c5-sprint-{i:02d}", 5, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(win[0]["driverId"])],
              [], f"sprint_results.csv position=1 of {h.label(race)}")


# ---- class 6: standings -----------------------------------------------------------------------
def c6(h: H2) -> None:
    def mid(r: Rec) -> bool:
        n = len(h.e.held(r["year"]))
        return 3 <= r["round"] <= n - 2 and r["raceId"] in h.e.dstand
    rng = h.rng("c6-leader")
    forms = ["who was leading the wdc after {p} {y}", "championship leader after {p} {y}?",
             "after {p} {y} who was top of the standings", "{p} {y} - who led the title race after that"]
    for i, race in enumerate(h.races(rng, 7, since=1970, need=mid)):
        top = h.e.dstand[race["raceId"]][0]
        p, y = h.race_words(race, rng)
        h.add(f"h2-c6-leader-{i:02d}", 6, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(top["driverId"])],
              [], f"driver_standings.csv position=1 after {h.label(race)}")
    rng = h.rng("c6-pts")
    forms = ["how many points did {d} have after {p} {y}", "{dp} points after {p} {y}?", "{d} points total after {p} {y}"]
    for i, race in enumerate(h.races(rng, 5, since=1990, need=mid)):
        rows = [x for x in h.e.dstand[race["raceId"]] if x["points"] and x["position"] <= 6]
        row = rng.choice(rows)
        p, y = h.race_words(race, rng)
        d = row["driverId"]
        q = rng.choice(forms).format(d=h.drv(d, rng), dp=h.drv(d, rng, True), p=p, y=y)
        h.add(f"h2-c6-pts-{i:02d}", 6, h.wrap(q, rng), [count_re(row["points"], r"(?:points|pts)")], [],
              f"driver_standings.csv points of driverId {d} after {h.label(race)}")
    rng = h.rng("c6-wcc")
    forms = ["who led the wcc after {p} {y}", "constructors standings leader after {p} {y}?",
             "after {p} {y} which team was top in the constructors"]
    for i, race in enumerate(h.races(rng, 4, since=1980, need=lambda r: mid(r) and r["raceId"] in h.e.cstand)):
        top = h.e.cstand[race["raceId"]][0]
        p, y = h.race_words(race, rng)
        h.add(f"h2-c6-wcc-{i:02d}", 6, h.wrap(rng.choice(forms).format(p=p, y=y), rng),
              [h.n.team_re(top["constructorId"])], [], f"constructor_standings.csv position=1 after {h.label(race)}")
    rng = h.rng("c6-final")
    forms = ["where did {d} end up in the championship in {y}", "{dp} final wdc position {y}",
             "{d} {y} where'd he finish in the standings"]
    i = 0
    for ref in ["coulthard", "barrichello", "webber", "massa", "bottas", "button", "kubica", "montoya"]:
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        years = sorted({h.e.races[rid]["year"] for rid, rows in h.e.dstand.items() for r in rows
                        if r["driverId"] == did and h.e.races[rid]["year"] < h.g.latest_year})
        y = rng.choice(years)
        last = h.e.held(y)[-1]
        row = next((r for r in h.e.dstand.get(last["raceId"], []) if r["driverId"] == did), None)
        if row is None or i >= 5:
            continue
        q = rng.choice(forms).format(d=h.drv(did, rng), dp=h.drv(did, rng, True), y=h.yr(y, rng))
        h.add(f"h2-c6-final-{i:02d}", 6, h.wrap(q, rng), [pos_of(h.n.driver_re(did), row["position"])], [],
              f"driver_standings.csv after the last race of {y} ({h.label(last)})")
        i += 1


# ---- class 7: history aggregates ------------------------------------------------------------
def _final(h: H2, year: int, constructors: bool = False) -> int | None:
    last = h.e.held(year)[-1]
    table = (h.e.cstand if constructors else h.e.dstand).get(last["raceId"], [])
    top = [r for r in table if r["position"] == 1]
    return (top[0]["constructorId"] if constructors else top[0]["driverId"]) if len(top) == 1 else None


def c7(h: H2) -> None:
    rng = h.rng("c7-career")
    forms = ["how many gps did {d} win", "{d} career wins?", "total wins for {d}", "{dp} win count all time",
             "how many races has {d} won in f1"]
    for i, ref in enumerate(["mansell", "hakkinen", "coulthard", "barrichello", "massa", "webber", "lauda", "rosberg"]):
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        n = sum(1 for rows in h.e.results.values() for r in rows if r["driverId"] == did and r["position"] == 1)
        q = rng.choice(forms).format(d=h.drv(did, rng), dp=h.drv(did, rng, True))
        h.add(f"h2-c7-career-{i:02d}", 7, h.wrap(q, rng), [count_re(n, r"(?:wins?|victories|races|gps?|grands? prix)")], [],
              f"results.csv position=1 rows of driverId {did}")
    rng = h.rng("c7-podiums")
    forms = ["{d} podiums in total?", "how many podiums did {d} get in his career", "career podium count {d}"]
    for i, ref in enumerate(["button", "webber", "montoya", "kubica"]):
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        n = sum(1 for rows in h.e.results.values() for r in rows if r["driverId"] == did and r["position"] in (1, 2, 3))
        q = rng.choice(forms).format(d=h.drv(did, rng))
        h.add(f"h2-c7-podiums-{i:02d}", 7, h.wrap(q, rng), [count_re(n, "podiums?")], [],
              f"results.csv position<=3 rows of driverId {did}")
    rng = h.rng("c7-wdc")
    forms = ["who won the wdc in {y}", "{y} world champ?", "wdc {y}", "who was champion in {y}", "{y} title, who got it"]
    years = [y for y in range(1955, h.g.latest_year) if y % 3 == 1]
    rng.shuffle(years)
    for i, y in enumerate(years[:7]):
        c = _final(h, y)
        if c is None:
            continue
        yw = f"'{y % 100:02d}" if rng.random() < 0.4 else str(y)
        h.add(f"h2-c7-wdc-{i:02d}", 7, h.wrap(rng.choice(forms).format(y=yw), rng), [h.n.driver_re(c)], [],
              f"driver_standings.csv position=1 after the last race of {y}")
    rng = h.rng("c7-wcc")
    forms = ["wcc {y}?", "who won the constructors in {y}", "constructors champions {y}", "{y} which team won the wcc"]
    years = [y for y in range(1960, h.g.latest_year) if y % 4 == 2]
    rng.shuffle(years)
    for i, y in enumerate(years[:5]):
        c = _final(h, y, constructors=True)
        if c is None:
            continue
        h.add(f"h2-c7-wcc-{i:02d}", 7, h.wrap(rng.choice(forms).format(y=y), rng), [h.n.team_re(c)], [],
              f"constructor_standings.csv position=1 after the last race of {y}")
    rng = h.rng("c7-titles")
    forms = ["how many titles did {d} win", "{d} championships?", "how many wdcs has {d} got", "{dp} world titles"]
    champs: Counter[int] = Counter()
    for y in range(1950, h.g.latest_year):
        c = _final(h, y)
        if c is not None:
            champs[c] += 1
    for i, ref in enumerate(["prost", "lauda", "stewart", "hakkinen", "piquet"]):
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        q = rng.choice(forms).format(d=h.drv(did, rng), dp=h.drv(did, rng, True))
        h.add(f"h2-c7-titles-{i:02d}", 7, h.wrap(q, rng), [count_re(champs[did], r"(?:titles?|championships?|wdcs?|times)")],
              [], f"driver_standings.csv final position=1 seasons of driverId {did}")
    rng = h.rng("c7-season")
    forms = ["how many races did {d} win in {y}", "{d} wins in {y}?", "{dp} {y} win tally"]
    pairs = [("hakkinen", 1998), ("mansell", 1987), ("alonso", 2006), ("hamilton", 2015), ("vettel", 2011),
             ("raikkonen", 2005)]
    for i, (ref, y) in enumerate(pairs):
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        n = sum(1 for race in h.e.held(y) for r in h.res(race) if r["driverId"] == did and r["position"] == 1)
        q = rng.choice(forms).format(d=h.drv(did, rng), dp=h.drv(did, rng, True), y=h.yr(y, rng))
        h.add(f"h2-c7-season-{i:02d}", 7, h.wrap(q, rng), [count_re(n, r"(?:wins?|races|victories)")], [],
              f"results.csv position=1 rows of driverId {did} in {y}")


# ---- class 8: schedule --------------------------------------------------------------------------
def c8(h: H2) -> None:
    rng = h.rng("c8-round")
    forms = ["what round was {p} in {y}", "{p} {y} which round?", "round number of {p} {y}", "{y} {p} was round what"]
    for i, race in enumerate(h.races(rng, 6, since=1970)):
        n = race["round"]
        p, y = h.race_words(race, rng)
        h.add(f"h2-c8-round-{i:02d}", 8, h.wrap(rng.choice(forms).format(p=p, y=y), rng),
              [rf"\bround\W{{0,3}}{n}\b|\bR{n}\b|\b{n}(?:st|nd|rd|th)\b[^.\n]{{0,20}}round"], [],
              f"races.csv round of {h.label(race)}")
    rng = h.rng("c8-date")
    forms = ["when was {p} {y}", "what date was {p} {y}", "{p} {y} date?", "when did they race at {p} in {y}"]
    for i, race in enumerate(h.races(rng, 6, since=1960)):
        p, y = h.race_words(race, rng)
        h.add(f"h2-c8-date-{i:02d}", 8, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [date_re(race["date"])], [],
              f"races.csv date of {h.label(race)}")
    rng = h.rng("c8-count")
    forms = ["how many races were there in {y}", "{y} how many rounds", "how many gps in the {y} season",
             "number of races {y}?"]
    years = [y for y in range(1958, h.g.latest_year) if y % 5 == 3]
    rng.shuffle(years)
    for i, y in enumerate(years[:4]):
        n = len(h.e.by_year[y])
        h.add(f"h2-c8-count-{i:02d}", 8, h.wrap(rng.choice(forms).format(y=y), rng),
              [count_re(n, r"(?:races?|rounds?|grands? prix|gps?)")], [], f"races.csv rows of {y}")
    rng = h.rng("c8-first")
    forms = ["where was the season opener in {y}", "first race of {y}?", "{y} opening round where", "{y} season finale where?",
             "last race of {y} was where"]
    years = [y for y in range(1975, h.g.latest_year) if y % 6 == 5]
    rng.shuffle(years)
    for i, y in enumerate(years[:4]):
        form = rng.choice(forms)
        race = h.e.by_year[y][-1] if ("finale" in form or "last" in form) else h.e.by_year[y][0]
        base = re.escape(race["name"].replace(" Grand Prix", ""))
        circ = re.escape(h.e.circuits[race["circuitId"]]["location"])
        h.add(f"h2-c8-first-{i:02d}", 8, h.wrap(form.format(y=y), rng), [rf"{base}|{circ}"], [],
              f"races.csv round {race['round']} of {y} ({h.label(race)})")


# ---- class 9: unanswerable ----------------------------------------------------------------------
def c9(h: H2) -> None:
    rng = h.rng("c9")
    i = 0

    def add(q: str, forbid: list[str], source: str) -> None:
        nonlocal i
        h.add(f"h2-c9-{i:02d}", 9, h.wrap(q, rng), [REFUSE], [NO_WIN_CLAIM, *forbid], source)
        i += 1
    # races not held that season
    for place, name, year in [("imola", "Emilia Romagna Grand Prix", 2023), ("suzuka", "Japanese Grand Prix", 2021),
                              ("montreal", "Canadian Grand Prix", 2020), ("sepang", "Malaysian Grand Prix", 2018),
                              ("hockenheim", "German Grand Prix", 2015), ("magny cours", "French Grand Prix", 2009),
                              ("istanbul", "Turkish Grand Prix", 2012), ("india gp", "Indian Grand Prix", 2015),
                              ("korea", "Korean Grand Prix", 2016), ("portimao", "Portuguese Grand Prix", 2022)]:
        assert not any(r["name"] == name for r in h.e.by_year[year]), (name, year)
        form = rng.choice(["who won {p} {y}", "{p} {y} winner?", "{p} {y} pole?", "{p} {y} results"])
        add(form.format(p=place, y=year), [], f"races.csv: no {name} in {year}")
    # seasons not in the data
    for q in ["who won the 1948 monaco gp", "wdc 1949?", "who'll win the title in 2031", "2030 calendar?",
              "1939 german gp winner"]:
        add(q, [], "races.csv: season not held")
    # races not run yet at the bench's clock (after the data's last race)
    latest, last = h.g.latest_year, h.g.last_race
    later = [r for r in h.e.by_year[latest] if r["raceId"] not in h.e.results]
    lw = h.g.winner(last)
    for race in later[:3]:
        base = race["name"].replace(" Grand Prix", "").lower()
        q = rng.choice(["who won {b} this year", "{b} gp {y} result?", "{b} {y} who got pole"]).format(b=base, y=latest)
        add(q, [h.n.driver_re(lw)] if lw else [], f"races.csv {h.label(race)} has no results yet")
    # a driver who was not in that race / season
    for ref, race_year, rnd_name in [("senna", 1995, "Monaco Grand Prix"), ("prost", 1992, "French Grand Prix"),
                                     ("hamilton", 2006, "Brazilian Grand Prix"), ("raikkonen", 2010, "Monaco Grand Prix"),
                                     ("alonso", 2019, "Italian Grand Prix"), ("vettel", 2023, "Japanese Grand Prix")]:
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        race = next(r for r in h.e.by_year[race_year] if r["name"] == rnd_name)
        assert all(r["driverId"] != did for r in h.res(race)), (ref, race_year)
        p = h.place(race, rng)
        q = rng.choice(["where did {d} finish {p} {y}", "{d} {p} {y} result?", "{dp} quali at {p} {y}"]).format(
            d=h.drv(did, rng), dp=h.drv(did, rng, True), p=p, y=race_year)
        placed = rf"(?:{h.n.driver_re(did)})[^\n]{{0,30}}\b(?:finished|came|was) (?:P\d|\d+(?:st|nd|rd|th)\b)"
        add(q, [placed], f"results.csv: driverId {did} not in {h.label(race)}")
    # data we do not hold
    for q in ["top speed at monza 2023 who was fastest through the trap", "what tyre pressures did ferrari run at spa 21",
              "can u pull up the team radio from max at abu dhabi 2021", "how much drs did checo use at jeddah 23",
              "ham throttle trace monaco 2023?", "fuel load of the mclarens at monza 2023",
              "what was the g force through copse for lando 2024", "brake temps at vegas 2023 anyone have them",
              "ers deployment for leclerc in bahrain 2022"]:
        add(q, [], "not held: telemetry / speeds / radio / tyre pressures")
    # nonsense or unknown names
    for q in ["who won the atlantis gp 2019", "where did zorblax finish at monza 2019", "mordor gp 2021 pole?",
              "how many wins does fakey mcfakeface have", "who won narnia 2010"]:
        add(q, [], "not a race / driver in the data")


# ---- class 10: follow-ups -----------------------------------------------------------------------
def c10(h: H2) -> None:
    rng = h.rng("c10")
    i = 0

    def add(turns: list[str], expect: list[list[str]], forbid: list[list[str]], source: str) -> None:
        nonlocal i
        h.add(f"h2-c10-{i:02d}", 10, turns, expect, forbid, source)
        i += 1
    # winner -> who was p2 / p3
    for race in h.races(rng, 5, since=1985, need=lambda r: h.g.winner(r) and h.g.finished_at(r, 2) and h.g.finished_at(r, 3)):
        p, y = h.race_words(race, rng)
        n = rng.choice([2, 3])
        d = h.g.finished_at(race, n)
        follow = rng.choice([f"and p{n}?", f"who was p{n} then", f"ok and {'second' if n == 2 else 'third'}?", f"p{n}?"])
        add([rng.choice([f"who won {p} {y}", f"{p} {y} winner"]), follow],
            [[h.n.driver_re(h.g.winner(race))], [h.n.driver_re(d)]], [[], []],
            f"results.csv positions 1 and {n} of {h.label(race)}")
    # pole -> who won the race
    sprint21 = {rid for rid in h.e.sprints if h.e.races[rid]["year"] == 2021}

    def pq(r: Rec) -> bool:
        return r["raceId"] not in sprint21 and sum(x["position"] == 1 for x in h.e.qualifying.get(r["raceId"], [])) == 1 \
            and h.g.winner(r) is not None
    for race in h.races(rng, 4, since=2004, need=pq):
        p, y = h.race_words(race, rng)
        pole = next(x for x in h.e.qualifying[race["raceId"]] if x["position"] == 1)["driverId"]
        add([rng.choice([f"{p} {y} pole?", f"who was on pole at {p} {y}"]),
             rng.choice(["and who won the race", "did he win it?? who won", "race winner?", "and the win?"])],
            [[h.n.driver_re(pole)], [h.n.driver_re(h.g.winner(race))]], [[], []],
            f"qualifying.csv position=1 and results.csv position=1 of {h.label(race)}")
    # champion -> the year after
    for y in [1976, 1991, 2003, 2009]:
        a, b = _final(h, y), _final(h, y + 1)
        add([rng.choice([f"wdc {y}?", f"who won the title in {y}"]), rng.choice(["and the year after?", f"what about {y + 1}", "and next season?"])],
            [[h.n.driver_re(a)], [h.n.driver_re(b)]], [[], []],
            f"driver_standings.csv final position=1 of {y} and {y + 1}")
    # driver result -> another driver in the same race
    for race in h.races(rng, 4, since=1995, need=lambda r: sum(1 for x in h.res(r) if x["position"] and x["position"] <= 8) >= 6):
        rows = [x for x in h.res(race) if x["position"] and x["position"] <= 8]
        a, b = rng.sample(rows, 2)
        p, y = h.race_words(race, rng)
        add([f"where did {h.drv(a['driverId'], rng)} finish at {p} {y}", rng.choice([f"and {h.drv(b['driverId'], rng)}?",
                                                                                    f"what about {h.drv(b['driverId'], rng)}",
                                                                                    f"{h.drv(b['driverId'], rng)}?"])],
            [[pos_of(h.n.driver_re(a["driverId"]), a["position"])], [pos_of(h.n.driver_re(b["driverId"]), b["position"])]],
            [[], []], f"results.csv positions of driverIds {a['driverId']}, {b['driverId']} at {h.label(race)}")
    # career wins -> podiums
    for ref in ["hakkinen", "coulthard", "rosberg"]:
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        w = sum(1 for rows in h.e.results.values() for r in rows if r["driverId"] == did and r["position"] == 1)
        pd = sum(1 for rows in h.e.results.values() for r in rows if r["driverId"] == did and r["position"] in (1, 2, 3))
        add([f"{h.drv(did, rng)} career wins?", rng.choice(["podiums?", "and how many podiums", "what about podiums"])],
            [[count_re(w, r"(?:wins?|victories)")], [count_re(pd, "podiums?")]], [[], []],
            f"results.csv position=1 / <=3 rows of driverId {did}")
    # standings leader after a race -> constructors
    def mid(r: Rec) -> bool:
        return 3 <= r["round"] <= len(h.e.held(r["year"])) - 2 and r["raceId"] in h.e.dstand and r["raceId"] in h.e.cstand
    for race in h.races(rng, 3, since=1985, need=mid):
        p, y = h.race_words(race, rng)
        add([f"who led the championship after {p} {y}", rng.choice(["and constructors?", "wcc too?", "and which team led"])],
            [[h.n.driver_re(h.e.dstand[race["raceId"]][0]["driverId"])], [h.n.team_re(h.e.cstand[race["raceId"]][0]["constructorId"])]],
            [[], []], f"driver/constructor_standings.csv position=1 after {h.label(race)}")
    # a race winner -> the same race the year before
    for race in h.races(rng, 3, since=1980, need=lambda r: h.g.winner(r) is not None):
        prev = [r for r in h.e.held(race["year"] - 1) if r["name"] == race["name"]]
        if len(prev) != 1 or h.g.winner(prev[0]) is None:
            continue
        p, y = h.race_words(race, rng)
        add([f"{p} {y} who won", rng.choice(["and the year before?", f"and in {race['year'] - 1}?", "what about the previous year"])],
            [[h.n.driver_re(h.g.winner(race))], [h.n.driver_re(h.g.winner(prev[0]))]], [[], []],
            f"results.csv position=1 of {h.label(race)} and {h.label(prev[0])}")
    # laps led -> another driver
    races = _lap_ok(h)
    code_id = h.g.code_to_id
    for race, lr in races[:4]:
        led = Counter(c for c, laps in lr.laps.items() for x in laps.values() if x["pos"] == 1)
        top = [c for c, _ in led.most_common(2) if c in code_id]
        if len(top) < 2:
            continue
        p, y = h.race_words(race, rng)
        add([f"how many laps did {h.drv(code_id[top[0]], rng)} lead at {p} {y}", f"and {h.drv(code_id[top[1]], rng)}?"],
            [[count_re(led[top[0]], "laps?")], [count_re(led[top[1]], "laps?")]], [[], []],
            f"FastF1 Position==1 laps of {top[0]}, {top[1]} at {h.label(race)}")


# ---- more kinds: two clauses, abbreviations (fl, dns), tyres/tires, the calendar, replies -------
def c1b(h: H2) -> None:
    rng = h.rng("c1-two")
    forms = ["who won {p} {y} and who was on pole", "{p} {y}: winner + pole sitter?",
             "who had pole at {p} {y} and did they win? who won", "{y} {p} who won and who started p1"]
    sprint21 = {rid for rid in h.e.sprints if h.e.races[rid]["year"] == 2021}

    def ok(r: Rec) -> bool:
        q = h.e.qualifying.get(r["raceId"], [])
        return r["raceId"] not in sprint21 and sum(x["position"] == 1 for x in q) == 1 and h.g.winner(r) is not None
    for i, race in enumerate(h.races(rng, 5, since=2003, need=ok)):
        pole = next(x for x in h.e.qualifying[race["raceId"]] if x["position"] == 1)["driverId"]
        p, y = h.race_words(race, rng)
        h.add(f"h2-c1-two-{i:02d}", 1, h.wrap(rng.choice(forms).format(p=p, y=y), rng),
              [h.n.driver_re(h.g.winner(race)), h.n.driver_re(pole)], [],
              f"results.csv position=1 and qualifying.csv position=1 of {h.label(race)}")


def c3b(h: H2) -> None:
    rng = h.rng("c3-fl")
    forms = ["who got fl at {p} {y}", "{p} {y} fastest lap who", "fl {p} {y}?", "who set the fastest lap of the race in {p} {y}",
             "{y} {p} who had the quickest lap"]

    def one_fl(r: Rec) -> bool:
        return sum(1 for x in h.res(r) if x.get("rank") == "1") == 1
    for i, race in enumerate(h.races(rng, 5, since=2004, need=one_fl)):
        row = next(x for x in h.res(race) if x.get("rank") == "1")
        p, y = h.race_words(race, rng)
        h.add(f"h2-c3-fl-{i:02d}", 3, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(row["driverId"])], [],
              f"results.csv rank=1 (fastest lap {row['fastestLapTime']}) of {h.label(race)}")
    rng = h.rng("c3-dns")
    forms = ["who didnt start at {p} {y}", "{p} {y} any dns?", "dns at {p} {y}?", "who was a non starter in {p} {y}"]

    def one_dns(r: Rec) -> bool:
        return sum(1 for x in h.res(r) if h.g.status(x) == "Did not start") == 1
    for i, race in enumerate(h.races(rng, 4, since=1980, need=one_dns)):
        row = next(x for x in h.res(race) if h.g.status(x) == "Did not start")
        p, y = h.race_words(race, rng)
        h.add(f"h2-c3-dns-{i:02d}", 3, h.wrap(rng.choice(forms).format(p=p, y=y), rng), [h.n.driver_re(row["driverId"])], [],
              f"results.csv status 'Did not start' at {h.label(race)}")


def c4b(h: H2) -> None:
    rng = h.rng("c4-tyre")
    forms = ["what tyres did {d} start on at {p} {y}", "{d} starting tire {p} {y}?", "{dp} compound on lap 1 {p} {y}",
             "which tyre was {d} on at the start of {p} {y}"]
    code_id = h.g.code_to_id
    for i, (y0, r0) in enumerate(FASTF1_RACES):
        lr = h.g.laps.get((y0, r0))
        if lr is None:
            continue
        race = h.e.race(y0, r0)
        # only drivers who completed a lap in results.csv (FastF1 has a lap-1 row for a non-starter)
        ran = {h.e.drivers[r["driverId"]]["code"] for r in h.res(race) if (r["laps"] or 0) >= 1}
        cands = sorted(c for c, laps in lr.laps.items() if c in code_id and c in ran and
                       (laps.get(1, {}).get("compound") or "") in ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET"))
        if not cands:
            continue
        c = rng.choice(cands)
        comp = lr.laps[c][1]["compound"]
        p, y = h.race_words(race, rng)
        q = rng.choice(forms).format(d=h.drv(code_id[c], rng), dp=h.drv(code_id[c], rng, True), p=p, y=y)
        word = {"INTERMEDIATE": "inter(?:mediate)?s?"}.get(comp, comp.lower() + "s?")
        h.add(f"h2-c4-tyre-{i:02d}", 4, h.wrap(q, rng), [rf"\b{word}\b"], [],
              f"FastF1 Compound of {c} on lap 1 at {h.label(race)}")


def c8b(h: H2) -> None:
    rng = h.rng("c8-sprints")
    forms = ["how many sprint weekends in {y}", "{y} number of sprints?", "how many sprints were there in {y}"]
    for i, y in enumerate(range(2021, h.g.latest_year)):
        n = len({rid for rid in h.e.sprints if h.e.races[rid]["year"] == y})
        h.add(f"h2-c8-sprints-{i:02d}", 8, h.wrap(rng.choice(forms).format(y=y), rng),
              [count_re(n, r"(?:sprints?|weekends?|races?)")], [], f"sprint_results.csv races of {y}")
    rng = h.rng("c8-month")
    forms = ["what races were in {m} {y}", "{m} {y} which gps?", "races in {m} '{yy}", "{y} {m} races?"]
    months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december"]
    years = list(range(2005, h.g.latest_year))
    rng.shuffle(years)
    i = 0
    for y in years:
        by_m: dict[int, list[Rec]] = defaultdict(list)
        for race in h.e.by_year[y]:
            by_m[int(race["date"][5:7])].append(race)
        ms = sorted(m for m, rs in by_m.items() if 2 <= len(rs) <= 3)
        if not ms or i >= 4:
            continue
        m = rng.choice(ms)
        names = ["|".join(sorted({re.escape(b), re.escape(fold(b))}))
                 for b in (r["name"].replace(" Grand Prix", "") for r in by_m[m])]
        q = rng.choice(forms).format(m=months[m - 1], y=y, yy=f"{y % 100:02d}")
        h.add(f"h2-c8-month-{i:02d}", 8, h.wrap(q, rng), names, [], f"races.csv dates in {y}-{m:02d}")
        i += 1


def c10b(h: H2) -> None:
    rng = h.rng("c10b")
    i = 0
    # a race winner -> the same race another season ("^ same for 2012")
    for race in h.races(rng, 4, since=1990, need=lambda r: h.g.winner(r) is not None):
        later = [r for r in h.e.held(race["year"] + 2) if r["name"] == race["name"]]
        if len(later) != 1 or h.g.winner(later[0]) is None:
            continue
        p, y = h.race_words(race, rng)
        nxt = later[0]["year"]
        follow = rng.choice([f"^ same for {nxt}", f"and {nxt}?", f"ok now {nxt}", f"what about {nxt}"])
        h.add(f"h2-c10b-{i:02d}", 10, [f"who won {p} {y}", follow],
              [[h.n.driver_re(h.g.winner(race))], [h.n.driver_re(h.g.winner(later[0]))]], [[], []],
              f"results.csv position=1 of {h.label(race)} and {h.label(later[0])}")
        i += 1
    # sprint winner -> the main race
    sprint_races = sorted((h.e.races[rid] for rid in h.e.sprints), key=lambda r: (r["year"], r["round"]))
    # every sprint race is in the main or first held-out set: take any (a new phrasing all the same)
    pool = [r for r in sprint_races if h.g.winner(r) is not None]
    rng.shuffle(pool)
    for race in pool[:3]:
        win = [x for x in h.e.sprints[race["raceId"]] if x["position"] == 1]
        if len(win) != 1:
            continue
        p, y = h.race_words(race, rng)
        h.add(f"h2-c10b-{i:02d}", 10, [f"{p} {y} sprint winner?", rng.choice(["and the gp itself?", "and sunday?", "main race?"])],
              [[h.n.driver_re(win[0]["driverId"])], [h.n.driver_re(h.g.winner(race))]], [[], []],
              f"sprint_results.csv and results.csv position=1 of {h.label(race)}")
        i += 1
    # a driver's season wins -> another season
    for ref, y1, y2 in [("hakkinen", 1999, 2000), ("alonso", 2005, 2012), ("button", 2009, 2011)]:
        did = next(k for k, v in h.e.drivers.items() if v["driverRef"] == ref)
        n1, n2 = (sum(1 for race in h.e.held(y) for r in h.res(race) if r["driverId"] == did and r["position"] == 1)
                  for y in (y1, y2))
        h.add(f"h2-c10b-{i:02d}", 10, [f"{h.drv(did, rng)} wins in {y1}?", rng.choice([f"and {y2}", f"{y2}?", f"what about in {y2}"])],
              [[count_re(n1, r"(?:wins?|races|victories)")], [count_re(n2, r"(?:wins?|races|victories)")]], [[], []],
              f"results.csv position=1 rows of driverId {did} in {y1} and {y2}")
        i += 1


ALL = (c1, c1b, c2, c3, c3b, c4, c4b, c5, c6, c7, c8, c8b, c9, c10, c10b)


def generate(seed: int = SEED, shared: Path = SHARED) -> list[Rec]:
    e = load_ergast(shared / "ergast-csv")
    laps = load_fastf1(shared / "fastf1-cache" / "sessions-2019-2023")
    h = H2(Gen(e, laps, seed))
    for make in ALL:
        make(h)
    h.out.sort(key=lambda r: r["class"])  # stable: each class keeps its kinds' order
    return check_records(h.out)


def main() -> None:
    cli(__doc__, OUT, generate, SEED)


if __name__ == "__main__":
    main()
