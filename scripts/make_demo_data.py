"""Build `slipstream/demo_data/` from the shared data (run from the repo root).

    python scripts/make_demo_data.py [--source ../shared/data]

Writes the Ergast CSV subset of the 2023 season (races of that year and every
row that references them, plus the drivers / constructors / circuits / status
rows they use, and the seasons list) and copies the Monza 2023 FastF1 cache.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

YEAR = 2023
ROOT = Path(__file__).resolve().parent.parent
PER_RACE = ("results", "qualifying", "sprint_results", "pit_stops", "driver_standings", "constructor_standings")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    src = args.source / "ergast-csv"
    out = ROOT / "slipstream" / "demo_data"
    dst = out / "ergast"
    dst.mkdir(parents=True, exist_ok=True)

    header, races = _rows(src / "races.csv")
    col = {h: i for i, h in enumerate(header)}
    races = [r for r in races if int(r[col["year"]]) == YEAR]
    race_ids = {r[col["raceId"]] for r in races}
    circuits = {r[col["circuitId"]] for r in races}
    _write(dst / "races.csv", header, races)

    drivers: set[str] = set()
    constructors: set[str] = set()
    statuses: set[str] = set()
    for name in PER_RACE:
        h, rows = _rows(src / f"{name}.csv")
        c = {x: i for i, x in enumerate(h)}
        keep = [r for r in rows if r[c["raceId"]] in race_ids]
        for r in keep:
            if "driverId" in c:
                drivers.add(r[c["driverId"]])
            if "constructorId" in c:
                constructors.add(r[c["constructorId"]])
            if "statusId" in c:
                statuses.add(r[c["statusId"]])
        _write(dst / f"{name}.csv", h, keep)
    for name, key, ids in (
        ("drivers", "driverId", drivers),
        ("constructors", "constructorId", constructors),
        ("circuits", "circuitId", circuits),
        ("status", "statusId", statuses),
    ):
        h, rows = _rows(src / f"{name}.csv")
        i = h.index(key)
        _write(dst / f"{name}.csv", h, [r for r in rows if r[i] in ids])
    h, rows = _rows(src / "seasons.csv")
    _write(dst / "seasons.csv", h, [r for r in rows if int(r[0]) == YEAR])
    shutil.copy(src / "LICENSE", dst / "LICENSE")

    ff1 = out / "fastf1-monza-2023"
    if ff1.exists():
        shutil.rmtree(ff1)
    shutil.copytree(args.source / "fastf1-cache" / "monza-2023", ff1)
    print(f"demo data written to {out}")


if __name__ == "__main__":
    main()
