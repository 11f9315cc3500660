"""Commentary templates for every style, bursts, the CLI replay and /f1 pulse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.prompting import Style
from bot.pulse.commentary import Commentator, group_bursts
from bot.pulse.stories import tell
from bot.pulse.types import PulseHighlight
from storage.pulse_types import INTERNAL_KINDS


@pytest.mark.parametrize("tone", ["casual", "technical", "neutral"])
@pytest.mark.parametrize("length", ["short", "medium", "long"])
def test_every_highlight_renders_in_every_style(monza_highlights: list[PulseHighlight], tone: str,
                                                length: str) -> None:
    c = Commentator()
    style = Style(tone=tone, length=length, language="en")  # type: ignore[arg-type]
    told = tell(monza_highlights)  # every highlight, as headlines, stories and digests
    assert {h.key for t in told for h in t.new} == {
        h.key for h in monza_highlights if h.kind not in INTERNAL_KINDS}
    for t in told:
        text = c.template_text(t.items, style, window=t.window, story=bool(t.story))
        assert text and "None" not in text and "{{" not in text
        # Headed by the lap it is told at: a channel never sees a lap label go backwards.
        if t.window:
            assert text.startswith(f"**Laps {t.window[0]}–{t.window[1]}**")
        elif len(t.items) == 1 and t.items[0].lap:
            assert text.startswith(f"**Lap {t.told_lap} ·")
    lead = next(h for h in monza_highlights if h.key == "lead_change:15:VER")
    assert "VER takes the lead from SAI" in c.template_text([lead], style)


def test_bursts_and_language_fallback(monza_highlights: list[PulseHighlight]) -> None:
    groups = group_bursts(monza_highlights)
    lap20 = next(g for g in groups if g[0].kind == "pit_stop" and g[0].lap == 20)
    assert {h.facts["driver"] for h in lap20} == {"VER", "LEC", "STR"}
    text = Commentator().template_text(lap20, Style(length="short"))
    # Told on lap 21, when the out-laps are done (the in-laps were lap 20).
    assert text.splitlines()[0] == "**Lap 21 · 3 pit stops**" and len(text.splitlines()) == 4
    assert sum(len(g) for g in groups) == len(monza_highlights)  # bursts lose nothing
    de = Commentator().template_text(lap20, Style(language="de"))
    assert "German" in de and "3 pit stops" in de


def test_cli_replay_json_and_recent(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from slipstream.cli import _register_all, app

    monkeypatch.setenv("DATABASE_URL", demo_url)
    _register_all()
    runner = CliRunner()
    res = runner.invoke(app, ["pulse", "replay", "--year", "2023", "--event", "monza", "--json",
                              "--min-priority", "high"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert {"key", "kind", "lap", "drivers", "priority", "text"} <= set(rows[0])
    assert any(r["key"] == "lead_change:15:VER" and "VER" in r["text"] for r in rows)
    assert all(r["priority"] in ("high", "critical") for r in rows)
    laps = [r["lap"] for r in rows if r["kind"] == "lead_change"]
    assert laps == sorted(laps)
    res = runner.invoke(app, ["pulse", "recent", "--limit", "3"])
    assert res.exit_code == 0 and "Lap 51" in res.output
    res = runner.invoke(app, ["pulse", "replay", "--year", "2023", "--event", "atlantis"])
    assert res.exit_code == 2 and "no 2023 event matches" in res.output


async def test_f1_pulse_command(demo_url: str, tmp_path: Path) -> None:
    from bot.app import BotDeps, CommandContext
    from bot.commands.pulse import register
    from bot.errors import UserError
    from bot.model import ChannelRef, Incoming, UserRef
    from bot.pulse.pipeline import detect_session
    from bot.registry import Registry
    from bot.settings import Settings
    from storage.db import make_engine
    from storage.pulse_store import find_session
    from storage.store import Store

    engine = make_engine(demo_url)
    detect_session(engine, find_session(engine, 2023, "Monza", "R"))
    reg = Registry()
    register(reg)
    cmd = reg.get("pulse")
    assert cmd is not None
    deps = BotDeps(settings=Settings(database_url=demo_url), store=Store(engine), registry=reg)
    ch = ChannelRef(platform="console", id="console:local:t")
    ctx = CommandContext(incoming=Incoming(event_id="1", channel=ch, user=UserRef("console", "console:u")),
                         deps=deps, responder=None)  # type: ignore[arg-type]
    reply = await cmd.handler(ctx, count=3, priority="critical")
    assert "Track Pulse" in reply.text and "VER wins the Italian Grand Prix" in reply.text
    with pytest.raises(UserError):
        await cmd.handler(ctx, count=99, priority="low")
    engine.dispose()
