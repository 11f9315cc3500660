"""slack_manifest.yaml asks for what the adapter listens to and calls.

Read with a tiny indentation parser (the manifest is plain block YAML) so the
test needs no YAML library.
"""

from __future__ import annotations

import re
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / "slack_manifest.yaml"


def _list_under(text: str, key: str) -> list[str]:
    """The `- item` lines right under `key:` (comments stripped)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"{key}:":
            indent = len(line) - len(line.lstrip())
            items = []
            for nxt in lines[i + 1 :]:
                stripped = nxt.split("#", 1)[0].rstrip()
                if not stripped:
                    continue
                if len(nxt) - len(nxt.lstrip()) <= indent and not stripped.lstrip().startswith("-"):
                    break
                m = re.match(r"\s*-\s*(?:command:\s*)?(\S+)", stripped)
                if m:
                    items.append(m.group(1))
            return items
    raise AssertionError(f"{key} not in manifest")


def test_manifest_matches_the_adapter() -> None:
    text = MANIFEST.read_text()
    assert _list_under(text, "slash_commands") == ["/f1"]
    assert {"app_mention", "message.im", "message.channels", "message.groups"} <= set(
        _list_under(text, "bot_events")
    )
    scopes = set(_list_under(text, "bot"))
    needed = {
        "app_mentions:read",
        "im:history",
        "channels:history",
        "groups:history",
        "chat:write",
        "commands",
        "users:read",
        "files:write",
    }
    assert needed <= scopes, needed - scopes
    assert re.search(r"request_url: \S+/slack/events", text)
    assert re.search(r"url: \S+/slack/events", text)
    assert re.search(r"messages_tab_enabled: true", text)  # DMs reach the bot
