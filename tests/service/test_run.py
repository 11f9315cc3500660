"""`slipstream run` as a real process: console only, no tokens."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import select

from storage.db import init_db, make_engine
from storage.models import Event, Season
from storage.models import Session as RaceSession
from storage.service_models import ReminderSent, ReminderSubscription

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed_pending_reminder(url: str) -> None:
    engine = make_engine(url)
    init_db(engine)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(Season.__table__.insert(), [{"year": 2099}])
        conn.execute(Event.__table__.insert(), [{"id": 1, "year": 2099, "round": 1, "name": "Test Grand Prix"}])
        conn.execute(RaceSession.__table__.insert(), [{
            "id": 1, "event_id": 1, "type": "R", "name": "Race", "start_utc": now + dt.timedelta(minutes=30),
            "status": "scheduled"}])
        conn.execute(ReminderSubscription.__table__.insert(),
                     [{"channel_id": "console:local:terminal", "offsets_min": "30"}])
        conn.execute(ReminderSent.__table__.insert(), [{
            "channel_id": "console:local:terminal", "session_id": 1, "offset_min": 30, "created_at": now}])
    engine.dispose()


def _start(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], float, list[str]]:
    """Start `slipstream run`; wall seconds until it says it is ready."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from slipstream.cli import main; main()", "run"],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line)
        if "slipstream: ready" in line:
            break
    return proc, time.monotonic() - t0, lines


def test_run_console_only_starts_answers_healthz_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "LLM_"))}
    env.update(METRICS_HOST="127.0.0.1", METRICS_PORT=str(port),
               FASTF1_CACHE_DIR=str(tmp_path / "ff1"), LOG_LEVEL="INFO")
    # Start-up time is a figure of bench/bench_service.py, not a pass mark here: a timed
    # assertion fails on a loaded CI box for reasons that are not ours.
    url = f"sqlite:///{tmp_path / 'run.db'}"
    _seed_pending_reminder(url)
    proc, wall, lines = _start({**env, "DATABASE_URL": url}, tmp_path)
    try:
        assert "slipstream: ready (console)" in lines[-1], "".join(lines)
        print(f"start-up: {wall:.2f} s wall")

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            health = json.loads(resp.read())
            assert resp.status == 200
        assert health["status"] == "ok" and health["db"] is True
        from storage.migrate import head
        assert health["schema"] == head()  # the store's migration revision
        # The pending reminder is posted by the leader (this process) to the console.
        deadline = time.monotonic() + 30  # generous: a loaded box may be slow to get to it
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
                metrics = resp.read().decode()
            if "slipstream_reminders_sent_total 1.0" in metrics:
                break
            time.sleep(0.1)
        assert "slipstream_reminders_sent_total 1.0" in metrics
        assert "slipstream_leader 1.0" in metrics

        t1 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        stopped = time.monotonic() - t1
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "slipstream: stopped" in err and "Traceback" not in err
    assert stopped < 5, f"took {stopped:.2f} s to stop"
    assert "Test Grand Prix: Race** starts in 30 minutes" in out
    engine = make_engine(url)
    with engine.connect() as conn:
        status = conn.execute(select(ReminderSent.status)).scalar_one()
        lease = conn.execute(select(1).select_from(ReminderSent)).all()
    engine.dispose()
    assert status == "sent" and lease
    # Leadership was released on the way out: the lease row is gone.
    engine = make_engine(url)
    with engine.connect() as conn:
        from storage.service_models import LeaderLease

        assert conn.execute(select(LeaderLease)).all() == []
    engine.dispose()
