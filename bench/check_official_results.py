"""Independent check: the bot's `/f1 results` tables against the official Ergast-schema CSV.

Expected values come straight from `results.csv` (never from our store); actual values
are what `slipstream ask` prints. For every race of the shared FastF1 timing cache, each
row's driver, position and points must match the official classification.

Usage (a store holding the history import and the shared sessions, in either order):
    DATABASE_URL=sqlite:///store.db python bench/check_official_results.py [--bin .venv/bin/slipstream]
Shared data: `$SLIPSTREAM_SHARED_DATA`, by default `../shared/data` beside the checkout.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SLIPSTREAM_SHARED_DATA", ROOT.parent / "shared" / "data"))
RACES = [(2019, "Spanish Grand Prix"), (2020, "Austrian Grand Prix"), (2021, "Emilia Romagna Grand Prix"),
         (2021, "Dutch Grand Prix"), (2021, "Italian Grand Prix"), (2021, "Saudi Arabian Grand Prix"),
         (2022, "Bahrain Grand Prix"), (2022, "Emilia Romagna Grand Prix"), (2023, "Bahrain Grand Prix"),
         (2023, "Monaco Grand Prix"), (2023, "Italian Grand Prix"), (2023, "Las Vegas Grand Prix")]
ROW = re.compile(r"^\s*(\d+|[A-Z]{1,3})\s+[A-Z]{3}\s")


def _csv(name: str) -> list[dict[str, str]]:
    with open(SHARED / "ergast-csv" / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _points(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / ".venv" / "bin" / "slipstream"))
    args = ap.parse_args()
    races = {(int(r["year"]), r["name"]): r["raceId"] for r in _csv("races.csv")}
    codes = {r["driverId"]: r["code"] for r in _csv("drivers.csv")}
    results = _csv("results.csv")
    right = 0
    for year, name in RACES:
        want = sorted((r for r in results if r["raceId"] == races[(year, name)]),
                      key=lambda r: int(r["positionOrder"]))
        out = subprocess.run([args.bin, "ask", f"/f1 results {year} {name}"],
                             capture_output=True, text=True, check=False).stdout
        rows = [ln.split() for ln in out.splitlines() if ROW.match(ln)]
        problems: list[str] = []
        for i, e in enumerate(want):
            code = codes[e["driverId"]]
            if i >= len(rows):
                problems.append(f"row {i + 1} ({code}) missing")
                continue
            got = rows[i]
            if got[1] != code:
                problems.append(f"row {i + 1}: {got[1]}, officially {code}")
                continue
            if e["positionText"].isdigit() and got[0] != e["positionText"]:
                problems.append(f"{code}: P{got[0]}, officially P{e['positionText']}")
            if got[-1] != _points(e["points"]):
                problems.append(f"{code}: {got[-1]} pts, officially {_points(e['points'])}")
        right += not problems
        print(("OK   " if not problems else "WRONG") + f" {year} {name}" + (": " + "; ".join(problems[:6]) if problems else ""))
    print(f"{right} of {len(RACES)} races match the official classification")
    return 0 if right == len(RACES) else 1


if __name__ == "__main__":
    raise SystemExit(main())
