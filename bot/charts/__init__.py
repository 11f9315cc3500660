"""Charts from the store: `Charts.render(ChartRequest)` → a 1600x900 PNG with alt text.

Data is read from the store (async, never FastF1 on the request path); drawing
runs in a worker thread with a time limit; results are cached by request and
data version.
"""

from __future__ import annotations

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.charts.gather import Gatherer, Request
from bot.charts.plot import Plot, draw
from bot.errors import UserError
from bot.lru import Lru
from bot.model import Image
from storage.store import Store

CHART_KINDS: dict[str, str] = {
    "positions": "position changes over a race",
    "laptimes": "lap times of drivers: compound colours, pit laps marked, SC/VSC/red periods shaded",
    "strategy": "tyre stints of the field, in classification order",
    "gaps": "gap to the leader, or between two drivers, lap by lap",
    "distribution": "lap-time box plot per driver, green-flag laps",
    "quali": "gap to pole in qualifying (best of Q1–Q3)",
    "points": "championship points over a season, top N or chosen drivers, after any round",
    "pitstops": "pit-stop ranking by pit-lane time (the store holds no stationary times)",
    "teammates": "teammate head-to-head over a season, qualifying and race",
}

TIMEOUT_TEXT = "The chart took too long to draw; try fewer drivers or laps."


@dataclass(frozen=True)
class ChartRequest:
    kind: str
    year: int | None = None
    round: int | None = None
    session: str = "R"
    drivers: tuple[str, ...] = ()  # 3-letter codes; () = sensible default (all / top N)
    laps: tuple[int, int] | None = None
    top_n: int | None = None
    after_round: int | None = None
    team: str | None = None  # teammates kind


@dataclass(frozen=True)
class ChartResult:
    image: Image  # PNG bytes, filename like "laptimes-2023-14-VER-LEC.png", alt text
    title: str
    notes: tuple[str, ...] = ()


class Charts:
    """One per app: holds the drawing worker and the result cache.

    Drawing runs in a THREAD pool, each call on its own `Figure` (no pyplot): the
    data handed over is tiny, there is no second interpreter to start or keep
    (a spawned process costs ~1 s and ~60 MB to import matplotlib), and the
    measured draw is ~100-200 ms. A timed-out draw cannot be killed in a thread:
    the caller gets the time-out message at once and the thread finishes and
    frees its figure on its own; with one worker a later request queues behind it.
    """

    def __init__(
        self, store: Store, *, timeout_s: float = 20.0, cache_size: int = 128, workers: int = 1
    ) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="charts")
        self._cache: Lru[ChartResult] = Lru(cache_size)
        self.draws = 0  # charts actually drawn (tests and bench read it)

    async def render(self, req: ChartRequest) -> ChartResult:
        """The chart for `req`: from the cache when the data has not changed since."""
        kind = req.kind.strip().lower()
        if kind not in CHART_KINDS:
            raise UserError(f"No chart kind '{req.kind}'. Kinds: {', '.join(CHART_KINDS)}.")
        req = dataclasses.replace(req, kind=kind, drivers=tuple(d.upper() for d in req.drivers))
        _check(req)
        version = await self.store.check_version()
        key = (req, version)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        got = await Gatherer(self.store).gather(Request(**dataclasses.asdict(req)))
        loop = asyncio.get_running_loop()
        try:
            png = await asyncio.wait_for(loop.run_in_executor(self._pool, draw, got.plot), self.timeout_s)
        except TimeoutError:
            raise UserError(TIMEOUT_TEXT) from None
        self.draws += 1
        name = "-".join((kind, *got.name_parts)).replace("/", "_").replace(" ", "_") + ".png"
        result = ChartResult(Image(name, png, got.alt), got.title, got.notes)
        self._cache.put(key, result)
        return result

    async def draw_plot(self, plot: Plot, filename: str, alt: str) -> Image:
        """A picture whose data was made elsewhere (the Race Lab's finishing-position
        distributions), drawn by the same worker with the same time limit and cache."""
        key = ("plot", plot)
        hit = self._cache.get(key)
        if hit is not None:
            return hit.image
        loop = asyncio.get_running_loop()
        try:
            png = await asyncio.wait_for(loop.run_in_executor(self._pool, draw, plot), self.timeout_s)
        except TimeoutError:
            raise UserError(TIMEOUT_TEXT) from None
        self.draws += 1
        image = Image(filename, png, alt)
        self._cache.put(key, ChartResult(image, plot.title))
        return image

    def close(self) -> None:
        """Shut the worker down (waits for a draw in progress)."""
        self._pool.shutdown(wait=True)


def _check(req: ChartRequest) -> None:
    if req.laps is not None:
        a, b = req.laps
        if a < 1 or b < a:
            raise UserError(f"Laps {a}-{b} is not a lap range; say e.g. laps 10-30.")
    if req.top_n is not None and req.top_n < 1:
        raise UserError("Top N must be at least 1.")
    for d in req.drivers:
        if len(d) != 3 or not d.isalpha():
            raise UserError(f"'{d}' is not a driver code; use three letters, e.g. VER.")


__all__ = ["CHART_KINDS", "ChartRequest", "ChartResult", "Charts", "TIMEOUT_TEXT"]
