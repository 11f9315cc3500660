"""Bad input is a short clear answer, never an internal error (issue 14, item 5).

The whole bot (`build_app`) on the demo data, on SQLite and PostgreSQL: huge and
negative integers in options, years far outside 1950..next year, lone surrogates,
NUL, control and zero-width characters in questions and in slash options.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest

from bot.model import CommandCall
from bot.textnorm import clean
from slipstream.wiring import App, build_app
from tests.core.conftest import NOW, RecordingResponder, ask, incoming, make_settings

NEXT_YEAR = dt.datetime.now(dt.UTC).year + 1


@pytest.fixture
async def store_app(demo_store_url: str) -> AsyncIterator[App]:
    a = build_app(make_settings(demo_store_url), clock=lambda: NOW)
    try:
        yield a
    finally:
        await a.aclose()


def _no_internal_error(r: RecordingResponder, caplog: pytest.LogCaptureFixture) -> None:
    assert "Sorry, something went wrong" not in r.text, r.text
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/f1 standings drivers " + "9" * 1900, f"`season` must be between 1950 and {NEXT_YEAR}"),
        ("/f1 standings drivers 99999999999999999999", f"between 1950 and {NEXT_YEAR}"),
        ("/f1 standings drivers 1800", f"`season` must be between 1950 and {NEXT_YEAR}, not `1800`"),
        ("/f1 standings drivers 3023", f"between 1950 and {NEXT_YEAR}, not `3023`"),
        ("/f1 standings drivers 2023 -3", "`round` must be between 1 and 30, not `-3`"),
        ("/f1 standings drivers 2023 round=9999999999", "`round` must be between 1 and 30"),
        ("/f1 pulse 100000", "`count` must be between 1 and 25"),  # the handler's own check
        ("/f1 pulse 99999999999", "`count` must be between 1 and 25, not `99999999999`"),
        ("/f1 schedule -2023", f"`season` must be between 1950 and {NEXT_YEAR}"),
    ],
)
async def test_integers_out_of_range_name_the_range(
    store_app: App, caplog: pytest.LogCaptureFixture, typed: str, expected: str
) -> None:
    caplog.set_level(logging.INFO)
    r = await ask(store_app, typed)
    _no_internal_error(r, caplog)
    assert expected in r.text and r.sent[0].ephemeral
    assert len(r.text) < 120  # short: a 1,900-digit number is not echoed back


async def test_out_of_range_option_from_a_platform_parser(
    store_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord parses options itself: an int beyond any store's integer is refused the same way."""
    caplog.set_level(logging.INFO)
    r = RecordingResponder()
    inc = incoming(kind="command")
    inc.command = CommandCall("standings", {"kind": "drivers", "season": 10**30})
    await store_app.dispatcher.handle(inc, r)
    _no_internal_error(r, caplog)
    assert f"`season` must be between 1950 and {NEXT_YEAR}" in r.text


async def test_in_range_still_answers(store_app: App) -> None:
    r = await ask(store_app, "/f1 standings drivers 2023 14")
    assert "Verstappen" in r.text and "round 14" in r.text


@pytest.mark.parametrize(
    "question",
    [
        "who won monza 2023?\ud800",
        "\udfffwho won \x00monza\x07 2023?",
        "who won mon\u200bza\u2060 2023?\ufeff",
        "who won \u202emonza\u202c 2023?",
    ],
)
async def test_junk_characters_in_a_question_are_dropped(
    store_app: App, caplog: pytest.LogCaptureFixture, question: str
) -> None:
    caplog.set_level(logging.INFO)
    r = await ask(store_app, question, conversation_id="thread-1")  # stored in the memory too
    _no_internal_error(r, caplog)
    assert "Verstappen" in r.text


async def test_junk_in_a_slash_option_is_dropped(
    store_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    r = RecordingResponder()
    inc = incoming(kind="command")
    inc.command = CommandCall("results", {"race": "mon\ud800za\x00 2023\u200b"})
    await store_app.dispatcher.handle(inc, r)
    _no_internal_error(r, caplog)
    assert "Verstappen" in r.text


def test_clean_keeps_meaningful_characters() -> None:
    assert clean("Pe\u0301rez") == "Pérez"  # NFC: the stored name matches
    assert clean("a\r\nb\tc") == "a\nb\tc"
    assert clean("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # ZWJ emoji sequence intact
    assert clean("\ud83d\x00x\u200b\u202e") == "x"
