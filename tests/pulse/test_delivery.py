"""Outbox delivery on SQLite and PostgreSQL: exactly once through crashes, filters,
spoiler delay, unsubscribe, rate limits, concurrent deliverers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.pulse.commentary import Commentator
from bot.pulse.deliver import Deliverer
from bot.pulse.pipeline import enqueue_for_subscribers
from bot.pulse.types import KINDS, Priority, PulseHighlight
from storage import pulse_store
from storage.pulse_models import CLAIMED, POSTED, SKIPPED
from tests.conftest import ROOT
from tests.fakes.pulse_platform import FakePlatform, FakePoster
from tests.pulse.conftest import TEAMS, add_race_session


async def _setup(engine: Engine, highlights: list[PulseHighlight], subs: dict[str, dict],
                 now: float) -> list[pulse_store.StoredHighlight]:
    sid = add_race_session(engine)
    stored = pulse_store.save_highlights(engine, sid, highlights, teams=TEAMS, now=now)
    for channel, kw in subs.items():
        pulse_store.subscribe(engine, channel, **kw)
    await enqueue_for_subscribers(engine, stored, session_type="R", commentator=Commentator(), now=now)
    return stored


async def _drain(dl: Deliverer, rounds: int = 10_000) -> None:
    for _ in range(rounds):
        if not await dl.run_once():
            return


def _db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize("mode", ["after_post", "before_post"])
async def test_crash_then_restart_posts_each_highlight_exactly_once(
    engine: Engine, monza_highlights: list[PulseHighlight], tmp_path: Path, mode: str
) -> None:
    now = time.time()
    # Posts only: an evolving story's edits reuse its first message (tests/pulse/test_stories.py);
    # channels that name their kinds get each highlight as it comes (no digest).
    hs = [h for h in monza_highlights if h.priority >= Priority.MEDIUM and not h.facts.get("story")][:24]
    every = {"min_priority": "medium", "kinds": sorted(KINDS)}
    await _setup(engine, hs, {"console:local:a": every, "console:local:b": every}, now)
    queued = pulse_store.outbox_counts(engine)
    expected = queued["pending"]  # messages (a burst's extra rows ride along as "grouped")
    rows = expected + queued.get("grouped", 0)
    assert expected >= 20
    platform_db = tmp_path / "platform.db"
    kill_at = 7
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tests.pulse.crash_child", _db_url(engine), str(platform_db), mode,
         str(kill_at)],
        cwd=ROOT, capture_output=True, timeout=120,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    platform = FakePlatform(platform_db)
    counts = pulse_store.outbox_counts(engine)
    if mode == "after_post":
        # The 7th message is on the platform but our row still says "claimed".
        assert len(platform.messages()) == kill_at and counts[POSTED] == kill_at - 1
        assert counts[CLAIMED] == 1
    else:
        assert len(platform.messages()) == kill_at - 1 and counts[POSTED] == kill_at - 1
        assert counts[CLAIMED] == 1  # claimed, never posted
    # Restart. Before the dead worker's lease runs out nobody may touch its row...
    poster = FakePoster(platform, "console")
    early = Deliverer(engine, {"console": poster})
    await _drain(early)
    assert pulse_store.outbox_counts(engine)[CLAIMED] == 1
    # ...after it, the row is re-posted with the same key and the platform keeps one copy.
    later = Deliverer(engine, {"console": poster}, clock=lambda: time.time() + 30)
    await _drain(later)
    counts = pulse_store.outbox_counts(engine)
    assert counts.get(POSTED) == rows and set(counts) == {POSTED}
    msgs = platform.messages()
    assert len(msgs) == expected
    assert len({(c, n) for c, n, _ in msgs}) == expected  # no nonce twice
    for channel in ("console:local:a", "console:local:b"):
        got = pulse_store.posted_for_channel(engine, channel)
        assert len(got) == len({k for k, _ in got})  # each highlight once
        assert [m for m in (mid for _, mid in got)] and all(mid for _, mid in got)
        # The recorded ids are the platform's ids (the crashed post was matched, not duplicated).
        assert len({mid for _, mid in got}) == len(platform.messages(channel))


async def test_filters_spoiler_delay_and_unsubscribe(engine: Engine, monza_highlights: list[PulseHighlight],
                                                   tmp_path: Path) -> None:
    t0 = time.time()
    clock = [t0]
    stored = await _setup(engine, monza_highlights, {
        "console:local:ver": {"drivers": ["VER"], "min_priority": "low"},
        "console:local:ferrari": {"teams": ["ferrari"], "kinds": ["pit_stop", "overtake", "lead_change"],
                                  "min_priority": "low"},
        "console:local:crit": {"min_priority": "critical"},
        "console:local:late": {"min_priority": "critical", "spoiler_delay_s": 3600},
    }, t0)
    platform = FakePlatform(tmp_path / "p.db")
    dl = Deliverer(engine, {"console": FakePoster(platform)}, clock=lambda: clock[0])
    await _drain(dl)
    by_key = {h.key: h for h in stored}
    ver = pulse_store.posted_for_channel(engine, "console:local:ver")
    assert ver
    for key, _ in ver:
        h = by_key[key]
        assert "VER" in h.drivers or not h.drivers or h.kind in ("result", "championship")
    assert "lead_change:15:VER" in {k for k, _ in ver}
    fer = pulse_store.posted_for_channel(engine, "console:local:ferrari")
    assert fer and all(by_key[k].kind in ("pit_stop", "overtake", "lead_change") for k, _ in fer)
    assert all({"SAI", "LEC"} & set(by_key[k].drivers) for k, _ in fer)
    crit = {k for k, _ in pulse_store.posted_for_channel(engine, "console:local:crit")}
    assert crit == {h.key for h in stored if h.priority is Priority.CRITICAL}
    # Spoiler delay: nothing yet for the delayed channel.
    assert pulse_store.posted_for_channel(engine, "console:local:late") == []
    # Unsubscribe the VER channel, then new highlights arrive and the delay passes.
    assert pulse_store.unsubscribe(engine, "console:local:ver") is True
    assert pulse_store.unsubscribe(engine, "console:local:ver") is False
    before = len(platform.messages("console:local:ver"))
    sid = stored[0].session_id
    extra = [PulseHighlight(key="lead_change:99:VER", kind="lead_change", lap=52, priority=Priority.CRITICAL,
                            drivers=("VER", "PER"), facts={"leader": "VER", "previous_leader": "PER",
                                                           "cause": "on track", "position": 1,
                                                           "event": "Italian Grand Prix", "year": 2023})]
    new = pulse_store.save_highlights(engine, sid, extra, teams=TEAMS, now=t0 + 10)
    await enqueue_for_subscribers(engine, new, session_type="R", commentator=Commentator(), now=t0 + 10)
    clock[0] = t0 + 3700
    await _drain(dl)
    assert len(platform.messages("console:local:ver")) == before
    late = {k for k, _ in pulse_store.posted_for_channel(engine, "console:local:late")}
    assert late == crit | {"lead_change:99:VER"}
    assert "lead_change:99:VER" in {k for k, _ in pulse_store.posted_for_channel(engine, "console:local:crit")}


async def test_rate_limits_order_and_bursts(engine: Engine, monza_highlights: list[PulseHighlight],
                                          tmp_path: Path) -> None:
    now = time.time()
    stored = await _setup(engine, monza_highlights, {"slack:T1:C1": {"min_priority": "low",
                                                                     "kinds": ["pit_stop"]}}, now)
    # The platform's interval must be well above one deliverer round (claim + post + record,
    # tens of ms on a loaded PostgreSQL) or it never pushes back and the test proves nothing.
    platform = FakePlatform(tmp_path / "p.db", min_interval_s=0.2)
    dl = Deliverer(engine, {"slack": FakePoster(platform, "slack")})
    deadline = time.monotonic() + 60
    while pulse_store.outbox_counts(engine).get("pending") and time.monotonic() < deadline:
        await dl.run_once()
        await asyncio.sleep(0.01)
    assert platform.rate_limited > 0  # the platform pushed back and we waited, not dropped
    msgs = platform.messages("slack:T1:C1")
    stops = [h for h in stored if h.kind == "pit_stop"]
    # Lap 20's three stops (LEC, STR, VER) went out as ONE message, told on lap 21 when
    # their out-laps were done (a channel that chose kinds gets them as they come, no digest).
    lap20 = [t for _, _, t in msgs if "Lap 21 · 3 pit stops" in t]
    assert len(lap20) == 1 and all(d in lap20[0] for d in ("VER", "LEC", "STR"))
    got = pulse_store.posted_for_channel(engine, "slack:T1:C1")
    assert sorted(k for k, _ in got) == sorted(h.key for h in stops)
    # In order: the laps of the messages never go backwards.
    laps = [int(t.split("Lap ", 1)[1].split(" ", 1)[0]) for _, _, t in msgs]
    assert laps == sorted(laps)


async def test_two_deliverers_never_post_the_same_row(engine: Engine, monza_highlights: list[PulseHighlight],
                                                      tmp_path: Path) -> None:
    now = time.time()
    subs = {f"console:local:c{i}": {"min_priority": "medium"} for i in range(6)}
    # Posts only: an evolving story's edits reuse its first message (tests/pulse/test_stories.py).
    await _setup(engine, [h for h in monza_highlights if not h.facts.get("story")], subs, now)
    expected = pulse_store.outbox_counts(engine)["pending"]
    platform = FakePlatform(tmp_path / "p.db")
    a = Deliverer(engine, {"console": FakePoster(platform)}, batch=5)
    b = Deliverer(engine, {"console": FakePoster(platform)}, batch=5)
    deadline = time.monotonic() + 60
    while pulse_store.outbox_counts(engine).get("pending") and time.monotonic() < deadline:
        await asyncio.gather(a.run_once(), b.run_once())
    assert a.posted + b.posted == expected
    assert platform.attempts == expected  # nobody re-posted a row someone else had
    assert len(platform.messages()) == expected
    assert not [k for k, n in Counter(n for _, n, _ in platform.messages()).items() if n > 1]


async def test_subscription_validation(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown highlight kind"):
        pulse_store.subscribe(engine, "console:local:x", kinds=["overtakes!"])
    with pytest.raises(ValueError, match="tone"):
        pulse_store.subscribe(engine, "console:local:x", tone="shouty")
    sub = pulse_store.subscribe(engine, "console:local:x", drivers=["ver", " lec"], min_priority="high")
    assert sub.drivers == ("LEC", "VER") and sub.min_priority is Priority.HIGH
    assert pulse_store.subscribe(engine, "console:local:x").drivers == ()  # replaced, not merged
    assert [s.channel_id for s in pulse_store.list_subscriptions(engine)] == ["console:local:x"]
    assert pulse_store.get_subscription(engine, "console:local:none") is None
    assert pulse_store.outbox_counts(engine).get(SKIPPED) is None
