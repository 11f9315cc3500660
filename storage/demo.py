"""The bundled demo data: the 2023 season's history + the Monza 2023 FastF1 race.

Lets the bot answer real questions on a fresh clone with no network:
`slipstream/demo_data/ergast/` (Ergast CSV subset, CC0) and
`slipstream/demo_data/fastf1-monza-2023/` (a FastF1 cache), both built by
`scripts/make_demo_data.py`. Loading is idempotent: a second call skips.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from platformdirs import user_cache_dir
from sqlalchemy import Engine

from storage.history import HistoryReport, import_history
from storage.ingest import IngestReport, Progress, ingest

DEMO_YEAR = 2023
DEMO_ROUND = 14  # Monza


@dataclass
class DemoReport:
    history: HistoryReport
    ingest: IngestReport

    @property
    def ok(self) -> bool:
        return self.ingest.ok


def demo_data_dir() -> Path:
    return Path(str(resources.files("slipstream") / "demo_data"))


def _writable_cache(src: Path, work_dir: Path | None) -> Path:
    """A writable copy of the bundled FastF1 cache (FastF1 may open its sqlite for writing,
    and an installed package directory can be read-only). Mtimes are preserved so the
    ingest fingerprint stays stable and a second load is skipped cheaply."""
    base = work_dir or Path(user_cache_dir("slipstream"))
    dest = base / "demo-fastf1-monza-2023"
    marker = dest / ".complete"
    if marker.exists():
        return dest
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-ff1-", dir=base))
    shutil.copytree(src, tmp / "c")
    (tmp / "c" / ".complete").touch()
    try:
        os.rename(tmp / "c", dest)  # atomic: concurrent loaders never see half a copy
    except OSError:  # another process won the race; theirs is complete
        pass
    shutil.rmtree(tmp, ignore_errors=True)
    return dest


def load_demo(engine: Engine, *, progress: Progress | None = None, work_dir: Path | None = None) -> DemoReport:
    """Import the 2023 history subset, then ingest the Monza 2023 race (idempotent)."""
    data = demo_data_dir()
    hist = import_history(engine, data / "ergast", progress=progress)
    cache = _writable_cache(data / "fastf1-monza-2023", work_dir)
    rep = ingest(engine, DEMO_YEAR, DEMO_ROUND, "R", cache_dir=cache, offline=True, progress=progress)
    return DemoReport(history=hist, ingest=rep)
