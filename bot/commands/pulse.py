"""`/f1 pulse`: the latest Track Pulse highlights, as a channel would get them."""

from __future__ import annotations

import asyncio
from typing import Literal

from bot.app import CommandContext
from bot.errors import UserError
from bot.model import Reply
from bot.prompting import Style
from bot.pulse.commentary import Commentator
from bot.pulse.types import Priority
from bot.registry import Registry
from storage import pulse_store

NO_HIGHLIGHTS = "No Track Pulse highlights yet. They appear once a session has been ingested."


def register(registry: Registry) -> None:
    @registry.command(examples=("pulse", "pulse 5", "pulse 10 critical"))
    async def pulse(
        ctx: CommandContext,
        count: int = 8,
        priority: Literal["low", "medium", "high", "critical"] = "medium",
    ) -> Reply:
        """The latest Track Pulse highlights (overtakes, stops, safety cars, results).

        Args:
            count: how many highlights to show (1-25).
            priority: the least important kind of highlight to include.
        """
        if not 1 <= count <= 25:
            raise UserError("`count` must be between 1 and 25.")
        engine = ctx.store.engine
        recent = await asyncio.to_thread(
            pulse_store.recent_highlights, engine, limit=count, min_priority=Priority.parse(priority)
        )
        if not recent:
            raise UserError(NO_HIGHLIGHTS)
        sub = await asyncio.to_thread(pulse_store.get_subscription, engine, ctx.incoming.channel.id)
        try:
            style = Style(tone=sub.tone, length=sub.length, language=sub.language) if sub else Style(length="short")  # type: ignore[arg-type]
        except ValueError:
            style = Style(length="short")
        writer = Commentator(ctx.deps.prompts) if ctx.deps.prompts is not None else Commentator()
        lines = [writer.template_text([h.as_highlight()], style) for h in recent]
        event = recent[-1].facts.get("event")
        head = f"**Track Pulse** — {event} {recent[-1].facts.get('year', '')}".rstrip()
        return Reply(text=head + "\n\n" + "\n".join(lines))
