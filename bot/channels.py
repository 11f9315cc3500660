"""Per-channel policy (what a moderator set with `/f1 settings`), cached for the hot path.

The dispatcher asks for the policy of every event's channel, so the lookup must
cost a dict read, not a database round trip: `ChannelPolicyCache` keeps each
channel's policy for a short TTL (a change made by another process shows up
within it) and drops a channel at once when this process changes it
(`invalidate`, called by the dispatcher after a moderator command). Concurrent
misses for one channel share one load.

The loader (a read of the community store) is supplied by `bot.policy.install_hooks`;
this module imports no storage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.model import ChannelRef

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """How the bot behaves in one channel. None = not set here: use the global default."""

    answers: bool = True  # False: free questions (and /f1 ask) are not answered; commands still work
    llm: bool | None = None  # False: data-only answers even when an LLM is configured
    rate_user_per_min: int | None = None  # per user, in this channel
    rate_channel_per_min: int | None = None
    style: Any | None = None  # bot.prompting.Style (tone, length, language) or None


PolicyLoader = Callable[[ChannelRef], Awaitable[ChannelPolicy | None]]


class ChannelPolicyCache:
    """Channel id → policy, loaded on first use and kept `ttl_s` seconds (bounded LRU)."""

    def __init__(
        self,
        loader: PolicyLoader,
        *,
        ttl_s: float = 10.0,
        max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ChannelPolicy | None]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[ChannelPolicy | None]] = {}
        self._generation: dict[str, int] = {}
        self.loads = 0  # how many times the loader ran (tests, metrics)

    async def get(self, channel: ChannelRef) -> ChannelPolicy | None:
        key = channel.id
        hit = self._entries.get(key)
        now = self._clock()
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[ChannelPolicy | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = fut
        gen = self._generation.get(key, 0)
        try:
            self.loads += 1
            policy = await self._loader(channel)
        except Exception:
            # The database may be briefly away: answer with the defaults, retry next time.
            log.exception("channel settings for %s could not be read; using defaults", key)
            policy = None
            gen = -1  # do not cache a failure
        finally:
            if self._pending.get(key) is fut:
                del self._pending[key]
        if gen == self._generation.get(key, 0):  # not invalidated while loading
            self._entries[key] = (self._clock(), policy)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        if not fut.done():
            fut.set_result(policy)
        return policy

    def invalidate(self, channel_id: str | None = None) -> None:
        """Forget one channel (or all): the next event reads the stored settings again."""
        keys = list(self._entries) if channel_id is None else [channel_id]
        for key in keys:
            self._entries.pop(key, None)
            self._generation[key] = self._generation.get(key, 0) + 1
            self._pending.pop(key, None)
        if len(self._generation) > self.max_entries:
            self._generation.clear()
