"""The evaluation store for the answer bench: full Ergast history + the shared FastF1 sessions.

Built only through our public APIs (`storage.history.import_history`, `storage.ingest.ingest`,
the same calls `slipstream history import` and `slipstream ingest` make), in a temp path keyed
by a hash of the inputs (the raw data files and our storage code), so repeated runs reuse it.

    python -m bench.answers.store        # build (or find) it and print its URL
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SLIPSTREAM_SHARED_DATA", ROOT.parent / "shared" / "data"))
CSV_DIR = SHARED / "ergast-csv"
FF1_CACHE = SHARED / "fastf1-cache" / "sessions-2019-2023"
# Seasons of the shared FastF1 cache; a season-wide ingest takes every session the cache holds
# (that way 2020 Austria and 2020 Styria, both at the Red Bull Ring, each go in by round).
FF1_YEARS = (2019, 2020, 2021, 2022, 2023)


def available() -> str | None:
    """None when the shared data is present, else why the store cannot be built."""
    if not CSV_DIR.is_dir() or not FF1_CACHE.is_dir():
        return f"shared data not found at {SHARED} (needs ergast-csv and fastf1-cache/sessions-2019-2023)"
    return None


def _inputs_hash() -> str:
    """A digest of everything the store is made from: raw files and our storage code."""
    h = hashlib.sha256()
    files = sorted(CSV_DIR.glob("*")) + sorted(p for p in FF1_CACHE.rglob("*") if p.is_file())
    files += sorted((ROOT / "storage").rglob("*.py"))
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(p.anchor)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def store_path() -> Path:
    """Where the store for the current inputs lives (may not exist yet)."""
    return Path(tempfile.gettempdir()) / f"slipstream-answers-{_inputs_hash()}" / "store.db"


def build(path: Path, *, verbose: bool = True) -> None:
    """Import the whole Ergast CSV set, then ingest every shared FastF1 session (offline)."""
    from storage.db import init_db, make_engine
    from storage.history import import_history
    from storage.ingest import ingest

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"store.{os.getpid()}.building")  # one per process: parallel builds never collide
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    try:
        init_db(engine)
        t = time.perf_counter()
        rep = import_history(engine, CSV_DIR)
        if verbose:
            print(f"history import: {rep.total_rows} rows in {time.perf_counter() - t:.1f} s")
        with tempfile.TemporaryDirectory() as work:
            cache = Path(work) / "cache"  # FastF1 may write to its cache: work on a copy
            shutil.copytree(FF1_CACHE, cache)
            t = time.perf_counter()
            stored = 0
            for year in FF1_YEARS:
                ing = ingest(engine, year, cache_dir=cache, offline=True)
                stored += sum(1 for s in ing.sessions if s.outcome in ("added", "updated"))
        if verbose:
            print(f"FastF1 ingest: {stored} sessions in {time.perf_counter() - t:.1f} s")
    finally:
        engine.dispose()
    # Hazard: the store runs in WAL mode; fold the WAL into the file before it is renamed.
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    tmp.replace(path)


def ensure(*, verbose: bool = True) -> str:
    """The SQLite URL of the evaluation store, building it first if needed."""
    why = available()
    if why:
        raise RuntimeError(why)
    path = store_path()
    if not path.exists():
        build(path, verbose=verbose)
    return f"sqlite:///{path}"


if __name__ == "__main__":
    print(ensure())
