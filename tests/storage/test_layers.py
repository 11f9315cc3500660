"""storage/ is the ground floor: it imports nothing from the layers above it
(bot, adapters, slipstream). Value types it persists live in storage."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ABOVE = ("bot", "adapters", "slipstream")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):  # function-level imports count too
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_storage_imports_nothing_from_the_layers_above() -> None:
    files = sorted((ROOT / "storage").rglob("*.py"))
    assert any(p.name == "pulse_store.py" for p in files)
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in files for name in _imports(p) if name.split(".")[0] in ABOVE
    ]
    assert offenders == [], offenders


def test_bot_sees_the_same_pulse_types_storage_persists() -> None:
    from bot.pulse import state, types
    from storage import pulse_types, race_feed

    assert types.PulseHighlight is pulse_types.PulseHighlight and types.Priority is pulse_types.Priority
    assert state.RaceFeed is race_feed.RaceFeed and state.LapRec is race_feed.LapRec
