"""Autocomplete sources for command parameters ("driver", "race", "season", "team", "kind").

Served from the store (cached lists), filtered by a folded substring of what
the user typed so far. Values are what the resolver understands.
"""

from __future__ import annotations

from bot.app import BotDeps
from storage.queries import fold

KINDS: list[tuple[str, str]] = [
    ("Race", "race"),
    ("Sprint", "sprint"),
    ("Qualifying", "quali"),
]


async def complete(deps: BotDeps, source: str, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
    """(label, value) pairs for `source` matching `prefix` (at most `limit`)."""
    store = deps.store
    key = fold(prefix or "")
    options: list[tuple[str, str]] = []
    if source == "season":
        options = [(str(y), str(y)) for y in await store.seasons()]
    elif source == "kind":
        options = list(KINDS)
    else:
        latest = await store.last_event_with_results()
        year = latest.year if latest else None
        if source == "driver":
            pool = await (store.drivers_in_season(year) if year else store.all_drivers())
            options = [(f"{d.code or d.short} — {d.name}", d.code or d.ref) for d in pool]
        elif source == "race":
            events = await store.events(year) if year else []
            options = [(f"{e.year} R{e.round} {e.name}", f"{fold(e.name)} {e.year}") for e in events]
            options.reverse()  # latest first
        elif source == "team" and year:
            options = [(name, ref) for ref, name in await store.constructors_in_season(year)]
    if key:
        options = [o for o in options if key in fold(o[0]) or key in fold(o[1])]
    # Discord caps choice names and values at 100 characters.
    return [(label[:100], value[:100]) for label, value in options[:limit]]
