"""Race Lab in chat (issue 16, parts 3-5): `/f1 whatif`, `/f1 battle` and free questions end to
end on the bundled demo store (Monza 2023 has lap data), through the real app: a placeholder
edited with the answer or the refusal, the time-out message, the cache, the worker process.

Expected values come from the Ergast CSV read here (pit laps, retirements, race length), not
from our store or model. The simulation counts are small (tests stay fast); the bench runs
10,000.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.lab.service import TIMEOUT_TEXT, RaceLab
from bot.lab_answer import read_command, read_question
from bot.lab_words import SIMULATING, wilson
from bot.question import resolve_question
from slipstream.wiring import App, build_app
from storage.demo import demo_data_dir
from tests.core.conftest import NOW, RecordingResponder, incoming, make_settings

ERGAST = demo_data_dir() / "ergast"
MONZA = "1112"  # Ergast raceId of the 2023 Italian Grand Prix (round 14)


def _csv(name: str) -> list[dict[str, str]]:
    with open(ERGAST / name, newline="") as fh:
        return list(csv.DictReader(fh))


def _codes() -> dict[str, str]:
    return {r["driverId"]: r["code"] for r in _csv("drivers.csv")}


def ergast_stops(code: str) -> list[int]:
    ids = _codes()
    return sorted(int(r["lap"]) for r in _csv("pit_stops.csv") if r["raceId"] == MONZA and ids[r["driverId"]] == code)


def ergast_result(code: str) -> dict[str, str]:
    ids = _codes()
    status = {r["statusId"]: r["status"] for r in _csv("status.csv")}
    row = next(r for r in _csv("results.csv") if r["raceId"] == MONZA and ids[r["driverId"]] == code)
    return {**row, "status": status[row["statusId"]]}


def race_laps() -> int:
    return max(int(r["laps"]) for r in _csv("results.csv") if r["raceId"] == MONZA)


@pytest.fixture(scope="module")
def lab_app(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app (one worker process, one cache) for the module: spawning a worker and fitting
    Monza cost about two seconds, paid once. Small run counts keep each answer fast."""
    work = tmp_path_factory.mktemp("lab-chat")
    shutil.copyfile(demo_template, work / "demo.db")
    app = build_app(make_settings(f"sqlite:///{work / 'demo.db'}", lab_runs=400), clock=lambda: NOW)
    assert app.deps.lab is not None
    app.deps.lab.best_runs = 100
    try:
        yield app
    finally:
        app.close()


async def ask(app: App, text: str) -> RecordingResponder:
    r = RecordingResponder()
    await app.dispatcher.handle(incoming(text), r)  # type: ignore[arg-type]
    return r


def _placeholder_then_edit(r: RecordingResponder) -> str:
    """The reply was one message: the placeholder, then one edit with the answer."""
    assert len(r.sent) == 1 and len(r.edits) == 1, (r.sent, r.edits)
    assert r.edits[0][0] == "1"
    final = r.sent[0].text
    assert not final.startswith(SIMULATING.split("{")[0]), final  # never left as "simulating…"
    return final


# ---------------------------------------------------------------------------- reading the ask


def test_command_text_reads_stops_tyres_and_flags() -> None:
    ask_, rest = read_command("pit 18 medium pit 40 H monza 2023 explain")
    assert ask_.stops == ((18, "MEDIUM"), (40, "HARD")) and ask_.explain and rest == "monza 2023"
    ask_, rest = read_command("one-stop monza 2023")
    assert ask_.n_stops == 1 and not ask_.stops and rest == "monza 2023"
    ask_, rest = read_command("best")
    assert ask_.best and rest == ""


def test_question_text_reads_laps_with_their_own_tyre() -> None:
    ask_ = read_question("what if sainz pitted on lap 15 for softs and lap 35 for hards")
    assert ask_.stops == ((15, "SOFT"), (35, "HARD"))
    assert read_question("should norris have stayed out").stay_out
    assert read_question("would a one-stop have worked for leclerc").n_stops == 1


@pytest.mark.parametrize(("question", "focus", "drivers"), [
    ("what if hamilton had pitted on lap 25", "whatif", ["HAM"]),
    ("would a one-stop have worked for leclerc", "whatif", ["LEC"]),
    ("what if verstappen pitted on lap 30 for hards at monza 2023", "whatif", ["VER"]),
    ("should norris have stayed out", "whatif", ["NOR"]),
    ("what if max had stayed out at monza", "whatif", ["VER"]),
    ("best strategy for sainz at monza 2023", "best_strategy", ["SAI"]),
    ("whats the optimal strategy for piastri at monza", "best_strategy", ["PIA"]),
    ("will norris catch piastri", "battle", ["NOR", "PIA"]),
    ("can leclerc pass sainz", "battle", ["LEC", "SAI"]),
    ("battle forecast VER LEC monza 2023 lap 30", "battle", ["VER", "LEC"]),
    ("could hamilton get past russell at monza", "battle", ["HAM", "RUS"]),
    # Fans' spelling: slang, typos, no punctuation.
    ("wat if lewis pitted lap 25 monza 23", "whatif", ["HAM"]),
    ("would leclerc have done better on a two stop at monza", "whatif", ["LEC"]),
    ("would alonso have gained if he had stayed out", "whatif", ["ALO"]),
    ("what if sainz boxed on lap 18 for mediums", "whatif", ["SAI"]),
    ("whats the best strat for max at monza", "best_strategy", ["VER"]),
    ("is piastri gonna pass norris", "battle", ["PIA", "NOR"]),
    ("can norris catch piastri at monza 2023?", "battle", ["NOR", "PIA"]),
])
async def test_fan_phrasings_read_as_lab_questions(lab_app: App, question: str, focus: str,
                                                   drivers: list[str]) -> None:
    plan = await resolve_question(lab_app.store, question, now=NOW)
    assert plan.focus == focus, plan.explain()
    assert [d.code for d in plan.drivers] == drivers
    assert not plan.unknown, plan.explain()
    assert plan.event is not None  # a race with laps (named, or the latest with laps)


@pytest.mark.parametrize("question", [
    "who won monza 2023", "how many pit stops did leclerc make at monza 2023",
    "was piastri on a one stop or two stop at monza 2023",
    "did hamilton pass russell at monza 2023",  # what happened: not a forecast (said back as not understood)
])
async def test_ordinary_questions_are_not_taken_for_simulations(lab_app: App, question: str) -> None:
    from bot.understand import parse_question

    plan = await parse_question(lab_app.store, question, now=NOW)
    assert plan.focus not in ("whatif", "best_strategy", "battle"), plan.explain()


def test_wilson_interval_holds_the_estimate_and_narrows_with_runs() -> None:
    for p in (0.0, 0.05, 0.5, 0.97):
        lo, hi = wilson(p, 400)
        assert 0 <= lo <= p <= hi <= 1
        lo2, hi2 = wilson(p, 10_000)
        assert hi2 - lo2 < hi - lo


# ---------------------------------------------------------------------------- answers


async def test_whatif_command_compares_like_for_like_in_a_worker_process(lab_app: App) -> None:
    lab = lab_app.deps.lab
    actual_lap = ergast_stops("LEC")[0]
    r = await ask(lab_app, "/f1 whatif LEC pit 30 hard monza 2023")
    text = _placeholder_then_edit(r)
    assert "LEC" in text and "Italian Grand Prix" in text
    # Both strategies, the actual one from the official pit-stop file.
    assert f"-{actual_lap}-" in text and "-30-H" in text, text
    assert text.count("P(win)") == 2 and text.count("P(podium)") == 2
    assert "80%" in text and "%" in text
    assert "would have won" not in text
    assert f"Official result: P{ergast_result('LEC')['position']}" in text
    # The two distributions drawn: one 1600x900 PNG with alt text.
    images = r.sent[0].images
    assert len(images) == 1 and images[0].alt
    with PILImage.open(io.BytesIO(images[0].data)) as im:
        assert im.size == (1600, 900)
    # The simulation really ran in another process.
    assert lab.worker_pids and os.getpid() not in lab.worker_pids
    jobs = lab.jobs
    again = await ask(lab_app, "/f1 whatif LEC pit 30 hard monza 2023")
    assert _placeholder_then_edit(again) == text  # the same figures...
    assert lab.jobs == jobs and lab.hits > 0  # ...from the cache, no new job


async def test_free_whatif_question_answers_through_the_same_path(lab_app: App) -> None:
    r = await ask(lab_app, "what if verstappen pitted on lap 30 for hards at monza 2023")
    text = _placeholder_then_edit(r)
    assert "VER" in text and "-30-H" in text and "P(win)" in text


async def test_explain_lists_the_model_assumptions(lab_app: App) -> None:
    r = await ask(lab_app, "/f1 whatif LEC pit 30 monza 2023 explain")
    text = _placeholder_then_edit(r)
    lines = [ln for ln in text.splitlines() if ln.startswith("• ")]
    assert len(lines) >= 3, text


async def test_battle_forecast_defaults_to_the_closest_lap_of_the_last_third(lab_app: App) -> None:
    r = await ask(lab_app, "/f1 battle LEC SAI monza 2023")
    text = _placeholder_then_edit(r)
    assert "P(pass within 5 laps)" in text and "within 10 laps" in text, text
    laps = race_laps()
    lap = int(text.split("after lap ")[1].split(" ")[0])
    assert laps - laps // 3 <= lap <= laps
    p5 = float(text.split("P(pass within 5 laps) ")[1].split("%")[0])
    p10 = float(text.split("within 10 laps ")[1].split("%")[0])
    assert 0 <= p5 <= p10 <= 100
    assert text.count("–") >= 2  # each probability with its interval


async def test_battle_at_a_named_lap(lab_app: App) -> None:
    r = await ask(lab_app, "battle forecast VER LEC monza 2023 lap 30")
    text = _placeholder_then_edit(r)
    assert "after lap 30" in text and "LEC" in text and "VER" in text
    assert "on-track passes per 100 green laps" in text and "up to lap 30" in text, text


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("command", "expect"), [
    # Ricciardo was injured: Lawson drove at Monza 2023.
    ("/f1 whatif ricciardo pit 20 monza 2023", "did not start"),
    ("/f1 whatif LEC pit {over} monza 2023", "{laps} laps"),
    ("/f1 whatif OCO pit {after_retired} monza 2023", "retired on lap {retired}"),
    ("/f1 whatif VER pit 20 spa 2023", "Races with laps: Italian Grand Prix 2023"),
    ("/f1 whatif LEC monza 2023", "Name a pit lap"),
])
async def test_refusals_replace_the_placeholder(lab_app: App, command: str, expect: str) -> None:
    laps, oco = race_laps(), ergast_result("OCO")
    values = {"over": laps + 5, "laps": laps, "after_retired": int(oco["laps"]) + 3, "retired": oco["laps"]}
    r = await ask(lab_app, command.format(**values))
    text = _placeholder_then_edit(r) if r.edits else r.text
    assert expect.format(**values) in text, text
    assert "Traceback" not in text


async def test_a_question_without_a_driver_asks_which(lab_app: App) -> None:
    r = await ask(lab_app, "what if they had pitted on lap 20 at monza 2023")
    assert "Which driver" in r.text


# ---------------------------------------------------------------------------- the service


async def test_time_limit_gives_the_message_and_recycles_the_worker(demo_template: Path, tmp_path: Path) -> None:
    shutil.copyfile(demo_template, tmp_path / "demo.db")
    # Starting a worker alone takes longer than 10 ms: the first job must run out of time.
    app = build_app(make_settings(f"sqlite:///{tmp_path / 'demo.db'}", lab_timeout_s=0.01, lab_runs=200),
                    clock=lambda: NOW)
    try:
        lab: RaceLab = app.deps.lab
        r = await ask(app, "/f1 whatif LEC pit 30 hard monza 2023")
        assert _placeholder_then_edit(r) == TIMEOUT_TEXT
        assert lab.recycles == 1 and lab.jobs == 0
        lab.timeout_s = 120.0  # a fresh pool answers afterwards
        model = await lab.model(2023, 14)
        assert model.total_laps == race_laps() and lab.jobs == 1
    finally:
        await app.aclose()


async def test_the_cache_is_keyed_by_data_version(lab_app: App) -> None:
    lab = lab_app.deps.lab
    await lab.model(2023, 14)
    fits = lab.jobs
    await lab.model(2023, 14)
    assert lab.jobs == fits  # same version: no second fit
    version = await lab_app.store.check_version(force=True)
    assert any(isinstance(k, tuple) and k[0] == "model" and k[-1] == version for k in lab._cache)


def test_wiring_builds_one_lab_and_closes_it(demo_url: str) -> None:
    app = build_app(make_settings(demo_url, lab_workers=2, lab_timeout_s=5), clock=lambda: dt.datetime.now(dt.UTC))
    lab = app.deps.lab
    assert isinstance(lab, RaceLab) and lab.workers == 2 and lab.timeout_s == 5
    app.close()
    assert lab._pool is None


async def test_a_follow_up_keeps_the_driver_and_race(lab_app: App) -> None:
    first = RecordingResponder()
    await lab_app.dispatcher.handle(incoming("what if leclerc had pitted on lap 30 at monza 2023",  # type: ignore[arg-type]
                                             conversation_id="lab-follow"), first)
    assert "-30-H" in _placeholder_then_edit(first)
    then = RecordingResponder()
    await lab_app.dispatcher.handle(incoming("and what about lap 35?", conversation_id="lab-follow"), then)  # type: ignore[arg-type]
    text = _placeholder_then_edit(then)
    assert "LEC" in text and "-35-H" in text and "Italian Grand Prix" in text


async def test_best_strategy_ranks_legal_one_and_two_stop_plans(lab_app: App) -> None:
    r = await ask(lab_app, "best strategy for sainz at monza 2023")
    text = _placeholder_then_edit(r)
    rows = [ln for ln in text.splitlines() if ln[:2] in {f"{k}." for k in range(1, 10)}]
    assert 1 <= len(rows) <= 5, text
    means = [float(ln.split("expected P")[1].split(" ")[0]) for ln in rows]
    assert means == sorted(means)  # ranked by expected position
    for ln in rows:
        plan = ln.split("**")[1]
        letters = plan.split("-")[::2]
        assert 1 <= len(letters) - 1 <= 2 and len(set(letters)) >= 2, plan  # 1-2 stops, two compounds (dry)
    assert f"actual: M-{ergast_stops('SAI')[0]}-H" in text


async def test_stayed_out_drops_the_last_stop_of_a_two_stopper_and_asks_a_one_stopper(lab_app: App) -> None:
    first, last = ergast_stops("PIA")  # two stops at Monza 2023
    text = _placeholder_then_edit(await ask(lab_app, "should piastri have stayed out at monza 2023"))
    assert f"stays out on lap {last}" in text and f"-{first}-" in text, text
    (only,) = ergast_stops("HAM")
    asked = _placeholder_then_edit(await ask(lab_app, "should hamilton have stayed out at monza 2023"))
    assert "Which stop should move" in asked and f"lap {only}" in asked


async def test_two_fans_asking_at_once_share_one_simulation(lab_app: App) -> None:
    import asyncio

    from bot.lab.types import Strategy

    lab = lab_app.deps.lab
    await lab.model(2023, 14)
    jobs = lab.jobs
    alt = Strategy.parse("M-33-H")
    a, b = await asyncio.gather(lab.whatif(2023, 14, "NOR", alt), lab.whatif(2023, 14, "NOR", alt))
    assert a is b and lab.jobs == jobs + 1


async def test_whatif_end_to_end_on_sqlite_and_postgresql(demo_store_url: str) -> None:
    """The same question, the same figures on both stores (same data, same seed)."""
    app = build_app(make_settings(demo_store_url, lab_runs=300), clock=lambda: NOW)
    try:
        text = _placeholder_then_edit(await ask(app, "/f1 whatif VER pit 28 hard monza 2023"))
        assert f"-{ergast_stops('VER')[0]}-" in text and "-28-H" in text and "P(win)" in text
    finally:
        await app.aclose()
