"""What a community configured: channel settings, reminder wishes, moderators, and the audit log.

A small typed config API over the service tables: callers get frozen
dataclasses and plain values, never ORM rows, and every write is one
transaction. Functions are synchronous (the bot calls them in a thread).
Scopes ("slack:T1", "discord:<guild>") and namespaced ids are opaque strings
here; what they mean is the bot's business (`bot.policy.scope_of`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select, update

from storage.db import insert_missing, table, upsert
from storage.service_models import AuditLog, ChannelSetting, Moderator, ReminderSubscription

# --------------------------------------------------------------------------- channel settings


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """What a moderator set for one channel. None = not set here: the global default applies."""

    channel_id: str
    tone: str | None = None
    length: str | None = None
    language: str | None = None
    llm_enabled: bool | None = None
    answers_enabled: bool | None = None
    rate_user_per_min: int | None = None
    rate_channel_per_min: int | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


# The columns `save_channel_settings` accepts (the rest are keys and stamps).
SETTING_FIELDS: tuple[str, ...] = (
    "tone", "length", "language", "llm_enabled", "answers_enabled",
    "rate_user_per_min", "rate_channel_per_min",
)
_SETTING_COLS = ("channel_id", *SETTING_FIELDS, "updated_at", "updated_by")


def _settings(row: Sequence[Any]) -> ChannelSettings:
    return ChannelSettings(**dict(zip(_SETTING_COLS, row, strict=True)))


def channel_settings(engine: Engine, channel_id: str) -> ChannelSettings | None:
    """The stored settings of a channel (one primary-key read), None when nothing was set."""
    t = table(ChannelSetting)
    with engine.connect() as conn:
        row = conn.execute(select(*(t.c[c] for c in _SETTING_COLS)).where(t.c.channel_id == channel_id)).first()
    return _settings(row) if row is not None else None


def save_channel_settings(
    engine: Engine, channel_id: str, changes: Mapping[str, Any], *, at: dt.datetime, by: str
) -> ChannelSettings:
    """Set the given fields of a channel's settings (others keep their stored value); return the row.

    Raises ValueError for a field that is not a setting, so a typo never writes a stamp alone.
    """
    unknown = sorted(set(changes) - set(SETTING_FIELDS))
    if unknown:
        raise ValueError(f"not a channel setting: {', '.join(unknown)}")
    values = {"channel_id": channel_id, **changes, "updated_at": at, "updated_by": by}
    with engine.begin() as conn:
        # Only the named columns are overwritten: a concurrent change to another field survives.
        upsert(conn, ChannelSetting, [values], ["channel_id"])
        t = table(ChannelSetting)
        row = conn.execute(select(*(t.c[c] for c in _SETTING_COLS)).where(t.c.channel_id == channel_id)).one()
    return _settings(row)


# --------------------------------------------------------------------------- reminder wishes


@dataclass(frozen=True, slots=True)
class ReminderWish:
    """A channel's reminder subscription: minutes before the start of the listed session types."""

    channel_id: str
    session_types: tuple[str, ...]
    offsets_min: tuple[int, ...]
    active: bool


def _csv_ints(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(",") if p.strip())


def reminder_wish(engine: Engine, channel_id: str) -> ReminderWish | None:
    """The channel's reminder subscription (active or not), None when it never had one."""
    t = table(ReminderSubscription)
    with engine.connect() as conn:
        row = conn.execute(
            select(t.c.session_types, t.c.offsets_min, t.c.active).where(t.c.channel_id == channel_id)
        ).first()
    if row is None:
        return None
    types = tuple(s for s in row[0].split(",") if s)
    return ReminderWish(channel_id, types, _csv_ints(row[1]), bool(row[2]))


DEFAULT_REMINDER_OFFSETS = (60, 10)


def set_reminders(
    engine: Engine, channel_id: str, offsets_min: Sequence[int] | None, *, at: dt.datetime, by: str
) -> None:
    """Turn a channel's reminders on with these offsets, or off (None) keeping the stored offsets.

    Reminders are for qualifying and the race ("Q,R").
    """
    values: dict[str, Any] = {
        "channel_id": channel_id, "session_types": "Q,R",
        "offsets_min": ",".join(str(o) for o in (offsets_min or DEFAULT_REMINDER_OFFSETS)),
        "active": offsets_min is not None, "updated_at": at, "updated_by": by,
    }
    keep = () if offsets_min is not None else ("offsets_min",)
    with engine.begin() as conn:
        upsert(conn, ReminderSubscription, [values], ["channel_id"],
               update=[c for c in values if c != "channel_id" and c not in keep])


def stop_reminders(engine: Engine, channel_id: str, *, at: dt.datetime, by: str) -> bool:
    """Switch off a channel's active reminders; False when it had none active."""
    t = table(ReminderSubscription)
    with engine.begin() as conn:
        res = conn.execute(
            update(t).where(t.c.channel_id == channel_id, t.c.active.is_(True))
            .values(active=False, updated_at=at, updated_by=by)
        )
    return bool(res.rowcount)


# --------------------------------------------------------------------------- moderators


def is_moderator(engine: Engine, scope: str, user_id: str) -> bool:
    """Whether an admin named this user a moderator of this workspace / guild."""
    t = table(Moderator)
    with engine.connect() as conn:
        return conn.execute(
            select(t.c.id).where(t.c.scope == scope, t.c.user_id == user_id).limit(1)
        ).first() is not None


def moderators(engine: Engine, scope: str) -> list[str]:
    """The user ids named moderators of a scope, sorted."""
    t = table(Moderator)
    with engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(
            select(t.c.user_id).where(t.c.scope == scope).order_by(t.c.user_id))]


def add_moderator(engine: Engine, scope: str, user_id: str, *, by: str, at: dt.datetime) -> bool:
    """Name a moderator; False when the user already was one (nothing changes then)."""
    with engine.begin() as conn:
        return insert_missing(
            conn, Moderator, [{"scope": scope, "user_id": user_id, "added_by": by, "added_at": at}],
            ["scope", "user_id"]) == 1


def remove_moderator(engine: Engine, scope: str, user_id: str) -> bool:
    """Remove a moderator; False when the user was not one."""
    t = table(Moderator)
    with engine.begin() as conn:
        res = conn.execute(delete(t).where(t.c.scope == scope, t.c.user_id == user_id))
    return bool(res.rowcount)


# --------------------------------------------------------------------------- audit log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change. `detail` is the JSON text of what changed (before/after values)."""

    at: dt.datetime
    scope: str
    channel_id: str | None
    actor_id: str
    actor_name: str | None
    action: str
    detail: str

    def details(self) -> Any:
        return json.loads(self.detail)


def record_audit(
    engine: Engine, *, at: dt.datetime, scope: str, channel_id: str | None, actor_id: str,
    actor_name: str | None, action: str, detail: Mapping[str, Any],
) -> AuditEntry:
    """Append one change to the log (values that are not JSON, e.g. datetimes, as their text)."""
    entry = AuditEntry(at=at, scope=scope, channel_id=channel_id, actor_id=actor_id,
                       actor_name=actor_name or None, action=action,
                       detail=json.dumps(dict(detail), sort_keys=True, default=str))
    with engine.begin() as conn:
        conn.execute(table(AuditLog).insert(), [dataclasses.asdict(entry)])
    return entry


def recent_audit(engine: Engine, scope: str, limit: int = 10) -> list[AuditEntry]:
    """The newest `limit` changes of one scope, newest first (another scope's are never shown)."""
    t = table(AuditLog)
    cols = [t.c[f.name] for f in dataclasses.fields(AuditEntry)]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).where(t.c.scope == scope).order_by(t.c.id.desc()).limit(limit)).all()
    return [AuditEntry(*r) for r in rows]
