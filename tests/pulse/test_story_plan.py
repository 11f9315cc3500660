"""What a channel is told of the real Monza 2023 race (bundled demo, no shared data needed):
headlines, evolving stories, digests; the same lap by lap as in one go; in lap order."""

from __future__ import annotations

import time

from sqlalchemy import Engine

from bot.prompting import Style
from bot.pulse.commentary import Commentator
from bot.pulse.detectors import detect, detect_all
from bot.pulse.pipeline import enqueue_for_subscribers
from bot.pulse.state import RaceFeed
from bot.pulse.stories import DIGEST_LAPS, Told, new_messages, role, tell
from bot.pulse.types import Priority, PulseHighlight
from storage import pulse_store
from tests.pulse.conftest import TEAMS, add_race_session


def _medium(h: PulseHighlight) -> bool:
    return h.priority >= Priority.MEDIUM


def _shape(told: list[Told]) -> list[tuple[int, str, str | None, tuple[str, ...]]]:
    return [(t.told_lap, t.kind, t.story, tuple(h.key for h in t.new)) for t in told]


def test_lap_by_lap_is_told_like_the_whole_race(monza_feed: RaceFeed) -> None:
    """A live run (one detection and one plan per lap, reading what was stored before) gives
    a channel the same messages, in the same order, as planning the finished race."""
    whole = tell(detect_all(monza_feed), wants=_medium)
    state, stored, live = None, [], []
    for n in range(1, monza_feed.last_lap + 1):
        view = monza_feed.upto(n) if n < monza_feed.last_lap else monza_feed
        new, state = detect(view, state)
        stored += new
        live += tell(new, session=stored, wants=_medium)
    assert _shape(live) == _shape(whole)


def test_default_floor_tells_the_race_in_lap_order(monza_highlights: list[PulseHighlight]) -> None:
    told = tell(monza_highlights, wants=_medium)
    laps = [t.told_lap for t in told]
    assert laps == sorted(laps)
    kinds = [t.kind for t in told]
    # The headlines a fan expects, once each: the start (with who leads it), the lead change,
    # the result and what it means for the title.
    assert kinds[0] in ("start", "lead_change") and kinds[-2:] == ["result", "championship"]
    lead = [t for t in told if any(h.key == "lead_change:15:VER" for h in t.new)]
    assert len(lead) == 1 and not lead[0].window
    # Digests hold the rest, one per window of DIGEST_LAPS, told at the window's end.
    digests = [t for t in told if t.window]
    assert digests and all(t.told_lap == t.window[1] for t in digests)
    assert all(t.window[1] - t.window[0] < DIGEST_LAPS for t in digests)
    delivered = [h.key for t in told for h in t.new]
    assert len(delivered) == len(set(delivered))  # each highlight once
    assert set(delivered) == {h.key for h in monza_highlights if _medium(h) and role(h) != "marker"}
    assert new_messages(told) <= 25, _shape(told)


def test_fastest_lap_is_one_story_from_lap_ten(monza_highlights: list[PulseHighlight]) -> None:
    fl = [h for h in monza_highlights if h.kind == "fastest_lap"]
    assert fl and all(h.lap >= 10 and h.facts["story"] == "fastest_lap" for h in fl)
    assert fl[-1].facts["driver"] == "PIA" and fl[-1].lap == 43  # the race's fastest lap
    told = [t for t in tell(monza_highlights) if t.story == "fastest_lap"]
    assert len(told) == len(fl) and len({t.story for t in told}) == 1


def test_digest_text_lists_what_it_folds(monza_highlights: list[PulseHighlight]) -> None:
    told = tell(monza_highlights, wants=_medium)
    digest = next(t for t in told if t.window and any(h.kind == "pit_stop" for h in t.items))
    text = Commentator().template_text(digest.items, Style(length="medium"), window=digest.window)
    assert text.startswith(f"**Laps {digest.window[0]}–{digest.window[1]}**")
    for h in digest.items:
        if h.kind == "pit_stop":
            assert h.facts["driver"] in text and "Pit stops:" in text


def test_unfolded_channel_gets_each_highlight(monza_highlights: list[PulseHighlight]) -> None:
    """A channel that chose kinds or drivers asked for exactly those: no digest."""
    told = tell(monza_highlights, wants=lambda h: h.kind == "pit_stop", fold=False)
    assert told and not any(t.window for t in told)
    assert sorted(h.key for t in told for h in t.new) == sorted(
        h.key for h in monza_highlights if h.kind == "pit_stop")


async def test_pipeline_queues_digests_and_story_edits(engine: Engine,
                                                       monza_feed: RaceFeed) -> None:
    """Through the real store: lap-by-lap runs queue each digest once, when its window
    closes, and a story's later chapters as edits of its first message."""
    sid = add_race_session(engine)
    pulse_store.subscribe(engine, "console:local:fan", min_priority="medium")
    state, now, total = None, time.time(), 0
    for n in range(1, monza_feed.last_lap + 1):
        view = monza_feed.upto(n) if n < monza_feed.last_lap else monza_feed
        new, state = detect(view, state)
        stored = pulse_store.save_highlights(engine, sid, new, teams=TEAMS, now=now)
        total += await enqueue_for_subscribers(
            engine, stored, session_type="R", commentator=Commentator(), now=now,
            session=pulse_store.session_highlights(engine, sid))
    whole = tell(detect_all(monza_feed), wants=_medium)
    assert total == len(whole)
    rows = pulse_store.posted_for_channel(engine, "console:local:fan")
    assert rows == []  # queued, not posted yet
    counts = pulse_store.outbox_counts(engine, "console:local:fan")
    assert counts.get("pending") == len(whole)
