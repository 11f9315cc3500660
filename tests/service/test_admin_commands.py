"""Moderator commands through the real dispatcher: validation, refusal, storage, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from adapters.console.responder import ConsoleResponder
from bot.commands.admin import install_hooks
from bot.model import ChannelRef, Incoming, Privilege, Reply, UserRef
from bot.settings import Settings
from slipstream.wiring import App, build_app
from storage import pulse_store
from storage.service_models import AuditLog, ChannelSetting, ReminderSubscription

CHANNEL = ChannelRef("slack", "slack:T1:C9", name="f1")
MOD = UserRef("slack", "slack:T1:UMOD", name="mod", privilege=Privilege.MODERATOR)
ADMIN = UserRef("slack", "slack:T1:UADM", name="admin", privilege=Privilege.ADMIN)
FAN = UserRef("slack", "slack:T1:UFAN", name="fan")


@pytest.fixture
def app(engine: Engine) -> Iterator[App]:
    built = build_app(Settings(_env_file=None, database_url="sqlite://"), engine=engine)
    install_hooks(built.deps, engine)  # as `slipstream run` does: stored moderators count
    yield built


class Chat:
    def __init__(self, app: App) -> None:
        self.app = app
        self.n = 0

    async def say(self, user: UserRef, text: str) -> list[Reply]:
        self.n += 1
        responder = ConsoleResponder(lambda _s: None)
        incoming = Incoming(event_id=f"e{self.n}", channel=CHANNEL, user=user, text=text, kind="command")
        await self.app.dispatcher.handle(incoming, responder)
        return responder.replies()

    async def text(self, user: UserRef, text: str) -> str:
        replies = await self.say(user, text)
        return "\n".join(r.text + " ".join(f.value for c in r.cards for f in c.fields) for r in replies)


def _audit(engine: Engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(select(AuditLog.actor_id, AuditLog.action, AuditLog.detail).order_by(AuditLog.id)).all()
    return [(a, b, json.loads(c)) for a, b, c in rows]


async def test_non_moderators_are_refused_and_nothing_changes(app: App, engine: Engine) -> None:
    chat = Chat(app)
    for cmd in ("subscribe", "unsubscribe", "settings tone=casual", "status", "audit", "moderator list"):
        text = await chat.text(FAN, cmd)
        assert "moderator" in text.lower() or "admin" in text.lower(), (cmd, text)
    assert _audit(engine) == []
    assert pulse_store.get_subscription(engine, CHANNEL.id) is None
    # A moderator may not name moderators: that is an admin's job.
    assert "admin" in (await chat.text(MOD, "moderator add <@UFAN>")).lower()


async def test_validation_errors_are_clear_and_store_nothing(app: App, engine: Engine) -> None:
    chat = Chat(app)
    cases = {
        "subscribe kinds=overtake,teleport": "Unknown highlight kind `teleport`",
        "subscribe drivers=VERSTAPPEN": "`VERSTAPPEN` is not a driver code",
        "subscribe delay=-5": "`delay` is minutes between 0 and 10080",
        "subscribe reminders=60,soon": "`reminders`: `soon` is not a number of minutes",
        "subscribe sessions=R,XX": "Unknown session `XX`",
        "subscribe priority=urgent": "`priority` must be one of: low, medium, high, critical",
        "settings tone=angry": "`tone` must be one of: casual, technical, neutral",
        "settings user_rate=0": "`user_rate` is questions per minute, between 1 and 600",
        "settings language=ignore_previous_instructions;drop": "is not a language",
        "settings llm=maybe": "`llm` must be yes or no",
        "audit 500": "`limit` must be between 1 and 50",
    }
    for cmd, expected in cases.items():
        text = await chat.text(MOD, cmd)
        assert expected in text, (cmd, text)
        assert "Traceback" not in text
    assert _audit(engine) == []
    assert pulse_store.get_subscription(engine, CHANNEL.id) is None


async def test_changes_are_stored_and_audited(app: App, engine: Engine) -> None:
    chat = Chat(app)
    text = await chat.text(MOD, "subscribe kinds=overtake,lead_change priority=high drivers=VER,LEC delay=5 reminders=60,10")
    assert "Subscribed" in text and "60, 10 min" in text
    sub = pulse_store.get_subscription(engine, CHANNEL.id)
    assert sub is not None and sub.kinds == ("lead_change", "overtake") and sub.drivers == ("LEC", "VER")
    assert sub.spoiler_delay_s == 300 and int(sub.min_priority) == 2
    text = await chat.text(MOD, "settings tone=casual length=short llm=off user_rate=5")
    assert "Settings saved" in text
    with engine.connect() as conn:
        row = conn.execute(select(ChannelSetting).where(ChannelSetting.channel_id == CHANNEL.id)).one()
        rem = conn.execute(select(ReminderSubscription)).one()
    assert (row.tone, row.length, row.llm_enabled, row.rate_user_per_min) == ("casual", "short", False, 5)
    assert (rem.offsets_min, rem.active) == ("60,10", True)
    assert "Stopped reminders" in await chat.text(MOD, "unsubscribe reminders")
    assert "Added moderator slack:T1:UFAN" in await chat.text(ADMIN, "moderator add <@UFAN>")
    # The fan is now a moderator through the stored list (the platform still says USER).
    status_fields = {f.name: f.value for r in await chat.say(FAN, "status") for c in r.cards for f in c.fields}
    assert "Data" in status_fields
    from storage.migrate import head
    assert status_fields["Schema"] == f"{head()} (head)"

    log = _audit(engine)
    assert [(a, b) for a, b, _ in log] == [
        (MOD.id, "subscribe"), (MOD.id, "settings"), (MOD.id, "unsubscribe"), (ADMIN.id, "moderator.add"),
    ]
    assert log[1][2]["tone"] == [None, "casual"] and log[1][2]["llm_enabled"] == [None, False]
    assert log[0][2]["reminders"] == [60, 10]
    audit_text = await chat.text(MOD, "audit")
    assert "moderator.add" in audit_text and "settings" in audit_text and "mod" in audit_text
