"""Claims: what a text states, attached to whom. The model phrases; these decide what it may say.

One analyser reads both texts the same way:

- the **deterministic answer** (always correct, built from the store) becomes the claim list the
  model is given and the only truth the guard accepts (`claims_from_answer`);
- the **model's text** is read into the same shape and every claim in it must be one of those
  (`bot.claimguard.ClaimGuard`).

A text is cut into clauses (sentences, then commas, brackets, colons, list items). In each clause
the analyser finds the entities (drivers by code, surname or full name in any case, teams, races
and their places, seasons) and the values (lap times and gaps in seconds, positions written as
``P2``/``2nd``/``second``/"won", counts with their unit, lap numbers, percentages, temperatures,
plain numbers), and whether the clause is negative ("no", "never", "did not") or a bare "yes".
A value belongs to the entities of its clause; a clause that names none takes them from the
clause before it in the same sentence, else from the next one in the sentence, else from the
sentence before ("He finished P3"). So "Pérez finished P1" cannot borrow the P1 that belongs to
Verstappen, and "led 33 laps" cannot borrow car number 33.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from bot.driver_names import DRIVERS
from bot.links import find_links

# -- vocabulary --------------------------------------------------------------------------

# Capitals that are not driver codes. Anything else of three capitals must be supported.
ACRONYMS = frozenset(
    "DRS FIA VSC DNF DNS DSQ DNQ DNP RET UTC GMT CET BST EST PST PDT EDT KPH MPH ERS ECU "
    "RPM TBC TBD TBA FAQ AKA API GPS MGU ICE USA UAE GBR ITA NED ESP MEX AUS BRA JPN "
    "THE AND NOT BUT FOR YOU WAS HAS HAD ALL OUT OFF TOP WIN WON NEW OLD ONE TWO SIX TEN "
    "YES BIG HOT LAP PIT AVG MAX MIN".split()
)

# Surnames that are also everyday words, places, teams or brands: a name only mid-sentence.
AMBIGUOUS = frozenset(
    w.casefold()
    for w in (
        "Driver Force Speed Pace Courage Craft Cross Crook Duke England Ireland Holland Said "
        "South Sharp Terra Trimmer Tingle Ruby Monarch Marsh Palm Rose Ward Walker Turner "
        "Miles Hart Hall Grim Gamble Fry Fisher Cannon Ball Banks Bell Brown Green Hill Hunt "
        "Love Lovely May Prophet Martin Aston Williams McLaren Brabham Ligier Penske Opel "
        "Modena Gordini Tomaso Shelby Lotus Jean Will Max Mark Jack Lance Pastor Rio Drake "
        "Jr Sr Pic Ide Pon Berg Lang Roos Vos Rol Lof Riu Salo Chapman Ecclestone Monteverdi"
    ).split()
)

def fold(word: str) -> str:
    """Case- and accent-insensitive form: 'Pérez' -> 'perez', 'Hülkenberg' -> 'hulkenberg'."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()



# Words of team names that name no team alone.
_TEAM_NOISE = frozenset("f1 team racing scuderia formula one bwt the honda rbpt tag heuer aramco cognizant "
                        "stake kick visa cash app".split())
# Surnames / forenames that are everyday English too: a name only when capitalised.
_COMMON = frozenset(
    "will max mark jack lance pastor rio miles hart hall hill hunt green brown bell ball banks love may "
    "rose ward walker turner fisher cannon force speed pace driver south sharp said rosa field gordon "
    "grand prix race team world house page north west east young king long little moss lewis "
    "alan ivan felix joe guy frank mike roy rob tim bob ray chris ron carl neil sam jo".split()
) | {fold(w) for w in AMBIGUOUS}


@dataclass(frozen=True, slots=True)
class Name:
    """One surface form: what it names (ids) and whether it only counts when capitalised."""

    kind: str  # "driver" | "forename" | "team" | "race"
    ids: frozenset[str]
    capital: bool = False


@dataclass(slots=True)
class Vocabulary:
    """Surface forms → entities. Drivers come with the code (bundled list); teams and races
    come from the store (`bot.vocab.vocabulary`), so every team and Grand Prix is known."""

    phrases: dict[str, list[Name]] = field(default_factory=dict)
    codes: dict[str, frozenset[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # id -> readable name
    longest: int = 1

    def add(self, phrase: str, name: Name) -> None:
        key = " ".join(_words_of(fold(phrase)))
        if not key:
            return
        self.phrases.setdefault(key, []).append(name)
        self.longest = max(self.longest, key.count(" ") + 1)

    def add_teams(self, names: Iterable[str]) -> None:
        for full in names:
            stem = " ".join(w for w in _words_of(fold(full)) if w not in _TEAM_NOISE)
            tid = f"team:{stem or fold(full)}"
            self.labels.setdefault(tid, full)
            self.add(full, Name("team", frozenset({tid}), capital=len(full) <= 3))
            if stem and stem != fold(full):
                self.add(stem, Name("team", frozenset({tid}), capital=len(stem) <= 3 or stem in _COMMON))

    def add_races(self, events: Iterable[tuple[str, Iterable[str | None]]]) -> None:
        """(Grand Prix name, its places: location, circuit, country) per event."""
        for name, places in events:
            rid = f"race:{fold(name)}"
            self.labels.setdefault(rid, name)
            self.add(name, Name("race", frozenset({rid})))
            stem = fold(name).replace(" grand prix", "").strip()
            if stem and stem != fold(name):
                self.add(f"{stem} gp", Name("race", frozenset({rid})))
                self.add(stem, Name("race", frozenset({rid}), capital=stem in _COMMON))
            for p in places:
                if p and len(p) >= 3:  # fans write places in lower case too ("silverstone")
                    common = fold(p) in _COMMON or len(p) <= 4
                    self.add(p.replace("_", " "), Name("race", frozenset({rid}), capital=common))


def _words_of(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)?", text)


@lru_cache(maxsize=1)
def driver_vocabulary() -> Vocabulary:
    """Every F1 driver: full name, surname (and its last word), code; forenames of the modern era."""
    v = Vocabulary()
    codes: dict[str, set[str]] = {}
    for i, entry in enumerate(DRIVERS):
        code, forename, surname = entry.split("|")
        did = f"driver:{i}"
        v.labels[did] = f"{forename} {surname}" + (f" ({code})" if code else "")
        surname = surname.rstrip(".")
        first = forename.split()[0]
        v.add(f"{forename} {surname}", Name("driver", frozenset({did})))
        v.add(f"{first} {surname}", Name("driver", frozenset({did})))
        modern = bool(code)
        for s in {surname, surname.split()[-1]}:
            if len(s) > 2 and fold(s) not in ("jr", "sr"):
                v.add(s, Name("driver", frozenset({did}), capital=not modern or fold(s) in _COMMON))
        if modern:
            codes.setdefault(code, set()).add(did)
            v.add(first, Name("forename", frozenset({did}), capital=True))
    v.codes = {c: frozenset(ids) for c, ids in codes.items()}
    return v


def merged(*vocabs: Vocabulary) -> Vocabulary:
    out = Vocabulary()
    for voc in vocabs:
        for k, names in voc.phrases.items():
            out.phrases.setdefault(k, []).extend(names)
        out.codes.update(voc.codes)
        out.labels.update(voc.labels)
        out.longest = max(out.longest, voc.longest)
    return out


# -- values ------------------------------------------------------------------------------

ORDINALS = {w: i for i, w in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split())}
COUNT_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
# A number's unit word -> unit family (the kind of count it is).
UNITS = {
    "point": "points", "points": "points", "pts": "points", "pt": "points",
    "win": "wins", "wins": "wins", "victory": "wins", "victories": "wins",
    "podium": "podiums", "podiums": "podiums", "pole": "poles", "poles": "poles",
    "lap": "laps", "laps": "laps", "stop": "stops", "stops": "stops", "race": "races", "races": "races",
    "start": "races", "starts": "races", "grand": "races", "gps": "races",
    "title": "titles", "titles": "titles", "championship": "titles", "championships": "titles",
    "season": "seasons", "seasons": "seasons", "year": "seasons", "years": "seasons",
    "car": "car", "incident": "incidents", "incidents": "incidents", "reading": "readings", "readings": "readings",
    "place": "places", "places": "places", "position": "places", "positions": "places",
    "overtake": "overtakes", "overtakes": "overtakes", "pass": "overtakes", "passes": "overtakes",
    "retirement": "retirements", "retirements": "retirements", "dnf": "retirements", "dnfs": "retirements",
    "driver": "drivers", "drivers": "drivers", "team": "teams", "teams": "teams", "round": "rounds", "rounds": "rounds",
}
# "withdrawn", "retired", "DNF": the answer to "did he race / finish?" is a no, whatever the wording.
_STATUS_NEG = frozenset("withdrawn withdrew dns dnf dnq dsq disqualified excluded retired retirement "
                        "unclassified".split())
_NEG = _STATUS_NEG | frozenset("no not never none without nobody nothing neither nor cannot kein keine nicht nie "
                 "pas aucun aucune jamais ningun ninguna nunca nessun nessuna mai geen niet nooit".split())
_COMPOUND_CODES = {"soft": 1, "softs": 1, "medium": 2, "mediums": 2, "hard": 3, "hards": 3, "intermediate": 4,
                   "intermediates": 4, "inter": 4, "inters": 4, "wet": 5, "wets": 5, "hypersoft": 6,
                   "ultrasoft": 7, "supersoft": 8}
_TYRE_WORDS = frozenset("tyre tyres tire tires compound compounds rubber stint stints laps lap".split())
_YES = frozenset("yes yeah yep indeed ja oui si sì".split())
_NOT_POS_AFTER = frozenset("lap laps stint stints stop stops pit corner corners turn time half sector race races "
                           "win wins podium podiums pole poles season year round rounds attempt run title titles "
                           "of one ones place-getter row".split())
_TOPIC_STOP = frozenset("there was were been have with from that this then than they their them what which when "
                        "during race grand prix data readings reading from only into over under after before the "
                        "and also about lap laps more most less for was are his her its had has got but who".split())

_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
_NUM = r"\d+(?:[.,]\d+)*"
_TOKEN = re.compile(
    r"(?P<lnum>№(?P<ln>\d{1,2}))"
    rf"|(?P<clock>{_CLOCK})"
    rf"|(?P<ppos>(?<![^\W\d_])[Pp](?P<pn>\d{{1,2}})\b)"
    rf"|(?P<ord>(?<![\w.])(?P<on>\d{{1,2}})(?:st|nd|rd|th)\b)"
    rf"|(?P<num>[+\-−]?(?<![\w.]){_NUM})(?P<unit>\s*(?:°C|%|s\b|secs?\b|seconds?\b))?"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)?)",
)
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.\-]*://|www\.)\S+|<[a-z]+:[^>\s]+>")


def _dec(s: str) -> Decimal | None:
    s = s.replace("−", "-").lstrip("+-")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
        s = s.replace(",", "")
    elif re.fullmatch(r"\d+,\d+", s):
        s = s.replace(",", ".")  # a decimal comma (German, French...)
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def clock_seconds(token: str) -> Decimal:
    total = Decimal(0)
    for part in token.split(":"):
        total = total * 60 + Decimal(part)
    return total


@dataclass(frozen=True, slots=True)
class Value:
    """One stated value: its kind ("time", "pos", "count", "lap", "year", "pct", "temp", "num"),
    its number, the unit family of a count, and the text as written."""

    kind: str
    num: Decimal
    unit: str = ""
    text: str = ""
    at: int = field(default=0, compare=False)  # where in the text (to find its nearest name)
    total: bool = False  # "of 53 laps", "out of 20": a total, not the subject's own count

    def matches(self, other: Value) -> bool:
        """Same quantity: same kind family and equal value (a written rounding of a time is equal)."""
        if not _kinds_agree(self, other):
            return False
        if self.num == other.num:
            return True
        if self.kind in ("time", "num", "pct", "temp") or other.kind in ("time", "num", "pct", "temp"):
            # the shorter-written value may be a rounding of the longer one
            a, b = (self, other) if _places(self.num) <= _places(other.num) else (other, self)
            q = Decimal(1).scaleb(-_places(a.num)) if _places(a.num) else Decimal(1)
            return _places(a.num) > 0 and b.num.quantize(q, rounding=ROUND_HALF_UP) == a.num
        return False


def _places(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def _kinds_agree(a: Value, b: Value) -> bool:
    if a.total != b.total and {a.kind, b.kind} & {"count", "num", "lap"}:
        return False  # "led 2 of 53 laps": 53 is the race's laps, not the laps he led
    if a.kind == "year" or b.kind == "year":
        return a.kind == b.kind
    if a.kind == "num" or b.kind == "num":
        return True  # a bare number: its meaning comes from whom it is attached to
    if a.kind == "pos" and b.kind == "pos":
        return (a.unit == "grid") == (b.unit == "grid")  # a grid slot is not a finishing place
    if a.kind == "count" and b.kind == "count":
        return a.unit == b.unit or not a.unit or not b.unit
    if {a.kind, b.kind} <= {"lap", "count"}:
        return (a.unit or "laps") == (b.unit or "laps")
    return a.kind == b.kind


# -- analysis ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    kind: str
    ids: frozenset[str]
    text: str
    start: int
    end: int


@dataclass(slots=True)
class Clause:
    """A stretch of text between clause marks, with what it names and states."""

    start: int
    end: int
    sentence: int
    line: int
    text: str
    mentions: list[Mention] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    negative: bool = False
    yes: bool = False
    topic: frozenset[str] = frozenset()
    scope: frozenset[str] = frozenset()  # entity ids the values belong to (own or borrowed)
    scope_from: str = "own"  # "own" | "before" | "after" | "sentence" | "none"
    label: str = ""  # the names of the scope as written (for a borrowed scope)
    opener: str = ""  # the mark that began the clause ("," or "(" ...)
    # "A finished ahead of B", "B behind A", "A beat B": (ahead ids, behind ids, "grid" or "")
    orders: list[tuple[frozenset[str], frozenset[str], str]] = field(default_factory=list)

    @property
    def own(self) -> frozenset[str]:
        return frozenset(i for m in self.mentions if m.kind != "race" for i in m.ids if not i.startswith("race:"))


@dataclass(slots=True)
class Analysis:
    text: str
    clauses: list[Clause]
    mentions: list[Mention]
    invented: list[str]  # "Carlos Verstappen": a forename and a surname of two different drivers
    links: list[str]
    years: set[int]


# Brackets around a driver code ("Max Verstappen (VER)") belong to the name, not a new clause.
_CLAUSE_MARKS = re.compile(r"\n|[.!?](?=\s|$)|;|,(?!\d)|\((?![A-Z]{3}\))|(?<!\([A-Z]{3})\)|:(?!\d)|\s[—–-]\s|•")
_SENTENCE_MARKS = re.compile(r"\n|[.!?](?=\s|$)")
_MARKDOWN = re.compile(r"(?m)\*\*|__|`|(?<!\w)_(?=\w)|(?<=\w)_(?!\w)|^\s*[-*]\s+|^#+\s*")
_LIST_ITEM = re.compile(r"(?m)^(\s*)(\d{1,2})[.)]\s+")


def plain(text: str) -> str:
    """Markdown emphasis, bullets and headings out; a numbered item's number marked as a rank
    ("№1 ") so its dot does not end a sentence. Same meaning, easier to read."""
    return _LIST_ITEM.sub(r"\1№\2 ", _MARKDOWN.sub("", text))


def analyse(text: str, vocab: Vocabulary) -> Analysis:
    """Read `text` into clauses with entities, values, negations (see the module doc)."""
    text = plain(text)
    links = find_links(text) or _URL.findall(text)
    scrubbed = _URL.sub(lambda m: " " * len(m.group(0)), text)
    mentions, invented, covered = _find_mentions(scrubbed, vocab)
    # Clause and sentence spans.
    cuts = sorted({0, len(scrubbed)} | {m.end() for m in _CLAUSE_MARKS.finditer(scrubbed)})
    sentence_ends = [m.end() for m in _SENTENCE_MARKS.finditer(scrubbed)]
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", scrubbed)]
    clauses: list[Clause] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        seg = scrubbed[a:b]
        if not seg.strip(" \n.,;:()!?—–-•"):
            continue
        sent = sum(1 for e in sentence_ends if e <= a)
        line = sum(1 for s in line_starts if s <= a) - 1
        c = Clause(a, b, sent, line, seg, opener=scrubbed[a - 1] if a else "")
        c.mentions = [m for m in mentions if a <= m.start < b]
        _read_values(scrubbed, a, b, c, covered, line_start=line_starts[line])
        c.orders = _orders(scrubbed, c)
        clauses.append(c)
    _attach(clauses)
    years = {int(v.num) for c in clauses for v in c.values if v.kind == "year"}
    return Analysis(text, clauses, mentions, invented, links, years)


def _find_mentions(text: str, vocab: Vocabulary) -> tuple[list[Mention], list[str], list[tuple[int, int]]]:
    words = list(re.finditer(r"[^\W\d_]+(?:['’][^\W\d_]+)?", text))
    out: list[Mention] = []
    covered: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        w = words[i]
        tok = w.group(0)
        if len(tok) == 3 and tok.isupper() and tok in vocab.codes and tok not in ACRONYMS:
            out.append(Mention("driver", vocab.codes[tok], tok, w.start(), w.end()))
            covered.append((w.start(), w.end()))
            i += 1
            continue
        hit = None
        for n in range(min(vocab.longest, len(words) - i), 0, -1):
            span = words[i : i + n]
            if any(text[x.end() : y.start()].strip(" -'’") for x, y in zip(span, span[1:], strict=False)):
                continue  # only words next to each other make one name
            key = re.sub(r"['’]s?$", "", fold(" ".join(x.group(0) for x in span)))  # "Hamilton's"
            names = vocab.phrases.get(key)
            if not names:
                continue
            capital = span[0].group(0)[0].isupper()
            names = [nm for nm in names if capital or not nm.capital]
            if names:
                hit = (n, names, span)
                break
        if hit is None:
            i += 1
            continue
        n, names, span = hit
        start, end = span[0].start(), span[-1].end()
        # One mention per name, with every reading ("Lewis": a forename, and a 1950s surname;
        # "Williams": a team and several drivers); the first kind in this order names it.
        kinds = {nm.kind for nm in names}
        kind = next(k for k in ("team", "driver", "race", "forename") if k in kinds)
        ids = frozenset(x for nm in names for x in nm.ids)
        out.append(Mention(kind, ids, re.sub(r"['’]s?$", "", text[start:end]), start, end))
        covered.append((start, end))
        i += n
    # "Carlos Verstappen": a modern forename right before a surname it does not belong to.
    invented = []
    for a, b in zip(out, out[1:], strict=False):
        if a.kind == "forename" and b.kind == "driver" and not text[a.end : b.start].strip() and not (a.ids & b.ids):
            invented.append(f"{a.text} {b.text}")
    return out, invented, covered


_GRID_CUES = frozenset("from started start starting grid qualified qualifying quali pole lined".split())
_FINISH_CUES = frozenset("finished finish finishing won came ended crossed classified home result".split())


def _read_values(text: str, a: int, b: int, c: Clause, covered: list[tuple[int, int]], *, line_start: int) -> None:
    words_lower: list[str] = []
    tokens = list(_TOKEN.finditer(text, a, b))
    prev_tok = ""
    last_kind = ""
    cue = ""  # "grid" or "finish": what a position in this clause is a position of
    for k, t in enumerate(tokens):
        here = t.group(0).casefold()
        n_before = len(c.values)
        if any(s <= t.start() < e for s, e in covered):
            prev_tok, last_kind = here, ""
            continue
        nxt = tokens[k + 1].group(0).casefold() if k + 1 < len(tokens) else ""
        after = " ".join(x.group(0).casefold() for x in tokens[k + 1 : k + 4])
        prev = words_lower[-1] if words_lower else ""
        kind = ""

        grid = "grid" if "grid" in after.split() or cue == "grid" else ""
        if t.group("lnum"):
            c.values.append(Value("pos", Decimal(t.group("ln")), "list", t.group(0)))
        elif t.group("clock"):
            c.values.append(Value("time", clock_seconds(t.group("clock")), text=t.group(0)))
        elif t.group("ppos"):
            c.values.append(Value("pos", Decimal(t.group("pn")), grid, t.group(0)))
        elif t.group("ord"):
            if nxt not in _NOT_POS_AFTER:
                c.values.append(Value("pos", Decimal(t.group("on")), grid, t.group(0)))
        elif t.group("num"):
            d = _dec(t.group("num"))
            if d is None:
                continue
            unit = (t.group("unit") or "").strip().casefold()
            raw = t.group("num").lstrip("+-−")
            ranged = t.group("num")[0] in "-−" and last_kind
            if unit in ("s", "sec", "secs", "second", "seconds"):
                kind = "time"
                c.values.append(Value("time", d, text=t.group(0)))
            elif unit == "%":
                c.values.append(Value("pct", d, text=t.group(0)))
            elif unit == "°c":
                c.values.append(Value("temp", d, text=t.group(0)))
            elif ranged:  # the end of a range: "laps 12-13", "2007-2025"
                kind = last_kind
                c.values.append(Value(last_kind, d, "laps" if last_kind == "lap" else "", raw))
            elif prev_tok in ("lap", "laps"):
                kind = "lap"
                c.values.append(Value("lap", d, "laps", t.group(0)))
            elif re.fullmatch(r"(19[5-9]\d|20[0-4]\d)", raw) and nxt not in ("points", "pts", "laps", "races"):
                kind = "year"
                c.values.append(Value("year", d, text=raw))
            elif nxt in UNITS or (nxt == "fastest" and "lap" in after):
                c.values.append(Value("count", d, UNITS.get(nxt, "laps"), t.group(0)))
            elif prev_tok in ("round", "rounds"):
                c.values.append(Value("count", d, "rounds", t.group(0)))
            elif prev_tok in ("car", "#", "number", "no"):
                c.values.append(Value("count", d, "car", t.group(0)))
            else:
                c.values.append(Value("num", d, text=t.group(0)))
        elif t.group("word"):
            w = here
            words_lower.append(w)
            if w in _GRID_CUES:
                cue = "grid"
            elif w in _FINISH_CUES:
                cue = "finish"
            if w in _COMPOUND_CODES and (t.group(0).isupper() or nxt in _TYRE_WORDS or prev in ("on", "the", "fresh", "new")
                                         or (t.group(0)[0].isupper() and not _sentence_start(text, t.start()))):
                c.values.append(Value("compound", Decimal(_COMPOUND_CODES[w]), text=t.group(0)))
            elif w in ORDINALS and not _ordinal_is_not_a_place(w, prev, nxt):
                c.values.append(Value("pos", Decimal(ORDINALS[w]), grid, t.group(0)))
            elif w in COUNT_WORDS and (nxt in UNITS or w not in ("one", "two", "zero")) and nxt not in ("of", "another"):
                unit = UNITS.get(nxt, "")
                c.values.append(Value("count" if unit else "num", Decimal(COUNT_WORDS[w]), unit, t.group(0)))
            elif w in ("won", "wins", "win", "winner", "winning", "victory", "victorious", "triumphed") and _is_win(
                w, prev_tok, words_lower[-3:-2], nxt
            ):
                c.values.append(Value("pos", Decimal(1), "", t.group(0)))
            elif w in ("pole", "poleman", "polesitter") and prev_tok not in ("from",):
                c.values.append(Value("pos", Decimal(1), "grid", t.group(0)))
            elif w in ("champion", "champions", "crowned"):
                c.values.append(Value("champion", Decimal(1), text=t.group(0)))
            if w in _NEG or w.endswith("n't"):
                c.negative = True
            if w in _YES:
                c.yes = True
        total = prev_tok in ("of", "from") and t.group("num") is not None and kind not in ("year", "lap")
        c.values[n_before:] = [replace(v, at=t.start(), total=total and v.kind in ("count", "num"))
                               for v in c.values[n_before:]]
        prev_tok, last_kind = here, kind
    seg = text[a:b]
    if re.search(r"\bfrom pole\b", seg, re.IGNORECASE):
        c.values.append(Value("pos", Decimal(1), "grid", "from pole", at=a + seg.casefold().index("from pole")))
    c.topic = frozenset(w[:4] for w in words_lower if len(w) >= 3 and w not in _TOPIC_STOP and w not in _NEG)


_AHEAD = re.compile(r"\b(ahead of|in front of|beat|beats|beating|outscored|outqualified|edged|edging|pipped|"
                    r"finished above|clear of)\b", re.I)
_BEHIND = re.compile(r"\b(behind|trailed|trailing|lost to|finished below|adrift of|back from)\b", re.I)


def _orders(text: str, c: Clause) -> list[tuple[frozenset[str], frozenset[str], str]]:
    """Who is said to be ahead of whom in this clause (the names right before and after the word)."""
    drivers = [m for m in c.mentions if m.kind == "driver"]
    out = []
    for pattern, ahead_first in ((_AHEAD, True), (_BEHIND, False)):
        for m in pattern.finditer(text, c.start, c.end):
            before = [d for d in drivers if d.end <= m.start()]
            after = [d for d in drivers if d.start >= m.end()]
            first = before[-1].ids if before else c.scope if c.scope_from != "own" else frozenset()
            if not (first and after):
                continue
            grid = "grid" if re.search(r"\b(start|started|grid|qualif\w*|outqualified)\b", c.text, re.I) else ""
            a, b = (first, after[0].ids) if ahead_first else (after[0].ids, first)
            out.append((a, b, grid))
    return out


def _sentence_start(text: str, pos: int) -> bool:
    """Whether `pos` begins a sentence (a capital there says nothing about the word)."""
    i = pos - 1
    while i >= 0 and text[i] in " \t\"'*_(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:"


def _ordinal_is_not_a_place(w: str, prev: str, nxt: str) -> bool:
    if nxt in _NOT_POS_AFTER or nxt in ("faster", "slower", "quicker", "ahead", "behind", "clear", "gap"):
        return True
    if w == "second" and prev in ("a", "per", "one", "half", "the", "of", "tenths", "tenth", "hundredths"):
        return True
    return w == "first" and prev in ("at", "the", "his", "her", "their", "its")


def _is_win(w: str, prev: str, prev2: list[str], nxt: str) -> bool:
    """Whether a win word says that its subject won (not "105 wins", "behind the winner")."""
    if w in ("wins", "win", "victory") and (prev.replace(".", "").isdigit() or prev in COUNT_WORDS
                                           or prev in ("most", "of", "no", "first", "maiden", "a")):
        return False
    if nxt.replace(".", "").isdigit():
        return False  # "won 15 points"
    if w in ("winner", "winning") and prev == "the" and prev2 and prev2[0] in ("behind", "to", "than", "from", "of"):
        return False
    return not (w == "winning" and nxt in ("time", "margin", "streak"))


def _attach(clauses: list[Clause]) -> None:
    """Give every clause the entities its values belong to (module doc)."""
    last: Clause | None = None
    for i, c in enumerate(clauses):
        if c.own:
            c.scope, c.scope_from = c.own, "own"
            last = c
            continue
        before = next((x for x in reversed(clauses[:i]) if x.sentence == c.sentence and x.own), None)
        after = next((x for x in clauses[i + 1 :] if x.sentence == c.sentence and x.own), None)
        src, how = (before, "before") if before else (after, "after") if after else (last, "sentence")
        if src is None or any(m.kind == "race" for m in c.mentions):
            c.scope, c.scope_from = frozenset(), "none"  # "2023 Bahrain Grand Prix:" is about the race
            continue
        scope = set(src.own)
        if how == "before" and not any(m.kind == "driver" for m in src.mentions):
            # "Sergio Pérez (PER), Red Bull Racing (+6.064s)": a team after its driver; the gap is
            # the driver's as much as the team's.
            for x in reversed(clauses[: clauses.index(src)]):
                if x.sentence != c.sentence:
                    break
                scope |= x.own
                if any(m.kind == "driver" for m in x.mentions):
                    src = x
                    break
        c.scope, c.scope_from = frozenset(scope), how
        named = [m for m in src.mentions if m.kind == "driver"] or [m for m in src.mentions if m.kind != "race"]
        c.label = src_text(src, named)
    # "no safety car, virtual safety car or red flag": a negation holds to the end of its sentence.
    for i, c in enumerate(clauses):
        if c.negative:
            for x in clauses[i + 1 :]:
                if x.sentence != c.sentence or x.opener not in (",", ";") or _TURN.match(x.text):
                    break
                x.negative = True


_TURN = re.compile(r"\s*(but|however|although|though|yet|while|whereas|instead|aber|mais|pero|ma)\b", re.I)


def src_text(c: Clause, named: list[Mention]) -> str:
    """The names of a clause as written, from the first to the last ("Max Verstappen (VER)")."""
    a, b = named[0].start - c.start, named[-1].end - c.start
    whole = c.text[a:b] if 0 <= a < b <= len(c.text) else " ".join(m.text for m in named)
    if len(whole) > 60:
        whole = " ".join(dict.fromkeys(m.text for m in named))
    return whole + (")" if whole.count("(") > whole.count(")") else "")


# -- the claim list ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """One stated fact of the deterministic answer: about `subject`, in its own words."""

    subject: str  # readable subject ("Max Verstappen (VER)"), "" when the clause names its own
    text: str
    scope: frozenset[str]
    values: tuple[Value, ...]
    negative: bool

    def line(self) -> str:
        return f"{self.subject}: {self.text}" if self.subject else self.text


@dataclass(slots=True)
class ClaimSet:
    """What the deterministic answer states: the model may say these and nothing else."""

    answer: str
    claims: list[Claim]
    entities: frozenset[str]
    years: frozenset[int]
    pairs: frozenset[frozenset[str]]  # driver/team ids named together in one line
    negative_topics: list[frozenset[str]]
    affirmative_topics: frozenset[str]
    must_entities: list[tuple[str, frozenset[str]]]  # (shown name, ids)
    must_values: list[Value]
    must_words: list[str]
    must_subjects: list[frozenset[str]] = field(default_factory=list)  # per must value: whose it is
    orders: list[tuple[frozenset[str], frozenset[str], str]] = field(default_factory=list)
    places: list[tuple[frozenset[str], Decimal, str]] = field(default_factory=list)  # (driver ids, place, grid?)

    def order_known(self, ahead: frozenset[str], behind: frozenset[str], grid: str) -> bool | None:
        """True/False when the answer says (or its places show) who was ahead; None if it does not."""
        for a, b, g in self.orders:
            if g == grid and ahead & a and behind & b:
                return True
            if g == grid and ahead & b and behind & a:
                return False
        pa = [p for ids, p, g in self.places if g == grid and ids & ahead]
        pb = [p for ids, p, g in self.places if g == grid and ids & behind]
        if pa and pb:
            return min(pa) < min(pb)
        return None

    @property
    def negative(self) -> bool:
        return bool(self.negative_topics)

    def lines(self) -> list[str]:
        return [c.line() for c in self.claims]


def claims_from_answer(answer: str, vocab: Vocabulary, *, must_lines: int = 3) -> ClaimSet:
    """The claim list of a deterministic answer (see the module doc); must-say = the drivers and
    the headline clause's values of its first `must_lines` lines that state something."""
    an = analyse(answer, vocab)
    claims: list[Claim] = []
    pairs: set[frozenset[str]] = set()
    by_line: dict[int, set[str]] = {}
    for c in an.clauses:
        if not (c.values or c.mentions or c.negative):
            continue
        subject = "" if c.scope_from in ("own", "none") else c.label
        said = c.text.replace("№", "#").strip(" \n,;:()_.")
        claims.append(Claim(subject, said, c.scope, tuple(c.values), c.negative))
        by_line.setdefault(c.line, set()).update(c.own)
    for ids in by_line.values():
        for a in ids:
            for b in ids:
                pairs.add(frozenset({a, b}))
    # Must-say: the lines that state something about a driver or team, in order.
    must_entities: list[tuple[str, frozenset[str]]] = []
    must_values: list[Value] = []
    must_subjects: list[frozenset[str]] = []
    lines_seen: list[int] = []
    valued: set[int] = set()  # lines whose headline values are taken
    for c in an.clauses:
        if c.line not in lines_seen:
            if len(lines_seen) >= must_lines:
                break
            if not [m for m in c.mentions if m.kind in ("driver", "team")]:
                continue
            lines_seen.append(c.line)
        # Who: the drivers; a team too when the line is only about whom it names ("Stroll drove
        # for Williams": the team is the answer).
        line_values = [v for x in an.clauses if x.line == c.line for v in x.values if v.kind != "year"]
        whom = [m for m in c.mentions if m.kind == "driver" or (m.kind == "team" and not line_values)]
        for m in whom:
            if not any(m.ids & ids for _, ids in must_entities):
                must_entities.append((m.text, m.ids))
        values = [v for v in c.values if v.kind != "year"]
        if not values or c.line in valued:
            continue
        # The headline: the first clause of the line that states a value ("finished P3";
        # "set the fastest lap ...: 1:25.072" when the first clause only names who).
        valued.add(c.line)
        for v in values:
            must_values.append(v)
            # A finishing place the answer states right by its driver must stay by it.
            whose = _nearest(c, v) if v.kind == "pos" and v.unit != "grid" else frozenset()
            near = any(m.ids & whose and 0 <= v.at - m.end <= 40 for m in c.mentions)
            must_subjects.append(whose if near else frozenset())
    words = [w for w in ("provisional", "pit lane") if w in answer.casefold()]
    places = [(ids, v.num, "grid" if v.unit == "grid" else "")
              for c in an.clauses for v in c.values if v.kind == "pos" and (ids := _nearest(c, v))]
    entities = frozenset(i for m in an.mentions for i in m.ids)
    return ClaimSet(
        answer=answer,
        claims=claims,
        entities=entities,
        years=frozenset(an.years),
        pairs=frozenset(pairs),
        negative_topics=[c.topic for c in an.clauses if c.negative and c.topic],
        affirmative_topics=frozenset(w for c in an.clauses if not c.negative for w in c.topic),
        must_entities=must_entities,
        must_values=must_values,
        must_words=words,
        must_subjects=must_subjects,
        orders=[o for c in an.clauses for o in c.orders],
        places=places,
    )


def _nearest(c: Clause, v: Value) -> frozenset[str]:
    """Whose value `v` is: the driver named just before it in its clause (else just after), else
    the clause's borrowed subject."""
    named = [m for m in c.mentions if m.kind == "driver"]
    near = [m for m in named if m.end <= v.at] or [m for m in named if m.start >= v.at]
    if near:
        return (near[-1] if near[-1].end <= v.at else near[0]).ids
    return c.scope if c.scope_from != "own" else frozenset()


def _list_number(v: Value) -> bool:
    return v.kind == "pos" and v.unit == "list"


def supported(value: Value, scope: frozenset[str], claims: ClaimSet) -> str | None:
    """None when `value`, said of `scope`, is a claim of the answer; else why not
    ("value": no such value anywhere; "attach": the value belongs to someone else)."""
    anywhere = False
    for c in claims.claims:
        for v in c.values:
            if not value.matches(v):
                continue
            anywhere = True
            if not scope or not c.scope or scope & c.scope:
                return None
    return "attach" if anywhere else "value"
