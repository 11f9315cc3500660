"""Delivering evolving stories on SQLite and PostgreSQL: one post, then edits of that
message (FakePoster over the fake platform); a poster without `edit` posts each update;
rate limits, lost answers and refusals of an edit are handled like a post's."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from bot.pulse.deliver import Deliverer
from storage import pulse_store
from storage.pulse_models import FAILED, POSTED
from tests.fakes.pulse_platform import FakePlatform, FakePoster, PostOnlyPoster
from tests.pulse.story_rows import store_laps, told

T0 = 1_800_000_000.0
A, B = "console:local:a", "console:local:b"


async def _drain(dl: Deliverer, rounds: int = 100) -> int:
    total = 0
    for _ in range(rounds):
        n = await dl.run_once()
        if not n:
            return total
        total += n
    return total


async def test_a_story_of_three_messages_is_one_post_and_two_edits(
    engine: Engine, tmp_path: Path
) -> None:
    fl = store_laps(engine, "fastest_lap", range(10, 13))
    pulse_store.enqueue(engine, [told(c, h, "fastest_lap") for h in fl for c in (A, B)], now=T0)
    platform = FakePlatform(tmp_path / "platform.db")
    poster = FakePoster(platform)
    assert await _drain(Deliverer(engine, {"console": poster}, clock=lambda: T0 + 1)) == 6
    for channel in (A, B):
        ((mid, edits),) = platform.edit_counts(channel)  # one message per channel ...
        assert edits == 2  # ... edited twice, now telling the latest lap
        assert [t for _c, _n, t in platform.messages(channel)] == ["fastest_lap lap 12"]
        assert [(m, t) for c, m, t in poster.edits if c == channel] == [
            (mid, "fastest_lap lap 11"), (mid, "fastest_lap lap 12")]
        # Every row of the story records that message's id.
        assert [m for _k, m in pulse_store.posted_for_channel(engine, channel)] == [mid] * 3
    assert len(poster.hints) == 2  # posts: the two heads only


async def test_a_poster_without_edit_posts_each_update(engine: Engine, tmp_path: Path) -> None:
    fl = store_laps(engine, "fastest_lap", range(10, 13))
    pulse_store.enqueue(engine, [told(A, h, "fastest_lap") for h in fl], now=T0)
    platform = FakePlatform(tmp_path / "platform.db")
    inner = FakePoster(platform)
    assert await _drain(Deliverer(engine, {"console": PostOnlyPoster(inner)},
                                  clock=lambda: T0 + 1)) == 3
    assert [t for _c, _n, t in platform.messages(A)] == [
        "fastest_lap lap 10", "fastest_lap lap 11", "fastest_lap lap 12"]
    assert inner.edits == []


async def test_a_rate_limited_edit_is_retried_and_edits_once(engine: Engine, tmp_path: Path) -> None:
    fl = store_laps(engine, "battle", range(1, 3))
    pulse_store.enqueue(engine, [told(A, h, "battle:LEC:SAI") for h in fl], now=T0)
    now = [T0 + 1]
    platform = FakePlatform(tmp_path / "platform.db", min_interval_s=10.0, clock=lambda: now[0])
    poster = FakePoster(platform)
    dl = Deliverer(engine, {"console": poster}, clock=lambda: now[0])
    assert await dl.run_once() == 1  # the head
    assert await dl.run_once() == 0  # the edit: 429-like, released for 10 s
    assert platform.rate_limited == 1
    assert pulse_store.outbox_counts(engine, A) == {POSTED: 1, "pending": 1}
    now[0] += 5
    assert await dl.run_once() == 0  # the channel still waits
    now[0] += 5
    assert await dl.run_once() == 1
    ((mid, edits),) = platform.edit_counts(A)
    assert edits == 1 and [m for _k, m in pulse_store.posted_for_channel(engine, A)] == [mid, mid]


async def test_an_edit_whose_answer_was_lost_is_simply_edited_again(
    engine: Engine, tmp_path: Path
) -> None:
    fl = store_laps(engine, "battle", range(1, 3))
    pulse_store.enqueue(engine, [told(A, h, "battle:LEC:SAI") for h in fl], now=T0)
    now = [T0 + 1]
    platform = FakePlatform(tmp_path / "platform.db")

    def lose_second_answer(call: int) -> None:  # the edit reached the platform, the answer did not
        if call == 2:
            raise ConnectionResetError("answer lost")

    poster = FakePoster(platform, after=lose_second_answer)
    dl = Deliverer(engine, {"console": poster}, clock=lambda: now[0])
    assert await dl.run_once() == 1
    assert await dl.run_once() == 0  # released "maybe done", backing off
    now[0] += 60  # past the back-off and the short lease
    assert await dl.run_once() == 1
    ((mid, edits),) = platform.edit_counts(A)
    assert edits == 2 and len(platform.messages(A)) == 1  # edited twice, never re-posted
    assert [m for _c, m, _t in poster.edits] == [mid, mid]


async def test_an_edit_of_a_deleted_message_fails_like_a_refused_post(
    engine: Engine, tmp_path: Path
) -> None:
    fl = store_laps(engine, "battle", range(1, 3))
    pulse_store.enqueue(engine, [told(A, h, "battle:LEC:SAI") for h in fl], now=T0)
    platform = FakePlatform(tmp_path / "platform.db")
    poster = FakePoster(platform)
    dl = Deliverer(engine, {"console": poster}, clock=lambda: T0 + 1)
    assert await dl.run_once() == 1
    with platform._db() as db:  # a moderator deleted the story's message
        db.execute("DELETE FROM message")
    assert await dl.run_once() == 0
    assert pulse_store.outbox_counts(engine, A) == {POSTED: 1, FAILED: 1} and dl.failed == 1
