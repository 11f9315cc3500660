"""The predictions API: what `bot.predict.service.Predictor` returns.

Pure frozen dataclasses so the chat side (and tests) can build and read them
without the model. Stable: extend only by adding fields with defaults.
Probabilities are floats in 0..1; every interval is an 80% `(low, high)` pair
that carries posterior uncertainty (rating draws), not only Monte Carlo error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["pre_quali", "after_quali"]
TitleKind = Literal["drivers", "constructors"]
Interval = tuple[float, float]


class PredictUnavailable(Exception):
    """A forecast cannot be made; `message` is short and fit to show a user.

    Examples: no history imported, race not in the calendar, season over.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class DriverForecast:
    """One entrant's race forecast."""

    code: str  # three-letter code ("VER"); derived from the surname when Ergast has none
    name: str  # "Max Verstappen"
    team: str  # constructor name ("Red Bull")
    constructor_ref: str  # Ergast constructorRef ("red_bull")
    p_win: float
    p_win_interval: Interval
    p_podium: float
    p_podium_interval: Interval
    p_points: float
    p_points_interval: Interval
    expected_position: float  # mean finishing position, DNFs counted at the back
    position_interval: tuple[int, int]  # 80% interval of the finishing position
    grid: int | None = None  # starting position; None before qualifying


@dataclass(frozen=True, slots=True)
class TeamForecast:
    """A team's chance that at least one of its cars wins / is on the podium / scores.

    From the same simulated races as the drivers' chances (the two cars' results are
    counted together, not assumed independent).
    """

    constructor_ref: str
    team: str
    p_win: float
    p_win_interval: Interval
    p_podium: float
    p_podium_interval: Interval
    p_points: float
    p_points_interval: Interval
    # Both cars together, counted in the same runs (simulated, not recalibrated):
    p_one_two: float = 0.0  # first and second
    p_one_two_interval: Interval = (0.0, 0.0)
    p_double_podium: float = 0.0  # both on the podium
    p_double_podium_interval: Interval = (0.0, 0.0)


@dataclass(frozen=True, slots=True)
class RaceForecast:
    """A race forecast for every entrant."""

    year: int
    round: int
    event_name: str
    stage: Stage
    drivers: tuple[DriverForecast, ...]  # sorted by p_win desc, then expected_position
    updated_at: dt.datetime  # when the posterior used was fitted (aware UTC)
    data_through: tuple[int, int] | None  # last (year, round) the ratings include
    drivers_note: str  # one plain line on what drives the forecast
    runs: int  # Monte Carlo runs
    teams: tuple[TeamForecast, ...] = ()  # one per constructor entered, in the drivers' order


@dataclass(frozen=True, slots=True)
class TitleEntry:
    """One title contender (driver or constructor)."""

    key: str  # driver code or constructor ref
    name: str
    points: float  # points so far (after `after_round`)
    p_title: float
    p_title_interval: Interval
    can_win: bool  # agrees with the mathematical check (max points still available)
    max_points: float  # points + the most still available to this entrant


@dataclass(frozen=True, slots=True)
class TitleForecast:
    """Championship odds after a round."""

    year: int
    after_round: int
    kind: TitleKind
    entries: tuple[TitleEntry, ...]  # sorted by p_title desc, then points desc
    rounds_left: int
    sprints_left: int
    updated_at: dt.datetime  # posterior fit time (aware UTC)
    decided: bool
    champion: str | None  # key of the champion when decided
    runs: int
    # Remaining rounds the stored calendar does not say are sprint weekends or not (in a season
    # with sprints): simulated without a sprint, as the title maths counts them.
    sprints_unknown: int = 0


@dataclass(frozen=True, slots=True)
class UpdateReport:
    """What `Predictor.fold_new_results()` / `refit()` did."""

    races_folded: int  # races folded into the posterior by this call
    refolded_from: tuple[int, int] | None  # earliest (year, round) refolded, if any
    refit: bool  # True when the whole history was refitted
    seconds: float
    data_through: tuple[int, int] | None
    version: int  # posterior version after the call
    notes: tuple[str, ...] = field(default=())
