"""Sliding-window rate limits and a bounded TTL set for event de-duplication.

`SlidingWindowLimiter` and `TTLSet` are plain in-memory structures with a bounded
size: a chat bot sees an unbounded stream of users and event ids, and neither may
grow forever. `SharedLimiter` keeps the limiter's contract but counts in the store
(`storage.claims`), so several workers on one database share one limit; when the
store cannot be reached it counts in this process rather than refuse or crash.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class SlidingWindowLimiter:
    """At most `limit` hits per `window_s` per key.

    `hit(key)` records a hit and returns None when allowed, or the seconds to
    wait when the key is over its limit (a refused hit is not recorded).
    """

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        if self.limit <= 0:
            return None  # 0 = unlimited
        now = self._clock()
        q = self._hits.get(key)
        if q is None:
            q = deque()
            self._hits[key] = q
            if len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)  # forget the least recently seen key
        else:
            self._hits.move_to_end(key)
        while q and now - q[0] >= self.window_s:
            q.popleft()
        if len(q) >= self.limit:
            return max(0.0, self.window_s - (now - q[0]))
        q.append(now)
        return None


class TTLSet:
    """Remembers keys for `ttl_s` seconds, at most `max_size` of them."""

    def __init__(
        self,
        ttl_s: float = 900.0,
        max_size: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def add(self, key: str) -> bool:
        """Record `key`; return False when it was already seen within the TTL."""
        now = self._clock()
        while self._seen:
            oldest, t = next(iter(self._seen.items()))
            if now - t < self.ttl_s and len(self._seen) < self.max_size:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)


class HitCounter(Protocol):
    """Counts hits across workers (`storage.store.Store.hit_rate`)."""

    async def hit_rate(self, key: str, *, limit: int, window_s: float) -> float | None: ...


class SharedLimiter:
    """`SlidingWindowLimiter`'s contract (`await hit(key)`: None or seconds to wait),
    counted in the store so N workers allow the limit, not N times it.

    The store's count is a sliding-window estimate over two fixed windows (see
    `storage.claims.hit_rate`). A store error fails open to this process's own
    limiter: a fan still gets an answer, with one warning line in the log.
    """

    def __init__(self, limit: int, window_s: float, counter: HitCounter | None, *, scope: str) -> None:
        self.limit = limit
        self.window_s = window_s
        self.scope = scope  # namespaces the key in the shared table ("user", "chan", ...)
        self._counter = counter
        self._local = SlidingWindowLimiter(limit, window_s)

    async def hit(self, key: str, *, shared: bool = True) -> float | None:
        """Record a hit; `shared=False` counts in this process only (a platform no other
        worker receives, such as the console)."""
        if self.limit <= 0:
            return None  # 0 = unlimited
        if self._counter is None or not shared:
            return self._local.hit(key)
        try:
            return await self._counter.hit_rate(f"{self.scope}:{key}", limit=self.limit, window_s=self.window_s)
        except Exception as exc:  # fail open: an unreachable store must not silence the bot
            log.warning("rate limit %s:%s counted in this process only: store error %s", self.scope, key,
                        type(exc).__name__)
            return self._local.hit(key)
