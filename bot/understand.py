"""Free text → a typed `QueryPlan`, accounting for every word.

The question is normalised (typos, chat spellings, two-digit years), then read
in passes, each taking the words it understands: fixed keyword phrases (the
intent's clues), numbers (years, rounds, laps, positions), then names against
the store's indexes (races, drivers, teams), then filler. Whatever is left is
`plan.unknown`: a named thing we did not find is never silently dropped — the
reply says what was understood and what was not (`bot.clarify`).

The intent comes from the clues and the filled slots (`_intent`); defaults
(latest race, current season) apply only when nothing was named, and are noted
in `plan.notes` so the reply can say which race it used.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from bot import lexicon as lx
from bot import messages as m
from bot.errors import UserError
from bot.plan import QueryPlan
from bot.resolve import (
    SESSION_WORDS,
    EventIndex,
    driver_index,
    event_index,
    team_keys,
    upcoming_event_index,
)
from storage.queries import NICKNAMES, DriverInfo, EventInfo, fold
from storage.store import Store

# Words never taken as a name when typed in lower case (English words that are also surnames or codes).
_NOT_NAMES_LOWER = set(
    "pace love ward may stuck bell brown white black long will king rain best fast gap pole win won stop lap "
    "grand rosa march april june august most ever beat red blue green mass young hill hunt moss fry lamb "
    "bad bar but cha col dam dev dig dir doo fit had har law lot mag mal mas mer mon nor pal per pet pic sat "
    "sen sir van ros ste gas ant bea hei bot"
    .split()
)
# 3-letter codes a fan types in lower case too ("ver vs ham"); others only in capitals ("NOR", "PER").
_LOWER_CODES_OK = set("ver ham lec pia rus alo tsu oco str alb hul zho ric vet rai sar msc web kvy gio lat".split())


@dataclass(slots=True)
class _Text:
    """The normalised question and which of its words are taken."""

    words: list[str]
    caps: set[str]  # folded words typed in capitals in the original ("PER")
    taken: list[bool] = field(default_factory=list)
    joined: str = ""
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.taken = [False] * len(self.words)
        # The words never change, only which are taken: join once (dozens of patterns read it).
        pos = 0
        for w in self.words:
            self.starts.append(pos)
            pos += len(w) + 1
        self.joined = " ".join(self.words)

    def free(self) -> list[int]:
        return [i for i, t in enumerate(self.taken) if not t]

    def take(self, i: int, n: int = 1) -> str:
        for k in range(i, i + n):
            self.taken[k] = True
        return " ".join(self.words[i : i + n])

    def find(self, pattern: re.Pattern[str]) -> list[tuple[int, int, re.Match[str]]]:
        """Matches over the untaken words: (first word, word count, match)."""
        out = []
        for mt in pattern.finditer(self.joined):
            a = bisect.bisect_right(self.starts, mt.start()) - 1
            b = bisect.bisect_right(self.starts, max(mt.end() - 1, mt.start())) - 1
            if a < 0 or any(self.taken[k] for k in range(a, b + 1)):
                continue
            out.append((a, b - a + 1, mt))
        return out


# --------------------------------------------------------------------------- normalising


def normalise(text: str) -> tuple[list[str], set[str]]:
    """Words of the question, folded, typos fixed, two-digit years expanded; and the capitals."""
    raw = text.replace("’", "'").replace("‘", "'")
    # '23 / ’21 → a season; "max's" → "max".
    raw = re.sub(r"(?<![\w])'(\d\d)\b", lambda mt: " " + _century(int(mt.group(1))), raw)
    raw = re.sub(r"n't\b", "nt", raw, flags=re.I)  # "didn't" → "didnt" (fold would split it)
    raw = re.sub(r"(\w)'s\b", r"\1", raw)
    raw = re.sub(r"(\w)s'(?=\s|$)", r"\1s", raw)
    raw = re.sub(r"(\d{4})\s*[-–/]\s*(\d{2,4})\b", r"\1 to \2", raw)  # 2019-21, 2019–2021
    raw = re.sub(r"\b(\d{1,3})\s*[-–]\s*(\d{1,3})\b", r"\1 to \2", raw)  # laps 10-20
    caps = {fold(w) for w in re.findall(r"\b[A-Z]{2,4}\b", raw)}
    t = fold(raw.replace("#", " number "))
    words = []
    for w in t.split():
        words.extend(lx.TYPOS.get(w, w).split())
    t = " ".join(words)
    for pat, rep in lx.PHRASES:
        t = re.sub(pat, rep, t)
    return t.split(), caps


def respell(text: str, unknown: list[str]) -> str | None:
    """The question with misspelt clue words fixed ("winnr", "podim", "champoinship"), or None.

    Only words that read as exactly one of the words the clues and fillers are made of:
    a name is never turned into a clue (names are matched before this runs)."""
    fixed = text
    for w in unknown:
        if len(w) < 5 or w.isdigit():
            continue  # "post" is not "most": short words are too close to too much
        close = difflib.get_close_matches(w, _SPELL_VOCAB, n=3, cutoff=0.8)
        if not close:
            continue
        # Forms of one word ("championship", "championships") are not rivals.
        rivals = [c for c in close[1:] if not (c.startswith(close[0]) or close[0].startswith(c))]
        if len(close[0]) == len(w) + 1 and close[0].endswith(w):
            continue  # "print" is a word of its own, not "sprint" missing its first letter
        r0 = difflib.SequenceMatcher(None, w, close[0]).ratio()
        r1 = difflib.SequenceMatcher(None, w, rivals[0]).ratio() if rivals else 0.0
        if r0 - r1 >= 0.05:
            fixed = re.sub(rf"\b{re.escape(w)}\b", close[0], fixed, flags=re.I)
    return fixed if fixed != text else None


def _century(yy: int) -> str:
    return str(2000 + yy if yy <= 40 else 1900 + yy)


# --------------------------------------------------------------------------- clue phrases
#
# (tag, pattern): a tag is a clue for the intent; the words a pattern matches are
# taken (they are not names). Order matters only where patterns overlap.

_CLUES: list[tuple[str, str]] = [
    ("not_held", lx.NOT_HELD.pattern),
    # A picture of the data: "plot", "chart", "graph", "visualise" (bot/charts draws it).
    ("chart", r"\b(chart|charts|plot(ted|ting|s)?|boxplots?|graph|graphs|graphed|visuali[sz](e|ed|ation)|diagram|infographic)\b|"
              r"\bdraw (me )?(a|the|out)\b"),
    # Race Lab (bot/lab_answer.py): best strategy, what-if, battle forecast. Before "predict"
    # ("forecast") and "stints" ("strategy"), which would take their words otherwise.
    ("best_strategy", r"\b(best|optimal|ideal|fastest|quickest|optimum) (race |tyre |tire |pit )?(strateg(y|ies)|strats?)\b"),
    ("whatif", r"\bwhat if\b|\bwhat would (have )?happen(ed)? if\b|\b(stay|stayed|staying) out( (a bit |a little |much )?longer)?\b|"
               r"\b(first|second|third|last|final) (pit )?stop\b(?=.*\b(earlier|sooner|later|longer)\b)|"
               r"\bhave (worked|paid off)\b|\b(worked|work) (out )?better\b|\balternative strateg(y|ies)\b|"
               r"\bhad (he |she |they )?(pitted|stopped|boxed)\b|\bhave (done|gone|finished) better\b|"
               r"\bhave (gained|been (better|faster|quicker))\b|\bif (he|she|they) had\b|\bwhatif\b|"
               # "should leclerc have pitted", "if norris had boxed", "if he'd": the name stays free.
               r"\bshould(nt| not)?( ve| have| of)\b(?=( \w+){0,2} (pitted|pit|stopped|boxed|box|come in|gone|two|one|three|done)\b)|"
               r"\bshould(nt| not)?\b(?=( \w+){0,2} (have|of|ve) (pitted|pit|stopped|boxed|box|come in|gone|two|one|three|done))|"
               r"\bif\b(?=( \w+){1,2} (had|d|hadnt|pitted|boxed|stopped)\b)|\bhave (helped|paid off)\b|"
               r"\b(an )?(extra|additional|another) (pit ?)?stop\b|\bone (stop )?(fewer|less) stop\b|\bhave finished (higher|better|further up|ahead|on the podium)\b|"
               # "5 laps earlier", "a lap later", "stayed out longer", "pitted sooner" (not "who pitted earlier than").
               r"\b(\w+ )?(\w+ )?laps? (earlier|sooner|later|longer)\b|(?<!who )\b(pitted|pit|pitting|boxed|box|boxing|stopped|stopping|come in|came in|"
               r"stayed out|stay out|stop) (earlier|sooner|later|longer)\b(?! than)|\b(\w+ )?(more|extra) laps\b|"
               r"\b(what|how) about (a|an) (one|two|three|1|2|3) ?stop(per|pers|s)?\b|"
               r"\b(would|could)( have| ve| of)? been (better|faster|quicker)\b|\b(the )?(undercut|overcut)s?\b|"
               r"\b(have|ve|of) (gone|tried) (for|with)\b"),
    # "was pitting on lap 20 a mistake", "box lap 30 for hards, what happens": a what-if when
    # the question is about a stop (`_intent`); the words alone are not.
    ("pit_judge", r"\b(a|the) (mistake|wrong call|right call|bad call|good call|right choice|wrong choice|blunder|"
                  r"right decision|wrong decision|good idea|bad idea)\b|\btoo (early|late|soon)\b|\bwhat (happens|would happen|will happen)\b"),
    ("battle", r"\bbattle forecast\b|\b((gonna|going to) )?(catch|catches|catching|pass|passes|passing|overtake|overtakes|overtaking|reel in|get past|"
               r"close the gap)\b(?! (stats?|counts?|made))|\bhow (long|many laps) (until|till|til|before|to)\b"),
    # "could alonso have caught hamilton": a chance asked for (the forecast), not what happened.
    ("battle_could", r"\b(have|ve|of) (caught|passed|overtaken|got past|gotten past|reeled in)\b"),
    # Only the second word: "title" / "championship" stay clues for the standings rules.
    ("title_fight", r"(?<=\btitle )(fight|battle|chase)\b|(?<=\bchampionship )(fight|battle|chase)\b"),
    ("distribution", r"\bdistributions?\b|\bbox(?= ?plots?\b)|\bviolins?\b"),
    ("position_changes", r"\bposition(s| changes?)\b|\bplaces? (over|through|during|by lap)\b|\brunning order\b|"
                         r"\blap by lap positions?\b|\bpositions? chart\b"),
    ("predict", lx.PREDICTION.pattern),
    ("future", r"\bnext week\b|\btomorrow\b|\bthis weekend\b|\bnext weekend\b|\bnext month\b"),
    ("most", r"\b(the )?most\b|\brecord( holder)?s?\b|\bleaders? board\b|\bleaderboard\b|"
             r"\btop (\d+ )?(winners|drivers|teams)\b"),
    ("one_season", r"\b(single|one|a|in a|in one) season\b|\bsingle year\b|\bin a year\b|\bone year\b"),
    ("least", r"\b(least|fewest|slowest|worst|lowest|minimum)\b"),
    ("first_of", r"\bfirst ever (wins?|victor(y|ies)|poles?|podiums?)\b|\bwin (his|her|their|a|the|its) first (race|gp|grand prix)\b|\bfirst (gp|grand prix|race) (win|victory)\b|"
                 r"\bfirst (ever )?(won|victory)\b|\b(first|maiden|debut) (career )?(f1 )?(race )?(wins?|victor(y|ies)|poles?|podiums?)\b"),
    ("last_of", r"\b(last|latest|most recent|final) (career )?(wins?|victor(y|ies)|poles?|podiums?)\b|"
                r"\blast (time|won)\b"),
    ("can_win", r"\b(still|mathematically) (win|take|clinch|be)\b|\bstill in (the )?(title|championship) (fight|race|contention|hunt)\b|"
                r"\bin contention\b|\bmathematically\b|\bstill possible\b|\bstill alive\b"),
    ("champion", r"\bchampions?\b|\bchampionships?\b|\btitles?\b|\bwdc\b|\bwcc\b|\bcrown(ed)?\b"),
    ("standings", r"\bstandings?\b|\bpoints table\b|\btable\b|\bleads? the (championship|standings|title)\b|"
                  r"\bleader\b|\bleading\b|\bclassement\b"),
    ("points", r"\bpoints?\b|\bpts\b"),
    ("after", r"\bafter\b|\bfollowing\b|\bas of\b|\bgoing into\b|\bbefore\b|\bheading into\b|\bup to\b"),
    ("team_of", r"\b(which|what|who) (team|constructor|car)s?\b|\bdr(o|i)ve for\b|\bdriving for\b|\braced for\b|"
                r"\bdriven for\b|\bdrive for\b|\bhis team\b|\bteam was\b|\bteam is\b"),
    ("team_word", r"\bteams?\b(?! ?mates?)|\bconstructors?\b|\boutfit\b"),
    ("teammate", r"\bteammates?\b|\bpartners?\b|\bpartnered\b"),
    ("lineup", r"\bline ?ups?\b|\bwho drove for\b|\bdrivers? (of|for|at)\b|\bwho races? for\b|\bwho drives for\b"),
    ("schedule_next", r"\bnext (race|session|gp|grand prix|round|weekend)\b|\bupcoming\b|\bwhen is the next\b"),
    ("calendar", r"\bcalendar\b|\bschedule\b|\bfixtures\b"),
    ("when", r"\bwhen\b|\bwhat (date|day|time)\b|\bwhich (date|day)\b|\bdate\b|\bwhat time\b|\bstart time\b|\bkick off\b"),
    ("round_of", r"\bround what\b|\bwhich round\b|\bwhat round\b|\bround number\b|\bround was\b|\bround is\b"),
    ("sessions", r"\bsessions?\b|\bfp1\b(?= .*fp2)|\btimetable\b|\bweekend (schedule|timetable|format)\b"),
    ("sprint_weekends", r"\bsprint (weekends?|races|events|rounds)\b|\bwhich (races|weekends|rounds|events) (have|had|has) (a )?sprints?\b"),
    ("weather", r"\bweather\b|\brain(s|ing|ed|fall|y)?\b|\bwet\b(?! (tyres?|tires?))|\bdry\b(?! (tyres?|tires?))|"
                r"\btemperatures?\b|\btemps?\b|\bhumid(ity)?\b|\bwind(y)?\b|\bsunny\b|\bconditions\b|\bhot\b|\bcold\b"),
    ("flags", r"\bsafety cars?\b|\bsc\b|\bvsc\b|\bvirtual safety( car)?\b|\byellows?( flags?)?\b|\bred flag(ged|s)?\b|"
              r"\bflags?\b|\btrack status\b|\bneutrali[sz]|\bcautions?\b"),
    ("penalties", r"\bpenalt(y|ies)\b|\bpenali[sz]ed\b|\bstewards?\b|\binvestigat\w*|\btrack limits\b|\breprimands?\b|"
                  r"\bincidents?\b|\bcollisions?\b|\bwarnings?\b|\bgrid drops?\b|\btime penalt\w*"),
    ("dsq", r"\bdisqualif\w*|\bdsq\b|\bexcluded\b|\bdq\b"),
    ("dns", r"\bdns\b|\bnon start\w*|\bwithdr[ae]w\w*|\bwithdrawn\b"),
    ("retired", r"\bdnfs?\b|\bretire(d|ment|ments|s)?\b|\bcrash(ed|es)?\b|\bout of the race\b|\bgot out\b|"
                r"\bdrop(ped|s)? out\b|\bpull(ed|s)? out\b|\bbroke down\b|\bbreak down\b|\bgive up\b|\bgave up\b|\bspun out\b|\bspin out\b|\bengine (failure|blew)\b|\bnot finish\w*|\bnon finish\w*|"
                r"\bfailed to finish\b|\bdidnt finish\b"),
    ("lead_changes", r"\blead changes?\b|\bchanges? (of|in) (the )?lead\b|\blead swap\w*|\bswapped the lead\b"),
    ("laps_led", r"\bspent (the )?(longest|most (time|laps)) (in the lead|leading|in front|at the front)\b|"
                 r"\blongest (time )?(in the lead|leading|in front)\b|\blaps led\b|\bled (the )?(most )?laps\b|\blaps (in|at) the (lead|front)\b|\bled for\b|"
                 r"\blaps? leading\b|\blaps? in front\b"),
    ("how_many", r"\bhow long\b|\bhow often\b|\bhow many times\b|(?<!by )\bhow (many|much)\b|\btally\b|\bcount\b|\btotal\b|"
                 r"\bnumber of\b|\bamount of\b"),
    ("leader_lap", r"\bwho (was )?(led|leading|in the lead|in front)\b|\bleader (on|of|after|at)\b|\bwho led\b|"
                   r"\bin the lead\b"),
    ("lead_verb", r"\blead\b|\bled\b|\bleading\b"),
    ("fastest_pit", r"\b(fastest|quickest|best|slowest|shortest|longest) (pit ?)?stops?\b|\bfastest pit\b"),
    ("stops_count", r"\b(one|two|three|1|2|3|four) ?stop(per|s|ped)?\b|\bnumber of stops\b|\bhow many (pit )?stops\b"),
    ("pitstops", r"\bpit ?stops?\b|\bpitted\b|\bpits?\b|\bstops?\b|\bbox(ed)?\b|\bpitting\b|\bboxing\b"),
    ("stints", r"\bstints?\b|\btyres?\b|\bcompounds?\b|\brubber\b|\bstrateg(y|ies)\b|\bstrats?\b"),
    ("best_lap", r"\b(best|fastest|quickest|personal best|pb) laps?( times?)?\b|\bbest time\b"),
    ("fastest_lap", r"\bfastest laps?\b|\bfl\b|\bpurple\b"),
    ("lap_time", r"\blap ?times?\b|\blaptimes?\b|\btime on\b|\bhow fast\b|\btimes\b|\btime\b"),
    ("compare", r"\bcompare\b|\bcomparison\b|\bvs\.?\b|\bversus\b|\bhead to head\b|\bh2h\b|\bfaster than\b|"
                r"\bquicker than\b|\bslower than\b|\bpace\b|\bagainst\b|\bbeat\b|\bbetter\b|\bmore\b|\boutqualif\w*|\bout qualif\w*|\bbeaten\b"),
    ("gap", r"\bat the (flag|line|finish|chequered flag|checkered flag)\b|\bdifference\b|\bdiff\b|\bapart\b|\bgaps?\b|\bmargin\b|\bbehind\b|\bahead\b|\bby how much\b|\bhow far\b|\bdelta\b|\binterval\b|\boff\b"),
    ("grid_change", r"\bmak(e|es|ing) up\b|\b(spots?|places?|positions?) (gained|lost|made|dropped)\b|\bspots?\b|\blos(e|es|ing)\b|"
                    r"\bplaces? (gained|lost|made)\b|\bpositions? (gained|lost|made)\b|\bgained\b|\blost\b|"
                    r"\bmade up\b|\bclimb(ed)?\b|\bfrom the (back|grid)\b|\bmovers?\b|\bcharge\b|\bgain(ed|s)?\b"),
    ("grid", r"\bgrid\b|\bstart(ed|ing)? (from|position|pos|on)\b|\bstarting\b|\blined up\b"),
    ("laps_completed", r"\blaps (completed|done|covered|did)\b|\bcomplete(d)?\b|\bcovered\b|\bdistance\b|"
                       r"\bhow many laps\b|\bnumber of laps\b|\blaps long\b"),
    ("podium", r"\brostrum\b|\bpodiums?\b|\btop (3|three)\b|\bon the box\b|\bpodium finish\w*"),
    ("points_finish", r"\bin the points\b|\bscored points\b|\bpoints (finish\w*|scorers?|positions?)\b|\btop (10|ten)\b|"
                      r"\bscore points\b"),
    ("pole", r"\bpole\b|\bpoles\b|\bfront row\b|\bfront rows\b"),
    ("eliminated", r"\bknocked out\b|\beliminat\w*|\bknock ?outs?\b|\bdrop ?outs?\b|\bgot out\b|\bwent out\b|\bout in\b|\bdropped out in\b|"
                   r"\bdidnt make\b|\bfailed to make\b|\bmissed\b"),
    ("won", r"\b(took|take|takes|saw) the (chequered|checkered) flag\b|\b(chequered|checkered) flag\b|\bwho took\b|\bwon\b|\bwin(ner|ners|s|ning)?\b|\bvictor(y|ies|ious)?\b|\btriumph\w*|\btook the (win|chequered flag)\b|"
            r"\bfirst place\b|\bp1\b|\btook the flag\b"),
    ("start_word", r"\bstart\b(?! (of|from|on|in|position|pos|at))"),
    ("started", r"\bstart(s|ed)? in (his|her|their) career\b|\bstarts\b|\braces? (entered|started|contested)\b|\bentries\b|\bappearances\b|\braced\b|"
                r"\bcompeted\b|\bstarted\b"),
    ("finish", r"\bend(ed|s)? up\b|\bresults?\b|\bclassification\b|\bclassified\b|\bfinish(ed|ing|es)?\b|\bcame\b|\bended( up)?\b|"
               r"\bwhere did\b|\bhow did\b|\bplace[ds]?\b|\bpositions?\b|\bpos\b|\bwhere was\b|\bplaced\b"),
    ("story", r"\bwhat happened\b|\brecap\b|\bsummary\b|\bsummari[sz]e\b|\bstory\b|\breport\b|\bhighlights?\b|"
              r"\bhow did the race go\b|\brundown\b|\btell me about\b|\beverything\b|\ball about\b|\bbreak ?down\b"),
    ("laps", r"\blaps\b|\blap\b"),
    ("form", r"\bform\b|\bso far\b|\bdoing\b|\bstats?\b|\bstatistics\b|\bseason\b|\bcareer\b|\bever\b|"
             r"\ball time\b|\bin total\b|\boverall\b"),
    ("fastest", r"\bfastest\b|\bquickest\b|\btopped\b|\btop of\b|\bfirst in\b"),
]
_CLUE_RES = [(tag, re.compile(p)) for tag, p in _CLUES]
# Words the clues are made of ("start", "drivers", "difference"): never misspelt names.
_CLUE_WORDS = frozenset(re.findall(r"[a-z]{3,}", re.sub(r"\\[a-zA-Z]", " ", " ".join(p for _, p in _CLUES)))) \
    | frozenset(lx.TYPOS.values())
# Words a misspelt clue may be meant as (`respell`): the clue words and the longer fillers.
_SPELL_VOCAB = sorted(
    (_CLUE_WORDS - set(re.findall(r"[a-z]{3,}", re.sub(r"\\[a-zA-Z]", " ", lx.NOT_HELD.pattern + lx.PREDICTION.pattern))))
    | {w for w in lx.FILLER if len(w) >= 4} | set(lx.MONTHS) | set(lx.ORDINALS)
    # Forecasts are answered now: "predicition", "favorite", "odss" are meant as these.
    | {"prediction", "predict", "forecast", "favourite", "favorite", "probability", "chances", "odds"}
)  # never respelt into a refusal ("blanking" is not "braking")

# The words of a clue we keep for slots rather than consuming ("last lap": lap slot).
_SEASON_REL = re.compile(
    r"\b(this|current|the current|present) (year|season|campaign)\b|\bso far this (year|season)\b|"
    r"\blast (year|season)\b|\bprevious (year|season)\b|\bthe year before\b|\byear before\b|\bseason before\b|"
    r"\bthe season before\b|\bthe previous one\b|\bnext (year|season)\b|\bthe year after\b|\byear after\b|"
    r"\b(\d|two|three) (years|seasons) ago\b|\bthis year\b"
)


# --------------------------------------------------------------------------- the parser


async def parse_question(store: Store, text: str, *, now: dt.datetime,
                         prior: QueryPlan | None = None, forecast: bool = False) -> QueryPlan:
    """Read a question into a plan. Raises `UserError` only for what cannot be a plan at all
    (no data in the store); names not found end up in `plan.unknown` / `plan.notes`."""
    words, caps = normalise(text)
    tx = _Text(words, caps)
    plan = QueryPlan(text=text)
    seasons = await store.seasons()
    if not seasons:
        raise UserError(m.NO_DATA)
    current = await _current_season(store, seasons)
    tags: set[str] = {"predict"} if forecast else set()  # `/f1 predict <race>`: about what is to come

    _last_race(tx, plan)
    _season_words(tx, plan, current, prior)
    _clue_pass(tx, tags, names_first=True)
    _years(tx, plan)
    _numbers(tx, plan)
    _two_digit_years(tx, plan, seasons)
    _session(tx, plan)
    _compound_and_month(tx, plan)
    # Names: the race (with the season if named), then drivers and teams of that season.
    # A question about what is to come names the next running of a race ("predict monza").
    await _names(store, tx, plan, now, current, future=bool({"predict", "future"} & tags))
    _clue_pass(tx, tags, names_first=False)
    plan.unknown = [tx.words[i] for i in tx.free() if not _is_filler(tx.words[i])]
    _intent(plan, tags, tx)
    # Which championship: the constructors' when teams are what is asked about.
    if plan.focus in ("standings", "champion", "points_gap", "can_win") and not plan.drivers and (
        plan.teams or {"team_word", "team_of"} & tags
        or set(fold(plan.text).split()) & {"wcc", "constructors", "constructor", "teams"}
    ):
        plan.standings_kind = "constructors"
    plan.notes.extend(sorted(f"tag:{t}" for t in tags))
    return plan


async def _current_season(store: Store, seasons: list[int]) -> int:
    """The season "this season" means: the latest with results (the store's present)."""
    latest = await store.last_event_with_results()
    return latest.year if latest else max(seasons)


_LAST_RACE = re.compile(
    r"\b(most )?recently\b|\blast time out\b|\blast weekend\b|"
    r"\b(the )?(last|latest|previous|most recent|recent|final|past|yesterday|sunday|todays|today) "
    r"(race|gp|grand prix|round|weekend|event|one|sprint|quali|qualifying)\b|\blast time out\b|"
    r"\b(the )?(season (opener|finale)|opening race|first (race|gp|grand prix|round)|last race|final race|"
    r"finale|opener)\b|\bthe last( one)?$"
)


def _last_race(tx: _Text, plan: QueryPlan) -> None:
    """"the last race", "the season opener", "the finale": a race named by its place in time."""
    for a, n, mt in tx.find(_LAST_RACE):
        s = mt.group(0)
        if a > 0 and tx.words[a - 1] in ("his", "her", "their", "its", "career"):
            continue  # "win his first race", "his last race": the driver's, not the calendar's
        tail = s.split()[-1]
        if tail in ("sprint", "quali", "qualifying"):
            plan.session_type = "S" if tail == "sprint" else "Q"
            s_take = n
        else:
            s_take = n
        if re.search(r"opener|opening|first", s):
            plan.round = 1
            plan.notes.append("first_race")
        elif re.search(r"finale|final race|last race", s) and "of" in tx.words[a + n : a + n + 1]:
            plan.notes.append("season_finale")
        else:
            plan.notes.append("last_race")
        tx.take(a, s_take)
        plan.mapped(s, "race", "latest" if "last_race" in plan.notes else s)


def _season_words(tx: _Text, plan: QueryPlan, current: int, prior: QueryPlan | None) -> None:
    for a, n, mt in tx.find(_SEASON_REL):
        s = mt.group(0)
        base = (prior.year if prior is not None and prior.year else current)
        relative = prior is not None and prior.year and re.search(r"previous|before|after|next", s)
        if relative and s.startswith(("next", "the year after", "year after")):
            y = base + 1
            plan.notes.append("year_after")
        elif relative and ("previous" in s or "before" in s):
            y = base - 1
            plan.notes.append("year_before")
        elif "before" in s or "previous one" in s:
            y = base - 1
            plan.notes.append("year_before")
        elif "after" in s:
            y = base + 1
            plan.notes.append("year_after")
        elif s.startswith(("last", "previous")):
            y = current - 1
        elif s.startswith("next"):
            y = current + 1
        elif "ago" in s:
            k = {"two": 2, "three": 3}.get(s.split()[0]) or int(s.split()[0])
            y = current - k
        else:
            y = current
        tx.take(a, n)
        plan.years.append(y)
        plan.mapped(s, "season", y)


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")  # any season asked; the store says which it holds
_YEAR_RANGE = re.compile(r"\b(?:between |from )?(19[5-9]\d|20[0-4]\d) (?:to|and|until|till|through|thru) "
                         r"(19[5-9]\d|20[0-4]\d|\d\d)\b")


def _years(tx: _Text, plan: QueryPlan) -> None:
    for a, n, mt in tx.find(_YEAR_RANGE):
        y1 = int(mt.group(1))
        y2 = int(mt.group(2)) if len(mt.group(2)) == 4 else int(_century(int(mt.group(2))))
        if y2 < y1 or y2 - y1 > 80:
            continue
        tx.take(a, n)
        plan.years.extend(range(y1, y2 + 1))
        plan.mapped(mt.group(0), "seasons", f"{y1}-{y2}")
        plan.scope = "season"
    for a, n, mt in tx.find(_YEAR):
        tx.take(a, n)
        y = int(mt.group(1))
        if y not in plan.years:
            plan.years.append(y)
        plan.mapped(mt.group(0), "season", y)
    if plan.years:
        plan.year = plan.years[0]


_ROUND = re.compile(r"\b(?:round|r) ?(\d{1,2})\b")
_LAP_RANGE = re.compile(r"\blaps? (\d{1,3}) ?(?:-|to|and|through|thru) ?(?:lap )?(\d{1,3})\b")
_LAP_FROM = re.compile(r"\b(after|from|since) lap (\d{1,3})\b")
_LAP_UNTIL = re.compile(r"\b(before|until|up to|till) lap (\d{1,3})\b")
_FIRST_LAPS = re.compile(r"\b(first|opening) (\d{1,3}) laps\b")
_LAST_LAPS = re.compile(r"\b(last|final|closing) (\d{1,3}) laps\b")
_ONE_LAP = re.compile(r"\b(?:lap|l) ?(\d{1,3})\b|\b(\d{1,3})(?:st|nd|rd|th) lap\b|\blap (?:number|no) (\d{1,3})\b")
_LAST_LAP = re.compile(r"\b(the )?(last|final) lap\b")
_OPENING_LAP = re.compile(r"\b(the )?(first|opening) lap\b|\blap one\b|\bstart of the race\b")
_PART = re.compile(r"\b(q[123])\b")
_POS_P = re.compile(r"\bp(\d{1,2})\b")
_POS_WORD = re.compile(
    r"\b(finish(ed|ing)?|came|come|was|were|in|placed|ended( up)?|who|classified|position|pos|got|took|"
    r"driver|the|and|place|for)? ?(" + "|".join(lx.ORDINALS) + r")( place| position| placed)?\b"
)
_LAST_POS = re.compile(r"\b(finished|came|was|were|who|classified|ended( up)?|in) (dead )?last\b|\blast place\b|"
                       r"\bdead last\b|\blast classified\b|\bbottom\b")


def _numbers(tx: _Text, plan: QueryPlan) -> None:
    """Rounds, laps, qualifying parts, positions (word and P-number)."""
    after = bool(tx.find(re.compile(r"\b(after|following|as of|going into|before|up to)\b ?(round|r) ?\d")))
    for a, n, mt in tx.find(_ROUND):
        tx.take(a, n)
        plan.round = int(mt.group(1))
        plan.mapped(mt.group(0), "round", plan.round)
        if after:
            plan.notes.append("after_round")
    for pat, kind in ((_LAP_RANGE, "range"), (_LAP_FROM, "from"), (_LAP_UNTIL, "until"),
                      (_FIRST_LAPS, "first"), (_LAST_LAPS, "last_n"), (_LAST_LAP, "last_lap"),
                      (_OPENING_LAP, "opening"), (_ONE_LAP, "one")):
        for a, n, mt in tx.find(pat):
            if plan.lap_range is not None or "last_lap" in plan.notes:
                break
            g = mt.groups()
            if kind == "range":
                x, y = int(g[0]), int(g[1])
                plan.lap_range = (min(x, y), max(x, y))
            elif kind == "from":
                plan.lap_range = (int(g[1]) + (0 if g[0] == "from" else 1), None)
                if g[0] == "after":
                    plan.notes.append(f"after_lap:{g[1]}")  # "where was X after lap 1": that lap's end
            elif kind == "until":
                plan.lap_range = (None, int(g[1]) - (1 if g[0] == "before" else 0))
            elif kind == "first":
                plan.lap_range = (1, int(g[1]))
            elif kind == "last_n":
                plan.notes.append(f"last_laps:{g[1]}")
            elif kind == "last_lap":
                plan.notes.append("last_lap")
            elif kind == "opening":
                plan.lap_range = (1, 1)
            else:
                k = int(next(x for x in g if x))
                plan.lap_range = (k, k)
            tx.take(a, n)
            plan.mapped(mt.group(0), "laps", plan.lap_range or kind)
    for a, n, mt in tx.find(_PART):
        tx.take(a, n)
        plan.part = mt.group(1).upper()
        plan.mapped(mt.group(0), "part", plan.part)
        if plan.session_type == "R":
            plan.session_type = "Q"
    for a, n, mt in tx.find(_LAST_POS):
        tx.take(a, n)
        plan.position = -1
        plan.mapped(mt.group(0), "position", "last")
    for a, n, mt in tx.find(_POS_P):
        k = int(mt.group(1))
        if a > 0 and tx.words[a - 1] in ("started", "starting", "start", "from", "grid", "qualified", "lined"):
            tx.take(a, n)  # "started p18": the grid slot, not the place asked about
            plan.mapped(mt.group(0), "grid", k)
            continue
        if 1 <= k <= 30:
            tx.take(a, n)
            plan.position = k
            plan.mapped(mt.group(0), "position", k)
    for a, n, mt in tx.find(_POS_WORD):
        word = mt.group(4)
        nxt = tx.words[a + n] if a + n < len(tx.words) else ""
        # "first win", "second race", "third season", "first lap": not a finishing place.
        if nxt in ("win", "wins", "pole", "poles", "podium", "podiums", "race", "races", "lap", "laps", "season",
                   "title", "time", "round", "stint", "stop", "half", "corner", "turn", "sector", "year",
                   "championship", "gp", "grand", "victory", "career", "start", "row", "practice", "session",
                   "place", "sprint"):
            if not (nxt == "place"):
                continue
        if word == "first" and plan.position is not None:
            continue
        plan.position = lx.ORDINALS[word]
        # Take only the ordinal (and "place"): the verb is a clue for the intent.
        idx = a + n - 1 if not mt.group(5) else a + n - 2
        tx.take(idx, 1 if not mt.group(5) else 2)
        plan.mapped(word, "position", plan.position)
        break


_NOT_YEAR_BEFORE = {"top", "last", "first", "p", "number", "car", "lap", "laps", "round", "position", "pos",
                    "over", "under", "than", "from", "to", "within", "about",
                    "only", "just", "had", "has", "got", "with", "scored", "by", "in the", "no", "all"}
_NOT_YEAR_AFTER = {"laps", "lap", "points", "pts", "races", "race", "wins", "places", "positions", "seconds", "secs",
                   "s", "sec", "stops", "poles", "podiums", "times", "drivers", "cars", "th", "st", "nd", "rd",
                   "years", "seasons", "minutes", "mins", "km", "kph", "mph", "percent"}


def _two_digit_years(tx: _Text, plan: QueryPlan, seasons: list[int]) -> None:
    """A bare two-digit number is a season when it reads like one ("monza 22", "spa in 21")."""
    if plan.years:
        return
    for i in tx.free():
        w = tx.words[i]
        if not re.fullmatch(r"\d\d", w):
            continue
        prev = tx.words[i - 1] if i > 0 else ""
        nxt = tx.words[i + 1] if i + 1 < len(tx.words) else ""
        y = int(_century(int(w)))
        of_season = prev == "of"
        # "the bahrain gp 22 lap 27", "imola in 21 lap 36": a season, then the lap.
        after_race = prev in ("gp", "prix", "race", "in") and (nxt != "lap" or (
            i + 2 < len(tx.words) and tx.words[i + 2].isdigit()))
        if (prev in _NOT_YEAR_BEFORE and not of_season) or (nxt in _NOT_YEAR_AFTER and not after_race) \
                or y not in seasons:
            continue
        tx.take(i)
        plan.years.append(y)
        plan.year = y
        plan.mapped(w, "season", y)
        plan.notes.append("two_digit_year")
        return


_MAIN_RACE = re.compile(r"\brace(?= (winner|win|won|result|results|podium))|\b(the )?(main|feature|actual|real|sunday) (race|gp|grand prix|event)\b|"
                        r"\bthe (gp|grand prix|race) itself\b|\bin the race\b|\bthe race\b(?= ?$)")


_QUALIFIED = re.compile(r"\b(qualified|qualify|qualifies|quali|qualifying)\b")


def _session(tx: _Text, plan: QueryPlan) -> None:
    for a, n, mt in tx.find(_QUALIFIED):
        tx.take(a, n)
        plan.session_type = "Q" if plan.session_type in ("R", "Q") else plan.session_type
        plan.mapped(mt.group(0), "session", "Q")
    for a, n, mt in tx.find(_MAIN_RACE):
        tx.take(a, n)
        plan.session_type = "R"
        plan.mapped(mt.group(0), "session", "R")
    for a, n, mt in tx.find(_SESSION_RE):
        code = _SESSION_CODES[mt.group(0)]
        tx.take(a, n)
        if plan.session_type == "R" or code == "SQ":
            plan.session_type = code
        plan.mapped(mt.group(0), "session", code)


# One alternation per slot, longest phrases first (compiled once: every question reads them).
_SESSION_CODES = {p: c for p, c in SESSION_WORDS.items() if p not in ("race", "gp", "grand prix", "pole")}
_SESSION_RE = re.compile(r"\b(" + "|".join(sorted(_SESSION_CODES, key=len, reverse=True)) + r")\b")
_COMPOUND_RE = re.compile(r"\b(" + "|".join(sorted(lx.COMPOUNDS, key=len, reverse=True)) + r")\b")
_MONTH_RE = re.compile(
    r"\b(" + "|".join(sorted((k for k in lx.MONTHS if len(k) > 3), key=len, reverse=True)) + r")\b"
    r"|\b(?:in|during|of) (" + "|".join(k for k in lx.MONTHS if len(k) <= 3) + r")\b"
    r"|\b(" + "|".join(k for k in lx.MONTHS if len(k) <= 3) + r")(?= (?:races?|gps?|grands?|rounds?)\b)"
)


def _compound_and_month(tx: _Text, plan: QueryPlan) -> None:
    for a, n, mt in tx.find(_COMPOUND_RE):
        phrase = mt.group(0)
        # "hard" / "soft" as compounds only near tyre words or "on (the) X".
        before = " ".join(tx.words[max(0, a - 2) : a])
        after = " ".join(tx.words[a + n : a + n + 1])
        if phrase in ("hard", "soft", "medium", "inter") and not (
            re.search(r"\b(on|the|a|using|with)\b", before) or after in ("tyre", "tyres", "compound", "tires")
        ):
            continue
        tx.take(a, n)
        if after in ("tyre", "tyres", "compound", "tires"):
            tx.take(a + n, 1)
        plan.compound = lx.COMPOUNDS[phrase]
        plan.mapped(phrase, "compound", plan.compound)
    # Short or ambiguous month words ("may", "mar") only after "in" / "during" / "of".
    for a, n, mt in tx.find(_MONTH_RE):
        name = mt.group(1) or mt.group(2) or mt.group(3)
        tx.take(a + n - 1, 1)
        plan.month = lx.MONTHS[name]
        plan.mapped(name, "month", plan.month)


def _clue_pass(tx: _Text, tags: set[str], *, names_first: bool) -> None:
    """Take clue phrases. First pass: multi-word clues only (so names don't eat them:
    "red flag", "safety car"); second pass: the rest, on the words names left."""
    for tag, pat in _CLUE_RES:
        for a, n, _mt in tx.find(pat):
            if names_first and n < 2 and tag not in ("not_held", "predict"):
                continue
            tags.add(tag)
            tx.take(a, n)


def _is_filler(w: str) -> bool:
    return w in lx.FILLER or len(w) <= 1


# --------------------------------------------------------------------------- names


async def _names(store: Store, tx: _Text, plan: QueryPlan, now: dt.datetime, current: int, *,
                 future: bool = False) -> None:
    """Races, drivers and teams among the free words.

    Full driver names first ("jack brabham" is the driver, not the team), then teams
    ("red bull" before the Red Bull Ring's "bull"), then single driver names ("carlos"
    before the "Carlos Pace" circuit), then races; words still unknown and close to one
    name only ("verstapen", "maclaren") are read as that name."""
    year = plan.year
    where: dict[int, int] = {}  # driver id -> first word index, to keep the text's order
    await _drivers(store, tx, plan, year, sizes=(4, 3, 2), where=where)  # "pedro de la rosa"
    tkeys = await team_keys(store, year or current, current)
    _teams(tx, plan, tkeys)
    index, _cands = await event_index(store, year, today=None if year else now.date())
    # "predict monza": the coming Italian GP first; a race already run only when none is to come.
    first = await upcoming_event_index(store, now.date()) if future and year is None else index
    _event_phrases(tx, plan, first, sizes=(3, 2))  # "albert park" before the first name "albert"
    await _drivers(store, tx, plan, year, sizes=(1,), where=where)
    if plan.event is None:
        _event_phrases(tx, plan, first, sizes=(3, 2, 1))
    if plan.event is None and first is not index:
        _event_phrases(tx, plan, index, sizes=(3, 2, 1))
    await _fuzzy(store, tx, plan, year, index, tkeys, where)
    plan.drivers.sort(key=lambda d: where.get(d.id, 99))
    if plan.event is None and ({"last_race", "season_finale"} & set(plan.notes)):
        ev = await store.last_event_with_results(year=year, session_type=plan.session_type)
        plan.event = ev or await store.last_event_with_results(year=year)
    if plan.event is None and plan.round is not None and "after_round" not in plan.notes:
        y = year or current
        ev = await store.event_by_round(y, plan.round)
        if ev is not None:
            plan.event = ev


def _event_phrases(tx: _Text, plan: QueryPlan, index: EventIndex, *, sizes: tuple[int, ...]) -> None:
    """The best race named by up to three consecutive free words (place aliases applied)."""
    best: tuple[float, int, int, list[tuple[float, EventInfo]]] | None = None
    free = set(tx.free())
    words = tx.words
    for n in sizes:
        for i in range(len(words) - n + 1):
            if not all(k in free for k in range(i, i + n)):
                continue
            phrase = " ".join(words[i : i + n])
            if n == 1 and (_is_filler(phrase) or len(phrase) < 3 or phrase in _NOT_NAMES_LOWER
                           or phrase.isdigit()):
                continue
            if all(_is_filler(w) for w in phrase.split()):
                continue
            if n > 1 and (_is_filler(words[i]) or _is_filler(words[i + n - 1])):
                continue  # "of villeneuve" is the one word "villeneuve" (a driver may claim it first)
            key = lx.PLACE_ALIASES.get(phrase, phrase)
            if not key:
                continue
            found = index.match(key)
            if not found:
                continue
            score = found[0][0]
            if score >= 0.85 and (best is None or score > best[0] or (score == best[0] and n > best[2])):
                best = (score, i, n, found)
    if best is None:
        return
    score, i, n, found = best
    tx.take(i, n)
    top = [e for s, e in found if s == score]
    plan.event = top[0]
    # Two races of one season at one place (2020 Austria/Styria, Bahrain/Sakhir, Silverstone):
    # ask which — unless the race's own name was given ("bahrain gp", "70th anniversary").
    named_gp = any(w in ("gp", "grand", "prix") for w in words[i : i + n + 1])
    close = [e for s, e in found if s >= 0.85] if not named_gp else top
    same_year = [e for e in close if e.year == top[0].year]
    if len(same_year) > 1 and plan.year is not None:
        plan.events = sorted(same_year, key=lambda e: e.round)
    plan.mapped(" ".join(words[i : i + n]), "race", plan.event.name)


async def _drivers(store: Store, tx: _Text, plan: QueryPlan, year: int | None, *,
                   sizes: tuple[int, ...], where: dict[int, int]) -> None:
    """Drivers named by phrases of `sizes` words: the season's drivers first, then anyone
    (the handler says when a named driver did not race then)."""
    dindex = await driver_index(store, year)
    everyone = await driver_index(store, None) if year else dindex
    words = tx.words
    i = 0
    while i < len(words):
        if tx.taken[i]:
            i += 1
            continue
        hit: DriverInfo | None = None
        step = 1
        for n in sizes:
            if i + n > len(words) or any(tx.taken[k] for k in range(i, i + n)):
                continue
            phrase = " ".join(words[i : i + n])
            if n == 1 and ((phrase in _NOT_NAMES_LOWER and phrase not in tx.caps) or _is_filler(phrase)):
                continue
            hit = dindex.names.get(phrase) or (
                everyone.names.get(phrase) if n >= 2 or len(phrase) >= 4 or phrase in NICKNAMES else None)
            if hit is None and n == 2:
                hit = _first_and_start(dindex, everyone, words[i], words[i + 1])
            if hit is not None:
                step = n
                break
        if hit is None and 1 in sizes:
            w = words[i]
            code_ok = w in tx.caps or (w in _LOWER_CODES_OK)
            if len(w) == 3 and code_ok and (w in dindex.codes or w in tx.caps and w in everyone.codes):
                hit = dindex.codes.get(w) or everyone.codes[w]  # "ALO" in 2000: named, not in that race
            elif w.isdigit() and i > 0 and words[i - 1] == "number":
                found = await store.find_drivers(w, year=year)
                hit = found[0] if found else None
                if hit is not None:
                    tx.take(i - 1)
        if hit is not None:
            _add_driver(tx, plan, hit, i, step, where)
            i += step
            continue
        i += 1


def _first_and_start(dindex: Any, everyone: Any, first: str, start: str) -> DriverInfo | None:
    """"michael schu", "nico r": a first name and the start of one surname that goes with it."""
    if start in lx.FILLER or start.isdigit():
        return None
    for index in (dindex, everyone):
        hits = [d for d in index.firsts.get(first, []) if d.last_name and fold(d.last_name).startswith(start)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None  # two of them: not clear enough
    return None


def _add_driver(tx: _Text, plan: QueryPlan, hit: DriverInfo, i: int, step: int, where: dict[int, int]) -> None:
    tx.take(i, step)
    if hit not in plan.drivers:
        plan.drivers.append(hit)
        where.setdefault(hit.id, i)
    plan.mapped(" ".join(tx.words[i : i + step]), "driver", hit.code or hit.name)


async def _fuzzy(store: Store, tx: _Text, plan: QueryPlan, year: int | None, index: EventIndex,
                 tkeys: dict[str, tuple[str, str]], where: dict[int, int]) -> None:
    """Misspelt names ("verstapen", "maclaren", "monzza") read as the one name they are
    clearly close to; anything less clear stays unknown (the reply offers the choices)."""
    free = [i for i in tx.free() if len(tx.words[i]) >= 5 and not _is_filler(tx.words[i])
            and not tx.words[i].isdigit() and tx.words[i] not in _NOT_NAMES_LOWER
            and tx.words[i] not in _CLUE_WORDS]
    if not free:
        return
    dindex = await driver_index(store, year)
    everyone = await driver_index(store, None)
    team_names = {k: v for k, v in tkeys.items() if len(k) >= 4}
    event_keys = index.keys()
    every_index, _ = await event_index(store, None)
    for i in free:
        w = tx.words[i]
        if names_a_place(every_index, w):
            continue  # a real place, not held that season ("australia 2020"): not a typo
        found = await asyncio.to_thread(_closest, w, dindex.names, everyone.names, team_names, event_keys,
                                        year is not None)
        if found is None:
            continue
        kind, key = found
        if kind == "driver":
            d = dindex.names.get(key) or everyone.names[key]
            _add_driver(tx, plan, d, i, 1, where)
            plan.notes.append(f"corrected:{w}->{d.name}")
        elif kind == "team":
            team = team_names[key]
            tx.take(i)
            if team not in plan.teams:
                plan.teams.append(team)
            plan.mapped(w, "team", team[1])
            plan.notes.append(f"corrected:{w}->{team[1]}")
        elif plan.event is None:
            hits = index.match(key)
            if hits:
                tx.take(i)
                plan.event = hits[0][1]
                plan.mapped(w, "race", plan.event.name)
                plan.notes.append(f"corrected:{w}->{plan.event.name}")


def names_a_place(index: EventIndex, word: str) -> bool:
    """Does the word name a race of some season (by itself or through a place nickname)?"""
    hit = index.match(lx.PLACE_ALIASES.get(word, word))
    return bool(hit) and hit[0][0] >= 0.85


def _closest(word: str, season: dict[str, DriverInfo], everyone: dict[str, DriverInfo],
             teams: dict[str, tuple[str, str]], events: list[str], year_named: bool) -> tuple[str, str] | None:
    """("driver" | "team" | "race", key) for the single clearly-closest name, else None.
    With a season named, drivers of other seasons count for a little less."""
    cands: list[tuple[float, str, str, object]] = []
    for kind, keys, ident, handicap in (
        ("driver", season, lambda k: season[k].id, 0.0),
        ("driver", everyone, lambda k: everyone[k].id, 0.06 if year_named else 0.0),
        ("team", teams, lambda k: teams[k][0], 0.0),
        # A team's name beats the same word in a circuit's name ("ferrari": Imola's Enzo e Dino Ferrari).
        ("race", {k: k for k in events if k not in teams}, lambda k: k, 0.0),
    ):
        for k in difflib.get_close_matches(word, [k for k in keys if " " not in k], n=3, cutoff=0.8):
            ratio = difflib.SequenceMatcher(None, word, k).ratio() - handicap
            cands.append((ratio, kind, k, (kind, ident(k))))
    if not cands:
        return None
    cands.sort(key=lambda c: -c[0])
    best = cands[0]
    need = 0.84 if len(word) >= 7 else 0.82 if len(word) == 6 else 0.88
    if best[0] < need:
        return None
    rivals = [c for c in cands[1:] if c[3] != best[3] and c[0] >= best[0] - 0.04
              and not (c[1] == "driver" and best[1] == "driver" and c[2] == best[2])]
    return None if rivals else (best[1], best[2])


def _teams(tx: _Text, plan: QueryPlan, keys: dict[str, tuple[str, str]]) -> None:
    words = tx.words
    i = 0
    while i < len(words):
        done = False
        for n in (3, 2, 1):
            if i + n > len(words) or any(tx.taken[k] for k in range(i, i + n)):
                continue
            phrase = " ".join(words[i : i + n])
            if i + n < len(words) and words[i + n] in ("ring", "circuit", "track"):
                continue  # "red bull ring": the place, not the team
            if phrase in keys and not (n == 1 and _is_filler(phrase)):
                team = keys[phrase]
                if team not in plan.teams:
                    plan.teams.append(team)
                tx.take(i, n)
                plan.mapped(phrase, "team", team[1])
                i += n
                done = True
                break
        if not done:
            i += 1


# --------------------------------------------------------------------------- the intent


def _intent(plan: QueryPlan, tags: set[str], tx: _Text) -> None:  # noqa: C901 - one decision table
    """The intent from the clues and the filled slots (first rule that fits wins)."""
    has_d, has_t, has_e = bool(plan.drivers), bool(plan.teams), plan.event is not None
    subject = has_d or has_t
    lap = plan.lap_range is not None or "last_lap" in plan.notes
    metric = _metric(tags, plan)
    plan.metric = metric
    if plan.teams and not plan.drivers:
        plan.subject = "team"
    elif plan.drivers:
        plan.subject = "driver"

    def go(intent: str) -> None:
        plan.focus = intent

    words = _raw_words(plan)
    if ("team_word" in tags or words & {"wcc", "constructors", "constructor", "teams"}) and not has_d and (
        {"standings", "champion"} & tags
    ):
        plan.standings_kind = "constructors"

    if "not_held" in tags:
        return go("unsupported")
    if "chart" in tags:
        plan.chart = chart_kind(tags, words, plan)
        return go("chart")
    # Race Lab questions: the handler asks for whatever is missing (a driver, a second one).
    if "best_strategy" in tags and has_d:
        return go("best_strategy")
    if "whatif" in tags or ("pit_judge" in tags and "pitstops" in tags and has_d):
        return go("whatif")
    if "stops_count" in tags and has_d and words & {"could", "would", "should"} and words & {"have", "ve", "of"}:
        return go("whatif")  # "could leclerc have won with a two stop": not how many stops he made
    if "battle_could" in tags and len(plan.drivers) == 2:
        return go("battle")
    if "battle" in tags and len(plan.drivers) == 2 and "how_many" not in tags:
        future = bool(words & {"will", "gonna", "going", "can", "could", "until", "till"})
        if (words & {"did", "passed", "overtook"} or (words & {"when", "where"} and not future)) and "battle" not in words:
            # "did hamilton pass russell": what happened, not a forecast; said back, not guessed.
            plan.unknown.append("pass")
            return None
        return go("battle")
    if "predict" in tags or ("future" in tags and not ({"calendar", "when", "schedule_next", "sessions"} & tags)):
        return go("prediction")
    if "can_win" in tags:
        return go("can_win")
    if "sprint_weekends" in tags or (plan.session_type == "S" and "how_many" in tags and not has_e and not subject):
        return go("sprint_weekends")
    if "round_of" in tags and has_e:
        return go("round_of")
    if "schedule_next" in tags:
        return go("schedule")
    if ({"first_of", "last_of"} & tags) and subject:
        # "first pole", "last podium": the occasion counted (wins unless said).
        plan.metric = ("poles" if words & {"pole", "poles"} else "podiums" if words & {"podium", "podiums"}
                       else "wins")
        if "first_of" in tags:
            return go("first_win")
        if not (has_e and "won" in tags):
            return go("last_win")
    if "story" in tags and has_d and has_e:
        return go("results")  # "what happened to kovalainen at suzuka": his result and why
    if "story" in tags and (has_e or not subject):
        return go("story")
    if plan.month is not None and not has_e and ("calendar" in tags or "when" in tags or "how_many" in tags
                                                 or not subject):
        return go("races_in_month")
    if ("calendar" in tags or "sessions" in tags) and has_e:
        return go("weekend")
    if "when" in tags and has_e and not (_CONTENT & tags) and not lap:
        return go("weekend" if "sessions" in tags else "race_date")
    if "calendar" in tags:
        return go("schedule")
    if "how_many" in tags and not subject and not has_e and (
        words & {"races", "rounds", "gps", "events", "weekends"} or metric == "races"
    ):
        return go("season_races")
    if "lead_changes" in tags:
        return go("lead_changes")
    if "laps_led" in tags or ({"lead_verb", "leader_lap"} & tags and ({"how_many", "most", "laps_completed", "laps"} & tags)
                              and not lap):
        plan.metric = "laps_led"
        return go("laps_led")
    if ("leader_lap" in tags or "lead_verb" in tags) and lap:
        return go("leader_on_lap")
    if "most" in tags and not has_e and metric:
        if "one_season" in tags and not plan.years:
            plan.scope = "season"
        elif not plan.years:
            plan.scope = "career"
        return go("leaders")
    if "most" in tags and has_e and plan.year is None and metric in ("wins", "poles", "podiums", "points", None) \
            and "race" not in words:
        plan.scope = "circuit"
        plan.metric = metric or "wins"
        return go("leaders")
    # Championship: the title, standings, gaps in points.
    if lap and plan.lap_range is not None and (
        {"leader_lap", "lead_verb"} & tags or words & {"leader", "leading"} or (plan.position == 1 and not has_d)
    ):
        return go("leader_on_lap")  # "2021 monza lap 40 leader?"
    person = bool(words & {"champion", "champions", "crowned", "crown"})
    if plan.position and ({"champion", "standings"} & tags) and not lap and not has_e:
        return go("standings")  # "who came second in the championship"
    title_words = bool({"champion", "standings"} & tags) or bool(words & {"wdc", "wcc", "constructors"})
    two = len(plan.drivers) + len(plan.teams) >= 2
    if "after" in tags and "points" in tags and ({"lead_verb", "leader_lap"} & tags or words & {"leader", "top"}) \
            and not lap and not subject:
        return go("standings")  # "after abu dhabi '11 who led the points"
    if title_words and "after" in tags and not subject and not lap and not person and "won" not in tags:
        return go("standings")  # "after istanbul '06 which team was top in the constructors"
    # "who led the championship after ...", "who was top of the wcc": the table.
    if title_words and not lap and ({"lead_verb", "leader_lap", "fastest"} & tags) and not person:
        return go("standings")
    # "X vs Y points after round 4", "how far ahead was X of Y after spa": points, not a race gap.
    if two and not lap and ({"gap", "compare"} & tags) and (
        "points" in tags or "after" in tags or title_words or (plan.round is not None and not has_e)
    ):
        return go("points_gap")
    # "X points in the championship after spa", "how many pts did pérez have after turkey": the table then.
    if subject and "points" in tags and not lap and (title_words or ("after" in tags and (has_e or plan.round))):
        if has_e and plan.round is None:
            plan.round = plan.event.round if plan.event else None
            plan.notes.append("after_event")
        return go("standings")
    # "where did häkkinen finish in the '00 championship", "HAM's championship position".
    if subject and title_words and not person and "how_many" not in tags and (
        "finish" in tags or words & {"where", "position", "place", "standing", "rank", "what", "p"}
    ):
        return go("standings")
    if ("champion" in tags or ("won" in tags and title_words)) and not (
        "standings" in tags and "won" not in tags and not person
    ):
        if subject and ("how_many" in tags or not plan.years or "who" not in words):
            plan.metric = "titles"
            return go("titles")
        if person or "won" in tags or "who" in words:
            return go("champion")
        tags.add("standings")  # "2021 wdc", "constructors championship": the table
    if "standings" in tags or ("points" in tags and ("after" in tags or plan.round is not None) and not has_e):
        if "gap" in tags and len(plan.drivers) + len(plan.teams) >= 2:
            return go("points_gap")
        if has_e and plan.round is None:
            plan.round = plan.event.round if plan.event else None
            plan.notes.append("after_event")
        if has_t and not has_d:
            plan.standings_kind = "constructors"
        return go("standings")
    if "points" in tags and "gap" in tags and len(plan.drivers) + len(plan.teams) >= 2 and not has_e:
        return go("points_gap")
    if has_t and not has_d and (words & {"drivers", "driver", "lineup", "lineups", "line"}
                                 or {"lineup", "team_of"} & tags):
        return go("teammates")  # "who drove for jordan in '97", "sauber drivers 2001"
    if ("team_of" in tags or ("team_word" in tags and not has_t and not metric
                              and not {"standings", "champion", "compare"} & tags)) and has_d \
            and "teammate" not in tags:
        return go("team_of")
    if "teammate" in tags or ("lineup" in tags and (has_t or has_d)):
        if "compare" in tags or "beat" in words:
            return go("quali_h2h")
        return go("teammates")
    # "max vs checo quali h2h 2022 who won more": the qualifying battle, not their race wins.
    if ("compare" in tags or "teammate" in tags) and plan.years and not has_e and (
        plan.session_type == "Q" or any(w.startswith("outqualif") for w in words)
    ):
        plan.session_type = "Q"
        return go("quali_h2h")
    # Counts and careers ("how many wins does lando have", "hamilton poles 2020").
    if metric and "how_many" in tags and not has_e and not subject and not lap and not plan.years \
            and metric not in ("points",):
        plan.scope = "career"
        return go("stat")  # "how many podiums?" with nobody named: the handler asks whose
    if metric and not has_e and subject and not lap:
        if "how_many" in tags or "most" not in tags:
            plan.scope = plan.scope or ("season" if plan.years else "career")
            return go("stat")
    plural = bool(words & {"wins", "poles", "podiums", "victories", "titles", "championships"})
    if metric and has_e and plan.year is None and subject and ("how_many" in tags or plural) and metric != "laps_led":
        plan.scope = "circuit"
        return go("stat")
    # Qualifying.
    if "eliminated" in tags and (plan.part or plan.session_type in ("Q", "SQ")):
        plan.part = plan.part or "Q1"
        return go("eliminated")
    if plan.part and ("fastest" in tags or "won" in tags or ("who" in words and not has_d)):
        return go("quali")
    if "gap" in tags and "pole" in tags and has_d:
        return go("gap_to_pole")
    if plan.part or (({"lap_time", "laps", "best_lap"} & tags) and plan.session_type in ("Q", "SQ") and has_d):
        return go("quali")
    # Lap-level story.
    if "leader_lap" in tags and lap:
        return go("leader_on_lap")
    after_lap = next((int(n.split(":")[1]) for n in plan.notes if n.startswith("after_lap:")), None)
    if after_lap is not None and len(plan.drivers) == 1 and ("finish" in tags or words & {"where", "position"}) \
            and "compare" not in tags:
        plan.lap_range = (after_lap, after_lap)
    one_lap = (plan.lap_range is not None and plan.lap_range[0] == plan.lap_range[1]) or "last_lap" in plan.notes
    if len(plan.drivers) == 1 and one_lap and "best_lap" not in tags and "compare" not in tags:
        return go("driver_lap")
    if "fastest_pit" in tags:
        return go("fastest_pitstop")
    if "stops_count" in tags or ("how_many" in tags and "pitstops" in tags):
        return go("stops_count")
    if "best_lap" in tags and has_d:
        return go("best_lap")
    if "dsq" in tags:
        plan.metric = "dsq"
        return go("retirements")
    if "dns" in tags or ("start_word" in tags and has_d and has_e and not (_CONTENT & tags)):
        plan.metric = "dns"  # "did klien start the 2005 us gp?"
        return go("retirements")
    if "retired" in tags:
        plan.metric = "dnfs"
        return go("retirements")
    if "grid_change" in tags and "standings" not in tags:
        return go("grid_change")
    if "laps_completed" in tags or ("how_many" in tags and "laps" in tags):
        return go("laps_completed")
    if "points_finish" in tags and not subject:
        return go("points_finishers")
    # The first race-level answers (bot/answer.py).
    for tag, focus in (("weather", "weather"), ("flags", "flags"), ("penalties", "penalties"),
                       ("fastest_lap", "fastest_lap"), ("best_lap", "fastest_lap")):
        if tag in tags:
            return go(focus)
    if "pole" in tags and not ("gap" in tags and has_d):
        if plan.session_type == "R":
            plan.session_type = "Q"
        return go("pole")
    if "pitstops" in tags:
        return go("pitstops")
    if "stints" in tags or plan.compound:
        return go("stints")
    if ("gap" in tags or ("how_many" in tags and "compare" in tags and "by" in words)) and len(plan.drivers) >= 2 \
            and "pace" not in words:
        return go("gap")  # "by how much did X beat Y": one figure, not a whole head-to-head
    if "compare" in tags and len(plan.drivers) >= 2:
        return go("compare")
    if "gap" in tags and not has_d and not has_t and not plan.position and "points" not in tags:
        plan.position = 2  # "how far ahead did the winner finish": the margin to P2
        return go("gap")
    if "gap" in tags and (has_d or plan.position is not None):
        if plan.session_type in ("Q", "SQ") and len(plan.drivers) == 1 and "pole" in tags:
            return go("gap_to_pole")
        return go("gap")
    if plan.position is not None and not (has_d and plan.position == 1 and "won" not in tags):
        if plan.position == 1 and plan.session_type == "Q":
            return go("pole")
        if plan.position == 1:
            return go("winner")
        return go("position")
    if "podium" in tags:
        return go("podium" if has_e or not subject else "stat")
    if "won" in tags:
        if len(plan.drivers) >= 2:
            return go("compare")
        if not has_e and plan.years and not subject and plan.round is None and not plan.unknown:
            # "who won 2021": a season, no race: the title (not when other words named something).
            return go("champion")
        if plan.session_type == "Q":
            return go("pole")
        return go("winner")
    if "leader_lap" in tags:
        return go("leader_on_lap" if lap else "laps_led")
    if "laps" in tags and (has_d or (has_e and plan.unknown)):
        return go("laps")
    if "lap_time" in tags and has_d:
        return go("laps")
    if "finish" in tags or "grid" in tags:
        if "grid" in tags and not has_d:
            return go("grid_change" if "grid_change" in tags else "results")
        return go("results")
    if "compare" in tags:
        return go("compare")
    if len(plan.drivers) >= 2:
        return go("compare")
    if has_d and has_e:
        return go("results")
    if has_d and ("form" in tags or plan.years or not has_e):
        return go("form")
    if has_t and has_e:
        return go("results")
    if has_t:
        return go("form")
    if has_e and ({"first_race", "season_finale", "last_race"} & set(plan.notes)) and not tags - {"after", "form"}:
        return go("race_date")  # "last race of 08?": which race, when
    if "form" in tags and not subject:
        return go("unknown")
    if has_e and not plan.unknown:
        return go("results")
    return go("unknown")


# Clues that ask for something about a race, so "when" is not a question about its date
# ("when was the safety car at monza").
_CONTENT = {
    "won", "retired", "pitstops", "leader_lap", "laps_led", "flags", "penalties", "weather", "fastest_lap",
    "best_lap", "pole", "podium", "stints", "dsq", "dns", "lead_changes", "fastest_pit", "lead_verb",
    "grid_change", "eliminated", "lap_time", "compare", "gap", "first_of", "last_of", "champion", "standings",
    "stops_count", "points", "points_finish", "story",
}


def _raw_words(plan: QueryPlan) -> set[str]:
    return set(fold(plan.text).split())


def chart_kind(tags: set[str], words: set[str], plan: QueryPlan) -> str:
    """Which picture a chart question asks for (`bot.charts.CHART_KINDS`), from its clue words.

    Order matters: "pit stop times" is the pit-stop ranking, not lap times; "qualifying gaps"
    the gap to pole, not race gaps; "points" a season's championship.
    """
    quali = plan.session_type in ("Q", "SQ") or bool(words & {"qualifying", "quali", "qualy", "pole"})
    if "teammate" in tags:
        return "teammates"
    if "distribution" in tags or words & {"boxplot", "boxplots", "spread", "consistency", "consistent"}:
        return "distribution"
    if "fastest_pit" in tags or ("pitstops" in tags and "stints" not in tags):
        return "pitstops"
    if "stints" in tags:
        return "strategy"
    if quali:
        return "quali"
    if {"points", "standings", "champion", "title_fight"} & tags or words & {"championship", "title", "wdc"}:
        return "points"
    if "position_changes" in tags:
        return "positions"
    if "gap" in tags:
        return "gaps"
    if {"lap_time", "best_lap", "compare"} & tags or words & {"pace", "laps"}:
        return "laptimes"
    return "laptimes" if plan.drivers else "positions"


def _metric(tags: set[str], plan: QueryPlan) -> str | None:
    """What an aggregate counts (from the clue words)."""
    w = _raw_words(plan)
    if "titles" in w or "championships" in w or "title" in w or "wdc" in w or "wcc" in w or "championship" in w:
        if "champion" in tags and ("how_many" in tags or "most" in tags):
            return "titles"
    if "champion" in tags and w & {"championships", "titles"}:
        return "titles"
    if "fastest_lap" in tags and ("how_many" in tags or "most" in tags):
        return "fastest_laps"
    if "laps_led" in tags:
        return "laps_led"
    if "pole" in tags:
        return "front_rows" if "front" in w else "poles"
    if "podium" in tags:
        return "podiums"
    if "retired" in tags and ("how_many" in tags or "most" in tags):
        return "dnfs"
    if "points_finish" in tags and ("how_many" in tags or "most" in tags):
        return "points_finishes"
    if "points" in tags and "gap" not in tags:
        return "points"
    if "won" in tags:
        return "wins"
    if "started" in tags or ("start_word" in tags and "how_many" in tags):
        return "starts"
    if "how_many" in tags and ("races" in w or "gps" in w):
        return "races" if (plan.drivers or plan.teams) else None
    return None
