"""Model text cannot create a link on Discord (issue 14, item 4).

Unit level: the real renderer. End to end: the whole bot on the real discord.py
client and the fake Discord, the fake OpenAI server answering with a markdown link.
"""

from __future__ import annotations

import json
import re

import pytest

from adapters.console.render import render_plain
from adapters.discord.render import render, render_one
from bot.model import Card, CardField, Reply
from tests.discord.conftest import build_demo_app, running_bot
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer

# What Discord (or a terminal) would turn into a link: a masked link, a live address.
_MASKED = re.compile(r"\]\(")
_LIVE = re.compile(r"https?://|\bwww\.", re.I)

LINKY = [
    "[details](https://evil.example/login)",
    "[details](<https://evil.example/login>)",
    "<https://evil.example/login>",
    "see https://evil.example/login now",
    "see www.evil.example/login",
    "[x](javascript:alert(1))",
]


def _payload_text(out) -> str:
    return out.content + " " + json.dumps([e.to_dict() for e in out.embeds], ensure_ascii=False)


@pytest.mark.parametrize("text", LINKY)
def test_reply_text_renders_without_links(text: str) -> None:
    reply = Reply(
        text=f"Verstappen won. {text}",
        cards=[Card(title="Result", description=text, fields=[CardField("a", text)], footer=text)],
    )
    for out in [*render(reply), render_one(reply)]:
        shown = _payload_text(out)
        assert not _MASKED.search(shown) and not _LIVE.search(shown), shown
    assert "evil.example" in render(reply)[0].content or "alert" in render(reply)[0].content
    console = render_plain(reply)
    assert not _MASKED.search(console) and not _LIVE.search(console), console


def test_a_card_url_set_by_code_stays_a_link() -> None:
    (out,) = render(Reply(cards=[Card(title="Italian GP", url="https://www.formula1.com/")]))
    assert out.embeds[0].url == "https://www.formula1.com/"


async def test_model_markdown_link_reaches_discord_as_no_link(
    fake_discord: FakeDiscord, demo_url: str
) -> None:
    def reply_fn(body) -> str:
        prompt = " ".join(str(m.get("content")) for m in body.get("messages", []))
        found = re.search(r"https?://[^\s\"'<>)\]]+", prompt)
        url = found.group(0) if found else "https://evil.example/login"
        return f"Verstappen won the Italian Grand Prix. [Click for details]({url}) or {url}"

    async with FakeOpenAIServer(default=Behaviour(reply_fn=reply_fn)) as llm:
        app = build_demo_app(fake_discord, demo_url, llm_base_url=llm.base_url)
        async with running_bot(fake_discord, app.dispatcher) as bot:
            payload = fake_discord.interaction("ask", {"question": "who won monza 2023?"})
            await fake_discord.send_interaction(payload)
            await bot.wait_until(
                lambda: any(
                    "Verstappen" in (m.get("content") or "") and "▌" not in m["content"]
                    for m in fake_discord.messages.values()
                ),
                timeout_s=20,
            )
        assert llm.requests, "the model was asked"
    sent = [r for r in fake_discord.requests if r.method in ("POST", "PATCH") and r.json]
    assert sent
    for r in sent:
        shown = json.dumps(r.json, ensure_ascii=False)
        assert not _MASKED.search(shown) and not _LIVE.search(shown), shown
    await app.aclose()
