"""The ratings filter: Gaussian car and driver effects updated race by race (pure).

Each car's race pace is `car[constructor] + driver[driver]`; a session's
finishing order is a Plackett–Luce observation of those paces. Folding a
session is one assumed-density (Laplace) step per entrant: the gradient and
curvature of the Plackett–Luce log-likelihood at the current means act as a
Gaussian pseudo-observation of the sum, which is split between the car and the
driver in proportion to their variances (a Kalman gain). The posterior is a
mean and a variance per driver and per constructor (diagonal: car–driver
correlations are dropped, the usual TrueSkill-style approximation).

Between seasons the car effect shrinks towards the field and gains variance
(more at regulation changes); drivers gain a little. Mechanical retirements are
not pace: they leave the ranking and feed a per-constructor reliability count
(decayed between seasons) instead. Everything here is deterministic.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field

import numpy as np

from storage.predict_store import EntryRow, RaceRows

# Seasons whose technical rules changed enough to reshuffle the cars.
REGULATION_YEARS = frozenset({1961, 1966, 1989, 1995, 1998, 2009, 2014, 2017, 2022, 2026})
# Retirements caused by the driver (pace-relevant: ranked at the back, not a reliability fault).
DRIVER_FAULT = frozenset({"Accident", "Collision", "Spun off", "Collision damage", "Disqualified",
                          "Fatal accident", "Damage", "Excluded", "Not classified"})
# Entries that did not take the start: neither pace nor reliability.
NOT_STARTED = frozenset({"Did not qualify", "Did not prequalify", "Withdrew", "Did not start",
                         "Not restarted", "Injured", "Injury", "Illness", "Eye injury", "Driver unwell",
                         "107% Rule", "Excluded from qualifying"})
# Entities not seen for this many seasons are dropped from the state (keeps the blob small).
RETIRE_AFTER = 10


@dataclass(frozen=True, slots=True)
class Params:
    """Filter settings, tuned on the 1996–2013 walk-forward backtest (2014–2025 stays out of sample).

    Objective: both stages' winner log loss plus a penalty for calibration bins (>= 50
    cases) more than 3 points off (coordinate search; see docs/predictions.md).
    """

    driver_var0: float = 0.2  # prior variance of a newcomer driver
    car_var0: float = 0.21  # prior variance of a new constructor
    newcomer_offset: float = -1.0  # a newcomer starts this far below the field's mean
    race_var_driver: float = 0.001  # drift added before every race
    race_var_car: float = 0.002
    season_keep_car: float = 0.6  # car mean kept across a winter (rest shrinks to the field)
    season_var_car: float = 0.05
    reg_keep_car: float = 0.15  # ... across a regulation change
    reg_var_car: float = 0.105
    season_var_driver: float = 0.005
    scale_race: float = 1.4  # Plackett–Luce sharpness of a race result
    scale_sprint: float = 0.8
    scale_quali: float = 1.15
    grid_weight: float = 1.15
    sharp_pre: float = 1.5  # pace multiplier of a forecast before qualifying (calibration)  # pace bonus per unit of -log(grid) once the grid is known
    rel_prior: float = 3.0  # pseudo-starts of the era's rate behind a constructor's DNF rate
    rel_keep: float = 0.5  # constructor reliability counts kept across a winter
    glob_keep: float = 0.995  # per race decay of the era's DNF rates


@dataclass(slots=True)
class State:
    """The posterior after the races folded so far."""

    year: int | None = None
    drv: dict[str, list[float]] = field(default_factory=dict)  # ref → [mean, var, last year]
    car: dict[str, list[float]] = field(default_factory=dict)
    rel: dict[str, list[float]] = field(default_factory=dict)  # constructor → [mech DNFs, starts]
    glob: list[float] = field(default_factory=lambda: [0.6, 4.0, 0.4])  # [mech, starts, driver-fault]
    races: int = 0
    through: tuple[int, int] | None = None

    def copy(self) -> State:
        return State(self.year, {k: v[:] for k, v in self.drv.items()}, {k: v[:] for k, v in self.car.items()},
                     {k: v[:] for k, v in self.rel.items()}, self.glob[:], self.races, self.through)

    def to_json(self) -> dict[str, object]:
        return {"year": self.year, "drv": self.drv, "car": self.car, "rel": self.rel, "glob": self.glob,
                "races": self.races, "through": list(self.through) if self.through else None}

    @classmethod
    def from_json(cls, d: dict[str, object]) -> State:
        th = d.get("through")
        return cls(d["year"], d["drv"], d["car"], d["rel"], d["glob"], int(d["races"]),  # type: ignore[arg-type]
                   tuple(th) if th else None)  # type: ignore[arg-type]


def outcome(status: str | None, position: int | None) -> str:
    """'finished', 'fault' (driver-caused DNF), 'mech' (car failure) or 'dns' (did not start)."""
    s = (status or "").strip()
    if s == "Finished" or s.startswith("+") or "Lap" in s or (not s and position is not None):
        return "finished"
    if s in NOT_STARTED or "qualif" in s.lower():
        return "dns"
    if s in DRIVER_FAULT:
        return "fault"
    return "mech" if s else "dns"


def _field_mean(table: dict[str, list[float]], year: int) -> float:
    active = [v[0] for v in table.values() if v[2] >= year - 1]
    return float(np.mean(active)) if active else 0.0


def _entity(table: dict[str, list[float]], key: str, year: int, var0: float, off: float) -> list[float]:
    e = table.get(key)
    if e is None:
        e = table[key] = [_field_mean(table, year) + off, var0, float(year)]
    return e


def advance(state: State, year: int, p: Params) -> None:
    """Winter: shrink cars to the field, widen everyone (more at regulation changes)."""
    if state.year is not None and year <= state.year:
        return
    if state.year is not None:
        reg = any(y in REGULATION_YEARS for y in range(state.year + 1, year + 1))
        keep, add = (p.reg_keep_car, p.reg_var_car) if reg else (p.season_keep_car, p.season_var_car)
        m = _field_mean(state.car, state.year + 1)
        for e in state.car.values():
            e[0] = m + keep * (e[0] - m)
            e[1] = keep * keep * e[1] + add
        for e in state.drv.values():
            e[1] += p.season_var_driver
        for r in state.rel.values():
            r[0] *= p.rel_keep
            r[1] *= p.rel_keep
        for tbl in (state.drv, state.car):
            for k in [k for k, v in tbl.items() if v[2] < year - RETIRE_AFTER]:
                del tbl[k]
        for k in [k for k in state.rel if k not in state.car]:
            del state.rel[k]
    state.year = year


def pl_grad_hess(theta: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and curvature (negated Hessian diagonal) of a Plackett–Luce log-likelihood.

    `theta` is in finishing order (best first). O(n) with reverse cumulative sums.
    """
    z = scale * theta
    e = np.exp(z - z.max())
    denom = np.cumsum(e[::-1])[::-1]  # D_k = sum_{j >= k} e_j
    a = np.cumsum(1.0 / denom)
    b = np.cumsum(1.0 / denom**2)
    # The last stage (one car left) carries no information.
    a[-1] -= 1.0 / denom[-1]
    b[-1] -= 1.0 / denom[-1] ** 2
    ranked_first = np.ones_like(theta)
    ranked_first[-1] = 0.0
    grad = scale * (ranked_first - e * a)
    hess = scale * scale * (e * a - e * e * b)
    return grad, np.maximum(hess, 1e-9)


def fold_order(state: State, order: list[tuple[str, str]], scale: float, year: int, p: Params) -> None:
    """Fold one ranked session: `order` is (driver ref, constructor ref), best first."""
    if len(order) < 2:
        return
    drv = [_entity(state.drv, d, year, p.driver_var0, p.newcomer_offset) for d, _ in order]
    car = [_entity(state.car, c, year, p.car_var0, p.newcomer_offset) for _, c in order]
    theta = np.array([d[0] + c[0] for d, c in zip(drv, car, strict=True)])
    svar = np.array([d[1] + c[1] for d, c in zip(drv, car, strict=True)])
    g, h = pl_grad_hess(theta, scale)
    denom = 1.0 + h * svar
    step, shrink = g / denom, h / denom
    car_upd: dict[int, list[float]] = {}
    for i, (d, c) in enumerate(zip(drv, car, strict=True)):
        # Hazard: read every car's prior variance before any update (teammates share it).
        cu = car_upd.setdefault(id(c), [0.0, 0.0, c[1]])
        cu[0] += c[1] * step[i]
        cu[1] += c[1] * c[1] * shrink[i]
        d[0] += d[1] * step[i]
        d[1] = max(d[1] - d[1] * d[1] * shrink[i], 0.2 * d[1])
        d[2] = float(year)
    for c in car:
        cu = car_upd.pop(id(c), None)
        if cu is None:
            continue
        c[0] += cu[0]
        c[1] = max(cu[2] - cu[1], 0.2 * cu[2])
        c[2] = float(year)


def _ranked(rows: tuple[EntryRow, ...]) -> list[tuple[str, str]]:
    """Pace order of a race or sprint: mechanical failures and non-starters leave it."""
    keep = [r for r in rows if outcome(r.status, r.position) in ("finished", "fault")]
    keep.sort(key=lambda r: (r.position_order or 999, r.driver_ref))
    return [(r.driver_ref, r.constructor_ref) for r in keep]


def quali_order(race: RaceRows) -> list[tuple[str, str]]:
    """Qualifying order; before qualifying tables exist (pre-1994), the race grid."""
    if race.quali:
        rows = sorted((r for r in race.quali if r.position), key=lambda r: (r.position, r.driver_ref))
        return [(r.driver_ref, r.constructor_ref) for r in rows]
    rows = sorted((r for r in race.race if r.grid), key=lambda r: (r.grid, r.driver_ref))
    return [(r.driver_ref, r.constructor_ref) for r in rows]


def with_quali(state: State, race: RaceRows, p: Params) -> State:
    """A copy of `state` with the weekend's qualifying folded in (the after-qualifying posterior)."""
    s = state.copy()
    advance(s, race.year, p)
    fold_order(s, quali_order(race), p.scale_quali, race.year, p)
    return s


def fold_race(state: State, race: RaceRows, p: Params) -> None:
    """Fold one weekend: qualifying, sprint, race, then the reliability counts."""
    advance(state, race.year, p)
    y = race.year
    for e in state.drv.values():
        e[1] += p.race_var_driver if e[2] >= y - 1 else 0.0
    for e in state.car.values():
        e[1] += p.race_var_car if e[2] >= y - 1 else 0.0
    fold_order(state, quali_order(race), p.scale_quali, y, p)
    if race.sprint:
        fold_order(state, _ranked(race.sprint), p.scale_sprint, y, p)
    fold_order(state, _ranked(race.race), p.scale_race, y, p)
    g = state.glob
    g[0] *= p.glob_keep
    g[1] *= p.glob_keep
    g[2] *= p.glob_keep
    for r in race.race:
        o = outcome(r.status, r.position)
        if o == "dns":
            continue
        rel = state.rel.setdefault(r.constructor_ref, [0.0, 0.0])
        rel[1] += 1.0
        g[1] += 1.0
        if o == "mech":
            rel[0] += 1.0
            g[0] += 1.0
        elif o == "fault":
            g[2] += 1.0
    state.races += 1
    state.through = (race.year, race.round)


def dnf_probability(state: State, constructor_ref: str, p: Params) -> float:
    """P(retire) of one car: its constructor's decayed mechanical rate (shrunk to the era's) + the era's
    driver-fault rate."""
    g = state.glob
    era_mech = g[0] / max(g[1], 1e-9)
    mech, starts = state.rel.get(constructor_ref, [0.0, 0.0])
    p_mech = (mech + p.rel_prior * era_mech) / (starts + p.rel_prior)
    p_fault = g[2] / max(g[1], 1e-9)
    return float(1.0 - (1.0 - p_mech) * (1.0 - p_fault))


# --------------------------------------------------------------------------- fit + snapshots


@dataclass(slots=True)
class Fit:
    """The current state plus the state at the start of each season (for past-race forecasts)."""

    state: State
    snapshots: dict[int, State]  # year → state before that season's first race

    def dumps(self) -> bytes:
        d = {"state": self.state.to_json(), "snapshots": {str(y): s.to_json() for y, s in self.snapshots.items()}}
        return zlib.compress(json.dumps(d, separators=(",", ":")).encode(), 3)

    @classmethod
    def loads(cls, blob: bytes) -> Fit:
        d = json.loads(zlib.decompress(blob))
        return cls(State.from_json(d["state"]), {int(y): State.from_json(s) for y, s in d["snapshots"].items()})


def fit(races: list[RaceRows], p: Params, *, start: Fit | None = None) -> Fit:
    """Fold `races` (date order) onto `start` (or an empty state), recording season snapshots."""
    f = Fit(start.state.copy(), dict(start.snapshots)) if start else Fit(State(), {})
    for race in races:
        if not race.race:
            continue  # qualifying only so far: nothing to fold yet
        if f.state.year is None or race.year > f.state.year:
            f.snapshots[race.year] = f.state.copy()
        fold_race(f.state, race, p)
    return f


def state_before(f: Fit, season_races: list[RaceRows], year: int, round_: int, p: Params) -> State:
    """The posterior just before round `round_` of `year` (only races before it: no leakage)."""
    snap = f.snapshots.get(year)
    if snap is not None:
        s = snap.copy()
        for r in season_races:
            if r.year == year and r.round < round_ and r.race:
                fold_race(s, r, p)
    else:  # a season not started in the fit: the latest state
        s = f.state.copy()
    advance(s, year, p)
    return s
