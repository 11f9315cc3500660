"""A forecast question or command → a reply from the `Predictor` (`bot.predict`).

Free questions ("who wins sunday?", "chances of a mclaren podium at monza", "title odds
2023 after round 10") and `/f1 predict`, `/f1 odds title` share the query plan: the parser
reads the race (its coming running: `bot.resolve.upcoming_event_index`), drivers, teams,
season and round; this module picks race or title, the market (win, podium, points), asks
the predictor and writes the reply with `bot.forecast_format`. A question about what is to
come is never answered with a past result: without a predictor the reply says there is no
forecast.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING, Any

from bot import messages as m
from bot.errors import UserError
from bot.forecast_format import Focus, Market, odds_line, race_text, title_text
from bot.model import Reply
from bot.plan import QueryPlan
from bot.predict.types import PredictUnavailable, TitleForecast, TitleKind
from storage.queries import fold
from storage.store import Store

if TYPE_CHECKING:  # the model's module loads numpy: only for the type
    from bot.predict.service import Predictor

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- user strings
NO_FORECAST = "No forecast for that: {reason}"
NO_NEXT_RACE = "there is no race left to run in the calendar I hold."
NOT_IN_CALENDAR = "the {year} season is not in the calendar I hold."
NO_QUALI = "I forecast races (win, podium, points) and the title, not qualifying or pole."
ONE_RACE = "_I forecast one race at a time (and the title); this is the next race._"
ALREADY_FOLDED = ("the {year} {event} has been run and the model already includes its result, so I can't "
                  "show the forecast made before it. Ask for the {year} {event} results instead.")
FORECAST_SUGGESTIONS = ("Title odds", "Who is favourite for the next race?")

_TITLE_WORDS = frozenset({"title", "titles", "championship", "championships", "champion", "champions", "wdc",
                          "wcc", "crown", "crowned"})
_TEAM_WORDS = frozenset({"constructors", "constructor", "teams", "team", "wcc"})


# "before qualifying" / "with the grid": which stage the fan wants (default: the grid when stored).
_STAGE = re.compile(r"\b(?:(before|pre|ahead of|without)|(after|post|with))[ -]?(?:the )?(?:quali|qualifying|grid)\b")


def stage_asked(text: str) -> bool | None:
    """True = after qualifying, False = before it, None = not said."""
    mt = _STAGE.search(fold(text))
    return None if mt is None else mt.group(2) is not None


def predictor_of(deps: Any) -> Predictor | None:
    """The app's Predictor (`BotDeps.predictor`), or None when the bot runs without one."""
    return deps.predictor


def _tags(plan: QueryPlan) -> set[str]:
    return {n[4:] for n in plan.notes if n.startswith("tag:")}


def wants_title(plan: QueryPlan) -> bool:
    """"title odds", "championship chances 2025": the title; a race named makes it the race."""
    if plan.event is not None:
        return False
    return plan.scope == "season" or bool({"champion", "title_fight", "standings", "can_win"} & _tags(plan)
                                          or set(fold(plan.text).split()) & _TITLE_WORDS)


# A team's two cars together: "a red bull 1-2", "one two for ferrari", "both mercs on the podium".
_ONE_TWO = re.compile(r"\b(1\s*-\s*2|1\s*2\s+finish|one[\s-]*two|onetwo|1st and 2nd|first and second)\b")
_DOUBLE_PODIUM = re.compile(r"\bdouble podium\b|\bboth\b[^.?!]{0,30}\b(podium|rostrum|top 3|top three)\b|"
                            r"\btwo cars on the podium\b")


_TOP3 = re.compile(r"\btop ?(3|three)\b")


def market_of(plan: QueryPlan) -> Market:
    """What the chance is of: a podium, a points finish, else the win."""
    tags = _tags(plan)
    words = set(fold(plan.text).split())
    if _ONE_TWO.search(plan.text.lower()):
        return "one_two"
    if _DOUBLE_PODIUM.search(plan.text.lower()):
        return "double_podium"
    if "podium" in tags or words & {"podium", "podiums", "rostrum", "top3"} or _TOP3.search(plan.text.lower()):
        return "podium"
    if {"points_finish", "points"} & tags or words & {"points", "pts", "score", "scores", "scoring", "top10"}:
        return "points"
    return "win"


def title_kind(plan: QueryPlan) -> TitleKind:
    """The constructors' title when teams are asked about (or were, in the conversation)."""
    words = set(fold(plan.text).split())
    if plan.drivers or words & {"drivers", "driver", "wdc"}:
        return "drivers"
    if plan.standings_kind == "constructors" or plan.teams or words & _TEAM_WORDS:
        return "constructors"
    return "drivers"


async def forecast_reply(store: Store, predictor: Predictor | None, plan: QueryPlan, *, now: dt.datetime,
                         title: bool | None = None) -> Reply:
    """The forecast the plan asks for (`title` None: read from the plan); a short refusal
    when there is none."""
    if predictor is None:
        return Reply(text=m.NO_PREDICTIONS)
    try:
        if wants_title(plan) if title is None else title:
            plan.scope = "season"  # remembered: "and the constructors?" asks for their title odds
            text = await _title(store, predictor, plan, now)
        else:
            text = await _race(store, predictor, plan, now)
    except PredictUnavailable as exc:
        log.info("no forecast for %r: %s", plan.text, exc.message)
        return Reply(text=NO_FORECAST.format(reason=exc.message))
    return Reply(text=text, suggestions=list(FORECAST_SUGGESTIONS))


async def _race(store: Store, predictor: Predictor, plan: QueryPlan, now: dt.datetime) -> str:
    stage = stage_asked(plan.text)
    if stage is None and (plan.session_type in ("Q", "SQ") or "pole" in _tags(plan)):
        raise PredictUnavailable(NO_QUALI)
    event = plan.event
    season_question = event is None and bool(plan.years) and plan.round is None
    if event is None and plan.round is not None and plan.years:
        event = await store.event_by_round(plan.years[0], plan.round)
    if event is None:
        nxt = await predictor.next_race(now)
        if nxt is None:
            # The predictor's next race is the first without results; a store holding results
            # past the clock (a replay, the demo) still has a next race by the calendar.
            nxt = await _next_by_clock(store, now)
        if nxt is None:
            raise PredictUnavailable(NO_NEXT_RACE)
        year, rnd = nxt
        event = await store.event_by_round(year, rnd)
    else:
        year, rnd = event.year, event.round
    if event is not None:
        plan.event = event  # the conversation remembers the race ("and ferrari?" asks about it)
    # Run already: its date has come and the store holds its result (or a later one).
    last = await store.last_event_with_results(year=year)
    past = (event is not None and event.date is not None and event.date <= now.date()
            and last is not None and last.round >= rnd)
    fc = await predictor.race(year, rnd, after_quali=stage)
    if past and fc.data_through is not None and fc.data_through >= (year, rnd):
        raise PredictUnavailable(ALREADY_FOLDED.format(year=year, event=fc.event_name))
    focus = Focus(codes=tuple(d.code for d in plan.drivers if d.code),
                  teams=tuple(plan.teams), market=market_of(plan))
    text = race_text(fc, focus, past=past, through_name=await _race_name(store, fc.data_through))
    # "will norris win a race this year": a season question; we answer the next race, and say so.
    return f"{ONE_RACE}\n{text}" if season_question else text


async def _next_by_clock(store: Store, now: dt.datetime) -> tuple[int, int] | None:
    """The first race on or after today by the stored calendar."""
    year = now.year
    coming = [e for e in await store.events(year) if e.date is not None and e.date >= now.date()]
    if not coming:
        coming = [e for e in await store.events(year + 1) if e.date is not None]
    first = min(coming, key=lambda e: (e.date, e.round), default=None)
    return (first.year, first.round) if first is not None else None


async def _round_by_clock(store: Store, year: int, now: dt.datetime) -> int | None:
    """The last round of `year` with results and not after today, while the season is still
    going (None once it is over or not begun: the predictor then takes the last round with
    results). Today's race counts once its result is in; a store holding results past the
    clock (the demo, a replay) is read as of the clock."""
    events = await store.events(year)
    by_clock = [e.round for e in events if e.date is not None and e.date <= now.date()]
    if not by_clock or len(by_clock) == len(events):
        return None
    last = await store.last_event_with_results(year=year)
    return min(max(by_clock), last.round) if last is not None else None


async def title_season(store: Store, predictor: Predictor, plan: QueryPlan, now: dt.datetime) -> int:
    """The season named, else the one of the next race, else the latest with results."""
    if plan.years:
        year = plan.years[0]
        if year not in await store.seasons():
            raise PredictUnavailable(NOT_IN_CALENDAR.format(year=year))
        return year
    nxt = await predictor.next_race(now) or await _next_by_clock(store, now)
    if nxt is not None:
        return int(nxt[0])
    latest = await store.latest_season_with_results()
    if latest is None:
        raise UserError(m.NO_DATA)
    return latest


async def _title(store: Store, predictor: Predictor, plan: QueryPlan, now: dt.datetime) -> str:
    tf = await title_forecast(store, predictor, plan, now)
    plan.standings_kind = tf.kind  # remembered for a follow-up ("what about after round 16")
    return title_text(tf, named=_named_keys(plan, tf),
                      through_name=await _race_name(store, (tf.year, tf.after_round)))


async def _race_name(store: Store, at: tuple[int, int] | None) -> str | None:
    """The name of the race at (year, round), for "data through 2023 round 13 (Dutch Grand Prix)"."""
    if at is None:
        return None
    ev = await store.event_by_round(*at)
    return ev.name if ev is not None else None


async def title_forecast(store: Store, predictor: Predictor, plan: QueryPlan, now: dt.datetime) -> TitleForecast:
    year = await title_season(store, predictor, plan, now)
    after = plan.round if plan.round is not None else await _round_by_clock(store, year, now)
    return await predictor.title(year, after_round=after, kind=title_kind(plan))


def _named_keys(plan: QueryPlan, tf: TitleForecast) -> list[str]:
    if tf.kind == "drivers":
        return [d.code for d in plan.drivers if d.code]
    return [ref for ref, _ in plan.teams]


async def title_odds_for(predictor: Predictor | None, ctx: dict[str, Any], named: list[str]) -> str:
    """The title-odds line a "can X still win the title" answer carries ("" without a predictor
    or a forecast): the same season, round and championship as its mathematical answer."""
    if predictor is None or not ctx.get("year") or ctx.get("remaining") == 0:
        return ""
    try:
        tf = await predictor.title(int(ctx["year"]), after_round=ctx.get("round"), kind=ctx.get("kind", "drivers"))
    except PredictUnavailable as exc:
        log.info("no title odds for the can-win answer: %s", exc.message)
        return ""
    return odds_line(tf, named)
