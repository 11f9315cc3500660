"""Race Lab: how fans actually ask (issue 16 follow-up). Each phrasing either gets the Race Lab
answer it asks for (the strategy read is checked against the official pit laps in the bundled
Ergast CSV) or says what was understood and asks; never another question's answer.

Phrasings are written as fans type them (lower case, slang, no punctuation), not from the
patterns that read them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.lab_answer import read_question
from bot.question import NotUnderstood, resolve_question
from slipstream.wiring import App, build_app
from tests.core.conftest import NOW, make_settings
from tests.lab.test_chat import _placeholder_then_edit, ask, ergast_result, ergast_stops, race_laps

_HEADER = re.compile(r"\*\*What if: (\w+) ([SMHIW](?:-\d+-[SMHIW])*) instead of ([SMHIW](?:-\d+-[SMHIW])*) —")


@pytest.fixture(scope="module")
def app(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app (one worker process) for the module; small run counts keep answers fast."""
    work = tmp_path_factory.mktemp("lab-phrasings")
    shutil.copyfile(demo_template, work / "demo.db")
    built = build_app(make_settings(f"sqlite:///{work / 'demo.db'}", lab_runs=200), clock=lambda: NOW)
    assert built.deps.lab is not None
    built.deps.lab.best_runs = 60
    try:
        yield built
    finally:
        built.close()


def whatif_read(text: str) -> tuple[str, list[int], str, list[int], str]:
    """(driver, alternative pit laps, its compounds, actual pit laps, its compounds) from the header."""
    mt = _HEADER.search(text)
    assert mt, text
    alt, act = mt.group(2).split("-"), mt.group(3).split("-")
    return (mt.group(1), [int(x) for x in alt[1::2]], "".join(alt[::2]),
            [int(x) for x in act[1::2]], "".join(act[::2]))


# ---------------------------------------------------------------------------- reading


@pytest.mark.parametrize(("question", "focus", "drivers"), [
    ("should leclerc have pitted earlier at monza", "whatif", ["LEC"]),
    ("what if max stayed out 10 laps longer at monza 2023", "whatif", ["VER"]),
    ("what if max had pitted 5 laps earlier at monza 2023", "whatif", ["VER"]),
    ("what if verstappen pitted a lap later at monza 2023", "whatif", ["VER"]),
    ("what if max pitted two laps sooner at monza 2023", "whatif", ["VER"]),
    ("if norris had boxed a lap earlier", "whatif", ["NOR"]),
    ("what if piastri's second stop was 3 laps earlier", "whatif", ["PIA"]),
    ("should ham have stayed out longer", "whatif", ["HAM"]),
    ("what if sainz had stayed out 5 more laps", "whatif", ["SAI"]),
    ("should piastri have stopped later at monza 2023", "whatif", ["PIA"]),
    ("what if russell had two stopped in monza 2023", "whatif", ["RUS"]),
    ("would a two-stop have been faster for russell", "whatif", ["RUS"]),
    ("what about a 2 stopper for hamilton", "whatif", ["HAM"]),
    ("would hamilton have been faster on a two stopper", "whatif", ["HAM"]),
    ("would russell have finished higher with a one stop", "whatif", ["RUS"]),
    ("whatif VER pit 30 H monza 2023 explain", "whatif", ["VER"]),
    ("what-if VER pit 30 hard monza 2023", "whatif", ["VER"]),
    ("whatif norris pit 25 m", "whatif", ["NOR"]),
    ("would ham have finished higher if he'd pitted on lap 25", "whatif", ["HAM"]),
    ("was pitting on lap 20 a mistake for lec", "whatif", ["LEC"]),
    ("was leclerc's stop on lap 20 the right call", "whatif", ["LEC"]),
    ("box lap 30 for hards, what happens for VER at monza 2023", "whatif", ["VER"]),
    ("could alonso have caught hamilton", "battle", ["ALO", "HAM"]),
    ("could sainz have passed leclerc at monza 2023", "battle", ["SAI", "LEC"]),
    ("is sainz going to pass leclerc", "battle", ["SAI", "LEC"]),
    ("how long until VER catches LEC", "battle", ["VER", "LEC"]),
    ("how many laps until norris catches piastri", "battle", ["NOR", "PIA"]),
    ("leclerc should've pitted earlier at monza", "whatif", ["LEC"]),
    ("would max have won if he pitted on lap 30", "whatif", ["VER"]),
    ("what if lando boxed on lap 15 at monza 2023", "whatif", ["NOR"]),
    ("what if norris pitted 2 laps earlier than he did", "whatif", ["NOR"]),
    ("would an extra stop have helped hamilton at monza 2023", "whatif", ["HAM"]),
    ("what if piastri had one stopped at monza 2023", "whatif", ["PIA"]),
    ("ham stays out 5 laps longer what happens", "whatif", ["HAM"]),
    ("what if checo pitted later at monza 2023", "whatif", ["PER"]),
    ("was max's stop too early at monza 2023", "whatif", ["VER"]),
    ("did leclerc pit too late at monza 2023", "whatif", ["LEC"]),
    ("is it worth sainz pitting 3 laps earlier", "whatif", ["SAI"]),
    ("would pitting a lap later have helped norris at monza 2023", "whatif", ["NOR"]),
    ("could leclerc have won with a two stop at monza 2023", "whatif", ["LEC"]),
    ("what if hamilton had started on hards at monza 2023", "whatif", ["HAM"]),
    ("when will norris catch piastri", "battle", ["NOR", "PIA"]),
    ("can russell catch hamilton before the end", "battle", ["RUS", "HAM"]),
    ("chances of sainz passing leclerc at monza 2023", "battle", ["SAI", "LEC"]),
    ("odds norris overtakes piastri", "battle", ["NOR", "PIA"]),
    ("lec shouldve boxed earlier", "whatif", ["LEC"]),
    ("would it have been better for sainz to pit later", "whatif", ["SAI"]),
    ("was the undercut on for norris at monza 2023", "whatif", ["NOR"]),
    ("should leclerc have gone for the overcut", "whatif", ["LEC"]),
    ("should russell have done a one stopper", "whatif", ["RUS"]),
    ("what would have happened if piastri had stayed out at monza 2023", "whatif", ["PIA"]),
    ("whats the chance ham overtakes rus", "battle", ["HAM", "RUS"]),
    ("norris catch piastri?", "battle", ["NOR", "PIA"]),
])
async def test_fan_phrasings_are_race_lab_questions(app: App, question: str, focus: str, drivers: list[str]) -> None:
    plan = await resolve_question(app.store, question, now=NOW)
    assert plan.focus == focus, plan.explain()
    assert [d.code for d in plan.drivers] == drivers
    # Pit laps, tyres and "explain" of the command form are read by `bot.lab_read`, not by the parser.
    assert all(w.isdigit() or w in ("explain", "hard", "soft", "medium") for w in plan.unknown), plan.explain()


@pytest.mark.parametrize(("question", "field", "value"), [
    ("what if max stayed out 10 laps longer at monza 2023", "shift", 10),
    ("what if max had pitted 5 laps earlier at monza 2023", "shift", -5),
    ("if norris had boxed a lap earlier", "shift", -1),
    ("what if max pitted two laps sooner", "shift", -2),
    ("what if sainz had stayed out 5 more laps", "shift", 5),
    ("should leclerc have pitted earlier at monza", "window", "earlier"),
    ("should ham have stayed out longer", "window", "later"),
    ("was the stop too late for lec", "window", "earlier"),
    ("was pitting on lap 20 a mistake for lec", "window", "either"),
    ("what if piastri's second stop was 3 laps earlier", "which", 2),
    ("what if russell had two stopped in monza 2023", "n_stops", 2),
    ("what about a 2 stopper for hamilton", "n_stops", 2),
    ("would a one-stopper have worked for piastri", "n_stops", 1),
    ("whatif VER pit 30 H monza 2023 explain", "stops", ((30, "HARD"),)),
    ("would an extra stop have helped hamilton", "extra", 1),
    ("what if max made one stop fewer", "extra", -1),
    ("was max's stop too early", "window", "later"),
    ("was the undercut on for norris", "window", "earlier"),
    ("should leclerc have gone for the overcut", "window", "later"),
    ("would pitting a lap later have helped norris", "shift", 1),
    ("what if norris pitted 2 laps earlier than he did", "shift", -2),
    ("box lap 30 for hards, what happens for VER at monza 2023", "stops", ((30, "HARD"),)),
])
def test_the_strategy_words_are_read(question: str, field: str, value: object) -> None:
    assert getattr(read_question(question), field) == value


@pytest.mark.parametrize("question", [
    "did norris pit earlier than piastri at monza 2023",  # what happened, not a what-if
    "who pitted earlier at monza 2023, ham or rus",
    "how many pit stops did leclerc make at monza 2023",
    "was piastri on a one stop or two stop at monza 2023",
    "when did hamilton pit at monza 2023",
    "did hamilton pass russell at monza 2023",  # past tense: never a forecast
])
async def test_what_happened_questions_stay_what_happened(app: App, question: str) -> None:
    try:
        plan = await resolve_question(app.store, question, now=NOW)
    except NotUnderstood:
        return  # said back as not understood: not a simulation either
    assert plan.focus not in ("whatif", "best_strategy", "battle"), plan.explain()


# ---------------------------------------------------------------------------- answers


@pytest.mark.parametrize(("question", "code", "shift"), [
    ("what if max stayed out 10 laps longer at monza 2023", "VER", 10),
    ("what if verstappen pitted a lap later at monza 2023", "VER", 1),
    ("what if max had pitted 5 laps earlier at monza 2023", "VER", -5),
    ("what if max pitted two laps sooner at monza 2023", "VER", -2),
    ("if norris had boxed a lap earlier at monza 2023", "NOR", -1),
])
async def test_a_stop_moved_by_some_laps(app: App, question: str, code: str, shift: int) -> None:
    text = _placeholder_then_edit(await ask(app, question))
    who, alt_laps, alt_comps, act_laps, act_comps = whatif_read(text)
    (stop,) = ergast_stops(code)
    assert who == code and act_laps == [stop] and alt_laps == [stop + shift], text
    assert alt_comps == act_comps  # the same tyres: only the lap moved
    assert text.count("P(win)") == 2 and "80%" in text


async def test_pitted_earlier_tries_a_window_and_reports_the_best(app: App) -> None:
    text = _placeholder_then_edit(await ask(app, "should leclerc have pitted earlier at monza"))
    _, alt_laps, alt_comps, act_laps, act_comps = whatif_read(text)
    (stop,) = ergast_stops("LEC")
    assert act_laps == [stop] and alt_comps == act_comps
    assert stop - 8 <= alt_laps[0] <= stop - 1, text
    tried = next(ln for ln in text.splitlines() if ln.startswith("• Tried"))
    laps = sorted(int(s) for s in re.findall(r"\b[SMH]-(\d+)-[SMH]\b", tried))
    assert laps == list(range(stop - 8, stop)), tried  # every lap of the window, said
    assert "1–8 laps earlier" in text


async def test_was_it_a_mistake_tries_both_ways_around_that_stop(app: App) -> None:
    (stop,) = ergast_stops("LEC")
    text = _placeholder_then_edit(await ask(app, f"was pitting on lap {stop} a mistake for lec at monza 2023"))
    tried = next(ln for ln in text.splitlines() if ln.startswith("• Tried"))
    laps = sorted(int(s) for s in re.findall(r"\b[SMH]-(\d+)-[SMH]\b", tried))
    assert laps == [*range(stop - 8, stop), *range(stop + 1, stop + 9)], tried
    # A lap he did not stop on: said what was understood, with his real stop.
    other = _placeholder_then_edit(await ask(app, f"was pitting on lap {stop + 5} a mistake for lec at monza 2023"))
    assert "I read this as" in other and f"lap {stop}" in other and "P(win)" not in other


async def test_two_stoppers_are_asked_which_stop_or_use_the_named_one(app: App) -> None:
    first, second = ergast_stops("PIA")
    asked = _placeholder_then_edit(await ask(app, "what if piastri stayed out 3 laps longer at monza 2023"))
    assert "Which stop" in asked and f"lap {first}" in asked and f"lap {second}" in asked and "P(win)" not in asked
    text = _placeholder_then_edit(await ask(app, "what if piastri's second stop was 3 laps earlier at monza 2023"))
    _, alt_laps, _, act_laps, _ = whatif_read(text)
    assert act_laps == [first, second] and alt_laps == [first, second - 3], text


async def test_two_stop_questions_run_the_best_two_stop_plan(app: App) -> None:
    text = _placeholder_then_edit(await ask(app, "what if russell had two stopped in monza 2023"))
    who, alt_laps, alt_comps, act_laps, _ = whatif_read(text)
    assert who == "RUS" and act_laps == ergast_stops("RUS") and len(alt_laps) == 2, text
    assert len(set(alt_comps)) >= 2  # a legal dry plan
    assert alt_laps[-1] < race_laps()
    assert "best 2-stop plan" in text


async def test_an_extra_stop_runs_the_best_plan_with_one_stop_more(app: App) -> None:
    text = _placeholder_then_edit(await ask(app, "would an extra stop have helped hamilton at monza 2023"))
    who, alt_laps, _, act_laps, _ = whatif_read(text)
    assert who == "HAM" and act_laps == ergast_stops("HAM") and len(alt_laps) == len(act_laps) + 1, text


@pytest.mark.parametrize(("question", "expect"), [
    # Understood, but not a decision the lab can change: said back with a way to ask.
    ("what if hamilton had started on hards at monza 2023", "not which decision to change"),
    ("what if piastri had three stopped at monza 2023", "one- and two-stop plans"),
])
async def test_understood_and_asked(app: App, question: str, expect: str) -> None:
    text = _placeholder_then_edit(await ask(app, question))
    assert expect in text and "P(win)" not in text and "Traceback" not in text, text


@pytest.mark.parametrize(("command", "code", "shift"), [
    ("/f1 whatif VER 10 laps later monza 2023", "VER", 10),
    ("/f1 whatif PIA second stop 3 laps earlier monza 2023", "PIA", -3),
])
async def test_the_command_moves_a_stop_too(app: App, command: str, code: str, shift: int) -> None:
    text = _placeholder_then_edit(await ask(app, command))
    _, alt_laps, alt_comps, act_laps, act_comps = whatif_read(text)
    stops = ergast_stops(code)
    assert act_laps == stops and alt_laps == [*stops[:-1], stops[-1] + shift] and alt_comps == act_comps, text


@pytest.mark.parametrize("question", ["whatif VER pit 30 H monza 2023", "what-if VER pit 30 hard monza 2023",
                                      "box lap 30 for hards, what happens for VER at monza 2023"])
async def test_command_words_typed_as_a_question(app: App, question: str) -> None:
    text = _placeholder_then_edit(await ask(app, question))
    who, alt_laps, alt_comps, act_laps, _ = whatif_read(text)
    assert who == "VER" and alt_laps == [30] and alt_comps.endswith("H") and act_laps == ergast_stops("VER")


async def test_would_he_have_finished_higher_runs_the_named_lap(app: App) -> None:
    text = _placeholder_then_edit(await ask(app, "would ham have finished higher if he'd pitted on lap 25 at monza 2023"))
    who, alt_laps, _, act_laps, _ = whatif_read(text)
    assert who == "HAM" and alt_laps == [25] and act_laps == ergast_stops("HAM")
    assert f"Official result: P{ergast_result('HAM')['position']}" in text


@pytest.mark.parametrize(("question", "pair"), [
    ("how long until VER catches LEC at monza 2023", {"VER", "LEC"}),
    ("could sainz have passed leclerc at monza 2023", {"SAI", "LEC"}),
])
async def test_catch_and_could_have_caught_get_the_battle_forecast(app: App, question: str, pair: set[str]) -> None:
    text = _placeholder_then_edit(await ask(app, question))
    mt = re.search(r"Battle forecast: (\w+) chasing (\w+) after lap (\d+)", text)
    assert mt and {mt.group(1), mt.group(2)} == pair, text
    assert "P(pass within 5 laps)" in text


@pytest.mark.parametrize("question", ["should ocon have pitted earlier at monza 2023", "/f1 whatif OCO pit 10 monza 2023"])
async def test_a_car_that_retired_gets_the_reason_not_an_error(app: App, question: str) -> None:
    text = _placeholder_then_edit(await ask(app, question))
    assert f"retired on lap {ergast_result('OCO')['laps']}" in text and "went wrong" not in text, text
