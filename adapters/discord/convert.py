"""discord.py events -> the neutral `bot.model.Incoming`.

Ids are namespaced: channels `discord:<guild>:<channel>` (DMs use `@me` for the
guild, as Discord's own URLs do), users `discord:<user>`. The privilege put on
the `UserRef` is what Discord says about the member (Manage Server, Administrator,
configured moderator roles); the core checks it on every privileged command.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import discord

from bot.model import ChannelRef, CommandCall, Incoming, Privilege, UserRef

DM_GUILD = "@me"


def channel_key(guild_id: int | None, channel_id: int) -> str:
    return f"discord:{guild_id if guild_id is not None else DM_GUILD}:{channel_id}"


def parse_channel_key(channel_id: str) -> int:
    """The Discord channel snowflake of a namespaced channel id (`discord:<guild>:<channel>`)."""
    parts = channel_id.split(":")
    if len(parts) != 3 or parts[0] != "discord" or not parts[2].isdigit():
        raise ValueError(f"not a Discord channel id: {channel_id!r}")
    return int(parts[2])


def privilege_of(
    user: discord.abc.User,
    guild: discord.Guild | None,
    *,
    permissions: discord.Permissions | None = None,
    moderator_role_ids: Iterable[int] = (),
) -> Privilege:
    """What Discord says about this user. DMs carry no server role: USER."""
    if guild is None or not isinstance(user, discord.Member):
        return Privilege.USER
    if guild.owner_id == user.id:
        return Privilege.ADMIN
    perms = permissions if permissions is not None else user.guild_permissions
    if perms.administrator:
        return Privilege.ADMIN
    if perms.manage_guild:
        return Privilege.MODERATOR
    wanted = set(moderator_role_ids)
    if wanted and any(r.id in wanted for r in user.roles):
        return Privilege.MODERATOR
    return Privilege.USER


def user_ref(
    user: discord.abc.User,
    guild: discord.Guild | None,
    *,
    permissions: discord.Permissions | None = None,
    moderator_role_ids: Iterable[int] = (),
) -> UserRef:
    return UserRef(
        platform="discord",
        id=f"discord:{user.id}",
        name=user.display_name,
        is_bot=user.bot,
        privilege=privilege_of(
            user, guild, permissions=permissions, moderator_role_ids=moderator_role_ids
        ),
    )


def channel_ref(channel: Any, guild_id: int | None) -> ChannelRef:
    is_dm = guild_id is None
    return ChannelRef(
        platform="discord",
        id=channel_key(guild_id, channel.id),
        is_dm=is_dm,
        name=getattr(channel, "name", None),
    )


def from_interaction(
    interaction: discord.Interaction,
    command: str,
    args: dict[str, Any],
    *,
    moderator_role_ids: Iterable[int] = (),
) -> Incoming:
    """A slash command whose options Discord already parsed and typed."""
    channel_id = interaction.channel_id or 0
    guild_id = interaction.guild_id
    return Incoming(
        event_id=f"discord:i:{interaction.id}",
        channel=ChannelRef(
            platform="discord",
            id=channel_key(guild_id, channel_id),
            is_dm=guild_id is None,
            name=getattr(interaction.channel, "name", None),
        ),
        user=user_ref(
            interaction.user,
            interaction.guild,
            permissions=interaction.permissions if guild_id is not None else None,
            moderator_role_ids=moderator_role_ids,
        ),
        text="",
        kind="command",
        command=CommandCall(name=command, args={k: v for k, v in args.items() if v is not None}),
        conversation_id=f"{channel_key(guild_id, channel_id)}:{interaction.id}",
    )


_MENTION_RE_CACHE: dict[int, re.Pattern[str]] = {}


def strip_mention(content: str, bot_id: int) -> str:
    """The message without the bot's own `<@id>` / `<@!id>` mention(s)."""
    rx = _MENTION_RE_CACHE.get(bot_id)
    if rx is None:
        rx = _MENTION_RE_CACHE[bot_id] = re.compile(rf"<@!?{bot_id}>")
    return re.sub(r"\s{2,}", " ", rx.sub("", content)).strip()


class ConversationIndex:
    """Which conversation a bot message belongs to, so a reply to it continues that conversation.

    Bounded (LRU): after a restart, or for very old messages, a reply to the bot
    starts a fresh conversation rooted at the replied-to message, never an error.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._by_message: OrderedDict[int, str] = OrderedDict()

    def remember(self, message_id: int, conversation_id: str) -> None:
        self._by_message[message_id] = conversation_id
        self._by_message.move_to_end(message_id)
        while len(self._by_message) > self._capacity:
            self._by_message.popitem(last=False)

    def lookup(self, message_id: int) -> str | None:
        return self._by_message.get(message_id)


def from_message(
    message: discord.Message,
    bot_user: discord.ClientUser,
    conversations: ConversationIndex,
    *,
    moderator_role_ids: Iterable[int] = (),
    follow_threads: frozenset[int] = frozenset(),
) -> Incoming | None:
    """A mention, DM, reply to the bot or thread message as an `Incoming`; None when not for us.

    Conversation keys: a thread is one conversation (`discord:<g>:<thread>`); in a
    channel the chain of replies is, keyed by the first message of the chain.
    """
    if message.author.id == bot_user.id:
        return None
    guild = message.guild
    guild_id = guild.id if guild is not None else None
    channel = message.channel
    base = channel_key(guild_id, channel.id)
    mentioned = any(u.id == bot_user.id for u in message.mentions)
    ref_id = message.reference.message_id if message.reference is not None else None
    ref = message.reference.resolved if message.reference is not None else None
    replying_to_bot = isinstance(ref, discord.Message) and ref.author.id == bot_user.id
    if ref_id is not None and conversations.lookup(ref_id) is not None:
        replying_to_bot = True
    in_thread = isinstance(channel, discord.Thread)

    if guild is None:
        kind = "dm"
        conversation_id = base
    elif in_thread and (mentioned or replying_to_bot or channel.id in follow_threads):
        kind = "thread_reply"
        conversation_id = base
    elif replying_to_bot and ref_id is not None:
        kind = "thread_reply"
        conversation_id = conversations.lookup(ref_id) or f"{base}:{ref_id}"
    elif mentioned:
        kind = "mention"
        conversation_id = f"{base}:{message.id}"
    else:
        return None

    text = strip_mention(message.content, bot_user.id)
    if not text and kind != "mention":
        # Without the message-content intent Discord sends empty content for
        # messages that neither mention us nor are DMs: nothing to answer.
        return None
    return Incoming(
        event_id=f"discord:m:{message.id}",
        channel=ChannelRef(
            platform="discord", id=base, is_dm=guild is None, name=getattr(channel, "name", None)
        ),
        user=user_ref(message.author, guild, moderator_role_ids=moderator_role_ids),
        text=text,
        kind=kind,  # type: ignore[arg-type]
        conversation_id=conversation_id,
    )
