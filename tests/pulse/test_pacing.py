"""Pacing lives in the platform's adapter: the deliverer adds no spacing of its own, and
only a poster's `RateLimited` holds a channel back (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from bot.pulse.deliver import Deliverer
from storage import pulse_store
from tests.fakes.pulse_platform import FakePlatform, FakePoster
from tests.pulse.test_delivery_hints import _queue


async def test_deliverer_adds_no_pacing_of_its_own(engine: Engine, tmp_path: Path) -> None:
    _queue(engine, "discord:1:2", 4)
    platform = FakePlatform(tmp_path / "p.db")
    now = time.time()
    # A frozen clock: any spacing the deliverer added itself would hold the channel back.
    dl = Deliverer(engine, {"discord": FakePoster(platform, "discord")}, clock=lambda: now)
    assert [await dl.run_once() for _ in range(4)] == [1, 1, 1, 1]  # one in flight per channel
    assert len(platform.messages("discord:1:2")) == 4


async def test_a_posters_rate_limit_holds_the_channel_back(engine: Engine, tmp_path: Path) -> None:
    _queue(engine, "discord:1:3", 2)
    clock = [1000.0]
    platform = FakePlatform(tmp_path / "p.db", min_interval_s=5.0, clock=lambda: clock[0])
    dl = Deliverer(engine, {"discord": FakePoster(platform, "discord")}, clock=lambda: clock[0])
    assert await dl.run_once() == 1
    assert await dl.run_once() == 0  # the platform said "wait 5 s": released, not lost
    assert await dl.run_once() == 0  # and the channel is not even claimed until then
    assert platform.rate_limited == 1
    clock[0] += 5.0
    assert await dl.run_once() == 1
    assert pulse_store.outbox_counts(engine) == {"posted": 2}
