"""How fans name things, and the regexes that grade an answer for the fact.

Aliases are what people type in a Discord channel (nicknames, typos, short forms); the
grading regexes accept any fan-reasonable wording of the right fact (surname or code,
"P2"/"2nd"/"second", the exact time), not one sentence shape.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any

REFUSE = r"(no |not |didn't|wasn't|don't|isn't|which|n't|unknown|couldn't|can't|only|never|cancel)"
FORBID_WON = r"\bwon the\b"

# Driver nicknames and typos by Ergast driverRef (first entries most common).
DRIVER_ALIASES: dict[str, list[str]] = {
    "max_verstappen": ["max", "verstappen", "verstapen", "VER", "max verstappen", "mad max"],
    "perez": ["checo", "perez", "pérez", "sergio perez", "PER"],
    "norris": ["lando", "norris", "lando norris", "NOR"],
    "hamilton": ["lewis", "hamilton", "HAM", "hamiltom", "sir lewis"],
    "leclerc": ["charles", "leclerc", "leclrec", "LEC"],
    "sainz": ["carlos", "sainz", "sainz jr", "smooth operator"],
    "russell": ["george", "russell", "russel", "RUS"],
    "piastri": ["oscar", "piastri", "piastry", "PIA"],
    "alonso": ["fernando", "alonso", "nando", "ALO"],
    "vettel": ["seb", "vettel", "sebastian vettel"],
    "bottas": ["bottas", "valtteri", "botas"],
    "raikkonen": ["raikkonen", "räikkönen", "iceman", "kimi raikkonen"],
    "ricciardo": ["ricciardo", "danny ric", "daniel ricciardo"],
    "gasly": ["gasly", "pierre gasly"],
    "ocon": ["ocon", "esteban ocon"],
    "stroll": ["stroll", "lance stroll"],
    "albon": ["albon", "alex albon"],
    "tsunoda": ["yuki", "tsunoda"],
    "hulkenberg": ["hulkenberg", "hulk", "hülkenberg"],
    "michael_schumacher": ["schumi", "michael schumacher", "schumacher"],
    "senna": ["senna", "ayrton senna", "ayrton"],
    "prost": ["prost", "alain prost"],
    "button": ["button", "jenson"],
    "rosberg": ["nico rosberg", "rosberg"],
    "massa": ["massa", "felipe massa"],
    "webber": ["webber", "mark webber"],
    "antonelli": ["kimi antonelli", "antonelli"],
    "bearman": ["bearman", "ollie bearman"],
}

TEAM_ALIASES: dict[str, list[str]] = {
    "red_bull": ["red bull", "the red bulls", "rbr", "redbull"],
    "mclaren": ["mclaren", "papaya", "maclaren"],
    "mercedes": ["mercedes", "the silver arrows", "merc"],
    "ferrari": ["ferrari", "the prancing horse", "scuderia", "ferarri"],
    "williams": ["williams"],
    "aston_martin": ["aston martin", "aston"],
    "alpine": ["alpine"],
    "renault": ["renault"],
    "haas": ["haas"],
    "lotus_f1": ["lotus"],
    "team_lotus": ["lotus"],
    "brabham": ["brabham"],
    "tyrrell": ["tyrrell"],
}

# Circuit nicknames by circuitRef (each unambiguous within one season except the 2020 doubles).
CIRCUIT_ALIASES: dict[str, list[str]] = {
    "americas": ["cota", "austin"],
    "spa": ["spa", "spa francorchamps"],
    "interlagos": ["interlagos", "brazil"],
    "jeddah": ["jeddah", "saudi"],
    "baku": ["baku", "azerbaijan"],
    "marina_bay": ["marina bay", "singapore"],
    "yas_marina": ["yas marina", "abu dhabi"],
    "imola": ["imola"],
    "monza": ["monza", "the italian race", "italy"],
    "silverstone": ["silverstone"],
    "suzuka": ["suzuka", "japan"],
    "monaco": ["monaco", "monte carlo"],
    "zandvoort": ["zandvoort", "the dutch gp"],
    "hungaroring": ["hungary", "hungaroring", "budapest"],
    "albert_park": ["melbourne", "albert park", "australia"],
    "catalunya": ["barcelona", "spain", "catalunya"],
    "villeneuve": ["montreal", "canada"],
    "rodriguez": ["mexico"],
    "losail": ["qatar", "losail"],
    "shanghai": ["china", "shanghai"],
    "vegas": ["vegas", "las vegas"],
    "miami": ["miami"],
    "red_bull_ring": ["austria", "the red bull ring", "spielberg"],
    "bahrain": ["bahrain", "sakhir"],
    "nurburgring": ["nurburgring", "nürburgring"],
    "hockenheimring": ["hockenheim"],
    "ricard": ["paul ricard", "le castellet"],
    "sochi": ["sochi", "russia"],
    "sepang": ["sepang", "malaysia"],
    "istanbul": ["istanbul", "turkey"],
    "kyalami": ["kyalami"],
    "watkins_glen": ["watkins glen"],
    "reims": ["reims"],
    "nurburgring_old": [],
}

ORD_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
             8: "eighth", 9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth",
             14: "fourteenth", 15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth",
             19: "nineteenth", 20: "twentieth"}


def fold(s: str) -> str:
    """Accents off ("Pérez" -> "Perez")."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def pos_alts(n: int) -> str:
    """P2 / 2nd / second (not a bare "2", which a time or a count would contain)."""
    alts = [f"P{n}", ordinal(n)]
    if n in ORD_WORDS:
        alts.append(ORD_WORDS[n])
    return "(?:" + "|".join(alts) + r")\b"


def pos_of(name: str, n: int) -> str:
    """Driver `name` placed `n`: "Norris finished P2", "P2 Norris", or a list row "2. Norris".

    Not a "P2" of the grid ("from P2 on the grid") nor one far from the name.
    """
    p = pos_alts(n) + r"(?!\s*(?:on the )?grid)"
    return (rf"(?:{name})[^\n]{{0,40}}?(?<![\w(]){p}|(?<!from ){p}[^\n]{{0,25}}?(?:{name})"
            rf"|(?:^|\n)\W*{n}[.)]\s[^\n]{{0,25}}?(?:{name})")


def near(a: str, b: str, gap: int = 60) -> str:
    """`a` and `b` on one line, within `gap` characters, in either order."""
    return rf"(?:{a})[^\n]{{0,{gap}}}(?:{b})|(?:{b})[^\n]{{0,{gap}}}(?:{a})"


def count_re(n: int | float | str, word: str) -> str:
    """The number next to its word: "4 wins" or "wins: 4" (not a 4 elsewhere); `n` may be a word."""
    if isinstance(n, str):
        return rf"\b{n}\b[^.\n]{{0,40}}\b{word}|\b{word}[^.\n]{{0,40}}\b{n}\b"
    num = re.escape(num_text(n))
    return rf"(?<![\d.]){num}(?![\d]|\.\d)[^.\n]{{0,40}}\b{word}|\b{word}[^.\n]{{0,40}}(?<![\d.]){num}(?![\d]|\.\d)"


def num_text(n: int | float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


def lap_time(seconds: float) -> str:
    """1:25.072 as text."""
    ms = int(round(seconds * 1000))
    m, rest = divmod(ms, 60000)
    return f"{m}:{rest // 1000:02d}.{rest % 1000:03d}"


def two_digit(year: int, rng: random.Random) -> str:
    return rng.choice([f"'{year % 100:02d}", f"{year % 100:02d}"])


def fan(text: str) -> str:
    """Lowercase (but a driver code such as VER stays as typed): how people type in a channel."""
    text = re.sub(r"\b(?:in|at) (this year|this season|last year)\b", r"\1", text)
    text = re.sub(r"\b(the|in|at) \1\b", r"\1", text, flags=re.IGNORECASE)
    words = re.sub(r"\s+", " ", text).strip().split(" ")
    return " ".join(w if re.fullmatch(r"[A-Z]{3}('s)?", w) else w.lower() for w in words)


class Names:
    """Driver and team names for questions (aliases) and for regexes (surname or code)."""

    def __init__(self, drivers: dict[int, dict[str, Any]], constructors: dict[int, dict[str, Any]],
                 spans: dict[int, tuple[int, int]]) -> None:
        self.drivers = drivers
        self.constructors = constructors
        self.spans = spans  # driverId -> (first, last) season raced: a surname is ambiguous only in its era

    def _clash(self, did: int, key: str) -> bool:
        """Another driver of overlapping seasons shares this surname (key "surname") or code."""
        me = self.drivers[did]
        a0, a1 = self.spans.get(did, (0, 9999))
        for oid, o in self.drivers.items():
            if oid == did or not o.get(key):
                continue
            same = fold(o[key]).lower() == fold(me[key] or "").lower()
            b0, b1 = self.spans.get(oid, (0, -1))
            if same and b0 <= a1 and a0 <= b1:
                return True
        return False

    def driver_re(self, did: int) -> str:
        """Surname (with and without accents; with the first name when shared) or the 3-letter code."""
        d = self.drivers[did]
        sur, first = re.sub(r",? Jr\.?$", "", d["surname"]), d["forename"]
        alts = "|".join(sorted({re.escape(sur), re.escape(fold(sur))}))
        if self._clash(did, "surname"):
            firsts = "|".join(sorted({re.escape(first), re.escape(fold(first)), re.escape(first[0]) + r"\."}))
            name = rf"(?:{firsts})\s*(?:{alts})"
        else:
            name = rf"(?:{alts})"
        code = d.get("code")
        if code and not self._clash(did, "code"):
            return rf"(?<!\w)(?:{name}|(?-i:{code}))(?!\w)"
        return rf"(?<!\w){name}(?!\w)"

    def driver_q(self, did: int, rng: random.Random, possessive: bool = False) -> str:
        d = self.drivers[did]
        opts = DRIVER_ALIASES.get(d["driverRef"]) or [d["surname"].lower(), f"{d['forename']} {d['surname']}".lower()]
        if self._clash(did, "surname"):  # "schumacher" in 1997 or "hill" in 1964 could be either
            opts = [o for o in opts if fold(o) != fold(d["surname"]).lower()] or [f"{d['forename']} {d['surname']}".lower()]
        name = rng.choice(opts)
        if possessive:
            return name + ("'" if name.endswith("s") else "'s")
        return name

    def team_re(self, cid: int) -> str:
        """The team's name, or its core ("Alpine F1 Team" -> "Alpine", "Team Lotus" -> "Lotus")."""
        name = self.constructors[cid]["name"]
        core = re.sub(r"\b(?:F1 Team|Team|Racing|Scuderia)\b", "", name.split("-")[0]).strip(" -")
        forms = {re.escape(name), re.escape(fold(name))} | ({re.escape(core)} if len(core) >= 2 else set())
        return rf"(?<!\w)(?:{'|'.join(sorted(forms))})(?!\w)"

    def team_q(self, cid: int, rng: random.Random) -> str:
        c = self.constructors[cid]
        opts = TEAM_ALIASES.get(c["constructorRef"]) or [c["name"].lower()]
        return rng.choice(opts)


def secs_re(seconds: float) -> str:
    """A gap or duration to the millisecond: 6.064 (not inside 16.0645); past a minute also 1:12.839."""
    out = rf"(?<![\d.:]){re.escape(f'{seconds:.3f}')}(?!\d)"
    if seconds >= 60:
        out += rf"|(?<![\d.:]){re.escape(lap_time(seconds))}(?!\d)"
    return out


def time_re(seconds: float) -> str:
    """A lap time exactly as timing shows it: 1:25.072."""
    return rf"(?<![\d:.]){re.escape(lap_time(seconds))}(?!\d)"
