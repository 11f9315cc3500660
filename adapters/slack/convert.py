"""Slack payloads -> the neutral model (`Incoming`, `ChannelRef`, `UserRef`).

Ids are namespaced `slack:<team>:<channel>` and `slack:<team>:<user>`.
Privilege comes from `users.info` (workspace admin / owner), cached per user:
the core may raise it further from its stored moderator list.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.model import ChannelRef, Incoming, Privilege, UserRef

log = logging.getLogger(__name__)


def channel_ref(
    team: str, channel: str, *, is_dm: bool | None = None, name: str | None = None
) -> ChannelRef:
    if is_dm is None:
        is_dm = channel.startswith("D")
    return ChannelRef(platform="slack", id=f"slack:{team}:{channel}", is_dm=is_dm, name=name)


def split_channel_id(channel_id: str) -> tuple[str, str]:
    """`slack:T1:C9` -> ("T1", "C9"). Raises ValueError for another platform's id."""
    parts = channel_id.split(":")
    if len(parts) != 3 or parts[0] != "slack" or not parts[2]:
        raise ValueError(f"not a Slack channel id: {channel_id!r}")
    return parts[1], parts[2]


_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")


def clean_text(text: str, bot_user_id: str | None) -> str:
    """Slack message text -> what the user typed (mention of the bot removed, links unwrapped)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER_MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _CHANNEL_MENTION.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return " ".join(html.unescape(text).split())


@dataclass(frozen=True, slots=True)
class _UserInfo:
    privilege: Privilege
    is_bot: bool
    name: str
    expires: float


class PrivilegeCache:
    """`users.info` lookups, cached (default 10 min) and coalesced per user.

    Many questions from one user arrive together (and the benchmark sends 200):
    one in-flight lookup serves them all. A failed lookup counts as a plain
    member for a short time, so an API hiccup never grants anything.
    """

    def __init__(
        self, client: AsyncWebClient, *, ttl_s: float = 600.0, max_entries: int = 10_000
    ) -> None:
        self._client = client
        self._ttl = ttl_s
        self._max = max_entries
        self._cache: OrderedDict[str, _UserInfo] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[_UserInfo]] = {}

    async def get(self, user_id: str) -> _UserInfo:
        now = time.monotonic()
        hit = self._cache.get(user_id)
        if hit is not None and hit.expires > now:
            return hit
        pending = self._inflight.get(user_id)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[_UserInfo] = asyncio.get_running_loop().create_future()
        self._inflight[user_id] = fut
        try:
            info = await self._lookup(user_id)
            fut.set_result(info)
            return info
        except BaseException as exc:  # cancelled: let waiters fail the same way
            fut.set_exception(exc)
            fut.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(user_id, None)

    async def _lookup(self, user_id: str) -> _UserInfo:
        try:
            resp = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning(
                "users.info failed for %s: %s; treating as member",
                user_id,
                exc.response.get("error"),
            )
            return _UserInfo(Privilege.USER, False, user_id, time.monotonic() + 30)
        user: dict[str, Any] = resp.get("user") or {}
        if user.get("is_primary_owner") or user.get("is_owner"):
            priv = Privilege.OWNER
        elif user.get("is_admin"):
            priv = Privilege.ADMIN
        else:
            priv = Privilege.USER
        info = _UserInfo(
            privilege=priv,
            is_bot=bool(user.get("is_bot")),
            name=str(user.get("real_name") or user.get("name") or user_id),
            expires=time.monotonic() + self._ttl,
        )
        self._cache[user_id] = info
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return info


async def user_ref(cache: PrivilegeCache, team: str, user: str) -> UserRef:
    info = await cache.get(user)
    return UserRef(
        platform="slack",
        id=f"slack:{team}:{user}",
        name=info.name,
        is_bot=info.is_bot,
        privilege=info.privilege,
    )


def incoming_from_command(body: dict[str, Any], user: UserRef) -> Incoming:
    """A `/f1 ...` slash command: the text goes to `Registry.parse` in the core."""
    team = body.get("team_id", "")
    channel = body.get("channel_id", "")
    return Incoming(
        event_id=f"slack:cmd:{body.get('trigger_id') or id(body)}",
        channel=channel_ref(team, channel, name=body.get("channel_name")),
        user=user,
        # A bare `/f1` shows help rather than an "empty question" reply.
        text=str(body.get("text", "")).strip() or "help",
        kind="command",
        conversation_id=None,
    )


def conversation_key(team: str, channel: str, thread_ts: Any) -> str:
    """The conversation id of a Slack thread (its root message's ts)."""
    return f"slack:{team}:{channel}:{thread_ts}"


def incoming_from_event(
    body: dict[str, Any],
    event: dict[str, Any],
    user: UserRef,
    *,
    kind: str,
    bot_user_id: str | None,
) -> Incoming:
    """An app_mention / DM / thread reply. `conversation_id` is the thread's root ts.

    A top-level mention starts a thread rooted at the mention itself (the reply
    goes there), so follow-ups in that thread share its conversation. A
    top-level DM is one running conversation per DM channel.
    """
    team = body.get("team_id") or event.get("team", "")
    channel = event.get("channel", "")
    is_dm = event.get("channel_type") == "im" or channel.startswith("D")
    thread_ts = event.get("thread_ts")
    if thread_ts:
        conversation = conversation_key(team, channel, thread_ts)
    elif is_dm:
        conversation = f"slack:{team}:{channel}"
    else:
        conversation = conversation_key(team, channel, event.get("ts"))
    return Incoming(
        event_id=f"slack:{body.get('event_id') or event.get('client_msg_id') or event.get('ts')}",
        channel=channel_ref(team, channel, is_dm=is_dm),
        user=user,
        text=clean_text(str(event.get("text", "")), bot_user_id),
        kind=kind,  # type: ignore[arg-type]
        conversation_id=conversation,
    )
