"""The deliverer tells the poster when a message may already be on the platform, and
still works with posters written before that keyword existed (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from bot.errors import RateLimited
from bot.model import Platform, Reply
from bot.pulse.deliver import Deliverer
from bot.pulse.types import Priority, PulseHighlight
from storage import pulse_store
from storage.pulse_models import CLAIMED, POSTED
from tests.fakes.pulse_platform import FakePlatform, FakePoster
from tests.pulse.conftest import TEAMS, add_race_session


def _queue(engine: Engine, channel: str, n: int) -> list[str]:
    sid = add_race_session(engine)
    hs = [PulseHighlight(key=f"pit_stop:{lap}:LEC", kind="pit_stop", lap=lap, priority=Priority.HIGH,
                         drivers=("LEC",), facts={"lap": lap}) for lap in range(20, 20 + n)]
    stored = pulse_store.save_highlights(engine, sid, hs, teams=TEAMS)
    pulse_store.enqueue(engine, [pulse_store.Message(channel, (h,), f"stop {h.lap}", 0.0)
                                 for h in stored])
    return [pulse_store.idempotency_key(channel, [h.global_key]) for h in stored]


class Flaky(FakePoster):
    """Fails the scripted calls with the given exception, otherwise posts."""

    def __init__(self, store: FakePlatform, errors: dict[int, Exception]) -> None:
        super().__init__(store, "console")
        self.errors = errors

    async def post(self, channel_id: str, reply: Reply, *, idempotency_key: str,
                   maybe_posted: bool = False) -> str:
        if self.calls + 1 in self.errors:
            self.calls += 1
            self.hints.append((idempotency_key, maybe_posted))
            raise self.errors[self.calls]
        return await super().post(channel_id, reply, idempotency_key=idempotency_key,
                                  maybe_posted=maybe_posted)


async def test_maybe_posted_only_after_an_ambiguous_attempt(engine: Engine, tmp_path: Path) -> None:
    keys = _queue(engine, "console:local:h", 3)
    clock = [time.time()]
    poster = Flaky(FakePlatform(tmp_path / "p.db"),
                   {1: RateLimited(1.0), 2: ConnectionResetError("answer lost")})
    dl = Deliverer(engine, {"console": poster}, clock=lambda: clock[0])
    assert await dl.run_once() == 0          # 429: certainly not posted -> pending again
    clock[0] += 2
    assert await dl.run_once() == 0          # connection lost: it may be on the platform
    assert pulse_store.outbox_counts(engine) == {CLAIMED: 1, "pending": 2}
    clock[0] += 1
    assert await dl.run_once() == 0          # backed off: not retried before its time
    clock[0] += 60
    while await dl.run_once():
        clock[0] += 1
    assert poster.hints == [(keys[0], False), (keys[0], False), (keys[0], True),
                            (keys[1], False), (keys[2], False)]
    assert pulse_store.outbox_counts(engine) == {POSTED: 3}


async def test_expired_claim_is_retried_as_maybe_posted(engine: Engine, tmp_path: Path) -> None:
    keys = _queue(engine, "console:local:e", 1)
    now = time.time()
    dead = pulse_store.claim(engine, "dead-worker", now=now, lease_s=5)  # then the worker died
    assert [c.maybe_posted for c in dead] == [False]
    poster = FakePoster(FakePlatform(tmp_path / "p.db"))
    dl = Deliverer(engine, {"console": poster}, clock=lambda: now + 10)
    assert await dl.run_once() == 1
    assert poster.hints == [(keys[0], True)]


class OldPoster:
    """A poster written against the first protocol: no `maybe_posted` keyword."""

    platform: Platform = "console"

    def __init__(self) -> None:
        self.posted: list[str] = []

    async def post(self, channel_id: str, reply: Reply, *, idempotency_key: str) -> str:
        self.posted.append(idempotency_key)
        return f"m{len(self.posted)}"


async def test_posters_without_the_keyword_still_work(engine: Engine) -> None:
    keys = _queue(engine, "console:local:old", 2)
    now = time.time()
    pulse_store.claim(engine, "dead-worker", now=now, lease_s=5)
    old = OldPoster()
    dl = Deliverer(engine, {"console": old}, clock=lambda: now + 10)
    while await dl.run_once():
        pass
    assert old.posted == keys
    assert pulse_store.outbox_counts(engine) == {POSTED: 2}
