"""Channel policy hooks: stored moderators and per-channel settings, applied on every path.

The dispatcher and the conversation handler ask `BotDeps` for a user's stored
privilege and a channel's policy; `install_hooks` (called once by the wiring)
connects those questions to the community store, so a moderator named with
`/f1 moderator add` and a channel set with `/f1 settings` count on Discord,
Slack and the console alike.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from bot.app import BotDeps
from bot.channels import ChannelPolicy, ChannelPolicyCache
from bot.model import ChannelRef, Privilege, UserRef
from bot.prompting import Style
from storage import community
from storage.community import ChannelSettings

log = logging.getLogger(__name__)


def scope_of(channel_id: str) -> str:
    """Workspace / guild of a namespaced channel id: "slack:T1:C9" -> "slack:T1"."""
    parts = channel_id.split(":")
    return ":".join(parts[:2]) if len(parts) >= 2 else channel_id


def style_of(s: ChannelSettings) -> Style | None:
    """The answer style a channel set, or None when it set none (or an unusable one)."""
    if not (s.tone or s.length or s.language):
        return None
    try:
        return Style(tone=s.tone or "neutral", length=s.length or "medium",  # type: ignore[arg-type]
                     language=s.language or "en")
    except ValueError:
        # A value stored by an older version (or by hand): keep the defaults, say so once per load.
        log.warning("channel %s has an unusable style %r/%r/%r; using the defaults",
                    s.channel_id, s.tone, s.length, s.language)
        return None


def policy_of(s: ChannelSettings | None) -> ChannelPolicy | None:
    """Stored channel settings -> the policy the core applies (None when nothing is set)."""
    if s is None:
        return None
    return ChannelPolicy(
        answers=s.answers_enabled is not False,
        llm=s.llm_enabled,
        rate_user_per_min=s.rate_user_per_min or None,
        rate_channel_per_min=s.rate_channel_per_min or None,
        style=style_of(s),
    )


async def stored_privilege(engine: Engine, user: UserRef, channel: ChannelRef) -> Privilege:
    """MODERATOR when an admin named this user a moderator of the channel's workspace."""
    named = await asyncio.to_thread(community.is_moderator, engine, scope_of(channel.id), user.id)
    return Privilege.MODERATOR if named else Privilege.USER


async def load_channel_policy(engine: Engine, channel: ChannelRef) -> ChannelPolicy | None:
    """The channel's moderator settings as a policy (one primary-key read, in a thread)."""
    return policy_of(await asyncio.to_thread(community.channel_settings, engine, channel.id))


def install_hooks(deps: BotDeps, engine: Engine, *, policy_ttl_s: float = 10.0) -> None:
    """Let the core consult stored moderators and channel settings (hooks already set are kept).

    Channel settings go through `ChannelPolicyCache`: a dict read per event, a
    database read per channel every `policy_ttl_s` (so a change made in another
    process applies within that time; this process's own changes apply at once).
    """
    if deps.privilege_lookup is None:
        deps.privilege_lookup = lambda user, channel: stored_privilege(engine, user, channel)
    if deps.channel_policies is None:
        deps.channel_policies = ChannelPolicyCache(
            lambda channel: load_channel_policy(engine, channel), ttl_s=policy_ttl_s)
    if deps.style_lookup is None:
        policies = deps.channel_policies

        async def _style(channel: ChannelRef) -> Style | None:
            policy = await policies.get(channel)
            return policy.style if policy is not None else None

        deps.style_lookup = _style
