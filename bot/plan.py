"""The typed query plan: what a question asks (intent) and about what (slots).

One parser (`bot.resolve.resolve_question`) produces it for free text and for
`/f1` command arguments; the intent handlers (`bot.intents`) read the store
for it and render the reply; the LLM path gets the same plan and facts.

Every word of the question is either mapped to a slot (`spans`), known filler,
or listed in `unknown` — a question with unknown meaningful words is not
answered as if they were absent: the reply says what was understood.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.queries import DriverInfo, EventInfo, SessionInfo

# Scopes of an aggregate question.
SCOPES = ("race", "season", "career", "circuit")

# Metrics of aggregate questions ("how many wins", "most poles").
METRICS = (
    "wins", "poles", "podiums", "points", "dnfs", "starts", "races", "titles", "fastest_laps",
    "laps_led", "points_finishes", "front_rows",
)


@dataclass(slots=True)
class Span:
    """Words of the question and the slot they filled (for `--explain`)."""

    text: str
    slot: str
    value: str


@dataclass(slots=True)
class QueryPlan:
    """What a question is about. Every field may be a default; `notes` says which.

    `focus` is the intent (the name is kept from the first resolver). Intents are
    listed in `bot.intents` (handlers) and `bot.answer` (the first, race-level ones).
    """

    text: str
    focus: str = "unknown"
    year: int | None = None
    event: EventInfo | None = None
    session_type: str = "R"
    session: SessionInfo | None = None
    drivers: list[DriverInfo] = field(default_factory=list)
    lap_range: tuple[int | None, int | None] | None = None
    standings_kind: str = "drivers"
    round: int | None = None  # "after round 7" (standings) or the round named
    teams: list[tuple[str, str]] = field(default_factory=list)  # (constructor ref, name) named in the text
    notes: list[str] = field(default_factory=list)  # "default_event", "default_season", "follow_up", ...
    # --- slots added by the typed plan
    years: list[int] = field(default_factory=list)  # every season named ("2021 and 2022", "2019-2021")
    events: list[EventInfo] = field(default_factory=list)  # more than one candidate (2020 Austria/Styria)
    position: int | None = None  # "who finished 5th" = 5; "last" = -1
    part: str | None = None  # qualifying part: "Q1" / "Q2" / "Q3"
    metric: str | None = None  # one of METRICS for aggregates
    scope: str | None = None  # one of SCOPES
    compound: str | None = None  # SOFT / MEDIUM / HARD / INTERMEDIATE / WET
    month: int | None = None  # "races in june"
    subject: str | None = None  # "driver" / "team" when the question is about one kind
    chart: str | None = None  # a chart question: which kind (`bot.charts.CHART_KINDS`)
    spans: list[Span] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # meaningful words nothing accounted for

    @property
    def intent(self) -> str:
        return self.focus

    def mapped(self, text: str, slot: str, value: object) -> None:
        self.spans.append(Span(text, slot, str(value)))

    def explain(self) -> dict[str, object]:
        """The plan as plain data (`slipstream ask --explain`, the LLM prompt, logs)."""
        return {
            "intent": self.focus,
            "year": self.year,
            "years": self.years or None,
            "event": f"{self.event.year} {self.event.name}" if self.event else None,
            "events": [f"{e.year} {e.name}" for e in self.events] or None,
            "session": self.session_type,
            "part": self.part,
            "drivers": [d.code or d.name for d in self.drivers] or None,
            "teams": [name for _, name in self.teams] or None,
            "lap_range": list(self.lap_range) if self.lap_range else None,
            "position": self.position,
            "round": self.round,
            "metric": self.metric,
            "scope": self.scope,
            "compound": self.compound,
            "month": self.month,
            "chart": self.chart,
            "standings": self.standings_kind if self.focus == "standings" else None,
            "defaults": [n for n in self.notes if n.startswith("default")] or None,
            "words": [{"text": s.text, "slot": s.slot, "value": s.value} for s in self.spans],
            "unknown": self.unknown or None,
        }
