"""Championship points systems by season: one table for the title simulation (what each
place scores) and the title maths (`storage.aggregates.points_rule`: the most one driver
or team can score at a weekend, derived here), so the two never disagree and a
simulated title is never won by someone the maths has ruled out. Dropped scores
(before 1991) and shared drives are ignored by both.
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


def weekend_max(year: int) -> tuple[int, int, int, int]:
    """(race driver, race team, sprint driver, sprint team): the most one driver or team can
    score at a Grand Prix and at a sprint of `year` — a win (+ the fastest-lap point where it
    counted for drivers; teams counted it too once they scored both cars), a one-two for a
    team (its best car only before 1979), a sprint win / one-two."""
    ps = points_system(year)
    race, sprint = ps.race, ps.sprint
    race_team = race[0] if ps.team_best_car_only else race[0] + race[1] + ps.fastest_lap
    sprint_team = sprint[0] + sprint[1] if len(sprint) > 1 else sum(sprint)
    return (int(race[0] + ps.fastest_lap), int(race_team), int(sprint[0] if sprint else 0), int(sprint_team))
