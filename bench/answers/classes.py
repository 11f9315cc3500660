"""The ten question classes of issue 12, each a function Gen -> records.

Each kind of fact has several phrasings, picked by the seeded stream of that kind. Regexes
demand the fact (see phrasing.py); forbids catch confident wrong answers.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from bench.answers.generate import Gen, Rec, date_re, rec
from bench.answers.phrasing import (
    CIRCUIT_ALIASES,
    FORBID_WON,
    ORD_WORDS,
    REFUSE,
    count_re,
    fold,
    lap_time,
    near,
    num_text,
    ordinal,
    pos_alts,
    pos_of,
    secs_re,
    time_re,
)

Q = Any


def _modern(r: Rec) -> bool:
    return r["year"] >= 1990


# ---- 1 names & time ------------------------------------------------------------------------
WIN_T = ["who won {r}", "who won {r}?", "{r} winner?", "who took the win at {r}", "winner of {r}",
         "who won the race at {r}", "{r} who won", "who got the W at {r}"]


def c1_names(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c1-win")
    races = g.pick_races(rng, 34, need=lambda r: g.winner(r) is not None)
    races += g.pick_races(rng, 10, since=2000, need=lambda r: g.winner(r) is not None and r["year"] >= 2000)
    seen = set()
    for k, race in enumerate(races):
        if race["raceId"] in seen:
            continue
        seen.add(race["raceId"])
        w = g.winner(race)
        q = rng.choice(WIN_T).format(r=g.race_q(race, rng))
        forbid = g.not_in(race, g.confusers(race))
        out.append(rec(f"c1-win-{k:03d}", 1, q, [g.n.driver_re(w)], forbid,
                       f"results.csv position=1 of {g.race_label(race)}"))
    # relative time: the last race, this season, last year
    rng = g.rng("c1-rel")
    last = g.last_race
    for k, q in enumerate(["who won the last race", "who won the latest gp?", "last race winner",
                           "who won most recently"]):
        out.append(rec(f"c1-last-{k}", 1, q, [g.n.driver_re(g.winner(last))], [],
                       f"latest race with results: {g.race_label(last)}"))
    for k, race in enumerate(rng.sample(g.e.held(g.latest_year)[:-1], 4)):
        alias = rng.choice(g.race_aliases(race))
        q = rng.choice(["who won {a} this season", "who won {a} this year", "{a} this year who won"]).format(a=alias)
        out.append(rec(f"c1-this-{k}", 1, q, [g.n.driver_re(g.winner(race))], g.not_in(race, g.confusers(race)),
                       f"results.csv position=1 of {g.race_label(race)}"))
    for k, race in enumerate(rng.sample(g.e.held(g.latest_year - 1), 4)):
        alias = rng.choice(g.race_aliases(race))
        q = rng.choice(["who won {a} last year", "last year's {a} winner?", "who won at {a} last year"]).format(a=alias)
        out.append(rec(f"c1-lastyear-{k}", 1, q, [g.n.driver_re(g.winner(race))], g.not_in(race, g.confusers(race)),
                       f"results.csv position=1 of {g.race_label(race)}"))
    # double headers: ask which, or name both
    doubles = [(2020, "austria 2020", "red_bull_ring"), (2020, "silverstone 2020", "silverstone"),
               (2020, "bahrain '20", "bahrain"), (2020, "the red bull ring 2020", "red_bull_ring"),
               (2020, "bahrain 2020", "bahrain"), (2020, "silverstone '20", "silverstone")]
    tmpl = ["who won {p}", "who won in {p}?", "{p} winner", "who won at {p}", "{p} who won", "who took {p}"]
    for k, (year, place, ref) in enumerate(doubles):
        both = [r for r in g.e.held(year) if g.e.circuits[r["circuitId"]]["circuitRef"] == ref]
        w1, w2 = (g.n.driver_re(g.winner(r)) for r in both)
        expect = [rf"(?s)\bwhich\b|(?:{w1}).*(?:{w2})|(?:{w2}).*(?:{w1})"]
        out.append(rec(f"c1-double-{k}", 1, tmpl[k].format(p=place), expect, [],
                       f"two races at {ref} in {year}: " + "; ".join(g.race_label(r) for r in both)))
    return out


# ---- 2 positions & teams ---------------------------------------------------------------------
def c2_positions(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c2-nth")
    for k, race in enumerate(g.pick_races(rng, 16, since=1960)):
        n = rng.randint(2, 8)
        did = g.finished_at(race, n)
        if did is None:
            continue
        pw = rng.choice([f"p{n}", ordinal(n), f"in {ORD_WORDS[n]}", ORD_WORDS[n]])
        q = rng.choice(["who finished {p} at {r}", "who was {p} in {r}", "{r} who came {p}", "who got {p} at {r}?"])
        q = q.format(p=pw, r=g.race_q(race, rng))
        out.append(rec(f"c2-nth-{k:03d}", 2, q, [g.n.driver_re(did)], [],
                       f"results.csv position={n} of {g.race_label(race)}"))
    rng = g.rng("c2-podium")
    for k, race in enumerate(g.pick_races(rng, 8, since=1970)):
        top = [g.finished_at(race, i) for i in (1, 2, 3)]
        if None in top:
            continue
        q = rng.choice(["who was on the podium at {r}", "{r} podium?", "podium for {r}", "top 3 at {r}"])
        out.append(rec(f"c2-podium-{k}", 2, q.format(r=g.race_q(race, rng)), [g.n.driver_re(d) for d in top], [],
                       f"results.csv positions 1-3 of {g.race_label(race)}"))
    rng = g.rng("c2-points")
    for k, race in enumerate(g.pick_races(rng, 5, since=2010)):
        scorers = [r["driverId"] for r in g.results(race) if (r["points"] or 0) > 0 and r["position"]]
        q = rng.choice(["who scored points at {r}", "points finishers {r}", "who was in the points in {r}?"])
        out.append(rec(f"c2-points-{k}", 2, q.format(r=g.race_q(race, rng)), [g.n.driver_re(d) for d in scorers], [],
                       f"results.csv points>0 of {g.race_label(race)}"))
    rng = g.rng("c2-where")
    for k, race in enumerate(g.pick_races(rng, 12, since=1995)):
        rows = [r for r in g.results(race) if r["position"] and r["position"] <= 12]
        row = rng.choice(rows)
        did, p = row["driverId"], row["position"]
        q = rng.choice(["where did {d} finish at {r}", "{dp} result {r}?", "what position was {d} at {r}",
                        "{d} at {r} where did he finish", "how did {d} do in {r}"])
        q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), r=g.race_q(race, rng))
        out.append(rec(f"c2-where-{k:03d}", 2, q, [pos_of(g.n.driver_re(did), p)], [],
                       f"results.csv driverId={did} of {g.race_label(race)}: position {p}"))
    rng = g.rng("c2-team")
    for k, race in enumerate(g.pick_races(rng, 8, since=1980)):
        row = rng.choice(g.results(race))
        q = rng.choice(["who did {d} drive for at {r}", "what team was {d} in at {r}", "{dp} team at {r}?"])
        q = q.format(d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True),
                     r=g.race_q(race, rng))
        out.append(rec(f"c2-team-{k}", 2, q, [g.n.team_re(row["constructorId"])], [],
                       f"results.csv constructorId of driverId={row['driverId']} in {g.race_label(race)}"))
    rng = g.rng("c2-mates")
    seasons = rng.sample(range(1985, g.latest_year), 8)
    for k, year in enumerate(sorted(seasons)):
        teams: dict[int, set[int]] = defaultdict(set)
        for race in g.e.held(year):
            for r in g.results(race):
                teams[r["constructorId"]].add(r["driverId"])
        pairs = {c: ds for c, ds in teams.items() if len(ds) == 2}
        cid = rng.choice(sorted(pairs))
        a, b = sorted(pairs[cid])
        yw = g.year_words(year, rng)
        q = rng.choice(["who was {d}'s teammate in {y}", "{d} teammate {y}?", "who partnered {d} in {y}"])
        out.append(rec(f"c2-mate-{k}", 2, q.format(d=g.n.driver_q(a, rng), y=yw), [g.n.driver_re(b)], [],
                       f"results.csv {year}: constructorId {cid} raced by exactly drivers {a},{b}"))
        q = rng.choice(["who drove for {t} in {y}", "{t} drivers {y}", "{t} lineup in {y}?"])
        out.append(rec(f"c2-lineup-{k}", 2, q.format(t=g.n.team_q(cid, rng), y=yw),
                       [g.n.driver_re(a), g.n.driver_re(b)], [],
                       f"results.csv {year}: drivers of constructorId {cid}"))
    return out


# ---- 3 result detail ---------------------------------------------------------------------------
def c3_detail(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c3-gap")
    for k, race in enumerate(g.pick_races(rng, 12, since=1985)):
        timed = [r for r in g.results(race) if r["milliseconds"] and r["position"]]
        if len(timed) < 3:
            continue
        a, b = sorted(rng.sample(timed[:6], 2), key=lambda r: r["position"])
        gap = (b["milliseconds"] - a["milliseconds"]) / 1000
        q = rng.choice(["gap between {a} and {b} at {r}", "how far was {b} behind {a} in {r}",
                        "{a} vs {b} gap at the flag {r}", "by how much did {a} beat {b} at {r}"])
        q = q.format(a=g.n.driver_q(a["driverId"], rng), b=g.n.driver_q(b["driverId"], rng), r=g.race_q(race, rng))
        out.append(rec(f"c3-gap-{k:03d}", 3, q, [secs_re(gap)], [],
                       f"results.csv milliseconds of drivers {a['driverId']},{b['driverId']} in {g.race_label(race)}"))
    rng = g.rng("c3-gained")
    for k, race in enumerate(g.pick_races(rng, 10, since=1990)):
        rows = [r for r in g.results(race) if r["position"] and r["grid"] and r["grid"] != r["position"]]
        row = rng.choice(rows)
        d = row["grid"] - row["position"]
        word = "gain" if d > 0 else "lose"
        q = rng.choice(["how many places did {d} {w} at {r}", "{d} places {w}ed at {r}?", "how many spots did {d} {w} in {r}"])
        q = q.format(d=g.n.driver_q(row["driverId"], rng), w=word, r=g.race_q(race, rng)).replace("loseed", "lost")
        n = abs(d)
        exp = count_re(n, r"(?:places?|positions?|spots?)") + "|" + near(rf"(?<![\d.]){n}(?![\d.])", r"\b(?:gain|lost|lose|up|down)")
        g_, f_ = pos_alts(row["grid"]), pos_alts(row["position"])
        exp += (rf"|^(?=[\s\S]*(?:grid|start)[^\n]{{0,25}}{g_}|[\s\S]*{g_}[^\n]{{0,25}}(?:grid|start))"
                rf"(?=[\s\S]*(?:finish|came|ended)[^\n]{{0,25}}{f_})")
        out.append(rec(f"c3-gained-{k}", 3, q, [exp], [],
                       f"results.csv grid={row['grid']} position={row['position']} driverId={row['driverId']} {g.race_label(race)}"))
    rng = g.rng("c3-retire")
    for k, race in enumerate(g.pick_races(rng, 14, since=1980)):
        rows = [r for r in g.results(race) if r["position"] is None and r["laps"] and
                not g.status(r).startswith("+") and g.status(r) not in ("Finished", "Disqualified", "Did not qualify")]
        if not rows:
            continue
        row = rng.choice(rows)
        st = g.status(row)
        dq = g.n.driver_q(row["driverId"], rng)
        if k % 2 == 0:
            q = rng.choice(["why did {d} retire at {r}", "what happened to {d} at {r}?", "{dp} dnf at {r} why",
                            "why did {d} dnf in {r}"])
            q = q.format(d=dq, dp=g.n.driver_q(row["driverId"], rng, possessive=True), r=g.race_q(race, rng))
            out.append(rec(f"c3-why-{k:03d}", 3, q, [rf"\b{st}\b".replace("(", r"\(").replace(")", r"\)")], [FORBID_WON],
                           f"results.csv statusId->status.csv '{st}' driverId={row['driverId']} {g.race_label(race)}"))
        else:
            L = row["laps"]
            q = rng.choice(["on which lap did {d} retire at {r}", "when did {d} drop out of {r}",
                            "how many laps did {d} do at {r}"])
            q = q.format(d=dq, r=g.race_q(race, rng))
            exp = near(r"\blaps?\b", rf"(?<![\d.:])(?:{L}|{L + 1})(?![\d.:])", 30)
            out.append(rec(f"c3-lap-{k:03d}", 3, q, [exp], [],
                           f"results.csv laps={L} status '{st}' driverId={row['driverId']} {g.race_label(race)}"))
    rng = g.rng("c3-dnfs")
    for k, race in enumerate(g.pick_races(rng, 6, since=2000)):
        rows = [r for r in g.results(race) if r["position"] is None]
        if not 1 <= len(rows) <= 5:
            continue
        q = rng.choice(["who retired at {r}", "dnfs at {r}?", "who didn't finish {r}", "who dnf'd in {r}"])
        out.append(rec(f"c3-dnfs-{k}", 3, q.format(r=g.race_q(race, rng)), [g.n.driver_re(r["driverId"]) for r in rows], [],
                       f"results.csv position=NULL rows of {g.race_label(race)}"))
    rng = g.rng("c3-dsq")
    dsq = [race for y in range(1990, g.latest_year + 1) for race in g.e.held(y)
           if any(g.status(r) == "Disqualified" for r in g.results(race))]
    for k, race in enumerate(rng.sample(dsq, 4)):
        names = [g.n.driver_re(r["driverId"]) for r in g.results(race) if g.status(r) == "Disqualified"]
        q = rng.choice(["who got disqualified at {r}", "was anyone dsq'd at {r}?", "any dsq at {r}"])
        out.append(rec(f"c3-dsq-{k}", 3, q.format(r=g.race_q(race, rng)), names, [],
                       f"results.csv status 'Disqualified' in {g.race_label(race)}"))
    rng = g.rng("c3-pit")
    for k, race in enumerate(g.pick_races(rng, 5, since=2012, need=lambda r: r["raceId"] in g.e.pits)):
        stops = [p for p in g.e.pits[race["raceId"]] if p["milliseconds"]]
        best = min(stops, key=lambda p: p["milliseconds"])
        if sum(1 for p in stops if p["milliseconds"] == best["milliseconds"]) > 1:
            continue
        q = rng.choice(["fastest pit stop at {r}", "who had the quickest stop in {r}?", "best pitstop {r}"])
        dur = best["milliseconds"] / 1000
        out.append(rec(f"c3-pit-{k}", 3, q.format(r=g.race_q(race, rng)),
                       [g.n.driver_re(best["driverId"]), secs_re(dur)], [],
                       f"pit_stops.csv min milliseconds (pit-lane time) in {g.race_label(race)}"))
    return out


# ---- 4 race story from lap data (the FastF1 races) ---------------------------------------------
def _stints(lr: Any, code: str) -> list[tuple[str, int, int]]:
    """(compound, first lap, last lap) per stint of a driver, from FastF1's Stint and Compound."""
    by: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for n, lap in sorted(lr.laps[code].items()):
        if lap["stint"] is not None:
            by[lap["stint"]].append((n, lap["compound"]))
    out = []
    for s in sorted(by):
        comps = {c for _, c in by[s]}
        if len(comps) != 1 or None in comps:
            return []
        out.append((comps.pop(), by[s][0][0], by[s][-1][0]))
    return out


def positions_ok(g: Gen, race: Rec, lr: Any) -> bool:
    """FastF1's per-lap Position is usable only if its last-lap leader is the official winner.

    Why: in the 2020 Austrian GP cache the Position column is scrambled (Latifi "leads" 30
    laps); questions built on it would grade against wrong facts.
    """
    last = [c for c, laps in lr.laps.items() if laps.get(lr.total_laps, {}).get("pos") == 1]
    w = g.winner(race)
    return len(last) == 1 and w is not None and g.e.drivers[w].get("code") == last[0]


def c4_laps(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c4")
    for (year, rnd), lr in sorted(g.laps.items()):
        race = g.e.race(year, rnd)
        src = f"FastF1 laps of {g.race_label(race)}"
        codes = sorted(c for c in lr.laps if c in g.code_to_id)
        pos_ok = positions_ok(g, race, lr)
        led = Counter(c for c in codes for lap in lr.laps[c].values() if lap["pos"] == 1) if pos_ok else Counter()
        top = led.most_common()
        # laps led by a driver, and who led the most
        for i, (code, n) in enumerate(top[:2]):
            did = g.code_to_id[code]
            q = rng.choice(["how many laps did {d} lead at {r}", "laps led by {d} {r}?", "{d} laps in the lead at {r}"])
            out.append(rec(f"c4-led-{year}-{rnd}-{i}", 4, q.format(d=g.n.driver_q(did, rng), r=g.race_q(race, rng)),
                           [count_re(n, r"laps?")], [], f"{src}: Position==1 laps of {code}"))
        if len(top) > 1 and top[0][1] > top[1][1]:
            code, n = top[0]
            q = rng.choice(["who led the most laps at {r}", "most laps led {r}?", "who spent longest in the lead at {r}"])
            out.append(rec(f"c4-mostled-{year}-{rnd}", 4, q.format(r=g.race_q(race, rng)),
                           [g.n.driver_re(g.code_to_id[code])], [], f"{src}: most Position==1 laps"))
        # who led lap N
        for i in range(2):
            n = rng.randint(2, lr.total_laps - 1)
            leaders = [c for c in codes if lr.laps[c].get(n, {}).get("pos") == 1]
            if len(leaders) != 1 or not pos_ok:
                continue
            q = rng.choice(["who led lap {n} at {r}", "who was leading on lap {n} of {r}", "{r} lap {n} leader?",
                            "leader on lap {n} {r}"])
            out.append(rec(f"c4-leader-{year}-{rnd}-{i}", 4, q.format(n=n, r=g.race_q(race, rng)),
                           [g.n.driver_re(g.code_to_id[leaders[0]])], [], f"{src}: Position==1 on lap {n}"))
        # a driver's position and lap time on lap N
        for i in range(2):
            code = rng.choice(codes)
            laps = [n for n, lap in lr.laps[code].items() if lap["pos"] and 1 < n < lr.total_laps]
            if not laps:
                continue
            n = rng.choice(sorted(laps))
            p = lr.laps[code][n]["pos"]
            did = g.code_to_id[code]
            q = rng.choice(["where was {d} on lap {n} at {r}", "{dp} position on lap {n} {r}?",
                            "what place was {d} in on lap {n} of {r}"])
            q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), n=n, r=g.race_q(race, rng))
            if pos_ok:
                out.append(rec(f"c4-poslap-{year}-{rnd}-{i}", 4, q, [pos_of(g.n.driver_re(did), p)], [],
                               f"{src}: Position of {code} on lap {n}"))
            t = lr.laps[code][n]["time_s"]
            if t:
                q = rng.choice(["{dp} lap time on lap {n} at {r}", "what did {d} do on lap {n} of {r}",
                                "{d} lap {n} time {r}?"])
                q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), n=n,
                             r=g.race_q(race, rng))
                out.append(rec(f"c4-laptime-{year}-{rnd}-{i}", 4, q, [time_re(t)], [],
                               f"{src}: LapTime of {code} on lap {n}"))
        # best lap of a driver (FastF1, agreeing with Ergast's fastestLapTime where it has one)
        tries = 0
        for code in rng.sample(codes, len(codes)):
            did = g.code_to_id[code]
            times = [lap["time_s"] for lap in lr.laps[code].values() if lap["time_s"] and not lap["deleted"]]
            row = g.entry(race, did)
            if not times or row is None:
                continue
            best = min(times)
            if row.get("fastestLapTime") and row["fastestLapTime"] != lap_time(best):
                continue
            q = rng.choice(["what was {dp} best lap at {r}", "{dp} fastest lap {r}?", "{d} quickest lap at {r}"])
            q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), r=g.race_q(race, rng))
            out.append(rec(f"c4-best-{year}-{rnd}-{tries}", 4, q, [time_re(best)], [],
                           f"{src}: min LapTime of {code} (= results.csv fastestLapTime)"))
            tries += 1
            if tries == 1:
                break
        # stints and stops (FastF1 stints, agreeing with pit_stops.csv's count)
        made = 0
        for code in rng.sample(codes, len(codes)):
            did = g.code_to_id[code]
            st = _stints(lr, code)
            stops = [p for p in g.e.pits.get(race["raceId"], []) if p["driverId"] == did]
            row = g.entry(race, did)
            if not st or len(stops) != len(st) - 1 or row is None or row["position"] is None:
                continue
            if made == 0:
                q = rng.choice(["{dp} stints at {r}", "what tyres did {d} run at {r}", "{d} tyre strategy {r}?"])
                q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), r=g.race_q(race, rng))
                exp = [rf"\b{c}\b" for c in dict.fromkeys(c for c, _, _ in st)]
                exp += [rf"(?<![\d.:]){b}(?![\d.:])" for _, _, b in st[:-1]]
                out.append(rec(f"c4-stints-{year}-{rnd}", 4, q, exp, [],
                               f"{src}: Stint/Compound of {code}; stops = pit_stops.csv rows"))
            else:
                n = len(st) - 1
                q = rng.choice(["how many stops did {d} make at {r}", "{d} pit stops {r}?", "how many times did {d} pit in {r}"])
                q = q.format(d=g.n.driver_q(did, rng), r=g.race_q(race, rng))
                word = ["zero", "one", "two", "three", "four", "five"][n] if n <= 5 else str(n)
                exp = count_re(n, r"(?:stops?|pit|times)") + rf"|\b{word}[- ]stop"
                out.append(rec(f"c4-stops-{year}-{rnd}", 4, q, [exp], [],
                               f"{src}: stints of {code} minus one (= pit_stops.csv rows)"))
            made += 1
            if made == 2:
                break
    return out


# ---- 5 qualifying & sprints ------------------------------------------------------------------
def _t(s: str | None) -> float | None:
    if not s or ":" not in s:
        return None
    m, rest = s.split(":")
    return int(m) * 60 + float(rest)


def _sprint_pole_year(g: Gen, race: Rec) -> bool:
    """2021 sprint weekends: pole went to the sprint winner, not the qualifying P1."""
    return race["year"] == 2021 and race["raceId"] in g.e.sprints


def c5_quali(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c5-pole")
    has_q = lambda r: r["raceId"] in g.e.qualifying and not _sprint_pole_year(g, r)  # noqa: E731
    for k, race in enumerate(g.pick_races(rng, 12, since=1994, need=has_q)):
        rows = [r for r in g.e.qualifying[race["raceId"]] if r["position"] == 1]
        q = rng.choice(["who was on pole at {r}", "pole sitter {r}?", "who got pole in {r}", "{r} pole",
                        "who qualified p1 at {r}", "who topped qualy at {r}"])
        out.append(rec(f"c5-pole-{k:03d}", 5, q.format(r=g.race_q(race, rng)), [g.n.driver_re(rows[0]["driverId"])], [],
                       f"qualifying.csv position=1 of {g.race_label(race)}"))
    rng = g.rng("c5-times")
    for k, race in enumerate(g.pick_races(rng, 12, since=2006, need=lambda r: r["raceId"] in g.e.qualifying)):
        rows = g.e.qualifying[race["raceId"]]
        pole = rows[0]
        part = rng.choice(["q3", "q1", "gap"])
        if part in ("q3", "gap"):
            cands = [r for r in rows if _t(r["q3"]) and r["position"] and r["position"] > 1]
            if not cands or not _t(pole["q3"]):
                continue
            row = rng.choice(cands)
            d = g.n.driver_q(row["driverId"], rng)
            if part == "q3":
                q = rng.choice(["{dp} q3 time at {r}", "what did {d} do in q3 at {r}", "{d} q3 lap {r}?"])
                exp = [rf"(?<![\d:]){row['q3'].replace('.', chr(92) + '.')}(?!\d)"]
            else:
                gap = _t(row["q3"]) - _t(pole["q3"])
                q = rng.choice(["how far off pole was {d} at {r}", "{dp} gap to pole {r}?",
                                "how much slower than pole was {d} in quali at {r}"])
                exp = [secs_re(gap)]
            q = q.format(d=d, dp=g.n.driver_q(row["driverId"], rng, possessive=True), r=g.race_q(race, rng))
        else:
            row = rng.choice([r for r in rows if _t(r["q1"])])
            q = rng.choice(["{dp} q1 time at {r}", "what did {d} set in q1 at {r}?", "{d} q1 {r}"])
            q = q.format(d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True),
                         r=g.race_q(race, rng))
            exp = [rf"(?<![\d:]){row['q1'].replace('.', chr(92) + '.')}(?!\d)"]
        out.append(rec(f"c5-{part}-{k:03d}", 5, q, exp, [],
                       f"qualifying.csv {part} of driverId={row['driverId']} {g.race_label(race)}"))
    rng = g.rng("c5-out")
    for k, race in enumerate(g.pick_races(rng, 8, since=2014, need=lambda r: r["raceId"] in g.e.qualifying)):
        rows = g.e.qualifying[race["raceId"]]
        if rng.random() < 0.5:
            gone = [r for r in rows if r["q2"] is None and _t(r["q1"])]
            part = "q1"
        else:
            gone = [r for r in rows if r["q2"] and not r["q3"] and _t(r["q2"])]
            part = "q2"
        if not 3 <= len(gone) <= 7:
            continue
        q = rng.choice(["who went out in {p} at {r}", "who got knocked out in {p} {r}?", "{p} eliminations {r}",
                        "who was eliminated in {p} at {r}"])
        out.append(rec(f"c5-out-{k}", 5, q.format(p=part, r=g.race_q(race, rng)),
                       [g.n.driver_re(r["driverId"]) for r in gone], [],
                       f"qualifying.csv: {part} time set, next part empty, {g.race_label(race)}"))
    rng = g.rng("c5-top")
    for k, race in enumerate(g.pick_races(rng, 5, since=2010, need=lambda r: r["raceId"] in g.e.qualifying)):
        part = rng.choice(["q1", "q2"])
        rows = [r for r in g.e.qualifying[race["raceId"]] if _t(r[part])]
        best = min(rows, key=lambda r: _t(r[part]))
        if sum(1 for r in rows if _t(r[part]) == _t(best[part])) > 1:
            continue
        q = rng.choice(["who topped {p} at {r}", "fastest in {p} {r}?", "who was quickest in {p} at {r}"])
        out.append(rec(f"c5-top-{k}", 5, q.format(p=part, r=g.race_q(race, rng)), [g.n.driver_re(best["driverId"])], [],
                       f"qualifying.csv min {part} of {g.race_label(race)}"))
    rng = g.rng("c5-h2h")
    for k, year in enumerate(sorted(rng.sample(range(2010, g.latest_year + 1), 5))):
        teams: dict[int, set[int]] = defaultdict(set)
        for race in g.e.held(year):
            for r in g.e.qualifying.get(race["raceId"], []):
                teams[r["constructorId"]].add(r["driverId"])
        pairs = sorted(c for c, ds in teams.items() if len(ds) == 2)
        cid = rng.choice(pairs)
        a, b = sorted(teams[cid])
        wa = wb = 0
        for race in g.e.held(year):
            pos = {r["driverId"]: r["position"] for r in g.e.qualifying.get(race["raceId"], [])}
            if a in pos and b in pos:
                wa, wb = wa + (pos[a] < pos[b]), wb + (pos[b] < pos[a])
        q = rng.choice(["quali head to head {a} vs {b} {y}", "who outqualified who more, {a} or {b} in {y}",
                        "{a} {b} qualy h2h {y}?"])
        q = q.format(a=g.n.driver_q(a, rng), b=g.n.driver_q(b, rng), y=g.year_words(year, rng))
        exp = [rf"(?<![\d.]){wa}\s*[-–:]\s*{wb}(?![\d.])|(?<![\d.]){wb}\s*[-–:]\s*{wa}(?![\d.])|"
               + near(rf"(?<![\d.]){wa}(?![\d.])", rf"(?<![\d.]){wb}(?![\d.])", 40)]
        out.append(rec(f"c5-h2h-{k}", 5, q, exp, [],
                       f"qualifying.csv {year}: constructorId {cid}, races where both set a position"))
    rng = g.rng("c5-sprint")
    sprints = [g.e.races[rid] for rid in sorted(g.e.sprints)]
    for k, race in enumerate(rng.sample(sprints, 10)):
        rows = g.e.sprints[race["raceId"]]
        if k % 2 == 0:
            w = [r for r in rows if r["position"] == 1][0]
            q = rng.choice(["who won the sprint at {r}", "{r} sprint winner?", "sprint race winner {r}",
                            "who won the {r} sprint"])
            out.append(rec(f"c5-sprint-{k}", 5, q.format(r=g.race_q(race, rng)), [g.n.driver_re(w["driverId"])], [],
                           f"sprint_results.csv position=1 of {g.race_label(race)}"))
        else:
            row = rng.choice([r for r in rows if r["position"] and r["position"] <= 10])
            q = rng.choice(["where did {d} finish in the sprint at {r}", "{dp} sprint result {r}?",
                            "what did {d} get in the {r} sprint"])
            q = q.format(d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True),
                         r=g.race_q(race, rng))
            out.append(rec(f"c5-sprintpos-{k}", 5, q, [pos_of(g.n.driver_re(row["driverId"]), row["position"])], [],
                           f"sprint_results.csv driverId={row['driverId']} of {g.race_label(race)}"))
    return out


# ---- 6 standings at any point ---------------------------------------------------------------
def c6_standings(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c6")
    races = g.pick_races(rng, 48, since=1960, need=lambda r: r["raceId"] in g.e.dstand and r["round"] > 1)
    for k, race in enumerate(races):
        ds = g.e.dstand[race["raceId"]]
        cs = g.e.cstand.get(race["raceId"], [])
        after = rng.choice([f"after {g.race_q(race, rng)}", f"after round {race['round']} {race['year']}",
                            f"after round {race['round']} of {g.year_words(race['year'], rng)}"])
        kind = k % 5
        src = f"driver_standings.csv raceId {race['raceId']} ({g.race_label(race)})"
        if kind == 0 and len([r for r in ds if r["position"] == 1]) == 1:
            lead = ds[0]
            q = rng.choice(["who led the championship {a}", "wdc standings {a}", "who was leading the title {a}?",
                            "championship leader {a}"])
            out.append(rec(f"c6-leader-{k:03d}", 6, q.format(a=after),
                           [g.n.driver_re(lead["driverId"]), count_re(lead["points"], r"(?:pts|points)")], [], src))
        elif kind == 1:
            row = rng.choice([r for r in ds if r["position"] and r["position"] <= 8])
            q = rng.choice(["where was {d} in the standings {a}", "{dp} championship position {a}?",
                            "how many points did {d} have {a}"])
            q = q.format(d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True), a=after)
            exp = ([count_re(row["points"], r"(?:pts|points)")] if q.startswith("how many")
                   else [pos_of(g.n.driver_re(row["driverId"]), row["position"])])
            out.append(rec(f"c6-driver-{k:03d}", 6, q, exp, [], src))
        elif kind == 2 and cs and len([r for r in cs if r["position"] == 1]) == 1:
            lead = cs[0]
            q = rng.choice(["constructors standings {a}", "which team led the constructors {a}?",
                            "who was top of the wcc {a}"])
            out.append(rec(f"c6-teams-{k:03d}", 6, q.format(a=after),
                           [g.n.team_re(lead["constructorId"]), count_re(lead["points"], r"(?:pts|points)")], [],
                           f"constructor_standings.csv raceId {race['raceId']} ({g.race_label(race)})"))
        elif kind == 3 and len(ds) >= 2:
            a, b = ds[0], ds[1]
            gap = a["points"] - b["points"]
            if gap <= 0:
                continue
            q = rng.choice(["points gap between {a} and {b} {w}", "how far ahead was {a} of {b} {w}?",
                            "{a} vs {b} points {w}"])
            q = q.format(a=g.n.driver_q(a["driverId"], rng), b=g.n.driver_q(b["driverId"], rng), w=after)
            out.append(rec(f"c6-gap-{k:03d}", 6, q, [count_re(gap, r"(?:pts|points)") + "|" + near(
                rf"(?<![\d.]){num_text(gap)}(?![\d]|\.\d)", r"\b(?:ahead|gap|lead|behind|clear)\b", 40)], [], src))
        else:
            year = race["year"]
            if year == g.latest_year:
                continue
            final = g.e.dstand[g.e.held(year)[-1]["raceId"]]
            row = rng.choice([r for r in final if r["position"] and r["position"] <= 10])
            q = rng.choice(["where did {d} finish in the {y} championship", "{dp} final standing in {y}?",
                            "what was {d} in the wdc in {y}"])
            q = q.format(d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True),
                         y=g.year_words(year, rng, relative=year != g.latest_year))
            out.append(rec(f"c6-final-{k:03d}", 6, q, [pos_of(g.n.driver_re(row["driverId"]), row["position"])], [],
                           f"driver_standings.csv last race of {year}, driverId={row['driverId']}"))
    return out


# ---- 7 history aggregates --------------------------------------------------------------------
def _career(g: Gen) -> dict[int, dict[str, Any]]:
    """Per driver: wins, podiums, quali P1s, grid-1 starts, seasons, first/last win race."""
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"wins": 0, "podiums": 0, "qp1": 0, "grid1": 0,
                                                           "first": None, "last": None, "years": set()})
    for race in sorted(g.e.races.values(), key=lambda r: (r["year"], r["round"])):
        for r in g.e.results.get(race["raceId"], []):
            c = out[r["driverId"]]
            c["years"].add(race["year"])
            if r["position"] == 1:
                c["wins"] += 1
                c["first"] = c["first"] or race
                c["last"] = race
            if r["position"] and r["position"] <= 3:
                c["podiums"] += 1
            if r["grid"] == 1:
                c["grid1"] += 1
        for r in g.e.qualifying.get(race["raceId"], []):
            if r["position"] == 1:
                out[r["driverId"]]["qp1"] += 1
    return out


def _champions(g: Gen) -> dict[int, int]:
    """Season -> drivers' champion (final standings P1); the latest, unfinished season left out."""
    out = {}
    for year in g.e.by_year:
        held = g.e.held(year)
        if not held or year == g.latest_year:
            continue
        rows = [r for r in g.e.dstand.get(held[-1]["raceId"], []) if r["position"] == 1]
        if len(rows) == 1:
            out[year] = rows[0]["driverId"]
    return out


FAMOUS = ["hamilton", "max_verstappen", "michael_schumacher", "vettel", "alonso", "senna", "prost", "norris",
          "leclerc", "perez", "raikkonen", "button", "rosberg", "bottas", "ricciardo", "russell", "piastri",
          "sainz", "massa", "webber", "lauda", "clark", "stewart", "fangio", "mansell", "hakkinen", "piquet"]


def c7_history(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c7")
    car = _career(g)
    champs = _champions(g)
    ref = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    famous = [ref[r] for r in FAMOUS if r in ref]
    for k, did in enumerate(famous):
        c = car[did]
        d = g.n.driver_q(did, rng)
        dp = g.n.driver_q(did, rng, possessive=True)
        kind = ["wins", "podiums", "poles", "titles", "first", "last"][k % 6]
        src = f"results.csv/qualifying.csv over all seasons, driverId={did}"
        if kind == "wins":
            q = rng.choice(["how many wins does {d} have", "{d} career wins?", "how many races has {d} won",
                            "{dp} win count", "total wins {d}"])
            out.append(rec(f"c7-wins-{k:03d}", 7, q.format(d=d, dp=dp), [count_re(c["wins"], r"(?:wins?|victor|races?|gps?|grands?)")], [], src))
        elif kind == "podiums":
            q = rng.choice(["how many podiums does {d} have", "{d} podium count", "{dp} career podiums?"])
            out.append(rec(f"c7-podiums-{k:03d}", 7, q.format(d=d, dp=dp), [count_re(c["podiums"], r"podiums?")], [], src))
        elif kind == "poles":
            if min(c["years"]) < 1994 or c["qp1"] != c["grid1"]:
                continue  # pole counts are unambiguous only where qualifying P1 and grid 1 agree
            q = rng.choice(["how many poles does {d} have", "{d} pole positions?", "{dp} career poles"])
            out.append(rec(f"c7-poles-{k:03d}", 7, q.format(d=d, dp=dp), [count_re(c["qp1"], r"pole")], [], src))
        elif kind == "titles":
            n = sum(1 for w in champs.values() if w == did)
            q = rng.choice(["how many titles does {d} have", "how many world championships has {d} won",
                            "{d} wdc count?"])
            word = ["zero", "one", "two", "three", "four", "five", "six", "seven"][n] if n <= 7 else str(n)
            exp = count_re(n, r"(?:titles?|championships?|wdcs?|crowns?)") + "|" + count_re(word, r"(?:titles?|championships?|wdcs?)")
            if n == 0:
                exp += r"|\bno\b[^.\n]{0,20}\b(?:titles?|championships?|wdcs?)|\b(?:hasn't|has not|never|not yet)\b[^.\n]{0,20}\bwon\b"
            out.append(rec(f"c7-titles-{k:03d}", 7, q.format(d=d), [exp], [],
                           "driver_standings.csv position=1 at each finished season's last race"))
        elif kind in ("first", "last") and c[kind]:
            race = c[kind]
            q = rng.choice([f"when was {{dp}} {kind} win", f"{{dp}} {kind} win?", f"where did {{d}} get his {kind} win"])
            q = q.format(d=d, dp=dp)
            name = race["name"].replace(" Grand Prix", "")
            out.append(rec(f"c7-{kind}-{k:03d}", 7, q, [rf"\b{race['year']}\b", rf"\b{name}"], [],
                           f"results.csv {kind} position=1 of driverId={did}: {g.race_label(race)}"))
    # season counts
    for k, year in enumerate(sorted(rng.sample(range(1960, g.latest_year + 1), 10))):
        held = g.e.held(year)
        wins = Counter(g.winner(r) for r in held if g.winner(r))
        did, n = rng.choice(sorted(wins.items()))
        q = rng.choice(["how many races did {d} win in {y}", "{d} wins {y}?", "{dp} win tally in {y}"])
        q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), y=g.year_words(year, rng))
        out.append(rec(f"c7-swins-{k}", 7, q, [count_re(n, r"(?:wins?|races?|victor|gps?)")], [],
                       f"results.csv position=1 in {year}, driverId={did}"))
        final = g.e.dstand[held[-1]["raceId"]]
        row = rng.choice([r for r in final if r["position"] and r["position"] <= 6])
        q = rng.choice(["how many points did {d} score in {y}", "{dp} points {y}?", "{d} total points in {y}"])
        q = q.format(d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True),
                     y=g.year_words(year, rng))
        out.append(rec(f"c7-spoints-{k}", 7, q, [count_re(row["points"], r"(?:pts|points)")], [],
                       f"driver_standings.csv last race of {year} ({g.race_label(held[-1])}), driverId={row['driverId']}"))
    # champions, short forms
    for k, year in enumerate(sorted(rng.sample(sorted(champs), 10))):
        yw = rng.choice([str(year), f"'{year % 100:02d}"]) if year < 2000 else g.year_words(year, rng)
        q = rng.choice(["who won the wdc in {y}", "{y} champion?", "who was world champion in {y}", "wdc {y}",
                        "who won the title in {y}", "{y} world champ"])
        out.append(rec(f"c7-champ-{k}", 7, q.format(y=yw), [g.n.driver_re(champs[year])], [],
                       f"driver_standings.csv position=1 at the last race of {year}"))
    for k, year in enumerate(sorted(rng.sample(range(1958, g.latest_year), 5))):
        rows = [r for r in g.e.cstand.get(g.e.held(year)[-1]["raceId"], []) if r["position"] == 1]
        if len(rows) != 1:
            continue
        q = rng.choice(["who won the constructors in {y}", "wcc {y}?", "constructors champion {y}"])
        out.append(rec(f"c7-wcc-{k}", 7, q.format(y=g.year_words(year, rng)), [g.n.team_re(rows[0]["constructorId"])], [],
                       f"constructor_standings.csv position=1 at the last race of {year}"))
    # records, circuits, season sizes, team wins
    per_season = Counter()
    for race in g.e.races.values():
        w = g.winner(race) if race["raceId"] in g.e.results else None
        if w:
            per_season[(race["year"], w)] += 1
    top = max(per_season.values())
    holders = sorted({d for (y, d), n in per_season.items() if n == top})
    out.append(rec("c7-record-0", 7, "most wins in a single season ever?",
                   [count_re(top, r"(?:wins?|races?|victor)")] + [g.n.driver_re(d) for d in holders], [],
                   "results.csv position=1 counted per (season, driver), maximum"))
    out.append(rec("c7-record-1", 7, "who has the most wins in f1 history",
                   [g.n.driver_re(max(car, key=lambda d: car[d]["wins"]))], [],
                   "results.csv position=1 counted per driver, maximum"))
    circ: dict[int, Counter[int]] = defaultdict(Counter)
    for race in g.e.races.values():
        w = g.winner(race) if race["raceId"] in g.e.results else None
        if w:
            circ[race["circuitId"]][w] += 1
    for k, cref in enumerate(["monza", "silverstone", "monaco", "spa", "hungaroring", "interlagos", "suzuka", "villeneuve"]):
        cid = next(i for i, c in g.e.circuits.items() if c["circuitRef"] == cref)
        (d1, n1), (_, n2) = circ[cid].most_common(2)
        if n1 == n2:
            continue
        place = rng.choice(CIRCUIT_ALIASES[cref])
        q = rng.choice(["who has the most wins at {p}", "most wins at {p}?", "who's won {p} the most"])
        out.append(rec(f"c7-circuit-{k}", 7, q.format(p=place), [g.n.driver_re(d1), count_re(n1, r"(?:wins?|times|victor)")],
                       [], f"results.csv position=1 at circuitRef {cref}, counted per driver"))
    for k, year in enumerate(sorted(rng.sample(range(1950, g.latest_year), 6))):
        n = len(g.e.held(year))
        q = rng.choice(["how many races were there in {y}", "how many gps in {y}?", "number of races {y}"])
        out.append(rec(f"c7-races-{k}", 7, q.format(y=g.year_words(year, rng)), [count_re(n, r"(?:races?|grands?|gps?|rounds?)")],
                       [], f"races.csv rows of {year} with results"))
    for k, year in enumerate(sorted(rng.sample(range(1990, g.latest_year + 1), 6))):
        held = g.e.held(year)
        teams = Counter(r["constructorId"] for race in held for r in g.results(race) if r["position"] == 1)
        cid, n = rng.choice(sorted(teams.items()))
        q = rng.choice(["how many races did {t} win in {y}", "{t} wins {y}?", "{t} victories in {y}"])
        out.append(rec(f"c7-twins-{k}", 7, q.format(t=g.n.team_q(cid, rng), y=g.year_words(year, rng)),
                       [count_re(n, r"(?:wins?|races?|victor|gps?)")], [], f"results.csv position=1 in {year}, constructorId={cid}"))
    return out


# ---- 8 schedule -------------------------------------------------------------------------------
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]


def _place_re(race: Rec, g: Gen) -> str:
    """A race named by its GP name, its circuit's town, or a common name of the circuit."""
    name = race["name"].replace(" Grand Prix", "")
    c = g.e.circuits[race["circuitId"]]
    forms = {name, fold(name), c["location"], fold(c["location"])}
    forms |= {a for a in CIRCUIT_ALIASES.get(c["circuitRef"], []) if not a.startswith("the ")}
    return r"(?<!\w)(?:" + "|".join(re.escape(f) for f in sorted(forms)) + r")"


def c8_schedule(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c8")
    for k, race in enumerate(g.pick_races(rng, 10, since=1970)):
        q = rng.choice(["which round was {r}", "what round is {r}?", "{r} round number", "{r} was round what"])
        exp = rf"\bround\W{{0,3}}{race['round']}\b|\bR{race['round']}\b|\b{race['round']}(?:st|nd|rd|th) round"
        out.append(rec(f"c8-round-{k}", 8, q.format(r=g.race_q(race, rng)), [exp], [], f"races.csv round of {g.race_label(race)}"))
    for k, race in enumerate(g.pick_races(rng, 10, since=1980)):
        q = rng.choice(["when was {r}", "what date was {r}?", "{r} date", "when did {r} happen"])
        out.append(rec(f"c8-date-{k}", 8, q.format(r=g.race_q(race, rng)), [date_re(race["date"])], [],
                       f"races.csv date of {g.race_label(race)}"))
    for k, race in enumerate(g.pick_races(rng, 5, since=2021, need=lambda r: r["quali_date"] is not None)):
        q = rng.choice(["when was quali for {r}", "what day was qualy at {r}?", "{r} qualifying date"])
        out.append(rec(f"c8-qdate-{k}", 8, q.format(r=g.race_q(race, rng)), [date_re(race["quali_date"])], [],
                       f"races.csv quali_date of {g.race_label(race)}"))
    for k, year in enumerate([2021, 2022, 2023, 2024, 2025]):
        sprint = [r for r in g.e.by_year[year] if r["raceId"] in g.e.sprints or r["sprint_date"]]
        q = rng.choice(["which races had sprints in {y}", "sprint weekends {y}?", "what were the sprint races in {y}"])
        out.append(rec(f"c8-sprints-{k}", 8, q.format(y=g.year_words(year, rng)), [_place_re(r, g) for r in sprint], [],
                       f"races.csv sprint_date / sprint_results.csv of {year}"))
    for k, year in enumerate(sorted(rng.sample(range(1995, g.latest_year + 1), 5))):
        month = rng.choice(sorted({int(r["date"][5:7]) for r in g.e.by_year[year]}))
        rs = [r for r in g.e.by_year[year] if int(r["date"][5:7]) == month]
        q = rng.choice(["what races were in {m} {y}", "races in {m} {y}?", "{m} {y} races"])
        out.append(rec(f"c8-month-{k}", 8, q.format(m=MONTHS[month - 1], y=g.year_words(year, rng)),
                       [_place_re(r, g) for r in rs], [], f"races.csv date month {month} of {year}"))
    for k, year in enumerate(sorted(rng.sample(range(1960, g.latest_year), 4))):
        first, last = g.e.by_year[year][0], g.e.by_year[year][-1]
        q = rng.choice(["what was the first race of {y}", "season opener {y}?"])
        out.append(rec(f"c8-first-{k}", 8, q.format(y=g.year_words(year, rng)), [_place_re(first, g)], [],
                       f"races.csv round 1 of {year}"))
        q = rng.choice(["last race of {y}?", "what was the final round in {y}", "{y} season finale"])
        out.append(rec(f"c8-last-{k}", 8, q.format(y=g.year_words(year, rng)), [_place_re(last, g)], [],
                       f"races.csv last round of {year}"))
    for k, race in enumerate(rng.sample(g.e.by_year[g.latest_year][-6:], 2)):
        q = rng.choice(["when is {a} this year", "when's the {a} race?"]).format(a=rng.choice(g.race_aliases(race)))
        out.append(rec(f"c8-upcoming-{k}", 8, q, [date_re(race["date"])], [],
                       f"races.csv date of {g.race_label(race)} (the season's calendar)"))
    return out


# ---- 9 unanswerable -----------------------------------------------------------------------------
NOT_HELD_PLACES = [("monaco", "monaco"), ("imola", "imola"), ("china", "shanghai"), ("canada", "villeneuve"),
                   ("melbourne", "albert_park"), ("suzuka", "suzuka"), ("singapore", "marina_bay"),
                   ("cota", "americas"), ("vegas", "vegas"), ("miami", "miami"), ("baku", "baku"),
                   ("zandvoort", "zandvoort"), ("sochi", "sochi"), ("malaysia", "sepang"), ("jeddah", "jeddah"),
                   ("qatar", "losail"), ("portimao", "portimao"), ("istanbul", "istanbul"), ("hockenheim", "hockenheimring"),
                   ("mexico", "rodriguez")]
NOT_HELD_DATA = [
    "what was {dp} top speed at {r}", "show me {dp} telemetry from {r}", "what tyre pressures did {d} run at {r}",
    "play {dp} team radio from {r}", "how many times did {d} use drs at {r}", "{dp} throttle trace at {r}",
    "what was {dp} fuel load at {r}", "{dp} brake temps at {r}?", "how fast was {d} through the speed trap at {r}",
    "what rpm was {d} hitting at {r}", "{dp} g-force in turn 1 at {r}", "what was {dp} steering angle at {r}",
]
NONSENSE_Q = [
    "how many wins does zorblax have", "who won the flurbington gp 2022", "where did qwertyson finish at monza 23",
    "blorpo's poles?", "who won the glimmerdale grand prix", "how did snarfblatt do in bahrain 22",
    "wuzzle gp 2019 winner", "how many podiums has plonkinen got", "who won at grundlebury 2021",
    "krakatoa ferrari wins 2023", "what was xyzzy's best lap at monza 23", "standings for flobbert 2024",
]


def c9_unanswerable(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c9")
    fallback = {g.winner(g.last_race)}
    k = 0
    famous = [("monaco", 2020, "monaco"), ("imola", 2023, "imola"), ("the chinese gp", 2021, "shanghai"),
              ("canada", 2020, "villeneuve"), ("suzuka", 2020, "suzuka"), ("singapore", 2021, "marina_bay"),
              ("sochi", 2022, "sochi"), ("australia", 2020, "albert_park"), ("miami", 2021, "miami"),
              ("vegas", 2022, "vegas"), ("qatar", 2022, "losail"), ("the emilia romagna gp", 2023, "imola")]
    for alias, year, cref in famous:
        assert not any(g.e.circuits[r["circuitId"]]["circuitRef"] == cref for r in g.e.held(year)), (alias, year)
        q = rng.choice(["who won {a} {y}", "{a} {y} winner?", "who won {a} in {y}", "{y} {a} results", "{a} {y} podium",
                        "who was on pole at {a} {y}"]).format(a=alias, y=g.year_words(year, rng))
        wrong = fallback | {g.winner(g.e.held(year)[-1])}
        out.append(rec(f"c9-cancelled-{k:03d}", 9, q, [REFUSE], [FORBID_WON] + [g.n.driver_re(d) for d in sorted(wrong)],
                       f"races.csv: no race with results at circuitRef {cref} in {year}"))
        k += 1
    future = [r for r in g.e.by_year[g.latest_year] if r["raceId"] not in g.e.results]
    for k, race in enumerate(rng.sample(future, min(4, len(future)))):
        alias = rng.choice(g.race_aliases(race))
        q = rng.choice(["who won {a} this year", "{a} this season results", "who won {a} {y}"]).format(
            a=alias, y=race["year"])
        out.append(rec(f"c9-future-{k}", 9, q, [REFUSE + r"|\byet\b|upcoming|scheduled"],
                       [FORBID_WON] + [g.n.driver_re(d) for d in sorted(fallback)],
                       f"races.csv: {g.race_label(race)} has no results yet (after the latest race)"))
    k = 0
    for alias, cref in NOT_HELD_PLACES:
        cid = next(i for i, c in g.e.circuits.items() if c["circuitRef"] == cref)
        held_years = {r["year"] for r in g.e.races.values() if r["circuitId"] == cid and r["raceId"] in g.e.results}
        cands = [y for y in range(max(1950, min(held_years) - 3), g.latest_year + 1) if y not in held_years]
        country = g.e.circuits[cid]["country"]
        # Not a year when the same country raced elsewhere (Japan 2008 at Fuji): a helpful reply
        # would name that race's winner, which the forbids below would count as a wrong answer.
        cands = [y for y in cands if not any(alias in r["name"].lower() or g.e.circuits[r["circuitId"]]["country"] == country
                                             for r in g.e.by_year.get(y, []))]
        cands = [y for y in cands if (alias, y) not in {(a, yy) for a, yy, _ in famous}]
        if not cands:
            continue
        for year in sorted(rng.sample(cands, min(len(cands), 2 if alias in ("monaco", "imola", "suzuka", "china") else 1))):
            yw = g.year_words(year, rng)
            q = rng.choice(["who won {a} {y}", "{a} {y} winner?", "who won the {a} gp in {y}", "{y} {a} results",
                            "who was on pole at {a} {y}"]).format(a=alias, y=yw)
            season_last = g.e.held(year)[-1] if g.e.held(year) else None
            wrong = fallback | ({g.winner(season_last)} if season_last else set())
            out.append(rec(f"c9-notheld-{k:03d}", 9, q, [REFUSE], [FORBID_WON] + [g.n.driver_re(d) for d in sorted(w for w in wrong if w)],
                           f"races.csv: no race at circuitRef {cref} in {year}"))
            k += 1
    for k, q in enumerate(["who won monza 1949", "2030 champion?", "who won the wdc in 1949", "who won the 2031 british gp",
                           "standings 2030", "who was on pole at silverstone 1948", "1947 results", "who won spa 2032"]):
        out.append(rec(f"c9-season-{k}", 9, q, [REFUSE], [FORBID_WON, g.n.driver_re(g.winner(g.last_race))],
                       f"races.csv seasons {min(g.e.by_year)}-{g.latest_year} only"))
    # drivers who did not take part
    ref = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    pool = [ref[r] for r in ("norris", "piastri", "hamilton", "max_verstappen", "leclerc", "russell", "alonso",
                             "vettel", "michael_schumacher", "senna", "antonelli", "bearman", "raikkonen", "perez")]
    k = 0
    for race in g.pick_races(rng, 30, since=1985):
        present = {r["driverId"] for r in g.results(race)}
        absent = [d for d in pool if d not in present]
        if not absent or k >= 16:
            continue
        did = rng.choice(absent)
        q = rng.choice(["how did {d} do at {r}", "where did {d} finish at {r}", "{dp} result {r}?", "{dp} qualy at {r}"])
        q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), r=g.race_q(race, rng))
        dre = g.n.driver_re(did)
        out.append(rec(f"c9-absent-{k:03d}", 9, q, [REFUSE],
                       [FORBID_WON, rf"(?:{dre})[^\n]{{0,40}}(?:\bP\d{{1,2}}\b|finished \d|\b\d{{1,2}}(?:st|nd|rd|th)\b)"],
                       f"results.csv: driverId={did} has no row in {g.race_label(race)}"))
        k += 1
    lap_races = [g.e.race(y, r) for (y, r) in sorted(g.laps)]
    for k, tmpl in enumerate(NOT_HELD_DATA):
        race = rng.choice(lap_races)
        did = rng.choice([r["driverId"] for r in g.results(race)[:10]])
        q = tmpl.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), r=g.race_q(race, rng))
        out.append(rec(f"c9-data-{k:03d}", 9, q, [REFUSE],
                       [FORBID_WON, r"\b\d{2,3}(?:\.\d+)?\s*(?:km/?h|kph|mph|psi|rpm|g\b|°)"],
                       "not in the Ergast CSV nor the FastF1 caches (no car_data / radio)"))
    for k, q in enumerate(NONSENSE_Q):
        out.append(rec(f"c9-nonsense-{k:03d}", 9, q, [REFUSE], [FORBID_WON, g.n.driver_re(g.winner(g.last_race))],
                       "no such driver / race name in drivers.csv / races.csv"))
    return out


# ---- 10 conversation follow-ups ------------------------------------------------------------------
def c10_followups(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("c10")
    has_q = lambda r: r["raceId"] in g.e.qualifying and not _sprint_pole_year(g, r) and g.finished_at(r, 2)  # noqa: E731
    for k, race in enumerate(g.pick_races(rng, 12, since=2006, need=has_q)):
        pole = [r for r in g.e.qualifying[race["raceId"]] if r["position"] == 1][0]["driverId"]
        t1 = rng.choice(["who won {r}", "{r} winner?", "who took {r}"]).format(r=g.race_q(race, rng))
        t2 = rng.choice(["and who was second?", "who was p2?", "and second place?", "and 2nd?"])
        t3 = rng.choice(["what about in quali?", "and in qualy?", "who was on pole though", "and pole?"])
        out.append(rec(f"c10-winq-{k}", 10, [t1, t2, t3],
                       [[g.n.driver_re(g.winner(race))], [g.n.driver_re(g.finished_at(race, 2))], [g.n.driver_re(pole)]],
                       [[], [], []], f"results.csv positions 1,2 and qualifying.csv position 1 of {g.race_label(race)}"))
    car = _career(g)
    ref = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    k = 0
    for r in ("norris", "leclerc", "hamilton", "max_verstappen", "russell", "piastri", "vettel", "alonso"):
        did = ref[r]
        c = car[did]
        if c["qp1"] != c["grid1"]:
            continue
        t1 = rng.choice(["how many wins does {d} have", "{d} career wins?", "how many races has {d} won"]).format(
            d=g.n.driver_q(did, rng))
        t2 = rng.choice(["and poles?", "what about poles", "and how many poles"])
        t3 = rng.choice(["and podiums?", "podiums?", "and how many podiums"])
        out.append(rec(f"c10-career-{k}", 10, [t1, t2, t3],
                       [[count_re(c["wins"], r"(?:wins?|races?|victor|gps?)")], [count_re(c["qp1"], r"poles?")],
                        [count_re(c["podiums"], r"podiums?")]], [[], [], []],
                       f"results.csv / qualifying.csv over all seasons, driverId={did}"))
        k += 1
    k = 0
    for race in g.pick_races(rng, 12, since=2000):
        rows = [r for r in g.results(race) if r["position"] and r["position"] <= 15]
        if len(rows) < 4 or k >= 9:
            continue
        a, b = rng.sample(rows, 2)
        t1 = rng.choice(["{ap} result at {r}", "where did {a} finish at {r}", "how did {a} do in {r}"]).format(
            a=g.n.driver_q(a["driverId"], rng), ap=g.n.driver_q(a["driverId"], rng, possessive=True), r=g.race_q(race, rng))
        t2 = rng.choice(["what about {b}?", "and {b}?", "how about {b}"]).format(b=g.n.driver_q(b["driverId"], rng))
        ra, rb = g.n.driver_re(a["driverId"]), g.n.driver_re(b["driverId"])
        turns, exp = [t1, t2], [[pos_of(ra, a["position"])], [pos_of(rb, b["position"])]]
        if k % 2 == 0:
            turns.append("compare them")
            exp.append([pos_of(ra, a["position"]), pos_of(rb, b["position"])])
        out.append(rec(f"c10-driver-{k}", 10, turns, exp, [[] for _ in turns],
                       f"results.csv drivers {a['driverId']},{b['driverId']} of {g.race_label(race)}"))
        k += 1
    k = 0
    for race in g.pick_races(rng, 20, since=1980):
        prev = [r for r in g.e.held(race["year"] - 1) if r["name"] == race["name"]]
        if not prev or not g.winner(race) or not g.winner(prev[0]) or k >= 7:
            continue
        t1 = rng.choice(["who won {r}", "{r} winner", "who won {r}?"]).format(r=g.race_q(race, rng))
        t2 = rng.choice(["and the year before?", "what about the year before", "and the previous year?"])
        forbid2 = [] if g.winner(prev[0]) == g.winner(race) else [g.n.driver_re(g.winner(race))]
        out.append(rec(f"c10-prevyear-{k}", 10, [t1, t2], [[g.n.driver_re(g.winner(race))], [g.n.driver_re(g.winner(prev[0]))]],
                       [[], forbid2], f"results.csv position=1 of {g.race_label(race)} and {g.race_label(prev[0])}"))
        k += 1
    champs = _champions(g)
    for k, year in enumerate(sorted(rng.sample([y for y in champs if y >= 1958 and y + 1 in champs], 5))):
        wcc = [r for r in g.e.cstand[g.e.held(year)[-1]["raceId"]] if r["position"] == 1][0]["constructorId"]
        yw = str(year) if year < 2000 else g.year_words(year, rng, relative=False)
        t1 = rng.choice(["who won the wdc in {y}", "{y} world champion?", "who was champion in {y}"]).format(y=yw)
        t2 = rng.choice(["and the constructors?", "which team won the constructors", "and the wcc?"])
        t3 = rng.choice(["and the year after?", "what about the next year", "and the following season?"])
        out.append(rec(f"c10-champ-{k}", 10, [t1, t2, t3],
                       [[g.n.driver_re(champs[year])], [g.n.team_re(wcc)], [g.n.driver_re(champs[year + 1])]],
                       [[], [], []], f"driver/constructor_standings.csv position=1 at the last races of {year}, {year + 1}"))
    for k, race in enumerate(rng.sample([g.e.races[r] for r in sorted(g.e.sprints)], 5)):
        sw = [r for r in g.e.sprints[race["raceId"]] if r["position"] == 1][0]["driverId"]
        t1 = rng.choice(["who won the sprint at {r}", "{r} sprint winner?"]).format(r=g.race_q(race, rng))
        t2 = rng.choice(["and the main race?", "and the gp itself?", "who won the race on sunday"])
        out.append(rec(f"c10-sprint-{k}", 10, [t1, t2], [[g.n.driver_re(sw)], [g.n.driver_re(g.winner(race))]],
                       [[], []], f"sprint_results.csv / results.csv position=1 of {g.race_label(race)}"))
    for k, race in enumerate(g.pick_races(rng, 5, since=1990, need=lambda r: r["round"] > 2 and r["raceId"] in g.e.dstand)):
        nxt = [r for r in g.e.held(race["year"]) if r["round"] == race["round"] + 1]
        if not nxt:
            continue
        a, b = g.e.dstand[race["raceId"]][0], g.e.dstand[nxt[0]["raceId"]][0]
        t1 = rng.choice(["standings after round {n} {y}", "who led the wdc after round {n} of {y}"]).format(
            n=race["round"], y=race["year"])
        t2 = rng.choice(["and after round {m}?", "what about after the next round", "and after round {m}"]).format(m=race["round"] + 1)
        out.append(rec(f"c10-standings-{k}", 10, [t1, t2],
                       [[g.n.driver_re(a["driverId"]), count_re(a["points"], r"(?:pts|points)")],
                        [g.n.driver_re(b["driverId"]), count_re(b["points"], r"(?:pts|points)")]], [[], []],
                       f"driver_standings.csv raceIds {race['raceId']},{nxt[0]['raceId']}"))
    k = 0
    for year, rnd in sorted(g.laps):
        lr = g.laps[(year, rnd)]
        race = g.e.race(year, rnd)
        led = Counter(c for c in lr.laps if c in g.code_to_id for lap in lr.laps[c].values() if lap["pos"] == 1)
        if len(led) < 2 or k >= 5 or not positions_ok(g, race, lr):
            continue
        k += 1
        (c1, n1), (c2, n2) = led.most_common(2)
        t1 = f"how many laps did {g.n.driver_q(g.code_to_id[c1], rng)} lead at {g.race_q(race, rng)}"
        t2 = rng.choice(["and {d}?", "what about {d}"]).format(d=g.n.driver_q(g.code_to_id[c2], rng))
        out.append(rec(f"c10-led-{k}", 10, [t1, t2], [[count_re(n1, r"laps?")], [count_re(n2, r"laps?")]], [[], []],
                       f"FastF1 laps of {g.race_label(race)}: Position==1 laps of {c1}, {c2}"))
    return out




# ---- extra coverage of the names fans use (classes 1, 2, 8, 9, 10) ---------------------------------
NICK_CIRCUITS = ["cota", "spa", "interlagos", "jeddah", "baku", "marina bay", "yas marina", "imola", "the italian race",
                 "suzuka", "silverstone", "vegas", "monza", "zandvoort", "melbourne", "montreal", "hungary", "austin"]
NICK_TEAMS = {"red_bull": ["the red bulls", "rbr", "redbull"], "mclaren": ["papaya", "maclaren"],
              "mercedes": ["the silver arrows", "merc"], "ferrari": ["the prancing horse", "scuderia", "ferarri"]}


def _circuit_ref(alias: str) -> str:
    return next(ref for ref, names in CIRCUIT_ALIASES.items() if alias in names)


def c_extra(g: Gen) -> list[Rec]:
    out: list[Rec] = []
    rng = g.rng("extra-circuits")
    for k, alias in enumerate(NICK_CIRCUITS):
        ref = _circuit_ref(alias)
        years = [y for y in range(2000, g.latest_year + 1)
                 if len([r for r in g.e.held(y) if g.e.circuits[r["circuitId"]]["circuitRef"] == ref]) == 1
                 and not (alias == "the italian race" and y in (2020, 2021))]
        year = 2023 if alias == "vegas" else rng.choice(years)
        race = next(r for r in g.e.held(year) if g.e.circuits[r["circuitId"]]["circuitRef"] == ref)
        yw = "23" if alias == "vegas" else g.year_words(year, rng)
        q = rng.choice(["who won {a} {y}", "{a} {y} winner?", "who won at {a} in {y}", "{a} {y} who won",
                        "who took the win at {a} {y}"]).format(a=alias, y=yw)
        out.append(rec(f"c1-nick-circuit-{k:03d}", 1, q, [g.n.driver_re(g.winner(race))], g.not_in(race, g.confusers(race)),
                       f"results.csv position=1 of {g.race_label(race)} (circuitRef {ref})"))
    rng = g.rng("extra-teams")
    k = 0
    for ref, names in NICK_TEAMS.items():
        cid = next(i for i, c in g.e.constructors.items() if c["constructorRef"] == ref)
        for name in names:
            year = rng.choice([y for y in range(2012, g.latest_year + 1)
                               if any(r["constructorId"] == cid and r["position"] == 1
                                      for race in g.e.held(y) for r in g.results(race))])
            n = sum(1 for race in g.e.held(year) for r in g.results(race) if r["constructorId"] == cid and r["position"] == 1)
            q = rng.choice(["how many wins did {t} get in {y}", "{t} wins {y}?", "how many races did {t} win in {y}"])
            out.append(rec(f"c1-nick-team-{k:03d}", 1, q.format(t=name, y=g.year_words(year, rng)),
                           [count_re(n, r"(?:wins?|races?|victor|gps?)")], [],
                           f"results.csv position=1 in {year}, constructorRef {ref}"))
            k += 1
    rng = g.rng("extra-drivers")
    ref_id = {d["driverRef"]: i for i, d in g.e.drivers.items()}
    for k, (dref, nick) in enumerate([("perez", "checo"), ("max_verstappen", "max"), ("norris", "lando"),
                                      ("max_verstappen", "verstapen"), ("hamilton", "sir lewis"), ("sainz", "smooth operator"),
                                      ("alonso", "nando"), ("raikkonen", "kimi"), ("leclerc", "charles"), ("piastri", "oscar")]):
        did = ref_id[dref]
        races = [r for y in range(2019, g.latest_year + 1) for r in g.e.held(y)
                 if (e := g.entry(r, did)) and e["position"] and e["position"] <= 10]
        race = rng.choice(races)
        p = g.entry(race, did)["position"]
        q = rng.choice(["where did {d} finish at {r}", "{dp} result at {r}?", "what did {d} get at {r}", "{d} {r} result"])
        q = q.format(d=nick, dp=nick + "'s", r=g.race_q(race, rng))
        out.append(rec(f"c1-nick-driver-{k:03d}", 1, q, [pos_of(g.n.driver_re(did), p)], [],
                       f"results.csv driverId={did} of {g.race_label(race)}"))
    # class 2: who finished last (the last classified finisher, or the last row of the classification)
    rng = g.rng("extra-last")
    for k, race in enumerate(g.pick_races(rng, 5, since=1990)):
        rows = g.results(race)
        classified = [r for r in rows if r["position"]]
        q = rng.choice(["who finished last at {r}", "who was last in {r}?", "last place {r}"]).format(r=g.race_q(race, rng))
        names = {classified[-1]["driverId"], rows[-1]["driverId"]}
        out.append(rec(f"c2-last-{k}", 2, q, ["|".join(f"(?:{g.n.driver_re(d)})" for d in sorted(names))], [],
                       f"results.csv last classified / last positionOrder of {g.race_label(race)}"))
    # class 8: the calendar (typo included), and was there a race
    rng = g.rng("extra-calendar")
    for k, year in enumerate(sorted(rng.sample(range(1990, g.latest_year + 1), 4))):
        first, last = g.e.by_year[year][0], g.e.by_year[year][-1]
        q = rng.choice(["{y} calender", "f1 calender {y}?", "what's the calendar for {y}", "{y} schedule"])
        out.append(rec(f"c8-calendar-{k}", 8, q.format(y=g.year_words(year, rng)), [_place_re(first, g), _place_re(last, g)],
                       [], f"races.csv rounds of {year}: first and last"))
    for k, (alias, year, held) in enumerate([("imola", 2023, False), ("monaco", 2020, False), ("imola", 2020, True),
                                             ("portimao", 2021, True), ("china", 2022, False), ("mugello", 2020, True)]):
        q = rng.choice(["was there a race at {a} in {y}", "did f1 go to {a} in {y}?", "was {a} {y} on the calendar"])
        exp = r"\byes\b|\bwas held\b|\bround\b" if held else r"\bno\b|\bnot\b|cancel|wasn't|didn't"
        forbid = [r"\bno race\b|cancel|wasn't held|was not held|\bnot on\b"] if held else [r"\byes\b"]
        out.append(rec(f"c8-held-{k}", 8, q.format(a=alias, y=year), [exp], forbid,
                       f"races.csv: race at {alias} in {year} {'held' if held else 'not held'}"))
    # class 9: a driver asked about a season he did not race in
    rng = g.rng("extra-absent-season")
    for k, (dref, year) in enumerate([("norris", 2017), ("piastri", 2021), ("hamilton", 2005), ("max_verstappen", 2014),
                                      ("leclerc", 2016), ("antonelli", 2024), ("vettel", 2024), ("senna", 1995)]):
        did = ref_id[dref]
        assert not any(g.entry(r, did) for r in g.e.held(year)), (dref, year)
        q = rng.choice(["how many points did {d} score in {y}", "{dp} wins in {y}?", "{dp} {y} season", "where did {d} finish in {y}"])
        q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), y=g.year_words(year, rng))
        out.append(rec(f"c9-absent-season-{k}", 9, q, [REFUSE],
                       [FORBID_WON, rf"(?:{g.n.driver_re(did)})[^\n]{{0,40}}(?:\bP\d{{1,2}}\b|\b[1-9]\d* (?:pts|points|wins))"],
                       f"results.csv: driverId={did} has no row in {year}"))
    # class 10: team follow-ups
    rng = g.rng("extra-team-followups")
    for k, year in enumerate(sorted(rng.sample(range(2014, g.latest_year + 1), 4))):
        a_ref, b_ref = rng.sample(sorted(NICK_TEAMS), 2)
        ids = {ref: next(i for i, c in g.e.constructors.items() if c["constructorRef"] == ref) for ref in (a_ref, b_ref)}
        n = {ref: sum(1 for race in g.e.held(year) for r in g.results(race)
                      if r["constructorId"] == ids[ref] and r["position"] == 1) for ref in ids}
        t1 = rng.choice(["how many wins did {t} get in {y}", "{t} wins {y}?"]).format(
            t=rng.choice(NICK_TEAMS[a_ref]), y=g.year_words(year, rng))
        t2 = rng.choice(["and {t}?", "what about {t}"]).format(t=rng.choice(NICK_TEAMS[b_ref]))
        def wins(m: int) -> str:
            return count_re(m, r"(?:wins?|races?|victor|gps?)") + (
                r"|\b(?:no|zero|0)\b[^.\n]{0,20}\bwins?\b|\bdid(?:n't| not) win\b" if m == 0 else "")
        out.append(rec(f"c10-team-{k}", 10, [t1, t2], [[wins(n[a_ref])], [wins(n[b_ref])]], [[], []],
                       f"results.csv position=1 in {year}, constructorRefs {a_ref}, {b_ref}"))
    return out


ALL = [c1_names, c2_positions, c3_detail, c4_laps, c5_quali, c6_standings, c7_history, c8_schedule,
       c9_unanswerable, c10_followups, c_extra]


def c_extra2(g: Gen) -> list[Rec]:
    """Did-not-start, lead changes, best lap on a compound, team points gaps."""
    out: list[Rec] = []
    rng = g.rng("extra-dns")
    dns = [(race, r) for y in range(1995, g.latest_year + 1) for race in g.e.held(y) for r in g.results(race)
           if g.status(r) in ("Did not start", "Withdrew") and not r["laps"]]  # "Withdrew" after laps = retired
    for k, (race, row) in enumerate(rng.sample(dns, 5)):
        q = rng.choice(["did {d} start {r}?", "did {d} race at {r}", "{dp} race at {r}?"]).format(
            d=g.n.driver_q(row["driverId"], rng), dp=g.n.driver_q(row["driverId"], rng, possessive=True), r=g.race_q(race, rng))
        out.append(rec(f"c3-dns-{k}", 3, q, [r"did(?:n't| not) (?:start|race|take part)|\bDNS\b|non-?starter|withdr|\bnot start"],
                       [rf"(?:{g.n.driver_re(row['driverId'])})[^\n]{{0,30}}finished"],
                       f"results.csv status '{g.status(row)}' driverId={row['driverId']} {g.race_label(race)}"))
    rng = g.rng("extra-laps")
    k = 0
    for (year, rnd), lr in sorted(g.laps.items()):
        race = g.e.race(year, rnd)
        if positions_ok(g, race, lr):
            leaders = []
            for n in range(1, lr.total_laps + 1):
                who = [c for c, laps in lr.laps.items() if laps.get(n, {}).get("pos") == 1]
                leaders.append(who[0] if len(who) == 1 else None)
            if None not in leaders:
                changes = sum(1 for a, b in zip(leaders, leaders[1:], strict=False) if a != b)
                q = rng.choice(["how many lead changes were there at {r}", "lead changes {r}?", "how often did the lead change at {r}"])
                exp = count_re(changes, r"(?:lead changes?|changes?|times)") + (
                    r"|\bno lead changes?\b|\bnever changed\b|led every lap|\bled (?:all|from start to finish)" if changes == 0 else "")
                out.append(rec(f"c4-changes-{year}-{rnd}", 4, q.format(r=g.race_q(race, rng)), [exp], [],
                               f"FastF1 laps of {g.race_label(race)}: Position==1 driver changes lap to lap"))
        for code in rng.sample(sorted(c for c in lr.laps if c in g.code_to_id), 3):
            by: dict[str, list[float]] = defaultdict(list)
            for lap in lr.laps[code].values():
                if lap["time_s"] and not lap["deleted"] and lap["compound"] in ("SOFT", "MEDIUM", "HARD"):
                    by[lap["compound"]].append(lap["time_s"])
            if len(by) < 2:
                continue
            comp = rng.choice(sorted(by))
            word = {"SOFT": "softs", "MEDIUM": "mediums", "HARD": "hards"}[comp]
            did = g.code_to_id[code]
            q = rng.choice(["{dp} best lap on {w} at {r}", "{dp} fastest lap on the {w} {r}?", "quickest lap {d} did on {w} at {r}"])
            q = q.format(d=g.n.driver_q(did, rng), dp=g.n.driver_q(did, rng, possessive=True), w=word, r=g.race_q(race, rng))
            out.append(rec(f"c4-compound-{k:03d}", 4, q, [time_re(min(by[comp]))], [],
                           f"FastF1 laps of {g.race_label(race)}: min LapTime of {code} on {comp}, deleted laps left out"))
            k += 1
            break
    rng = g.rng("extra-pole-then-win")
    has_q = lambda r: r["raceId"] in g.e.qualifying and not _sprint_pole_year(g, r) and g.winner(r)  # noqa: E731
    for k, race in enumerate(g.pick_races(rng, 5, since=1996, need=has_q)):
        pole = [r for r in g.e.qualifying[race["raceId"]] if r["position"] == 1][0]["driverId"]
        t1 = rng.choice(["who was on pole at {r}", "pole at {r}?", "who got pole in {r}"]).format(r=g.race_q(race, rng))
        t2 = rng.choice(["and who won?", "did he win it?", "and the race winner?"])
        w = g.n.driver_re(g.winner(race))
        exp2, forbid2 = [w], []
        if t2 == "did he win it?" and pole == g.winner(race):  # "yes" is the fact; the name may be left out
            exp2, forbid2 = [r"\byes\b|" + near(w, r"\bwon\b|\bwin\b", 40)], [r"^\W*no\b"]
        out.append(rec(f"c10-polewin-{k}", 10, [t1, t2], [[g.n.driver_re(pole)], exp2], [[], forbid2],
                       f"qualifying.csv position=1 and results.csv position=1 of {g.race_label(race)}"))
    rng = g.rng("extra-team-gap")
    for k, race in enumerate(g.pick_races(rng, 5, since=1990, need=lambda r: r["raceId"] in g.e.cstand and r["round"] > 2)):
        cs = g.e.cstand[race["raceId"]]
        a, b = cs[0], cs[1]
        gap = a["points"] - b["points"]
        if gap <= 0 or a["position"] != 1 or b["position"] != 2:
            continue
        q = rng.choice(["points gap between {a} and {b} after {r}", "how far ahead were {a} of {b} after {r}?"])
        q = q.format(a=g.n.team_q(a["constructorId"], rng), b=g.n.team_q(b["constructorId"], rng), r=g.race_q(race, rng))
        out.append(rec(f"c6-teamgap-{k}", 6, q, [count_re(gap, r"(?:pts|points)") + "|" + near(
            rf"(?<![\d.]){num_text(gap)}(?![\d]|\.\d)", r"\b(?:ahead|gap|lead|behind|clear)\b", 40)], [],
            f"constructor_standings.csv raceId {race['raceId']} ({g.race_label(race)}): P1 minus P2 points"))
    return out


ALL.append(c_extra2)
