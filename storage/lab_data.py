"""Read one race for the Race Lab (`race_data`): laps, stops, classification,
neutralised laps and the circuit's history, in a handful of queries."""

from __future__ import annotations

from storage.lab_types import RaceData
from storage.queries import Db


class NoLapData(LookupError):
    """The race is unknown or has no stored laps (message is user-facing)."""


def race_data(db: Db, year: int, round_: int) -> RaceData:
    """Everything `bot.lab.fit_race_model` needs for race `year`/`round_`.

    Raises `NoLapData` when the race or its laps are not stored.
    """
    raise NotImplementedError
