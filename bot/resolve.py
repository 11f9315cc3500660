"""Free text → entities: season, event, session, drivers, lap range, focus.

Races are named loosely ("monza", "italian gp", "italy 2023", "last race",
"round 14"); drivers by code, number, surname, full name or nickname. Names
that match nothing but look close to something get "did you mean" suggestions
(difflib), raised as `UserError` so the user sees a short, helpful reply.

Defaults: no race named → the latest race with data (with lap data for
lap-based questions: pace, stints, laps, compare).
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import difflib
import gc
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from bot import messages as m
from bot.errors import UserError
from bot.plan import QueryPlan
from storage.queries import (
    _EVENT_NOISE,
    NICKNAMES,
    DriverInfo,
    EventInfo,
    event_keys,
    fold,
)
from storage.store import Store

SESSION_WORDS: dict[str, str] = {
    "race": "R",
    "gp": "R",
    "grand prix": "R",
    "quali": "Q",
    "qualifying": "Q",
    "qualy": "Q",
    "pole": "Q",
    "sprint": "S",
    "sprint qualifying": "SQ",
    "sprint shootout": "SQ",
    "shootout": "SQ",
    "fp1": "FP1",
    "fp2": "FP2",
    "fp3": "FP3",
    "practice 1": "FP1",
    "practice 2": "FP2",
    "practice 3": "FP3",
}
KIND_TO_SESSION = {"race": "R", "sprint": "S", "quali": "Q", "qualifying": "Q", "sprint_quali": "SQ"}
LAP_FOCUSES = {"compare", "stints", "laps", "pace"}
# Facts only FastF1-ingested sessions hold: without a named race, the latest race with lap data.
SESSION_DATA_FOCUSES = {"weather", "flags", "penalties"}
# Focuses that cannot be answered without naming drivers (how many): a leftover word there
# is taken as a driver we don't know ("laps for XYZ") instead of being ignored.
DRIVERS_NEEDED = {"laps": 1, "compare": 2}

# Focus keywords, checked in order (first match wins).
_FOCUS_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("schedule", re.compile(r"\b(next (race|session|gp|grand prix)|when is|when's|schedule|upcoming|calendar)\b")),
    ("standings", re.compile(r"\b(standings?|championship|title|leads? the|leader|points table|wdc|wcc)\b")),
    # Session conditions and race control (FastF1-ingested sessions hold them).
    ("weather", re.compile(
        r"\bweather\b|\brain(s|ing|ed|fall|y)?\b|\bwet\b(?! (tyres?|tires?))|\bdry\b(?! (tyres?|tires?))|"
        r"\btemperatures?\b|\btemps?\b|\bhumid(ity)?\b|\bwind(y)?\b|\bsunny\b|\bconditions\b")),
    ("flags", re.compile(
        r"\bsafety cars?\b|\bsc\b|\bvsc\b|\bvirtual safety\b|\byellows?\b|\bred flag|\bflags?\b|"
        r"\btrack status\b|\bneutrali[sz]|\bcautions?\b")),
    ("penalties", re.compile(
        r"\bpenalt(y|ies)\b|\bpenali[sz]ed\b|\bstewards?\b|\binvestigat|\btrack limits\b|\breprimand|"
        r"\bdisqualif|\bdeleted\b|\bincidents?\b|\bcollisions?\b|\bwarnings?\b")),
    ("fastest_lap", re.compile(r"\bfastest lap|\bquickest lap|\bbest lap")),
    ("pole", re.compile(r"\bpole\b")),
    ("pitstops", re.compile(r"\bpit ?stops?\b|\bpitted\b|\bpits?\b|\bstops?\b")),
    ("stints", re.compile(r"\bstints?\b|\btyres?\b|\btires?\b|\bcompounds?\b|\bstrateg")),
    ("compare", re.compile(r"\bcompare\b|\bvs\.?\b|\bversus\b|\bhead to head\b|\bh2h\b|\bfaster than\b|\bquicker than\b|\bpace\b")),
    ("gap", re.compile(r"\bgaps?\b|\bmargin\b|\bbehind\b|\bahead\b|\bby how much\b")),
    ("podium", re.compile(r"\bpodium|\btop (3|three)\b")),
    ("winner", re.compile(r"\bwon\b|\bwin(ner|s)?\b|\bvictor")),
    ("laps", re.compile(r"\blap times?\b|\blaps\b")),
    ("results", re.compile(r"\bresults?\b|\bclassification\b|\bfinish(ed|ing)?\b|\bwhere did\b|\bhow did\b|\bplace[ds]?\b|\bposition\b")),
    ("form", re.compile(r"\bform\b|\bseason\b|\bso far\b")),
]

# Ordinary words that must never be read as a driver code or a misspelled name.
_COMMON = set(
    "a an and are at be by did do does for from get got had has have how in is it its last lap laps me "
    "my of on or per race races so than that the their then this to up vs was were what when where "
    "which who why will with won win after before between first during lead led best fast fastest "
    "compare pace gap gaps stint stints tyre tyres tire tires pit pits stop stops pole podium result "
    "results round season grand prix team teams driver drivers points standings championship "
    "quali qualifying sprint practice please tell show give about much many time times ignore "
    "previous instructions post everyone here channel all again say said".split()
)
_CODE_WORDS = {"per", "law", "nor", "gas", "bot", "dev", "mag", "str", "lat", "max", "sai", "ric", "alo", "dam"}
# Words of the questions we answer: never a misspelled driver, team or race.
_VOCAB = set(
    "weather rain rains raining rained rainfall rainy wet dry temperature temperatures temp temps track air "
    "humidity humid wind windy sunny conditions safety virtual yellow yellows flag flags status neutralised "
    "neutralized caution cautions penalty penalties penalised penalized steward stewards investigation "
    "investigations investigated limits deleted incident incidents collision collisions reprimand "
    "reprimands warning warnings disqualified control any there give given list show tell during "
    "times lap laps whole race sprint quali pole podium grand prix weekend gp circuit".split()
)
# Capitals that are not driver codes ("was there a VSC", "any DRS trains").
_NOT_CODES = {"drs", "fia", "vsc", "sc", "gp", "dnf", "dns", "dsq", "utc", "f1", "wdc", "wcc", "rbr", "fp1",
              "fp2", "fp3", "h2h", "usa", "uk", "ok", "vs", "tv", "ai"}


# The plan type; the first resolver called it `Resolved`.
Resolved = QueryPlan


# --------------------------------------------------------------------------- indexes
#
# The resolver runs on the event loop for every question. Scanning every event's
# keys per phrase (`storage.queries.match_events`) costs milliseconds over the full
# history (1,100+ events) — time during which the loop serves nobody else. So the
# indexes below are built once per DATA VERSION by the store (`Store.derive`): in a
# worker thread, shared by concurrent questions, and dropped when race data changes
# (never by time), so a quiet channel's first question finds them warm and at most
# one version's indexes are alive.


class EventIndex:
    """`match_events` over a fixed list of events, by dictionary instead of by scan.

    Same scores and order as `storage.queries.match_events` (a test compares them):
    an exact key scores its weight, else the best key starting with the text
    x 0.7, else the best single-word key x 0.5.
    """

    __slots__ = ("_by_key", "_keys", "_memo")

    def __init__(self, events: Sequence[EventInfo]) -> None:
        by_key: dict[str, list[tuple[float, EventInfo]]] = {}
        for e in events:
            for k, w in event_keys(e).items():
                by_key.setdefault(k, []).append((w, e))
        self._by_key = by_key
        self._keys = sorted(by_key)
        self._memo: OrderedDict[str, list[tuple[float, EventInfo]]] = OrderedDict()

    def match(self, text: str) -> list[tuple[float, EventInfo]]:
        hit = self._memo.get(text)
        if hit is not None:
            return hit
        out = self._match(text)
        self._memo[text] = out
        if len(self._memo) > 4096:
            self._memo.popitem(last=False)
        return out

    def _match(self, text: str) -> list[tuple[float, EventInfo]]:
        query = " ".join(w for w in fold(text).split() if w not in _EVENT_NOISE)
        if not query:
            return []
        # id(event) keys: frozen dataclasses hash all their fields on every lookup.
        exact: dict[int, float] = {}
        prefix: dict[int, float] = {}
        word: dict[int, float] = {}
        events: dict[int, EventInfo] = {}
        for w, e in self._by_key.get(query, ()):
            exact[id(e)] = w
            events[id(e)] = e
        if len(query) >= 3:
            i = bisect.bisect_left(self._keys, query)
            while i < len(self._keys) and self._keys[i].startswith(query):
                for w, e in self._by_key[self._keys[i]]:
                    if w * 0.7 > prefix.get(id(e), 0.0):
                        prefix[id(e)] = w * 0.7
                    events[id(e)] = e
                i += 1
        for qw in query.split():
            if len(qw) < 3:
                continue
            for w, e in self._by_key.get(qw, ()):
                if w * 0.5 > word.get(id(e), 0.0):
                    word[id(e)] = w * 0.5
                events[id(e)] = e
        scored = [
            (exact.get(k) or prefix.get(k) or word.get(k, 0.0), e) for k, e in events.items()
        ]
        scored.sort(key=lambda se: (se[0], se[1].year, se[1].round), reverse=True)
        return scored


@dataclass(slots=True)
class _DriverIndex:
    names: dict[str, DriverInfo]  # folded surname / full name / nickname -> driver
    codes: dict[str, DriverInfo]  # lower-case code -> driver


async def event_index(
    store: Store, year: int | None, *, today: dt.date | None = None
) -> tuple[EventIndex, list[EventInfo]]:
    """(index, candidates) for the season's events (all events if `year` is None),
    keeping only events up to `today` if given."""
    async def inputs() -> tuple[list[EventInfo], dt.date | None]:
        return await store.events(year), today

    return await store.derive(("event_index", year, today), _build_event_index, inputs)


def _build_event_index(
    events: list[EventInfo], today: dt.date | None
) -> tuple[EventIndex, list[EventInfo]]:
    cands = events
    if today is not None:
        # Prefer races that already happened when no season was named.
        cands = [e for e in events if e.date is None or e.date <= today] or events
    return EventIndex(cands), cands


async def driver_index(store: Store, year: int | None) -> _DriverIndex:
    """Name and code lookups for the season's drivers (every driver if no season or none in it)."""
    async def inputs() -> tuple[list[DriverInfo]]:
        pool = await (store.drivers_in_season(year) if year else store.all_drivers())
        return (pool or await store.all_drivers(),)

    return await store.derive(("driver_index", year), _build_driver_index, inputs)


def _build_driver_index(pool: list[DriverInfo]) -> _DriverIndex:
    names: dict[str, DriverInfo] = {}
    for d in sorted(pool, key=lambda d: d.id):  # later ids (newer drivers) win ties
        if d.last_name:
            names[fold(d.last_name)] = d
        names[fold(d.name)] = d
    by_ref = {d.ref: d for d in pool}
    for nick, ref in NICKNAMES.items():
        if ref in by_ref:
            names[nick] = by_ref[ref]
    return _DriverIndex(names, {d.code.lower(): d for d in pool if d.code})


async def warm_up(store: Store, *, now: dt.datetime | None = None) -> None:
    """Build what the first questions need, then freeze the long-lived heap.

    Call once at start, after wiring (the lead wires it). `gc.freeze()` moves every
    object alive now (modules, indexes, cached lists) out of the collector's reach,
    so full collections no longer walk them (they blocked the loop 55-350 ms).
    """
    now = now or dt.datetime.now(dt.UTC)
    seasons = await store.seasons()
    await event_index(store, None, today=now.date())
    await driver_index(store, None)
    if seasons:
        await event_index(store, max(seasons))
        await driver_index(store, max(seasons))
        await store.constructors_in_season(max(seasons))
    await store.last_event_with_results()
    gc.collect()
    gc.freeze()


# --------------------------------------------------------------------------- races


def _split_race_text(text: str) -> tuple[str, int | None, int | None, bool]:
    """(name words, year, round, 'last race') from loose race text."""
    t = fold(text)
    year = None
    if ym := re.search(r"\b(19[5-9]\d|20\d\d)\b", t):
        year = int(ym.group(1))
        t = t.replace(ym.group(1), " ")
    rnd = None
    if rm := re.search(r"\b(?:round|rd|r)\s*(\d{1,2})\b", t):
        rnd = int(rm.group(1))
        t = t[: rm.start()] + " " + t[rm.end() :]
    last = bool(re.search(r"\b(last|latest|previous|most recent)\b", t))
    t = re.sub(r"\b(last|latest|previous|most recent|race|the|in|at|of)\b", " ", t)
    return " ".join(t.split()), year, rnd, last


async def resolve_event(
    store: Store, text: str | None, *, year: int | None = None, need_laps: bool = False,
    now: dt.datetime | None = None,
) -> EventInfo:
    """Loose race text → one event, or `UserError` with suggestions."""
    name, y, rnd, last = _split_race_text(text or "")
    year = y or year
    if rnd is not None:
        if year is None:
            latest = await store.last_event_with_results()
            year = latest.year if latest else None
        ev = await store.event_by_round(year, rnd) if year else None
        if ev is None:
            raise UserError(m.UNKNOWN_ROUND.format(round=rnd, year=year or "?"))
        return ev
    if not name or last:
        ev = await (store.last_event_with_laps(year=year) if need_laps else store.last_event_with_results(year=year))
        if ev is None and need_laps:
            ev = await store.last_event_with_results(year=year)
        if ev is None:
            if year is not None and year not in await store.seasons():
                raise UserError(m.UNKNOWN_SEASON.format(year=year))
            raise UserError(m.NO_DATA)
        return ev
    if year is not None and year not in await store.seasons():
        raise UserError(m.UNKNOWN_SEASON.format(year=year))
    index, candidates = await event_index(
        store, year, today=now.date() if year is None and now is not None else None)
    found = index.match(name)
    if found:
        return found[0][1]
    suggestions = _suggest_events(candidates, name)
    shown = name[:40]
    msg = m.UNKNOWN_RACE_IN_SEASON.format(text=shown, year=year) if year else m.UNKNOWN_RACE.format(text=shown)
    if suggestions:
        msg += " " + m.DID_YOU_MEAN.format(options=_or(suggestions))
    raise UserError(msg, suggestions=suggestions)


def _suggest_events(candidates: list[EventInfo], name: str, cutoff: float = 0.6) -> list[str]:
    """Up to three "did you mean" labels (venue, else race name), one per venue."""
    by_key: dict[str, str] = {}
    for e in sorted(candidates, key=lambda e: (e.year, e.round), reverse=True):
        for k in event_keys(e):
            by_key.setdefault(k, e.location or e.name)
    close = difflib.get_close_matches(fold(name), list(by_key), n=6, cutoff=cutoff)
    out: list[str] = []
    for k in close:
        if by_key[k] not in out:
            out.append(by_key[k])
    return out[:3]


# --------------------------------------------------------------------------- drivers


async def resolve_driver(store: Store, text: str, *, year: int | None = None) -> DriverInfo:
    """Driver text → one driver, or `UserError` with suggestions."""
    found = await store.find_drivers(text, year=year)
    if found:
        return found[0]
    pool = await (store.drivers_in_season(year) if year else store.all_drivers())
    suggestions = await _suggest(pool, text) or (await _suggest(await store.all_drivers(), text) if year else [])
    _raise_unknown_driver(text, suggestions)


async def _suggest(pool: list[DriverInfo], text: str, cutoff: float = 0.6) -> list[str]:
    """`suggest_drivers`, in a worker thread when the pool is large (all of history:
    difflib over thousands of names would hold the event loop for milliseconds)."""
    if len(pool) > 100:
        return await asyncio.to_thread(suggest_drivers, pool, text, cutoff)
    return suggest_drivers(pool, text, cutoff)


def suggest_drivers(pool: list[DriverInfo], text: str, cutoff: float = 0.6) -> list[str]:
    names: dict[str, str] = {}
    for d in pool:
        if d.last_name:
            names.setdefault(fold(d.last_name), d.name)
        names.setdefault(fold(d.name), d.name)
        if d.code:
            names.setdefault(d.code.lower(), d.name)
    for nick, ref in NICKNAMES.items():
        for d in pool:
            if d.ref == ref:
                names.setdefault(nick, d.name)
    folded = fold(text)
    close = difflib.get_close_matches(folded, list(names), n=3, cutoff=cutoff)
    # Only the near-best: "verstapen" suggests Verstappen, not also a far weaker Ocon.
    scores = [difflib.SequenceMatcher(None, folded, k).ratio() for k in close]
    out: list[str] = []
    for k, s in zip(close, scores, strict=True):
        if s >= scores[0] - 0.1 and names[k] not in out:
            out.append(names[k])
    return out


def _or(items: list[str]) -> str:
    items = [f"**{i}**" for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


# --------------------------------------------------------------------------- questions


def parse_lap_range(t: str) -> tuple[int | None, int | None] | None:
    if mt := re.search(r"\blaps? (\d{1,3}) ?(?:-|to|and) ?(?:lap )?(\d{1,3})\b", t):
        a, b = int(mt.group(1)), int(mt.group(2))
        return (min(a, b), max(a, b))
    if mt := re.search(r"\b(?:after|from|since) lap (\d{1,3})\b", t):
        return (int(mt.group(1)) + (0 if "from" in mt.group(0) else 1), None)
    if mt := re.search(r"\b(?:before|until|up to) lap (\d{1,3})\b", t):
        return (None, int(mt.group(1)) - (0 if "until" in mt.group(0) or "up to" in mt.group(0) else 1))
    if mt := re.search(r"\bfirst (\d{1,3}) laps\b", t):
        return (1, int(mt.group(1)))
    if mt := re.search(r"\blap (\d{1,3})\b", t):
        return (int(mt.group(1)), int(mt.group(1)))
    return None


def _focus(t: str) -> str:
    for name, pat in _FOCUS_RULES:
        if pat.search(t):
            return name
    return "unknown"


async def _drivers_in_text(
    store: Store, original: str, year: int | None
) -> tuple[list[DriverInfo], list[tuple[str, bool]]]:
    """Drivers named in a sentence, in order; plus leftover words (word, capitalised)."""
    dindex = await driver_index(store, year)
    index, codes = dindex.names, dindex.codes
    # "VER's" / "Max's" name VER / Max: the possessive is not part of the name.
    raw_words = [re.sub(r"['’]s$", "", w) or w for w in re.findall(r"[#\w'’.-]+", original)]
    words = [fold(w) for w in raw_words]
    found: list[DriverInfo] = []
    unknown: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        hit = None
        for n in (3, 2, 1):
            phrase = " ".join(words[i : i + n])
            if phrase in index:
                hit, step = index[phrase], n
                break
        if hit is None:
            w, rw = words[i], raw_words[i]
            if w in codes and (w not in _CODE_WORDS or rw.isupper()) and (rw.isupper() or w not in _COMMON):
                hit, step = codes[w], 1
            elif rw.startswith("#") and w.isdigit():
                ds = await store.find_drivers(w, year=year)
                hit, step = (ds[0] if ds else None), 1
        if hit is not None:
            if hit not in found:
                found.append(hit)
            i += step
            continue
        w = words[i]
        if len(w) >= 2 and w not in _COMMON and w not in _VOCAB and not w.strip("#").isdigit():
            unknown.append((raw_words[i], raw_words[i][:1].isupper() and i > 0))
        i += 1
    return found, unknown


async def resolve_question(store: Store, text: str, *, now: dt.datetime) -> Resolved:
    """Resolve a free question. Raises `UserError` for a named but unknown race or driver."""
    t = fold(text)
    res = Resolved(text=text, focus=_focus(t))
    if re.search(r"\bconstructors?\b|\bteams?\b|\bwcc\b", t) and res.focus == "standings":
        res.standings_kind = "constructors"
    for phrase, code in sorted(SESSION_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{phrase}\b", t):
            res.session_type = code
            break
    if res.focus == "pole":
        res.session_type = "Q"
    res.lap_range = parse_lap_range(t)
    if ym := re.search(r"\b(19[5-9]\d|20\d\d)\b", t):
        res.year = int(ym.group(1))
    if rm := re.search(r"\bround (\d{1,2})\b", t):
        res.round = int(rm.group(1))

    # The race: try every phrase of up to 3 words against the events.
    seasons = await store.seasons()
    if not seasons:
        raise UserError(m.NO_DATA)
    if res.year is not None and res.year not in seasons:
        raise UserError(m.UNKNOWN_SEASON.format(year=res.year))
    index, candidates = await event_index(store, res.year, today=None if res.year else now.date())
    res.event, event_words = _event_in_text(index, t)
    res.drivers, unknown = await _drivers_in_text(store, text, res.year or (res.event.year if res.event else None))
    unknown = [(w, c) for w, c in unknown if fold(w) not in event_words]
    if res.round is not None and res.event is None:
        year = res.year or (await store.last_event_with_results() or candidates[-1]).year
        res.event = await store.event_by_round(year, res.round)
        if res.event is None:
            raise UserError(m.UNKNOWN_ROUND.format(round=res.round, year=year))
    team_year = res.year or (res.event.year if res.event else (max(seasons) if seasons else None))
    team_keys: dict[str, tuple[str, str]] = {}
    if team_year is not None and (unknown or standings_or_results(res.focus)):
        # Team names are never unknown words, whatever the focus ("weather for Ferrari").
        team_keys = _team_keys(await store.constructors_in_season(team_year))
        teams, unknown = _teams_in_text(team_keys, t, unknown)
        if standings_or_results(res.focus):
            res.teams = teams
        if res.teams and not res.drivers and res.focus in ("unknown", "form"):
            res.focus = "results"  # "how did Ferrari do at Monza"
    if unknown:
        await _check_unknown_names(
            store, unknown, candidates, event_found=res.event is not None, team_keys=team_keys,
            year=team_year, drivers_missing=DRIVERS_NEEDED.get(res.focus, 0) > len(res.drivers),
        )
    if res.focus == "unknown" and len(res.drivers) == 1:
        res.focus = "form" if res.event is None else "results"
    if res.focus == "unknown" and len(res.drivers) >= 2:
        res.focus = "compare"
    if res.focus in ("winner", "podium") and len(res.drivers) >= 2:
        res.focus = "compare"
    # "gap between VER and PER" keeps focus "gap": one figure, not a whole head-to-head.
    if res.focus == "schedule" or res.focus == "form" and res.event is None:
        return res
    if res.focus == "standings":
        return res
    if res.event is None:
        need_laps = res.focus in LAP_FOCUSES or res.focus in SESSION_DATA_FOCUSES or res.lap_range is not None
        if need_laps:
            res.event = await store.last_event_with_laps(year=res.year)
        if res.event is None:
            res.event = await store.last_event_with_results(year=res.year, session_type=res.session_type)
        if res.event is None:
            res.event = await store.last_event_with_results(year=res.year)
        if res.event is not None:
            res.notes.append("default_event")
    if res.event is not None:
        res.year = res.event.year
        res.session = await store.session_for(res.event.id, res.session_type)
    return res


# Words in team names that name no team on their own, and the short names fans use.
_TEAM_NOISE = {"f1", "team", "racing", "scuderia", "formula", "one", "bwt", "the"}
TEAM_ALIASES = {
    "rbr": "red_bull", "redbull": "red_bull", "merc": "mercedes", "aston": "aston_martin",
    "alpha tauri": "alphatauri", "sauber": "sauber", "toro rosso": "toro_rosso", "racing point": "racing_point",
}


def standings_or_results(focus: str) -> bool:
    """Focuses where a named team narrows the answer (its drivers' results, gaps)."""
    return focus in ("unknown", "form", "results", "winner", "podium", "gap", "standings")


def _team_keys(teams: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    keys: dict[str, tuple[str, str]] = {}
    by_ref = {ref: (ref, name) for ref, name in teams}
    for ref, name in teams:
        stem = " ".join(w for w in fold(name).split() if w not in _TEAM_NOISE)
        for k in (stem, fold(ref.replace("_", " "))):
            if len(k) >= 3 and k not in _COMMON:
                keys[k] = (ref, name)
    for alias, ref in TEAM_ALIASES.items():
        if ref in by_ref:
            keys[alias] = by_ref[ref]
    return keys


def _teams_in_text(
    keys: dict[str, tuple[str, str]], t: str, unknown: list[tuple[str, bool]]
) -> tuple[list[tuple[str, str]], list[tuple[str, bool]]]:
    """Teams named in folded text (keys of that season's teams); the leftover unknown words without them."""
    if not keys:
        return [], unknown
    words = t.split()
    found: list[tuple[str, str]] = []
    used: set[str] = set()
    i = 0
    while i < len(words):
        for n in (2, 1):
            phrase = " ".join(words[i : i + n])
            if phrase in keys:
                if keys[phrase] not in found:
                    found.append(keys[phrase])
                used.update(words[i : i + n])
                i += n
                break
        else:
            i += 1
    return found, [(w, c) for w, c in unknown if fold(w) not in used]


def _event_in_text(index: EventIndex, t: str) -> tuple[EventInfo | None, set[str]]:
    """The best-matching event named in folded text, and the words of the phrase that named it."""
    words = [w for w in re.sub(r"\b(19[5-9]\d|20\d\d)\b", " ", t).split()]
    best: tuple[float, EventInfo, str] | None = None
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            phrase = " ".join(words[i : i + n])
            if n == 1 and (phrase in _COMMON or phrase in _VOCAB or len(phrase) < 3):
                continue
            for score, ev in index.match(phrase)[:1]:
                if score >= 0.85 and (best is None or score > best[0]):
                    best = (score, ev, phrase)
    if best is None:
        return None, set()
    return best[1], set(best[2].split())


async def _check_unknown_names(
    store: Store, unknown: list[tuple[str, bool]], events: list[EventInfo], *, event_found: bool,
    team_keys: dict[str, tuple[str, str]], year: int | None, drivers_missing: bool,
) -> None:
    """Leftover words that name something we don't know → "I don't know ..., did you mean"
    instead of a generic answer about something else.

    - a word in capitals shaped like a driver code ("XYZ"), or any leftover word when
      the question needs a driver it didn't get ("laps for bob"): an unknown driver;
    - a capitalised word (not first in the sentence) close to a driver or a team name,
      or a lower-case word very close to a team or to a driver of that season: the
      nearer of the two ("Ferari" → Ferrari, "Verstapen" → Max Verstappen);
    - any leftover word close to a race name when no race was recognised ("monzza").
    """
    drivers: list[DriverInfo] | None = None
    season_pool: list[DriverInfo] | None = None
    for word, capitalised in unknown:
        w = fold(word).strip("#'’.-")
        if len(w) < 2:
            continue
        code_like = word.isupper() and word.isalpha() and 2 <= len(word) <= 4 and w not in _NOT_CODES
        if code_like or drivers_missing:
            if season_pool is None:
                season_pool = (await store.drivers_in_season(year) if year else []) or await store.all_drivers()
            _raise_unknown_driver(word, await _suggest(season_pool, word))
        if len(w) < 4:
            continue
        if capitalised:
            drivers = drivers if drivers is not None else await store.all_drivers()
            pool, cutoff = drivers, 0.75
        else:
            if season_pool is None:
                season_pool = (await store.drivers_in_season(year) if year else []) or await store.all_drivers()
            pool, cutoff = season_pool, 0.85
        if len(pool) > 100:
            # difflib over every driver in history costs a millisecond or more: not on the loop.
            dsug, dscore = await asyncio.to_thread(_closest_drivers, pool, word, cutoff=cutoff)
        else:
            dsug, dscore = _closest_drivers(pool, word, cutoff=cutoff)
        tsug, tscore = _closest_teams(team_keys, w, cutoff=0.75 if capitalised else 0.8)
        if tsug and tscore >= dscore:
            raise UserError(
                m.UNKNOWN_TEAM.format(text=word[:40]) + " " + m.DID_YOU_MEAN.format(options=_or(tsug)),
                suggestions=tsug,
            )
        if dsug:
            _raise_unknown_driver(word, dsug)
        if not event_found:
            esug = _suggest_events(events, word, cutoff=0.8)
            if esug:
                raise UserError(
                    m.UNKNOWN_RACE.format(text=word[:40]) + " " + m.DID_YOU_MEAN.format(options=_or(esug)),
                    suggestions=esug,
                )


def _raise_unknown_driver(word: str, suggestions: list[str]) -> NoReturn:
    msg = m.UNKNOWN_DRIVER.format(text=word[:40]) + " "
    msg += m.DID_YOU_MEAN.format(options=_or(suggestions)) if suggestions else m.DRIVER_HINT
    raise UserError(msg, suggestions=suggestions)


def _closest_drivers(pool: list[DriverInfo], word: str, *, cutoff: float) -> tuple[list[str], float]:
    """("did you mean" names, similarity of the best) for a word against a driver pool."""
    sug = suggest_drivers(pool, word, cutoff=cutoff)
    if not sug:
        return [], 0.0
    folded = fold(word)
    best = max(difflib.SequenceMatcher(None, folded, fold(k)).ratio()
               for name in sug[:1] for k in (name, *name.split()))
    return sug, best


def _closest_teams(keys: dict[str, tuple[str, str]], word: str, *, cutoff: float) -> tuple[list[str], float]:
    """("did you mean" team names, similarity of the best) for a folded word."""
    close = difflib.get_close_matches(word, list(keys), n=3, cutoff=cutoff)
    names: list[str] = []
    for k in close:
        if keys[k][1] not in names:
            names.append(keys[k][1])
    best = difflib.SequenceMatcher(None, word, close[0]).ratio() if close else 0.0
    return names, best
