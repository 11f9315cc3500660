"""Race Lab: the strategy words of a what-if, read from `/f1 whatif` text or a fan's question.

Pure text → `LabAsk`. Kept apart from `bot/lab_answer.py` (which runs the flows) so the
reading can grow with the ways fans ask without the flows growing with it:
pit laps with tyres ("pit 30 H", "on lap 30 for hards"), a number of stops ("two stopped",
"a 2 stopper"), a stop moved by some laps ("10 laps longer", "a lap earlier"), a stop moved
without a number ("pitted earlier": a small window is tried), "was it a mistake" (both ways),
"stayed out", which stop ("his second stop"), "best", "explain".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMPOUND_WORDS = {
    "soft": "SOFT", "softs": "SOFT", "s": "SOFT", "medium": "MEDIUM", "mediums": "MEDIUM", "med": "MEDIUM",
    "m": "MEDIUM", "hard": "HARD", "hards": "HARD", "h": "HARD", "inter": "INTERMEDIATE",
    "inters": "INTERMEDIATE", "intermediate": "INTERMEDIATE", "intermediates": "INTERMEDIATE",
    "i": "INTERMEDIATE", "wet": "WET", "wets": "WET", "w": "WET",
}
_COMP = r"(softs?|mediums?|med|hards?|inters?|intermediates?|wets?|s|m|h|i|w)"
# "pit 30 H", "box on lap 30 for the hards": the command form, also typed as free text.
_CMD_PIT = re.compile(rf"\b(?:pit|box)\s+(?:on\s+)?(?:lap\s+)?(\d{{1,3}})(?:\s+(?:for\s+|on\s+)?(?:the\s+)?{_COMP}\b)?",
                      re.I)
_Q_LAP = re.compile(r"\blaps?\s+(\d{1,3})\b|\bl(\d{1,3})\b", re.I)
_Q_COMP = re.compile(r"\b(softs?|mediums?|hards?|inters?|intermediates?|wets?)\b", re.I)
# "two stop", "2-stopper", "two stopped", "one-stopping", "a single stop".
_N_STOPS = re.compile(r"\b(one|two|three|single|double|1|2|3)[\s-]?stop(?:ped|ping|pers?|s)?\b", re.I)
_STAY_OUT = re.compile(r"\bstay(ed|ing|s)?\s+out\b", re.I)
_EXPLAIN = re.compile(r"\b(explain|assumptions?|how does (it|this) work)\b", re.I)
_BEST = re.compile(r"\bbest\b", re.I)
# "an extra stop", "one more stop" (+1); "one stop fewer" (-1): counted from the actual stops.
_EXTRA = re.compile(r"\b(extra|additional|another|one more) (pit ?)?stop\b", re.I)
_FEWER = re.compile(r"\bone (stop )?(fewer|less) stops?\b|\bone stop (fewer|less)\b", re.I)
_NUM = {"one": 1, "two": 2, "three": 3, "single": 1, "double": 2, "1": 1, "2": 2, "3": 3}

# A stop moved by some laps: "10 laps longer", "a lap earlier", "two laps sooner", "5 more laps",
# "later by 3 laps". Earlier/sooner = negative; later/longer/more = positive.
_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                "couple": 2, "a couple": 2, "a couple of": 2, "couple of": 2}
_COUNT = r"(\d{1,2}|a couple of|a couple|couple of|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
_EARLY = {"earlier", "sooner", "early", "before", "undercut"}  # the undercut: stopping before the rival
_SHIFT = re.compile(rf"\b{_COUNT}\s+(?:more\s+|extra\s+)?laps?\s+(earlier|sooner|later|longer|early|late)\b", re.I)
_SHIFT_MORE = re.compile(rf"\b{_COUNT}\s+(?:more|extra|further)\s+laps?\b", re.I)
_SHIFT_BY = re.compile(rf"\b(earlier|sooner|later|longer)\s+by\s+{_COUNT}\s+laps?\b", re.I)
# Without a number: "pitted earlier", "stayed out longer", "was the stop too late".
_TOO = re.compile(r"\btoo\s+(early|soon|late)\b", re.I)
_WHEN_WORD = re.compile(r"\b(earlier|sooner|later|longer|undercut|overcut)s?\b", re.I)
# "was pitting on lap 20 a mistake", "the right call": the actual stop judged against both ways.
_JUDGE = re.compile(r"\b(mistake|wrong|right call|right choice|right decision|good call|bad call|good idea|"
                    r"bad idea|correct|blunder|error)\b", re.I)
# "his second stop", "the last stop": which of several stops moves.
_WHICH = re.compile(r"\b(first|1st|second|2nd|third|3rd|last|final|only)\s+(?:pit\s*)?stop\b", re.I)
_WHICH_N = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "last": -1, "final": -1, "only": 1}

WINDOW = 8  # laps tried either way when a stop moves "earlier"/"later" with no number


@dataclass(frozen=True, slots=True)
class LabAsk:
    """The strategy words of a what-if: pit laps with an optional tyre, a number of stops,
    a stop moved by `shift` laps (+ later) or over a window ("earlier" / "later" / "either"),
    which stop (1-based, -1 the last), one stop more or fewer (`extra`), "stayed out", "best",
    "explain"."""

    stops: tuple[tuple[int, str | None], ...] = ()
    n_stops: int | None = None
    stay_out: bool = False
    best: bool = False
    explain: bool = False
    shift: int | None = None
    window: str | None = None
    which: int | None = None
    extra: int = 0


def read_command(text: str | None) -> tuple[LabAsk, str]:
    """`pit 25 hard pit 40 monza 2023 explain` → (the ask, the race text left: "monza 2023")."""
    text = text or ""
    stops = [(int(mt.group(1)), _COMPOUND_WORDS[mt.group(2).lower()] if mt.group(2) else None)
             for mt in _CMD_PIT.finditer(text)]
    rest = _CMD_PIT.sub(" ", text)
    ask = _flags(rest, stops)
    for pat in (_FEWER, _EXTRA, _N_STOPS, _STAY_OUT, _EXPLAIN, _BEST, _SHIFT, _SHIFT_MORE, _SHIFT_BY, _WHICH,
                _TOO, _WHEN_WORD, _JUDGE):
        rest = pat.sub(" ", rest)
    return ask, " ".join(rest.split())


def read_question(text: str) -> LabAsk:
    """The strategy words of a free question ("pitted on lap 30 for hards", "a one-stop",
    "5 laps earlier", "whatif VER pit 30 H")."""
    stops: list[tuple[int, str | None]] = [
        (int(mt.group(1)), _COMPOUND_WORDS[mt.group(2).lower()] if mt.group(2) else None)
        for mt in _CMD_PIT.finditer(text)]
    rest = _CMD_PIT.sub(" ", text)
    marks = list(_Q_LAP.finditer(rest))
    for k, mt in enumerate(marks):
        tail_end = marks[k + 1].start() if k + 1 < len(marks) else len(rest)
        comp = _Q_COMP.search(rest, mt.end(), tail_end)
        stops.append((int(mt.group(1) or mt.group(2)), _COMPOUND_WORDS[comp.group(1).lower()] if comp else None))
    # A tyre without a lap ("what if he had used hards") names no decision: the answer asks for a lap.
    return _flags(text, stops)


def _count(word: str) -> int:
    w = " ".join(word.lower().split())
    return int(w) if w.isdigit() else _COUNT_WORDS[w]


def _shift(text: str) -> int | None:
    if mt := _SHIFT.search(text):
        n, way = _count(mt.group(1)), mt.group(2).lower()
        return -n if way in _EARLY else n
    if mt := _SHIFT_BY.search(text):
        n, way = _count(mt.group(2)), mt.group(1).lower()
        return -n if way in _EARLY else n
    if mt := _SHIFT_MORE.search(text):
        return _count(mt.group(1))
    return None


def _window(text: str) -> str | None:
    if mt := _TOO.search(text):
        return "earlier" if mt.group(1).lower() == "late" else "later"  # too late → should have been earlier
    if mt := _WHEN_WORD.search(text):
        return "earlier" if mt.group(1).lower() in _EARLY else "later"
    if _JUDGE.search(text):
        return "either"
    return None


def _flags(text: str, stops: list[tuple[int, str | None]]) -> LabAsk:
    n = _N_STOPS.search(_FEWER.sub(" ", text))
    shift = _shift(text)
    which = _WHICH.search(text)
    # A named lap with "a mistake" judges that stop; a named lap with "earlier" is the lap itself.
    window = None if shift is not None or (stops and not _JUDGE.search(text)) else _window(text)
    return LabAsk(
        stops=tuple(sorted(set(stops))), n_stops=_NUM[n.group(1).lower()] if n else None,
        stay_out=bool(_STAY_OUT.search(text)), best=bool(_BEST.search(text)),
        explain=bool(_EXPLAIN.search(text)), shift=shift, window=window,
        which=_WHICH_N[which.group(1).lower()] if which else None,
        extra=1 if _EXTRA.search(text) else -1 if _FEWER.search(text) else 0,
    )


__all__ = ["WINDOW", "LabAsk", "read_command", "read_question"]
