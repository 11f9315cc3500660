"""Race Lab replies in words: every user-visible string and the text of each answer (what-if,
best strategy, explain, battle forecast) and the what-if chart's data (`bot/lab_answer.py`
runs the flows). Probabilities always carry their interval; no certainty words.
"""

from __future__ import annotations

import math

import numpy as np

from bot.charts.plot import Line, Panel, Plot
from bot.lab.battle import DRAWS as BATTLE_DRAWS  # the forecast's Monte Carlo draws (its interval)
from bot.lab.types import BattleForecast, RaceModel, RankedStrategy, Strategy, WhatIf

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
NO_STOP = "{code} did not stop at the {race} ({s}): there is no stop to move. Name a pit lap, e.g. `pit 25 hard`."
NO_SUCH_STOP = "{code} stopped {n} time(s) at the {race} ({stops}): there is no stop number {k}."
NOT_A_STOP = ("I read this as a question about {code}'s stop on lap {lap} at the {race}, but {code} stopped on "
              "{stops}. Ask about one of those, e.g. \"was pitting on lap {first} a mistake for {code}\".")
ASK_WHICH_STOP = ("I understood: {code}'s stop moved {what} at the {race}, but {code} stopped {n} times ({stops}). "
                  "Which stop? E.g. \"what if {code}'s {ordinal} stop was {what}\" or `/f1 whatif {code} pit {lap}`.")
MOVE_CROSSES = ("{code}'s stop on lap {old} moved to lap {lap} would {why} at the {race}; name the laps instead, "
                "e.g. `/f1 whatif {code} pit {lap}`.")
NO_WINDOW = "No lap {way} than {code}'s stop on lap {lap} is possible at the {race} (laps 1–{last}, one stop a lap)."
WINDOW_TRIED = ("• Tried: {what}, same tyre, {runs:,} simulated races each (places gained on average, "
                "positive = better than the actual): {rows}")
WINDOW_NONE_BETTER = "• None of the tried laps did better on average than the actual stop."
STOPS_SEARCHED = ("I understood: {code} with {want} stop(s) at the {race} ({code} made {n}); the strategy "
                  "search covers one- and two-stop plans. Try `/f1 whatif {code} best` or name the pit laps.")
UNDERSTOOD_FOOT = "_Read as: {what}._"
INTERVALS = ("_Probabilities in brackets: 80% interval of the simulation; positions and gains: the "
             "range of the middle 80% of runs. A model, not a verdict: it knows what the data knows._")


def race_name(model: RaceModel) -> str:
    return f"{model.year} {model.event}"


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


def window_lines(scored: list[tuple[Strategy, float, float]], what: str, runs: int) -> list[str]:
    """The laps tried for "should he have pitted earlier", with each one's mean gain."""
    rows = " · ".join(f"{s.format()} {_signed(g, '', 1)}" for s, g, _ in scored)
    lines = [WINDOW_TRIED.format(what=what, runs=runs, rows=rows)]
    if max(g for _, g, _ in scored) <= 0.05:
        lines.append(WINDOW_NONE_BETTER)
    return lines


def whatif_text(model: RaceModel, wi: WhatIf, how: str, extra: list[str] | None = None) -> str:
    """The what-if answer (Markdown); `extra` lines (the laps tried) before the footnotes."""
    n = wi.runs
    official = int(model.official_position[model.index(wi.code)])
    verdict = ("gains" if wi.gain_positions > 0.05 else "loses" if wi.gain_positions < -0.05 else "changes little")
    lines = [
        f"**What if: {wi.code} {wi.alt.format()} instead of {wi.actual.format()} — {race_name(model)}**",
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
    lines.extend(extra or ())
    if official:
        lines.append(f"_Official result: P{official}._")
    lines.append(INTERVALS)
    lines.append(UNDERSTOOD_FOOT.format(what=how) + " Model assumptions: add `explain`.")
    return "\n".join(lines)


def best_text(model: RaceModel, code: str, ranked: list[RankedStrategy], runs: int) -> str:
    actual = model.actual[code]
    lines = [f"**Best strategies for {code} — {race_name(model)}** (actual: {actual.format()})",
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
    return "\n".join([f"**How the {race_name(model)} model works**",
                      *(f"• {line}" for line in model.assumptions())])


# The passing rate the battle forecast weighed (on-track passes so far and earlier races here).
PASSING_LINE = ("• Passing: {rate:.1f} on-track passes per 100 green laps of a car (this race up to "
                "lap {lap}, weighed with earlier stored races here)")


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
        f"**Battle forecast: {fc.chaser} chasing {fc.leader} after lap {fc.lap} — {race_name(model)}**",
        f"• Gap {fc.gap_s:.1f} s; {fc.chaser} is {abs(fc.pace_delta_s):.2f} s a lap {quicker} "
        f"(±{fc.pace_delta_sd_s:.2f} s), corrected for fuel, tyre age and compound, {younger}",
        f"• {drs}",
        f"• P(pass within 5 laps) {pct(fc.p_pass_5, BATTLE_DRAWS)}, within 10 laps "
        f"{pct(fc.p_pass_10, BATTLE_DRAWS)}; confidence {fc.confidence}",
        f"_{fc.line}_",
    ]
    if fc.pass_rate is not None:
        lines.insert(3, PASSING_LINE.format(rate=fc.pass_rate, lap=fc.lap))
    if note:
        lines.append(f"_{note}_")
    return "\n".join(lines)


def distribution_plot(model: RaceModel, wi: WhatIf) -> Plot:
    """The two finishing-position distributions (percent of runs per position) as a chart."""
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
    return Plot(title=f"What if — {wi.code}, {race_name(model)}", panels=(panel,),
                footnote="Race Lab Monte Carlo: same model, same random draws, the race's real safety cars")


__all__ = [
    "INTERVALS", "SIMULATING", "battle_text", "best_text", "distribution_plot", "explain_text", "pct",
    "race_name", "whatif_text", "wilson", "window_lines",
]
