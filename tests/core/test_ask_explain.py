"""`slipstream ask --explain / --json` through typer's CliRunner on the demo store.

Race names and the winner come from the bundled raw Ergast CSV.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.plan import QueryPlan
from slipstream import cli_chat
from slipstream.cli_chat import explain_lines

ERGAST = Path(__file__).resolve().parents[2] / "slipstream" / "demo_data" / "ergast"


def _csv(name: str) -> list[dict[str, str]]:
    with (ERGAST / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _monza_2023() -> tuple[dict[str, str], dict[str, str]]:
    """(race row, winner's driver row) of the 2023 race at Monza, from the CSV."""
    monza = next(c for c in _csv("circuits") if c["circuitRef"] == "monza")
    race = next(r for r in _csv("races") if r["year"] == "2023" and r["circuitId"] == monza["circuitId"])
    win = next(r for r in _csv("results") if r["raceId"] == race["raceId"] and r["positionOrder"] == "1")
    return race, next(d for d in _csv("drivers") if d["driverId"] == win["driverId"])


@pytest.fixture
def cli(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, typer.Typer]:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    app = typer.Typer()
    cli_chat.register(app)
    return CliRunner(), app


def test_explain_prints_the_plan_then_the_reply(cli: tuple[CliRunner, typer.Typer]) -> None:
    runner, app = cli
    race, winner = _monza_2023()
    res = runner.invoke(app, ["ask", "--explain", "who won at monza 2023"])
    assert res.exit_code == 0, res.output
    head, _, reply = res.output.partition("\n---\n")
    lines = head.splitlines()
    assert lines[0] == "intent: winner"
    assert lines[1].startswith("slots: ") and f"event=2023 {race['name']}" in lines[1]
    assert lines[-1] == "unknown words: none"
    assert winner["surname"] in reply and "intent:" not in reply


def test_json_carries_reply_and_plan(cli: tuple[CliRunner, typer.Typer]) -> None:
    runner, app = cli
    race, winner = _monza_2023()
    res = runner.invoke(app, ["ask", "--json", "who won at monza 2023"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"text", "cards", "images", "suggestions", "ephemeral", "reply", "plan"}
    assert winner["surname"] in out["text"] and out["images"] == [] and out["ephemeral"] is False
    assert out["plan"]["intent"] == "winner" and out["plan"]["event"] == f"2023 {race['name']}"
    assert winner["surname"] in out["reply"]


def test_commands_and_refusals(cli: tuple[CliRunner, typer.Typer]) -> None:
    runner, app = cli
    res = runner.invoke(app, ["ask", "--explain", "/f1 results monza 2023 quali"])
    assert res.exit_code == 0, res.output
    first = res.output.splitlines()[0]
    assert first.startswith("a command: results ") and "monza 2023" in first and "quali" in first

    res = runner.invoke(app, ["ask", "--json", "/f1 results monza 2023"])
    out = json.loads(res.output)
    assert out["command"]["name"] == "results" and _monza_2023()[1]["surname"] in out["reply"]

    # A race that does not exist: the plan line says why, and the reply says the same.
    res = runner.invoke(app, ["ask", "--explain", "who won at atlantis 2023"])
    head, _, reply = res.output.partition("\n---\n")
    assert head.startswith("not understood: ") and "atlantis" in head
    assert head.removeprefix("not understood: ").strip() in reply


def test_explain_lines_show_words_defaults_and_unknown() -> None:
    plan = QueryPlan(text="how did lando go blorp", focus="results", year=2023, notes=["default_event"],
                     unknown=["blorp"])
    plan.mapped("lando", "driver", "NOR")
    lines = explain_lines({"plan": plan.explain()})
    assert lines[0] == "intent: results"
    assert "year=2023" in lines[1] and "session=R" in lines[1]
    assert '  "lando" -> driver = NOR' in lines
    assert "defaults used: default_event" in lines
    assert lines[-2:] == ["unknown words: blorp", "---"]


async def test_ask_verbose_shows_the_claims_and_the_guards_decision(demo_url: str, tmp_path: Path) -> None:
    """`slipstream ask -v` with a model (a real local HTTP server speaking the OpenAI API) that
    puts the win on the wrong driver: stderr shows the claims, the rejected text and claim, and
    the fallback; stdout shows the data's answer."""
    import asyncio
    import os
    import sys

    from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

    wrong = "Sergio Pérez won the 2023 Italian Grand Prix from P2 on the grid."
    async with FakeOpenAIServer(default=Behaviour(reply=wrong)) as srv:
        env = {**os.environ, "DATABASE_URL": demo_url, "LLM_BASE_URL": srv.base_url, "HOME": str(tmp_path)}
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("slipstream")), "ask", "-v", "who won monza 2023",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out_b, err_b = await asyncio.wait_for(proc.communicate(), 120)
    out, err = out_b.decode(), err_b.decode()
    assert proc.returncode == 0, err
    assert "**Max Verstappen (VER)** won the 2023 Italian Grand Prix" in out and "Pérez" not in out
    assert "claim: Max Verstappen (VER) won the 2023 Italian Grand Prix" in err
    # Streamed: the guard stopped the model at the first name the answer does not hold.
    assert "model wrote (not shown): Sergio" in err and "rejected entity: 'Sergio" in err
    assert "claim guard: fallback (guard: entity)" in err and err.count("claim guard: fallback") == 1
