"""`/f1 predict [race]` and `/f1 odds title [season] [after round N] [teams]`: forecasts.

Both read their text like a forecast question (`bot.question.read_forecast_args`) and
answer through `bot.forecast_answer`, the same path as "who wins sunday?" in chat.
"""

from __future__ import annotations

from typing import Literal

from bot.app import CommandContext
from bot.forecast_answer import forecast_reply, predictor_of
from bot.model import Reply
from bot.question import read_forecast_args
from bot.registry import Registry


def register(registry: Registry) -> None:
    @registry.command(
        autocomplete={"race": "race"},
        greedy="race",
        examples=("predict", "predict monza", "predict next race", "predict las vegas VER"),
    )
    async def predict(ctx: CommandContext, race: str | None = None) -> Reply:
        """Race forecast: each driver's chance to win, podium and points, with 80% intervals.

        Args:
            race: the race (default: the next one), e.g. "monza" or "2023 round 14".
        """
        plan = await read_forecast_args(ctx.store, race, now=ctx.now())
        return await forecast_reply(ctx.store, predictor_of(ctx.deps), plan, now=ctx.now(), title=False)

    @registry.command(
        greedy="season",
        examples=("odds title", "odds title 2023 after round 10", "odds title teams"),
    )
    async def odds(ctx: CommandContext, market: Literal["title"], season: str | None = None) -> Reply:
        """Championship odds: each contender's chance of the title, with 80% intervals.

        Args:
            market: what the odds are for.
            season: season, round and championship, e.g. "2023 after round 10" or "teams".
        """
        plan = await read_forecast_args(ctx.store, season, now=ctx.now())
        return await forecast_reply(ctx.store, predictor_of(ctx.deps), plan, now=ctx.now(), title=True)
