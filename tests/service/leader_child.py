"""A service process for the leader take-over test: `python -m tests.service.leader_child ARGS_JSON`.

It runs `Service.run` (leader election on the real database) with a clock that
replays the 2023 Italian GP at `speed`x, a recorded lap feed revealed into the
store lap by lap (the live mode), Track Pulse, the real Deliverer and the
reminder sender, posting to a shared file. It prints `READY` once started, `LEADER` when elected; its clock stands still
until the test writes the real start instant to `start_file`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from bot.scheduling import Policy
from slipstream.service import IngestResult, Service, ServiceConfig
from storage.db import make_engine, upsert
from storage.jobs import SessionSlot
from storage.leader import make_leadership
from storage.models import Lap
from tests.service.helpers import FilePoster


class ReplayFeed:
    """Stands in for live timing: reveals recorded laps whose lap has 'happened' by the clock."""

    def __init__(self, engine: Engine, laps: list[dict[str, Any]], clock: Any, lap_s: float) -> None:
        self.engine = engine
        self.laps = laps
        self.clock = clock
        self.lap_s = lap_s
        self.total = max(r["lap_number"] for r in laps)

    def _due(self, slot: SessionSlot) -> int:
        assert slot.start_utc is not None
        return int((self.clock() - slot.start_utc).total_seconds() // self.lap_s)

    async def poll(self, slot: SessionSlot) -> int:
        upto = min(self._due(slot), self.total)

        def _write() -> int:
            with self.engine.begin() as conn:
                have = conn.execute(
                    select(func.max(Lap.lap_number)).where(Lap.session_id == slot.session_id)
                ).scalar() or 0
                rows = [r for r in self.laps if have < r["lap_number"] <= upto]
                upsert(conn, Lap, rows, ["session_id", "driver_id", "lap_number"], update=[])
                return len(rows)

        return await asyncio.to_thread(_write)

    def finished(self, slot: SessionSlot) -> bool:
        with self.engine.connect() as conn:
            have = conn.execute(
                select(func.max(Lap.lap_number)).where(Lap.session_id == slot.session_id)
            ).scalar() or 0
        return have >= self.total


async def main(args: dict[str, Any]) -> None:
    engine = make_engine(args["db_url"])
    start_fake = dt.datetime.fromisoformat(args["fake_t0"])
    start_file = Path(args["start_file"])
    speed = float(args["speed"])
    real_t0: list[float] = []

    def clock() -> dt.datetime:
        # Frozen at `fake_t0` until the test fires the start (writes the shared real t0),
        # so a slow start-up under load cannot make the leader miss the first reminder.
        if not real_t0:
            try:
                real_t0.append(float(start_file.read_text()))
            except (FileNotFoundError, ValueError):
                return start_fake
        return start_fake + dt.timedelta(seconds=(time.time() - real_t0[0]) * speed)

    laps = json.loads(await asyncio.to_thread(Path(args["feed"]).read_text))
    feed = ReplayFeed(engine, laps, clock, lap_s=float(args["lap_s"]))

    async def ingest(slot: SessionSlot) -> IngestResult:  # the live feed already stored it all
        return IngestResult(True, "skipped", "live feed complete")

    def deliverer(engine_: Engine, posters: Any) -> Any:
        from bot.pulse.deliver import Deliverer

        return Deliverer(engine_, posters, lease_s=2.0)

    # Fake-clock seconds: leases below are real seconds * speed.
    config = ServiceConfig(
        policy=Policy(live_lead=dt.timedelta(minutes=2), live_tail=dt.timedelta(minutes=5)),
        ingest_lease_s=1.5 * speed, job_lease_s=1.5 * speed, live_poll_s=0.05,
        reconcile_every_s=0.5, flush_timeout_s=3,
    )
    service = Service(
        engine, clock=clock, config=config, ingest=ingest, live_feed=feed,
        posters={"console": FilePoster("console", Path(args["posts"]))},
        leadership=make_leadership(engine, holder=args["holder"], retry_s=0.3),
        holder=args["holder"], deliverer_factory=deliverer, autowake=False,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def announce() -> None:
        while not stop.is_set():
            if service.is_leader:
                print(f"LEADER {args['holder']} {time.time():.3f}", flush=True)
                return
            await asyncio.sleep(0.02)

    async def pump() -> None:
        # The replay clock runs `speed`x faster than APScheduler's real one, so the scheduler
        # is paused (autowake=False) and due jobs are started by this clock, through the
        # service's public `run_due`; re-planning (expired leases of a dead leader) likewise.
        last_plan = time.monotonic()
        while not stop.is_set():
            if service.is_leader:
                service.run_due()
                if time.monotonic() - last_plan >= config.reconcile_every_s:
                    last_plan = time.monotonic()
                    await service.reconcile()
            await asyncio.sleep(0.05)

    print("READY", flush=True)
    await asyncio.gather(service.run(stop), announce(), pump())
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
