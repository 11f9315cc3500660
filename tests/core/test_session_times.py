"""`/f1 next` and `/f1 schedule` show session times in each platform's time markup.

Issue 14 item 8: the times were UTC text with a countdown frozen at send time. Now the
reply carries `LocalTime`s and each real renderer shows them: Discord `<t:…:F> (<t:…:R>)`,
Slack `<!date^…>`, the console UTC and local time. With nothing after now, the answer
says until when the stored calendar runs and what refreshes it. The expected instants are
read from the bundled demo's `races.csv`, not from our store.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import importlib
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.console.render import render_plain
from adapters.discord.render import render as discord_render
from bot import messages as m
from bot.model import ChannelRef, Incoming, PlatformLimits, Reply, UserRef

slack_render = importlib.import_module("adapters.slack.render").render

DEMO_RACES = Path(__file__).resolve().parents[2] / "slipstream" / "demo_data" / "ergast" / "races.csv"
SESSION_COLUMNS = ("fp1", "fp2", "fp3", "quali", "sprint", "")


def demo_session_starts() -> list[dt.datetime]:
    """Every session start in the demo calendar (UTC), from the CSV."""
    out: list[dt.datetime] = []
    with open(DEMO_RACES, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for col in SESSION_COLUMNS:
                day, time = row[f"{col}_date" if col else "date"], row[f"{col}_time" if col else "time"]
                if day != "\\N" and time != "\\N":
                    out.append(dt.datetime.fromisoformat(f"{day}T{time}+00:00"))
    return sorted(out)


class Collect:
    limits = PlatformLimits(max_text=2000, edit_interval_s=0.0)

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def defer(self) -> None:
        pass

    async def send(self, reply: Reply) -> str | None:
        self.sent.append(reply)
        return str(len(self.sent))

    async def edit(self, message_id: str, reply: Reply) -> None:
        self.sent[int(message_id) - 1] = reply


def run(url: str, now: dt.datetime, text: str) -> Reply:
    """One `/f1 <text>` through the wired dispatcher, with the clock at `now`."""
    from bot.settings import Settings
    from slipstream.wiring import build_app

    async def go() -> Reply:
        app = build_app(Settings(_env_file=None, database_url=url, llm_base_url=None,  # type: ignore[call-arg]
                                 rate_user_per_min=0, rate_channel_per_min=0), clock=lambda: now)
        try:
            r = Collect()
            await app.dispatcher.handle(Incoming(
                event_id="e1", channel=ChannelRef("console", "console:local:t"),
                user=UserRef("console", "console:u"), text=text, kind="command"), r)  # type: ignore[arg-type]
            assert len(r.sent) == 1
            return r.sent[0]
        finally:
            await app.aclose()

    return asyncio.run(go())


NOW = dt.datetime(2023, 8, 1, 12, 0, tzinfo=dt.UTC)


def test_next_on_discord_slack_and_console(demo_store_url: str) -> None:
    start = next(s for s in demo_session_starts() if s >= NOW)  # Dutch GP 2023, first practice
    unix = int(start.timestamp())
    reply = run(demo_store_url, NOW, "next")
    assert [t.unix for t in reply.local_times] == [unix]
    assert "Dutch Grand Prix" in reply.text

    discord = "\n".join(msg.content for msg in discord_render(reply))
    assert f"<t:{unix}:F> (<t:{unix}:R>)" in discord
    slack = slack_render(reply)
    section = slack[0].blocks[0]["text"]["text"]
    assert f"<!date^{unix}^{{date_short_pretty}} {{time}}|Fri 25 Aug 10:30 UTC>" in section
    console = render_plain(reply, now=NOW, tz=ZoneInfo("Europe/Amsterdam"))
    assert "Fri 25 Aug 10:30 UTC / Fri 25 Aug 12:30 CEST (in 24 days)" in console
    # The UTC-only terminal shows the UTC time once, and no output holds a raw marker.
    assert "Fri 25 Aug 10:30 UTC (in " in render_plain(reply, now=NOW, tz=dt.UTC)
    marker = reply.local_times[0].marker
    assert marker not in discord + section + slack[0].text + console


def test_schedule_lists_upcoming_sessions_with_markup(demo_store_url: str) -> None:
    starts = [s for s in demo_session_starts() if s >= NOW][:15]
    reply = run(demo_store_url, NOW, "schedule")
    assert [t.at for t in reply.local_times] == starts
    description = "\n".join(e.description or "" for msg in discord_render(reply) for e in msg.embeds)
    for s in starts:
        assert f"<t:{int(s.timestamp())}:F> (<t:{int(s.timestamp())}:R>)" in description
    assert "```" not in description  # time markup does not render inside code
    sections = [b["text"]["text"] for msg in slack_render(reply) for b in msg.blocks if b["type"] == "section"]
    assert sum(s.count("<!date^") for s in sections) == len(starts)


def test_season_schedule_marks_done_races(demo_store_url: str) -> None:
    reply = run(demo_store_url, NOW, "schedule 2023")
    lines = reply.cards[0].description.split("\n")
    assert len(lines) == 22 and len(reply.local_times) == 22  # the 22 races of 2023
    assert lines[0].endswith(m.SCHEDULE_DONE) and not lines[-1].endswith(m.SCHEDULE_DONE)


def test_next_with_a_stale_calendar_says_until_when_and_how_to_refresh(demo_store_url: str) -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    last = demo_session_starts()[-1]
    for text in ("next", "schedule"):
        reply = run(demo_store_url, now, text)
        assert reply.text == m.CALENDAR_ENDS.format(
            now="2026-03-01 00:00 UTC", end=last.strftime("%Y-%m-%d %H:%M UTC"),
            event="2023 Abu Dhabi Grand Prix", year=2026)
        assert "slipstream ingest --year 2026" in reply.text


def test_next_on_an_empty_store_says_how_to_load_a_calendar(db_url: str) -> None:
    from storage.db import init_db, make_engine

    engine = make_engine(db_url)
    try:
        init_db(engine)
    finally:
        engine.dispose()
    reply = run(db_url, dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "next")
    assert reply.text == m.NO_CALENDAR.format(year=2026)


def test_free_questions_about_the_calendar_get_the_commands_reply(demo_store_url: str) -> None:
    """"when is the next race?" is the same plan as `/f1 schedule`: session times in each
    platform's markup, never a model's UTC text; a season named is that season's calendar."""
    upcoming = [s for s in demo_session_starts() if s >= NOW][:5]
    for text in ("ask when is the next race?", "ask whens the next session", "ask upcoming races"):
        reply = run(demo_store_url, NOW, text)
        assert [t.unix for t in reply.local_times] == [int(s.timestamp()) for s in upcoming], text
        discord = "\n".join(msg.content + "".join(e.description or "" for e in msg.embeds)
                            for msg in discord_render(reply))
        assert f"<t:{int(upcoming[0].timestamp())}:F>" in discord, text
    season = run(demo_store_url, NOW, "ask what's the 2023 race calendar")
    races = [dt.datetime.fromisoformat(f"{r['date']}T{r['time']}+00:00") for r in
             csv.DictReader(open(DEMO_RACES, newline="", encoding="utf-8")) if r["year"] == "2023"]
    assert [t.at for t in season.local_times] == sorted(races)
    assert "(done)" in season.cards[0].description  # races before NOW are marked
