"""StreamingReply: throttled edits, continuation before the limit, warnings keep partial text."""

from __future__ import annotations

from bot.errors import RateLimited
from bot.model import PlatformLimits, Reply
from bot.streaming import CURSOR, PLACEHOLDER, WARNING_PREFIX, StreamingReply, split_text
from tests.llm.conftest import FakeClock, RecordingResponder


async def test_placeholder_then_edits_at_most_once_per_interval() -> None:
    clock = FakeClock()
    resp = RecordingResponder(limits=PlatformLimits(max_text=2000, edit_interval_s=1.0))
    s = StreamingReply(resp, clock=clock)
    await s.start()
    assert resp.events[0][0] == "send" and resp.events[0][2].text == PLACEHOLDER

    await s.push("Max ")  # first text replaces the placeholder at once
    assert resp.messages["m1"].text == "Max" + CURSOR
    for word in ["Verstappen ", "won ", "the ", "race."]:  # all within the same second
        clock.advance(0.2)
        await s.push(word)
    edits = [e for e in resp.events if e[0] == "edit"]
    assert len(edits) == 1  # throttled: nothing more shown yet
    clock.advance(0.3)  # 1.1 s since the first edit
    await s.push(" More")
    assert len([e for e in resp.events if e[0] == "edit"]) == 2
    assert resp.messages["m1"].text == "Max Verstappen won the race. More" + CURSOR

    await s.finish(suggestions=["Who was second?"])
    final = resp.messages["m1"]
    assert final.text == "Max Verstappen won the race. More" and final.suggestions == [
        "Who was second?"
    ]
    assert len(resp.messages) == 1

    # Over a long stream, edits never come faster than the interval.
    clock2, resp2 = FakeClock(), RecordingResponder()
    s2 = StreamingReply(resp2, clock=clock2)
    for _ in range(100):
        clock2.advance(0.05)  # 20 tokens / s for 5 s
        await s2.push("word ")
    edits2 = len([e for e in resp2.events if e[0] == "edit"])
    assert 4 <= edits2 <= 6


async def test_continues_in_a_new_message_before_the_limit() -> None:
    clock = FakeClock()
    resp = RecordingResponder(limits=PlatformLimits(max_text=100, edit_interval_s=0.0))
    s = StreamingReply(resp, clock=clock)
    words = [f"word{i:02d} " for i in range(40)]  # 280 chars
    for w in words:
        clock.advance(0.01)
        await s.push(w)
    await s.finish()
    texts = resp.final_texts()
    assert len(texts) >= 3
    assert all(len(t) <= 100 for t in resp.shown_texts())  # never over the limit, cursor included
    assert " ".join(texts).split() == "".join(words).split()  # nothing lost, nothing doubled
    # A continued message is final: it was never edited after the next one was sent.
    first_send_of_m2 = next(i for i, e in enumerate(resp.events) if e[0] == "send" and e[1] == "m2")
    assert all(not (e[0] == "edit" and e[1] == "m1") for e in resp.events[first_send_of_m2 + 1 :])


async def test_fail_appends_a_warning_to_the_partial_text() -> None:
    resp = RecordingResponder()
    s = StreamingReply(resp, clock=FakeClock())
    await s.push("Verstappen won ")
    await s.fail("The answer was cut short.")
    assert (
        resp.messages["m1"].text == f"Verstappen won\n\n{WARNING_PREFIX}The answer was cut short."
    )

    resp2 = RecordingResponder()
    s2 = StreamingReply(resp2, clock=FakeClock())
    await s2.start()
    await s2.fail("No answer.")
    assert resp2.messages["m1"].text == f"{WARNING_PREFIX}No answer."


async def test_final_text_replaces_a_longer_stream() -> None:
    resp = RecordingResponder(limits=PlatformLimits(max_text=60, edit_interval_s=0.0))
    clock = FakeClock()
    s = StreamingReply(resp, clock=clock)
    for i in range(30):
        clock.advance(0.01)
        await s.push(f"w{i} ")
    assert len(resp.messages) >= 2
    await s.reset()
    await s.finish("Short fallback answer.")
    texts = resp.final_texts()
    assert texts[0] == "Short fallback answer."
    assert all(t == "(see above)" for t in texts[1:])


async def test_platform_without_edits_gets_one_message_at_the_end() -> None:
    resp = RecordingResponder(editable=False)
    s = StreamingReply(resp, clock=FakeClock())
    for w in ["Max ", "Verstappen ", "won."]:
        await s.push(w)
    assert [e[0] for e in resp.events] == ["send"]  # only the placeholder so far
    await s.finish()
    assert resp.events[-1][2].text == "Max Verstappen won."
    assert not [e for e in resp.events if e[0] == "edit"]


async def test_rate_limited_edit_is_skipped_mid_stream() -> None:
    class Throttled(RecordingResponder):
        fail_next = True

        async def edit(self, message_id: str, reply: Reply) -> None:
            if self.fail_next and reply.text.endswith(CURSOR):
                self.fail_next = False
                raise RateLimited(0.5)
            await super().edit(message_id, reply)

    resp = Throttled()
    clock = FakeClock()
    s = StreamingReply(resp, clock=clock)
    await s.push("a ")  # throttled by the platform: skipped, no exception
    clock.advance(2)
    await s.push("b ")
    await s.finish()
    assert resp.messages["m1"].text == "a b"


def test_split_text_is_stable_on_prefixes() -> None:
    text = " ".join(f"w{i}" for i in range(200))
    full = split_text(text, 50)
    for n in range(60, len(text), 37):
        prefix_chunks = split_text(text[:n], 50)
        assert prefix_chunks[:-1] == full[: len(prefix_chunks) - 1]
    assert all(len(c) <= 50 for c in full)
    assert split_text("x" * 120, 50) == ["x" * 50, "x" * 50, "x" * 20]  # one long word
