"""Two real service processes on one PostgreSQL database; the leader is SIGKILLed mid-race.

The race is the recorded 2023 Italian GP, replayed at 600x as a live feed into
the store (laps revealed as the clock passes them). Reminders go out before the
start, Track Pulse runs incrementally on the growing race, the deliverer posts.
We kill the leader part-way, and check that the other process takes over and
that every reminder and every highlight message is posted exactly once.

The kill can land between A posting a message and recording it. B then re-posts
that row with `maybe_posted=True` and the same idempotency key, and the platform
(Discord nonce; Slack history check) shows one message: the file "platform" of
`FilePoster` does the same, and only for posts so flagged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from storage import pulse_store
from storage.db import init_db, make_engine
from storage.models import Lap
from storage.pulse_models import PulseDelivery
from storage.service_models import JobRun, ReminderSent, ReminderSubscription
from tests.service.helpers import monza_sessions, read_posts, read_rechecks

ROOT = Path(__file__).resolve().parents[2]
SPEED = 600.0
LAP_S = 85.0  # fake seconds per revealed lap (51 laps ~ 72 race minutes, ~7 s real)
RACE_START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=dt.UTC)
CHANNEL = "console:local:pit"

pytestmark = pytest.mark.postgres


def _ingest_monza(url: str, cache: Path) -> None:
    # FastF1 runs in a spawned child: do it from a script, not from inside pytest's process.
    code = (
        "from storage.db import make_engine, init_db\n"
        "from storage.ingest import ingest\n"
        f"e = make_engine({url!r}); init_db(e)\n"
        f"r = ingest(e, 2023, 14, 'R', cache_dir={str(cache)!r}, offline=True, timeout_s=120)\n"
        "assert r.ok and r.sessions[0].outcome == 'added', r\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=180)


def _child(args: dict, err: Path) -> subprocess.Popen[str]:
    # stderr (logs) to a file: a pipe nobody reads can fill up and block the child.
    with err.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.service.leader_child", json.dumps(args)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _tail(err: Path, n: int = 4000) -> str:
    return err.read_text(errors="replace")[-n:] if err.exists() else ""


def _wait_line(proc: subprocess.Popen[str], prefix: str, timeout: float, err: Path) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited ({proc.returncode}): {_tail(err)}")
    raise AssertionError(f"no {prefix!r} within {timeout} s: {_tail(err)}")


def test_leader_killed_mid_race_another_takes_over_exactly_once(pg_url: str, monza_cache: Path,
                                                                tmp_path: Path) -> None:
    _ingest_monza(pg_url, monza_cache)
    engine = make_engine(pg_url)
    init_db(engine)
    race = monza_sessions(engine)["R"]
    # Record the race's laps as the "live feed", then empty the store of them.
    with engine.begin() as conn:
        laps = [dict(r._mapping) for r in conn.execute(select(Lap).where(Lap.session_id == race))]
        conn.execute(delete(Lap).where(Lap.session_id == race))
        conn.execute(ReminderSubscription.__table__.insert(),
                     [{"channel_id": CHANNEL, "session_types": "R", "offsets_min": "60,10"}])
    for r in laps:
        r.pop("id")
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(laps, default=str))
    pulse_store.subscribe(engine, CHANNEL, min_priority="low")
    posts = tmp_path / "posts.jsonl"

    start = tmp_path / "start"  # the children's clocks stand still until this file exists
    common = {"db_url": pg_url, "feed": str(feed), "posts": str(posts), "speed": SPEED,
              "lap_s": LAP_S, "start_file": str(start),
              "fake_t0": (RACE_START - dt.timedelta(minutes=62)).isoformat()}
    errs = {h: tmp_path / f"{h}.stderr" for h in "AB"}
    a = _child({**common, "holder": "A"}, errs["A"])
    b = None
    try:
        # Start-up bounds are generous: importing everything takes seconds on a loaded CI box.
        _wait_line(a, "LEADER A", 90, errs["A"])
        b = _child({**common, "holder": "B"}, errs["B"])
        _wait_line(b, "READY", 90, errs["B"])
        real_t0 = time.time() + 0.5  # both children share the replayed clock from here
        start.with_suffix(".tmp").write_text(repr(real_t0))
        os.replace(start.with_suffix(".tmp"), start)
        # Let A send the reminders and post part of the race (20 laps in the store),
        # then kill it without warning.
        start_real = real_t0 + 62 * 60 / SPEED
        latest = start_real + 40 * LAP_S / SPEED  # past this, kill anyway (mid-race still)
        while True:
            with engine.connect() as conn:
                laps_before = conn.execute(
                    select(func.max(Lap.lap_number)).where(Lap.session_id == race)).scalar() or 0
            if laps_before >= 20 or time.time() > latest:
                break
            time.sleep(0.02)
        posted_by_a = len(read_posts(posts))
        killed_at = time.time()
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)
        line = _wait_line(b, "LEADER B", 60, errs["B"])
        takeover_s = float(line.split()[2]) - killed_at

        # Wait for B to finish the race: every lap in, the live job done, the outbox empty.
        # Hazard: the post-race work (the result, the championship with its title odds) can
        # queue messages just after the live job is done; the state must hold for a while
        # (3 s real, half an hour of the replayed clock) before B is stopped.
        deadline = time.monotonic() + 90
        settled_since: float | None = None
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                live = conn.execute(select(JobRun.status).where(JobRun.key == f"live:{race}")).scalar()
                waiting = conn.execute(select(func.count()).select_from(PulseDelivery).where(
                    PulseDelivery.status.in_(("pending", "claimed")))).scalar_one()
                n_laps = conn.execute(select(func.count()).select_from(Lap).where(Lap.session_id == race)).scalar_one()
            if live == "done" and waiting == 0 and n_laps == len(laps):
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since >= 3.0:
                    break
            else:
                settled_since = None
            time.sleep(0.2)
        b.send_signal(signal.SIGTERM)
        b.wait(timeout=20)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
        for h, err in errs.items():  # shown by pytest only when the test fails
            print(f"--- child {h} stderr (tail) ---\n{_tail(err)}")

    assert b.returncode == 0
    assert 0 < laps_before < 51, "the leader died mid-race"
    assert 0 < posted_by_a, "the first leader had posted before it died"
    assert takeover_s < 60, f"take-over took {takeover_s:.1f} s"
    assert live == "done" and waiting == 0 and n_laps == len(laps) == 958

    all_posts = read_posts(posts)
    by_key = Counter(p["key"] for p in all_posts)
    assert [k for k, n in by_key.items() if n > 1] == [], "something was posted twice"
    # A re-post flagged `maybe_posted` that found its message on the "platform" may only
    # concern a message A posted (A died between posting and recording it, or, for a
    # reminder, A's own claim expired on the 600x clock): never one of B's own.
    rechecks = read_rechecks(posts)
    assert all(r["posted_by"] == a.pid for r in rechecks if r["found"]), rechecks
    pids = {p["pid"] for p in all_posts}
    assert len(pids) == 2, "both processes posted (before and after the take-over)"
    with engine.connect() as conn:
        reminders = conn.execute(select(ReminderSent.offset_min, ReminderSent.status)).all()
        deliveries = conn.execute(select(PulseDelivery.message_id, PulseDelivery.status)).all()
        odd = conn.execute(select(PulseDelivery.id, PulseDelivery.status, PulseDelivery.last_error,
                                  PulseDelivery.highlight_id, PulseDelivery.story)
                           .where(PulseDelivery.status.not_in(("posted", "grouped")))).all()
    assert sorted(reminders) == [(10, "sent"), (60, "sent")]
    assert sum(1 for k in by_key if k.startswith("reminder:")) == 2
    # Every highlight message queued was posted, once, and nothing else was.
    assert deliveries and all(s in ("posted", "grouped") for _, s in deliveries), odd
    # FilePoster returns "m-<idempotency key>"; the outbox recorded it for each posted message
    # (members of a burst posted as one message share its id).
    posted_ids = [m for m, s in deliveries if s == "posted"]
    assert set(posted_ids) == {f"m-{k}" for k in by_key if not k.startswith("reminder:")}
    print(f"take-over {takeover_s:.2f} s; {len(all_posts)} posts; laps at kill {laps_before}; "
          f"maybe_posted re-checks {len(rechecks)} ({sum(r['found'] for r in rechecks)} found)")
    engine.dispose()
