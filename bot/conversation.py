"""Conversation handler: question → resolve → context → answer (model or deterministic).

With an LLM configured, `bot.grounded.answer_with_llm` phrases the answer from
the same context and falls back to the deterministic text when the model
fails or its answer does not pass the fact guard. Without one, the
deterministic answerer replies directly.

Follow-ups in a thread keep their subject: the last race and drivers of a
conversation are remembered (bounded: a few turns per conversation, a limited
number of conversations, least recently used forgotten first).
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from bot.answer import answer
from bot.app import CommandContext
from bot.context import build_context
from bot.model import Reply
from bot.resolve import Resolved, resolve_question

log = logging.getLogger(__name__)

_FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "winner": ("Who was on the podium?", "Who set the fastest lap?"),
    "podium": ("Who set the fastest lap?", "Show the pit stops"),
    "pole": ("Who won the race?",),
    "fastest_lap": ("Show the tyre stints",),
    "pitstops": ("Show the tyre stints",),
    "stints": ("Show the pit stops",),
    "results": ("Who set the fastest lap?",),
    "compare": ("Show their tyre stints",),
    "standings": ("Show the constructors' standings",),
}


@dataclass(slots=True)
class _Memory:
    turns: deque[tuple[str, str]]
    last: Resolved | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ConversationHandler:
    """Answers free questions; remembers bounded per-conversation history."""

    def __init__(self, *, max_conversations: int = 1000, max_turns: int = 6) -> None:
        self.max_conversations = max_conversations
        self.max_turns = max_turns
        self._mem: OrderedDict[str, _Memory] = OrderedDict()

    def _memory(self, conversation_id: str | None) -> _Memory | None:
        if conversation_id is None:
            return None
        mem = self._mem.get(conversation_id)
        if mem is None:
            mem = _Memory(deque(maxlen=self.max_turns))
            self._mem[conversation_id] = mem
            while len(self._mem) > self.max_conversations:
                self._mem.popitem(last=False)
        else:
            self._mem.move_to_end(conversation_id)
        return mem

    def history(self, conversation_id: str) -> list[tuple[str, str]]:
        mem = self._mem.get(conversation_id)
        return list(mem.turns) if mem else []

    async def prepare(self, ctx: CommandContext, text: str) -> tuple[Resolved, dict[str, Any], str]:
        """Resolve, build the context and the deterministic answer (no model, no sending)."""
        mem = self._memory(ctx.incoming.conversation_id)
        res = await resolve_question(ctx.store, text, now=ctx.now())
        if mem is not None and mem.last is not None:
            await _carry_over(ctx, res, mem.last)
        context = await build_context(ctx.store, res, now=ctx.now())
        return res, context, answer(context)

    async def handle(self, ctx: CommandContext, text: str) -> Reply | None:
        res, context, fallback = await self.prepare(ctx, text)
        mem = self._memory(ctx.incoming.conversation_id)
        # A question that names nothing and asks for nothing we know (small talk,
        # "ignore previous instructions ...") gets the plain refusal, not a model call.
        vague = res.focus == "unknown" and not res.drivers and "default_event" in res.notes
        has_facts = _has_facts(context) and not vague
        text_out: str | None = fallback
        sent = False
        deps = ctx.deps
        # A moderator may switch the model off for this channel: data-only answers there.
        llm_allowed = ctx.policy is None or ctx.policy.llm is not False
        if has_facts and llm_allowed and deps.llm is not None and deps.prompts is not None:
            text_out, sent = await self._llm_answer(ctx, text, context, fallback, mem)
        if mem is not None:
            mem.turns.append((text, text_out or fallback))
            mem.last = res
        if sent:
            return None  # streamed to the user already
        suggestions = list(_FOLLOW_UPS.get(res.focus, ())) if has_facts else []
        return Reply(text=text_out or fallback, suggestions=suggestions)

    async def _llm_answer(
        self, ctx: CommandContext, question: str, context: dict[str, Any], fallback: str, mem: _Memory | None
    ) -> tuple[str, bool]:
        """(text, already_sent). Falls back to the deterministic text on any failure."""
        try:
            from bot.grounded import answer_with_llm
            from bot.prompting import Style
        except ImportError:  # the LLM path is optional; never fail a question over it
            log.warning("LLM configured but bot.grounded is unavailable; answering deterministically")
            return fallback, False
        style = Style()
        if ctx.policy is not None and ctx.policy.style is not None:
            style = ctx.policy.style  # the channel's tone / length / language (cached lookup)
        elif ctx.policy is None and ctx.deps.style_lookup is not None:
            style = await ctx.deps.style_lookup(ctx.incoming.channel) or style
        await ctx.responder.defer()
        result = await answer_with_llm(
            llm=ctx.deps.llm,
            renderer=ctx.deps.prompts,
            context=context,
            question=question,
            history=list(mem.turns) if mem else [],
            style=style,
            responder=ctx.responder,
            fallback_text=fallback,
            template="compare.md.j2" if context.get("focus") == "compare" else "answer.md.j2",
        )
        return result.text, bool(getattr(result, "delivered", True))


def _has_facts(context: dict[str, Any]) -> bool:
    keys = ("event", "standings", "upcoming", "form")
    return any(context.get(k) for k in keys)


async def _carry_over(ctx: CommandContext, res: Resolved, last: Resolved) -> None:
    """A follow-up without its own race or drivers keeps the previous ones."""
    if "default_event" in res.notes and last.event is not None and res.focus not in ("standings", "schedule"):
        res.event = last.event
        res.year = last.event.year
        res.notes.remove("default_event")
        res.session = await ctx.store.session_for(res.event.id, res.session_type)
    if not res.drivers and last.drivers and res.focus in ("compare", "laps", "stints", "pitstops", "results"):
        res.drivers = list(last.drivers)
