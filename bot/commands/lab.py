"""Race Lab commands: `/f1 whatif` (alternative strategies, best strategy) and `/f1 battle`."""

from __future__ import annotations

from bot.app import CommandContext
from bot.lab_answer import battle_answer, battle_lap, read_command, whatif_answer
from bot.question import read_race_args
from bot.registry import Registry


def register(registry: Registry) -> None:
    @registry.command(
        autocomplete={"driver": "driver", "race": "race"},
        greedy="race",
        examples=("whatif LEC pit 25 hard monza 2023", "whatif VER pit 18 medium pit 40 hard monza 2023",
                  "whatif SAI best monza 2023", "whatif NOR one-stop monza 2023", "whatif LEC pit 25 explain"),
    )
    async def whatif(ctx: CommandContext, driver: str, race: str | None = None) -> None:
        """What if a driver had pitted on other laps or tyres: simulated finishing positions.

        Args:
            driver: the driver, e.g. LEC, "hamilton".
            race: the change and race, e.g. "pit 25 hard monza 2023", "best", "one-stop", "5 laps later"
        """
        ask, rest = read_command(race)
        plan = await read_race_args(ctx.store, f"{driver} {rest}".strip(), now=ctx.now(), need_laps=True)
        await whatif_answer(ctx, plan, ask)

    @registry.command(
        autocomplete={"chaser": "driver", "leader": "driver", "race": "race"},
        greedy="race",
        examples=("battle LEC SAI monza 2023 lap 30", "battle NOR PIA", "battle VER LEC monza 2023"),
    )
    async def battle(ctx: CommandContext, chaser: str, leader: str, race: str | None = None) -> None:
        """Battle forecast: laps until DRS range and the chance of a pass within 5 and 10 laps.

        Args:
            chaser: the driver behind, e.g. LEC.
            leader: the driver ahead, e.g. SAI.
            race: the race and lap, e.g. "monza 2023 lap 30" (default: where they were closest).
        """
        text = race or ""
        lap = battle_lap(text)
        rest = " ".join(text.replace(f"lap {lap}", " ").split()) if lap is not None else text
        plan = await read_race_args(ctx.store, f"{chaser} {leader} {rest}".strip(), now=ctx.now(), need_laps=True)
        await battle_answer(ctx, plan, lap)
