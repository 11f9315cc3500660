"""The dispatcher: one entry point for every adapter.

    adapter → Dispatcher.handle(incoming, responder)
        drop bot / duplicate events → claim the event in the store → length check → parse → channel policy →
        privilege → rate limit → command handler or conversation → Reply → responder.send

Channel policy (what moderators set with `/f1 settings`, read through a short
TTL cache, so the hot path is a dict lookup): in a channel with answers off,
free questions and `/f1 ask` are not answered — the asker gets one short
ephemeral note (at most once per user and channel every 10 minutes), later
questions are ignored silently; every other command (help, results, settings
...) still works. Per-channel rate limits replace the global ones there; the
conversation honours LLM on/off and the channel's tone, length and language.

Exactly once across workers: a Slack or Discord event id is first checked against
a small in-process TTL set (a same-process replay costs nothing), then claimed in
the store (`storage.claims`, one INSERT ... ON CONFLICT DO NOTHING) before any
answer work; a worker that loses the claim does nothing. Rate limits are counted
in the store too (`bot.ratelimit.SharedLimiter`). Both fail open: a store error
costs one log line, never the answer.

A handler returns a `Reply` (or None when it already sent its answer, e.g.
by streaming). `UserError` becomes a short ephemeral reply and a log line;
anything else becomes a generic apology in chat and a traceback in the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bot import messages as m
from bot.app import BotDeps, CommandContext
from bot.autocomplete import complete
from bot.errors import PermissionDenied, RateLimitedUser, UserError
from bot.model import Incoming, Privilege, Reply, Responder
from bot.ratelimit import SharedLimiter, TTLSet
from bot.registry import Command, Registry, coerce_args
from bot.textnorm import clean, clean_incoming

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 2000
QUESTION_COMMANDS = frozenset({"ask"})  # commands that are a free question in disguise
ANSWERS_OFF_NOTE_TTL_S = 600.0
# Platforms whose events can reach several workers (Slack retries, Discord gateway
# sessions). Console ids are per process and never shared: they are not claimed.
SHARED_PLATFORMS = frozenset({"slack", "discord"})
CLAIM_TTL_S = 3600.0  # a claim outlives every platform redelivery by far
PRUNE_EVERY_S = 300.0
STARTS_PER_TICK = 8  # questions that may begin in one event-loop iteration (a burst is paced)
ANSWERS_OFF = (
    "I don't answer questions in this channel (a moderator switched them off). "
    "Commands such as `/f1 results` and `/f1 help` still work here."
)


class Dispatcher:
    """Routes neutral `Incoming` events to commands or the conversation handler."""

    def __init__(
        self,
        deps: BotDeps,
        *,
        max_input_chars: int = MAX_INPUT_CHARS,
        dedup_ttl_s: float = 900.0,
        dedup_max: int = 10_000,
        claim_ttl_s: float = CLAIM_TTL_S,
    ) -> None:
        self.deps = deps
        self.registry: Registry = deps.registry
        self.max_input_chars = max_input_chars
        self._seen = TTLSet(dedup_ttl_s, dedup_max)
        self.claim_ttl_s = claim_ttl_s
        self._next_prune = 0.0
        store = deps.store
        self._user_limit = SharedLimiter(deps.settings.rate_user_per_min, 60.0, store, scope="user")
        self._channel_limit = SharedLimiter(deps.settings.rate_channel_per_min, 60.0, store, scope="chan")
        # Channels with their own limits: one limiter per distinct limit value (at most 600).
        self._user_limits: dict[int, SharedLimiter] = {}
        self._channel_limits: dict[int, SharedLimiter] = {}
        self._off_noted = TTLSet(ANSWERS_OFF_NOTE_TTL_S, dedup_max)
        # Paces how many questions START in one loop iteration (not how many run): a burst
        # of 200 events arriving together otherwise runs 200 first steps (parse, resolve) in
        # one iteration and stalls the loop ~40-50 ms of CPU; 8 per iteration keeps the
        # stall to a few ms and the burst's total time unchanged (bench/bench_core.py).
        self._gate = asyncio.Semaphore(STARTS_PER_TICK)

    async def handle(self, incoming: Incoming, responder: Responder) -> None:
        """Answer one event. Never raises (except cancellation): failures become replies."""
        incoming = clean_incoming(incoming)  # first: lone surrogates, NUL, invisible junk, NFC
        if incoming.user.is_bot:
            return  # our own messages and other bots: never answer (loops, spam)
        if incoming.event_id and not self._seen.add(incoming.event_id):
            log.info(m.LOG_DUPLICATE, incoming.event_id)
            return
        if incoming.event_id and incoming.channel.platform in SHARED_PLATFORMS:
            if not await self._claim(incoming.event_id):
                return
        async with self._gate:  # held for one loop iteration only: see __init__
            await asyncio.sleep(0)
        ctx = CommandContext(incoming, self.deps, responder, incoming.user.privilege)
        what = incoming.command.name if incoming.command else "message"
        try:
            reply = await self._route(ctx)
        except UserError as exc:
            log.info(m.LOG_USER_ERROR, incoming.user.id, what, exc.message)
            reply = Reply(text=exc.message, ephemeral=True, suggestions=exc.suggestions)
        except Exception:
            log.exception(m.LOG_INTERNAL_ERROR, incoming.user.id, what)
            reply = Reply(text=m.INTERNAL_ERROR, ephemeral=True)
        if reply is None:
            return
        try:
            await responder.send(reply)
        except Exception:
            # The platform refused our reply; nothing more we can say in chat.
            log.exception("could not deliver reply to %s", incoming.channel.id)

    async def _claim(self, event_id: str) -> bool:
        """Take `event_id` in the store before any answer work; False when another worker has it."""
        store = self.deps.store
        now = time.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            try:
                await store.prune_claims()  # a cheap indexed DELETE, once in a while per worker
            except Exception as exc:  # expired rows wait for the next round; the claim goes on
                log.warning("could not prune expired event claims (%s)", type(exc).__name__)
        try:
            if await store.claim_event(event_id, ttl_s=self.claim_ttl_s):
                return True
        except Exception as exc:  # fail open: a duplicate is better than a fan left unanswered
            log.warning("event %s: could not claim it (%s); answering anyway", event_id, type(exc).__name__)
            return True
        log.info("event %s: already claimed by another worker (or an earlier delivery)", event_id)
        return False

    async def _route(self, ctx: CommandContext) -> Reply | None:
        incoming = ctx.incoming
        text = (incoming.text or "").strip()
        if len(text) > self.max_input_chars:
            raise UserError(m.TOO_LONG.format(length=len(text), limit=self.max_input_chars))
        if incoming.command is not None:
            cmd = self.registry.get(incoming.command.name)
            if cmd is None:
                raise UserError(m.UNKNOWN_COMMAND.format(command=incoming.command.name[:40]))
            args = coerce_args(cmd, _drop_none(incoming.command.args))
            return await self._run(ctx, cmd, args)
        if not text:
            return Reply(text=m.EMPTY, ephemeral=True)
        parsed = _parse_command(self.registry, text, typed_command=incoming.kind == "command")
        if parsed is not None:
            cmd, args = parsed
            return await self._run(ctx, cmd, args)
        # A free question: the same path as `/f1 ask`.
        ask = self.registry.get("ask")
        if ask is None or self.deps.conversation is None:
            raise UserError(m.UNKNOWN_COMMAND.format(command=text.split()[0][:40]))
        if not await self._admit(ctx, ask):
            return self._answers_off(ctx)
        return await self.deps.conversation.handle(ctx, text)

    async def _run(self, ctx: CommandContext, cmd: Command, args: dict[str, Any]) -> Reply | None:
        if not await self._admit(ctx, cmd):
            return self._answers_off(ctx)
        reply: Reply | None = await cmd.handler(ctx, **args)
        if cmd.privilege >= Privilege.MODERATOR and self.deps.channel_policies is not None:
            # A moderator command may have changed this channel's settings: read them afresh.
            self.deps.channel_policies.invalidate(ctx.incoming.channel.id)
        return reply

    def _answers_off(self, ctx: CommandContext) -> Reply | None:
        """Questions are off here: one polite note per user and channel now and then, else silence."""
        incoming = ctx.incoming
        log.info("answers off in %s: question from %s not answered", incoming.channel.id, incoming.user.id)
        if not self._off_noted.add(f"{incoming.user.id}|{incoming.channel.id}"):
            return None
        return Reply(text=ANSWERS_OFF, ephemeral=True)

    async def _admit(self, ctx: CommandContext, cmd: Command) -> bool:
        """Channel policy, privilege check (always in the core) and rate limits.

        Returns False when the channel does not take questions and `cmd` is one.
        """
        user, channel = ctx.incoming.user, ctx.incoming.channel
        policies = self.deps.channel_policies
        policy = ctx.policy = await policies.get(channel) if policies is not None else None
        if policy is not None and not policy.answers and cmd.name in QUESTION_COMMANDS:
            return False
        level = user.privilege
        if self.deps.privilege_lookup is not None and cmd.privilege > level:
            level = max(level, await self.deps.privilege_lookup(user, channel))
        ctx.privilege = level
        if cmd.privilege > level:
            log.info(m.LOG_DENIED, cmd.name, user.id, level.name, cmd.privilege.name)
            raise PermissionDenied(
                m.NO_PERMISSION.format(command=cmd.name, needed=cmd.privilege.name.lower())
            )
        if level >= Privilege.MODERATOR:
            return True  # moderators are not throttled: they may need to fix things quickly
        shared = channel.platform in SHARED_PLATFORMS  # counted across workers in the store
        if policy is not None and policy.rate_user_per_min:
            # This channel's own per-user limit replaces the global one here.
            pool, limit = self._user_limits, policy.rate_user_per_min
            wait = await _limiter(pool, limit, self.deps, "user@chan").hit(f"{user.id}|{channel.id}", shared=shared)
        else:
            wait = await self._user_limit.hit(user.id, shared=shared)
        if wait is not None:
            log.info(m.LOG_RATE_LIMITED, user.id, "user", wait)
            raise RateLimitedUser(m.RATE_LIMITED_USER.format(seconds=max(1, round(wait))))
        if policy is not None and policy.rate_channel_per_min:
            pool, limit = self._channel_limits, policy.rate_channel_per_min
            wait = await _limiter(pool, limit, self.deps, "chan@own").hit(channel.id, shared=shared)
        else:
            wait = await self._channel_limit.hit(channel.id, shared=shared)
        if wait is not None:
            log.info(m.LOG_RATE_LIMITED, channel.id, "channel", wait)
            raise RateLimitedUser(m.RATE_LIMITED_CHANNEL.format(seconds=max(1, round(wait))))
        return True

    async def knows_conversation(self, conversation_id: str) -> bool:
        """Whether the bot has answered in this conversation (any process, any time since
        its memory was kept). Adapters use it to follow unmentioned thread replies."""
        try:
            return await self.deps.store.has_conversation(conversation_id)
        except Exception:  # an unreadable store means "not ours": stay quiet, never crash
            log.warning("conversation %s: could not check it", conversation_id, exc_info=True)
            return False

    async def autocomplete(self, source: str, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) suggestions for a parameter's autocomplete source."""
        try:
            return await complete(self.deps, source, clean(prefix), limit)
        except Exception:
            log.exception("autocomplete %s failed", source)
            return []


def _parse_command(
    registry: Registry, text: str, *, typed_command: bool
) -> tuple[Command, dict[str, Any]] | None:
    """Typed text → command, or None for a free question.

    A slash command's text ("results monza", Slack) and anything starting with
    `/f1` are commands. In a mention, DM or chat line, only a bare command
    name ("help", "next") is; a sentence that happens to start with a command
    word ("stints for VER at monza") is a question, which the resolver reads better.
    """
    stripped = text.lstrip()
    if stripped.startswith("/") and not stripped.startswith("/f1"):
        word = stripped[1:].split(maxsplit=1)[0] if len(stripped) > 1 else ""
        raise UserError(m.UNKNOWN_COMMAND.format(command=word[:40]))
    if stripped.startswith("/f1"):
        rest = stripped[3:].strip()
        if not rest:
            return registry.parse("help")
        if registry.get(rest.split(maxsplit=1)[0]) is None:
            raise UserError(m.UNKNOWN_COMMAND.format(command=rest.split(maxsplit=1)[0][:40]))
        return registry.parse(rest)
    if typed_command:
        parsed = registry.parse(stripped)
        if parsed is None and stripped.split():
            # A slash command whose first word is no command: treat the text as a question.
            return None
        return parsed
    if len(stripped.split()) == 1 and registry.get(stripped) is not None:
        return registry.parse(stripped)
    return None


def _limiter(pool: dict[int, SharedLimiter], limit: int, deps: BotDeps, scope: str) -> SharedLimiter:
    lim = pool.get(limit)
    if lim is None:
        lim = pool[limit] = SharedLimiter(limit, 60.0, deps.store, scope=scope)
    return lim


def _drop_none(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if v is not None}
