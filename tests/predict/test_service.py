"""The predictor in the running bot: built once by `build_app` and closed by `aclose`; the
service's ingest job updates it when a race result was written (not after practice); and
`slipstream history import` folds what it imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from bot.predict.service import Predictor
from bot.predict.types import PredictUnavailable
from bot.settings import Settings
from slipstream import cli_data
from slipstream.service import IngestResult, Service, SessionSlot
from slipstream.wiring import build_app
from storage.db import table
from storage.history import import_history
from storage.models import Event
from storage.models import Session as RaceSession
from storage.predict_store import latest_posterior
from storage.store import Store
from tests.predict.conftest import copy_csv, demo_csv, history_engine, race_ids


def _session_id(engine: object, rnd: int, stype: str) -> int:
    s, e = table(RaceSession), table(Event)
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(s.c.id).select_from(s.join(e, e.c.id == s.c.event_id))
                                .where(e.c.year == 2023, e.c.round == rnd, s.c.type == stype)).scalar_one())


async def test_an_ingested_race_result_updates_the_predictor(tmp_path: Path) -> None:
    cut = copy_csv(demo_csv(), tmp_path / "cut", keep=lambda f, race, r: race[1] < 22)
    engine = history_engine(tmp_path / "h.db", cut)
    store = Store(engine)
    predictor = Predictor(store)
    try:
        assert (await predictor.fold_new_results()).data_through == (2023, 21)
        written: list[int] = []

        async def ingest(slot: SessionSlot) -> IngestResult:
            # The results "arrive": the real history import writes the final round's rows.
            import_history(engine, demo_csv())
            written.append(slot.session_id)
            return IngestResult(True, "updated")

        service = Service(engine, ingest=ingest, on_results=predictor.fold_new_results, autowake=False)
        version = latest_posterior(engine).version  # type: ignore[union-attr]
        await service.run_job("ingest:fp1", kind="ingest", session_id=_session_id(engine, 22, "FP1"))
        assert latest_posterior(engine).version == version  # type: ignore[union-attr]  # practice: no update
        await service.run_job("ingest:race", kind="ingest", session_id=_session_id(engine, 22, "R"))
        assert len(written) == 2
        stored = latest_posterior(engine)
        assert stored is not None and stored.version == version + 1 and stored.through == (2023, 22)
        fc = await predictor.race(2023, 22, after_quali=False)
        assert fc.data_through == (2023, 21)  # the race's own forecast still stops before it
        assert await predictor.next_race(dt.datetime(2023, 11, 20, tzinfo=dt.UTC)) is None
    finally:
        predictor.close()
        store.close()
        engine.dispose()


async def test_build_app_wires_one_predictor_and_aclose_closes_it(tmp_path: Path) -> None:
    app = build_app(Settings(database_url=f"sqlite:///{tmp_path / 's.db'}"))
    predictor = app.deps.predictor
    assert isinstance(predictor, Predictor) and predictor.store is app.store
    with pytest.raises(PredictUnavailable, match="No race history"):  # an empty store
        await predictor.race(2023, 1)
    await app.aclose()
    with pytest.raises(RuntimeError):  # its worker thread is gone
        await predictor.race(2023, 1)


def test_history_import_folds_the_imported_races(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    app = typer.Typer()
    cli_data.register(app)
    res = CliRunner().invoke(app, ["history", "import", str(demo_csv())])
    assert res.exit_code == 0, res.output
    rounds = len(set(race_ids(demo_csv()).values()))
    assert f"predictions: {rounds} race(s) folded" in res.output
    res = CliRunner().invoke(app, ["history", "import", str(demo_csv())])
    assert "predictions: 0 race(s) folded" in res.output  # a re-import changes nothing
