"""Reminders on Slack show each reader's local time (a trusted `<!date^…>` token), while
generated text stays fully escaped."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Engine, select

from adapters.slack import SlackPoster, make_web_client
from adapters.slack.render import render
from bot.model import Card, LocalTime, Reply
from bot.reminders import ReminderSender, reminder_reply
from storage.models import Event, Season
from storage.models import Session as RaceSession
from storage.reminders import ReminderInfo, enqueue_reminders
from storage.service_models import ReminderSent, ReminderSubscription
from tests.fakes.slack_server import FakeSlack
from tests.service.helpers import FakeClock, FilePoster, read_posts

START = dt.datetime(2023, 9, 3, 13, 0, tzinfo=dt.UTC)
UNIX = int(START.timestamp())
TOKEN = f"<!date^{UNIX}^{{date_short_pretty}} {{time}}|Sun 03 Sep 13:00 UTC>"
INFO = ReminderInfo(1, 2023, "Italian Grand Prix", "Race", START)


def _all_mrkdwn(msg) -> str:  # type: ignore[no-untyped-def]
    out = [msg.text]

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(msg.blocks)
    return "\n".join(out)


def test_slack_reminder_renders_a_local_date_token() -> None:
    reply = reminder_reply(INFO, 60)
    assert reply.local_times and TOKEN not in reply.text  # the token is not text
    (msg,) = render(reply)
    assert TOKEN in msg.text  # notification text
    assert msg.blocks[0]["text"]["text"] == (
        f"⏱️ *2023 Italian Grand Prix: Race* starts in 1 hour, {TOKEN}."
    )
    assert "SLIPTIME" not in _all_mrkdwn(msg)
    # Any other platform's renderer gets the same message in UTC.
    assert reply.with_utc_times().text.endswith("starts in 1 hour, Sun 03 Sep 13:00 UTC.")


def test_generated_text_cannot_produce_tokens_or_pings() -> None:
    model_text = ("<!channel> race soon <!here> <@U123> <!date^1^{time}|x> "
                  "SLIPTIME0123456789abcdefZ @everyone")
    # Plain replies: everything escaped, no Slack control sequence at all.
    for msg in render(Reply(text=model_text, cards=[Card(title="t", description=model_text)])):
        assert re.search(r"<[!@#]", _all_mrkdwn(msg)) is None
        assert "&lt;!channel&gt;" in _all_mrkdwn(msg)
    # Even inside a trusted reminder, only the reply's own marker becomes a token: text that
    # looks like a marker (it cannot know the random one) or like a token stays inert.
    lt = LocalTime.new(START)
    timed = Reply(text=f"{model_text} at {lt.marker}", local_times=(lt,),
                       cards=[Card(title=f"Start {lt.marker}", description=model_text)])
    (msg,) = render(timed)
    text = _all_mrkdwn(msg)
    assert re.findall(r"<[!@#][^>]*>", text) == [TOKEN, TOKEN]  # top-level text + section
    assert "&lt;!channel&gt;" in text and "&lt;!date^1^{time}|x&gt;" in text
    assert "SLIPTIME0123456789abcdefZ" in text  # a guessed marker is left alone
    headers = [b for b in msg.blocks if b["type"] == "header"]
    assert headers and headers[0]["text"]["text"] == "Start Sun 03 Sep 13:00 UTC"  # plain_text


def _weekend(engine: Engine, channels: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(Season.__table__.insert(), [{"year": 2023}])
        conn.execute(Event.__table__.insert(),
                     [{"id": 1, "year": 2023, "round": 14, "name": "Italian Grand Prix"}])
        conn.execute(RaceSession.__table__.insert(), [
            {"id": 1, "event_id": 1, "type": "R", "name": "Race", "start_utc": START,
             "status": "scheduled"}])
        conn.execute(ReminderSubscription.__table__.insert(), [
            {"channel_id": c, "session_types": "R", "offsets_min": "60", "active": True}
            for c in channels])


async def test_reminder_through_slack_poster_and_a_plain_poster(
    engine: Engine, fake_slack: FakeSlack, tmp_path
) -> None:
    _weekend(engine, ["slack:T0TEST:C0REM"])
    now = START - dt.timedelta(minutes=60)
    assert enqueue_reminders(engine, 1, 60, now) == 1
    client = make_web_client("xoxb-test-token", base_url=fake_slack.api_url, rate_limit_retries=0)
    sender = ReminderSender(engine, {"slack": SlackPoster(client)}, clock=FakeClock(now))
    assert await sender.run_once() == 1
    (post,) = fake_slack.posts("C0REM")
    assert TOKEN in post.args["text"] and TOKEN in post.all_text()
    assert "SLIPTIME" not in post.all_text()
    # A poster that does not render local times (here: one recording to a file) gets UTC.
    with engine.begin() as conn:
        conn.execute(ReminderSent.__table__.delete())
    assert enqueue_reminders(engine, 1, 60, now) == 1
    path = tmp_path / "posts.jsonl"
    plain = ReminderSender(engine, {"slack": FilePoster("slack", path)}, clock=FakeClock(now))
    assert await plain.run_once() == 1
    (line,) = read_posts(path)
    assert line["text"].endswith("starts in 1 hour, Sun 03 Sep 13:00 UTC.")


async def test_reminder_retried_after_a_crash_is_not_posted_twice(
    engine: Engine, fake_slack: FakeSlack
) -> None:
    _weekend(engine, ["slack:T0TEST:C0REM"])
    now = START - dt.timedelta(minutes=60)
    enqueue_reminders(engine, 1, 60, now)
    client = make_web_client("xoxb-test-token", base_url=fake_slack.api_url, rate_limit_retries=0)
    # A sender claimed the row, Slack took the post, and the sender died before recording it.
    dying = ReminderSender(engine, {"slack": SlackPoster(client)}, clock=FakeClock(now))
    (row,) = dying._claim()
    assert row.info is not None
    await SlackPoster(client).post(
        row.channel_id, reminder_reply(row.info, 60, now), idempotency_key=row.idempotency_key,
    )
    later = FakeClock(now + dt.timedelta(minutes=2))  # the dead claim has expired
    restarted = ReminderSender(engine, {"slack": SlackPoster(client)}, clock=later)
    assert await restarted.run_once() == 1
    assert len(fake_slack.posts("C0REM")) == 1  # found in history, not posted again
    assert fake_slack.calls_to("conversations.history")
    with engine.connect() as conn:
        status, mid = conn.execute(select(ReminderSent.status, ReminderSent.message_id)).one()
    assert status == "sent" and mid == fake_slack.posts("C0REM")[0].response["ts"]
