"""The independent re-checker (tests/llm/recheck.py): true texts pass, planted falsehoods are found.

No model needed. The last two tests read the evaluation store when it is there: every
deterministic answer to the answer set's single questions (classes 1-7) is true by
construction, so the checker must pass all of them; the same answers with a number changed
must be caught.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.llm.conftest import MONZA_CONTEXT
from tests.llm.recheck import clauses, false_claims, mentions, numbers_in

GAP_CONTEXT: dict[str, Any] = {
    "focus": "gap",
    "drivers": [{"code": "RAI", "name": "Kimi Räikkönen", "number": 7}, {"code": "HEI", "name": "Nick Heidfeld"}],
    "event": {"name": "Japanese Grand Prix", "year": 2009, "round": 15, "date": "2009-10-04",
              "circuit": "Suzuka Circuit", "location": "Suzuka", "country": "Japan"},
    "gap_between": {"ahead": "RAI", "behind": "HEI", "gap": "1.569s", "ahead_pos": 4, "behind_pos": 6},
}  # fmt: skip

STANDINGS_CONTEXT: dict[str, Any] = {
    "focus": "standings",
    "standings": {"kind": "drivers", "year": 2023, "after_round": 14, "after_event": "Italian Grand Prix",
                  "rows": [{"pos": 1, "code": "VER", "name": "Max Verstappen", "points": "364", "wins": 12},
                           {"pos": 2, "code": "PER", "name": "Sergio Pérez", "points": "219", "wins": 2}]},
}  # fmt: skip

GRID_CONTEXT: dict[str, Any] = {
    "focus": "grid_change",
    "drivers": [{"code": "HUL", "name": "Nico Hülkenberg", "number": 27}],
    "event": {"name": "Dutch Grand Prix", "year": 2025, "round": 15, "circuit": "Circuit Park Zandvoort"},
    "rows": [{"who": "Nico Hülkenberg (HUL)", "code": "HUL", "team": "Sauber", "pos": 14, "grid": 17,
              "laps": 72, "status": "Finished"}],
}  # fmt: skip

LEAD_CONTEXT: dict[str, Any] = {
    "focus": "lead_changes", "event": {"name": "Dutch Grand Prix", "year": 2021, "round": 13}, "total": 72,
    "start": "Max Verstappen (VER)",
    "changes": [{"lap": 22, "who": "Valtteri Bottas (BOT)", "code": "BOT"},
                {"lap": 30, "who": "Max Verstappen (VER)", "code": "VER"}],
}  # fmt: skip

TRUE_TEXTS = [
    (MONZA_CONTEXT, "Max Verstappen won the 2023 Italian Grand Prix."),
    (MONZA_CONTEXT, "max verstappen (VER) won at Monza, from P2 on the grid."),
    (MONZA_CONTEXT, "Sergio Pérez finished second, Carlos Sainz third."),
    (MONZA_CONTEXT, "Sergio Perez was 2nd and Sainz P3."),
    (MONZA_CONTEXT, "Oscar Piastri set the fastest lap: 1:25.072 on lap 43."),
    (MONZA_CONTEXT, "Piastri's fastest lap was a 1:25.07."),  # rounding allowed
    (MONZA_CONTEXT, "The race ran 51 laps."),
    (GAP_CONTEXT, "Heidfeld finished 1.569s behind Räikkönen in the 2009 Japanese Grand Prix."),
    (GAP_CONTEXT, "HEI was 1.6 seconds behind RAI (RAI P4, HEI P6)."),
    (GAP_CONTEXT, "Raikkonen finished fourth and Heidfeld sixth."),
    (GRID_CONTEXT, "Nico Hülkenberg gained 3 places at Zandvoort, from P17 to P14 over 72 laps."),
    (LEAD_CONTEXT, "The lead changed 2 times: Bottas took the lead on lap 22, Verstappen on lap 30."),
    (STANDINGS_CONTEXT, "After round 14, Verstappen leads with 364 points and 12 wins; Perez has 219."),
]

FALSE_TEXTS = [
    (MONZA_CONTEXT, "Lewis Hamilton won the 2023 Italian Grand Prix.", "not in the facts"),
    (MONZA_CONTEXT, "Sainz finished second.", "second"),
    (MONZA_CONTEXT, "sainz was p2", "p2"),
    (MONZA_CONTEXT, "Perez won the race.", "won"),
    (MONZA_CONTEXT, "Verstappen won the 2021 Italian Grand Prix.", "2021"),
    (MONZA_CONTEXT, "Piastri set the fastest lap on lap 44.", "44"),
    (MONZA_CONTEXT, "Piastri's fastest lap was 1:25.9.", "1:25.9"),
    (MONZA_CONTEXT, "Verstappen led 33 laps.", "33"),  # 33 is his car number elsewhere, not his
    (MONZA_CONTEXT, "Lewis Verstappen won.", "no driver is called"),  # invented first name
    (MONZA_CONTEXT, "Jos Verstappen won.", "not in the facts"),  # a namesake the facts do not hold
    (MONZA_CONTEXT, "The race ran 53 laps.", "53"),
    (GAP_CONTEXT, "Heidfeld finished 2.5s behind Räikkönen.", "2.5"),
    (GAP_CONTEXT, "Heidfeld finished fifth.", "fifth"),
    (STANDINGS_CONTEXT, "Perez has 12 wins.", "12"),
    (LEAD_CONTEXT, "There were 72 lead changes.", "72"),  # the lap count, not a count of changes
    (LEAD_CONTEXT, "22 times", "22"),
    (GRID_CONTEXT, "Nico Hülkenberg gained 72 spots in the 2025 Dutch Grand Prix.", "72"),  # the lap count
    (STANDINGS_CONTEXT, "Alonso is third in the championship.", "not in the facts"),
]


@pytest.mark.parametrize(("context", "text"), TRUE_TEXTS)
def test_true_texts_pass(context: dict[str, Any], text: str) -> None:
    assert false_claims(text, context) == []


@pytest.mark.parametrize(("context", "text", "why"), FALSE_TEXTS)
def test_false_claims_are_found(context: dict[str, Any], text: str, why: str) -> None:
    found = false_claims(text, context)
    assert found, text
    assert any(why.lower() in f.lower() for f in found), found


def test_pieces() -> None:
    assert [n.text for n in numbers_in("P3, 2nd, third, 1:25.072, +6.064s, 51 laps in 2023, Q1")] == [
        "P3", "2nd", "1:25.072", "6.064", "51", "2023", "third"]
    assert clauses("Verstappen won in 1:13:41.143. Perez was second, Sainz third") == [
        "Verstappen won in 1:13:41.143.", "Perez was second", "Sainz third"]
    found = mentions("Lewis Hamilton beat VER and hill")  # "hill": a common word in lower case
    assert [m.text for m in found] == ["lewis hamilton", "VER"]


# --------------------------------------------------------------------- against the evaluation store


def _eval_pairs(limit: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    from bench.answers import runner, store
    from bot.answer import answer
    from bot.context import build_context
    from bot.errors import UserError
    from bot.question import resolve_question

    async def run() -> list[tuple[str, dict[str, Any]]]:
        r = runner.Runner(store.ensure(verbose=False))
        st = r.app.deps.store
        out = []
        try:
            for rec in [x for x in runner.load() if 1 <= x["class"] <= 7][:limit]:
                try:
                    plan = await resolve_question(st, rec["question"], now=runner.EVAL_NOW)
                except UserError:
                    continue
                ctx = await build_context(st, plan, now=runner.EVAL_NOW)
                out.append((answer(ctx), ctx))
        finally:
            await r.aclose()
        return out

    return asyncio.run(run())


def _need_store() -> None:
    from bench.answers import store

    if store.available() is not None:
        pytest.skip(store.available() or "")


@pytest.mark.shared_data
def test_every_deterministic_answer_passes() -> None:
    """The bot's own answers are true by construction: no false positive on any of them."""
    _need_store()
    pairs = _eval_pairs()
    assert len(pairs) >= 400
    flagged = [(text, found) for text, ctx in pairs if (found := false_claims(text, ctx))]
    assert not flagged, flagged[:5]


@pytest.mark.shared_data
def test_changed_numbers_are_caught() -> None:
    """The same answers with their first position / time / count changed: nearly all caught."""
    _need_store()
    caught = total = 0
    misses = []
    for text, ctx in _eval_pairs():
        m = re.search(r"(?<![\w.:])P(\d{1,2})(?!\d)|(?<![\w.:])(\d{2,3})(?![\d:.])", text)
        if not m:
            continue
        old = m.group(1) or m.group(2)
        new = str(int(old) + 7)
        changed = text[: m.start()] + m.group(0).replace(old, new) + text[m.end():]
        total += 1
        if false_claims(changed, ctx):
            caught += 1
        else:
            misses.append(changed[:160])
    assert total >= 200
    assert caught / total >= 0.8, (caught, total, misses[:10])
