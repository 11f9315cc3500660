"""The console adapter end to end: `slipstream ask / chat / demo` as real subprocesses."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from adapters.console.chat import ConsoleSession, run_chat
from slipstream.wiring import App

SLIPSTREAM = [sys.executable, "-m", "slipstream.cli"]


def run_cli(args: list[str], url: str, *, stdin: str = "", home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=url, NO_COLOR="1")
    env.pop("LLM_BASE_URL", None)
    if home is not None:  # keep the demo's FastF1 cache copy out of the real user cache
        env["XDG_CACHE_HOME"] = str(home / "cache")
        env["HOME"] = str(home)
    return subprocess.run(
        SLIPSTREAM + args, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_ask_one_shot(demo_url: str) -> None:
    p = run_cli(["ask", "who won the 2023 italian grand prix?"], demo_url)
    assert p.returncode == 0, p.stderr
    assert "Verstappen" in p.stdout and "Traceback" not in p.stderr

    p = run_cli(["ask", "/f1 results monza 2023", "--render", "slack"], demo_url)
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout.split("\n", 1)[1])  # after the "--- Slack message 1 ---" line
    assert body["blocks"][0]["type"] == "section" and "Max Verstappen" in body["text"]
    assert any(b["type"] == "header" for b in body["blocks"])

    p = run_cli(["ask", "podium at monza 2023", "--render", "discord"], demo_url)
    assert "--- Discord message 1 ---" in p.stdout and "Sainz" in p.stdout

    p = run_cli(["ask", "/f1 results monza 2023", "--render", "discord"], demo_url)
    assert '"title": "2023 Italian Grand Prix Race"' in p.stdout  # an embed

    p = run_cli(["ask", "who won at monzx?"], demo_url)
    assert "Did you mean **Monza**?" in p.stdout and p.returncode == 0


def test_chat_reads_piped_lines(demo_url: str) -> None:
    lines = "who won at monza 2023?\nand the fastest lap?\n/f1 stints monza 2023 driver=VER\nquit\nnever read\n"
    p = run_cli(["chat"], demo_url, stdin=lines)
    assert p.returncode == 0, p.stderr
    assert "Verstappen" in p.stdout
    assert "1:25.072" in p.stdout  # the follow-up kept Monza
    assert "MEDIUM laps 1-20" in p.stdout
    assert "never read" not in p.stdout


def test_demo_is_idempotent_and_exits_without_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = run_cli(["demo"], url, home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Try:" in first.stdout and "added" in first.stderr
    # Track Pulse replay of Monza 2023 before the intro: a handful of high-priority moments, in lap order.
    out = first.stdout
    assert "Track Pulse replay: 2023 Italian Grand Prix" in out
    assert out.index("Track Pulse replay") < out.index("Try:")
    laps = [int(x) for x in __import__("re").findall(r"\*\*Lap (\d+) ·", out)]
    assert 3 <= len(laps) <= 12 and laps == sorted(laps), out
    assert "lead" in out.lower() and "VER" in out
    second = run_cli(["demo"], url, home=tmp_path)
    assert second.returncode == 0 and "skipped" in second.stderr
    assert second.stdout.count("**Lap ") == first.stdout.count("**Lap ")  # same replay again
    quiet = run_cli(["demo", "--no-replay"], url, home=tmp_path)
    assert quiet.returncode == 0 and "Track Pulse replay" not in quiet.stdout and "Try:" in quiet.stdout
    p = run_cli(["ask", "fastest lap at monza 2023"], url)
    assert "Piastri" in p.stdout and "1:25.072" in p.stdout


def test_fresh_store_says_how_to_get_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    # No store at all: one line saying how to make one; a typo'd path is not created.
    missing = run_cli(["ask", "who won the last race?"], url)
    assert missing.returncode == 2 and "slipstream demo" in missing.stderr
    assert not (tmp_path / "empty.db").exists()
    # An empty store: the answer says how to get data.
    assert run_cli(["db", "upgrade"], url).returncode == 0
    p = run_cli(["ask", "who won the last race?"], url)
    assert p.returncode == 0 and "slipstream demo" in p.stdout


async def test_moderator_flag_and_in_process_session(app: App) -> None:
    out: list[str] = []
    session = ConsoleSession(app.dispatcher, moderator=True, write=out.append)
    assert session.user.privilege.name == "MODERATOR"
    n = await run_chat(session, stdin=io.StringIO("/f1 standings\n\nexit\n"), write=out.append)
    assert n == 1 and "Leader" in out[-1]
