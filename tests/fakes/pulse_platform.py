"""A fake chat platform for Track Pulse delivery tests and benchmarks.

It behaves like the parts of Discord / Slack the deliverer relies on:
- messages live in a SQLite file, so they survive the death of the process
  that posted them (crash tests kill that process with SIGKILL);
- a post carrying an idempotency key the channel has already seen returns the
  existing message instead of a new one (Discord's `nonce` + `enforce_nonce`);
- a per-channel rate limit answers `RateLimited(retry_after)` like a 429;
- a message can be edited by id (Discord's PATCH, Slack's chat.update).
Hooks let a test act right before or after the platform stored a message.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.errors import DeliveryError, RateLimited
from bot.model import Platform, Reply


class FakePlatform:
    def __init__(self, path: str | Path, *, min_interval_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = str(path)
        self.min_interval_s = min_interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self.rate_limited = 0
        self.attempts = 0
        self.gone: set[str] = set()  # channels that no longer exist (permanent failure)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, channel TEXT, "
                "nonce TEXT, text TEXT, edits INTEGER NOT NULL DEFAULT 0, UNIQUE(channel, nonce))"
            )

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def store(self, channel: str, nonce: str, text: str) -> tuple[str, bool]:
        """Return (message id, created)."""
        with self._lock, self._db() as db:
            self.attempts += 1
            if channel in self.gone:
                raise DeliveryError(f"unknown channel {channel}")
            row = db.execute("SELECT id FROM message WHERE channel=? AND nonce=?", (channel, nonce)).fetchone()
            if row:
                return str(row[0]), False
            now = self.clock()
            last = self._last.get(channel)
            if last is not None and now - last < self.min_interval_s:
                self.rate_limited += 1
                raise RateLimited(self.min_interval_s - (now - last))
            self._last[channel] = now
            cur = db.execute("INSERT INTO message (channel, nonce, text) VALUES (?, ?, ?)",
                             (channel, nonce, text))
            return str(cur.lastrowid), True

    def edit(self, channel: str, message_id: str, text: str) -> None:
        """Replace a message's text, like Discord's PATCH / Slack's chat.update (same
        failures as a post: a gone channel, the channel's rate limit, an unknown message)."""
        with self._lock, self._db() as db:
            self.attempts += 1
            if channel in self.gone:
                raise DeliveryError(f"unknown channel {channel}")
            now = self.clock()
            last = self._last.get(channel)
            if last is not None and now - last < self.min_interval_s:
                self.rate_limited += 1
                raise RateLimited(self.min_interval_s - (now - last))
            self._last[channel] = now
            cur = db.execute("UPDATE message SET text=?, edits=edits+1 WHERE id=? AND channel=?",
                             (text, int(message_id), channel))
            if cur.rowcount != 1:
                raise DeliveryError(f"unknown message {message_id} in {channel}")

    def edit_counts(self, channel: str) -> list[tuple[str, int]]:
        """(message id, times edited) in posting order."""
        with self._db() as db:
            rows = db.execute("SELECT id, edits FROM message WHERE channel=? ORDER BY id",
                              (channel,)).fetchall()
        return [(str(i), int(n)) for i, n in rows]

    def messages(self, channel: str | None = None) -> list[tuple[str, str, str]]:
        """(channel, nonce, text) in posting order."""
        with self._db() as db:
            if channel is None:
                rows = db.execute("SELECT channel, nonce, text FROM message ORDER BY id").fetchall()
            else:
                rows = db.execute("SELECT channel, nonce, text FROM message WHERE channel=? ORDER BY id",
                                  (channel,)).fetchall()
        return [(c, n, t) for c, n, t in rows]


class FakePoster:
    """A `ChannelPoster` over a FakePlatform, with optional hooks around the store step."""

    def __init__(self, platform_store: FakePlatform, platform: Platform = "console", *,
                 before: Callable[[int], None] | None = None,
                 after: Callable[[int], None] | None = None) -> None:
        self.store = platform_store
        self.platform: Platform = platform
        self.before = before
        self.after = after
        self.calls = 0
        self.hints: list[tuple[str, bool]] = []  # (idempotency key, maybe_posted) per call
        self.edits: list[tuple[str, str, str]] = []  # (channel, message id, text) per edit call

    async def post(self, channel_id: str, reply: Reply, *, idempotency_key: str,
                   maybe_posted: bool = False) -> str:
        self.calls += 1
        self.hints.append((idempotency_key, maybe_posted))
        if self.before:
            self.before(self.calls)
        mid, _created = self.store.store(channel_id, idempotency_key, reply.text)
        if self.after:
            self.after(self.calls)
        return mid

    async def edit(self, channel_id: str, message_id: str, reply: Reply) -> str:
        """Edit a story's message in place (what the Discord / Slack posters do)."""
        self.calls += 1
        self.edits.append((channel_id, message_id, reply.text))
        if self.before:
            self.before(self.calls)
        self.store.edit(channel_id, message_id, reply.text)
        if self.after:
            self.after(self.calls)
        return message_id


class PostOnlyPoster:
    """A FakePoster seen through `post` only: a platform poster without `edit`."""

    def __init__(self, inner: FakePoster) -> None:
        self.inner = inner
        self.platform: Platform = inner.platform

    async def post(self, channel_id: str, reply: Reply, *, idempotency_key: str,
                   maybe_posted: bool = False) -> str:
        return await self.inner.post(channel_id, reply, idempotency_key=idempotency_key,
                                     maybe_posted=maybe_posted)
