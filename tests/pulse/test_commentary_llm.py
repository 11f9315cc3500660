"""Track Pulse commentary through the LLM path, against a real HTTP server speaking the
OpenAI API: good text is used, invented numbers are rejected and the template is used."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from bot.llm import LLMClient
from bot.prompting import Style
from bot.pulse.commentary import Commentator
from bot.pulse.pipeline import enqueue_for_subscribers
from bot.pulse.types import PulseHighlight
from storage import pulse_store
from storage.pulse_models import PulseDelivery
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer, openai_server  # noqa: F401
from tests.pulse.conftest import TEAMS, add_race_session

STYLE = Style(tone="neutral", length="short", language="en")
# The template says "**Lap 15 · Lead change** — VER takes the lead from SAI on track."
GOOD = "Lap 15: VER takes the lead from SAI on track."
INVENTED = "Lap 15: VER passes SAI for the lead, 2.7 seconds clear after 3 laps of pressure."


@pytest.fixture
async def llm(openai_server: FakeOpenAIServer) -> AsyncIterator[LLMClient]:  # noqa: F811
    client = LLMClient(base_url=openai_server.base_url, timeout_s=5.0, max_concurrency=2)
    yield client
    await client.aclose()


@pytest.fixture
def lead_change(monza_highlights: list[PulseHighlight]) -> PulseHighlight:
    return next(h for h in monza_highlights if h.key == "lead_change:15:VER")


async def test_good_llm_text_is_used(openai_server: FakeOpenAIServer, llm: LLMClient,  # noqa: F811
                                     lead_change: PulseHighlight) -> None:
    openai_server.script(GOOD)
    text = await Commentator(llm=llm).write([lead_change], STYLE)
    assert text == GOOD
    (req,) = openai_server.requests
    prompt = "\n".join(str(m.get("content")) for m in req.messages)
    # The model was given the template text's claims and the channel's style.
    assert "Lap 15" in prompt and "VER takes the lead from SAI" in prompt and "live-ticker" in prompt
    assert "one sentence" in prompt


async def test_invented_numbers_fall_back_to_the_template(
    openai_server: FakeOpenAIServer, llm: LLMClient, lead_change: PulseHighlight  # noqa: F811
) -> None:
    openai_server.script(INVENTED, INVENTED)  # the first answer and the one fresh attempt
    commentator = Commentator(llm=llm)
    text = await commentator.write([lead_change], STYLE)
    template = Commentator().template_text([lead_change], STYLE)
    assert text == template
    assert "2.7" not in text and "3 laps" not in text
    assert len(openai_server.requests) == 2  # guard rejected, one fresh attempt, then gave up
    # A fresh attempt that comes back clean is accepted.
    openai_server.script(INVENTED, GOOD)
    assert await commentator.write([lead_change], STYLE) == GOOD


async def test_model_down_still_queues_template_text(
    engine: Engine, openai_server: FakeOpenAIServer, llm: LLMClient,  # noqa: F811
    lead_change: PulseHighlight,
) -> None:
    """Through the pipeline: one LLM call per style shared by channels; a failing model
    leaves the template text in the outbox, never an empty or unguarded message."""
    sid = add_race_session(engine)
    stored = pulse_store.save_highlights(engine, sid, [lead_change], teams=TEAMS)
    for ch in ("console:local:a", "console:local:b"):
        pulse_store.subscribe(engine, ch, min_priority="high")
    pulse_store.subscribe(engine, "console:local:c", min_priority="high", tone="casual")
    openai_server.script(GOOD, Behaviour(status=500), Behaviour(status=500))
    n = await enqueue_for_subscribers(engine, stored, session_type="R",
                                      commentator=Commentator(llm=llm), now=time.time())
    assert n == 3
    with engine.connect() as conn:
        texts = dict(conn.execute(
            PulseDelivery.__table__.select().with_only_columns(
                PulseDelivery.channel_id, PulseDelivery.text)
        ).all())
    assert texts["console:local:a"] == texts["console:local:b"] == GOOD
    casual = Style(tone="casual", length="short", language="en")
    assert texts["console:local:c"] == Commentator().template_text([lead_change], casual)
