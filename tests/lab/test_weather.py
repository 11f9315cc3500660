"""Rain on slicks (`bot/lab/weather.py`): Monaco 2023 turned wet near lap 50; checked
against the raw laps and the Ergast CSV read here, not through the model."""

from __future__ import annotations

import csv
import dataclasses
import statistics
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from bot.lab import RaceData, RaceModel, Strategy, fit_race_model, simulate, whatif
from bot.lab.types import WET_COMPOUNDS
from storage.lab_data import race_data

pytestmark = pytest.mark.shared_data
RUNS = 300


@pytest.fixture(scope="module")
def monaco(shared_store: Engine) -> tuple[RaceData, RaceModel]:
    data = race_data(shared_store, 2023, 6)
    return data, fit_race_model(data)


def test_dry_race_has_no_weather(monza_model: RaceModel) -> None:
    assert monza_model.dry_lap_offset_s is not None
    assert not monza_model.dry_lap_offset_s.any()
    assert monza_model.wet_from_lap == 1


def test_weather_laps_are_where_slicks_were_slow_in_the_raw_laps(
        monaco: tuple[RaceData, RaceModel]) -> None:
    data, model = monaco
    off = model.dry_lap_offset_s
    assert off is not None and off.any()
    wet_laps = sorted({r.lap for r in data.laps if r.compound in WET_COMPOUNDS})
    assert model.wet_from_lap == wet_laps[0]
    # Raw: each lap's median lap time of cars on slicks, against the race's median.
    dry = [r for r in data.laps if r.lap_time_s and r.compound not in (*WET_COMPOUNDS, None)
           and not r.pit_in and not r.pit_out and r.lap > 1]
    typical = statistics.median(r.lap_time_s for r in dry)  # type: ignore[misc]
    for lap in np.nonzero(off)[0] + 1:
        times = [r.lap_time_s for r in dry if r.lap == lap]
        assert min(abs(lap - w) for w in wet_laps) <= 3 or not times
        if len(times) >= 3:  # a measured weather lap: slicks really were slow then
            assert statistics.median(times) - typical > 1.0  # type: ignore[type-var]
            assert off[lap - 1] > 1.0
    assert np.all(off >= 0)


def test_monaco_winner_time_against_ergast(shared_data: Path,
                                           monaco: tuple[RaceData, RaceModel]) -> None:
    """The winner's simulated race time within 0.5% of the official one (Ergast CSV)."""
    _, model = monaco
    csv_dir = shared_data / "ergast-csv"
    with open(csv_dir / "races.csv", newline="") as f:
        race_id = next(r["raceId"] for r in csv.DictReader(f)
                       if r["year"] == "2023" and r["round"] == "6")
    with open(csv_dir / "drivers.csv", newline="") as f:
        codes = {r["driverId"]: r["code"] for r in csv.DictReader(f)}
    with open(csv_dir / "results.csv", newline="") as f:
        win = next(r for r in csv.DictReader(f) if r["raceId"] == race_id and r["position"] == "1")
    official = int(win["milliseconds"]) / 1000
    sim = simulate(model, runs=RUNS, seed=2)
    t = float(np.median(sim.race_times_s[:, model.index(codes[win["driverId"]])]))
    assert abs(t - official) / official <= 0.005


def test_slicks_in_the_rain_are_no_quicker_than_wet_tyres(
        monaco: tuple[RaceData, RaceModel]) -> None:
    """Laps with the field on wet tyres (nobody on slicks to measure): slicks get at least
    the wet tyres' own excess over a dry lap (no quicker, no slower: no data). So keeping the winner out on slicks 4 laps
    longer into the rain gains little, where without the weather term it would gain the
    whole difference of the dry pace over the wet laps."""
    data, model = monaco
    off = model.dry_lap_offset_s
    assert off is not None
    ci = {c: i for i, c in enumerate(model.compounds)}
    x = np.arange(1, model.total_laps + 1) - model.wet_from_lap + 1
    wet_excess = np.min([model.compound_offset_s[ci[c]] + model.deg_linear_s[ci[c]] * x
                         for c in WET_COMPOUNDS if c in ci], axis=0)
    field_on_wets = [lap for lap in range(model.wet_from_lap, model.total_laps + 1)
                     if not any(r.lap == lap and r.compound not in WET_COMPOUNDS
                                and r.compound is not None for r in data.laps)]
    assert field_on_wets
    for lap in field_on_wets:
        assert off[lap - 1] == pytest.approx(max(0.0, wet_excess[lap - 1]))
        assert off[lap - 1] > 0  # Monaco's inters never got down to a dry lap

    code = next(c for c, p in zip(model.codes, model.official_position, strict=True) if p == 1)
    actual = model.actual[code]
    lap, comp = actual.stops[-1]
    assert comp in WET_COMPOUNDS
    late = Strategy(actual.start, (*actual.stops[:-1], (lap + 4, comp)))
    with_weather = whatif(model, code, late, runs=RUNS, seed=4)
    without = whatif(dataclasses.replace(model, dry_lap_offset_s=None), code, late,
                     runs=RUNS, seed=4)
    assert without.gain_s > 40.0  # dry-pace slicks against 4 wet laps: a big false gain
    assert with_weather.gain_s < without.gain_s - 40.0
    assert abs(with_weather.gain_s) < 10.0
