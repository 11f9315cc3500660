"""Discord adapter (discord.py): `/f1` slash commands, mentions, DMs, threads, highlights.

`run_discord(settings, dispatcher, stop=...)` logs in, hands a `DiscordPoster`
to `poster_ready` (for the Track Pulse deliverer) and runs the gateway until
`stop` is set. Command sync is separate (`slipstream discord sync`).

Names are loaded on first use (PEP 562): reading `adapters.discord.settings`
to learn whether Discord is configured must not import discord.py (a quarter
of a second of every console-only start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "DiscordPoster": "poster",
    "DiscordSettings": "settings",
    "SlipstreamClient": "client",
    "configure_endpoints": "client",
    "default_intents": "client",
    "guild_ids": "run",
    "run_discord": "run",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
