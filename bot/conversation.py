"""Conversation handler: question → resolve → context → answer (model or deterministic).

With an LLM configured, `bot.grounded.answer_with_llm` phrases the deterministic
answer's claims and falls back to the deterministic text when the model fails
or its text does not pass the claim guard. Without one, the
deterministic answerer replies directly.

Follow-ups in a thread keep their subject: the last race and drivers of a
conversation and its last few turns are kept in the store (`Store.conversation`),
so they survive a restart and reach whichever process gets the next message.
Idle conversations are forgotten after `keep_days`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from typing import Any

from bot.answer import answer
from bot.app import CommandContext
from bot.chart_answer import NO_CHARTS, attach_chart, chart_reply
from bot.context import build_context
from bot.errors import UserError
from bot.forecast_answer import forecast_reply, predictor_of, title_odds_for
from bot.intents import all_intents, schedule
from bot.lab_answer import battle_answer, battle_lap, read_question, whatif_answer
from bot.model import Image, Reply
from bot.question import (
    NotUnderstood,
    answered_driver,
    plan_state,
    resolve_question,
    split_questions,
)
from bot.resolve import Resolved
from bot.upcoming import season_reply, upcoming_reply
from storage.conversations import ConversationState

log = logging.getLogger(__name__)

LAB_INTENTS = frozenset({"whatif", "best_strategy", "battle"})

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


class ConversationHandler:
    """Answers free questions; remembers each conversation's last turns and subject.

    The store holds the memory; this process also keeps the live `ConversationState`
    of recent conversations, so two questions of one thread answered at the same time
    (a follow-up typed while the first answer streams) share one memory and neither
    overwrites the other's turn.
    """

    PRUNE_EVERY = 500  # saves between two sweeps of idle conversations

    def __init__(self, *, max_turns: int = 6, keep_days: int = 30, max_live: int = 1000) -> None:
        self.max_turns = max_turns
        self.keep = dt.timedelta(days=keep_days)
        self.max_live = max_live
        self._live: OrderedDict[str, ConversationState] = OrderedDict()
        self._saves = 0

    async def _recall(self, ctx: CommandContext) -> ConversationState | None:
        """This conversation's memory (empty when new); None when there is none to keep."""
        cid = ctx.incoming.conversation_id
        if cid is None:
            return None
        try:
            stored = await ctx.store.conversation(cid)
        except Exception:  # memory is a nicety: a database hiccup must not cost the answer
            log.warning("conversation %s: could not read its memory", cid, exc_info=True)
            stored = None
        # No await from here on: the live state is shared by this process's handlers.
        live = self._live.get(cid)
        if live is None:
            live = stored or ConversationState()
            self._live[cid] = live
            while len(self._live) > self.max_live:
                self._live.popitem(last=False)
        else:
            self._live.move_to_end(cid)
            if stored is not None and stored.updated_at is not None and (
                live.updated_at is None or stored.updated_at > live.updated_at
            ):  # another process answered here since: its memory is the newer one
                live.turns[:] = stored.turns
                live.event, live.drivers, live.updated_at = stored.event, stored.drivers, stored.updated_at
        return live

    async def _remember(self, ctx: CommandContext, state: ConversationState) -> None:
        cid = ctx.incoming.conversation_id
        assert cid is not None
        now = ctx.now()
        state.updated_at = now
        del state.turns[: -self.max_turns]
        try:
            # A snapshot: the live state may gain a turn while the writer thread serialises it.
            snapshot = ConversationState(list(state.turns), state.event, list(state.drivers), now, dict(state.plan))
            await ctx.store.save_conversation(cid, snapshot, now, max_turns=self.max_turns)
            if self._saves % self.PRUNE_EVERY == 0:
                gone = await ctx.store.prune_conversations(now - self.keep)
                if gone:
                    log.info("forgot %d conversations idle for %s", gone, self.keep)
            self._saves += 1
        except Exception:  # the answer is out already; losing the memory only costs context
            log.warning("conversation %s: could not save its memory", cid, exc_info=True)

    async def _build(self, ctx: CommandContext, res: Resolved) -> tuple[Resolved, dict[str, Any], str]:
        """The context and the deterministic answer (no model, no sending)."""
        context = await build_context(ctx.store, res, now=ctx.now())
        return res, context, answer(context)

    async def handle(self, ctx: CommandContext, text: str) -> Reply | None:
        state = await self._recall(ctx)
        parts = split_questions(text)
        if len(parts) > 1 and (both := await self._several(ctx, parts, state)) is not None:
            if state is not None:
                await self._remember(ctx, state)
            return both
        deps = ctx.deps
        # A moderator may switch the model off for this channel: data-only answers there.
        llm_allowed = ctx.policy is None or ctx.policy.llm is not False
        try:
            # The previous question's plan makes "and who was second?" a complete question.
            resolved = await resolve_question(ctx.store, text, now=ctx.now(), prior=state)
        except NotUnderstood as exc:
            # Words the rules could not read: a configured model may read them into a plan
            # (validated against the store); otherwise, or if it cannot, the reply says so.
            p = exc.plan
            # Only a question with an F1 anchor (a driver, team, race or season) is worth a model
            # call; small talk and "ignore previous instructions" get the plain refusal.
            if not (llm_allowed and deps.llm is not None and (p.drivers or p.teams or p.event or p.years)):
                raise
            from bot.llm_plan import plan_with_llm  # imported lazily: openai is heavy

            better = await plan_with_llm(deps.llm, deps.prompts, text, store=ctx.store, now=ctx.now(),
                                         parsed=exc.plan)
            if better is None:
                raise
            resolved = better  # validated and completed (defaults, session) by plan_with_llm
        if resolved.focus == "chart":  # a picture, not a text answer (bot/chart_answer.py)
            reply = await self._chart(ctx, resolved)
            if state is not None:
                await self._note_turn(ctx, state, text, reply.text, resolved)
            return reply
        if resolved.focus == "prediction":  # what is to come: the forecast, never a past result
            reply = await forecast_reply(ctx.store, predictor_of(deps), resolved, now=ctx.now())
            if state is not None:
                await self._note_turn(ctx, state, text, reply.text, resolved)
            return reply
        if resolved.focus in LAB_INTENTS:  # simulated: a placeholder edited with the answer (bot/lab_answer.py)
            await self._lab(ctx, resolved, text)
            if state is not None:
                await self._note_turn(ctx, state, text, "", resolved)
            return None
        res, context, fallback = await self._build(ctx, resolved)
        # A question that names nothing and asks for nothing we know (small talk,
        # "ignore previous instructions ...") gets the plain refusal, not a model call.
        vague = res.focus == "unknown" and not res.drivers and "default_event" in res.notes
        has_facts = _has_facts(context) and not vague
        text_out: str | None = fallback
        sent = False
        timed: Reply | None = None
        if res.focus == "schedule":
            # Session times go out in each reader's zone with a live countdown (`LocalTime`),
            # the same reply as `/f1 schedule`; a model would flatten them into UTC text.
            try:
                timed = (await season_reply(ctx.store, res.year, ctx.now()) if res.year is not None
                         else await upcoming_reply(ctx.store, ctx.now(), limit=5))
            except UserError as exc:  # the calendar ran out: say until when, publicly
                timed = Reply(text=exc.message)
        elif res.focus in schedule.TIMED:
            timed = schedule.timed_reply(context)  # session times in each reader's own zone
        elif has_facts and llm_allowed and deps.llm is not None and deps.prompts is not None:
            text_out, sent = await self._llm_answer(ctx, text, context, fallback, res)
        # "can leclerc still win the title": the mathematical answer, then the model's odds.
        odds = ""
        if res.focus == "can_win" and has_facts:
            named = [d.code for d in res.drivers if d.code] or [ref for ref, _ in res.teams]
            odds = await title_odds_for(predictor_of(deps), context, named)
        if state is not None:
            await self._note_turn(ctx, state, text, text_out or fallback, res, answer=fallback)
        if sent:
            if odds:
                await ctx.responder.send(Reply(text=odds))
            return None  # streamed to the user already
        if odds:
            text_out = f"{text_out or fallback}\n{odds}"
        if timed is not None:
            return timed
        suggestions = list(_FOLLOW_UPS.get(res.focus, ())) if has_facts else []
        reply = Reply(text=text_out or fallback, suggestions=suggestions)
        # A head-to-head comes with the two drivers' lap times; the field's stints with the
        # strategy chart (extras: a chart that cannot be drawn leaves the answer as it is).
        if has_facts and res.focus in ("compare", "pace") and len(res.drivers) == 2:
            return await attach_chart(deps.charts, reply, res, "laptimes")
        if has_facts and res.focus == "stints" and not res.drivers:
            return await attach_chart(deps.charts, reply, res, "strategy")
        return reply

    async def _note_turn(self, ctx: CommandContext, state: ConversationState, question: str, said: str,
                         res: Resolved, *, answer: str | None = None) -> None:
        """Remember the turn: what was asked and said, and the plan the next question builds on."""
        state.turns.append((question, said))
        # A season-level answer keeps the race the conversation was about ("who was the other
        # driver there" → "where did he finish").
        state.event, state.drivers = res.event or state.event, list(res.drivers)
        earlier = [i for i in (state.plan or {}).get("mentioned") or [] if i not in {d.id for d in res.drivers}]
        state.plan = plan_state(res)
        state.plan["mentioned"] = (state.plan["mentioned"] + earlier)[:4]
        # The one driver the answer named ("who came second?" → Lauda): "he" in the next turn.
        state.plan["answered"] = await answered_driver(ctx.store, answer if answer is not None else said, res)
        await self._remember(ctx, state)

    async def _lab(self, ctx: CommandContext, res: Resolved, text: str) -> None:
        if res.focus == "battle":
            await battle_answer(ctx, res, battle_lap(text))
        else:
            await whatif_answer(ctx, res, read_question(text))

    async def _chart(self, ctx: CommandContext, res: Resolved) -> Reply:
        if ctx.deps.charts is None:
            raise UserError(NO_CHARTS)
        return await chart_reply(ctx.deps.charts, res, res.chart)

    async def _several(
        self, ctx: CommandContext, parts: list[str], state: ConversationState | None
    ) -> Reply | None:
        """Two questions in one message ("who won monza 05 and who was on pole"): each is read
        with the one before as its conversation, and answered in turn, from the data only.
        None when any part cannot be read alone (the whole message is then read as one)."""
        prior = state
        texts: list[str] = []
        images: list[Image] = []
        seen: set[tuple[object, ...]] = set()
        last: Resolved | None = None
        for part in parts:
            try:
                plan = await resolve_question(ctx.store, part, now=ctx.now(), prior=prior)
            except UserError:
                return None
            if plan.focus == "unknown" or plan.focus in LAB_INTENTS:  # a simulation is asked alone
                return None
            key = (plan.focus, plan.event.id if plan.event else None, tuple(d.id for d in plan.drivers),
                   plan.session_type, plan.position, plan.metric)
            if key in seen:  # "did they win? who won": one answer
                continue
            seen.add(key)
            if plan.focus == "chart":  # a picture with its title, as when asked alone
                try:
                    shown = await self._chart(ctx, plan)
                except UserError as exc:
                    shown = Reply(text=exc.message)
                texts.append(shown.text)
                images += shown.images
            elif plan.focus == "prediction":
                texts.append((await forecast_reply(ctx.store, predictor_of(ctx.deps), plan, now=ctx.now())).text)
            else:
                _, _, text = await self._build(ctx, plan)
                texts.append(text)
            prior = ConversationState([], plan.event, list(plan.drivers), None, plan_state(plan))
            last = plan
        if last is None:
            return None
        if state is not None:
            state.turns.append((" / ".join(parts), "\n".join(texts)))
            state.event, state.drivers, state.plan = last.event, list(last.drivers), plan_state(last)
        return Reply(text="\n".join(texts), images=images)

    async def _llm_answer(
        self, ctx: CommandContext, question: str, context: dict[str, Any], fallback: str, res: Resolved,
    ) -> tuple[str, bool]:
        """(text, already_sent). Falls back to the deterministic text on any failure."""
        from bot.grounded import answer_with_llm, log_outcome  # imported lazily: openai is heavy
        from bot.prompting import Style
        from bot.vocab import vocabulary

        style = Style()
        if ctx.policy is not None and ctx.policy.style is not None:
            style = ctx.policy.style  # the channel's tone / length / language (cached lookup)
        elif ctx.policy is None and ctx.deps.style_lookup is not None:
            style = await ctx.deps.style_lookup(ctx.incoming.channel) or style
        await ctx.responder.defer()
        result = await answer_with_llm(
            llm=ctx.deps.llm,
            renderer=ctx.deps.prompts,
            vocab=await vocabulary(ctx.store),
            question=question,
            style=style,
            responder=ctx.responder,
            fallback_text=fallback,
            context=context,
            watch=_watch_words(question, res),
        )
        log_outcome(result)
        return result.text, bool(getattr(result, "delivered", True))


def _watch_words(question: str, res: Resolved) -> frozenset[str]:
    """Words of the question the bot did not read, which the model may not repeat: those the
    parser found meaningless or let go as chatter; for a plan the model read, every word outside
    what it mapped (the parser's reading of those words is gone)."""
    from bot.claimguard import unread_words
    from bot.lexicon import FILLER

    if "llm_plan" in res.notes:
        return unread_words(question, [s.text for s in res.spans], FILLER)
    let_go = [w for n in res.notes if n.startswith("ignored:") for w in n.split(":", 1)[1].split(",")]
    return frozenset(w.casefold() for w in [*res.unknown, *let_go] if w)


def _has_facts(context: dict[str, Any]) -> bool:
    if context.get("focus") in all_intents():
        return True
    keys = ("event", "standings", "upcoming", "form")
    return any(context.get(k) for k in keys)
