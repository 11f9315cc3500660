"""`Predictor`: the async face of the predictions model (built once in `build_app`).

All numpy work runs in one worker thread (never on the event loop); forecasts
are cached by (arguments, posterior version) so a repeat question is free and a
new result (new posterior version) drops them all.
"""

from __future__ import annotations

import datetime as dt

from bot.predict.types import PredictUnavailable, RaceForecast, TitleForecast, TitleKind, UpdateReport
from storage.store import Store


class Predictor:
    """Race and championship forecasts over the stored posterior."""

    def __init__(self, store: Store, *, runs: int = 4000, seed: int = 17) -> None:
        self.store = store
        self.runs = runs
        self.seed = seed

    async def race(self, year: int, round: int, *, after_quali: bool | None = None) -> RaceForecast:
        """Forecast one race; `after_quali=None` uses the grid when qualifying is stored."""
        raise PredictUnavailable("Predictions are not available yet.")

    async def title(
        self, year: int, *, after_round: int | None = None, kind: TitleKind = "drivers",
    ) -> TitleForecast:
        """Championship odds after `after_round` (None = the last round with results)."""
        raise PredictUnavailable("Predictions are not available yet.")

    async def next_race(self, now: dt.datetime) -> tuple[int, int] | None:
        """(year, round) of the next race that has not been run, or None."""
        return None

    async def update(self) -> UpdateReport:
        """Fold new or changed races (found by content hash) into the posterior."""
        raise PredictUnavailable("Predictions are not available yet.")

    async def refit(self) -> UpdateReport:
        """Rebuild the posterior from the whole history."""
        raise PredictUnavailable("Predictions are not available yet.")

    def close(self) -> None:
        """Stop the worker thread."""
