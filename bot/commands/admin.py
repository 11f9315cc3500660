"""Moderator commands: subscribe / unsubscribe, settings, status, audit; admins name moderators.

Every change is validated first (a clear `UserError` names the bad value and
what is allowed), then stored, then written to the audit log with what it was
before and after. Privileges are checked by the dispatcher from the registry
metadata, on every platform alike.

Also here: the stored-privilege and per-channel-style lookups the core calls
(`install_hooks`), so a moderator named with `/f1 moderator add` is one on
every platform path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from typing import Any, Literal

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.app import BotDeps, CommandContext
from bot.errors import UserError
from bot.model import Card, CardField, ChannelRef, Privilege, Reply, UserRef
from bot.registry import Registry
from bot.scheduling import parse_offsets
from storage.models import IngestRun
from storage.models import Session as RaceSession
from storage.service_models import (
    AuditLog,
    ChannelSetting,
    JobRun,
    Moderator,
    ReminderSent,
    ReminderSubscription,
)

RATE_MAX = 600
SESSION_CODES = ("FP1", "FP2", "FP3", "SQ", "S", "Q", "R")


# --------------------------------------------------------------------------- helpers


def scope_of(channel_id: str) -> str:
    """Workspace / guild of a namespaced channel id: "slack:T1:C9" -> "slack:T1"."""
    parts = channel_id.split(":")
    return ":".join(parts[:2]) if len(parts) >= 2 else channel_id


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _engine(ctx: CommandContext) -> Engine:
    return ctx.deps.store.engine


def _csv_list(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def audit(engine: Engine, *, channel: ChannelRef, user: UserRef, action: str, detail: dict[str, Any],
          now: dt.datetime | None = None) -> None:
    """Record one change (sync; call it in a thread)."""
    with engine.begin() as conn:
        conn.execute(
            AuditLog.__table__.insert(),  # type: ignore[attr-defined]
            [{
                "at": now or _now(), "scope": scope_of(channel.id), "channel_id": channel.id,
                "actor_id": user.id, "actor_name": user.name or None, "action": action,
                "detail": json.dumps(detail, sort_keys=True, default=str),
            }],
        )


def _upsert(engine: Engine, model: Any, values: dict[str, Any], key: str) -> None:
    tbl = model.__table__
    with engine.begin() as conn:
        ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(tbl)
        stmt = ins.on_conflict_do_update(
            index_elements=[key], set_={k: ins.excluded[k] for k in values if k != key}
        )
        conn.execute(stmt, [values])


def _row(engine: Engine, model: Any, key_col: Any, key: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        r = conn.execute(select(model).where(key_col == key)).first()
    return dict(r._mapping) if r is not None else None


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


# --------------------------------------------------------------------------- hooks for the core


async def stored_privilege(engine: Engine, user: UserRef, channel: ChannelRef) -> Privilege:
    """MODERATOR when an admin named this user a moderator of the channel's workspace."""

    def _lookup() -> bool:
        with engine.connect() as conn:
            return conn.execute(
                select(Moderator.id).where(Moderator.scope == scope_of(channel.id),
                                           Moderator.user_id == user.id)
            ).first() is not None

    return Privilege.MODERATOR if await asyncio.to_thread(_lookup) else Privilege.USER


async def channel_style(engine: Engine, channel: ChannelRef) -> Any:
    """The channel's answer style (`bot.prompting.Style`), or None for the defaults."""
    row = await asyncio.to_thread(_row, engine, ChannelSetting, ChannelSetting.channel_id, channel.id)
    if row is None or not any(row.get(k) for k in ("tone", "length", "language")):
        return None
    from bot.prompting import Style

    return Style(tone=row["tone"] or "neutral", length=row["length"] or "medium",
                 language=row["language"] or "en")


async def channel_settings(engine: Engine, channel: ChannelRef) -> ChannelSetting | None:
    """Everything a moderator set for a channel (answers on/off, LLM on/off, rate limits)."""
    row = await asyncio.to_thread(_row, engine, ChannelSetting, ChannelSetting.channel_id, channel.id)
    return ChannelSetting.model_validate(row) if row else None


def _policy_from_row(row: dict[str, Any] | None) -> Any:
    """A stored `channel_setting` row -> `bot.channels.ChannelPolicy` (None when nothing is set)."""
    from bot.channels import ChannelPolicy

    if row is None:
        return None
    style = None
    if any(row.get(k) for k in ("tone", "length", "language")):
        from bot.prompting import Style

        try:
            style = Style(tone=row.get("tone") or "neutral", length=row.get("length") or "medium",
                          language=row.get("language") or "en")
        except ValueError:  # a value stored by an older version: keep the defaults
            style = None
    return ChannelPolicy(
        answers=row.get("answers_enabled") is not False,
        llm=row.get("llm_enabled"),
        rate_user_per_min=row.get("rate_user_per_min") or None,
        rate_channel_per_min=row.get("rate_channel_per_min") or None,
        style=style,
    )


async def load_channel_policy(engine: Engine, channel: ChannelRef) -> Any:
    """The channel's moderator settings as a `ChannelPolicy` (one indexed read, in a thread)."""
    row = await asyncio.to_thread(_row, engine, ChannelSetting, ChannelSetting.channel_id, channel.id)
    return _policy_from_row(row)


def install_hooks(deps: BotDeps, engine: Engine, *, policy_ttl_s: float = 10.0) -> None:
    """Let the core consult stored moderators and channel settings (unless already wired).

    Channel settings go through `ChannelPolicyCache`: a dict read per event, a
    database read per channel every `policy_ttl_s` (so a change made in another
    process applies within that time; this process's own changes apply at once).
    """
    from bot.channels import ChannelPolicyCache

    if deps.privilege_lookup is None:
        deps.privilege_lookup = lambda user, channel: stored_privilege(engine, user, channel)
    if deps.channel_policies is None:
        deps.channel_policies = ChannelPolicyCache(
            lambda channel: load_channel_policy(engine, channel), ttl_s=policy_ttl_s)
    if deps.style_lookup is None:
        policies = deps.channel_policies

        async def _style(channel: ChannelRef) -> Any:
            policy = await policies.get(channel)
            return policy.style if policy is not None else None

        deps.style_lookup = _style
    deps.extras.setdefault("channel_settings", lambda channel: channel_settings(engine, channel))


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
        from bot.pulse.types import KINDS
        from storage import pulse_store

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
            before = await asyncio.to_thread(
                _row, engine, ReminderSubscription, ReminderSubscription.channel_id, channel.id)
            values = {
                "channel_id": channel.id, "session_types": "Q,R",
                "offsets_min": ",".join(str(o) for o in offsets or []) or (before or {}).get("offsets_min", "60,10"),
                "active": offsets is not None, "updated_at": now, "updated_by": user.id,
            }
            await asyncio.to_thread(_upsert, engine, ReminderSubscription, values, "channel_id")
            changes["reminders"] = offsets if offsets is not None else "off"
        if not changes:
            raise UserError("Nothing to change: give `highlights=yes` or `reminders=60,10`.")
        await asyncio.to_thread(audit, engine, channel=channel, user=user, action="subscribe",
                                detail=changes, now=now)
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
        from storage import pulse_store

        channel, user = ctx.incoming.channel, ctx.incoming.user
        engine = _engine(ctx)
        stopped: list[str] = []
        if what in ("all", "highlights") and await asyncio.to_thread(pulse_store.unsubscribe, engine, channel.id):
            stopped.append("highlights")
        if what in ("all", "reminders"):
            def _off() -> bool:
                with engine.begin() as conn:
                    res = conn.execute(
                        ReminderSubscription.__table__.update()  # type: ignore[attr-defined]
                        .where(ReminderSubscription.channel_id == channel.id,
                               ReminderSubscription.active.is_(True))  # type: ignore[attr-defined]
                        .values(active=False, updated_at=ctx.now(), updated_by=user.id)
                    )
                    return bool(res.rowcount)

            if await asyncio.to_thread(_off):
                stopped.append("reminders")
        if not stopped:
            raise UserError(f"This channel has no active {'subscription' if what == 'all' else what}.")
        await asyncio.to_thread(audit, engine, channel=channel, user=user, action="unsubscribe",
                                detail={"stopped": stopped}, now=ctx.now())
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
        before = await asyncio.to_thread(_row, engine, ChannelSetting, ChannelSetting.channel_id, channel.id) or {}
        new: dict[str, Any] = {}
        if language is not None:
            from bot.prompting import Style

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
            return Reply(cards=[_settings_card(ctx.deps, channel, before)], ephemeral=True)
        changed = {k: [before.get(k), v] for k, v in new.items() if before.get(k) != v}
        values = {k: before.get(k) for k in ChannelSetting.model_fields} | new
        values.update(channel_id=channel.id, updated_at=ctx.now(), updated_by=user.id)
        await asyncio.to_thread(_upsert, engine, ChannelSetting, values, "channel_id")
        await asyncio.to_thread(audit, engine, channel=channel, user=user, action="settings",
                                detail=changed, now=ctx.now())
        text = "Settings saved." if changed else "Nothing changed (already set)."
        return Reply(text=text, cards=[_settings_card(ctx.deps, channel, values)], ephemeral=True)

    @registry.command(privilege=Privilege.MODERATOR, examples=("status",))
    async def status(ctx: CommandContext) -> Reply:
        """Data freshness, ingestion runs and errors, LLM health and delivery backlog."""
        engine = _engine(ctx)
        facts = await asyncio.to_thread(_status_facts, engine)
        from storage.migrate import status as schema_status  # the store's migration revision

        schema = await asyncio.to_thread(schema_status, engine)
        llm = ctx.deps.llm
        if llm is None:
            llm_text = "off (no LLM configured: data-only answers)"
        else:
            try:
                ok = await asyncio.wait_for(llm.health(), 5)
            except Exception:
                ok = False
            llm_text = "healthy" if ok else "NOT answering (answers fall back to data-only)"
        fresh = facts["freshest"]
        fields = [
            CardField("Data", f"{fresh[0]}, ingested {_ago(fresh[1], ctx.now())}" if fresh else "no session ingested yet", False),
            CardField("Last ingestion runs", "\n".join(facts["runs"]) or "none yet", False),
            CardField("Errors", "\n".join(facts["errors"]) or "none", False),
            CardField("LLM", llm_text, False),
            CardField("Delivery backlog", f"{facts['backlog']} highlight(s), {facts['reminders']} reminder(s) waiting", False),
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
        engine = _engine(ctx)
        scope = scope_of(ctx.incoming.channel.id)

        def _read() -> list[Any]:
            with engine.connect() as conn:
                return list(conn.execute(
                    select(AuditLog.at, AuditLog.actor_name, AuditLog.actor_id, AuditLog.action,
                           AuditLog.channel_id, AuditLog.detail)
                    .where(AuditLog.scope == scope).order_by(AuditLog.id.desc()).limit(limit)  # type: ignore[union-attr]
                ).all())

        rows = await asyncio.to_thread(_read)
        if not rows:
            return Reply(text="No changes recorded yet.", ephemeral=True)
        lines = [
            f"`{at:%Y-%m-%d %H:%M}` {name or actor} **{action}** in {ch}: {detail[:300]}"
            for at, name, actor, action, ch, detail in rows
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
            def _list() -> list[str]:
                with engine.connect() as conn:
                    return [r[0] for r in conn.execute(
                        select(Moderator.user_id).where(Moderator.scope == scope).order_by(Moderator.user_id))]
            mods = await asyncio.to_thread(_list)
            return Reply(text="Moderators: " + (", ".join(mods) if mods else "none named yet."), ephemeral=True)
        if not user:
            raise UserError(f"Whom? Usage: `/f1 moderator {action} @someone`.")
        target = _user_from_text(user, channel)

        def _change() -> bool:
            with engine.begin() as conn:
                if action == "add":
                    ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(Moderator.__table__)  # type: ignore[attr-defined]
                    res = conn.execute(ins.on_conflict_do_nothing(index_elements=["scope", "user_id"]),
                                       [{"scope": scope, "user_id": target, "added_by": actor.id, "added_at": ctx.now()}])
                else:
                    res = conn.execute(delete(Moderator).where(Moderator.scope == scope, Moderator.user_id == target))
                return bool(res.rowcount)

        if not await asyncio.to_thread(_change):
            raise UserError(f"{target} is {'already' if action == 'add' else 'not'} a moderator here.")
        await asyncio.to_thread(audit, engine, channel=channel, user=actor, action=f"moderator.{action}",
                                detail={"user": target}, now=ctx.now())
        return Reply(text=f"{'Added' if action == 'add' else 'Removed'} moderator {target}.", ephemeral=True)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else ", ".join(value)


def _settings_card(deps: BotDeps, channel: ChannelRef, row: dict[str, Any]) -> Card:
    s = deps.settings

    def pick(key: str, default: Any) -> str:
        v = row.get(key)
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


def _status_facts(engine: Engine) -> dict[str, Any]:
    from storage.models import Event

    with engine.connect() as conn:
        fresh = conn.execute(
            select(Event.year, Event.name, RaceSession.name, RaceSession.ingested_at)
            .join(Event, Event.id == RaceSession.event_id)
            .where(RaceSession.ingested_at.is_not(None))  # type: ignore[union-attr]
            .order_by(RaceSession.ingested_at.desc()).limit(1)  # type: ignore[union-attr]
        ).first()
        runs = conn.execute(
            select(IngestRun.started_at, IngestRun.target, IngestRun.outcome, IngestRun.rows)
            .order_by(IngestRun.id.desc()).limit(5)  # type: ignore[union-attr]
        ).all()
        errors = conn.execute(
            select(IngestRun.started_at, IngestRun.target, IngestRun.message)
            .where(IngestRun.outcome == "failed").order_by(IngestRun.id.desc()).limit(3)  # type: ignore[union-attr]
        ).all()
        job_errors = conn.execute(
            select(JobRun.finished_at, JobRun.key, JobRun.result)
            .where(JobRun.status == "failed").order_by(JobRun.finished_at.desc()).limit(3)  # type: ignore[union-attr]
        ).all()
        reminders = conn.execute(
            select(func.count()).select_from(ReminderSent).where(ReminderSent.status == "pending")
        ).scalar_one()
    try:
        from storage.pulse_store import outbox_counts

        counts = outbox_counts(engine)
        backlog = counts.get("pending", 0) + counts.get("claimed", 0)
    except Exception:
        backlog = 0
    err_lines = [f"`{at:%m-%d %H:%M}` {target}: {(msg or '')[:120]}" for at, target, msg in errors]
    err_lines += [f"`{at:%m-%d %H:%M}` job {key}: {_job_reason(res)}" for at, key, res in job_errors if at]
    return {
        "freshest": (f"{fresh[0]} {fresh[1]} {fresh[2]}", fresh[3]) if fresh else None,
        "runs": [f"`{at:%m-%d %H:%M}` {target}: {outcome} ({rows} rows)" for at, target, outcome, rows in runs],
        "errors": err_lines,
        "backlog": backlog,
        "reminders": reminders,
    }


def _job_reason(result: str | None) -> str:
    try:
        data = json.loads(result or "{}")
    except ValueError:
        return (result or "")[:120]
    return str(data.get("message") or data.get("error") or data)[:120]
