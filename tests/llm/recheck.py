"""An INDEPENDENT re-check of a shown answer against the facts of its question (issue 13).

Written apart from the bot's fact guard on purpose (no import of `bot.factguard`, `bot.claims`,
`bot.grounded`): a second reading of the same text, so the guard's blind spots do not carry over.

`false_claims(text, context)` splits the text into clauses (sentences, then commas / semicolons)
and, per clause, finds the drivers named (surname, forename + surname, or 3-letter code from
`bot.driver_names.DRIVERS`; names in any case and with or without accents) and the numbers
(positions "P3" / "3rd" / "third" / "won" = 1 / "pole" = 1, lap times, gaps, counts, years).
A claim is false when:
- a driver named is not in the context at all (or a forename + surname pair names someone else);
- the clause names a driver of the context and a number in it equals none of that driver's
  values (lap times and gaps compared numerically, the text's rounding allowed). With several
  drivers in one clause, any of them may hold it;
- a number in a clause naming no driver is nowhere in the context;
- a year (1950-2039) is not in the context.
A driver's values are every scalar of each mapping in the context that names the driver (any
string value naming it, except team / race / place keys, or a key equal to its code), the sizes of
that mapping's lists, |grid - pos|, and the plain scalars of the mappings that contain it (a
top-level `gap`, `total` laps). Team, race and place names the context holds are blanked out of
the text first ("Williams" the team is not Williams the driver; "70th Anniversary GP" is no P70).
Calibrated on the bot's own deterministic answers to the answer set's classes 1-7 (all true by
construction): none is flagged (see test_recheck.py).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.driver_names import DRIVERS

# ----------------------------------------------------------------------------------- names


def fold(s: str) -> str:
    """Lower case, no accents, curly quotes straightened."""
    s = unicodedata.normalize("NFKD", s.replace("’", "'"))
    return "".join(c for c in s if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Driver:
    idx: int
    code: str
    forename: str  # folded
    surname: str  # folded


def _load() -> list[Driver]:
    out = []
    for i, line in enumerate(DRIVERS):
        code, fore, sur = line.split("|")
        out.append(Driver(i, code, fold(fore), fold(sur).removesuffix(" jr.").strip()))
    return out


ALL = _load()
BY_SURNAME: dict[str, list[Driver]] = {}
for _d in ALL:
    BY_SURNAME.setdefault(_d.surname, []).append(_d)
BY_CODE: dict[str, list[Driver]] = {}
for _d in ALL:
    if _d.code:
        BY_CODE.setdefault(_d.code, []).append(_d)
FORENAMES = {d.forename for d in ALL}
# Surnames that are also everyday words: counted only when written with a capital letter.
COMMON_WORDS = {
    "hill", "brown", "hunt", "will", "rosa", "may", "long", "rose", "white", "black", "green", "wood",
    "young", "king", "rich", "price", "bell", "bond", "field", "small", "grand", "hall", "page", "moss",
    "stewart", "lane", "short", "wall", "park", "gray", "grey", "love", "ward", "fry", "hart", "hope",
    "march", "more", "miles", "new", "ford", "walker", "taylor", "best", "west", "north", "south",
    "cross", "fisher", "baker", "parker", "bianchi", "martin", "lewis", "pace", "early", "barber", "race",
}
MONTHS = {"may", "march", "june", "august", "april", "jan", "dec"}
_SURNAME_RE = re.compile(
    r"(?<![\w])(" + "|".join(sorted((re.escape(s) for s in BY_SURNAME if len(s) >= 3), key=len, reverse=True))
    + r")(?![\w])"
)
_CODE_RE = re.compile(r"(?<![\w])([A-Z]{3})(?![\w])")

# ----------------------------------------------------------------------------------- numbers

ORDINAL_WORDS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(), start=1)}
CARDINAL_WORDS = {w: i for i, w in enumerate(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split(), start=2)}

_NUM = re.compile(
    r"(?P<time>(?<![\w.:])\d{1,2}:\d{2}(?::\d{2})?(?:\.\d{1,3})?(?![\d:]))"
    r"|(?P<p>(?<![\w])[Pp](?P<pn>\d{1,2})(?![\w]))"
    r"|(?P<ord>(?<![\w.])(?P<on>\d{1,2})(?:st|nd|rd|th)(?![\w]))"
    r"|(?P<dec>(?<![\w.:])\d+\.\d+(?![\d.:]))"
    r"|(?P<int>(?<![\w.:])\d+(?![\d:]|\.\d))",
)
_WORD_NUM = re.compile(r"(?<![\w])(" + "|".join([*ORDINAL_WORDS, *CARDINAL_WORDS]) + r")(?![\w])", re.I)
_UNIT_WORDS = {"places": ("place", "places", "spot", "spots", "position", "positions"),
               "laps": ("lap", "laps"), "points": ("point", "points", "pts"),
               "changes": ("lead changes", "changes", "times")}
_UNIT = re.compile(r"\s*(" + "|".join(w for ws in _UNIT_WORDS.values() for w in ws) + r")\b", re.I)
_UNIT_KEYS = {"places": re.compile(r"places|pos|grid", re.I), "laps": re.compile(r"lap|total|led|status|result|phrase|gap", re.I),
              "points": re.compile(r"point|pts|gap", re.I), "changes": re.compile(r"changes", re.I)}
_WIN = re.compile(r"\b(won|winner|victory|took the win|triumphed)\b", re.I)
_POLE = re.compile(r"\b(pole|pole position)\b", re.I)
_NEGATION = re.compile(r"\b(no|not|never|none|n't|without)\b", re.I)


@dataclass(frozen=True)
class Num:
    kind: str  # "time" | "pos" | "dec" | "int" | "year"
    value: float
    decimals: int  # digits after the point as written (rounding allowed to that precision)
    text: str
    unit: str = ""  # "places" | "laps" | "points" when the text says so


def _time_seconds(s: str) -> float:
    parts = s.split(":")
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def numbers_in(text: str) -> list[Num]:
    """Every number in `text`, typed."""
    out: list[Num] = []
    for m in _NUM.finditer(text):
        t = m.group(0)
        if m.group("time"):
            dec = len(t.split(".")[1]) if "." in t else 0
            out.append(Num("time", _time_seconds(t), dec, t))
        elif m.group("p"):
            out.append(Num("pos", float(m.group("pn")), 0, t))
        elif m.group("ord"):
            out.append(Num("pos", float(m.group("on")), 0, t))
        elif m.group("dec"):
            out.append(Num("dec", float(t), len(t.split(".")[1]), t))
        else:
            n = int(t)
            kind = "year" if len(t) == 4 and 1950 <= n <= 2039 else "int"
            u = _UNIT.match(text, m.end())
            unit = "" if u is None else next(k for k, w in _UNIT_WORDS.items() if u.group(1).lower() in w)
            out.append(Num(kind, float(n), 0, t, unit))
    for m in _WORD_NUM.finditer(text):
        w = m.group(1).lower()
        if w in ORDINAL_WORDS:
            out.append(Num("pos", float(ORDINAL_WORDS[w]), 0, m.group(0)))
        else:
            out.append(Num("int", float(CARDINAL_WORDS[w]), 0, m.group(0)))
    return out


def _matches(claim: Num, value: float) -> bool:
    """Equal, allowing the text's rounding (or truncation) of the context's value."""
    if claim.kind in ("time", "dec"):
        step = 10.0 ** -claim.decimals
        return abs(value - claim.value) <= step / 2 + 1e-9 or math.isclose(
            math.floor(value / step + 1e-9) * step, claim.value, abs_tol=1e-9)
    if value == claim.value:
        return True
    # An integer in the text for a non-integer value ("13 seconds" for 13.372).
    return value != int(value) and (abs(value - claim.value) <= 0.5 or math.floor(value) == claim.value)


# ----------------------------------------------------------------------------------- context


# Strings under these keys name teams, places and races, not drivers ("Williams", "Prost",
# "Circuit Gilles Villeneuve"); they are masked in the text before drivers are looked for.
_NOT_DRIVER_KEYS = {"team", "constructor", "circuit", "location", "country", "event", "title", "after_event",
                    "session", "type", "status", "compound", "label", "source", "focus"}


_MASK_KEYS = {"team", "constructor", "circuit", "location", "country", "event", "title", "after_event"}


def _mask_key(key: str, node: dict[str, Any]) -> bool:
    if key in _MASK_KEYS:
        return True
    return key == "name" and (node.get("kind") in ("team", "constructors") or "round" in node or "date" in node)


_POS_KEY = re.compile(r"pos|position|grid|place|rank|phrase|result|pos_cell|champion", re.I)
_WIN_KEY = re.compile(r"champion|winner|won|wins?$|first|last|leader|pole", re.I)


def _scalar_numbers(value: Any) -> list[float]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, str):
        return [n.value for n in numbers_in(value)]
    return []


def _drivers_in_string(s: str) -> set[int]:
    """Drivers a context string names: a full name, a surname alone, or a code."""
    found: set[int] = set()
    folded = fold(s)
    for m in _SURNAME_RE.finditer(folded):
        found |= {d.idx for d in BY_SURNAME[m.group(1)]}
    for m in _CODE_RE.finditer(s):
        found |= {d.idx for d in BY_CODE.get(m.group(1), [])}
    return found


@dataclass
class Facts:
    """What the context holds, read once."""

    values: dict[int, list[tuple[str, float]]] = field(default_factory=dict)  # driver → (key, value)s
    positions: dict[int, list[float]] = field(default_factory=dict)  # driver → position-like values
    won: set[int] = field(default_factory=set)  # drivers under a champion / winner / first key
    everything: list[float] = field(default_factory=list)
    keyed: list[tuple[str, float]] = field(default_factory=list)  # (key, value) of every mapping
    years: set[int] = field(default_factory=set)
    blob: str = ""  # every string, folded, for "is this name there at all"
    codes: set[str] = field(default_factory=set)
    masks: set[str] = field(default_factory=set)  # team / race / place names as the context writes them

    def mask(self, text: str) -> str:
        """The text with the context's team, race and place names blanked out."""
        for m in sorted(self.masks, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(m)}(?!\w)", " § ", text, flags=re.IGNORECASE)
        return text

    def held(self, d: Driver, *, full: bool = False) -> bool:
        """Is this driver in the facts? `full`: by forename + surname (not just a namesake)."""
        if d.code in self.codes and len(BY_CODE[d.code]) == 1:
            return True
        name = f"{d.forename} {d.surname}" if full else d.surname
        return bool(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", self.blob))


def read_context(context: dict[str, Any]) -> Facts:
    facts = Facts()
    strings: list[str] = []

    def walk(node: Any, inherited: list[tuple[str, float]], path: tuple[str, ...], owners: set[int]) -> None:
        if isinstance(node, dict):
            scalars = [(k, n) for k, v in node.items() if not isinstance(v, (dict, list, tuple))
                       for n in _scalar_numbers(v)]
            scalars += [(k, float(len(v))) for k, v in node.items() if isinstance(v, (list, tuple))]  # "4 titles"
            own: set[int] = set()
            for k, v in node.items():
                if isinstance(v, str) and k not in _NOT_DRIVER_KEYS:
                    own |= _drivers_in_string(v)
            for k, v in node.items():
                if isinstance(v, str):
                    strings.append(v)
                    facts.codes |= {c for c in re.findall(r"(?<![\w])[A-Z]{3}(?![\w])", v) if c in BY_CODE}
                    if _mask_key(k, node) and len(v) >= 3:
                        facts.masks.add(v)
                for n in _scalar_numbers(v):
                    facts.everything.append(n)
            grid, pos = node.get("grid"), node.get("pos")
            if isinstance(grid, int) and isinstance(pos, int) and not isinstance(grid, bool):
                scalars.append(("places", float(abs(grid - pos))))  # "gained 4 places"
                facts.everything.append(float(abs(grid - pos)))
            facts.keyed.extend(scalars)
            here = owners | own
            for d in here:
                facts.values.setdefault(d, []).extend(scalars + inherited)
                pos = facts.positions.setdefault(d, [])
                for k, v in node.items():
                    if _POS_KEY.search(k):
                        pos.extend(_scalar_numbers(v))
                if any(_WIN_KEY.search(p) for p in path):
                    facts.won.add(d)
            for k, v in node.items():
                if isinstance(v, (dict, list, tuple)):
                    key_owner = {x.idx for x in BY_CODE.get(k, [])} if re.fullmatch(r"[A-Z]{3}", k) else set()
                    if key_owner:
                        facts.codes.add(k)
                    walk(v, inherited + scalars, (*path, k), here | key_owner)
        elif isinstance(node, (list, tuple)):
            facts.everything.append(float(len(node)))  # "(4)", "2 lead changes": how many there are
            for item in node:
                if isinstance(item, (dict, list, tuple)):
                    walk(item, inherited, path, owners)
                else:
                    if isinstance(item, str):
                        strings.append(item)
                    facts.everything.extend(_scalar_numbers(item))
                    for d in owners:
                        facts.values.setdefault(d, []).extend((path[-1] if path else "", n)
                                                              for n in _scalar_numbers(item))
                    for d in _drivers_in_string(item) if isinstance(item, str) else ():
                        facts.values.setdefault(d, []).extend(inherited)
                        if any(_WIN_KEY.search(p) for p in path):
                            facts.won.add(d)
        elif isinstance(node, str):
            strings.append(node)

    walk(context, [], (), set())
    facts.years.add(1950)  # the data's first season: "(1950-2025 data)" is about the data
    facts.blob = fold(" | ".join(strings))
    for s in strings:
        for m in re.finditer(r"(?<!\d)(19[5-9]\d|20[0-3]\d)(?!\d)", s):
            facts.years.add(int(m.group(1)))
    for n in facts.everything:
        if n == int(n) and 1950 <= n <= 2039:
            facts.years.add(int(n))
    return facts


# ----------------------------------------------------------------------------------- text


def clauses(text: str) -> list[str]:
    """Sentences (and lines), then commas / semicolons / dashes; decimals and times stay whole."""
    out = []
    text = re.sub(r"(?m)^\s*(?:\d{1,2}\.|[-*•])\s+", "", text)  # list markers are layout, not claims
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        out += [c.strip() for c in re.split(r"[;,]\s|\s[—–]\s|\s-\s", sentence) if c.strip()]
    return out


@dataclass(frozen=True)
class Mention:
    text: str
    candidates: tuple[Driver, ...]
    invented: bool = False  # a forename + surname pair no driver had
    full: bool = False  # named by forename + surname: that very driver must be in the facts


def mentions(clause: str) -> list[Mention]:
    """Drivers named in a clause (surnames any case; codes in capitals)."""
    out: list[Mention] = []
    folded = fold(clause)
    found = list(_SURNAME_RE.finditer(folded))
    skip: set[int] = set()
    for i, m in enumerate(found):
        # "Lewis Hamilton": Lewis is a surname too, but here the forename of the next name.
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and folded[m.end():nxt.start()].strip() == "" and m.group(1) in FORENAMES:
            skip.add(i)
    for i, m in enumerate(found):
        if i in skip:
            continue
        sur = m.group(1)
        original = clause[m.start():m.end()] if len(folded) == len(clause) else sur
        if sur in MONTHS or (sur in COMMON_WORDS and not original[:1].isupper()):
            continue
        cands = tuple(BY_SURNAME[sur])
        before = re.search(r"([a-z][a-z'-]*)\s+$", folded[: m.start()])
        if before and before.group(1) in FORENAMES:
            pair = tuple(d for d in cands if before.group(1) in (d.forename, d.forename.split()[0]))
            out.append(Mention(f"{before.group(1)} {sur}", pair or cands, invented=not pair, full=bool(pair)))
        else:
            out.append(Mention(sur, cands))
    for m in _CODE_RE.finditer(clause):
        if m.group(1) in BY_CODE:
            out.append(Mention(m.group(1), tuple(BY_CODE[m.group(1)])))
    return out


def false_claims(text: str, context: dict[str, Any]) -> list[str]:
    """The claims in `text` the context does not support (empty = all supported)."""
    facts = read_context(context)
    bad: list[str] = []
    for raw in clauses(text):
        clause = facts.mask(raw)
        named = mentions(clause)
        held: list[Mention] = []
        for mn in named:
            if mn.invented:
                bad.append(f"no driver is called {mn.text!r}: {clause!r}")
            elif not any(facts.held(d, full=mn.full) for d in mn.candidates):
                bad.append(f"{mn.text!r} is not in the facts: {clause!r}")
            else:
                held.append(mn)
        # "Top 10 of ...", "lap 1": the list's size and the first lap claim nothing about a driver.
        nums = numbers_in(re.sub(r"(?i)\btop \d+\b|\blap 1\b(?!\d)", " ", clause))
        for n in nums:
            if n.kind == "year":
                if int(n.value) not in facts.years:
                    bad.append(f"year {n.text} is not in the facts: {clause!r}")
                continue
            if held:
                if not any(_supported(n, d, facts) for mn in held for d in mn.candidates if facts.held(d)):
                    who = "/".join(mn.text for mn in held)
                    bad.append(f"{n.text} is not a value of {who}: {clause!r}")
            elif n.kind != "pos" and not _supported_anywhere(n, facts):
                bad.append(f"{n.text} is nowhere in the facts: {clause!r}")
        counts = [n for n in nums if n.kind != "year"]
        if held and not counts and not _NEGATION.search(clause):
            for word, claim in ((_WIN, "won"), (_POLE, "pole")):
                if word.search(clause) and not any(
                    _holds_first(d, facts, claim) for mn in held for d in mn.candidates if facts.held(d)
                ):
                    bad.append(f"{'/'.join(mn.text for mn in held)} {claim}: not in the facts: {clause!r}")
    return bad


def _supported(n: Num, d: Driver, facts: Facts) -> bool:
    if n.kind == "pos" and facts.positions.get(d.idx):
        return any(_matches(n, v) for v in facts.positions[d.idx])
    pairs = facts.values.get(d.idx, [])
    if n.unit:  # "72 spots" is checked against places, not against the race's 72 laps
        unit_re = _UNIT_KEYS[n.unit]
        keyed = [v for k, v in pairs if unit_re.search(k)]
        if keyed:
            return any(_matches(n, v) for v in keyed)
    return any(_matches(n, v) for _, v in pairs)


def _supported_anywhere(n: Num, facts: Facts) -> bool:
    """A number no driver is named with: some value of its kind ("78 lead changes": a count of
    changes, not the race's 78 laps), else any value of the context."""
    if n.unit:
        keyed = [v for k, v in facts.keyed if _UNIT_KEYS[n.unit].search(k)]
        if keyed:
            return any(_matches(n, v) for v in keyed)
    return any(_matches(n, v) for v in facts.everything)


def _holds_first(d: Driver, facts: Facts, claim: str) -> bool:
    if d.idx in facts.won:
        return True
    pool = facts.positions.get(d.idx) or [v for _, v in facts.values.get(d.idx, [])]
    return 1.0 in pool


def explain(texts: Iterable[str], context: dict[str, Any]) -> dict[str, list[str]]:
    """`false_claims` for several texts (debugging aid)."""
    return {t: false_claims(t, context) for t in texts}
