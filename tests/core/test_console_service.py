"""`run_console` as a service adapter: chat through a pipe, highlights through the real Deliverer."""

from __future__ import annotations

import asyncio
import os
import time

from adapters.console import ConsolePoster, run_console
from bot.model import ChannelPoster, Reply
from slipstream.wiring import App


async def _wait_for(pred, limit_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + limit_s
    while not pred():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_run_console_chats_subscribes_and_prints_highlights(app: App) -> None:
    from bot.pulse.commentary import Commentator
    from bot.pulse.deliver import Deliverer
    from bot.pulse.pipeline import run_session
    from storage import pulse_store

    r_fd, w_fd = os.pipe()
    stdin, feed = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out: list[str] = []
    posters: list[ChannelPoster] = []
    stop = asyncio.Event()
    task = asyncio.create_task(run_console(
        app.settings, app.dispatcher, stop=stop, poster_ready=posters.append,
        stdin=stdin, write=out.append, moderator=True,
    ))
    try:
        await _wait_for(lambda: len(posters) == 1)
        assert isinstance(posters[0], ConsolePoster) and posters[0].platform == "console"

        feed.write("who won the 2023 italian grand prix?\n")
        feed.flush()
        await _wait_for(lambda: len(out) == 1)
        assert "Verstappen" in out[0]

        # A moderator at the terminal subscribes this channel, as on any platform.
        feed.write("/f1 subscribe priority=critical\n")
        feed.flush()
        await _wait_for(lambda: len(out) == 2)
        assert "Subscribed this channel" in out[1]

        # Track Pulse runs over the stored race; the Deliverer posts through the console poster.
        sid = await asyncio.to_thread(pulse_store.find_session, app.engine, 2023, "monza", "R")
        run = await run_session(app.engine, sid, Commentator())
        assert run.messages >= 1
        now = [time.time()]
        deliverer = Deliverer(app.engine, {"console": posters[0]}, clock=lambda: now[0])
        posted = 0
        for _ in range(run.messages + 5):
            posted += await deliverer.run_once()
            now[0] += 120  # past the per-channel pacing
        assert posted == run.messages
        printed = [line for line in out[2:] if line.startswith("[console:local:terminal] ")]
        assert len(printed) == run.messages
        assert any("Verstappen" in line or "VER" in line for line in printed)

        # `quit` ends the chat and asks the service to stop.
        feed.write("quit\n")
        feed.flush()
        await asyncio.wait_for(task, 5)
        assert stop.is_set()
    finally:
        feed.close()
        if not task.done():
            stop.set()
            await asyncio.wait_for(task, 5)
        stdin.close()


async def test_run_console_stops_on_stop_even_while_stdin_blocks(app: App) -> None:
    r_fd, w_fd = os.pipe()  # nothing is ever written: readline() blocks in the reader thread
    stdin = os.fdopen(r_fd, "r")
    stop = asyncio.Event()
    task = asyncio.create_task(run_console(app.settings, app.dispatcher, stop=stop, stdin=stdin,
                                           write=lambda s: None))
    await asyncio.sleep(0.1)
    stop.set()
    # A reader blocked in readline() would hold the task forever; a generous bound cannot flake.
    await asyncio.wait_for(task, 30)
    assert task.done() and task.exception() is None
    os.close(w_fd)


async def test_console_poster_does_not_print_a_repost_twice() -> None:
    out: list[str] = []
    poster = ConsolePoster(out.append)
    a = await poster.post("console:local:terminal", Reply(text="Lap 1: VER leads"), idempotency_key="k1")
    b = await poster.post("console:local:terminal", Reply(text="Lap 1: VER leads"), idempotency_key="k1")
    assert a == b == "k1" and out == ["[console:local:terminal] Lap 1: VER leads"]


async def test_console_poster_prints_a_story_update_marked_as_one() -> None:
    out: list[str] = []
    poster = ConsolePoster(out.append)
    mid = await poster.post("console:local:terminal", Reply(text="Fastest lap: LEC 1:24.1"),
                            idempotency_key="k1")
    assert await poster.edit("console:local:terminal", mid, Reply(text="Fastest lap: SAI 1:23.9")) == mid
    assert out == ["[console:local:terminal] Fastest lap: LEC 1:24.1",
                   "[console:local:terminal] ↻ Fastest lap: SAI 1:23.9"]
