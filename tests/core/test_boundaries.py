"""Architecture rules: layers import only downwards, no platform library in bot/, no pandas/FastF1
in the chat path.

Layers: `storage` <- `bot` <- `adapters` <- `slipstream`; a module may import its own layer
and those below it, never one above (checked on the AST, so imports inside functions count).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("discord", "slack_bolt", "slack_sdk")
LAYERS = ("storage", "bot", "adapters", "slipstream")  # bottom to top


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _upward_imports(layer: str) -> list[str]:
    """Imports of a layer above `layer` by any module of `layer`."""
    above = LAYERS[LAYERS.index(layer) + 1 :]
    files = sorted((ROOT / layer).rglob("*.py"))
    assert len(files) > 3, f"no modules found under {layer}/"
    return [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imports(path)
        if name.split(".")[0] in above
    ]


def test_bot_imports_nothing_from_adapters_or_slipstream() -> None:
    assert _upward_imports("bot") == []


def test_adapters_import_nothing_from_slipstream() -> None:
    assert _upward_imports("adapters") == []


def test_upward_import_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text("import os\n\ndef f():\n    from slipstream.wiring import build_app\n    import bot.app\n")
    assert _imports(src) == ["os", "slipstream.wiring", "bot.app"]


# SQL belongs to storage/. Flagged outside it: the statement builders called by name
# (`select(`, `insert(`, `update(`, `delete(`, `text(`), a table's `.insert()` / `.update()` /
# `.delete()` / `.select()` with no arguments (a dict's `.update(x)` has one), running a statement
# (`.execute(`, `.exec(`, `.scalars(`), backend upserts, and importing those names, `func`,
# `and_`/`or_`, the ORM `Session` or a dialect module from sqlalchemy / sqlmodel.
_SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
_SQL_METHODS = {"execute", "exec", "scalars", "on_conflict_do_update", "on_conflict_do_nothing"}
_SQL_NAMES = _SQL_BUILDERS | {"Session", "func", "and_", "or_"}


def _sql_constructs(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("sqlalchemy", "sqlmodel"):
            if node.module.startswith(("sqlalchemy.dialects", "sqlalchemy.orm", "sqlalchemy.sql")):
                found.append(f"{node.lineno}: from {node.module} import ...")
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in _SQL_NAMES]
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in _SQL_BUILDERS:
                found.append(f"{node.lineno}: {f.id}(")
            elif isinstance(f, ast.Attribute) and (
                f.attr in _SQL_METHODS or (f.attr in _SQL_BUILDERS and not node.args and not node.keywords)
            ):
                found.append(f"{node.lineno}: .{f.attr}(")
    return sorted(found, key=lambda s: int(s.split(":")[0]))


def test_sql_check_finds_statements_and_ignores_look_alikes(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "from sqlalchemy import Engine, select\n"
        "def f(engine: Engine, t, d: dict, bar):\n"
        "    d.update(a=1); d.update({'b': 2}); bar.update(3, total=4)\n"
        "    with engine.connect() as conn:\n"
        "        conn.execute(select(t.c.x))\n"
        "        conn.execute(t.update().values(x=1))\n"
    )
    assert _sql_constructs(src) == [
        "1: imports select", "5: .execute(", "5: select(", "6: .execute(", "6: .update(",
    ]


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
heavy = sorted(m for m in ("pandas", "fastf1", "discord", "slack_bolt", "openai") if m in sys.modules)
# numpy only as matplotlib's, for the lap-time chart a compare answer carries (drawn in the
# charts' worker thread): never pandas or FastF1.
if "numpy" in sys.modules and "matplotlib" not in sys.modules:
    heavy.append("numpy")
print(",".join(heavy))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "", f"heavy modules imported in the chat path: {p.stdout.strip()}"


def test_storage_imports_nothing_from_the_layers_above() -> None:
    assert _upward_imports("storage") == []


def test_no_sql_outside_storage() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{found}"
        for layer in LAYERS[1:]
        for path in sorted((ROOT / layer).rglob("*.py"))
        for found in _sql_constructs(path)
    ]
    assert offenders == [], "\n".join(offenders)
