"""Package attributes loaded on first use (PEP 562), for adapter packages whose import is heavy.

Reading `adapters.discord.settings` (is Discord configured?) must not import discord.py, nor
`adapters.slack.settings` slack-bolt: a console-only start-up never needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` serving `name` from `package.<where[name]>` when first asked."""
    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    return __getattr__
