"""`slipstream lab backtest --json` on the bundled demo store."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from slipstream import cli_lab
from tests.lab.conftest import ergast_result


def test_backtest_json_shape(demo_url: str) -> None:
    app = typer.Typer()
    cli_lab.register(app)
    res = CliRunner().invoke(app, ["lab", "backtest", "--json", "--runs", "40", "--db", demo_url])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    assert len(lines) == 1  # the demo store holds one race with laps
    race = lines[0]
    assert set(race) == {"year", "round", "event", "drivers"}
    assert (race["year"], race["round"]) == (2023, 14)
    for d in race["drivers"]:
        assert set(d) == {"code", "official_position", "sim_mean_position", "p_win"}
        assert 1 <= d["sim_mean_position"] <= len(race["drivers"]) and 0 <= d["p_win"] <= 1
    official = {r["code"]: int(r["position"]) for r in ergast_result()
                if r["position"] not in ("", r"\N")}
    assert {d["code"]: d["official_position"] for d in race["drivers"]
            if d["official_position"] is not None} == official
    assert abs(sum(d["p_win"] for d in race["drivers"]) - 1) < 1e-3


def test_backtest_text_prints_the_figures(demo_url: str) -> None:
    app = typer.Typer()
    cli_lab.register(app)
    res = CliRunner().invoke(app, ["lab", "backtest", "--runs", "40", "--db", demo_url])
    assert res.exit_code == 0, res.output
    assert "median Spearman" in res.stdout and "Brier score" in res.stdout
