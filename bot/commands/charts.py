"""`/f1 chart <kind> [race or season] [drivers…] [laps a-b]`: a picture from the stored data."""

from __future__ import annotations

from typing import Literal

from bot.app import CommandContext
from bot.chart_answer import NO_CHARTS, chart_reply
from bot.errors import UserError
from bot.model import Reply
from bot.question import read_chart_args
from bot.registry import Registry

ChartKind = Literal["positions", "laptimes", "strategy", "gaps", "distribution", "quali", "points",
                    "pitstops", "teammates"]


def register(registry: Registry) -> None:
    @registry.command(
        autocomplete={"race": "race"},
        greedy="race",
        examples=("chart laptimes monza 2023 VER LEC", "chart strategy last race",
                  "chart positions monza 2023 laps 1-20", "chart points 2021 after round 10",
                  "chart teammates ferrari 2023", "chart pitstops bahrain 2022"),
    )
    async def chart(ctx: CommandContext, kind: ChartKind, race: str | None = None) -> Reply:
        """A chart: positions, lap times, strategy, gaps, pace spread, quali, points, stops, teammates.

        Args:
            kind: what to draw.
            race: race or season, drivers, laps, e.g. "monza 2023 VER LEC laps 10-30", "2021".
        """
        charts = ctx.deps.charts
        if charts is None:
            raise UserError(NO_CHARTS)
        plan = await read_chart_args(ctx.store, race, now=ctx.now(), kind=kind)
        return await chart_reply(charts, plan, kind)
