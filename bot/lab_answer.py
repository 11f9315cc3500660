"""Race Lab in chat: what-if, best strategy and battle forecast questions → replies.

`/f1 whatif …`, `/f1 battle …` and free questions ("what if hamilton had pitted on lap 25",
"will norris catch piastri") share the query plan for the race and drivers; this module
reads the strategy words (pit laps, compounds, "one-stop", "stayed out", "explain"), checks
them against the race (refusals name what is wrong), asks `RaceLab` (worker process) and
words the answer: every probability as a percentage with its interval, the actual
strategy simulated by the same model, never "would have won" without a probability.

The simulation takes seconds: a "simulating…" placeholder is posted first and edited with
the answer, or with the refusal / time-out message, so it never stays behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from bot import messages as m
from bot.app import CommandContext
from bot.errors import UserError
from bot.lab.service import RaceLab
from bot.lab.types import (
    DRY_COMPOUNDS,
    RaceData,
    RaceModel,
    Strategy,
    StrategyError,
    WhatIf,
)
from bot.lab_read import WINDOW, LabAsk, read_command, read_question
from bot.lab_words import (
    ASK_DRIVER,
    ASK_STAY_OUT,
    ASK_STOPS,
    ASK_TWO,
    ASK_WHICH_STOP,
    BAD_COMPOUND,
    LAP_OUTSIDE,
    MOVE_CROSSES,
    NO_LAB,
    NO_STOP,
    NO_SUCH_STOP,
    NO_WINDOW,
    NOT_A_STOP,
    NOT_BEHIND,
    NOT_IN_RACE,
    NOT_STARTED,
    RETIRED,
    SAME_STRATEGY,
    SIMULATING,
    STOPS_SEARCHED,
    battle_text,
    best_text,
    distribution_plot,
    explain_text,
    race_name,
    whatif_text,
    window_lines,
)
from bot.model import Reply
from bot.plan import QueryPlan

log = logging.getLogger(__name__)

_AT_LAP = re.compile(r"\b(?:at|on|after)?\s*lap\s+(\d{1,3})\b", re.I)


# ---------------------------------------------------------------------------- checks


def check_driver(model: RaceModel, code: str | None, name: str = "") -> str:
    if not code or code.upper() not in model.codes:
        raise UserError(NOT_IN_RACE.format(name=name or code or "That driver", race=race_name(model),
                                           codes=", ".join(model.codes)))
    return code.upper()


def _status(data: RaceData, code: str) -> str:
    entry = next((c for c in data.classification if c.code == code), None)
    return (entry.status if entry and entry.status else "retired").lower()


def check_laps(model: RaceModel, data: RaceData, code: str, laps: list[int]) -> None:
    """Pit laps inside the race and before the driver's retirement."""
    race = race_name(model)
    retired = int(model.retire_lap[model.index(code)])
    for lap in laps:
        if lap < 1 or lap >= model.total_laps:
            raise UserError(LAP_OUTSIDE.format(lap=lap, race=race, laps=model.total_laps, last=model.total_laps - 1))
        if retired == 0:
            raise UserError(NOT_STARTED.format(code=code, race=race, status=_status(data, code)))
        if retired < model.total_laps and lap > retired:
            raise UserError(RETIRED.format(code=code, retired=retired, race=race, status=_status(data, code), lap=lap))


def _other_compound(prev: str, used: tuple[str, ...]) -> str:
    """A tyre for a stop the fan gave no tyre for: the race's next-hardest other compound."""
    for c in ("HARD", "MEDIUM", "SOFT"):
        if c != prev and (not used or c in used):
            return c
    return "MEDIUM" if prev != "MEDIUM" else "HARD"


def _stops_said(actual: Strategy) -> str:
    return ", ".join(f"lap {lap}" for lap, _ in actual.stops)


def which_stop(model: RaceModel, code: str, ask: LabAsk) -> int | None:
    """The actual stop a "moved" question is about: the only one, the one named ("his second
    stop", or its lap: "pitting on lap 20"); None when there are several and none is named."""
    actual, race = model.actual[code], race_name(model)
    n = actual.n_stops
    if n == 0:
        raise UserError(NO_STOP.format(code=code, race=race, s=actual.format()))
    if ask.which is not None:
        k = n - 1 if ask.which == -1 else ask.which - 1
        if k >= n:
            raise UserError(NO_SUCH_STOP.format(code=code, n=n, race=race, stops=_stops_said(actual), k=ask.which))
        return k
    if ask.stops:
        lap = ask.stops[0][0]
        k = next((i for i, (at, _) in enumerate(actual.stops) if at == lap), None)
        if k is None:
            raise UserError(NOT_A_STOP.format(code=code, lap=lap, race=race, stops=_stops_said(actual),
                                              first=actual.stops[0][0]))
        return k
    return 0 if n == 1 else None


def moved(model: RaceModel, code: str, k: int, lap: int) -> Strategy | None:
    """The actual strategy with stop `k` on `lap` (same tyre); None when that lap is outside the
    race, after the retirement, or on or past a neighbouring stop (the order must hold)."""
    stops = list(model.actual[code].stops)
    lo = stops[k - 1][0] if k > 0 else 0
    hi = stops[k + 1][0] if k + 1 < len(stops) else model.total_laps
    if not lo < lap < hi or lap > int(model.retire_lap[model.index(code)]):
        return None
    stops[k] = (lap, stops[k][1])
    return Strategy(model.actual[code].start, tuple(stops))


def _ordinal(k: int) -> str:
    return {0: "first", 1: "second", 2: "third"}.get(k, "last")


def shifted(model: RaceModel, data: RaceData, code: str, ask: LabAsk) -> tuple[Strategy, str]:
    """"10 laps longer", "a lap earlier": the (only or named) stop moved by that many laps."""
    shift = ask.shift or 0
    n = abs(shift)
    what = f"{n} lap{'s' if n != 1 else ''} {'later' if shift > 0 else 'earlier'}"
    actual, race = model.actual[code], race_name(model)
    k = which_stop(model, code, ask)
    if k is None:
        raise UserError(ASK_WHICH_STOP.format(code=code, what=what, race=race, n=actual.n_stops,
                                              stops=_stops_said(actual), ordinal="first",
                                              lap=actual.stops[0][0] + shift))
    old = actual.stops[k][0]
    lap = old + shift
    check_laps(model, data, code, [lap])
    alt = moved(model, code, k, lap)
    if alt is None:
        why = "come before or after another of its stops" if actual.n_stops > 1 else "leave the race"
        raise UserError(MOVE_CROSSES.format(code=code, old=old, lap=lap, why=why, race=race))
    return alt, f"{code}'s stop on lap {old} moved {what}, to lap {lap}: {alt.format()} instead of {actual.format()}"


def window(model: RaceModel, code: str, ask: LabAsk) -> tuple[list[Strategy], str]:
    """"Should he have pitted earlier": the stop (each stop, when several and none named)
    moved 1–`WINDOW` laps that way (both ways for "was it a mistake"), same tyre."""
    actual, race = model.actual[code], race_name(model)
    k = which_stop(model, code, ask)
    ks = range(actual.n_stops) if k is None else [k]
    signs = {"earlier": (-1,), "later": (1,), "either": (-1, 1)}[ask.window or "either"]
    cands = [alt for i in ks for sign in signs for d in range(1, WINDOW + 1)
             if (alt := moved(model, code, i, actual.stops[i][0] + sign * d)) is not None]
    way = {"earlier": "earlier", "later": "later", "either": "earlier or later"}[ask.window or "either"]
    stops = " and ".join(f"lap {actual.stops[i][0]}" for i in ks)
    if not cands:
        raise UserError(NO_WINDOW.format(way=way, code=code, lap=stops, race=race, last=model.total_laps - 1))
    return cands, f"{code}'s stop on {stops} moved 1–{WINDOW} laps {way}"


def alternative(model: RaceModel, data: RaceData, code: str, ask: LabAsk) -> tuple[Strategy, str]:
    """The strategy the fan asks about, and how it was read (said in the reply).

    One pit lap named: the actual stop nearest to it moves there (one decision changes);
    more: they replace the stops. A missing tyre keeps the one fitted at that stop.
    "Stayed out": the stop under a safety car (else the last) is dropped, when two dry
    compounds remain.
    """
    actual = model.actual[code]
    race = race_name(model)
    if ask.shift is not None and not (ask.stops and ask.which is None and len(ask.stops) > 1):
        return shifted(model, data, code, ask)
    if ask.stay_out and not ask.stops:
        if not actual.stops:
            raise UserError(SAME_STRATEGY.format(code=code, s=actual.format()))
        neutral = {lap for lap in range(1, model.total_laps + 1) if model.neutralised[lap - 1] in (1, 2)}
        drop = next((s for s in actual.stops if s[0] in neutral), actual.stops[-1])
        kept = tuple(s for s in actual.stops if s != drop)
        alt = Strategy(actual.start, kept)
        if not model.is_wet and len({c for c in alt.compounds if c in DRY_COMPOUNDS}) < 2:
            raise UserError(ASK_STAY_OUT.format(
                driver=code, n=actual.n_stops, race=race, stops=", ".join(f"lap {lap}" for lap, _ in actual.stops),
                code=code, lap=drop[0] + 8))
        return alt, f"{code} stays out on lap {drop[0]} ({alt.format()} instead of {actual.format()})"
    if not ask.stops:
        raise UserError(ASK_STOPS.format(driver=code, race=race, code=code, lap=min(25, model.total_laps - 1)))
    laps = [lap for lap, _ in ask.stops]
    check_laps(model, data, code, laps)
    for _, comp in ask.stops:
        if comp and model.compounds and comp not in model.compounds:
            raise UserError(BAD_COMPOUND.format(comp=comp.title(), race=race,
                                                have=", ".join(c.title() for c in model.compounds)))
    if len(ask.stops) == 1 and actual.stops:
        lap, comp = ask.stops[0]
        k = min(range(len(actual.stops)), key=lambda i: abs(actual.stops[i][0] - lap))
        stops = [s for i, s in enumerate(actual.stops) if i != k and s[0] != lap]
        stops.append((lap, comp or actual.stops[k][1]))
        stops.sort()
        how = f"{code}'s stop on lap {actual.stops[k][0]} moved to lap {lap}"
    else:
        stops = []
        prev = actual.start
        for i, (lap, comp) in enumerate(ask.stops):
            c = comp or (actual.stops[i][1] if i < len(actual.stops) else _other_compound(prev, model.compounds))
            stops.append((lap, c))
            prev = c
        how = f"{code} stops on lap{'s' if len(stops) > 1 else ''} {', '.join(str(lap) for lap, _ in stops)}"
    alt = Strategy(actual.start, tuple(stops))
    if alt == actual:
        raise UserError(SAME_STRATEGY.format(code=code, s=actual.format()))
    return alt, f"{how}: {alt.format()} instead of {actual.format()}"


async def with_chart(ctx: CommandContext, reply: Reply, model: RaceModel, wi: WhatIf) -> Reply:
    """The reply with the distributions drawn, when charts exist; the text stands alone otherwise."""
    charts = ctx.deps.charts
    if charts is None:
        return reply
    try:
        plot = distribution_plot(model, wi)
        alt = (f"Line chart: {wi.code}'s finishing-position distribution with {wi.alt.format()} "
               f"and with the actual {wi.actual.format()}, {race_name(model)}.")
        name = f"whatif-{model.year}-{model.round}-{wi.code}-{wi.alt.format()}.png"
        reply.images.append(await charts.draw_plot(plot, name, alt))
    except Exception:  # a chart is extra: the answer goes out without it
        log.warning("what-if chart not drawn", exc_info=True)
    return reply


# ---------------------------------------------------------------------------- the flows


async def with_placeholder(ctx: CommandContext, what: str, work: Callable[[], Awaitable[Reply]]) -> None:
    """Post "simulating…", then edit it with the answer, the refusal or the apology: the
    placeholder never stays behind. (A platform that cannot edit gets a second message.)"""
    mid = await ctx.responder.send(Reply(text=SIMULATING.format(what=what)))
    try:
        reply = await work()
    except UserError as exc:
        log.info("race lab refused %r: %s", ctx.incoming.text, exc.message)
        reply = Reply(text=exc.message, suggestions=exc.suggestions)
    except StrategyError as exc:  # the model's own refusal (e.g. a car that retired): its text is for the fan
        log.info("race lab refused %r: %s", ctx.incoming.text, exc)
        reply = Reply(text=f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    except Exception:
        log.exception(m.LOG_INTERNAL_ERROR, ctx.incoming.event_id, "race lab")
        reply = Reply(text=m.INTERNAL_ERROR)
    if mid is None:
        await ctx.responder.send(reply)
    else:
        await ctx.responder.edit(mid, reply)


def _lab(ctx: CommandContext) -> RaceLab:
    lab = ctx.deps.lab
    if lab is None:
        raise UserError(NO_LAB)
    return lab  # type: ignore[no-any-return]


async def whatif_answer(ctx: CommandContext, plan: QueryPlan, ask: LabAsk) -> None:
    """A what-if or best-strategy question, answered by editing a placeholder."""
    lab = _lab(ctx)
    if not plan.drivers:
        raise UserError(ASK_DRIVER)
    if plan.event is None:
        raise UserError(m.NO_DATA)
    ev, driver = plan.event, plan.drivers[0]
    best = ask.best or plan.focus == "best_strategy" or (
        (ask.n_stops is not None or ask.extra != 0) and not ask.stops and ask.shift is None)
    runs = lab.best_runs if best else lab.runs
    what = (f"Simulating {'strategies for ' + str(driver.code) if best else str(driver.code) + '’s what-if'} "
            f"at the {ev.year} {ev.name} ({runs:,} races{' per plan' if best else ''})")

    async def work() -> Reply:
        model = await lab.model(ev.year, ev.round)
        code = check_driver(model, driver.code, driver.name)
        if ask.explain:
            return Reply(text=explain_text(model))
        if best:
            n_stops = ask.n_stops
            if n_stops is None and ask.extra:  # "an extra stop": one more (fewer) than he made
                n_stops = model.actual[code].n_stops + ask.extra
            if n_stops is not None and not 1 <= n_stops <= 2:
                raise UserError(STOPS_SEARCHED.format(code=code, n=model.actual[code].n_stops,
                                                          race=race_name(model), want=n_stops))
            ranked = await lab.best(ev.year, ev.round, code, n_stops=n_stops)
            # "Would a two-stop have worked": the search ran over plans of that many stops only;
            # its best against the actual (the ranking alone when the actual is that best).
            if n_stops is not None and ranked and ranked[0].strategy != model.actual[code]:
                wi = await lab.whatif(ev.year, ev.round, code, ranked[0].strategy)
                how = (f"the best {n_stops}-stop plan the search found for {code}, "
                       f"{ranked[0].strategy.format()}, against his actual {model.actual[code].format()}")
                return await with_chart(ctx, Reply(text=whatif_text(model, wi, how)), model, wi)
            return Reply(text=best_text(model, code, ranked[:5], lab.best_runs))
        data = await lab.race(ev.year, ev.round)
        if ask.window is not None and ask.shift is None:
            cands, tried = window(model, code, ask)
            scored = await lab.screen(ev.year, ev.round, code, tuple(cands))
            top = max(scored, key=lambda t: (round(t[1], 2), t[2]))[0]
            wi = await lab.whatif(ev.year, ev.round, code, top)
            how = (f"{tried}, the best of them, {top.format()}, against the actual "
                   f"{model.actual[code].format()}")
            text = whatif_text(model, wi, how, window_lines(scored, tried, lab.best_runs))
            return await with_chart(ctx, Reply(text=text), model, wi)
        alt, how = alternative(model, data, code, ask)
        wi = await lab.whatif(ev.year, ev.round, code, alt)
        return await with_chart(ctx, Reply(text=whatif_text(model, wi, how)), model, wi)

    await with_placeholder(ctx, what, work)


def closest_lap(data: RaceData, a: str, b: str) -> tuple[int, str, str] | None:
    """(lap, chaser, leader) where the two were closest in the last third of the race
    (the chaser is whoever was behind then); None when they never ran together."""
    times: dict[tuple[str, int], float] = {(r.code, r.lap): r.time_s for r in data.laps
                                           if r.time_s is not None and r.code in (a, b)}
    start = max(2, data.total_laps - data.total_laps // 3)
    best: tuple[float, int] | None = None
    for lap in range(start, data.total_laps + 1):
        ta, tb = times.get((a, lap)), times.get((b, lap))
        if ta is None or tb is None:
            continue
        gap = abs(ta - tb)
        if best is None or gap < best[0]:
            best = (gap, lap)
    if best is None:
        return None
    lap = best[1]
    return (lap, a, b) if times[(a, lap)] > times[(b, lap)] else (lap, b, a)


async def battle_answer(ctx: CommandContext, plan: QueryPlan, lap: int | None) -> None:
    """A battle forecast, answered by editing a placeholder."""
    lab = _lab(ctx)
    if len(plan.drivers) != 2:
        raise UserError(ASK_TWO)
    if plan.event is None:
        raise UserError(m.NO_DATA)
    ev = plan.event
    first, second = (d.code or "" for d in plan.drivers)

    async def work() -> Reply:
        model = await lab.model(ev.year, ev.round)
        data = await lab.race(ev.year, ev.round)
        a = check_driver(model, first, plan.drivers[0].name)
        b = check_driver(model, second, plan.drivers[1].name)
        note = ""
        want = lap
        if want is None and not any(c.position for c in data.classification):  # a race in progress
            want = max((r.lap for r in data.laps if r.code in (a, b)), default=None)  # the latest lap
        if want is None:
            found = closest_lap(data, a, b)
            if found is None:
                raise UserError(NOT_BEHIND.format(a=a, b=b, lap=data.total_laps * 2 // 3, race=race_name(model)))
            at, chaser, leader = found
            note = f"Lap {at}: where the two were closest in the last third of the race (name a lap with `lap N`)."
        else:
            if want < 2 or want > model.total_laps:
                raise UserError(LAP_OUTSIDE.format(lap=want, race=race_name(model), laps=model.total_laps,
                                                   last=model.total_laps).replace("pit on", "ask about"))
            at = want
            times = {r.code: r.time_s for r in data.laps if r.lap == want and r.code in (a, b) and r.time_s is not None}
            if len(times) < 2:
                raise UserError(NOT_BEHIND.format(a=a, b=b, lap=want, race=race_name(model)).replace("after", "on"))
            chaser, leader = (a, b) if times[a] > times[b] else (b, a)
            if chaser != a:
                note = f"{b} was behind {a} on lap {want}: {b} is the chaser."
        fc = await lab.battle(ev.year, ev.round, chaser, leader, at)
        return Reply(text=battle_text(model, fc, note))

    await with_placeholder(ctx, f"Forecasting the {first}–{second} battle at the {ev.year} {ev.name}", work)


def battle_lap(text: str) -> int | None:
    mt = _AT_LAP.search(text or "")
    return int(mt.group(1)) if mt else None


__all__ = [
    "LabAsk", "alternative", "moved", "shifted", "which_stop", "window", "battle_answer", "battle_lap", "closest_lap", "read_command", "read_question",
    "whatif_answer", "with_chart", "with_placeholder",
]
