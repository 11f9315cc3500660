"""Start-up validation through the real `slipstream` command: a bad setting or store is one
line on stderr and exit status 2, never a traceback, and nothing is created by mistake."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

SLIPSTREAM = ROOT / ".venv" / "bin" / "slipstream"


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `slipstream ARGS` in an empty directory (no stray .env) with only `env` set."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "METRICS_PORT": "0"}
    return subprocess.run([str(SLIPSTREAM), *args], env={**base, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_slack_token_without_secret_or_app_token(tmp_path: Path) -> None:
    line = one_line(run_cli(tmp_path, "run", DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
                            SLACK_BOT_TOKEN="xoxb-1"))
    assert "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET" in line
    assert not (tmp_path / "s.db").exists()


def test_malformed_discord_guild_ids(tmp_path: Path) -> None:
    line = one_line(run_cli(tmp_path, "run", DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
                            DISCORD_TOKEN="t", DISCORD_GUILD_IDS="123,abc"))
    assert line == "slipstream: DISCORD_GUILD_IDS: 'abc' is not a guild id (digits only)"


@pytest.mark.parametrize("command", [["ask", "who won monza 2023?"], ["chat"], ["run"], ["db", "stats"],
                                     ["pulse", "recent"]])
def test_missing_sqlite_store_is_not_created(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "slipstrem.db"
    line = one_line(run_cli(tmp_path, *command, DATABASE_URL=f"sqlite:///{typo}"))
    assert f"no store at {typo}" in line and "slipstream demo" in line
    assert not typo.exists()


def test_malformed_database_url(tmp_path: Path) -> None:
    line = one_line(run_cli(tmp_path, "ask", "hi", DATABASE_URL="sqlite//oops"))
    assert line.startswith("slipstream: DATABASE_URL is malformed: 'sqlite//oops'")


def test_unreachable_database(tmp_path: Path) -> None:
    # Port 1 on localhost: nothing listens there, the refusal is immediate.
    line = one_line(run_cli(tmp_path, "db", "upgrade",
                            DATABASE_URL="postgresql://postgres:secret@127.0.0.1:1/slipstream"))
    assert line.startswith("slipstream: cannot open the database postgresql://postgres:***@127.0.0.1:1/")
    assert "Connection refused" in line
    assert "secret" not in line


def test_db_upgrade_creates_and_current_shows_head(tmp_path: Path) -> None:
    from storage.migrate import head

    url = f"sqlite:///{tmp_path / 'new.db'}"
    missing = run_cli(tmp_path, "db", "current", DATABASE_URL=url)
    assert missing.returncode == 2 and not (tmp_path / "new.db").exists()
    up = run_cli(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith(f"schema {head()} (head)")
    cur = run_cli(tmp_path, "db", "current", DATABASE_URL=url)
    assert cur.returncode == 0 and cur.stdout.strip() == f"{head()} (head)"
