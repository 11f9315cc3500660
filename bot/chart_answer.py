"""A chart question or command → a reply carrying the picture (`bot.charts` draws it).

Free questions ("plot VER and LEC lap times at spa 2023") and `/f1 chart <kind> …` share the
query plan: the parser fills the race, drivers, laps, season, team and the kind
(`QueryPlan.chart`); this module turns the plan into a `ChartRequest` and the result into a
`Reply`. Compare and strategy answers attach a chart the same way (`attach_chart`).
"""

from __future__ import annotations

import logging

from bot.charts import CHART_KINDS, ChartRequest, Charts
from bot.errors import UserError
from bot.model import Reply
from bot.plan import QueryPlan

log = logging.getLogger(__name__)

NO_CHARTS = "Charts are not available on this bot."
# Kinds about a season, not one race: the plan's season (and team) is what they need.
SEASON_KINDS = frozenset({"points", "teammates"})


def request_for(plan: QueryPlan, kind: str | None = None) -> ChartRequest:
    """The chart the plan asks for (`kind` overrides the plan's, for commands)."""
    kind = kind or plan.chart or ("laptimes" if plan.drivers else "positions")
    if kind not in CHART_KINDS:
        raise UserError(unknown_kind(kind))
    season = plan.event.year if plan.event else (plan.years[0] if plan.years else plan.year)
    laps = None
    if plan.lap_range and plan.lap_range[0] is not None and plan.lap_range[1] is not None:
        laps = (int(plan.lap_range[0]), int(plan.lap_range[1]))
    return ChartRequest(
        kind=kind,
        year=season,
        round=(plan.event.round if plan.event and kind not in SEASON_KINDS else None),
        session=("Q" if kind == "quali" else plan.session_type or "R"),
        drivers=tuple(d.code for d in plan.drivers if d.code),
        laps=laps,
        after_round=(plan.round if kind == "points" else None),
        team=(plan.teams[0][1] if plan.teams and kind == "teammates" else None),
    )


def unknown_kind(kind: str) -> str:
    names = ", ".join(f"`{k}`" for k in CHART_KINDS)
    return f"I don't draw a `{kind}` chart. Kinds: {names}."


async def chart_reply(charts: Charts, plan: QueryPlan, kind: str | None = None) -> Reply:
    """The picture with its title and notes ("showing the first 6 of 9 drivers")."""
    result = await charts.render(request_for(plan, kind))
    lines = [f"**{result.title}**", *(f"_{n}_" for n in result.notes)]
    return Reply(text="\n".join(lines), images=[result.image])


async def attach_chart(charts: Charts | None, reply: Reply, plan: QueryPlan, kind: str) -> Reply:
    """`reply` with a chart of `plan` added when one can be drawn; the text answer stands alone
    otherwise (a chart that fails must not cost the fan the answer)."""
    if charts is None:
        return reply
    try:
        result = await charts.render(request_for(plan, kind))
    except UserError as exc:
        log.info("chart not attached (%s): %s", kind, exc.message)
        return reply
    except Exception:  # drawing is extra: log it once, keep the answer
        log.exception("chart not attached (%s)", kind)
        return reply
    reply.images.append(result.image)
    return reply
