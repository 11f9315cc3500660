"""Every user-visible string of the core, in one place.

Keeping them together keeps the voice consistent (short, plain, honest) and
makes translation or rewording a one-file change. Log lines that operators read
are here too (prefixed `LOG_`).
"""

from __future__ import annotations

# --- dispatcher
TOO_LONG = "That message is too long for me ({length} characters; the limit is {limit}). Please ask a shorter question."
EMPTY = "Ask me about F1 races, e.g. *who won the 2023 Italian Grand Prix?* — or type `/f1 help`."
NO_PERMISSION = "`/f1 {command}` needs {needed} rights."
RATE_LIMITED_USER = "You're asking faster than I can answer. Try again in {seconds} s."
RATE_LIMITED_CHANNEL = "This channel is asking a lot right now. Try again in {seconds} s."
UNKNOWN_COMMAND = "There is no `/f1 {command}` command. Try `/f1 help`."
OUT_OF_RANGE = "`{name}` must be between {low} and {high}, not `{value}`."
INTERNAL_ERROR = "Sorry, something went wrong on my side while answering. It has been logged."
# --- shutdown (bot/inflight.py): an answer cut short by a restart, a question arriving during one
INTERRUPTED = "interrupted — please ask again"
SHUTTING_DOWN = "I'm restarting right now — please ask again in a minute."

LOG_USER_ERROR = "user error for %s (%s): %s"
LOG_INTERNAL_ERROR = "handler failed for %s (%s)"
LOG_DUPLICATE = "duplicate event %s ignored"
LOG_RATE_LIMITED = "rate limited %s (%s), retry in %.1fs"
LOG_DENIED = "denied %s to %s (has %s, needs %s)"
LOG_SHUTDOWN = "shutdown: %d answers finished, %d interrupted (grace %.0f s)"

# --- resolver
NO_DATA = "I don't have any race data yet. Run `slipstream demo` (or an ingest) first."
UNKNOWN_RACE = "I couldn't find a race matching '{text}'."
UNKNOWN_RACE_IN_SEASON = "I couldn't find a race matching '{text}' in {year}."
UNKNOWN_ROUND = "There is no round {round} in {year} in my data."
UNKNOWN_SEASON = "I have no data for the {year} season."
UNKNOWN_DRIVER = "I don't know a driver called '{text}'."
DRIVER_HINT = "Name a driver by code, number, surname or nickname, e.g. `VER`, `33`, `verstappen` or `max`."
UNKNOWN_TEAM = "I don't know a team called '{text}'."
DID_YOU_MEAN = "Did you mean {options}?"
NO_SESSION = "I have no {session} for the {event}."
NO_RESULTS = "I have no classification for the {session} yet."
NOT_RUN_FORECAST = "It has not been run yet; for the chances, ask `/f1 predict {year} {name}`."
NO_LAPS = "I have no lap-by-lap data for the {session} (only the classification)."
NO_STINTS = "I have no tyre stint data for the {session}."
NO_PIT_STOPS = "I have no pit stop data for the {session}."
DRIVER_NOT_IN_SESSION = "{driver} has no {what} in the {session}."
NEED_TWO_DRIVERS = "Name two drivers to compare, e.g. `/f1 compare VER PER monza 2023`."
NO_STANDINGS = "I have no {kind} standings for {when}."
NO_UPCOMING = "I don't know of any upcoming sessions (my schedule has nothing after {now})."
NO_SCHEDULE = "I have no schedule for {year}."
NEXT_SESSION = "Next: **{year} {event} — {session}** {at}."
NO_CALENDAR = (
    "I don't know of any upcoming sessions: I hold no calendar at all. Load one with "
    "`slipstream ingest --year {year}`, "
    "or keep `slipstream run` going: its daily schedule sync fetches the current season."
)
CALENDAR_ENDS = (
    "I don't know of any upcoming sessions: the stored calendar runs until {end} ({event}), "
    "and it is now {now}. "
    "It is refreshed by `slipstream ingest --year {year}`, or by the daily schedule sync of "
    "`slipstream run` (also at its start)."
)
SCHEDULE_LINE = "**Rd {round} · {event}** — {session}: {at}"
SCHEDULE_DONE = " (done)"

# --- answerer
CANT_ANSWER = (
    "I can't answer that from the data I hold. I can tell you winners, podiums, pole, "
    "fastest laps, a driver's result, gaps, pit stops, tyre stints, standings and head-to-heads, "
    "and for sessions loaded from timing data the weather, safety cars and flags, and penalties."
)
NO_WEATHER = (
    "I don't hold weather data for the {session}: only sessions loaded from timing data "
    "(FastF1) have it, and this one comes from the historical results."
)
NO_RACE_CONTROL = (
    "I don't hold race control messages or track status for the {session}: only sessions loaded "
    "from timing data (FastF1) have them, and this one comes from the historical results."
)
OUT_OF_SCOPE = "I only answer questions about F1 race data (results, laps, tyres, standings)."
FRESHNESS_PROVISIONAL = "_Provisional classification: it may still change._"
FRESHNESS_UPDATED = "Data updated {when}."
UNKNOWN_FIELD = "unknown"

# --- help
HELP_TITLE = "Slipstream commands"
HELP_INTRO = "Ask a question in plain words, or use a command. Races: `monza`, `italian gp`, `italy 2023`, `last race`, `round 14`. Drivers: `VER`, `33`, `verstappen`, `max`."
HELP_PRIVILEGE = " _(needs {privilege})_"
HELP_UNKNOWN = "No command called `{command}`."

# --- official classification (wording of a car's result; see bot/format.result_phrase)
PROVISIONAL_ORDER = "_Provisional order from timing data, before stewards' decisions: the official classification replaces it when it arrives._"
RESULT_FINISHED = "finished P{pos}"
RESULT_LAPPED = "finished P{pos} (+{n} lap{s})"
RESULT_CLASSIFIED_RETIRED = "was classified P{pos} after retiring{why}"
RESULT_RETIRED = "retired on lap {lap}{why}"
RESULT_RETIRED_NO_LAP = "retired{why}"
RESULT_RETIRED_LAP_ZERO = "retired before completing a lap{why}"
RESULT_DID_NOT_START = "did not start"
RESULT_WITHDRAWN = "was withdrawn before the start{why}"
RESULT_DISQUALIFIED = "was disqualified"
RESULT_EXCLUDED = "was excluded from the results"
RESULT_DID_NOT_QUALIFY = "did not qualify"
RESULT_NOT_CLASSIFIED = "was not classified{why}"
RESULT_PROVISIONAL = "was P{pos} on the road (provisional, before stewards' decisions)"
PIT_LANE_START = "started from the pit lane"
# Pit stops: both sources time the pit lane (entry to exit line); neither gives the stationary time.
PIT_LANE_OFFICIAL = "pit lane {t}"
PIT_LANE_TIMING = "pit lane {t}, from timing data"
PIT_UNDER_RED_FLAG = "under red flag"
PIT_TIMES_NOTE = "Times are pit-lane times (pit entry to pit exit), not stationary times."
PIT_FASTEST = "Fastest pit-lane time: **{who}** {t} on lap {lap}; average {avg} over {n} stops{excl}."
PIT_FASTEST_EXCLUDED = " (not counting {n} stop{s} under red flag)"
FLAGS_SOURCE_HISTORY = "per the historical safety-car and red-flag record; VSC laps are the record's estimates"
FLAGS_SOURCE_TIMING = "from timing data"

# --- question understanding (bot/understand.py, bot/question.py)
WHICH_RACE = "{year} had more than one race at {place}: {options}. Which one do you mean?"
RACE_NOT_HELD = "There was no {name} in {year}: it was not held that season.{held}"
UNDERSTOOD = "I understood: {what}."
NOT_UNDERSTOOD_WORDS = "I can't answer that: I didn't understand {words}."
ASK_HINT = "Try e.g. *who won monza 2023*, *ham's result at spa 21* or *standings after round 10 2022*."
NOT_HELD_DATA = (
    "I don't hold that: no car telemetry, speeds, tyre pressures, team radio or off-track data. I hold results, "
    "qualifying, grids, pit stops, standings and history back to 1950, plus lap times, tyres, positions, "
    "weather and race control for the races with timing data."
)
NO_PREDICTIONS = "I don't make predictions yet: I answer from what has already happened."
DRIVER_NO_SEASON = "{driver} did not race in {year}: I hold no result of theirs that season."
NO_TEAM_FILTER = ("I can count {driver}'s results, or {team}'s, but not {driver}'s with {team} alone yet. "
                  "Try *how many wins does {driver} have* or *{team} wins*.")
NO_LIST_YET = ("I can't list which races yet, only count them: try *how many races did Senna win in 1988* "
               "or ask about one race, e.g. *who won monza 1988*.")
