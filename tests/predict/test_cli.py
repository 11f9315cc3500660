"""`slipstream predict` through typer's CliRunner: the JSON shapes the issue specifies, a
clear one-line refusal, and the backtest's walk-forward lines plus its summary."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from slipstream import cli_predict
from tests.predict.conftest import demo_csv, history_engine, race_ids


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRunner, typer.Typer, dict[str, str]]:
    path = tmp_path_factory.mktemp("predict-cli") / "h.db"
    history_engine(path, demo_csv()).dispose()
    app = typer.Typer()
    cli_predict.register(app)
    return CliRunner(), app, {"DATABASE_URL": f"sqlite:///{path}"}


def _drivers_ok(drivers: list[dict[str, object]]) -> None:
    assert drivers and all(set(d) == {"code", "p_win", "p_podium", "p_points", "expected_position"}
                           for d in drivers)
    assert sum(float(d["p_win"]) for d in drivers) == pytest.approx(1.0, abs=1e-3)  # type: ignore[arg-type]


@pytest.mark.parametrize("args,stage", [([], "pre_quali"), (["--after-quali"], "after_quali")])
def test_race_json(cli: tuple[CliRunner, typer.Typer, dict[str, str]], args: list[str], stage: str) -> None:
    runner, app, env = cli
    res = runner.invoke(app, ["predict", "race", "--year", "2023", "--round", "7", "--json", *args], env=env)
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert set(obj) == {"year", "round", "stage", "drivers"}
    assert (obj["year"], obj["round"], obj["stage"]) == (2023, 7, stage)
    _drivers_ok(obj["drivers"])


def test_unknown_round_is_one_line_and_exit_1(cli: tuple[CliRunner, typer.Typer, dict[str, str]]) -> None:
    runner, app, env = cli
    res = runner.invoke(app, ["predict", "race", "--year", "2023", "--round", "40"], env=env)
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == ["error: Round 40 is not in the 2023 calendar I hold."]


def test_backtest_json_lines_and_summary(cli: tuple[CliRunner, typer.Typer, dict[str, str]]) -> None:
    runner, app, env = cli
    res = runner.invoke(app, ["predict", "backtest", "--from", "2023", "--to", "2023", "--json"], env=env)
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    races, summary = lines[:-1], lines[-1]["summary"]
    assert [(o["year"], o["round"]) for o in races] == sorted(set(race_ids(demo_csv()).values()))
    for o in races:
        assert set(o) == {"year", "round", "stage", "drivers"} and o["stage"] == "pre_quali"
        _drivers_ok(o["drivers"])
    season = summary["2023"]
    assert set(season) == {"pre_quali", "after_quali"}
    assert set(season["pre_quali"]) == {"model", "champ_base"}
    assert set(season["after_quali"]) == {"model", "grid_base"}
    entries = sum(len(o["drivers"]) for o in races)
    for stage in season.values():
        for m in stage.values():
            assert m["races"] == len(races)
            # Every entrant's P(win) and P(podium) land in one calibration bin each.
            assert sum(c["n"] for c in m["calibration"]) == 2 * entries


def test_title_json(cli: tuple[CliRunner, typer.Typer, dict[str, str]]) -> None:
    runner, app, env = cli
    res = runner.invoke(app, ["predict", "title", "--year", "2023", "--after-round", "10", "--json"], env=env)
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    rounds = {rnd for year, rnd in race_ids(demo_csv()).values() if year == 2023}
    assert obj["after_round"] == 10 and obj["rounds_left"] == len(rounds) - 10 and not obj["decided"]
    assert sum(e["p_title"] for e in obj["entries"]) == pytest.approx(1.0, abs=1e-3)
