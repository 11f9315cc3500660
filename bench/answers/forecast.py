"""The forecast answer set (bench/answers/forecast.jsonl): questions about what is to come.

    python -m bench.answers.forecast [--out bench/answers/forecast.jsonl]
    python bench/bench_answers.py --set forecast [--show-misses]

Phrasings are fans' ("who's the fave for vegas", "does alonso have a shot at the podium in
brazil", "gimme ur tips for the next race"), written from how people ask before a weekend,
not from the parser's clue words. The bot's clock is the evaluation's (runner.EVAL_NOW, the
day after the 2025 Singapore GP); the race each question means is read from the RAW
races.csv (the next 2025 round after that day, or the named place's next running). A reply
must be a forecast — a percentage with its 80% interval and the model's wording — and never
a past result ("won the", "finished P") nor a certainty word; a question we cannot forecast
(next year's title, pole) must say so. Class 11 = forecasts.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bench.answers.generate import SHARED, check_records, cli
from bench.answers.phrasing import FORBID_WON, REFUSE
from bench.answers.runner import EVAL_NOW

OUT = Path(__file__).resolve().parent / "forecast.jsonl"
Rec = dict[str, Any]
CLASS = 11

CHANCE = r"(?:\d{1,2}%|<1%|>99%) \((?:\d{1,3}–\d{1,3}%|80%: [<>]\d{1,2}%)\)"  # "62% (48–75%)"
MODEL = r"80% intervals"  # the model's footer: what the ranges mean
CERTAIN = r"\b(will win|guaranteed|locked|definitely|certain to|sure to|is going to win)\b"
PAST = [FORBID_WON, r"\bfinished P\d", r"\btook pole\b", CERTAIN]

# (id, question, place named or None for the next race, extra expects)
RACE_QUESTIONS: list[tuple[str, str, str | None, list[str]]] = [
    ("next-1", "who's gonna win next race?", None, []),
    ("next-2", "who wins sunday", None, []),
    ("next-3", "prediction for the next gp pls", None, []),
    ("next-4", "who's favourite for the next race", None, []),
    ("next-5", "gimme ur tips for the next race", None, []),
    ("next-6", "who takes it this weekend", None, []),
    ("next-7", "can anyone stop lando this weekend", None, [r"Norris"]),
    ("next-8", "mercedes podium chances next race", None, [r"Mercedes[^\n]*podium"]),
    ("place-1", "predict austin", "United States Grand Prix", []),
    ("place-2", "who's the fave for vegas", "Las Vegas Grand Prix", []),
    ("place-3", "odds for a ferrari win in mexico", "Mexico City Grand Prix", [r"Ferrari[^\n]*win"]),
    ("place-4", "chances of a mclaren podium at interlagos", "São Paulo Grand Prix",
     [r"McLaren[^\n]*podium"]),
    ("place-5", "will hamilton score points in vegas", "Las Vegas Grand Prix", [r"Hamilton[^\n]*points"]),
    ("place-6", "is norris likely to win in qatar", "Qatar Grand Prix", [r"Norris[^\n]*win"]),
    ("place-7", "will max win in abu dhabi", "Abu Dhabi Grand Prix", [r"Verstappen"]),
    ("place-8", "who do you reckon takes the win at cota", "United States Grand Prix", []),
    ("place-9", "does alonso have a shot at the podium in brazil", "São Paulo Grand Prix",
     [r"Alonso[^\n]*podium"]),
    ("place-10", "what are red bull's chances in mexico", "Mexico City Grand Prix", [r"Red Bull"]),
    ("place-11", "odds on leclerc winning in vegas", "Las Vegas Grand Prix", [r"Leclerc"]),
    ("place-12", "will russell finish in the points in qatar", "Qatar Grand Prix", [r"Russell[^\n]*points"]),
    # Added after trying the merged bot by hand (the first three missed): the market a fan names
    # (scoring, a top three, a one-two, both cars) must be the one answered, never the win instead.
    ("more-1", "whats the probability leclerc scores at abu dhabi", "Abu Dhabi Grand Prix",
     [r"Leclerc[^\n]*score points"]),
    ("more-2", "will russell make the top 3 in abu dhabi", "Abu Dhabi Grand Prix", [r"Russell[^\n]*podium"]),
    ("more-3", "who do you fancy for abu dhabi", "Abu Dhabi Grand Prix", []),
    ("more-4", "chances of a mclaren 1-2 in abu dhabi", "Abu Dhabi Grand Prix", [r"McLaren[^\n]*one-two"]),
    ("more-5", "will both ferraris be on the podium in mexico?", "Mexico City Grand Prix",
     [r"Ferrari[^\n]*both cars on the podium"]),
    ("more-6", "chance of hamilton finishing top 10 in qatar", "Qatar Grand Prix", [r"Hamilton[^\n]*points"]),
    ("more-7", "what's your pick for vegas", "Las Vegas Grand Prix", []),
    ("more-8", "give me your tip for the us gp", "United States Grand Prix", []),
    ("more-9", "is piastri the favourite for vegas", "Las Vegas Grand Prix", [r"Piastri[^\n]*win"]),
    ("more-10", "top 3 prediction for qatar", "Qatar Grand Prix", []),
    ("more-11", "whos ur bet 4 vegas lol", "Las Vegas Grand Prix", []),
]
TITLE_QUESTIONS: list[tuple[str, str, list[str]]] = [
    ("title-1", "title odds", [r"drivers' title odds"]),
    # The 2025 constructors' title was settled at Singapore, the day before the evaluation:
    # odds or "decided", either is a right reply, never a race result.
    ("title-2", "wcc odds", [r"constructors' title (odds|is decided)"]),
    ("title-3", "championship chances 2025 after round 10", [r"after round 10"]),
    ("title-4", "what's the probability verstappen wins the title", [r"Verstappen"]),
    ("title-5", "who wins the wdc", [r"drivers' title odds"]),
    ("title-6", "who's most likely to win the title", [r"drivers' title odds"]),
    ("title-7", "norris title chances %", [r"Norris"]),
    ("title-8", "who will win the world championship", [r"drivers' title odds"]),
    ("title-9", "does verstappen still have a chance at the title", [r"Verstappen"]),
    ("title-10", "is oscar gonna bottle the title", [r"Piastri[^\n]*\d+%"]),
]
# Not forecastable: said so, never answered as a result.
REFUSALS: list[tuple[str, str]] = [
    ("refuse-1", "who's gonna win the title next year"),
    ("refuse-2", "who'll be on pole in austin"),
]


def _races() -> list[dict[str, str]]:
    with (SHARED / "ergast-csv" / "races.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def next_race(place: str | None) -> str:
    """The race a question means, from the raw calendar: the named race's next running on or
    after the evaluation day, else the first race after it."""
    day = EVAL_NOW.date().isoformat()
    coming = sorted((r for r in _races() if r["date"] >= day), key=lambda r: r["date"])
    if place is not None:
        coming = [r for r in coming if r["name"] == place]
    return f"{coming[0]['year']} {coming[0]['name']}"


def make(_seed: int = 0) -> list[Rec]:
    out: list[Rec] = []
    for rid, q, place, extra in RACE_QUESTIONS:
        race = next_race(place)
        out.append({"id": f"fc-{rid}", "class": CLASS, "question": q,
                    "expect": [race, CHANCE, MODEL, *extra], "forbid": PAST,
                    "source": f"races.csv: {race} is the {'named race' if place else 'next race'}'s "
                              f"next running after {EVAL_NOW.date()}", "tags": ["forecast"]})
    for rid, q, extra in TITLE_QUESTIONS:
        chance = [] if "decided" in extra[0] else [CHANCE]
        out.append({"id": f"fc-{rid}", "class": CLASS, "question": q,
                    "expect": [*chance, MODEL, *extra], "forbid": PAST,
                    "source": "title odds: a forecast with intervals", "tags": ["forecast"]})
    out.append({"id": "fc-canwin-1", "class": CLASS, "question": "can piastri still win the title",
                "expect": [r"Piastri", r"Title odds: [^\n]*" + CHANCE], "forbid": PAST,
                "source": "can_win: the mathematical answer, then the title odds line", "tags": ["forecast"]})
    for rid, q in REFUSALS:
        out.append({"id": f"fc-{rid}", "class": CLASS, "question": q, "expect": [REFUSE],
                    "forbid": PAST + [CHANCE], "source": "no forecast of that kind", "tags": ["forecast"]})
    return check_records(out)


if __name__ == "__main__":
    cli(__doc__, OUT, make, 0)
