"""Forecasts as text: race and title odds from `bot.predict.types` (pure, no I/O).

Chat replies (`bot.forecast_answer`), `/f1 predict`, `/f1 odds title` and Track Pulse
(the championship highlight's odds line, the pre-race preview) all read the same
dataclasses, so the numbers are written one way everywhere: percentages with their 80%
interval, the model's update time and the data it has seen, and never a certainty word —
a forecast says "chance", not "will" (the tests forbid the words).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.predict.types import DriverForecast, RaceForecast, TitleEntry, TitleForecast

Market = Literal["win", "podium", "points", "one_two", "double_podium"]
BOTH_CARS: tuple[Market, ...] = ("one_two", "double_podium")  # markets of a team's two cars together

# --------------------------------------------------------------------------- user strings
STAGE_WORDS = {
    "pre_quali": "before qualifying (from the ratings)",
    "after_quali": "after qualifying (with the grid)",
}
RACE_HEAD = "**{year} {event} — forecast {stage}**"
PAST_HEAD = ("**{year} {event} — the forecast made before the race** "
             "(walk-forward: data through {through} only; this is not the result)")
DRIVER_LINE = ("{i}. **{name}** ({code}, {team}){grid} — win {win}, podium {podium}, points {points}")
FOCUS_LINE = "**{name}** ({code}, {team}): {what} {p}; expected finish P{exp:.0f} (80%: P{lo}–P{hi})."
FOCUS_WHAT = {"win": "chance to win", "podium": "chance of a podium", "points": "chance to score points",
              "one_two": "chance to win", "double_podium": "chance of a podium"}
TEAM_WIN = "**{team}** win (either car): {p} — {cars}."
TEAM_ANY = "**{team}**, at least one car {what}: {p} — {cars}."
TEAM_WHAT = {"podium": "on the podium", "points": "in the points"}
TEAM_BOTH = "**{team}** {what}: {p} — counted in the same simulated races (each car: {cars})."
BOTH_WHAT = {"one_two": "one-two (first and second)", "double_podium": "both cars on the podium"}
TOP_BOTH = 3  # teams listed when a one-two / double podium is asked with no team named
NOT_ENTERED = "{name} is not on the entry list I have for the {year} {event}."
DRIVES = "_What drives it: {note}_"
FOOTER = ("_Model updated {updated} · data through {through} · {runs:,} simulated {what} · "
          "ranges are 80% intervals; chances, not certainties._")
NO_DATA_YET = "no race yet"
TITLE_HEAD = "**{year} {word} title odds** after round {round} ({left})"
TITLE_LEFT = "{rounds} round{rs} and {sprints} sprint{ss} left"
TITLE_SPRINTS_UNKNOWN = ("{rounds} round{rs} left; the stored calendar does not say which of them are sprint "
                         "weekends, so no sprint is simulated")
TITLE_DECIDED = ("The {year} {word} title is decided: **{champion}** is champion "
                 "(after round {round}).")
TITLE_LINE = "{i}. **{name}**{key} — {odds} · {pts} pts"
TITLE_REACH = " · can still reach {max} pts"
OUT_OF_IT = "out of it (mathematically)"
MAGIC = ("Magic number for {leader}: **{n}** — once {leader}'s points gained plus {rival}'s points "
         "missed from here add up to more than {n}, the title is settled ({rival} can still reach "
         "{reach} pts; a tie goes to countback).")
ODDS_LINE = "Title odds: {items}"
KIND_WORD = {"drivers": "drivers'", "constructors": "constructors'"}

TOP_RACE = 8  # contenders listed in a race forecast
TOP_TITLE = 8  # contenders listed in title odds


def pct(p: float, *, settled: bool = False) -> str:
    """0.623 → "62%". Only a `settled` outcome (a decided title, one ruled out by the maths)
    shows "0%" or "100%": a simulation that never saw it happen is "<1%", not impossible."""
    if settled and p <= 0.0:
        return "0%"
    if settled and p >= 1.0:
        return "100%"
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{round(p * 100)}%"


def interval(iv: tuple[float, float]) -> str:
    """"(48–75%)"; an interval that rounds to one end says so ("(80%: <1%)")."""
    lo, hi = (max(0, min(100, round(x * 100))) for x in iv)
    if hi == 0:
        return "(80%: <1%)"
    if lo == 100:
        return "(80%: >99%)"
    return f"({lo}–{hi}%)"


def chance(p: float, iv: tuple[float, float]) -> str:
    """"62% (48–75%)": the chance with its 80% interval."""
    return f"{pct(p)} {interval(iv)}"


def through(data_through: tuple[int, int] | None, name: str | None = None) -> str:
    """"2023 round 13 (Dutch Grand Prix)": the last race the model has seen."""
    if not data_through:
        return NO_DATA_YET
    return f"{data_through[0]} round {data_through[1]}" + (f" ({name})" if name else "")


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _market(d: DriverForecast, market: Market) -> tuple[float, tuple[float, float]]:
    if market == "podium":
        return d.p_podium, d.p_podium_interval
    if market == "points":
        return d.p_points, d.p_points_interval
    return d.p_win, d.p_win_interval


def is_past_forecast(fc: RaceForecast) -> bool:
    """A forecast of a race the model has not folded in yet, asked after it was run, is the
    walk-forward one; the caller knows whether the race was run (`past`)."""
    return fc.data_through is None or fc.data_through < (fc.year, fc.round)


@dataclass(frozen=True, slots=True)
class Focus:
    """What a question singled out: drivers (codes) and teams (constructor refs, names)."""

    codes: tuple[str, ...] = ()
    teams: tuple[tuple[str, str], ...] = ()
    market: Market = "win"


def race_text(fc: RaceForecast, focus: Focus = Focus(), *, past: bool = False, top: int = TOP_RACE,
              through_name: str | None = None) -> str:
    """The race forecast: header, the named drivers or teams first, the top contenders,
    what drives it, and when the model was updated."""
    if past:
        head = PAST_HEAD.format(year=fc.year, event=fc.event_name, through=through(fc.data_through, through_name))
    else:
        head = RACE_HEAD.format(year=fc.year, event=fc.event_name, stage=STAGE_WORDS.get(fc.stage, fc.stage))
    lines = [head]
    by_code = {d.code: d for d in fc.drivers}
    if focus.market in BOTH_CARS:
        lines += both_cars_lines(fc, focus)
        focus = Focus()  # the drivers' lines below are the usual ones
    for code in focus.codes:
        d = by_code.get(code)
        if d is None:
            lines.append(NOT_ENTERED.format(name=code, year=fc.year, event=fc.event_name))
            continue
        p, iv = _market(d, focus.market)
        lines.append(FOCUS_LINE.format(name=d.name, code=d.code, team=d.team, what=FOCUS_WHAT[focus.market],
                                       p=chance(p, iv), exp=d.expected_position,
                                       lo=d.position_interval[0], hi=d.position_interval[1]))
    for ref, name in focus.teams:
        lines.append(team_line(fc, ref, name, focus.market))
    for i, d in enumerate(fc.drivers[:top], 1):
        grid = f", P{d.grid} on the grid" if d.grid else ""
        lines.append(DRIVER_LINE.format(i=i, name=d.name, code=d.code, team=d.team, grid=grid,
                                        win=chance(d.p_win, d.p_win_interval),
                                        podium=chance(d.p_podium, d.p_podium_interval),
                                        points=chance(d.p_points, d.p_points_interval)))
    if fc.drivers_note:
        lines.append(DRIVES.format(note=fc.drivers_note))
    lines.append(FOOTER.format(updated=stamp(fc.updated_at), through=through(fc.data_through, through_name),
                               runs=fc.runs, what="races"))
    return "\n".join(lines)


def team_chance(fc: RaceForecast, ref: str, market: Market
                ) -> tuple[float, tuple[float, float], list[DriverForecast]]:
    """(chance, 80% interval, cars) for "at least one of the team's cars" in `market`.

    The Predictor counts both cars in the same simulated races (`RaceForecast.teams`); a
    win is one car's, so its chance is the sum of the cars'.
    """
    cars = [d for d in fc.drivers if d.constructor_ref == ref]
    team = next((t for t in fc.teams if t.constructor_ref == ref), None)
    if team is None:
        return 0.0, (0.0, 0.0), cars
    if market == "win":
        return team.p_win, team.p_win_interval, cars
    if market == "podium":
        return team.p_podium, team.p_podium_interval, cars
    return team.p_points, team.p_points_interval, cars


def both_cars_lines(fc: RaceForecast, focus: Focus) -> list[str]:
    """A one-two / double podium: of the teams named, else of the drivers' teams, else the
    likeliest teams."""
    refs = [(ref, name) for ref, name in focus.teams]
    by_code = {d.code: d for d in fc.drivers}
    for code in focus.codes:
        d = by_code.get(code)
        if d is not None and d.constructor_ref not in {r for r, _ in refs}:
            refs.append((d.constructor_ref, d.team))
    if not refs:
        key = (lambda t: t.p_one_two) if focus.market == "one_two" else (lambda t: t.p_double_podium)
        refs = [(t.constructor_ref, t.team) for t in sorted(fc.teams, key=key, reverse=True)[:TOP_BOTH]]
    out = []
    for ref, name in refs:
        team = next((t for t in fc.teams if t.constructor_ref == ref), None)
        cars = [d for d in fc.drivers if d.constructor_ref == ref]
        if team is None or not cars:
            out.append(NOT_ENTERED.format(name=name, year=fc.year, event=fc.event_name))
            continue
        if focus.market == "one_two":
            p, iv, each = team.p_one_two, team.p_one_two_interval, [f"{d.code} win {pct(d.p_win)}" for d in cars]
        else:
            p, iv = team.p_double_podium, team.p_double_podium_interval
            each = [f"{d.code} podium {pct(d.p_podium)}" for d in cars]
        out.append(TEAM_BOTH.format(team=name, what=BOTH_WHAT[focus.market], p=chance(p, iv), cars=", ".join(each)))
    return out


def team_line(fc: RaceForecast, ref: str, name: str, market: Market) -> str:
    p, iv, cars = team_chance(fc, ref, market)
    if not cars:
        return NOT_ENTERED.format(name=name, year=fc.year, event=fc.event_name)
    each = ", ".join(f"{d.code} {pct(_market(d, market)[0])}" for d in cars)
    template = TEAM_WIN if market == "win" else TEAM_ANY
    return template.format(team=name, what=TEAM_WHAT.get(market, ""), p=chance(p, iv), cars=each)


def title_text(tf: TitleForecast, named: Iterable[str] = (), *, top: int = TOP_TITLE,
               through_name: str | None = None) -> str:
    """Title odds: each contender's chance with its interval, points and the most they can
    still reach; an entry that cannot win says so; a decided season says who won."""
    word = KIND_WORD.get(tf.kind, tf.kind)
    by_key = {e.key: e for e in tf.entries}
    if tf.decided:
        champ = by_key.get(tf.champion or "")
        lines = [TITLE_DECIDED.format(year=tf.year, word=word, champion=champ.name if champ else tf.champion,
                                      round=tf.after_round)]
    else:
        rs = "s" if tf.rounds_left != 1 else ""
        left = (TITLE_SPRINTS_UNKNOWN.format(rounds=tf.rounds_left, rs=rs) if tf.sprints_unknown else
                TITLE_LEFT.format(rounds=tf.rounds_left, rs=rs, sprints=tf.sprints_left,
                                  ss="s" if tf.sprints_left != 1 else ""))
        lines = [TITLE_HEAD.format(year=tf.year, word=word, round=tf.after_round, left=left)]
    wanted = [k for k in named if k in by_key]
    shown = list(tf.entries[:top]) + [by_key[k] for k in wanted if by_key[k] not in tf.entries[:top]]
    for i, e in enumerate(shown, 1):
        lines.append(_title_line(i, e, tf))
    magic = magic_number(tf)
    if magic is not None:
        leader, rival, n = magic
        lines.append(MAGIC.format(leader=_short(leader, tf), rival=_short(rival, tf), n=_pts(n),
                                  reach=_pts(rival.max_points)))
    lines.append(FOOTER.format(updated=stamp(tf.updated_at), through=through((tf.year, tf.after_round), through_name),
                               runs=tf.runs, what="seasons"))
    return "\n".join(lines)


def _title_line(i: int, e: TitleEntry, tf: TitleForecast) -> str:
    key = f" ({e.key})" if tf.kind == "drivers" and e.key != e.name else ""
    if not e.can_win:
        odds = OUT_OF_IT
    elif tf.decided:
        odds = pct(1.0 if e.key == tf.champion else 0.0, settled=True)
    else:
        odds = chance(e.p_title, e.p_title_interval)
    line = TITLE_LINE.format(i=i, name=e.name, key=key, odds=odds, pts=_pts(e.points))
    if e.can_win and not tf.decided:
        line += TITLE_REACH.format(max=_pts(e.max_points))
    return line


def magic_number(tf: TitleForecast) -> tuple[TitleEntry, TitleEntry, float] | None:
    """(leader, closest rival, N): the leader is champion once his points gained plus the rival's
    points missed exceed N = the rival's reachable maximum minus the leader's points (the
    sports "magic number"; every other rival can reach less, so this one decides it).
    None when decided or nobody leads alone."""
    if tf.decided or len(tf.entries) < 2:
        return None
    ranked = sorted(tf.entries, key=lambda e: -e.points)
    leader = ranked[0]
    rivals = [e for e in ranked[1:] if e.can_win]
    if not rivals or ranked[1].points >= leader.points:
        return None
    rival = max(rivals, key=lambda e: (e.max_points, e.points))
    return leader, rival, rival.max_points - leader.points


def odds_line(tf: TitleForecast, named: Sequence[str] = (), *, limit: int = 4) -> str:
    """One line for a championship message: "Title odds: VER 92% (88–95%), NOR 6% (3–10%)";
    "" when the title is decided (the message says who won, not odds of 100%)."""
    alive = [e for e in tf.entries if e.can_win and e.p_title > 0]
    if tf.decided or not alive:
        return ""
    picked = alive[:limit] + [e for e in alive[limit:] if e.key in named]
    items = ", ".join(f"{_short(e, tf)} {chance(e.p_title, e.p_title_interval)}" for e in picked)
    return ODDS_LINE.format(items=items)


def _short(e: TitleEntry, tf: TitleForecast) -> str:
    return e.key if tf.kind == "drivers" else e.name


def _pts(p: float) -> str:
    return str(int(p)) if float(p).is_integer() else f"{p:g}"
