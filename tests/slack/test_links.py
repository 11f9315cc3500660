"""Model text cannot create a link on Slack (issue 14, item 4).

Unit level: the real renderer on link-bearing text. End to end: the whole bot
behind the real Bolt app, the fake OpenAI server answering with a markdown link,
and the fake Slack recording everything we send.
"""

from __future__ import annotations

import re

import pytest

from adapters.slack.render import render, to_mrkdwn
from bot.model import Card, CardField, Reply
from tests.fakes.openai_server import Behaviour, FakeOpenAIServer
from tests.fakes.slack_server import mention_event

# A live link in what we send: Slack link markup, or an address Slack would auto-link.
_LIVE = re.compile(r"<(?:https?|mailto|javascript):|https?://|\bwww\.", re.I)

LINKY = [
    "[details](https://evil.example/login)",
    "<https://evil.example/login|details>",
    "see https://evil.example/login now",
    "see www.evil.example/login",
    "[x](<https://evil.example/login>)",
    "`https://evil.example/in-code`",
    "```\nhttps://evil.example/in-fence\n```",
]


def _texts(node) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("text", LINKY)
def test_reply_text_renders_without_links(text: str) -> None:
    reply = Reply(
        text=f"Verstappen won. {text}",
        cards=[Card(title="www.evil.example", description=text, fields=[CardField("a", text)],
                    footer=text)],
        suggestions=["https://evil.example/s"],
    )
    for msg in render(reply):
        for s in [msg.text, *_texts(msg.blocks)]:
            assert not _LIVE.search(s), s
        for block in msg.blocks:
            for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
                if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                    assert obj["verbatim"] is True  # Slack must not auto-link either
    assert "evil.example/login" in to_mrkdwn(text) or "in-code" in text or "in-fence" in text


def test_a_card_url_set_by_code_stays_a_link() -> None:
    (msg,) = render(Reply(cards=[Card(title="Italian GP", url="https://www.formula1.com/")]))
    assert "<https://www.formula1.com/|Italian GP>" in msg.blocks[0]["text"]["text"]


async def test_model_markdown_link_reaches_slack_as_no_link(start_slack, demo_app) -> None:
    # Echo an address the prompt holds, if any (the guard lets that through, the renderer must
    # still make it inert), else plant one the guard must refuse.
    def reply_fn(body) -> str:
        prompt = " ".join(str(m.get("content")) for m in body.get("messages", []))
        found = re.search(r"https?://[^\s\"'<>)\]]+", prompt)
        url = found.group(0) if found else "https://evil.example/login"
        return f"Verstappen won the Italian Grand Prix. [Click for details]({url}) or {url}"

    async with FakeOpenAIServer(default=Behaviour(reply_fn=reply_fn)) as llm:
        app = await demo_app(llm_base_url=llm.base_url)
        run = await start_slack(app.dispatcher)
        await run.event(mention_event("who won monza 2023?"))
        await run.fake.wait_calls("chat.postMessage", timeout_s=10)
        await run.settle()
        assert llm.requests, "the model was asked"
    sent = [c for c in run.fake.calls if c.method.startswith("chat.")]
    assert sent
    for call in sent:
        for s in [str(call.args.get("text", "")), *_texts(call.blocks())]:
            assert not _LIVE.search(s), s
    assert "Verstappen" in sent[-1].all_text()
