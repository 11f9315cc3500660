"""The raw ground truth for the answer set: the Ergast CSV and the FastF1 caches, read directly.

Never our store, never our bot code: expected answers must be computed independently of what
they grade. FastF1 is read through its own loader, offline, on a copy of the cache.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The FastF1 races of the shared caches (year, Ergast round): every race with lap data.
FASTF1_RACES: tuple[tuple[int, int], ...] = (
    (2019, 5), (2020, 1), (2021, 2), (2021, 13), (2021, 14),
    (2022, 1), (2022, 4), (2023, 6), (2023, 14), (2023, 21),
)

Row = dict[str, Any]


def _read(path: Path) -> list[Row]:
    """A CSV as dicts, `\\N` as None."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [{k: (None if v == "\\N" else v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


@dataclass
class Ergast:
    """The Ergast tables, indexed the ways the generator asks."""

    races: dict[int, Row]
    results: dict[int, list[Row]]          # raceId -> rows by positionOrder
    qualifying: dict[int, list[Row]]
    sprints: dict[int, list[Row]]
    dstand: dict[int, list[Row]]            # raceId -> driver standings by position
    cstand: dict[int, list[Row]]
    pits: dict[int, list[Row]]
    drivers: dict[int, Row]
    constructors: dict[int, Row]
    circuits: dict[int, Row]
    status: dict[int, str]
    by_year: dict[int, list[Row]] = field(default_factory=dict)  # year -> races by round

    def race(self, year: int, rnd: int) -> Row:
        return next(r for r in self.by_year[year] if r["round"] == rnd)

    def held(self, year: int) -> list[Row]:
        """The season's races that have results, by round."""
        return [r for r in self.by_year.get(year, []) if r["raceId"] in self.results]

    def latest(self) -> tuple[int, Row]:
        """(latest season with results, its last race with results)."""
        year = max(r["year"] for r in self.races.values() if r["raceId"] in self.results)
        return year, self.held(year)[-1]


def load_ergast(csv_dir: Path) -> Ergast:
    races = {}
    for r in _read(csv_dir / "races.csv"):
        r["raceId"], r["year"], r["round"], r["circuitId"] = (
            int(r["raceId"]), int(r["year"]), int(r["round"]), int(r["circuitId"]))
        races[r["raceId"]] = r

    def grouped(name: str, order: str) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = defaultdict(list)
        for row in _read(csv_dir / name):
            for k in ("raceId", "driverId", "constructorId", "grid", "position", "positionOrder",
                      "laps", "milliseconds", "statusId", "stop", "lap", "wins"):
                if k in row:
                    row[k] = _int(row[k])
            if "points" in row and row["points"] is not None:
                row["points"] = float(row["points"])
            out[row["raceId"]].append(row)
        for rows in out.values():
            rows.sort(key=lambda x: (x.get(order) is None, x.get(order) or 0))
        return dict(out)

    drivers = {int(d["driverId"]): d for d in _read(csv_dir / "drivers.csv")}
    constructors = {int(c["constructorId"]): c for c in _read(csv_dir / "constructors.csv")}
    circuits = {int(c["circuitId"]): c for c in _read(csv_dir / "circuits.csv")}
    status = {int(s["statusId"]): s["status"] for s in _read(csv_dir / "status.csv")}
    e = Ergast(
        races=races, results=grouped("results.csv", "positionOrder"),
        qualifying=grouped("qualifying.csv", "position"), sprints=grouped("sprint_results.csv", "positionOrder"),
        dstand=grouped("driver_standings.csv", "position"), cstand=grouped("constructor_standings.csv", "position"),
        pits=grouped("pit_stops.csv", "stop"), drivers=drivers, constructors=constructors,
        circuits=circuits, status=status,
    )
    for r in sorted(races.values(), key=lambda r: (r["year"], r["round"])):
        e.by_year.setdefault(r["year"], []).append(r)
    return e


@dataclass
class LapRace:
    """The lap facts of one FastF1 race: per driver, per lap (position, lap time, compound, stint)."""

    year: int
    round: int
    laps: dict[str, dict[int, Row]]   # code -> lap number -> {pos, time_s, compound, stint}
    total_laps: int


def load_fastf1(cache_src: Path, races: tuple[tuple[int, int], ...] = FASTF1_RACES) -> dict[tuple[int, int], LapRace]:
    """Lap facts of the FastF1 races, loaded offline through FastF1's real loader.

    Hazard: the pickles were written by an older FastF1; `ignore_version=True` or FastF1 tries
    to re-download, fails offline and calls exit(). It works on a copy of the cache because
    FastF1 may write to it.
    """
    import fastf1

    logging.getLogger("fastf1").setLevel(logging.ERROR)
    out: dict[tuple[int, int], LapRace] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        shutil.copytree(cache_src, cache)
        fastf1.Cache.configure(cache_dir=str(cache), ignore_version=True)
        fastf1.Cache.offline_mode(True)
        for year, rnd in races:
            try:
                s = fastf1.get_session(year, rnd, "R")
                s.load(laps=True, telemetry=False, weather=False, messages=False)
                laps = s.laps
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - a race that does not load is skipped
                logging.getLogger(__name__).warning("FastF1 %s/%s did not load: %s", year, rnd, exc)
                continue
            per: dict[str, dict[int, Row]] = defaultdict(dict)
            for lap in laps.itertuples():
                if lap.LapNumber != lap.LapNumber:  # NaN
                    continue
                t = lap.LapTime
                per[str(lap.Driver)][int(lap.LapNumber)] = {
                    "pos": None if lap.Position != lap.Position else int(lap.Position),
                    "time_s": None if t is None or t != t else t.total_seconds(),
                    "compound": None if not isinstance(lap.Compound, str) else lap.Compound,
                    "stint": None if lap.Stint != lap.Stint else int(lap.Stint),
                    "deleted": bool(lap.Deleted) if lap.Deleted is not None else False,
                }
            total = int(laps["LapNumber"].max())
            out[(year, rnd)] = LapRace(year, rnd, dict(per), total)
    return out
