"""Race state for Track Pulse, as plain dataclasses (storage builds and persists them; the
bot's detectors read them through `bot.pulse.state`).

A `RaceFeed` is everything known about one session at one moment: the laps
completed so far, race-control messages, weather, track-status changes and,
once the session is over, the classification and standings. It is built from
store rows by `storage.pulse_store.load_feed` (or from anything else: tests,
a live feed) and never touches the database itself.

`RaceFeed.upto(n)` is the view a live feed would have had when lap `n` was
complete. Detectors see only feeds, so a replay of a stored race, a live run
lap by lap and a whole-race run all go through the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property


@dataclass(frozen=True, slots=True)
class LapRec:
    """One completed lap of one driver (times are session milliseconds)."""

    driver: str  # three-letter code, e.g. "VER"
    lap: int
    position: int | None = None
    lap_time_ms: int | None = None
    time_ms: int | None = None  # session time at the end of the lap
    lap_start_ms: int | None = None
    pit_in_ms: int | None = None  # set on the in-lap
    pit_out_ms: int | None = None  # set on the out-lap
    compound: str | None = None
    stint: int | None = None
    tyre_life: int | None = None
    track_status: str | None = None  # FastF1 digits seen during the lap, e.g. "14"
    deleted: bool | None = None


@dataclass(frozen=True, slots=True)
class DriverRec:
    code: str
    number: str | None = None
    name: str | None = None
    team: str | None = None
    grid: int | None = None  # starting position when known (0 = pit lane)


@dataclass(frozen=True, slots=True)
class RaceControlRec:
    seq: int
    message: str
    lap: int | None = None
    category: str | None = None
    flag: str | None = None
    scope: str | None = None
    racing_number: str | None = None


@dataclass(frozen=True, slots=True)
class WeatherRec:
    time_ms: int
    air_temp: float | None = None
    track_temp: float | None = None
    rainfall: bool | None = None


@dataclass(frozen=True, slots=True)
class TrackStatusRec:
    seq: int
    status: str
    time_ms: int | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ResultRec:
    driver: str
    position: int | None = None
    position_text: str | None = None
    status: str | None = None
    points: float | None = None
    grid: int | None = None
    laps: int | None = None
    team: str | None = None
    q1_ms: int | None = None
    q2_ms: int | None = None
    q3_ms: int | None = None
    provisional: bool = False  # timing order only, before stewards' decisions (storage.queries.results)


@dataclass(frozen=True, slots=True)
class StandingRec:
    driver: str
    points: float
    position: int | None = None
    wins: int = 0


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: int
    year: int
    round: int
    event_name: str
    session_type: str  # "R", "S", "Q", "SQ", "FP1", ...
    total_laps: int | None = None
    # Most points a driver can still score after this session (remaining rounds, sprints);
    # None when the calendar is not in the store.
    max_points_remaining: float | None = None
    rounds_remaining: int | None = None
    # The same, counted before this session (this round's points still to score): a title
    # already decided before it is not "clinched" again here.
    max_points_before: float | None = None
    # The title odds after this race in one line ("Title odds: VER 92% (88–95%), …"), when the
    # pipeline has a predictor (bot.pulse.pipeline fetches it; the detectors only read it).
    title_odds: str = ""

    @property
    def prefix(self) -> str:
        """Global prefix of highlight keys: unique across sessions and stable."""
        return f"{self.year}:{self.round}:{self.session_type}"

    @property
    def is_race(self) -> bool:
        return self.session_type in ("R", "S")

    @property
    def is_qualifying(self) -> bool:
        return self.session_type in ("Q", "SQ", "SS")


@dataclass(frozen=True)
class RaceFeed:
    """What is known about a session at one moment (see module docstring)."""

    info: SessionInfo
    drivers: dict[str, DriverRec]
    laps: tuple[LapRec, ...]
    race_control: tuple[RaceControlRec, ...] = ()
    weather: tuple[WeatherRec, ...] = ()
    track_status: tuple[TrackStatusRec, ...] = ()
    results: tuple[ResultRec, ...] = ()  # only once the session is classified
    standings_before: tuple[StandingRec, ...] = ()  # championship before this round
    standings_after: tuple[StandingRec, ...] = ()  # after it, when the store has them
    final: bool = False  # the session is over: no more laps will come
    _by_lap: dict[int, dict[str, LapRec]] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def build(
        info: SessionInfo,
        drivers: Iterable[DriverRec],
        laps: Iterable[LapRec],
        *,
        race_control: Iterable[RaceControlRec] = (),
        weather: Iterable[WeatherRec] = (),
        track_status: Iterable[TrackStatusRec] = (),
        results: Iterable[ResultRec] = (),
        standings_before: Iterable[StandingRec] = (),
        standings_after: Iterable[StandingRec] = (),
        final: bool = False,
    ) -> RaceFeed:
        """Normalise the order of every collection, so equal inputs give equal feeds."""
        return RaceFeed(
            info=info,
            drivers={d.code: d for d in sorted(drivers, key=lambda d: d.code)},
            laps=tuple(sorted(laps, key=lambda r: (r.lap, r.driver))),
            race_control=tuple(sorted(race_control, key=lambda r: r.seq)),
            weather=tuple(sorted(weather, key=lambda r: r.time_ms)),
            track_status=tuple(sorted(track_status, key=lambda r: r.seq)),
            results=tuple(sorted(results, key=lambda r: (r.position or 999, r.driver))),
            standings_before=tuple(standings_before),
            standings_after=tuple(standings_after),
            final=final,
        )

    # -- lap index -------------------------------------------------------------------------

    @property
    def by_lap(self) -> dict[int, dict[str, LapRec]]:
        """lap number -> driver -> completed lap."""
        if self._by_lap is None:
            idx: dict[int, dict[str, LapRec]] = {}
            for rec in self.laps:
                # FastF1 writes a row for a car that never crossed the line (a DNS):
                # no end time, or no position and no lap time. Not a completed lap.
                if rec.time_ms is None or (rec.position is None and rec.lap_time_ms is None):
                    continue
                idx.setdefault(rec.lap, {})[rec.driver] = rec
            object.__setattr__(self, "_by_lap", idx)
        return self._by_lap  # type: ignore[return-value]

    @cached_property
    def last_lap(self) -> int:
        return max(self.by_lap, default=0)

    def leader_end_ms(self, lap: int) -> int | None:
        """Session time at which the first car completed `lap` (the race's lap clock)."""
        recs = self.by_lap.get(lap)
        if not recs:
            return None
        return min(r.time_ms for r in recs.values() if r.time_ms is not None)

    def upto(self, lap: int) -> RaceFeed:
        """The feed as it stood when the first car completed `lap` and every car had
        completed it or fallen behind (the live view, lap by lap).

        Timed events (weather, track status) are kept up to the leader's end of
        `lap`; race-control messages by their own lap number. The classification
        only belongs to the final view.
        """
        if lap >= self.last_lap:
            return self
        end = self.leader_end_ms(lap)
        if end is None:
            end = -1
        by_lap = {n: recs for n, recs in self.by_lap.items() if n <= lap}
        return RaceFeed(
            info=self.info,
            drivers=self.drivers,
            laps=tuple(r for r in self.laps if r.lap <= lap),
            race_control=tuple(m for m in self.race_control if (m.lap or 0) <= lap),
            weather=tuple(w for w in self.weather if w.time_ms <= end),
            track_status=tuple(
                t for t in self.track_status if t.time_ms is not None and t.time_ms <= end
            ),
            results=(),
            standings_before=self.standings_before,
            standings_after=(),
            final=False,
            _by_lap=by_lap,
        )

    def with_final(self, final: bool) -> RaceFeed:
        return replace(self, final=final, _by_lap=self._by_lap)
