"""Discord adapter (discord.py): `/f1` slash commands, mentions, DMs, threads, highlights.

`run_discord(settings, dispatcher, stop=...)` logs in, hands a `DiscordPoster`
to `poster_ready` (for the Track Pulse deliverer) and runs the gateway until
`stop` is set. Command sync is separate (`slipstream discord sync`).

Names are loaded on first use (`adapters.lazy`): reading `adapters.discord.settings` to learn
whether Discord is configured must not import discord.py (a quarter of a second of every
console-only start-up).
"""

from __future__ import annotations

from adapters.lazy import lazy_attributes

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

__getattr__ = lazy_attributes(__name__, _WHERE)
