"""Stores for the predictions tests: the bundled 2023 history (always there), imported
into fresh SQLite files, whole or truncated before a round (raw CSV edits, not our code)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.db import init_db, make_engine
from storage.demo import demo_data_dir
from storage.history import import_history

# Files whose rows belong to one race (raceId); the calendar (races.csv) is always kept.
RACE_FILES = ("results.csv", "qualifying.csv", "sprint_results.csv", "driver_standings.csv",
              "constructor_standings.csv", "pit_stops.csv", "constructor_results.csv", "lap_times.csv")


def demo_csv() -> Path:
    return demo_data_dir() / "ergast"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def race_ids(src: Path) -> dict[str, tuple[int, int]]:
    """raceId → (year, round), from races.csv."""
    return {r["raceId"]: (int(r["year"]), int(r["round"])) for r in read_csv(src / "races.csv")}


def copy_csv(src: Path, dest: Path, *, keep: object = None, edit: object = None) -> Path:
    """Copy an Ergast CSV dump; `keep(file, (year, round), row)` drops rows, `edit(file, row)` changes them."""
    dest.mkdir(parents=True, exist_ok=True)
    ids = race_ids(src)
    for f in src.iterdir():
        if f.suffix != ".csv":
            (dest / f.name).write_bytes(f.read_bytes())
            continue
        with f.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            rows = list(reader)
        if f.name in RACE_FILES and keep is not None:
            rows = [r for r in rows if keep(f.name, ids[r["raceId"]], r)]  # type: ignore[operator]
        if edit is not None:
            rows = [edit(f.name, dict(r)) for r in rows]  # type: ignore[operator]
        with (dest / f.name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return dest


def history_engine(path: Path, csv_dir: Path) -> Engine:
    """A fresh SQLite store at `path` with `csv_dir` imported."""
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    import_history(engine, csv_dir)
    return engine


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The bundled 2023 history alone (no FastF1), shared by a module's read-only tests."""
    engine = history_engine(tmp_path_factory.mktemp("predict-demo") / "h.db", demo_csv())
    yield engine
    engine.dispose()
