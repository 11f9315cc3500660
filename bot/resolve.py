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
from dataclasses import dataclass, field
from typing import NoReturn

from bot import messages as m
from bot.errors import UserError
from bot.lexicon import TEAM_NICKNAMES
from bot.plan import QueryPlan
from storage.queries import (
    _EVENT_NOISE,
    NICKNAMES,
    DriverInfo,
    EventInfo,
    all_constructors,
    drivers_by_starts,
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

    def keys(self) -> list[str]:
        """Every name this index knows (for spelling suggestions)."""
        return self._keys

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
    firsts: dict[str, list[DriverInfo]] = field(default_factory=dict)  # folded first name -> drivers


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


async def upcoming_event_index(store: Store, today: dt.date) -> EventIndex:
    """Races still to come (on or after `today`), each place once: its next running.
    A forecast question names the coming race ("predict monza"), not the last one run."""
    async def inputs() -> tuple[list[EventInfo], dt.date]:
        return await store.events(None), today

    return await store.derive(("upcoming_index", today), _build_upcoming_index, inputs)


def _build_upcoming_index(events: list[EventInfo], today: dt.date) -> EventIndex:
    coming = sorted((e for e in events if e.date is not None and e.date >= today), key=lambda e: e.date or today)
    seen: set[str] = set()
    first: list[EventInfo] = []
    for e in coming:
        place = e.circuit_ref or e.name
        if place not in seen:
            seen.add(place)
            first.append(e)
    return EventIndex(first)


async def driver_index(store: Store, year: int | None) -> _DriverIndex:
    """Name and code lookups for the season's drivers (every driver if no season or none in it)."""
    async def inputs() -> tuple[list[DriverInfo]]:
        pool = await store.drivers_in_season(year) if year else []
        return (pool or await store.run(drivers_by_starts),)

    return await store.derive(("driver_index", year), _build_driver_index, inputs)


def _build_driver_index(pool: list[DriverInfo]) -> _DriverIndex:
    names: dict[str, DriverInfo] = {}
    for d in pool:  # later entries win a shared name: `drivers_by_starts` puts long careers last
        if d.last_name:
            names[fold(d.last_name)] = d
        names[fold(d.name)] = d
    # A first name alone ("ayrton", "jenson") names a driver when nobody else in the pool has it.
    firsts: dict[str, list[DriverInfo]] = {}
    for d in pool:
        if d.first_name:
            firsts.setdefault(fold(d.first_name), []).append(d)
    # Over all of history only the long careers (the last third of `drivers_by_starts`):
    # "ayrton" is Senna, but "albert" must stay free for "albert park".
    known = set(id(d) for d in (pool[-len(pool) // 3:] if len(pool) > 100 else pool))
    for first, ds in firsts.items():
        if len(ds) == 1 and len(first) >= 4 and first not in names and id(ds[0]) in known:
            names[first] = ds[0]
    by_ref = {d.ref: d for d in pool}
    for nick, ref in NICKNAMES.items():
        if ref in by_ref:
            names[nick] = by_ref[ref]
    return _DriverIndex(names, {d.code.lower(): d for d in pool if d.code}, firsts)


async def all_teams(store: Store) -> dict[str, str]:
    """Every constructor ref → name, newest name first (team nicknames of any season resolve)."""
    async def inputs() -> tuple[list[tuple[str, str]]]:
        return (await store.run(all_constructors),)

    def build(pairs: list[tuple[str, str]]) -> dict[str, str]:
        d: dict[str, str] = {}
        for ref, name in pairs:
            d.setdefault(ref, name)
        return d

    return await store.derive(("all_teams",), build, inputs)


# Words in team names that name no team on their own (sponsors, engine makers, "team").
_TEAM_NAME_NOISE = {"f1", "team", "racing", "scuderia", "formula", "one", "bwt", "the", "honda", "rbpt", "mercedes",
                    "renault", "ferrari", "tag", "heuer", "aramco", "cognizant", "stake", "kick", "visa", "cash", "app"}


async def team_keys(store: Store, year: int, current: int) -> dict[str, tuple[str, str]]:
    """Team names, stems and nicknames → (ref, name) for a season's teams (the current
    season's too when that season has almost none), built once per data version."""
    async def inputs() -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
        teams = await store.constructors_in_season(year)
        if len(teams) < 3:
            teams = teams + await store.constructors_in_season(current)
        return tuple(teams), await all_teams(store)

    return await store.derive(("team_keys", year, current), _build_team_keys, inputs)


def _build_team_keys(season: tuple[tuple[str, str], ...], every: dict[str, str]) -> dict[str, tuple[str, str]]:
    keys: dict[str, tuple[str, str]] = {}
    for ref, name in season:
        stem = " ".join(w for w in fold(name).split() if w not in _TEAM_NAME_NOISE) or fold(name)
        for k in (stem, fold(ref.replace("_", " ")), fold(name)):
            if len(k) >= 3:
                keys.setdefault(k, (ref, name))
    by_ref = dict(season)
    for nick, ref in TEAM_NICKNAMES.items():
        if ref in by_ref:
            keys[nick] = (ref, by_ref[ref])
        elif ref in every and nick not in keys:
            keys[nick] = (ref, every[ref])
    return keys


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
    latest = await store.last_event_with_results()
    await all_teams(store)
    if latest is not None:
        await team_keys(store, latest.year, latest.year)
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


# --------------------------------------------------------------------------- unknown names


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
