"""Architecture rules: no platform library in bot/, no pandas/FastF1 in the chat path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("discord", "slack_bolt", "slack_sdk")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_bot_imports_no_platform_library() -> None:
    offenders = []
    files = sorted((ROOT / "bot").rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == [], offenders


def test_chat_path_keeps_pandas_and_fastf1_out(demo_url: str) -> None:
    code = f"""
import asyncio, sys
from bot.settings import Settings
from slipstream.wiring import build_app
from adapters.console.chat import ConsoleSession
async def main():
    app = build_app(Settings(database_url={demo_url!r}, llm_base_url=None))
    out = await ConsoleSession(app.dispatcher, write=lambda s: None).send("compare VER and PER at monza 2023")
    assert "VER vs PER" in out, out
    await app.aclose()
asyncio.run(main())
heavy = sorted(m for m in ("pandas", "fastf1", "numpy", "discord", "slack_bolt", "openai") if m in sys.modules)
print(",".join(heavy))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "", f"heavy modules imported in the chat path: {p.stdout.strip()}"
