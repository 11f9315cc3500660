"""Context check (for tests): a text may only state numbers, driver codes and names a context holds.

This was the bot's first fact guard; the claim guard (`bot.claimguard`) replaced it in the bot.
The tests keep it as an independent check that a deterministic answer states only what its
context holds (a token-level check: it does not know whom a number belongs to).

Small models do not compute and do invent (see docs/llm.md). Rather than trust
them, every checkable token of the answer is looked up in an index built from the
context the model was given:

- **numbers**: lap times (``1:25.072`` = ``85.072`` s), gaps (``+1.5s``), points,
  laps, positions (``P3``, ``3rd``, ``third``), years, percentages. A number with
  decimals may be a rounding of a context value (``1:25.07``); a whole number must
  be exact. Decimal commas (``1,5``) and thousands separators are understood.
- **driver codes**: any three capital letters, unless a known non-driver acronym
  (DRS, FIA, DNF, ...); supported when the context holds the code or that driver's
  surname.
- **driver names**: surnames of every F1 driver (bundled list) and forenames of
  drivers with a code; supported when the context holds the name (accents ignored)
  or that driver's code. "Forename Surname" pairs must be a real driver.

- **links**: every URL (markdown ``[text](url)``, Slack ``<url|text>``, bare
  ``http(s)://`` or ``www.``) is a claim, supported only when the context holds the
  same address (scheme, ``www.``, case and a trailing slash ignored). A model may
  not send readers anywhere the data did not (a prompt injection's phishing link).

Deliberately not checked (too ambiguous in prose): "one", "two", "first", "second",
and letter-prefixed terms such as F1, Q3, S1, FP2, C3 (compounds), V6.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from bot.claims import ACRONYMS, AMBIGUOUS, fold
from bot.driver_names import DRIVERS
from bot.links import find_links, normalise_url

# Number words, checked like digits. "one"/"two"/"first"/"second" are left out: in prose
# they are rarely counts ("one of the", "a second", "the first stint").
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
    if i >= 3
}
ORDINAL_WORDS = {
    w: i
    for i, w in enumerate(
        "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
        "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth "
        "twentieth".split()
    )
    if i >= 3
}

# A number not glued to a preceding letter (F1, Q3, S1, FP2, V6 are names, not numbers).
_TEXT_NUM = re.compile(r"(?<![^\W\d_])\d[\d.,:]*")
_CTX_NUM = re.compile(r"\d[\d.,:]*")
_POSITION = re.compile(r"(?<![^\W\d_])P(\d{1,2})\b")
_FORMULA_ONE = re.compile(r"\bFormula\s*(?:1|One)\b", re.IGNORECASE)
_CODE = re.compile(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’\-][^\W\d_])*")


@dataclass(frozen=True, slots=True)
class GuardResult:
    """`ok` when nothing unsupported was found; `unsupported` lists the offending tokens."""

    ok: bool
    unsupported: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Drivers:
    surname_codes: dict[str, frozenset[str]]  # folded last word of surname -> codes ("" none)
    code_surnames: dict[str, frozenset[str]]  # code -> folded surname last words
    forenames: frozenset[str]  # folded forenames of drivers with a code (modern era)
    full_names: frozenset[tuple[str, str]]  # (folded first forename, folded surname last word)


@lru_cache(maxsize=1)
def _drivers() -> _Drivers:
    surname_codes: dict[str, set[str]] = {}
    code_surnames: dict[str, set[str]] = {}
    forenames: set[str] = set()
    full: set[tuple[str, str]] = set()
    for entry in DRIVERS:
        code, forename, surname = entry.split("|")
        last = fold(surname.split()[-1].rstrip("."))
        surname_codes.setdefault(last, set()).add(code)
        first = fold(forename.split()[0])
        full.add((first, last))
        if code:
            code_surnames.setdefault(code, set()).add(last)
            forenames.add(first)
    return _Drivers(
        surname_codes={k: frozenset(v) for k, v in surname_codes.items()},
        code_surnames={k: frozenset(v) for k, v in code_surnames.items()},
        forenames=frozenset(forenames),
        full_names=frozenset(full),
    )


# -- numbers ---------------------------------------------------------------------------


def _dec(s: str) -> Decimal | None:
    try:
        return abs(Decimal(s))
    except InvalidOperation:
        return None


def _clock_seconds(token: str) -> Decimal | None:
    """'1:25.072' -> 85.072; '1:02:03.5' -> 3723.5 (h:mm:ss); None if not a clock value."""
    parts = token.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    if any("." in p for p in parts[:-1]) or not all(p.replace(".", "", 1).isdigit() for p in parts):
        return None
    total = Decimal(0)
    for p in parts:
        total = total * 60 + Decimal(p)
    return total


def interpretations(token: str) -> list[set[Decimal]]:
    """The values a numeric token may mean, as a list of alternatives per sub-number.

    Usually one set (e.g. '1,500' -> {1500, 1.5}); a list like '1,2,3' gives one
    set per item, each of which must be supported.
    """
    token = token.rstrip(".,:")
    if not token:
        return []
    if ":" in token:
        secs = _clock_seconds(token)
        if secs is not None:
            return [{secs}]
        return [v for part in token.split(":") for v in interpretations(part)]
    if "," in token:
        vals: set[Decimal] = set()
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
            d = _dec(token.replace(",", ""))
            if d is not None:
                vals.add(d)
        if re.fullmatch(r"\d+,\d+", token):
            d = _dec(token.replace(",", "."))
            if d is not None:
                vals.add(d)
        if vals:
            return [vals]
        return [v for part in token.split(",") for v in interpretations(part)]
    if token.count(".") > 1:  # '2023.09.03' style
        return [v for part in token.split(".") for v in interpretations(part)]
    d = _dec(token)
    return [{d}] if d is not None else []


def _roundings(value: Decimal) -> set[Decimal]:
    """The value plus its roundings to 1-3 decimals (a model may write 1:25.07 for 1:25.072)."""
    out = {value}
    if value != value.to_integral_value():
        for places in ("0.1", "0.01", "0.001"):
            out.add(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))
    return out


# -- the index -------------------------------------------------------------------------


class FactIndex:
    """Everything checkable in one context, built once per answer (cheap to query)."""

    def __init__(self, context: object) -> None:
        self.numbers: set[Decimal] = set()
        self.words: set[str] = set()
        self.codes: set[str] = set()
        self.urls: set[str] = set()
        self._walk(context)
        drivers = _drivers()
        # A code in the context supports its surname, and a surname its code.
        for code in list(self.codes):
            self.words.update(drivers.code_surnames.get(code, ()))
        for word in list(self.words):
            self.codes.update(c for c in drivers.surname_codes.get(word, ()) if c)

    def _walk(self, obj: object) -> None:
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                self._walk(k)
                self._walk(v)
        elif isinstance(obj, bool) or obj is None:
            return
        elif isinstance(obj, int | float | Decimal):
            if isinstance(obj, float) and obj != obj:  # NaN holds no fact
                return
            exact = Decimal(repr(obj)) if isinstance(obj, float) else Decimal(obj)
            self.numbers |= _roundings(abs(exact))
        elif isinstance(obj, str):
            self._add_text(obj)
        elif isinstance(obj, Iterable):
            for item in obj:
                self._walk(item)
        else:
            self._add_text(str(obj))  # dates, enums: their text is what the model saw

    def _add_text(self, s: str) -> None:
        if "/" in s or "www" in s.casefold():  # cheap pre-check: most context strings hold no link
            self.urls.update(normalise_url(u) for u in find_links(s))
        for token in _CTX_NUM.findall(s):
            for alternatives in interpretations(token):
                for v in alternatives:
                    self.numbers |= _roundings(v)
        for m in _POSITION.finditer(s):
            self.numbers.add(Decimal(m.group(1)))
        for word in _WORD.findall(s):
            self.words.add(fold(word))
            for part in re.split(r"['’\-]", word):
                self.words.add(fold(part))
        self.codes.update(_CODE.findall(s))

    # -- checks ---------------------------------------------------------------------------

    def check(self, text: str) -> GuardResult:
        """Find every number, code and driver name in `text` the context does not support."""
        bad: list[str] = self._check_links(text)
        cleaned = _FORMULA_ONE.sub("Formula", text)
        bad += self._check_numbers(cleaned)
        bad += self._check_codes(cleaned)
        bad += self._check_names(cleaned)
        # Keep order of first appearance, no duplicates.
        seen: set[str] = set()
        unique = [b for b in bad if not (b in seen or seen.add(b))]
        return GuardResult(ok=not unique, unsupported=unique)

    def _check_links(self, text: str) -> list[str]:
        return [u for u in find_links(text) if normalise_url(u) not in self.urls]

    def _supported(self, alternatives: set[Decimal]) -> bool:
        return any(v in self.numbers for v in alternatives)

    def _check_numbers(self, text: str) -> list[str]:
        bad = []
        for m in _TEXT_NUM.finditer(text):
            token = m.group(0).rstrip(".,:")
            if not all(self._supported(alts) for alts in interpretations(token)):
                bad.append(token)
        for m in _POSITION.finditer(text):
            if Decimal(m.group(1)) not in self.numbers:
                bad.append(m.group(0))
        for m in _WORD.finditer(text):
            w = m.group(0).casefold()
            n = NUMBER_WORDS.get(w, ORDINAL_WORDS.get(w))
            if n is not None and Decimal(n) not in self.numbers:
                bad.append(m.group(0))
        return bad

    def _check_codes(self, text: str) -> list[str]:
        return [c for c in _CODE.findall(text) if c not in ACRONYMS and c not in self.codes]

    def _check_names(self, text: str) -> list[str]:
        drivers = _drivers()
        bad: list[str] = []
        prev: re.Match[str] | None = None
        for m in _WORD.finditer(text):
            word = m.group(0)
            folded = fold(word)
            before = prev if prev and not text[prev.end() : m.start()].strip() else None
            prev = m
            if not word[0].isupper() or (word.isupper() and len(word) <= 3):
                continue  # lower-case prose; codes are checked separately
            is_surname = folded in drivers.surname_codes
            is_forename = folded in drivers.forenames
            if not (is_surname or is_forename):
                continue
            if folded in AMBIGUOUS and _starts_sentence(text, m.start()):
                continue  # "Pace was strong", "Max speed": a word, not a name
            if is_surname and before is not None:
                first = fold(before.group(0))
                # "Carlos Verstappen": two real names, but no such driver.
                if (
                    first in drivers.forenames
                    and first not in drivers.surname_codes  # "Hamilton Verstappen"-like lists
                    and (first, folded) not in drivers.full_names
                ):
                    bad.append(f"{before.group(0)} {word}")
                    continue
            if folded in self.words:
                continue
            if folded in AMBIGUOUS and not is_surname:
                continue  # "Will", "Max", "Jack" mid-sentence: too often plain words
            bad.append(word)
        return bad


def _starts_sentence(text: str, pos: int) -> bool:
    """True when `pos` starts a sentence, line or list item (capitals there mean nothing)."""
    i = pos - 1
    while i >= 0 and text[i].isspace():
        if text[i] == "\n":
            return True
        i -= 1
    while i >= 0 and text[i] in "*_#>`\"'(":
        i -= 1  # markdown emphasis / quotes before the word
    return i < 0 or text[i] in ".!?:\n•-"


def check(text: str, context: object) -> GuardResult:
    """Check `text` against any nested Mapping / list / scalar `context` (see module doc)."""
    return FactIndex(context).check(text)
