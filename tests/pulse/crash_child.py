"""A deliverer process that SIGKILLs itself at a scripted point (delivery crash tests).

    python -m tests.pulse.crash_child DB_URL PLATFORM_DB MODE N

MODE "after_post": die right after the platform stored the N-th message, before we
record it ("posted but not recorded"). MODE "before_post": die when the N-th post
starts, i.e. after the (N-1)-th was recorded ("recorded, before the next").
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.pulse.deliver import Deliverer
from storage.db import make_engine
from tests.fakes.pulse_platform import FakePlatform, FakePoster


def main() -> None:
    url, platform_db, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    def die(call: int) -> None:
        if call == n:
            os.kill(os.getpid(), signal.SIGKILL)

    store = FakePlatform(platform_db)
    poster = FakePoster(store, "console", before=die if mode == "before_post" else None,
                        after=die if mode == "after_post" else None)
    # One post at a time so the kill point is exact; a lease short enough for the test.
    dl = Deliverer(make_engine(url), {"console": poster}, lease_s=5.0, batch=1, concurrency=1)

    async def run() -> None:
        while await dl.run_once():
            pass

    asyncio.run(run())
    sys.exit(3)  # reaching here means the kill point was never hit


if __name__ == "__main__":
    main()
