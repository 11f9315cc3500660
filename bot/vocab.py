"""The names the claim guard knows: every driver (bundled), every team and Grand Prix (the store).

Built once per data version off the event loop (`Store.derive`), like the resolver's indexes,
so a new team or race in the data is known to the guard as soon as it is in the store.
`basic_vocabulary` is the store-free fallback (Track Pulse's commentator, tests): drivers, the
teams and places fans name most.
"""

from __future__ import annotations

from functools import lru_cache

from bot.claims import Vocabulary, driver_vocabulary, merged
from bot.lexicon import PLACE_ALIASES, TEAM_NICKNAMES
from bot.resolve import all_teams
from storage.queries import EventInfo
from storage.store import Store


async def vocabulary(store: Store) -> Vocabulary:
    """Drivers, teams and races of the whole store, for `bot.claimguard`."""
    async def inputs() -> tuple[list[EventInfo], dict[str, str]]:
        return await store.events(None), await all_teams(store)

    return await store.derive(("claims_vocabulary",), _build, inputs)


def _build(events: list[EventInfo], teams: dict[str, str]) -> Vocabulary:
    v = Vocabulary()
    v.add_teams(list(teams.values()) + [n for n in TEAM_NICKNAMES if len(n) >= 4])
    v.add_races((e.name, (e.location, e.circuit_name, e.country)) for e in events)
    return merged(driver_vocabulary(), v)


@lru_cache(maxsize=1)
def basic_vocabulary() -> Vocabulary:
    """Without a store: drivers, team names and nicknames, the places of the lexicon."""
    v = Vocabulary()
    v.add_teams([n for n in TEAM_NICKNAMES if len(n) >= 4] + sorted({r.replace("_", " ") for r in TEAM_NICKNAMES.values()}))
    v.add_races((f"{place.title()} Grand Prix", (alias,)) for alias, place in PLACE_ALIASES.items() if place)
    return merged(driver_vocabulary(), v)
