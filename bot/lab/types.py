"""Race Lab types: what the race model is fitted from, the model, and what it answers.

Frozen dataclasses only. Records (`LapRecord`, `StopRecord`, ...) are plain values so
`storage.lab_data` can build them and a worker process can receive them pickled;
`RaceModel` holds numpy arrays and floats only (picklable, no engine, no cache).
The API is extended only by adding fields WITH defaults (the chat side builds on it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# The race-data records live in storage (it builds them and sits below the bot).
from storage.lab_types import (
    CircuitHistory,
    ClassifiedEntry,
    LapRecord,
    PenaltyRecord,
    RaceData,
    StopRecord,
    count_passes,
)

__all__ = [
    "BattleForecast", "CircuitHistory", "CircuitParams", "ClassifiedEntry", "LapRecord",
    "PenaltyRecord", "RaceData", "RaceModel", "RankedStrategy", "SimResult", "StopRecord", "Strategy",
    "StrategyError", "WhatIf", "count_passes",
]

# Dry compounds: the two-compound rule applies when a race is run on these only.
DRY_COMPOUNDS: tuple[str, ...] = ("SOFT", "MEDIUM", "HARD")
WET_COMPOUNDS: tuple[str, ...] = ("INTERMEDIATE", "WET")
_LETTER = {"S": "SOFT", "M": "MEDIUM", "H": "HARD", "I": "INTERMEDIATE", "W": "WET"}
_SHORT = {v: k for k, v in _LETTER.items()}
_NAMES = {
    **{c: c for c in (*DRY_COMPOUNDS, *WET_COMPOUNDS)},
    **{c + "S": c for c in (*DRY_COMPOUNDS, *WET_COMPOUNDS)},
    "SOFTS": "SOFT", "MEDIUMS": "MEDIUM", "MED": "MEDIUM", "INTER": "INTERMEDIATE",
    "INTERS": "INTERMEDIATE", "WETS": "WET",
}


# Extra lap-time edge a pass needs behind another car (dirty air), over the circuit's
# threshold: used by the simulation and the battle forecast alike. Chosen from
# (0.3, 0.5, 0.7) s on the shared evaluation races; `slipstream lab backtest`
# re-chooses it leave-one-race-out for the battles and reports that score.
DIRTY_AIR_S = 0.5
# On-track passes per 100 green car-laps where no earlier stored race at the circuit says
# otherwise: a round figure near the median of the shared evaluation races (1.2 Monaco
# 2023 to 11.1 Las Vegas 2023, median 2.5). The battle forecast shrinks the race's own
# count so far towards the circuit's.
DEFAULT_PASS_RATE = 3.0


class StrategyError(ValueError):
    """A strategy text or list that cannot be a race strategy (message is user-facing)."""


# --------------------------------------------------------------------------- strategy


@dataclass(frozen=True, slots=True)
class Strategy:
    """A start compound and the stops: `(pit_lap, compound_after)` in lap order.

    `pit_lap` is the lap at whose END the car enters the pit lane (its in-lap), as
    FastF1 and Ergast number stops; the next lap is the out-lap on the new set.
    """

    start: str
    stops: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        laps = [lap for lap, _ in self.stops]
        if any(lap < 1 for lap in laps) or laps != sorted(set(laps)):
            raise StrategyError("pit laps must be distinct, increasing and at least lap 1")

    @property
    def compounds(self) -> tuple[str, ...]:
        return (self.start, *(c for _, c in self.stops))

    @property
    def n_stops(self) -> int:
        return len(self.stops)

    def compound_on(self, lap: int) -> str:
        """The compound used on `lap` (1-based); the in-lap is still on the old set."""
        current = self.start
        for pit_lap, comp in self.stops:
            if lap > pit_lap:
                current = comp
        return current

    def format(self) -> str:
        """`"M-20-H-45-S"`: compound letters with the pit laps between them."""
        parts = [_SHORT.get(self.start, self.start)]
        for lap, comp in self.stops:
            parts += [str(lap), _SHORT.get(comp, comp)]
        return "-".join(parts)

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, text: str) -> Strategy:
        """Read `"M-20-H"`, `"medium 20 hard"`, `"S-18-M-40-H"` (letters or names)."""
        tokens = [t for t in re.split(r"[\s,>/-]+", text.strip().upper()) if t]
        if not tokens:
            raise StrategyError("empty strategy")
        comps: list[str] = []
        laps: list[int] = []
        for i, tok in enumerate(tokens):
            want_comp = i % 2 == 0
            if want_comp:
                comp = _NAMES.get(tok) or _LETTER.get(tok if len(tok) == 1 else "")
                if comp is None:
                    raise StrategyError(f"'{tok.lower()}' is not a tyre compound (S, M, H, I, W)")
                comps.append(comp)
            else:
                if not tok.isdigit():
                    raise StrategyError(f"'{tok.lower()}' is not a lap number")
                laps.append(int(tok))
        if len(laps) != len(comps) - 1:
            raise StrategyError("a strategy ends with a compound, e.g. M-20-H")
        return cls(comps[0], tuple(zip(laps, comps[1:], strict=True)))

    @classmethod
    def from_stints(cls, stints: Sequence[tuple[int, int, str | None]]) -> Strategy:
        """From stored stints `(start_lap, end_lap, compound)` in order: a stop ends each
        stint but the last. An unknown compound repeats the previous one (or MEDIUM)."""
        if not stints:
            raise StrategyError("no stints")
        ordered = sorted(stints)
        comps: list[str] = []
        for _, _, comp in ordered:
            c = (comp or "").upper()
            comps.append(c if c in _SHORT else (comps[-1] if comps else "MEDIUM"))
        stops = tuple((ordered[i][1], comps[i + 1]) for i in range(len(ordered) - 1))
        # Hazard: a stint that ends on the lap the next starts (data glitch) must not
        # produce two stops on one lap; keep the first.
        seen: set[int] = set()
        clean = tuple(s for s in stops if not (s[0] in seen or seen.add(s[0])))  # type: ignore[func-returns-value]
        return cls(comps[0], clean)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class CircuitParams:
    """What a battle forecast needs when no fitted model is at hand."""

    pass_threshold_s: float = 0.8  # pace advantage per lap needed to pass without DRS
    drs_gain_s: float = 0.4  # how much DRS within 1 s lowers that threshold
    fuel_per_lap_s: float = 0.055  # lap time gained per lap of fuel burnt
    degradation_s: Mapping[str, float] = field(
        default_factory=lambda: {"SOFT": 0.09, "MEDIUM": 0.06, "HARD": 0.04,
                                 "INTERMEDIATE": 0.06, "WET": 0.05})
    compound_offset_s: Mapping[str, float] = field(
        default_factory=lambda: {"SOFT": -0.5, "MEDIUM": 0.0, "HARD": 0.35,
                                 "INTERMEDIATE": 0.0, "WET": 0.0})
    lap_noise_s: float = 0.35
    battle_extra_s: float = DIRTY_AIR_S  # extra edge a pass needs in dirty air
    # on-track passes per 100 green car-laps at this circuit (earlier stored races)
    pass_rate: float = DEFAULT_PASS_RATE


@dataclass(frozen=True, slots=True, eq=False)
class RaceModel:
    """A race, fitted: every number the simulation draws from. Arrays are per car
    in `codes` order (the official classification order)."""

    year: int
    round: int
    event: str
    circuit_ref: str | None
    total_laps: int
    codes: tuple[str, ...]
    grid: np.ndarray  # starting slot per car (1 = pole), pit-lane starters at the back
    base_pace_s: np.ndarray  # fuel-corrected lap time on fresh MEDIUM-equivalent tyres
    lap_noise_s: np.ndarray  # per-driver sd of green lap times after the fit
    fuel_per_lap_s: float  # lap time gained per lap as fuel burns
    compounds: tuple[str, ...]  # compounds fitted (the race's compounds)
    deg_linear_s: np.ndarray  # per compound: s per lap of tyre age
    deg_quad_s: np.ndarray  # per compound: s per lap² of tyre age
    deg_sd_s: np.ndarray  # per compound: standard error of the linear term
    compound_offset_s: np.ndarray  # per compound: fresh-tyre pace vs the reference
    pit_loss_green_s: float  # time lost to a stop at racing speed (lane + stop - lap saved)
    pit_loss_sc_s: float  # the same under a safety car
    pit_loss_vsc_s: float
    pit_loss_sd_s: float  # stop-to-stop spread
    start_sd_positions: float  # spread of first-lap position changes
    pass_threshold_s: float  # pace advantage needed to pass in one lap
    drs_gain_s: float  # DRS within 1 s lowers the threshold by this
    sc_prob_per_lap: float  # drawn neutralisations: chance a SC starts on a given lap
    vsc_prob_per_lap: float
    sc_length_laps: float  # mean laps under a SC
    neutralised: np.ndarray  # per lap (index lap-1): 0 green, 1 SC, 2 VSC, 3 red (actual race)
    retire_lap: np.ndarray  # last lap completed by a car that retired, else total_laps
    actual: Mapping[str, Strategy]  # each car's actual strategy
    official_position: np.ndarray  # official position, 0 when not classified
    winner_time_s: float | None  # official winner's race time (history), where known
    is_wet: bool = False
    notes: tuple[str, ...] = ()  # fitting notes: fallbacks to history or defaults
    # tyre age (laps) of each car's starting set before lap 1 (used sets from qualifying)
    start_tyre_age: np.ndarray | None = None
    # per lap: the leader's real lap time on the race's neutralised laps (NaN elsewhere);
    # "actual" neutralisations replay these (a red flag's stoppage included)
    neutral_lap_s: np.ndarray | None = None
    lap1_extra_s: float = 2.0  # standing start and first-lap crowding, over a green lap
    base_pace_sd_s: np.ndarray | None = None  # standard error of each car's base pace
    sc_lap_factor: float = 1.4  # drawn SC laps: lap time over a green lap
    vsc_lap_factor: float = 1.3
    first_lap_gap_s: float = 0.5  # gap per position after the first lap
    passes_per_race: float | None = None  # on-track passes in this race (green laps)
    # compounds whose slope runs with the race lap (wet tyres: the track dries), not age
    slope_by_lap: tuple[str, ...] = ()
    # passes per 100 green car-laps in the stored races here before this one (None: none)
    stored_pass_rate: float | None = None
    # the stewards' decided penalties (race control), applied by the simulation as the
    # rules serve them: a time penalty at the car's next stop, else added at the flag
    penalties: tuple[PenaltyRecord, ...] = ()
    stationary_s: float = 2.5  # a tyre change's standstill (a stop/go replaces it)
    # wet tyres' slope runs with the race lap counted from this lap (the race's first
    # lap on wet tyres), so their offset is their pace when the rain came
    wet_from_lap: int = 1
    # per lap (index lap-1): seconds the weather added to a lap on DRY tyres where the
    # field's laps on them were far off the model (rain on slicks), as it happened
    dry_lap_offset_s: np.ndarray | None = None

    def index(self, code: str) -> int:
        return self.codes.index(code.upper())

    def circuit_params(self) -> CircuitParams:
        """The circuit part of the model, for the battle forecast."""
        default = CircuitParams().degradation_s
        return CircuitParams(
            pass_threshold_s=self.pass_threshold_s, drs_gain_s=self.drs_gain_s,
            fuel_per_lap_s=self.fuel_per_lap_s,
            degradation_s={c: (default.get(c, 0.06) if c in self.slope_by_lap else float(s))
                           for c, s in zip(self.compounds, self.deg_linear_s, strict=True)},
            compound_offset_s=dict(zip(self.compounds, map(float, self.compound_offset_s),
                                       strict=True)),
            lap_noise_s=float(np.median(self.lap_noise_s)) if len(self.lap_noise_s) else 0.35,
            pass_rate=self.stored_pass_rate if self.stored_pass_rate is not None else DEFAULT_PASS_RATE,
        )

    def assumptions(self) -> list[str]:
        """The model in one line per assumption (the "explain" answer)."""
        from bot.lab.explain import assumptions

        return assumptions(self)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, eq=False)
class SimResult:
    """Monte Carlo outcome: `positions[run, car]` (1 = winner; retired cars are placed
    behind the runners in order of laps completed) and `race_times_s[run, car]`
    (inf for a retired car)."""

    codes: tuple[str, ...]
    positions: np.ndarray  # runs × cars, int
    race_times_s: np.ndarray  # runs × cars
    seed: int
    neutralisations: str  # "actual" / "drawn"
    # runs × laps position of each tracked car (whatif: the decisive laps), by code
    lap_positions: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return int(self.positions.shape[0])

    def mean_position(self) -> np.ndarray:
        return self.positions.mean(axis=0)

    def p_win(self) -> np.ndarray:
        return (self.positions == 1).mean(axis=0)

    def p_podium(self) -> np.ndarray:
        return (self.positions <= 3).mean(axis=0)

    def distribution(self, code: str) -> np.ndarray:
        """P(finishing position k) for k = 1..cars, for one car."""
        i = self.codes.index(code)
        n = len(self.codes)
        return np.bincount(self.positions[:, i], minlength=n + 1)[1:] / self.runs


@dataclass(frozen=True, slots=True, eq=False)
class WhatIf:
    """An alternative strategy against the actual one, same model, same random draws."""

    code: str
    alt: Strategy
    actual: Strategy
    runs: int
    positions_alt: np.ndarray  # runs
    positions_actual: np.ndarray  # runs
    times_alt_s: np.ndarray
    times_actual_s: np.ndarray
    gain_positions: float  # mean(actual - alt): positive = the alternative gains places
    gain_positions_80: tuple[float, float]  # 10th and 90th percentile of the per-run gain
    gain_s: float  # mean(actual time - alt time): positive = the alternative is faster
    gain_s_80: tuple[float, float]
    decisive_laps: tuple[int, ...]  # laps where the mean positions diverge most
    p_win_alt: float
    p_win_actual: float
    p_podium_alt: float
    p_podium_actual: float
    cars: int = 20

    def distribution(self, which: str = "alt") -> np.ndarray:
        """P(finishing position k), k = 1..cars, for "alt" or "actual"."""
        pos = self.positions_alt if which == "alt" else self.positions_actual
        return np.bincount(pos, minlength=self.cars + 1)[1:] / max(1, len(pos))


@dataclass(frozen=True, slots=True)
class RankedStrategy:
    strategy: Strategy
    mean_position: float
    position_80: tuple[float, float]
    mean_time_s: float
    p_win: float
    p_podium: float


@dataclass(frozen=True, slots=True)
class BattleForecast:
    """Chaser versus leader from the laps up to `lap`."""

    chaser: str
    leader: str
    lap: int
    gap_s: float  # chaser behind leader at the end of `lap`
    pace_delta_s: float  # corrected pace advantage of the chaser per lap (positive = quicker)
    pace_delta_sd_s: float
    tyre_age_delta: int  # leader's tyre age minus chaser's (positive = chaser's tyres younger)
    laps_to_drs: float | None  # expected laps until within 1 s (0 = already; None = not closing)
    p_pass_5: float
    p_pass_10: float
    confidence: str  # "low" / "medium" / "high"
    line: str  # one sentence with the probability, for Track Pulse and chat
    # the Monte Carlo's raw P(pass in 5) before calibration (the backtest refits on it)
    p_pass_5_sim: float | None = None
    p_pass_10_sim: float | None = None
    pass_rate: float | None = None  # passes per 100 green car-laps used (circuit + race so far)
