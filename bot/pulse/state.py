"""Race state for Track Pulse. The value types live in `storage.race_feed` (storage
builds them from its rows and sits below the bot); detectors import them from here too."""

from storage.race_feed import (
    DriverRec,
    LapRec,
    RaceControlRec,
    RaceFeed,
    ResultRec,
    SessionInfo,
    StandingRec,
    TrackStatusRec,
    WeatherRec,
)

__all__ = [
    "DriverRec", "LapRec", "RaceControlRec", "RaceFeed", "ResultRec", "SessionInfo",
    "StandingRec", "TrackStatusRec", "WeatherRec",
]
