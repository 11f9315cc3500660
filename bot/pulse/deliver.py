"""The outbox deliverer: posts queued Track Pulse messages, once each, in order.

Crash safety, step by step (see `storage.pulse_store` for the claim):
1. claim (row -> `claimed`, our worker id, a lease) — committed before posting;
2. post through the platform's `ChannelPoster` with the row's idempotency key;
3. record the message id (row -> `posted`).
A crash after 1 or 2 leaves a claimed row whose lease runs out; the next
deliverer re-posts it with the same key and `maybe_posted=True`, and the
platform (Discord nonce) or the adapter (Slack: a look at the channel's recent
history for a message carrying the key) turns it into the existing message.
A post that failed in a way that may have reached the platform (anything but
`RateLimited` / `DeliveryError`) is released the same way: still claimed, with
a short lease, so the next attempt is told `maybe_posted` even after a restart.
A crash after 3 loses nothing. Rows are only ever given up as `failed` on a permanent
`DeliveryError`, with the reason stored.

Stories (issue 18): a row with `edit_message_id` updates a message already posted
(a battle, the fastest lap told as one evolving message). With a poster that
defines `edit` it is edited in place, and its row records that message's id;
errors are handled exactly like a post's, and a retry simply edits again (an edit
is idempotent). A poster without `edit` gets the update as a new post.

Pacing belongs to the platform's adapter, which knows its limits (the Slack
poster spaces posts to a channel itself; discord.py honours Discord's buckets).
The deliverer only keeps one message in flight per channel (the claim takes a
channel's oldest row only) and, when a poster answers `RateLimited`, pushes the
row and the channel back by `retry_after`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import cast

from sqlalchemy import Engine

from bot.errors import DeliveryError, RateLimited
from bot.model import ChannelPoster, EditingPoster, Reply, can_edit
from storage import pulse_store
from storage.pulse_store import Claimed

log = logging.getLogger(__name__)

NO_POSTER_RETRY_S = 30.0  # the platform's adapter is not connected (yet): try again later
MAX_BACKOFF_S = 300.0


_ACCEPTS_HINT: dict[type, bool] = {}


def _accepts_maybe_posted(poster: ChannelPoster) -> bool:
    """Whether `poster.post` takes the newer `maybe_posted` keyword (cached per class)."""
    cls = type(poster)
    known = _ACCEPTS_HINT.get(cls)
    if known is None:
        try:
            params = inspect.signature(poster.post).parameters
        except (TypeError, ValueError):
            params = {}
        known = "maybe_posted" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
        )
        _ACCEPTS_HINT[cls] = known
    return known


async def post_once(
    poster: ChannelPoster, channel_id: str, reply: Reply, *, idempotency_key: str,
    maybe_posted: bool,
) -> str:
    """`poster.post`, passing `maybe_posted` when the poster knows the keyword.

    An older poster without it relies on its platform's idempotency key alone.
    """
    if _accepts_maybe_posted(poster):
        return await poster.post(
            channel_id, reply, idempotency_key=idempotency_key, maybe_posted=maybe_posted
        )
    return await poster.post(channel_id, reply, idempotency_key=idempotency_key)


class Deliverer:
    """Posts due outbox rows through the platform posters.

    Args:
        engine: the store.
        posters: platform name ("discord", "slack", "console") -> ChannelPoster.
        clock: UNIX seconds now (tests move it to expire leases).
        worker_id: this deliverer's claim id (random by default).
        lease_s: how long a claim protects a row before another deliverer may retry it.
        batch: rows claimed per round.
        concurrency: posts in flight at once (different channels).
    """

    def __init__(
        self,
        engine: Engine,
        posters: Mapping[str, ChannelPoster],
        clock: Callable[[], float] = time.time,
        *,
        worker_id: str | None = None,
        lease_s: float = 60.0,
        batch: int = 50,
        concurrency: int = 8,
    ) -> None:
        self.engine = engine
        self.posters = dict(posters)
        self.clock = clock
        self.worker_id = worker_id or pulse_store.new_worker_id()
        self.lease_s = lease_s
        self.batch = batch
        self._sem = asyncio.Semaphore(concurrency)
        self._next_ok: dict[str, float] = {}  # channel -> earliest next post (a poster's RateLimited)
        self.posted = 0
        self.failed = 0
        # Our own cost, for metrics and bench/bench_pulse.py: seconds spent claiming and
        # recording (store round trips), over how many rounds.
        self.claim_s = 0.0
        self.record_s = 0.0
        self.rounds = 0

    def add_poster(self, poster: ChannelPoster) -> None:
        """Adapters call this when they connect (`poster_ready`)."""
        self.posters[poster.platform] = poster

    async def run_once(self) -> int:
        """Claim and post one round of due messages; returns how many were posted."""
        now = self.clock()
        # Forget back-offs that ran out, so the map holds only channels still waiting.
        self._next_ok = {c: t for c, t in self._next_ok.items() if t > now}
        paced = list(self._next_ok)
        t0 = time.perf_counter()
        claimed = await asyncio.to_thread(
            pulse_store.claim, self.engine, self.worker_id, now=now, lease_s=self.lease_s,
            limit=self.batch, skip_channels=paced,
        )
        self.claim_s += time.perf_counter() - t0
        self.rounds += 1
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._deliver(c) for c in claimed))
        posted = [(c.id, mid) for c, mid in zip(claimed, results, strict=True) if mid is not None]
        t0 = time.perf_counter()
        done = await asyncio.to_thread(
            pulse_store.mark_posted_many, self.engine, posted, self.worker_id, now=self.clock()
        )
        self.record_s += time.perf_counter() - t0
        if done < len(posted):
            # Our lease ran out mid-post and another deliverer took over: it posted with the
            # same idempotency key (so the platform showed one message) and records it.
            log.warning("pulse: lost %d claim(s) while posting", len(posted) - done)
        self.posted += done
        return done

    async def run_forever(self, stop: asyncio.Event, *, idle_s: float = 1.0) -> None:
        """Deliver until `stop` is set; sleeps `idle_s` when there is nothing due."""
        while not stop.is_set():
            try:
                n = await self.run_once()
            except Exception:  # a DB hiccup must not end delivery; the rows stay queued
                log.exception("pulse deliverer: round failed")
                n = 0
            if n == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle_s)
                except TimeoutError:
                    pass

    async def _deliver(self, row: Claimed) -> str | None:
        """Post one claimed row; its platform message id, or None (released / failed)."""
        platform = row.channel_id.split(":", 1)[0]
        poster = self.posters.get(platform)
        if poster is None:
            await asyncio.to_thread(
                pulse_store.release, self.engine, row.id, self.worker_id,
                not_before=self.clock() + NO_POSTER_RETRY_S, error=f"no poster for {platform}",
            )
            return None
        async with self._sem:
            try:
                if row.edit_message_id is not None and can_edit(poster):
                    message_id = await cast(EditingPoster, poster).edit(
                        row.channel_id, row.edit_message_id, Reply(text=row.text)
                    )
                else:
                    message_id = await post_once(
                        poster, row.channel_id, Reply(text=row.text),
                        idempotency_key=row.idempotency_key, maybe_posted=row.maybe_posted,
                    )
            except RateLimited as exc:
                until = self.clock() + max(0.0, exc.retry_after)
                self._next_ok[row.channel_id] = until
                await asyncio.to_thread(
                    pulse_store.release, self.engine, row.id, self.worker_id,
                    not_before=until, error=f"rate limited ({exc.retry_after:.2f}s)",
                )
                return None
            except DeliveryError as exc:
                log.warning("pulse: %s: permanent failure: %s", row.channel_id, exc)
                self.failed += 1
                await asyncio.to_thread(
                    pulse_store.mark_failed, self.engine, row.id, self.worker_id, str(exc)
                )
                return None
            except Exception as exc:  # transient (network, 5xx): back off, keep the row
                # It may have been posted (the answer was lost): the retry must check first.
                delay = min(MAX_BACKOFF_S, 2.0 ** min(row.attempts, 8))
                log.warning("pulse: %s: post failed (%s), retry in %.0fs", row.channel_id, exc, delay)
                await asyncio.to_thread(
                    pulse_store.release, self.engine, row.id, self.worker_id,
                    not_before=self.clock() + delay, error=f"{type(exc).__name__}: {exc}"[:500],
                    maybe_posted=True,
                )
                return None
        return message_id
