"""Championship points systems by season (what the title simulation awards).

Bounded by `storage.aggregates.points_rule` (the title maths): the most one car
scores here at a weekend never exceeds that rule, so a simulated title is never
won by someone the mathematical check has ruled out. Dropped scores (before
1991) and shared drives are ignored, as in the title maths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PointsSystem:
    race: tuple[float, ...]  # points by finishing position (1st first)
    sprint: tuple[float, ...]
    fastest_lap: float  # bonus for the fastest lap (0 = none)
    fastest_lap_top10: bool  # the bonus only counts for a top-10 finisher
    team_best_car_only: bool  # constructors counted only their best car (before 1979)


def points_system(year: int) -> PointsSystem:
    if year >= 2010:
        race: tuple[float, ...] = (25, 18, 15, 12, 10, 8, 6, 4, 2, 1)
    elif year >= 2003:
        race = (10, 8, 6, 5, 4, 3, 2, 1)
    elif year >= 1991:
        race = (10, 6, 4, 3, 2, 1)
    elif year >= 1961:
        race = (9, 6, 4, 3, 2, 1)
    elif year == 1960:
        race = (8, 6, 4, 3, 2, 1)
    else:
        race = (8, 6, 4, 3, 2)
    sprint: tuple[float, ...] = ()
    if year == 2021:
        sprint = (3, 2, 1)
    elif year >= 2022:
        sprint = (8, 7, 6, 5, 4, 3, 2, 1)
    fl = 1.0 if year <= 1959 or 2019 <= year <= 2024 else 0.0
    return PointsSystem(race, sprint, fl, year >= 2019, year < 1979)


def scoring_positions(year: int) -> int:
    """How many finishers score in a Grand Prix of `year` (what "P(points)" means)."""
    return len(points_system(year).race)
