"""Read what each chart kind needs from the store and turn it into a `Plot`.

Everything async and cheap lives here; nothing here draws. Each kind returns the
plot, its alt text, its filename parts and any notes for the reader.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.charts.plot import COMPOUND_COLOURS, Bar, Box, Line, Panel, Plot
from bot.errors import UserError
from storage import queries as q
from storage.chart_data import ChartLap
from storage.store import Store

MAX_LINES = 6  # drivers on a line chart before it stops being readable
DEFAULT_GREY = "#9a9a9a"
LAP_KINDS = frozenset({"positions", "laptimes", "strategy", "gaps", "distribution"})
_SHADE_LABELS = {"4": "SC", "6": "VSC", "5": "Red flag"}


@dataclass(frozen=True, slots=True)
class Request:
    """The fields of `ChartRequest` (kept apart so this module does not import the API)."""

    kind: str
    year: int | None
    round: int | None
    session: str
    drivers: tuple[str, ...]
    laps: tuple[int, int] | None
    top_n: int | None
    after_round: int | None
    team: str | None


@dataclass(frozen=True, slots=True)
class Gathered:
    plot: Plot
    alt: str
    name_parts: tuple[str, ...]  # filename: kind-<parts>.png
    title: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Race:
    session: q.SessionInfo
    classification: q.Classification | None
    colours: dict[str, str]  # driver code -> team colour
    teams: dict[str, str | None]  # driver code -> constructor ref
    order: tuple[str, ...]  # driver codes in classification order

    @property
    def provisional(self) -> bool:
        return bool(self.classification and self.classification.provisional)


def secs(ms: float) -> float:
    return ms / 1000.0


def fmt_lap(ms: int) -> str:
    m, s = divmod(ms / 1000.0, 60)
    return f"{int(m)}:{s:06.3f}"


def _title(session: q.SessionInfo, what: str, provisional: bool) -> str:
    prov = " (provisional)" if provisional else ""
    return f"{what} · {session.event.year} {session.event.name} · {session.name}{prov}"


def _colour(hexcode: str | None) -> str:
    return f"#{hexcode.lstrip('#')}" if hexcode else DEFAULT_GREY


def _team_styles(
    codes: Sequence[str], teams: dict[str, str | None], colours: dict[str, str]
) -> tuple[dict[str, str], dict[str, bool]]:
    """Colour by team; the second car of a team seen in `codes` order is dashed."""
    col: dict[str, str] = {}
    dashed: dict[str, bool] = {}
    seen: set[str] = set()
    for c in codes:
        team = teams.get(c)
        col[c] = _colour(colours.get(team)) if team else DEFAULT_GREY
        dashed[c] = team is not None and team in seen
        if team is not None:
            seen.add(team)
    return col, dashed


def _pick(
    asked: tuple[str, ...], known: Sequence[str], where: str, *, default: Sequence[str],
    cap: int | None = MAX_LINES,
) -> tuple[list[str], list[str]]:
    """The drivers to draw and notes: unknown codes refused, more than `cap` cut."""
    codes = [c.upper() for c in asked]
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise UserError(f"No driver {', '.join(unknown)} in the {where}.")
    chosen = list(dict.fromkeys(codes)) or list(default)
    notes: list[str] = []
    if cap is not None and len(chosen) > cap:
        notes.append(f"showing the first {cap} of {len(chosen)} drivers")
        chosen = chosen[:cap]
    return chosen, notes


class Gatherer:
    """Reads one chart's data from `store`; built per request (holds nothing between)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def gather(self, r: Request) -> Gathered:
        kinds: dict[str, Callable[[Request], Awaitable[Gathered]]] = {
            "positions": self._positions, "laptimes": self._laptimes, "strategy": self._strategy,
            "gaps": self._gaps, "distribution": self._distribution, "quali": self._quali,
            "points": self._points, "pitstops": self._pitstops, "teammates": self._teammates,
        }
        return await kinds[r.kind](r)

    # ------------------------------------------------------------------ races

    async def _event(self, r: Request, *, laps: bool, session_type: str) -> q.EventInfo:
        s = self.store
        if r.round is None:
            ev = (await s.last_event_with_laps(year=r.year) if laps
                  else await s.last_event_with_results(year=r.year, session_type=session_type))
            if ev is None:
                what = "lap data" if laps else "results"
                raise UserError(f"No race{f' in {r.year}' if r.year else ''} with {what} in the store.")
            return ev
        year = r.year if r.year is not None else await s.latest_season_with_results()
        ev = await s.event_by_round(year or 0, r.round) if year else None
        if ev is None:
            raise UserError(f"No race {year} round {r.round} in the store.")
        return ev

    async def _race(self, r: Request, *, laps: bool, session_type: str | None = None) -> _Race:
        st = session_type or r.session.upper()
        ev = await self._event(r, laps=laps, session_type=st)
        session = await self.store.session_for(ev.id, st)
        if session is None:
            raise UserError(f"The {ev.label} has no {q.SESSION_TYPES.get(st, st)} session in the store.")
        if laps and not await self.store.has_laps(session.id):
            recent = await self.store.races_with_laps(limit=3)
            names = ", ".join(e.label for e in recent) or "none yet"
            raise UserError(f"The {ev.label} has no lap data (only results). Races with lap data: {names}.")
        cls = await self.store.results(session.id)
        rows = cls.rows if cls else ()
        order = tuple(row.driver.short for row in rows)
        teams = {row.driver.short: row.constructor_ref for row in rows}
        colours, _ = _team_styles(order, teams, await self.store.team_colours(ev.year))
        return _Race(session, cls, colours, teams, order)

    async def _laps(self, race: _Race, r: Request) -> dict[str, list[ChartLap]]:
        first, last = r.laps if r.laps else (None, None)
        by: dict[str, list[ChartLap]] = {}
        for lap in await self.store.chart_laps(race.session.id, first=first, last=last):
            by.setdefault(lap.code, []).append(lap)
        if not by:
            raise UserError(f"No laps {first}-{last} in the {race.session.label}.")
        return by

    def _line(self, race: _Race, code: str, xs: Sequence[float], ys: Sequence[float | None],
              drawn: Sequence[str], **kw: object) -> Line:
        """A driver's line in team colour; dashed when a teammate is drawn before him."""
        _, dashed = _team_styles(drawn, race.teams, {})
        return Line(code, race.colours.get(code, DEFAULT_GREY), tuple(xs), tuple(ys),
                    dashed=dashed.get(code, False), **kw)  # type: ignore[arg-type]

    async def _shades(self, race: _Race, lo: int, hi: int) -> tuple[tuple[float, float, str], ...]:
        report = await self.store.flags(race.session.id)
        if report is None:
            return ()
        out = []
        for p in report.periods:
            label = _SHADE_LABELS.get(p.status)
            if label and p.from_lap is not None and p.phase == "race":
                a, b = p.from_lap, p.to_lap if p.to_lap is not None else p.from_lap
                if b >= lo and a <= hi:
                    out.append((float(max(a, lo)), float(min(b, hi)), label))
        return tuple(out)

    # ------------------------------------------------------------------ lap kinds

    async def _positions(self, r: Request) -> Gathered:
        race = await self._race(r, laps=True)
        by = await self._laps(race, r)
        known = [c for c in race.order if c in by] + [c for c in by if c not in race.order]
        codes, notes = _pick(r.drivers, known, race.session.label, default=known,
                             cap=MAX_LINES if r.drivers else None)
        grid = {row.driver.short: row.grid for row in (race.classification.rows if race.classification else ())}
        lines = []
        for c in codes:
            pts = [(float(lap.lap), float(lap.position)) for lap in by.get(c, []) if lap.position]
            if not r.laps and grid.get(c):
                pts.insert(0, (0.0, float(grid[c] or 0)))
            lines.append(self._line(race, c, [p[0] for p in pts], [p[1] for p in pts], codes, end_label=True))
        n = max(len(race.order), len(by))
        # The key fact: who led at the end, and since when without a break.
        leader_by_lap = {lap.lap: lap.code for laps in by.values() for lap in laps if lap.position == 1}
        fact = ""
        if leader_by_lap:
            last = max(leader_by_lap)
            who = leader_by_lap[last]
            since = last
            while since - 1 in leader_by_lap and leader_by_lap[since - 1] == who:
                since -= 1
            fact = f"{who} leads from lap {since} to the end (lap {last})."
        title = _title(race.session, "Position changes", race.provisional)
        panel = Panel("", "Lap (0 = grid)", "Position", lines=tuple(lines), invert_y=True,
                      yticks=tuple(float(i) for i in range(1, n + 1)), ylim=(n + 0.5, 0.5))
        alt = (f"Line chart of race positions lap by lap, {race.session.label}, for "
               f"{_who(codes)}. {fact}")
        return Gathered(Plot(title, (panel,)), alt, _parts(race, codes if r.drivers else (), r), title, tuple(notes))

    async def _laptimes(self, r: Request) -> Gathered:
        race = await self._race(r, laps=True)
        by = await self._laps(race, r)
        known = [c for c in race.order if c in by] + [c for c in by if c not in race.order]
        codes, notes = _pick(r.drivers, known, race.session.label, default=known[:2])
        lines, times = [], []
        used: set[str] = set()
        for c in codes:
            laps = by.get(c, [])
            ys = [secs(lap.lap_time_ms) if lap.lap_time_ms else None for lap in laps]
            comps = [(lap.compound or "UNKNOWN").upper() for lap in laps]
            used.update(comps)
            marks = tuple((float(lap.lap), secs(lap.lap_time_ms)) for lap in laps
                          if lap.pit_in and lap.lap_time_ms)
            lines.append(self._line(race, c, [lap.lap for lap in laps], ys, codes,
                                    point_colours=tuple(COMPOUND_COLOURS.get(x, COMPOUND_COLOURS["UNKNOWN"]) for x in comps),
                                    marks=marks))
            times += [lap.lap_time_ms for lap in laps if lap.lap_time_ms]
        if not times:
            raise UserError(f"No lap times for {_who(codes)} in the {race.session.label}.")
        lo_lap = min(lap.lap for c in codes for lap in by.get(c, [])) if codes else 1
        hi_lap = max(lap.lap for c in codes for lap in by.get(c, [])) if codes else 1
        shades = await self._shades(race, lo_lap, hi_lap)
        med = statistics.median(times)
        ylim = (secs(min(times)) - 0.8, secs(min(max(times), med * 1.12)) + 0.8)
        legend = tuple((k.title(), COMPOUND_COLOURS[k]) for k in COMPOUND_COLOURS if k in used)
        title = _title(race.session, "Lap times", race.provisional)
        panel = Panel("", "Lap", "Lap time (s)", lines=tuple(lines), shades=shades,
                      legend=legend, ylim=ylim)
        best = min((lap for c in codes for lap in by.get(c, []) if lap.lap_time_ms),
                   key=lambda lap: lap.lap_time_ms or 0)
        sc = f" Shaded: {', '.join(sorted({s[2] for s in shades}))} periods." if shades else ""
        alt = (f"Line chart of lap times in seconds, {race.session.label}, laps {lo_lap}-{hi_lap}, for "
               f"{_who(codes)}; dots coloured by tyre compound, pit laps ringed.{sc} Fastest: "
               f"{best.code} {fmt_lap(best.lap_time_ms or 0)} on lap {best.lap}.")
        return Gathered(Plot(title, (panel,)), alt, _parts(race, codes, r), title, tuple(notes))

    async def _strategy(self, r: Request) -> Gathered:
        race = await self._race(r, laps=True)
        stints = await self.store.stints(race.session.id)
        by: dict[str, list[q.StintRow]] = {}
        for s in stints:
            by.setdefault(s.driver.short, []).append(s)
        known = [c for c in race.order if c in by] + [c for c in by if c not in race.order]
        codes, notes = _pick(r.drivers, known, race.session.label, default=known, cap=None)
        bars, used = [], set()
        for c in codes:
            for s in sorted(by[c], key=lambda s: s.stint):
                comp = (s.compound or "UNKNOWN").upper()
                used.add(comp)
                bars.append(Bar(c, float(s.end_lap - s.start_lap + 1), COMPOUND_COLOURS.get(comp, "#8a8a8a"),
                                start=float(s.start_lap - 1), text=str(s.laps), edge=race.colours.get(c),
                                text_inside=True))
        title = _title(race.session, "Tyre strategy", race.provisional)
        legend = tuple((k.title(), COMPOUND_COLOURS[k]) for k in COMPOUND_COLOURS if k in used)
        panel = Panel("", "Lap", "Driver (classification order)", bars=tuple(bars), legend=legend)
        first = codes[0] if codes else ""
        plan = " → ".join((s.compound or "?").title() for s in sorted(by.get(first, []), key=lambda s: s.stint))
        alt = (f"Bar chart of tyre stints by compound for {len(codes)} drivers in classification order, "
               f"{race.session.label}. {first}: {plan}.")
        parts = _parts(race, codes if r.drivers else (), r)
        return Gathered(Plot(title, (panel,)), alt, parts, title, tuple(notes))

    async def _gaps(self, r: Request) -> Gathered:
        race = await self._race(r, laps=True)
        by = await self._laps(race, r)
        known = [c for c in race.order if c in by] + [c for c in by if c not in race.order]
        codes, notes = _pick(r.drivers, known, race.session.label, default=known[:MAX_LINES])
        end = {c: {lap.lap: lap.time_ms for lap in laps if lap.time_ms is not None} for c, laps in by.items()}
        if len(codes) == 2:
            a, b = codes
            laps_ = sorted(set(end.get(a, {})) & set(end.get(b, {})))
            ys = [secs((end[b][n] or 0) - (end[a][n] or 0)) for n in laps_]
            # `a` is the zero line, in its own colour: the gap is read against it.
            lines = [self._line(race, a, laps_, [0.0] * len(laps_), codes), self._line(race, b, laps_, ys, codes)]
            ylabel, what = f"Gap of {b} to {a} (s; above 0 = {b} behind)", f"Gap {b} to {a}"
            fact = f"after lap {laps_[-1]} {b} is {ys[-1]:+.1f} s to {a}." if laps_ else ""
            invert = False
        else:
            all_laps = sorted({n for d in end.values() for n in d})
            lead = {n: min(d[n] for d in end.values() if n in d) for n in all_laps}
            lines = []
            for c in codes:
                xs = [n for n in all_laps if n in end.get(c, {})]
                lines.append(self._line(race, c, xs, [secs((end[c][n] or 0) - lead[n]) for n in xs], codes))
            ylabel, what = "Gap to the leader (s)", "Gap to the leader"
            last = all_laps[-1] if all_laps else 0
            fin = [(secs((end[c][last] or 0) - lead[last]), c) for c in codes if last in end.get(c, {})]
            fact = (f"after lap {last}: " + ", ".join(f"{c} +{g:.1f} s" for g, c in sorted(fin)) + ".") if fin else ""
            invert = True
        title = _title(race.session, what, race.provisional)
        panel = Panel("", "Lap", ylabel, lines=tuple(lines), invert_y=invert)
        alt = f"Line chart of the {what[0].lower()}{what[1:]} lap by lap in seconds, {race.session.label}, for {_who(codes)}; {fact}"
        return Gathered(Plot(title, (panel,)), alt, _parts(race, codes, r), title, tuple(notes))

    async def _distribution(self, r: Request) -> Gathered:
        race = await self._race(r, laps=True)
        by = await self._laps(race, r)
        known = [c for c in race.order if c in by] + [c for c in by if c not in race.order]
        codes, notes = _pick(r.drivers, known, race.session.label, default=known[:10], cap=None)
        boxes = []
        for c in codes:
            # Green-flag racing laps only: no lap 1, no pit in/out laps, track status clear.
            vals = [lap.lap_time_ms for lap in by.get(c, []) if lap.lap_time_ms and lap.lap > 1
                    and not lap.pit_in and not lap.pit_out and (lap.track_status or "1") == "1"]
            if vals:
                med = statistics.median(vals)
                boxes.append(Box(c, race.colours.get(c, DEFAULT_GREY),
                                 tuple(secs(v) for v in vals if v <= med * 1.07)))
        if not boxes:
            raise UserError(f"No green-flag laps for {_who(codes)} in the {race.session.label}.")
        title = _title(race.session, "Lap-time distribution, green-flag laps", race.provisional)
        panel = Panel("", "Driver (classification order)", "Lap time (s)", boxes=tuple(boxes))
        best = min(boxes, key=lambda b: statistics.median(b.values))
        alt = (f"Box plot of green-flag lap times in seconds per driver, {race.session.label}, for "
               f"{_who([b.label for b in boxes])}. Lowest median: {best.label} "
               f"{statistics.median(best.values):.3f} s.")
        return Gathered(Plot(title, (panel,)), alt, _parts(race, codes if r.drivers else (), r), title, tuple(notes))

    # ------------------------------------------------------------------ result kinds

    async def _quali(self, r: Request) -> Gathered:
        st = r.session.upper() if r.session.upper() in ("Q", "SQ") else "Q"
        race = await self._race(r, laps=False, session_type=st)
        rows = [row for row in (race.classification.rows if race.classification else ())]
        best = {row.driver.short: min(t for t in (row.q1_ms, row.q2_ms, row.q3_ms) if t)
                for row in rows if any((row.q1_ms, row.q2_ms, row.q3_ms))}
        if not best:
            raise UserError(f"No qualifying times for the {race.session.label}.")
        known = [c for c in race.order if c in best]
        codes, notes = _pick(r.drivers, [row.driver.short for row in rows], race.session.label,
                             default=known, cap=None)
        codes = [c for c in codes if c in best]
        pole = min(best.values())
        bars = tuple(Bar(c, secs(best[c] - pole), race.colours.get(c, DEFAULT_GREY),
                         text=f"+{secs(best[c] - pole):.3f}" if best[c] != pole else fmt_lap(pole))
                     for c in codes)
        title = _title(race.session, "Gap to pole", race.provisional)
        panel = Panel("", "Gap to pole (s), each driver's best lap of Q1–Q3", "Driver (qualifying order)",
                      bars=bars)
        fastest = min(best, key=lambda c: best[c])
        alt = (f"Bar chart of each driver's gap to pole in seconds, {race.session.label}, "
               f"{len(codes)} drivers. Fastest: {fastest} {fmt_lap(pole)}.")
        return Gathered(Plot(title, (panel,)), alt, _parts(race, codes if r.drivers else (), r), title, tuple(notes))

    async def _pitstops(self, r: Request) -> Gathered:
        race = await self._race(r, laps=False, session_type="R")
        stops = [s for s in await self.store.pit_stops(race.session.id)
                 if not s.under_red_flag and s.pit_lane_time_ms is not None]
        if not stops:
            raise UserError(f"No pit stops held for the {race.session.label}.")
        known = [c for c in race.order] + sorted({s.driver.short for s in stops} - set(race.order))
        codes, notes = _pick(r.drivers, known, race.session.label, default=(), cap=None)
        if codes:
            stops = [s for s in stops if s.driver.short in codes]
        stops.sort(key=lambda s: s.pit_lane_time_ms or 0)
        shown = stops[: (r.top_n or 20)]
        if len(stops) > len(shown):
            notes.append(f"showing the fastest {len(shown)} of {len(stops)} stops")
        # The store holds no stationary times (neither source measures the car on its
        # jacks): the ranking is by pit-lane time, entry line to exit line, and says so.
        bars = tuple(Bar(f"{s.driver.short} (lap {s.lap})", secs(s.pit_lane_time_ms or 0),
                         race.colours.get(s.driver.short, DEFAULT_GREY),
                         text=f"{secs(s.pit_lane_time_ms or 0):.1f}") for s in shown)
        title = _title(race.session, "Pit stops, fastest first", race.provisional)
        panel = Panel("", "Pit-lane time (s), entry to exit line (stationary time not held)", "Stop",
                      bars=bars)
        top = shown[0]
        alt = (f"Bar chart ranking {len(shown)} pit stops by pit-lane time in seconds, {race.session.label}. "
               f"Fastest: {top.driver.short} on lap {top.lap}, {secs(top.pit_lane_time_ms or 0):.1f} s.")
        return Gathered(Plot(title, (panel,)), alt, _parts(race, codes, r), title, tuple(notes))

    # ------------------------------------------------------------------ season kinds

    async def _season(self, r: Request) -> int:
        year = r.year if r.year is not None else await self.store.latest_season_with_results()
        if year is None:
            raise UserError("No season with results in the store.")
        return year

    async def _points(self, r: Request) -> Gathered:
        year = await self._season(r)
        rows = await self.store.points_by_round(year, up_to=r.after_round)
        if not rows:
            raise UserError(f"No championship standings for {year}"
                            f"{f' after round {r.after_round}' if r.after_round else ''}.")
        last_round = max(x.round for x in rows)
        final = sorted((x for x in rows if x.round == last_round), key=lambda x: (x.position or 99, -x.points))
        known = [x.code for x in final]
        n = r.top_n or MAX_LINES
        codes, notes = _pick(r.drivers, known, f"{year} championship", default=known[:n])
        results = await self.store.season_results(year, "R")
        teams: dict[str, str | None] = {}
        for s in results:
            if s.round <= last_round:
                teams[s.code] = s.constructor_ref  # the team of their latest race
        colours, dashed = _team_styles(codes, teams, await self.store.team_colours(year))
        lines = []
        for c in codes:
            pts = [(float(x.round), x.points) for x in rows if x.code == c]
            lines.append(Line(c, colours[c], tuple(p[0] for p in pts), tuple(p[1] for p in pts),
                              dashed=dashed[c], end_label=True))
        names = await self.store.season_rounds(year)
        title = f"Drivers' championship points · {year} · after round {last_round} ({names.get(last_round, '')})"
        panel = Panel("", "Round", "Points", lines=tuple(lines),
                      xticks=tuple(float(i) for i in range(1, last_round + 1)))
        lead = final[0]
        alt = (f"Line chart of drivers' championship points by round, {year} rounds 1-{last_round}, for "
               f"{_who(codes)}. {lead.code} leads with {lead.points:g} points.")
        return Gathered(Plot(title, (panel,)), alt, (str(year), str(last_round), *codes), title, tuple(notes))

    async def _teammates(self, r: Request) -> Gathered:
        year = await self._season(r)
        race = await self.store.season_results(year, "R")
        quali = await self.store.season_results(year, "Q")
        if not race:
            raise UserError(f"No race results for {year}.")
        teams = {s.constructor_ref for s in race if s.constructor_ref}
        team = (r.team or "").lower().replace(" ", "_") or None
        if team is None and r.drivers:
            code = r.drivers[0].upper()
            team = next((s.constructor_ref for s in reversed(race) if s.code == code), None)
            if team is None:
                raise UserError(f"No driver {code} in the {year} season.")
        if team is None:
            team = next(s.constructor_ref for s in reversed(race) if s.position == 1 and s.constructor_ref)
        if team not in teams:
            by_name = {(s.team_name or "").lower(): s.constructor_ref for s in race}
            team = by_name.get((r.team or "").lower(), team)
        if team not in teams:
            raise UserError(f"No team {r.team} in {year}. Teams: {', '.join(sorted(teams))}.")
        team_name = next((s.team_name for s in race if s.constructor_ref == team and s.team_name), team)
        # The pair: the team's two most frequent drivers of the season.
        count: dict[str, int] = {}
        for s in race:
            if s.constructor_ref == team:
                count[s.code] = count.get(s.code, 0) + 1
        pair = sorted(count, key=lambda c: -count[c])[:2]
        colour = _colour((await self.store.team_colours(year)).get(team))
        panels, tallies = [], []
        for label, rows in (("Qualifying", quali), ("Race", race)):
            pos = {(s.code, s.round): s.position for s in rows if s.constructor_ref == team}
            lines = []
            for i, c in enumerate(pair):
                rounds = sorted(rd for (cc, rd) in pos if cc == c)
                lines.append(Line(c, colour, tuple(float(x) for x in rounds),
                                  tuple(float(pos[(c, x)]) if pos[(c, x)] else None for x in rounds),
                                  dashed=i == 1))
            wins = [0, 0]
            if len(pair) == 2:
                for rd in {rd for (_, rd) in pos}:
                    a, b = pos.get((pair[0], rd)), pos.get((pair[1], rd))
                    if a and b:
                        wins[0 if a < b else 1] += 1
            tally = f"{pair[0]} {wins[0]}–{wins[1]} {pair[1]}" if len(pair) == 2 else ""
            tallies.append(f"{label.lower()} {tally}")
            worst = max((p for p in pos.values() if p), default=20)
            panels.append(Panel(f"{label}: {tally}", "Round", f"{label} position (1 = best)",
                                lines=tuple(lines), invert_y=True, ylim=(worst + 0.5, 0.5),
                                yticks=(1.0, *(float(x) for x in range(5, worst + 1, 5)))))
        title = f"Teammate head-to-head · {team_name} · {year}"
        alt = (f"Two line charts of {', '.join(pair)} ({team_name}) qualifying and race positions "
               f"by round in {year}; ahead of the teammate: {'; '.join(tallies)}.")
        return Gathered(Plot(title, tuple(panels)), alt, (str(year), team or "", *pair), title)


def _who(codes: Sequence[str]) -> str:
    codes = list(codes)
    if len(codes) > 8:
        return f"{len(codes)} drivers ({', '.join(codes[:3])}…)"
    return ", ".join(codes) or "no driver"


def _parts(race: _Race, codes: Sequence[str], r: Request) -> tuple[str, ...]:
    ev = race.session.event
    parts = [str(ev.year), str(ev.round)]
    if race.session.type != "R":
        parts.append(race.session.type)
    parts += list(codes)
    if r.laps:
        parts.append(f"L{r.laps[0]}-{r.laps[1]}")
    return tuple(parts)
