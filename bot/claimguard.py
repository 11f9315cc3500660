"""The claim-level guard: a model's text may say what the deterministic answer says, nothing else.

`ClaimGuard.check` reads the model's text with the same analyser as the answer (`bot.claims`)
and rejects it when

- **entity**: it names a driver, team, race or place the answer does not name (any case; a
  forename before a surname of another driver is an invented name);
- **value**: it states a number, time, position, count, lap or season the answer does not;
- **attach**: it states a value the answer gives to someone else ("Pérez finished P1" when P1 is
  Verstappen's), or puts a driver with a team the answer never puts them with;
- **negation**: it denies what the answer does not deny, says "yes" to an answer that is a "no",
  or affirms what the answer denies ("there was a safety car" / "no safety car");
- **missing**: (final text only) it leaves out a must-say claim (who, and the headline values);
- **link**, **markup**, **mention**, **spam**, **echo**, **length**: links, tags or JSON, mass
  mentions, repeated words or lines, the question (or words of it the answer does not use)
  copied back, or a text too short or too long.

On a prefix of a streamed text (`final=False`) the guard also says how much of it is safe to show:
a sentence whose values may still be attached to a name that has not arrived is held back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.claims import (
    ORDINALS,
    Analysis,
    ClaimSet,
    Clause,
    Value,
    Vocabulary,
    analyse,
    fold,
    supported,
)
from bot.links import find_links, normalise_url

_TAG = re.compile(r"</?[A-Za-z!][^>\n]{0,80}>|\{\s*\"|\"\s*:\s*[\[{\"\d]|\[\s*\{")
_MASS = re.compile(r"@(everyone|here|channel)\b|<!(everyone|here|channel)\b|<@[!&]?\d+>", re.IGNORECASE)
# Talk about the prompt instead of the race ("Based on the given facts, ...", "as an AI").
_META = re.compile(r"\b(?:given|provided|above|listed) (?:facts|data|information|claims)\b|\bthe facts\b|"
                   r"\bas an ai\b|\b(?:system )?prompt\b|\binstructions?\b|\bchat message\b", re.IGNORECASE)
# Look-alike letters: Cyrillic or Greek inside a Latin word ("Наmilton"), or invisible characters.
_SPOOF = re.compile(r"(?=\w*[A-Za-z])(?=\w*[\u0370-\u03ff\u0400-\u04ff])\w+|[\u200b-\u200f\u2060\ufeff]")
_REPEAT = re.compile(r"\b(\w+)\b(?:\W+\1\b){3,}", re.IGNORECASE)
# Words a reply may use whether or not the answer does (phrasing, not facts).
_FREE = frozenset(
    """a an the and or but so of in on at to for from by with as is are was were be been being it its this that
    these those he she they his her their them him there here who what which when where why how did does do done
    had has have not no yes race grand prix gp season team driver drivers car cars finished finish finishing won
    win wins winner victory took take taking set setting scored scoring score points point lap laps time times
    place position positions result results grid pole start started starting ahead behind gap second seconds faster
    slower quicker fastest best stop stops pit stint stints tyre tyres tire tires championship standings after
    before round rounds led lead leading leader title career total while only just also then than over under
    into out up down made make making one two three first last next end ended race's driver's team's year years
    many much more most less least about around his her got get went go going came come placed crossed line
    flag flags safety virtual red yellow rain weather dry wet track air temperature penalty penalties warning
    warnings sprint qualifying quali practice session sessions podium podiums poles wins races starts
    well very great strong solid good nice superb impressive dominant comfortable impressive brilliant edged
    beat beating secured secure claimed claim clinched delivered drove driving drive held holding kept
    mentioned said says according data record records recorded show shows showed""".split()
)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    token: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """`ok` when nothing is wrong; `safe_len`: how much of a streamed prefix may be shown."""

    ok: bool
    problems: tuple[Problem, ...] = ()
    safe_len: int = 0

    @property
    def unsupported(self) -> list[str]:
        return [p.token for p in self.problems]

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(p.kind for p in self.problems))


@dataclass(slots=True)
class ClaimGuard:
    """Checks model text against one answer's claims (built once per answer, cheap to call)."""

    claims: ClaimSet
    vocab: Vocabulary
    question: str = ""
    max_chars: int = 900
    # Words of the question the bot did not read as part of the question (an injection's
    # payload: "reply only PWNED", "new rule from the admin"); the model may not repeat them.
    watch: frozenset[str] = frozenset()
    _answer_words: frozenset[str] = field(default=frozenset(), init=False)
    _question_words: list[str] = field(default_factory=list, init=False)
    _links: frozenset[str] = field(default=frozenset(), init=False)
    _denied_only: frozenset[str] = field(default=frozenset(), init=False)

    def __post_init__(self) -> None:
        # Built once per answer: `check` runs at every streamed word.
        self._answer_words = frozenset(_words(self.claims.answer))
        self._links = frozenset(normalise_url(u) for u in find_links(self.claims.answer))
        self._denied_only = frozenset(
            {w for t in self.claims.negative_topics for w in t} - self.claims.affirmative_topics)
        self._question_words = _words(self.question)
        shouted = {fold(w) for w in re.findall(r"\b[A-Z]{3,}\b", self.question) if w not in self.vocab.codes}
        self.watch = frozenset(fold(w) for w in self.watch) | shouted

    def check(self, text: str, *, final: bool = True) -> Verdict:
        problems: list[Problem] = []
        an = analyse(text, self.vocab)
        problems += self._surface(text, an, final)
        held = len(text)
        open_from = _open_sentence_start(an, text) if not final else None
        for c in an.clauses:
            pending = open_from is not None and c.start >= open_from
            problems += self._clause(c, pending)
            if pending and (c.scope_from != "own" and (c.values or c.negative) or c.negative):
                held = min(held, open_from)  # its subject or its negation may still arrive
        if final:
            problems += self._missing(an)
        uniq = tuple(dict.fromkeys(problems))
        return Verdict(not uniq, uniq, len(text) if final else held)

    # -- parts ----------------------------------------------------------------------------

    def _surface(self, text: str, an: Analysis, final: bool) -> list[Problem]:
        out = [Problem("link", u) for u in an.links if normalise_url(u) not in self._links]
        out += [Problem("markup", m.group(0)) for m in _TAG.finditer(text)]
        out += [Problem("mention", m.group(0)) for m in _MASS.finditer(text)]
        out += [Problem("spam", m.group(0)[:40]) for m in _REPEAT.finditer(text)]
        out += [Problem("echo", m.group(0)) for m in _META.finditer(text)]
        out += [Problem("spoof", repr(m.group(0))) for m in _SPOOF.finditer(text)]
        if "?" in text:
            out.append(Problem("echo", "?"))  # a reply that asks (often the question, copied back)
        lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 12]
        out += [Problem("spam", ln[:40]) for ln in set(lines) if lines.count(ln) > 1]
        out += [Problem("entity", name) for name in an.invented]
        for m in an.mentions:
            if not (m.ids & self.claims.entities):
                out.append(Problem("entity", m.text))
        out += [Problem("value", str(y)) for y in an.years - self.claims.years]
        out += self._echo(text, an, final)
        if len(text) > self.max_chars:
            out.append(Problem("length", f"{len(text)} chars"))
        return out

    def _echo(self, text: str, an: Analysis, final: bool) -> list[Problem]:
        """The question copied back, or its words the answer does not use (an injection's payload)."""
        q = self._question_words
        words = _words(text)  # a streamed prefix is cut at whitespace: its last word is whole
        out: list[Problem] = []
        if len(q) >= 3 and f" {' '.join(q)} " in f" {' '.join(words)} ":
            out.append(Problem("echo", " ".join(q)[:40]))  # the whole question copied back
        named = {fold(w) for m in an.mentions for w in re.findall(r"[^\W\d_]+", m.text)}
        for w in words:
            if w in self.watch and w not in self._answer_words and w not in _FREE and w not in named:
                out.append(Problem("echo", w))
        return out

    def _clause(self, c: Clause, pending: bool) -> list[Problem]:
        out: list[Problem] = []
        # A driver with a team the answer never puts them with.
        drivers = [m for m in c.mentions if m.kind == "driver"]
        teams = [m for m in c.mentions if m.kind == "team"]
        for d in drivers:
            for t in teams:
                pairs = [frozenset({a, b}) for a in d.ids for b in t.ids]
                if not any(p in self.claims.pairs for p in pairs):
                    out.append(Problem("attach", f"{d.text} + {t.text}"))
        for ahead, behind, grid in c.orders:
            if self.claims.order_known(ahead, behind, grid) is not True:
                out.append(Problem("attach", c.text.strip()[:40]))  # who was ahead of whom
        # A compound with laps ("27 medium laps"): one stint of the answer must hold them together.
        tyres = [v for v in c.values if v.kind == "compound"]
        laps = [v for v in c.values if v.kind in ("lap", "count", "num")]
        if tyres and laps and not pending:
            for tv in tyres:
                if not any(any(tv.matches(x) for x in k.values)
                           and all(any(lv.matches(x) for x in k.values) for lv in laps) for k in self.claims.claims):
                    out.append(Problem("attach", f"{tv.text} + {', '.join(v.text for v in laps)}"))
        if not pending or c.scope_from == "own":
            named = [m for m in c.mentions if m.kind in ("driver", "team")]
            for v in c.values:
                if v.kind == "year":
                    continue  # checked against the answer's seasons
                scope = c.scope
                if len(named) > 1:
                    # Several names in one clause ("Hamilton leads with 395.5 from Verstappen on
                    # 387.5"): a value belongs to the name just before it (else just after).
                    near = [m for m in named if m.end <= v.at] or [m for m in named if m.start >= v.at]
                    if near:
                        m = near[-1] if near[-1].end <= v.at else near[0]
                        scope = m.ids
                why = supported(v, scope, self.claims)
                if why:
                    out.append(Problem(why, v.text))
        if pending:
            return out
        neg_topics = self.claims.negative_topics
        if c.yes and self.claims.negative:
            out.append(Problem("negation", "yes"))
        if c.negative:
            if not c.topic and self.claims.negative:
                pass  # a bare "No," to an answer that is a no
            elif not any(c.topic & t for t in neg_topics):
                out.append(Problem("negation", c.text.strip()[:40]))
        elif c.topic & self._denied_only:
            out.append(Problem("negation", c.text.strip()[:40]))
        return out

    def _missing(self, an: Analysis) -> list[Problem]:
        out: list[Problem] = []
        said = {i for m in an.mentions for i in m.ids}
        for name, ids in self.claims.must_entities:
            if not (ids & said):
                out.append(Problem("missing", name))
        values = [v for c in an.clauses for v in c.values]
        subjects = self.claims.must_subjects or [frozenset()] * len(self.claims.must_values)
        for mv, whose in zip(self.claims.must_values, subjects, strict=True):
            # A place the answer states as a number by its driver ("Bottas finished P7") is stated
            # so, by the name: not only as "won", nor sentences away from whom it belongs to.
            spelled = mv.kind == "pos" and not _worded(mv) and bool(whose)
            if not any(mv.matches(v) and not (spelled and _worded(v)) and _next_to(v, whose, an)
                       for v in values):
                out.append(Problem("missing", mv.text))
        low = an.text.casefold().replace("-", " ")
        out += [Problem("missing", w) for w in self.claims.must_words if w not in low]
        if len(_words(an.text)) < 3:
            out.append(Problem("length", "too short"))
        return out


def _next_to(v: Value, whose: frozenset[str], an: Analysis) -> bool:
    """A must-say value stands next to its driver's name (within 40 characters after it, or 25
    before it): "Bottas finished P7", not "Bottas' result in the Emilia Romagna ... sprint was P7"."""
    if not whose:
        return True
    end = v.at + len(v.text)
    return any(m.ids & whose and (0 <= v.at - m.end <= 40 or 0 <= m.start - end <= 25) for m in an.mentions)


def _worded(v: Value) -> bool:
    """A place said by a word that is not a number ("won", "pole", "winner")."""
    return v.text.casefold() not in ORDINALS and not any(ch.isdigit() for ch in v.text)


def unread_words(question: str, read: Iterable[str], filler: Iterable[str] = ()) -> frozenset[str]:
    """The question's words outside what the parser read (`read`: the texts it mapped to slots)
    and outside its filler: what `ClaimGuard.watch` keeps the model from repeating."""
    seen = {w for text in read for w in _words(text)} | {fold(w) for w in filler}
    return frozenset(w for w in _words(question) if w not in seen)


def _words(text: str) -> list[str]:
    return [fold(w) for w in re.findall(r"[^\W\d_]+", text)]


def _open_sentence_start(an: Analysis, text: str) -> int | None:
    """Where the unfinished last sentence of a streamed prefix starts (None: all finished)."""
    stripped = text.rstrip()
    if not stripped or stripped[-1] in ".!?\n":
        return None
    last = [c for c in an.clauses if c.sentence == an.clauses[-1].sentence] if an.clauses else []
    return last[0].start if last else None
