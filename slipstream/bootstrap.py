"""First start of an empty store: import the bundled history and calendar.

A fresh Docker deploy would otherwise start with an empty store and every answer
would be "no data". The bundled data is the demo set in `slipstream/demo_data/`
(the 2023 Ergast history and calendar, the Monza 2023 FastF1 race); loading it is
idempotent. A store that already holds any season, event or result is left alone:
an admin who imported the full history must not find the demo data mixed in.

Called by `slipstream bootstrap` (the Docker CMD runs it between `db upgrade` and
`run`). `SLIPSTREAM_BOOTSTRAP=0` turns it off (start with an empty store).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from storage.demo import load_demo
from storage.stats import has_race_data

log = logging.getLogger(__name__)

ENV_FLAG = "SLIPSTREAM_BOOTSTRAP"


@dataclass(frozen=True, slots=True)
class BootstrapOutcome:
    """What the bootstrap did: `imported` False means the store was left as it was."""

    imported: bool
    reason: str
    ok: bool = True


def enabled(environ: dict[str, str] | None = None) -> bool:
    """On unless SLIPSTREAM_BOOTSTRAP is set to 0/false/no/off."""
    value = (environ if environ is not None else os.environ).get(ENV_FLAG, "1")
    return value.strip().lower() not in {"0", "false", "no", "off"}


def bootstrap_if_empty(engine: Engine, *, work_dir: Path | None = None) -> BootstrapOutcome:
    """Import the bundled data when the store holds no race data; otherwise do nothing.

    `work_dir` holds the writable copy of the bundled FastF1 cache (FastF1 may write
    to its sqlite); None uses the user cache dir.
    """
    if has_race_data(engine):
        return BootstrapOutcome(False, "the store already holds race data; left alone")
    # Hazard: two replicas starting together may both see an empty store. Both then
    # import; every write is an upsert on natural keys (seasons, events, results) and
    # the FastF1 ingest is fingerprinted, so the second import changes nothing.
    report = load_demo(engine, work_dir=work_dir)
    if not report.ok:
        log.warning("bootstrap: part of the bundled data did not load: %s",
                    [(s.target, s.reason) for s in report.ingest.sessions if s.outcome == "failed"])
    return BootstrapOutcome(True, f"imported the bundled data ({report.history.total_rows} history rows)",
                            ok=report.ok)
