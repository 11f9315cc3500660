"""One way to turn a source's driver / team into our `driver.id` / constructor ref.

FastF1 and the Ergast history must land on the SAME driver row, or a driver's
laps (FastF1) and their points (history) never meet. The rules:

* Drivers: Ergast `driverRef` == FastF1 `DriverId` (e.g. "max_verstappen").
  Older FastF1 caches have an empty `DriverId`; then we match by code among the
  drivers of that season (codes collide across eras: VER is Vergne in 2014 and
  Verstappen from 2015), then by car number in that season, then by full name,
  and only then create a driver whose ref is built from the full name.
* Constructors: Ergast `constructorRef` == FastF1 `TeamId` (e.g. "red_bull").
  When `TeamId` is empty we map the team's display name through a small alias
  table, then by name among known constructors, else a ref from the name.

The resolver loads the candidate rows once per season (`DriverResolver.load`)
so resolving 20 drivers costs a couple of queries, not 20 × several.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from storage.db import table, upsert
from storage.models import Constructor, Driver, DriverStanding, Event, Result
from storage.models import Session as RaceSession

# FastF1 team display names (TeamName) → Ergast constructorRef, for caches with no TeamId.
TEAM_ALIASES: dict[str, str] = {
    "red bull racing": "red_bull",
    "red bull": "red_bull",
    "mercedes": "mercedes",
    "ferrari": "ferrari",
    "mclaren": "mclaren",
    "alpine": "alpine",
    "aston martin": "aston_martin",
    "williams": "williams",
    "alphatauri": "alphatauri",
    "scuderia alphatauri": "alphatauri",
    "alpha tauri": "alphatauri",
    "toro rosso": "toro_rosso",
    "scuderia toro rosso": "toro_rosso",
    "rb": "rb",
    "racing bulls": "rb",
    "visa cash app rb": "rb",
    "alfa romeo": "alfa",
    "alfa romeo racing": "alfa",
    "alfa romeo f1 team stake": "alfa",
    "kick sauber": "sauber",
    "sauber": "sauber",
    "stake f1 team kick sauber": "sauber",
    "haas f1 team": "haas",
    "haas": "haas",
    "racing point": "racing_point",
    "force india": "force_india",
    "renault": "renault",
}


def slug(text: str) -> str:
    """ASCII snake_case, the shape of Ergast refs ("Kimi Räikkönen" → "kimi_raikkonen")."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", norm.lower()).strip("_") or "unknown"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class DriverResolver:
    """Resolves FastF1 driver entries of one season to `driver.id`, creating rows if needed."""

    year: int
    by_ref: dict[str, int] = field(default_factory=dict)
    season_by_code: dict[str, list[int]] = field(default_factory=dict)
    season_by_number: dict[str, list[int]] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, year: int) -> DriverResolver:
        res = cls(year=year)
        d = table(Driver)
        for row in conn.execute(select(d.c.id, d.c.ref, d.c.full_name, d.c.first_name, d.c.last_name)):
            res.by_ref[row.ref] = row.id
            name = row.full_name or " ".join(p for p in (row.first_name, row.last_name) if p)
            if name:
                res.by_name.setdefault(slug(name), []).append(row.id)
        # Drivers of this season: anyone with a result or a standing in that year.
        r, s, e, ds = table(Result), table(RaceSession), table(Event), table(DriverStanding)
        season_ids = select(r.c.driver_id, r.c.number).select_from(
            r.join(s, s.c.id == r.c.session_id).join(e, e.c.id == s.c.event_id)
        ).where(e.c.year == year)
        numbers: dict[int, set[str]] = {}
        for row in conn.execute(season_ids):
            numbers.setdefault(row.driver_id, set())
            if row.number is not None:
                numbers[row.driver_id].add(str(row.number))
        for row in conn.execute(select(ds.c.driver_id).where(ds.c.year == year).distinct()):
            numbers.setdefault(row.driver_id, set())
        if numbers:
            codes = {
                row.id: row.code
                for row in conn.execute(
                    select(d.c.id, d.c.code).where(d.c.id.in_(list(numbers)))
                )
            }
            for did, nums in numbers.items():
                if codes.get(did):
                    res.season_by_code.setdefault(codes[did].upper(), []).append(did)
                for n in nums:
                    res.season_by_number.setdefault(n, []).append(did)
        return res

    def resolve(self, conn: Connection, info: dict[str, Any]) -> int:
        """`info` has FastF1 keys: DriverId, Abbreviation, DriverNumber, FirstName, LastName,
        FullName, CountryCode. Returns the driver id (creating the row if unknown)."""
        ref = info.get("DriverId")
        code = (info.get("Abbreviation") or "").upper() or None
        number = str(info["DriverNumber"]) if not _blank(info.get("DriverNumber")) else None
        full = info.get("FullName") or " ".join(
            p for p in (info.get("FirstName"), info.get("LastName")) if p
        )
        did: int | None = None
        if not _blank(ref):
            did = self.by_ref.get(ref)
        else:
            ref = None
            for candidates in (
                self.season_by_code.get(code or "", []),
                self.season_by_number.get(number or "", []),
                self.by_name.get(slug(full), []) if full else [],
            ):
                if len(set(candidates)) == 1:
                    did = candidates[0]
                    break
        if did is not None:
            return did
        if ref is None:
            base = slug(full) if full else slug(code or f"driver_{number}")
            ref, i = base, 2
            while ref in self.by_ref:  # never reuse another driver's ref
                ref, i = f"{base}_{i}", i + 1
        row = {
            "ref": ref,
            "code": code,
            "first_name": info.get("FirstName") or None,
            "last_name": info.get("LastName") or None,
            "full_name": full or None,
            "country_code": info.get("CountryCode") or None,
        }
        upsert(conn, Driver, [row], ["ref"], keep_existing_when_null=True)
        did = conn.execute(select(table(Driver).c.id).where(table(Driver).c.ref == ref)).scalar_one()
        self.by_ref[ref] = did
        if full:
            self.by_name.setdefault(slug(full), []).append(did)
        return did


def constructor_ref(conn: Connection, team_id: str | None, team_name: str | None,
                    known: dict[str, str] | None = None) -> str | None:
    """Ergast constructorRef for a FastF1 team; creates the constructor row if it is new.

    `known` (name slug → ref) may be passed in to avoid re-reading the table per call.
    """
    if _blank(team_id) and _blank(team_name):
        return None
    c = table(Constructor)
    if known is None:
        known = {slug(r.name): r.ref for r in conn.execute(select(c.c.ref, c.c.name))}
        known.update({r: r for r in list(known.values())})
    if not _blank(team_id):
        ref = str(team_id)
    else:
        name = str(team_name)
        ref = TEAM_ALIASES.get(name.lower().strip()) or known.get(slug(name)) or slug(name)
    if ref not in known:
        upsert(conn, Constructor, [{"ref": ref, "name": team_name or ref}], ["ref"],
               update=[])
        known[ref] = ref
    return ref


def known_constructors(conn: Connection) -> dict[str, str]:
    """Name slug → ref and ref → ref, for `constructor_ref(known=...)`."""
    c = table(Constructor)
    known: dict[str, str] = {}
    for r in conn.execute(select(c.c.ref, c.c.name)):
        known[slug(r.name)] = r.ref
        known[r.ref] = r.ref
    return known
