"""Moderator commands: subscribe / unsubscribe, settings, status, audit; admins name moderators.

Every change is validated first (a clear `UserError` names the bad value and
what is allowed), then stored, then written to the audit log with what it was
before and after. Privileges are checked by the dispatcher from the registry
metadata, on every platform alike; the stored moderators and channel settings
reach the core through `bot.policy`, not through this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from typing import Any, Literal

from sqlalchemy import Engine

from bot.app import BotDeps, CommandContext
from bot.errors import UserError
from bot.model import Card, CardField, ChannelRef, Privilege, Reply
from bot.policy import scope_of
from bot.prompting import Style
from bot.pulse.types import KINDS
from bot.registry import Registry
from bot.scheduling import parse_offsets
from storage import community, pulse_store
from storage.community import ChannelSettings
from storage.migrate import status as schema_status
from storage.read_status import StatusFacts, status_facts

RATE_MAX = 600
SESSION_CODES = ("FP1", "FP2", "FP3", "SQ", "S", "Q", "R")


# --------------------------------------------------------------------------- helpers


def _engine(ctx: CommandContext) -> Engine:
    return ctx.deps.store.engine


def _csv_list(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


async def _audit(ctx: CommandContext, action: str, detail: dict[str, Any]) -> None:
    """Record one change made by the command's user in the command's channel."""
    channel, user = ctx.incoming.channel, ctx.incoming.user
    await asyncio.to_thread(
        community.record_audit, _engine(ctx), at=ctx.now(), scope=scope_of(channel.id),
        channel_id=channel.id, actor_id=user.id, actor_name=user.name or None, action=action,
        detail=detail)


def _user_from_text(text: str, channel: ChannelRef) -> str:
    """A user given as a mention or id -> namespaced user id."""
    text = text.strip()
    m = re.fullmatch(r"<@!?([A-Za-z0-9]+)(\|[^>]*)?>", text)
    raw = m.group(1) if m else text.lstrip("@")
    if ":" in raw:
        if not raw.startswith(channel.platform + ":"):
            raise UserError(f"`{raw}` is not a {channel.platform} user.")
        return raw
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", raw):
        raise UserError("Name the user with a mention (@someone) or their user id.")
    if channel.platform == "slack":
        return f"{scope_of(channel.id)}:{raw}"  # slack:<team>:<user>
    return f"{channel.platform}:{raw}"


# --------------------------------------------------------------------------- commands


def register(registry: Registry) -> None:  # noqa: C901 - one closure per command
    @registry.command(
        privilege=Privilege.MODERATOR,
        examples=("subscribe", "subscribe kinds=overtake,lead_change priority=high",
                  "subscribe drivers=VER,LEC delay=30 reminders=60,10", "subscribe reminders=off"),
    )
    async def subscribe(
        ctx: CommandContext,
        kinds: str | None = None,
        priority: Literal["low", "medium", "high", "critical"] = "medium",
        drivers: str | None = None,
        teams: str | None = None,
        delay: int = 0,
        sessions: str | None = None,
        reminders: str | None = None,
        highlights: bool = True,
    ) -> Reply:
        """Post Track Pulse highlights and session reminders in this channel.

        Args:
            kinds: highlight kinds, comma-separated (default: all).
            priority: lowest priority to post.
            drivers: driver codes to follow, comma-separated (default: all).
            teams: team names to follow, comma-separated (default: all).
            delay: spoiler delay in minutes (0-10080).
            sessions: session types, e.g. R,S,Q,SQ (default: those four).
            reminders: minutes before Q and R starts, e.g. 60,10; or off.
            highlights: post highlights here (yes/no).
        """
        channel, user = ctx.incoming.channel, ctx.incoming.user
        kind_list = [k.lower() for k in _csv_list(kinds)]
        bad = [k for k in kind_list if k not in KINDS]
        if bad:
            raise UserError(f"Unknown highlight kind `{bad[0]}`. Kinds: {', '.join(sorted(KINDS))}.")
        if not 0 <= delay <= 7 * 24 * 60:
            raise UserError("`delay` is minutes between 0 and 10080 (7 days).")
        driver_list = [d.upper() for d in _csv_list(drivers)]
        bad = [d for d in driver_list if not re.fullmatch(r"[A-Z]{3}", d)]
        if bad:
            raise UserError(f"`{bad[0]}` is not a driver code: use three letters like VER or LEC.")
        session_list = [s.upper() for s in _csv_list(sessions)] or ["R", "S", "Q", "SQ"]
        bad = [s for s in session_list if s not in SESSION_CODES]
        if bad:
            raise UserError(f"Unknown session `{bad[0]}`. Use: {', '.join(SESSION_CODES)}.")
        offsets: list[int] | None = None
        if reminders is not None and reminders.strip().lower() not in ("off", "no", "none", "0"):
            try:
                offsets = parse_offsets(reminders)
            except ValueError as exc:
                raise UserError(f"`reminders`: {exc}. Example: `reminders=60,10`.") from None
        engine = _engine(ctx)
        now = ctx.now()
        changes: dict[str, Any] = {}
        if highlights:
            sub = await asyncio.to_thread(
                pulse_store.subscribe, engine, channel.id, kinds=kind_list, min_priority=priority,
                drivers=driver_list, teams=_csv_list(teams), spoiler_delay_s=delay * 60,
                session_types=session_list, by=user.id,
            )
            changes["highlights"] = {
                "kinds": list(sub.kinds) or "all", "min_priority": priority,
                "drivers": list(sub.drivers) or "all", "teams": list(sub.teams) or "all",
                "delay_min": delay, "sessions": list(sub.session_types),
            }
        if reminders is not None:
            # "off" keeps the stored offsets, so switching back on later can start from them.
            await asyncio.to_thread(community.set_reminders, engine, channel.id, offsets, at=now, by=user.id)
            changes["reminders"] = offsets if offsets is not None else "off"
        if not changes:
            raise UserError("Nothing to change: give `highlights=yes` or `reminders=60,10`.")
        await _audit(ctx, "subscribe", changes)
        lines = ["Subscribed this channel."]
        if "highlights" in changes:
            h = changes["highlights"]
            lines.append(
                f"Highlights: {_show(h['kinds'])}, priority {priority}+, drivers {_show(h['drivers'])}, "
                f"teams {_show(h['teams'])}, sessions {', '.join(h['sessions'])}, spoiler delay {delay} min."
            )
        if "reminders" in changes:
            r = changes["reminders"]
            lines.append("Reminders: off." if r == "off" else
                         f"Reminders: {', '.join(str(o) for o in r)} min before qualifying and the race.")
        return Reply(text="\n".join(lines), ephemeral=True)

    @registry.command(privilege=Privilege.MODERATOR, examples=("unsubscribe", "unsubscribe reminders"))
    async def unsubscribe(
        ctx: CommandContext, what: Literal["all", "highlights", "reminders"] = "all"
    ) -> Reply:
        """Stop highlights and/or reminders in this channel.

        Args:
            what: what to stop.
        """
        channel, user = ctx.incoming.channel, ctx.incoming.user
        engine = _engine(ctx)
        stopped: list[str] = []
        if what in ("all", "highlights") and await asyncio.to_thread(pulse_store.unsubscribe, engine, channel.id):
            stopped.append("highlights")
        if what in ("all", "reminders") and await asyncio.to_thread(
                community.stop_reminders, engine, channel.id, at=ctx.now(), by=user.id):
            stopped.append("reminders")
        if not stopped:
            raise UserError(f"This channel has no active {'subscription' if what == 'all' else what}.")
        await _audit(ctx, "unsubscribe", {"stopped": stopped})
        return Reply(text=f"Stopped {' and '.join(stopped)} in this channel.", ephemeral=True)

    @registry.command(
        privilege=Privilege.MODERATOR,
        examples=("settings", "settings tone=casual length=short", "settings llm=off",
                  "settings answers=no", "settings user_rate=5 channel_rate=20"),
    )
    async def settings(
        ctx: CommandContext,
        tone: Literal["casual", "technical", "neutral"] | None = None,
        length: Literal["short", "medium", "long"] | None = None,
        language: str | None = None,
        llm: bool | None = None,
        answers: bool | None = None,
        user_rate: int | None = None,
        channel_rate: int | None = None,
    ) -> Reply:
        """Show or change how the bot answers in this channel.

        Args:
            tone: answer tone.
            length: answer length.
            language: answer language, e.g. en, de, French.
            llm: use the language model here (yes/no); no = data-only answers.
            answers: answer questions in this channel at all (yes/no).
            user_rate: questions per user per minute here (1-600).
            channel_rate: questions per minute in this channel (1-600).
        """
        channel, user = ctx.incoming.channel, ctx.incoming.user
        engine = _engine(ctx)
        before = (await asyncio.to_thread(community.channel_settings, engine, channel.id)
                  or ChannelSettings(channel.id))
        new: dict[str, Any] = {}
        if language is not None:
            try:
                Style(language=language.strip())
            except ValueError:
                raise UserError(f"`{language[:30]}` is not a language: use a code or name like `en` or `German`.") from None
            new["language"] = language.strip()
        for name, value in (("user_rate", user_rate), ("channel_rate", channel_rate)):
            if value is not None and not 1 <= value <= RATE_MAX:
                raise UserError(f"`{name}` is questions per minute, between 1 and {RATE_MAX}.")
        if tone is not None:
            new["tone"] = tone
        if length is not None:
            new["length"] = length
        if llm is not None:
            new["llm_enabled"] = llm
        if answers is not None:
            new["answers_enabled"] = answers
        if user_rate is not None:
            new["rate_user_per_min"] = user_rate
        if channel_rate is not None:
            new["rate_channel_per_min"] = channel_rate
        if not new:
            return Reply(cards=[_settings_card(ctx.deps, before)], ephemeral=True)
        changed = {k: [getattr(before, k), v] for k, v in new.items() if getattr(before, k) != v}
        saved = await asyncio.to_thread(
            community.save_channel_settings, engine, channel.id, new, at=ctx.now(), by=user.id)
        await _audit(ctx, "settings", changed)
        text = "Settings saved." if changed else "Nothing changed (already set)."
        return Reply(text=text, cards=[_settings_card(ctx.deps, saved)], ephemeral=True)

    @registry.command(privilege=Privilege.MODERATOR, examples=("status",))
    async def status(ctx: CommandContext) -> Reply:
        """Data freshness, ingestion runs and errors, LLM health and delivery backlog."""
        engine = _engine(ctx)
        facts = await asyncio.to_thread(status_facts, engine)
        schema = await asyncio.to_thread(schema_status, engine)  # the store's migration revision
        llm = ctx.deps.llm
        if llm is None:
            llm_text = "off (no LLM configured: data-only answers)"
        else:
            try:
                ok = await asyncio.wait_for(llm.health(), 5)
            except Exception:
                ok = False
            llm_text = "healthy" if ok else "NOT answering (answers fall back to data-only)"
        fresh = facts.freshest
        fields = [
            CardField("Data", f"{fresh[0].label}, ingested {_ago(fresh[1], ctx.now())}" if fresh else "no session ingested yet", False),
            CardField("Last ingestion runs", "\n".join(_run_lines(facts)) or "none yet", False),
            CardField("Errors", "\n".join(_error_lines(facts)) or "none", False),
            CardField("LLM", llm_text, False),
            CardField("Delivery backlog", f"{facts.highlights_waiting} highlight(s), {facts.reminders_waiting} reminder(s) waiting", False),
            CardField("Schema", schema.describe(), False),
        ]
        return Reply(cards=[Card(title="Slipstream status", fields=fields)], ephemeral=True)

    @registry.command(privilege=Privilege.MODERATOR, examples=("audit", "audit 25"))
    async def audit_(ctx: CommandContext, limit: int = 10) -> Reply:
        """Who changed what, when, in this workspace.

        Args:
            limit: how many entries (1-50).
        """
        if not 1 <= limit <= 50:
            raise UserError("`limit` must be between 1 and 50.")
        entries = await asyncio.to_thread(
            community.recent_audit, _engine(ctx), scope_of(ctx.incoming.channel.id), limit)
        if not entries:
            return Reply(text="No changes recorded yet.", ephemeral=True)
        lines = [
            f"`{e.at:%Y-%m-%d %H:%M}` {e.actor_name or e.actor_id} **{e.action}** in {e.channel_id}: {e.detail[:300]}"
            for e in entries
        ]
        return Reply(text="\n".join(lines), ephemeral=True)

    @registry.command(privilege=Privilege.ADMIN, examples=("moderator list", "moderator add @alice"))
    async def moderator(
        ctx: CommandContext, action: Literal["add", "remove", "list"] = "list", user: str | None = None
    ) -> Reply:
        """Name or remove moderators of this workspace (admins only).

        Args:
            action: add, remove or list.
            user: the user (a mention or user id).
        """
        channel, actor = ctx.incoming.channel, ctx.incoming.user
        engine = _engine(ctx)
        scope = scope_of(channel.id)
        if action == "list":
            mods = await asyncio.to_thread(community.moderators, engine, scope)
            return Reply(text="Moderators: " + (", ".join(mods) if mods else "none named yet."), ephemeral=True)
        if not user:
            raise UserError(f"Whom? Usage: `/f1 moderator {action} @someone`.")
        target = _user_from_text(user, channel)

        if action == "add":
            changed = await asyncio.to_thread(
                community.add_moderator, engine, scope, target, by=actor.id, at=ctx.now())
        else:
            changed = await asyncio.to_thread(community.remove_moderator, engine, scope, target)
        if not changed:
            raise UserError(f"{target} is {'already' if action == 'add' else 'not'} a moderator here.")
        await _audit(ctx, f"moderator.{action}", {"user": target})
        return Reply(text=f"{'Added' if action == 'add' else 'Removed'} moderator {target}.", ephemeral=True)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else ", ".join(value)


def _settings_card(deps: BotDeps, stored: ChannelSettings) -> Card:
    s = deps.settings

    def pick(key: str, default: Any) -> str:
        v = getattr(stored, key)
        return f"{_fmt(v)}" if v is not None else f"{_fmt(default)} (default)"

    fields = [
        CardField("Tone", pick("tone", "neutral")),
        CardField("Length", pick("length", "medium")),
        CardField("Language", pick("language", "en")),
        CardField("LLM", pick("llm_enabled", s.llm_base_url is not None)),
        CardField("Answers here", pick("answers_enabled", True)),
        CardField("Per user / min", pick("rate_user_per_min", s.rate_user_per_min)),
        CardField("Channel / min", pick("rate_channel_per_min", s.rate_channel_per_min)),
    ]
    return Card(title="Channel settings", fields=fields)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    return str(v)


def _ago(when: dt.datetime | None, now: dt.datetime) -> str:
    if when is None:
        return "never"
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    minutes = int((now - when).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def _run_lines(facts: StatusFacts) -> list[str]:
    return [f"`{r.started_at:%m-%d %H:%M}` {r.target}: {r.outcome} ({r.rows} rows)" for r in facts.runs]


def _error_lines(facts: StatusFacts) -> list[str]:
    lines = [f"`{r.started_at:%m-%d %H:%M}` {r.target}: {(r.message or '')[:120]}" for r in facts.failed_runs]
    lines += [f"`{j.finished_at:%m-%d %H:%M}` job {j.key}: {_job_reason(j.result)}"
              for j in facts.failed_jobs if j.finished_at]
    return lines


def _job_reason(result: str | None) -> str:
    try:
        data = json.loads(result or "{}")
    except ValueError:
        return (result or "")[:120]
    return str(data.get("message") or data.get("error") or data)[:120]
