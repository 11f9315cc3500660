"""Tables of the race data store.

Natural keys (unique constraints) make every write an idempotent upsert:
season → (year); event → (year, round); session → (event_id, type);
driver → (ref); per-session rows → (session_id, driver_id[, lap / stop / seq]);
standings → (year, round, driver_id | constructor_ref).

Times are stored as integer milliseconds (`*_ms`): a lap time, a sector time or
an offset from the session start ("session time"), as FastF1 reports them.
Wall-clock instants (`*_utc`, `*_at`) are timezone-aware UTC datetimes:
SQLModel 0.0.50 maps `datetime` fields to its `UTCDateTime` type, which REFUSES
a naive datetime on write (ValueError) and returns aware UTC on read (SQLite
keeps UTC without an offset; PostgreSQL uses `timestamptz`). Write
`datetime.now(UTC)` or convert with `.astimezone(UTC)`; never compare a stored
value with a naive one. A column is NULL when no source provided it; nothing is
invented.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Session type codes, as the bot and the CLI name them.
SESSION_TYPES: dict[str, str] = {
    "FP1": "Practice 1",
    "FP2": "Practice 2",
    "FP3": "Practice 3",
    "SQ": "Sprint Qualifying",  # "Sprint Shootout" in 2023
    "S": "Sprint",
    "Q": "Qualifying",
    "R": "Race",
}


class Season(SQLModel, table=True):
    year: int = Field(primary_key=True)
    url: str | None = None


class Circuit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True)
    name: str
    location: str | None = None
    country: str | None = None
    lat: float | None = None
    lng: float | None = None


class Event(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("year", "round", name="uq_event_year_round"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(foreign_key="season.year", index=True)
    round: int
    name: str
    official_name: str | None = None
    country: str | None = None
    location: str | None = None
    circuit_ref: str | None = None
    date: dt.date | None = Field(default=None, index=True)
    format: str | None = None  # conventional / sprint / sprint_qualifying / sprint_shootout / testing


class Session(SQLModel, table=True):
    __tablename__ = "race_session"  # "session" collides with SQL keywords and ORM names
    __table_args__ = (
        UniqueConstraint("event_id", "type", name="uq_session_event_type"),
        Index("ix_session_type_start", "type", "start_utc"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    type: str  # one of SESSION_TYPES
    name: str
    start_utc: dt.datetime | None = None
    end_utc: dt.datetime | None = None
    status: str = "scheduled"  # scheduled / ingested / failed
    # provisional / final (NULL until results exist); "final" once history (Ergast)
    # filled the session, and a later FastF1 ingest never turns it back.
    classification: str | None = None
    content_hash: str | None = None  # hash of the FastF1 payload we stored
    # cheap fingerprint of the source: session cache files + its round's HTTP-cache rows
    source_fingerprint: str | None = None
    ingested_at: dt.datetime | None = None  # last FastF1 write (aware UTC)
    history_at: dt.datetime | None = None  # last history (Ergast CSV) write (aware UTC)
    total_laps: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class Driver(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True)  # Ergast driverRef == FastF1 DriverId, e.g. "max_verstappen"
    code: str | None = Field(default=None, index=True)
    number: int | None = None  # permanent number
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    nationality: str | None = None
    country_code: str | None = None
    dob: dt.date | None = None


class Constructor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True)  # e.g. "red_bull"
    name: str
    nationality: str | None = None


class SessionDriver(SQLModel, table=True):
    """A driver's entry in one session, with the team and number they raced with."""

    __tablename__ = "session_driver"
    __table_args__ = (UniqueConstraint("session_id", "driver_id", name="uq_sd_session_driver"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    driver_id: int = Field(foreign_key="driver.id", index=True)
    code: str | None = None
    number: str | None = None
    team_name: str | None = None
    constructor_ref: str | None = None
    team_colour: str | None = None  # hex without '#', e.g. "3671C6"


# Result columns that only an official source writes (history, or FastF1 when its
# payload carries the official fields). See storage.queries.results for the resolution.
OFFICIAL_RESULT_COLUMNS: frozenset[str] = frozenset({
    "position", "position_text", "position_order", "grid", "status", "points",
    "time_ms", "gap_ms", "laps", "official_source",
})


class Result(SQLModel, table=True):
    """Classification of a session (race, sprint, qualifying or practice).

    Two kinds of columns (see docs/storage.md, "Precedence of sources"): the
    OFFICIAL ones (position, position_text, position_order, grid, status, points,
    time_ms, gap_ms, laps) are written only by an official source, named in
    `official_source`; `timing_position` is FastF1's order, which is only the order
    on the road (before stewards' decisions) when the payload lacks the official
    fields. `storage.queries.results` resolves the two, in one place.
    """

    __table_args__ = (
        UniqueConstraint("session_id", "driver_id", name="uq_result_session_driver"),
        Index("ix_result_driver", "driver_id", "session_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    driver_id: int = Field(foreign_key="driver.id")
    constructor_ref: str | None = None
    team_name: str | None = None
    number: str | None = None
    position: int | None = None  # official classified position (NULL when not classified)
    position_text: str | None = None  # "1", "R" (retired), "D" (disqualified), "E", "W", "F", "N"
    position_order: int | None = None  # official order of every car, classified or not (Ergast positionOrder)
    timing_position: int | None = None  # FastF1's order: provisional when no official source wrote the row
    official_source: str | None = None  # "history" / "fastf1" once an official source wrote the row
    grid: int | None = None  # 0 = pit lane start (Ergast convention)
    status: str | None = None  # "Finished", "+1 Lap", "Engine", ...
    points: float | None = None
    time_ms: int | None = None  # total race time, where known
    gap_ms: int | None = None  # gap to the winner, where known
    laps: int | None = None
    fastest_lap_ms: int | None = None
    fastest_lap_number: int | None = None
    fastest_lap_rank: int | None = None
    q1_ms: int | None = None
    q2_ms: int | None = None
    q3_ms: int | None = None


class Lap(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("session_id", "driver_id", "lap_number", name="uq_lap"),
        Index("ix_lap_session_lap", "session_id", "lap_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id")
    driver_id: int = Field(foreign_key="driver.id")
    lap_number: int
    lap_time_ms: int | None = None
    s1_ms: int | None = None
    s2_ms: int | None = None
    s3_ms: int | None = None
    time_ms: int | None = None  # session time when the lap was set (end of lap)
    lap_start_ms: int | None = None  # session time at the start of the lap
    compound: str | None = None
    tyre_life: int | None = None
    fresh_tyre: bool | None = None
    stint: int | None = None
    pit_in_ms: int | None = None  # session time of pit entry on this lap
    pit_out_ms: int | None = None  # session time of pit exit on this lap
    position: int | None = None  # position at the end of the lap
    track_status: str | None = None  # FastF1 digits, e.g. "1", "4" (SC), "6" (VSC), "5" (red)
    deleted: bool | None = None
    deleted_reason: str | None = None
    is_personal_best: bool | None = None
    speed_trap_kph: float | None = None
    is_accurate: bool | None = None


class Stint(SQLModel, table=True):
    """Derived from laps at ingest (one row per driver stint)."""

    __table_args__ = (UniqueConstraint("session_id", "driver_id", "stint", name="uq_stint"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    driver_id: int = Field(foreign_key="driver.id")
    stint: int
    compound: str | None = None
    start_lap: int
    end_lap: int
    laps: int
    tyre_life_start: int | None = None
    fresh_tyre: bool | None = None


class PitStop(SQLModel, table=True):
    """A pit stop: from Ergast history (duration) and/or FastF1 laps (pit lane time)."""

    __tablename__ = "pit_stop"
    __table_args__ = (UniqueConstraint("session_id", "driver_id", "stop", name="uq_pit_stop"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    driver_id: int = Field(foreign_key="driver.id")
    stop: int  # 1-based stop number
    lap: int
    # Neither source measures the STATIONARY time (car on its jacks): both are pit-lane
    # times, from the pit entry line to the pit exit line, timed differently.
    duration_ms: int | None = None  # Ergast `duration`: official pit-lane time, entry to exit
    pit_lane_ms: int | None = None  # FastF1 timing: PitOutTime (lap N+1) - PitInTime (lap N)
    local_time: str | None = None  # Ergast: local time of day of the stop
    compound_after: str | None = None


class RaceControlMessage(SQLModel, table=True):
    __tablename__ = "race_control_message"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_rcm"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    seq: int  # order within the session
    time_utc: dt.datetime | None = None
    lap: int | None = None
    category: str | None = None  # Flag / SafetyCar / Drs / CarEvent / Other
    message: str = Field(sa_column=Column(Text, nullable=False))
    status: str | None = None
    flag: str | None = None
    scope: str | None = None
    sector: int | None = None
    racing_number: str | None = None


class WeatherSample(SQLModel, table=True):
    __tablename__ = "weather_sample"
    __table_args__ = (UniqueConstraint("session_id", "time_ms", name="uq_weather"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    time_ms: int
    air_temp: float | None = None
    track_temp: float | None = None
    humidity: float | None = None
    pressure: float | None = None
    rainfall: bool | None = None
    wind_direction: int | None = None
    wind_speed: float | None = None


class TrackStatusChange(SQLModel, table=True):
    __tablename__ = "track_status_change"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_track_status"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="race_session.id", index=True)
    seq: int
    time_ms: int | None = None
    status: str  # "1" clear, "2" yellow, "4" SC, "5" red, "6" VSC deployed, "7" VSC ending
    message: str | None = None


class DriverStanding(SQLModel, table=True):
    __tablename__ = "driver_standing"
    __table_args__ = (
        UniqueConstraint("year", "round", "driver_id", name="uq_driver_standing"),
        Index("ix_driver_standing_year_round_pos", "year", "round", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int
    round: int
    driver_id: int = Field(foreign_key="driver.id")
    position: int | None = None
    position_text: str | None = None
    points: float
    wins: int = 0


class ConstructorStanding(SQLModel, table=True):
    __tablename__ = "constructor_standing"
    __table_args__ = (
        UniqueConstraint("year", "round", "constructor_ref", name="uq_constructor_standing"),
        Index("ix_constructor_standing_year_round_pos", "year", "round", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int
    round: int
    constructor_ref: str
    name: str | None = None
    position: int | None = None
    position_text: str | None = None
    points: float
    wins: int = 0


class IngestRun(SQLModel, table=True):
    """One ingestion attempt of one session (or schedule / history), for status and audit."""

    __tablename__ = "ingest_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # session / schedule / history
    target: str  # e.g. "2023/14/R"
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcome: str  # added / updated / skipped / failed / partial
    rows: int = 0
    message: str | None = Field(default=None, sa_column=Column(Text))


class RaceNeutralisation(SQLModel, table=True):
    """A safety car, virtual safety car or red flag period of a race, from the history dump.

    Timing data (track status) holds the same facts for FastF1 sessions; these rows
    make the questions answerable for every season of the Ergast-schema dump
    (`safety_cars.csv`, `red_flags.csv`, `virtual_safety_car_estimates.json`).
    """

    __tablename__ = "race_neutralisation"
    __table_args__ = (UniqueConstraint("year", "round", "kind", "seq", name="uq_race_neutralisation"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    round: int
    kind: str  # safety_car / virtual_safety_car / red_flag
    seq: int  # order within the race and kind, 1-based
    lap: int  # lap deployed (safety car), shown (red flag), or a VSC lap
    to_lap: int | None = None  # lap the safety car came in (NULL: race ended under it)
    full_laps: int | None = None  # full laps under the safety car
    cause: str | None = Field(default=None, sa_column=Column(Text))  # cause / incident
    resumed: str | None = None  # red flag: Y (resumed), N (not), R (restarted), S (suspended)
    excluded: str | None = Field(default=None, sa_column=Column(Text))  # red flag: cars that took no part after it
    source: str = "history"  # where the row came from; VSC laps are the dump's estimates


class TeamColour(SQLModel, table=True):
    """A team's colour in one season (hex without '#'), for embeds and charts.

    FastF1's TeamColor wins where a session of that season was loaded; the
    maintained table (`storage/data/team_colours.csv`) covers history.
    """

    __tablename__ = "team_colour"
    __table_args__ = (UniqueConstraint("year", "constructor_ref", name="uq_team_colour"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    constructor_ref: str
    colour: str
    source: str  # fastf1 / table
