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
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from bot import messages as m
from bot.app import CommandContext
from bot.charts.plot import Plot
from bot.errors import UserError
from bot.lab.service import RaceLab
from bot.lab.types import (
    DRY_COMPOUNDS,
    BattleForecast,
    RaceData,
    RaceModel,
    RankedStrategy,
    Strategy,
    WhatIf,
)
from bot.model import Reply
from bot.plan import QueryPlan

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- user-visible text
NO_LAB = "The Race Lab is not available on this bot."
SIMULATING = "⏳ {what}…"
ASK_DRIVER = ("Which driver? E.g. `/f1 whatif LEC pit 25 hard monza 2023`, "
              "\"what if hamilton had pitted on lap 25 at monza 2023\".")
ASK_TWO = "Which two drivers? E.g. `/f1 battle LEC SAI monza 2023 lap 30`, \"will norris catch piastri\"."
ASK_STOPS = ("I understood a what-if for {driver} at the {race}, but not which decision to change. "
             "Name a pit lap (and tyre), e.g. `/f1 whatif {code} pit {lap} hard`, or ask for the "
             "`best` strategy.")
ASK_STAY_OUT = ("{driver} stopped {n} time(s) at the {race} ({stops}); staying out would leave one "
                "compound, which the dry rules forbid. Which stop should move? E.g. `/f1 whatif {code} pit {lap}`.")
NOT_IN_RACE = "{name} did not start the {race}. Drivers there: {codes}."
LAP_OUTSIDE = "Lap {lap} is outside the {race}: it had {laps} laps; pit on laps 1–{last}."
RETIRED = "{code} retired on lap {retired} of the {race} ({status}): a stop on lap {lap} never happened."
NOT_STARTED = "{code} did not start the {race} ({status}): there is no strategy to change."
NOT_BEHIND = "{a} and {b} were never both running after lap {lap} of the {race}."
SAME_STRATEGY = "That is {code}'s actual strategy ({s}): nothing changes. Name another lap or tyre."
BAD_COMPOUND = "{comp} was not raced at the {race}; its compounds: {have}."
UNDERSTOOD_FOOT = "_Read as: {what}._"
INTERVALS = ("_Probabilities in brackets: 80% interval of the simulation; positions and gains: the "
             "range of the middle 80% of runs. A model, not a verdict: it knows what the data knows._")

_COMPOUND_WORDS = {
    "soft": "SOFT", "softs": "SOFT", "s": "SOFT", "medium": "MEDIUM", "mediums": "MEDIUM", "med": "MEDIUM",
    "m": "MEDIUM", "hard": "HARD", "hards": "HARD", "h": "HARD", "inter": "INTERMEDIATE",
    "inters": "INTERMEDIATE", "intermediate": "INTERMEDIATE", "intermediates": "INTERMEDIATE",
    "i": "INTERMEDIATE", "wet": "WET", "wets": "WET", "w": "WET",
}
_COMP = r"(softs?|mediums?|med|hards?|inters?|intermediates?|wets?|s|m|h|i|w)"
_CMD_PIT = re.compile(rf"\bpit\s+(?:on\s+)?(?:lap\s+)?(\d{{1,3}})(?:\s+(?:for\s+|on\s+)?(?:the\s+)?{_COMP}\b)?", re.I)
_Q_LAP = re.compile(r"\blaps?\s+(\d{1,3})\b|\bl(\d{1,3})\b", re.I)
_Q_COMP = re.compile(r"\b(softs?|mediums?|hards?|inters?|intermediates?|wets?)\b", re.I)
_N_STOPS = re.compile(r"\b(one|two|three|1|2|3)[\s-]?stop(per|s)?\b", re.I)
_STAY_OUT = re.compile(r"\bstay(ed|ing)?\s+out\b", re.I)
_EXPLAIN = re.compile(r"\b(explain|assumptions?|how does (it|this) work)\b", re.I)
_BEST = re.compile(r"\bbest\b", re.I)
_AT_LAP = re.compile(r"\b(?:at|on|after)?\s*lap\s+(\d{1,3})\b", re.I)
_NUM = {"one": 1, "two": 2, "three": 3, "1": 1, "2": 2, "3": 3}


@dataclass(frozen=True, slots=True)
class LabAsk:
    """The strategy words of a what-if: pit laps with an optional tyre, a number of stops,
    "stayed out", "best", "explain"."""

    stops: tuple[tuple[int, str | None], ...] = ()
    n_stops: int | None = None
    stay_out: bool = False
    best: bool = False
    explain: bool = False


def read_command(text: str | None) -> tuple[LabAsk, str]:
    """`pit 25 hard pit 40 monza 2023 explain` → (the ask, the race text left: "monza 2023")."""
    text = text or ""
    stops = [(int(mt.group(1)), _COMPOUND_WORDS[mt.group(2).lower()] if mt.group(2) else None)
             for mt in _CMD_PIT.finditer(text)]
    rest = _CMD_PIT.sub(" ", text)
    ask = _flags(rest, stops)
    for pat in (_N_STOPS, _STAY_OUT, _EXPLAIN, _BEST):
        rest = pat.sub(" ", rest)
    return ask, " ".join(rest.split())


def read_question(text: str) -> LabAsk:
    """The strategy words of a free question ("pitted on lap 30 for hards", "a one-stop")."""
    stops: list[tuple[int, str | None]] = []
    marks = list(_Q_LAP.finditer(text))
    for k, mt in enumerate(marks):
        tail_end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        comp = _Q_COMP.search(text, mt.end(), tail_end)
        stops.append((int(mt.group(1) or mt.group(2)), _COMPOUND_WORDS[comp.group(1).lower()] if comp else None))
    if not marks and (comp := _Q_COMP.search(text)):
        stops = []  # a tyre without a lap: "what if he had used hards" needs a lap; asked below
    return _flags(text, stops)


def _flags(text: str, stops: list[tuple[int, str | None]]) -> LabAsk:
    n = _N_STOPS.search(text)
    return LabAsk(
        stops=tuple(sorted(set(stops))), n_stops=_NUM[n.group(1).lower()] if n else None,
        stay_out=bool(_STAY_OUT.search(text)), best=bool(_BEST.search(text)),
        explain=bool(_EXPLAIN.search(text)),
    )


# ---------------------------------------------------------------------------- checks


def _race_name(model: RaceModel) -> str:
    return f"{model.year} {model.event}"


def check_driver(model: RaceModel, code: str | None, name: str = "") -> str:
    if not code or code.upper() not in model.codes:
        raise UserError(NOT_IN_RACE.format(name=name or code or "That driver", race=_race_name(model),
                                           codes=", ".join(model.codes)))
    return code.upper()


def _status(data: RaceData, code: str) -> str:
    entry = next((c for c in data.classification if c.code == code), None)
    return (entry.status if entry and entry.status else "retired").lower()


def check_laps(model: RaceModel, data: RaceData, code: str, laps: list[int]) -> None:
    """Pit laps inside the race and before the driver's retirement."""
    race = _race_name(model)
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


def alternative(model: RaceModel, data: RaceData, code: str, ask: LabAsk) -> tuple[Strategy, str]:
    """The strategy the fan asks about, and how it was read (said in the reply).

    One pit lap named: the actual stop nearest to it moves there (one decision changes);
    more: they replace the stops. A missing tyre keeps the one fitted at that stop.
    "Stayed out": the stop under a safety car (else the last) is dropped, when two dry
    compounds remain.
    """
    actual = model.actual[code]
    race = _race_name(model)
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


# ---------------------------------------------------------------------------- wording


def pct(p: float, runs: int) -> str:
    """"23% (22–24%)": a probability with its 80% Monte Carlo interval (Wilson); one decimal
    under 10% so a small chance never reads as "1% (1–1%)"."""
    lo, hi = wilson(p, runs)
    digits = 1 if hi < 0.1 else 0
    return f"{100 * p:.{digits}f}% ({100 * lo:.{digits}f}–{100 * hi:.{digits}f}%)"


def wilson(p: float, n: int, z: float = 1.2816) -> tuple[float, float]:
    """Wilson score interval (80% by default) of a proportion `p` seen in `n` runs."""
    if n <= 0:
        return 0.0, 1.0
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def _signed(x: float, unit: str = "", digits: int = 1) -> str:
    if round(x, digits) == 0:
        return f"{0:.{digits}f}{unit}"
    return f"{x:+.{digits}f}{unit}".replace("-", "−")


def _position_line(positions: np.ndarray) -> str:
    lo, hi = np.percentile(positions, [10, 90])
    return f"expected P{positions.mean():.1f} (80%: P{lo:.0f}–P{hi:.0f})"


def _top_positions(wi: WhatIf) -> str:
    alt, act = wi.distribution("alt"), wi.distribution("actual")
    order = [k for k in np.argsort(-(alt + act)) if alt[k] + act[k] >= 0.02][:6]
    return " · ".join(f"P{k + 1} {100 * alt[k]:.0f}%/{100 * act[k]:.0f}%" for k in sorted(order))


def whatif_text(model: RaceModel, wi: WhatIf, how: str) -> str:
    """The what-if answer (Markdown)."""
    n = wi.runs
    official = int(model.official_position[model.index(wi.code)])
    verdict = ("gains" if wi.gain_positions > 0.05 else "loses" if wi.gain_positions < -0.05 else "changes little")
    lines = [
        f"**What if: {wi.code} {wi.alt.format()} instead of {wi.actual.format()} — {_race_name(model)}**",
        f"Simulated {n:,} times with the same model and the same random draws, the race's real "
        "safety cars and retirements; the actual strategy is simulated too, so the two compare like for like.",
        f"• **Alternative {wi.alt.format()}**: {_position_line(wi.positions_alt)}; "
        f"P(win) {pct(wi.p_win_alt, n)}, P(podium) {pct(wi.p_podium_alt, n)}",
        f"• **Actual {wi.actual.format()}** (simulated): {_position_line(wi.positions_actual)}; "
        f"P(win) {pct(wi.p_win_actual, n)}, P(podium) {pct(wi.p_podium_actual, n)}",
        f"• The alternative {verdict}: {_signed(wi.gain_positions, ' places')} on average "
        f"(80%: {_signed(wi.gain_positions_80[0], '', 0)} to {_signed(wi.gain_positions_80[1], '', 0)}), "
        f"{_signed(wi.gain_s, ' s')} (80%: {_signed(wi.gain_s_80[0], ' s')} to {_signed(wi.gain_s_80[1], ' s')}) "
        "— positive = the alternative is better",
    ]
    if wi.decisive_laps:
        lines.append(f"• Decisive laps: {', '.join(map(str, sorted(wi.decisive_laps)))}")
    lines.append(f"• Finishing positions, alternative/actual: {_top_positions(wi)}")
    if official:
        lines.append(f"_Official result: P{official}._")
    lines.append(INTERVALS)
    lines.append(UNDERSTOOD_FOOT.format(what=how) + " Model assumptions: add `explain`.")
    return "\n".join(lines)


def best_text(model: RaceModel, code: str, ranked: list[RankedStrategy], runs: int) -> str:
    actual = model.actual[code]
    lines = [f"**Best strategies for {code} — {_race_name(model)}** (actual: {actual.format()})",
             f"One- and two-stop plans on the race's compounds, {runs:,} simulated races each, "
             "safety cars drawn from the circuit's history:"]
    for i, r in enumerate(ranked, 1):
        lo, hi = r.position_80
        lines.append(f"{i}. **{r.strategy.format()}** — expected P{r.mean_position:.1f} (80%: P{lo:.0f}–P{hi:.0f}); "
                     f"P(win) {pct(r.p_win, runs)}, P(podium) {pct(r.p_podium, runs)}")
    if not ranked:
        lines.append("No legal one- or two-stop plan was found.")
    lines.append(INTERVALS)
    lines.append("_Ranked by expected position, then race time. Model assumptions: add `explain`._")
    return "\n".join(lines)


def explain_text(model: RaceModel) -> str:
    return "\n".join([f"**How the {_race_name(model)} model works**",
                      *(f"• {line}" for line in model.assumptions())])


def battle_text(model: RaceModel, fc: BattleForecast, note: str = "") -> str:
    age = abs(fc.tyre_age_delta)
    laps_word = "lap" if age == 1 else "laps"
    younger = (f"on tyres {age} {laps_word} younger" if fc.tyre_age_delta > 0
               else f"on tyres {age} {laps_word} older" if fc.tyre_age_delta < 0 else "on tyres of the same age")
    quicker = "quicker" if fc.pace_delta_s >= 0 else "slower"
    if fc.laps_to_drs is None:
        drs = "not closing: no DRS range in sight at this pace"
    elif fc.laps_to_drs <= 0:
        drs = "already within DRS range (1 s)"
    else:
        drs = f"within DRS range (1 s) in about {fc.laps_to_drs:.0f} lap{'s' if round(fc.laps_to_drs) != 1 else ''}"
    lines = [
        f"**Battle forecast: {fc.chaser} chasing {fc.leader} after lap {fc.lap} — {_race_name(model)}**",
        f"• Gap {fc.gap_s:.1f} s; {fc.chaser} is {abs(fc.pace_delta_s):.2f} s a lap {quicker} "
        f"(±{fc.pace_delta_sd_s:.2f} s), corrected for fuel, tyre age and compound, {younger}",
        f"• {drs}",
        f"• P(pass within 5 laps) {100 * fc.p_pass_5:.0f}%, within 10 laps {100 * fc.p_pass_10:.0f}%; "
        f"confidence {fc.confidence}",
        f"_{fc.line}_",
    ]
    if note:
        lines.append(f"_{note}_")
    return "\n".join(lines)


def distribution_plot(model: RaceModel, wi: WhatIf) -> Plot:
    """The two finishing-position distributions (percent of runs per position) as a chart."""
    from bot.charts.plot import Line, Panel

    alt, act = 100 * wi.distribution("alt"), 100 * wi.distribution("actual")
    used = [k for k in range(len(alt)) if alt[k] + act[k] > 0]
    lo, hi = (used[0], used[-1]) if used else (0, len(alt) - 1)
    xs = tuple(float(k + 1) for k in range(lo, hi + 1))
    lines = (
        Line(f"Alternative {wi.alt.format()}", "#4fc3f7", xs, tuple(round(float(alt[k]), 2) for k in range(lo, hi + 1)),
             point_colours=("#4fc3f7",) * len(xs)),
        Line(f"Actual {wi.actual.format()} (simulated)", "#ffb000", xs,
             tuple(round(float(act[k]), 2) for k in range(lo, hi + 1)), dashed=True,
             point_colours=("#ffb000",) * len(xs)),
    )
    panel = Panel(title=f"{wi.code}: finishing position over {wi.runs:,} simulated races", xlabel="Finishing position",
                  ylabel="% of simulated races", lines=lines, xticks=xs)
    return Plot(title=f"What if — {wi.code}, {_race_name(model)}", panels=(panel,),
                footnote="Race Lab Monte Carlo: same model, same random draws, the race's real safety cars")


async def with_chart(ctx: CommandContext, reply: Reply, model: RaceModel, wi: WhatIf) -> Reply:
    """The reply with the distributions drawn, when charts exist; the text stands alone otherwise."""
    charts = ctx.deps.charts
    if charts is None:
        return reply
    try:
        plot = distribution_plot(model, wi)
        alt = (f"Line chart: {wi.code}'s finishing-position distribution with {wi.alt.format()} "
               f"and with the actual {wi.actual.format()}, {_race_name(model)}.")
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
    best = ask.best or plan.focus == "best_strategy" or (ask.n_stops is not None and not ask.stops)
    runs = lab.best_runs if best else lab.runs
    what = (f"Simulating {'strategies for ' + str(driver.code) if best else str(driver.code) + '’s what-if'} "
            f"at the {ev.year} {ev.name} ({runs:,} races{' per plan' if best else ''})")

    async def work() -> Reply:
        model = await lab.model(ev.year, ev.round)
        code = check_driver(model, driver.code, driver.name)
        if ask.explain:
            return Reply(text=explain_text(model))
        if best:
            ranked = await lab.best(ev.year, ev.round, code, top=20 if ask.n_stops else 5)
            if ask.n_stops is not None:
                fits = [r for r in ranked if r.strategy.n_stops == ask.n_stops]
                if fits and fits[0].strategy != model.actual[code]:
                    wi = await lab.whatif(ev.year, ev.round, code, fits[0].strategy)
                    how = (f"the best {ask.n_stops}-stop plan the search found for {code}, "
                           f"{fits[0].strategy.format()}, against his actual {model.actual[code].format()}")
                    return await with_chart(ctx, Reply(text=whatif_text(model, wi, how)), model, wi)
                ranked = fits or ranked
            return Reply(text=best_text(model, code, ranked[:5], lab.best_runs))
        data = await lab.race(ev.year, ev.round)
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
                raise UserError(NOT_BEHIND.format(a=a, b=b, lap=data.total_laps * 2 // 3, race=_race_name(model)))
            at, chaser, leader = found
            note = f"Lap {at}: where the two were closest in the last third of the race (name a lap with `lap N`)."
        else:
            if want < 2 or want > model.total_laps:
                raise UserError(LAP_OUTSIDE.format(lap=want, race=_race_name(model), laps=model.total_laps,
                                                   last=model.total_laps).replace("pit on", "ask about"))
            at = want
            times = {r.code: r.time_s for r in data.laps if r.lap == want and r.code in (a, b) and r.time_s is not None}
            if len(times) < 2:
                raise UserError(NOT_BEHIND.format(a=a, b=b, lap=want, race=_race_name(model)).replace("after", "on"))
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
    "LabAsk", "alternative", "battle_answer", "battle_lap", "battle_text", "best_text", "closest_lap",
    "explain_text", "pct", "read_command", "read_question", "whatif_answer", "whatif_text", "wilson",
    "with_placeholder",
]
