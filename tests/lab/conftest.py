"""Race Lab fixtures: Monza 2023 from the bundled demo store, fitted once per module."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.lab import RaceData, RaceModel, fit_race_model
from storage.db import make_engine
from storage.demo import demo_data_dir
from storage.lab_data import race_data
from tests.conftest import copy_demo

YEAR, ROUND = 2023, 14


@pytest.fixture(scope="module")
def monza_data(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> RaceData:
    url = copy_demo(demo_template, tmp_path_factory.mktemp("lab-demo"))
    engine = make_engine(url)
    try:
        return race_data(engine, YEAR, ROUND)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def monza_model(monza_data: RaceData) -> RaceModel:
    return fit_race_model(monza_data)


def ergast_result(year: int = YEAR, round_: int = ROUND) -> list[dict[str, str]]:
    """The race's rows of the bundled Ergast results.csv, with the driver code added
    (read here, independently of our store)."""
    base = demo_data_dir() / "ergast"
    with open(base / "races.csv", newline="") as f:
        race_id = next(r["raceId"] for r in csv.DictReader(f)
                       if int(r["year"]) == year and int(r["round"]) == round_)
    with open(base / "drivers.csv", newline="") as f:
        codes = {r["driverId"]: r["code"] for r in csv.DictReader(f)}
    with open(base / "results.csv", newline="") as f:
        rows = [dict(r, code=codes[r["driverId"]]) for r in csv.DictReader(f)
                if r["raceId"] == race_id]
    return sorted(rows, key=lambda r: int(r["positionOrder"]))


@pytest.fixture(scope="module")
def shared_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A private copy of the shared evaluation store (the 10 races of /work/shared/data,
    built once by `bench.answers.store`); skips without the shared data."""
    from bench.answers import store

    why = store.available()
    if why:
        pytest.skip(why)
    src = Path(store.ensure(verbose=False).removeprefix("sqlite:///"))
    work = tmp_path_factory.mktemp("lab-shared") / "store.db"
    shutil.copy(src, work)  # never touch the shared build
    engine = make_engine(f"sqlite:///{work}")
    yield engine
    engine.dispose()
