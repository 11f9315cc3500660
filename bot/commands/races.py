"""Race commands: results, laps, stints, pitstops, compare."""

from __future__ import annotations

from typing import Literal

from bot import format as f
from bot import messages as m
from bot.answer import answer
from bot.app import CommandContext
from bot.chart_answer import attach_chart
from bot.context import compare_ctx, event_ctx, session_ctx
from bot.errors import UserError
from bot.model import Card, CardField, Reply
from bot.plan import QueryPlan
from bot.question import read_race_args
from bot.registry import Registry
from bot.resolve import KIND_TO_SESSION, resolve_driver
from storage.queries import EventInfo, SessionInfo, pit_stop_summary, team_colours


def freshness_footer(s: SessionInfo) -> str:
    parts = [f"{s.classification or 'no'} classification"]
    if s.updated_at:
        parts.append(f"updated {f.utc(s.updated_at)}")
    return " · ".join(parts)


async def session_of(
    ctx: CommandContext, race: str | None, kind: str = "race", *, need_laps: bool = False
) -> SessionInfo:
    """Race text + session kind → a session, or a `UserError` saying what is missing."""
    return (await race_args(ctx, race, kind, need_laps=need_laps))[0]


async def race_args(
    ctx: CommandContext, race: str | None, kind: str = "race", *, need_laps: bool = False
) -> tuple[SessionInfo, QueryPlan]:
    """The session and the rest of the plan (drivers, laps) from a command's free text,
    read by the question parser: `/f1 pitstops monza 2023 VER` names VER as much as
    `driver=VER` does."""
    plan = await read_race_args(ctx.store, race, now=ctx.now(), session_type=KIND_TO_SESSION.get(kind, "R"),
                                need_laps=need_laps)
    if plan.event is None:
        raise UserError(m.NO_DATA)
    if plan.session is None:
        raise UserError(m.NO_SESSION.format(session=_KIND_WORD.get(plan.session_type, kind), event=plan.event.label))
    return plan.session, plan


_KIND_WORD = {"R": "race", "Q": "qualifying", "S": "sprint", "SQ": "sprint qualifying"}


def register(registry: Registry) -> None:
    @registry.command(
        autocomplete={"race": "race", "kind": "kind"},
        greedy="race",
        examples=("results monza 2023", "results last race quali", "results round 5 2023 sprint"),
    )
    async def results(
        ctx: CommandContext, race: str | None = None, kind: Literal["race", "sprint", "quali"] = "race"
    ) -> Reply:
        """Classification of a race, sprint or qualifying.

        Args:
            race: the race, e.g. "monza 2023", "italian gp", "last race", "round 14".
            kind: race, sprint or quali.
        """
        s = await session_of(ctx, race, kind)
        cls = await ctx.store.results(s.id)
        if cls is None or not cls.rows:
            raise UserError(m.NO_RESULTS.format(session=s.label))
        if s.type in ("Q", "SQ"):
            rows = [(f.pos_cell(r.position, r.position_text, r.outcome), r.driver.short, r.team_name or "",
                     f.lap_time(r.q1_ms),
                     f.lap_time(r.q2_ms) if r.q2_ms else "", f.lap_time(r.q3_ms) if r.q3_ms else "")
                    for r in cls.rows]
            tbl = f.table(["Pos", "Driver", "Team", "Q1", "Q2", "Q3"], rows)
            head = f"Pole: **{cls.rows[0].driver.name}** ({f.lap_time(cls.rows[0].best_quali_ms)})."
        else:
            winner_ms = cls.rows[0].time_ms
            rows = []
            for r in cls.rows:
                if r.position == 1 and r.time_ms is not None:
                    t = f.race_time(r.time_ms)
                elif r.gap_ms is not None:
                    t = f.gap(r.gap_ms)
                elif r.time_ms and winner_ms:
                    t = f.gap(r.time_ms - winner_ms)
                else:
                    t = f.status_cell(r.outcome, r.status, r.laps)
                # Rows come in the official order (storage.queries.results); grid 0 = pit lane.
                grid = "" if r.grid is None or not r.started else ("PL" if r.grid == 0 else r.grid)
                rows.append((f.pos_cell(r.position, r.position_text, r.outcome), r.driver.short, r.team_name or "",
                             grid, t, f.points(r.points) if r.points is not None else ""))
            tbl = f.table(["Pos", "Driver", "Team", "Grid", "Time", "Pts"], rows)
            w = cls.rows[0]
            lead = "Leader on the road" if cls.provisional else "Winner"
            head = f"{lead}: **{w.driver.name}** ({w.team_name or m.UNKNOWN_FIELD})."
        # The embed takes the colour of the winner's (pole-sitter's) team that season.
        colours = await ctx.store.run(team_colours, s.event.year)
        lead_ref = cls.rows[0].constructor_ref
        card = Card(title=s.label, description=tbl, footer=freshness_footer(s),
                    colour=colours.get(lead_ref) if lead_ref else None)
        if cls.provisional:
            note = "\n" + m.PROVISIONAL_ORDER
        else:
            note = "\n" + m.FRESHNESS_PROVISIONAL if s.classification == "provisional" else ""
        return Reply(text=head + note, cards=[card])

    @registry.command(
        autocomplete={"driver": "driver", "race": "race"},
        greedy="race",
        examples=("laps VER monza 2023", "laps LEC last race laps 10-20"),
    )
    async def laps(ctx: CommandContext, driver: str, race: str | None = None) -> Reply:
        """A driver's laps in a race: times, tyres, positions.

        Args:
            driver: code, number, surname or nickname, e.g. VER, 33, verstappen, max.
            race: the race (default: the latest with lap data); may end with "laps 10-20".
        """
        s, plan = await race_args(ctx, race, need_laps=True)
        d = await resolve_driver(ctx.store, driver, year=s.event.year)
        first, last = plan.lap_range or (None, None)
        rows = await ctx.store.laps_of_driver(s.id, d.id, first=first, last=last)
        if not rows:
            if not await ctx.store.has_laps(s.id):
                raise UserError(m.NO_LAPS.format(session=s.label))
            raise UserError(m.DRIVER_NOT_IN_SESSION.format(driver=d.name, what="laps", session=s.label))
        table_rows = [(r.lap_number, f.lap_time(r.lap_time_ms), r.compound or "", r.tyre_life or "",
                       r.position or "", "IN" if r.pit_in else ("OUT" if r.pit_out else ""))
                      for r in rows[:60]]
        tbl = f.table(["Lap", "Time", "Tyre", "Age", "Pos", "Pit"], table_rows)
        best = min((r for r in rows if r.lap_time_ms and not r.deleted), key=lambda r: r.lap_time_ms or 0, default=None)
        head = f"{d.name}: {len(rows)} laps" + (
            f", best {f.lap_time(best.lap_time_ms)} on lap {best.lap_number}." if best else "."
        )
        more = f"\n_Showing the first 60 of {len(rows)} laps._" if len(rows) > 60 else ""
        return Reply(text=head + more, cards=[Card(title=f"{d.short} · {s.label}", description=tbl,
                                                      footer=freshness_footer(s))])

    @registry.command(
        autocomplete={"race": "race", "driver": "driver"},
        greedy="race",
        examples=("stints monza 2023", "stints last race driver=VER"),
    )
    async def stints(ctx: CommandContext, race: str | None = None, driver: str | None = None) -> Reply:
        """Tyre stints of a race: compounds and lap ranges.

        Args:
            race: the race (default: the latest with lap data).
            driver: only this driver (code, number or name).
        """
        s, plan = await race_args(ctx, race, need_laps=True)
        d = await resolve_driver(ctx.store, driver, year=s.event.year) if driver else next(iter(plan.drivers), None)
        rows = await ctx.store.stints(s.id, d.id if d else None)
        if not rows:
            raise UserError(m.NO_STINTS.format(session=s.label))
        ctxd = {"focus": "stints", "event": event_ctx(s.event), "session": session_ctx(s),
                "stints": [{"code": r.driver.code, "driver": r.driver.name, "stint": r.stint,
                            "compound": r.compound, "from_lap": r.start_lap, "to_lap": r.end_lap, "laps": r.laps}
                           for r in rows]}
        return Reply(text=answer(ctxd))

    @registry.command(
        autocomplete={"race": "race", "driver": "driver"},
        greedy="race",
        examples=("pitstops monza 2023", "pitstops last race driver=HAM"),
    )
    async def pitstops(ctx: CommandContext, race: str | None = None, driver: str | None = None) -> Reply:
        """Pit stops of a race: lap and pit-lane time (entry to exit).

        Args:
            race: the race (default: the latest race).
            driver: only this driver (code, number or name).
        """
        s, plan = await race_args(ctx, race)
        d = await resolve_driver(ctx.store, driver, year=s.event.year) if driver else next(iter(plan.drivers), None)
        rows = await ctx.store.pit_stops(s.id, d.id if d else None)
        if not rows:
            raise UserError(m.NO_PIT_STOPS.format(session=s.label))
        # Both sources time the PIT LANE (entry to exit), not the stationary time; one
        # column each, named for its source, and a red-flag wait is labelled, not ranked.
        tbl = f.table(["Lap", "Driver", "Stop", "Pit lane (official)", "Pit lane (timing)", "Note"],
                      [(p.lap, p.driver.short, p.stop, f.seconds(p.duration_ms) if p.duration_ms else "",
                        f.seconds(p.pit_lane_ms) if p.pit_lane_ms else "",
                        m.PIT_UNDER_RED_FLAG if p.under_red_flag else "") for p in rows])
        text = f"{len(rows)} pit stops in the {s.label}."
        summary = await ctx.store.run(pit_stop_summary, s.id)
        if summary.fastest is not None and d is None:
            fs = summary.fastest
            excl = (m.PIT_FASTEST_EXCLUDED.format(n=summary.excluded_red_flag, s="s" if summary.excluded_red_flag > 1 else "")
                    if summary.excluded_red_flag else "")
            text += "\n" + m.PIT_FASTEST.format(who=fs.driver.name, t=f.seconds(fs.pit_lane_time_ms), lap=fs.lap,
                                               avg=f.seconds(summary.average_ms), n=summary.counted, excl=excl)
        text += "\n_" + m.PIT_TIMES_NOTE + "_"
        return Reply(text=text,
                     cards=[Card(title=f"Pit stops · {s.label}", description=tbl, footer=freshness_footer(s))])

    @registry.command(
        autocomplete={"driver1": "driver", "driver2": "driver", "race": "race"},
        greedy="race",
        examples=("compare VER PER monza 2023", "compare LEC SAI last race laps 20-51"),
    )
    async def compare(ctx: CommandContext, driver1: str, driver2: str, race: str | None = None) -> Reply:
        """Head-to-head of two drivers in a race: pace, sectors, stints, consistency.

        Args:
            driver1: first driver (code, number or name).
            driver2: second driver (code, number or name).
            race: the race (default: the latest with lap data); may end with "laps 20-51".
        """
        s, plan = await race_args(ctx, race, need_laps=True)
        a = await resolve_driver(ctx.store, driver1, year=s.event.year)
        b = await resolve_driver(ctx.store, driver2, year=s.event.year)
        if a.id == b.id:
            raise UserError(m.NEED_TWO_DRIVERS)
        cmp = await compare_ctx(ctx.store, s, [a, b], plan.lap_range)
        ctxd = {"focus": "compare", "event": event_ctx(s.event), "session": session_ctx(s), "compare": cmp}
        card = _compare_card(s.event, s, cmp) if cmp else None
        reply = Reply(text=answer(ctxd), cards=[card] if card else [])
        if not (cmp and cmp.get("has_laps")):
            return reply
        plan.drivers = [a, b]  # the two compared, whatever the race text named
        return await attach_chart(ctx.deps.charts, reply, plan, "laptimes")


def _compare_card(ev: EventInfo, s: SessionInfo, cmp: dict) -> Card | None:  # type: ignore[type-arg]
    if not cmp.get("has_laps"):
        return None
    a, b = cmp["drivers"]
    fields = [
        CardField(label, f"{a['code']} {a.get(key) or '—'}\n{b['code']} {b.get(key) or '—'}")
        for label, key in (("Median lap", "median_lap"), ("Best lap", "best_lap"), ("Ideal lap", "ideal_lap"),
                           ("Spread", "consistency_stdev"))
    ]
    return Card(title=f"{a['code']} vs {b['code']} · {s.label}", fields=fields, footer=freshness_footer(s))
