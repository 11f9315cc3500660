"""The data CLI through typer's CliRunner: clear one-line errors, non-zero exit, nothing half-written."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from slipstream import cli_data
from storage.db import make_engine
from tests.storage.conftest import demo_ergast


@pytest.fixture
def cli(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, typer.Typer, str]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    app = typer.Typer()
    cli_data.register(app)
    return CliRunner(), app, sqlite_url


def _count(url: str, tbl: str) -> int:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return conn.execute(text(f"select count(*) from {tbl}")).scalar_one()
    finally:
        eng.dispose()


def test_ingest_and_stats(cli: tuple[CliRunner, typer.Typer, str], monza_cache: Path) -> None:
    runner, app, url = cli
    res = runner.invoke(app, ["ingest", "--year", "2023", "--event", "Monza", "--session", "R",
                              "--cache-dir", str(monza_cache), "--offline"])
    assert res.exit_code == 0, res.output
    assert "added 1" in res.output and "failed 0" in res.output
    assert _count(url, "lap") == 958
    stats = runner.invoke(app, ["db", "stats"])
    assert stats.exit_code == 0 and "958" in stats.output and "2023" in stats.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2023", "--session", "XX"], "error: unknown session 'XX'"),
        (["--year", "2023", "--event", "Atlantis"], "error: unknown event 'Atlantis' in 2023"),
        (["--year", "1900"], "error: unknown year 1900"),
        (["--year", "2023", "--event", "14", "--session", "S"], "error: no S session"),
    ],
)
def test_ingest_bad_input(cli: tuple[CliRunner, typer.Typer, str], monza_cache: Path,
                          args: list[str], message: str) -> None:
    runner, app, url = cli
    res = runner.invoke(app, ["ingest", *args, "--cache-dir", str(monza_cache), "--offline"])
    assert res.exit_code == 1
    assert message in res.output
    assert "Traceback" not in res.output
    assert _count(url, "lap") == 0 and _count(url, "result") == 0


def test_missing_cache_dir(cli: tuple[CliRunner, typer.Typer, str], tmp_path: Path) -> None:
    runner, app, _ = cli
    res = runner.invoke(app, ["ingest", "--year", "2023", "--cache-dir", str(tmp_path / "nope"), "--offline"])
    assert res.exit_code == 1 and f"error: cache dir not found: {tmp_path / 'nope'}" in res.output


def test_history_import_corrupt_csv(cli: tuple[CliRunner, typer.Typer, str], tmp_path: Path) -> None:
    runner, app, url = cli
    csv_dir = tmp_path / "csv"
    shutil.copytree(demo_ergast(), csv_dir)
    rows = list(csv.reader((csv_dir / "qualifying.csv").open()))
    rows[9][6] = "1:2x.345"  # q1
    with (csv_dir / "qualifying.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    res = runner.invoke(app, ["history", "import", str(csv_dir)])
    assert res.exit_code == 1
    assert "error: qualifying.csv line 10: q1 is not a lap time: '1:2x.345' (nothing was imported)" in res.output
    assert _count(url, "result") == 0 and _count(url, "event") == 0
    ok = runner.invoke(app, ["history", "import", str(demo_ergast())])
    assert ok.exit_code == 0 and "imported" in ok.output
    assert _count(url, "driver_standing") == 462


def test_history_import_missing_dir(cli: tuple[CliRunner, typer.Typer, str], tmp_path: Path) -> None:
    runner, app, _ = cli
    res = runner.invoke(app, ["history", "import", str(tmp_path / "none")])
    assert res.exit_code == 1 and "error: history directory not found" in res.output
