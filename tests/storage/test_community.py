"""The community config API, the session-key read and the status facts, on SQLite and PostgreSQL.

Rows that set the scene (a season's sessions, ingestion runs, failed jobs) are
written straight into the real tables; what is checked is what the typed
functions give back.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select

from storage import community
from storage.db import insert_missing, table
from storage.models import Event, IngestRun, Season
from storage.models import Session as RaceSession
from storage.read_sessions import (
    SessionKey,
    latest_ingested,
    session_key,
    session_keys,
    sessions_starting,
)
from storage.read_status import status_facts
from storage.service_models import (
    ChannelSetting,
    JobRun,
    Moderator,
    ReminderSent,
    ReminderSubscription,
)

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
CH = "slack:T1:C9"


# --------------------------------------------------------------------------- channel settings


def test_settings_are_none_until_set_then_merge_field_by_field(engine: Engine) -> None:
    assert community.channel_settings(engine, CH) is None
    saved = community.save_channel_settings(engine, CH, {"tone": "casual", "rate_user_per_min": 5},
                                            at=T0, by="slack:T1:UMOD")
    assert (saved.tone, saved.rate_user_per_min, saved.length, saved.llm_enabled) == ("casual", 5, None, None)
    assert saved.updated_at == T0 and saved.updated_by == "slack:T1:UMOD"

    later = T0 + dt.timedelta(minutes=5)
    saved = community.save_channel_settings(engine, CH, {"llm_enabled": False, "answers_enabled": False},
                                            at=later, by="slack:T1:UOTHER")
    # Fields not named keep their stored values; the stamps move.
    assert (saved.tone, saved.rate_user_per_min, saved.llm_enabled, saved.answers_enabled) == (
        "casual", 5, False, False)
    assert saved.updated_at == later and saved.updated_by == "slack:T1:UOTHER"
    assert community.channel_settings(engine, CH) == saved
    assert community.channel_settings(engine, "slack:T1:OTHER") is None
    with engine.connect() as conn:
        assert len(conn.execute(select(table(ChannelSetting))).all()) == 1


def test_saving_an_unknown_setting_is_refused_and_writes_nothing(engine: Engine) -> None:
    with pytest.raises(ValueError, match="not a channel setting: colour"):
        community.save_channel_settings(engine, CH, {"colour": "red"}, at=T0, by="x")
    assert community.channel_settings(engine, CH) is None


# --------------------------------------------------------------------------- reminders


def test_reminders_on_off_keep_the_offsets(engine: Engine) -> None:
    assert community.reminder_wish(engine, CH) is None
    community.set_reminders(engine, CH, None, at=T0, by="m")  # "off" before ever on: defaults kept
    wish = community.reminder_wish(engine, CH)
    assert wish is not None and not wish.active and wish.offsets_min == (60, 10)

    community.set_reminders(engine, CH, [30, 5], at=T0, by="m")
    wish = community.reminder_wish(engine, CH)
    assert wish == community.ReminderWish(CH, ("Q", "R"), (30, 5), True)

    community.set_reminders(engine, CH, None, at=T0, by="m")
    wish = community.reminder_wish(engine, CH)
    assert wish is not None and not wish.active and wish.offsets_min == (30, 5)


def test_stop_reminders_reports_whether_anything_was_active(engine: Engine) -> None:
    assert community.stop_reminders(engine, CH, at=T0, by="m") is False
    community.set_reminders(engine, CH, [10], at=T0, by="m")
    assert community.stop_reminders(engine, CH, at=T0, by="m2") is True
    assert community.stop_reminders(engine, CH, at=T0, by="m2") is False
    with engine.connect() as conn:
        row = conn.execute(select(table(ReminderSubscription))).one()
    assert (row.active, row.updated_by, row.offsets_min) == (False, "m2", "10")


# --------------------------------------------------------------------------- moderators


def test_moderators_are_per_scope_and_added_once(engine: Engine) -> None:
    assert community.add_moderator(engine, "slack:T1", "slack:T1:UA", by="admin", at=T0) is True
    assert community.add_moderator(engine, "slack:T1", "slack:T1:UA", by="admin2", at=T0) is False
    assert community.add_moderator(engine, "slack:T1", "slack:T1:B", by="admin", at=T0) is True
    assert community.add_moderator(engine, "slack:T2", "slack:T1:UA", by="admin", at=T0) is True
    assert community.moderators(engine, "slack:T1") == ["slack:T1:B", "slack:T1:UA"]
    assert community.is_moderator(engine, "slack:T1", "slack:T1:UA")
    assert not community.is_moderator(engine, "slack:T3", "slack:T1:UA")
    with engine.connect() as conn:
        added_by = conn.execute(select(table(Moderator).c.added_by).where(
            table(Moderator).c.scope == "slack:T1", table(Moderator).c.user_id == "slack:T1:UA")).scalar_one()
    assert added_by == "admin"  # the duplicate add changed nothing

    assert community.remove_moderator(engine, "slack:T1", "slack:T1:UA") is True
    assert community.remove_moderator(engine, "slack:T1", "slack:T1:UA") is False
    assert community.moderators(engine, "slack:T1") == ["slack:T1:B"]
    assert community.is_moderator(engine, "slack:T2", "slack:T1:UA")  # the other scope is untouched


def test_insert_missing_counts_only_new_rows(engine: Engine) -> None:
    rows = [{"scope": "s", "user_id": f"u{i}", "added_by": "a", "added_at": T0} for i in range(3)]
    with engine.begin() as conn:
        assert insert_missing(conn, Moderator, rows[:2], ["scope", "user_id"]) == 2
    with engine.begin() as conn:
        assert insert_missing(conn, Moderator, rows, ["scope", "user_id"]) == 1
        assert insert_missing(conn, Moderator, [], ["scope", "user_id"]) == 0
    assert community.moderators(engine, "s") == ["u0", "u1", "u2"]


# --------------------------------------------------------------------------- audit


def test_audit_is_newest_first_limited_and_scoped(engine: Engine) -> None:
    for i in range(4):
        community.record_audit(engine, at=T0 + dt.timedelta(minutes=i), scope="slack:T1", channel_id=CH,
                               actor_id="slack:T1:UMOD", actor_name="mod" if i else "", action=f"a{i}",
                               detail={"n": i, "when": T0})
    community.record_audit(engine, at=T0, scope="slack:T2", channel_id="slack:T2:C1", actor_id="x",
                           actor_name="x", action="elsewhere", detail={})
    got = community.recent_audit(engine, "slack:T1", limit=3)
    assert [e.action for e in got] == ["a3", "a2", "a1"]
    assert got[0].at == T0 + dt.timedelta(minutes=3) and got[0].channel_id == CH
    assert got[0].details() == {"n": 3, "when": str(T0)}  # non-JSON values stored as their text
    assert [e.action for e in community.recent_audit(engine, "slack:T1", limit=10)][-1] == "a0"
    assert community.recent_audit(engine, "slack:T1", limit=10)[-1].actor_name is None  # "" stored as NULL
    assert [e.action for e in community.recent_audit(engine, "slack:T2")] == ["elsewhere"]
    assert community.recent_audit(engine, "slack:T9") == []


# --------------------------------------------------------------------------- session keys and status


def _calendar(engine: Engine) -> dict[str, int]:
    """Two rounds of 2024 with a few sessions; returns session ids by "round:type"."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(table(Season).insert(), [{"year": 2024}])
        for rnd, name in ((1, "Bahrain Grand Prix"), (2, "Saudi Arabian Grand Prix")):
            ev = conn.execute(table(Event).insert().returning(table(Event).c.id),
                              [{"year": 2024, "round": rnd, "name": name}]).scalar_one()
            for typ, sname, hours in (("Q", "Qualifying", 0), ("R", "Race", 24)):
                start = T0 + dt.timedelta(days=7 * rnd, hours=hours)
                ids[f"{rnd}:{typ}"] = conn.execute(
                    table(RaceSession).insert().returning(table(RaceSession).c.id),
                    [{"event_id": ev, "type": typ, "name": sname, "start_utc": start,
                      "end_utc": start + dt.timedelta(hours=2), "status": "scheduled"}],
                ).scalar_one()
    return ids


def test_session_key_names_the_weekend(engine: Engine) -> None:
    ids = _calendar(engine)
    key = session_key(engine, ids["2:R"])
    start = T0 + dt.timedelta(days=14, hours=24)
    assert key == SessionKey(ids["2:R"], 2024, 2, "R", "Race", "Saudi Arabian Grand Prix", start,
                             start + dt.timedelta(hours=2))
    assert key.slug == "2024:2:R" and key.label == "2024 Saudi Arabian Grand Prix Race"
    assert key.start_utc is not None and key.start_utc.tzinfo is not None
    assert session_key(engine, 999_999) is None
    many = session_keys(engine, [ids["1:Q"], ids["2:R"], 999_999, ids["1:Q"]])
    assert {k: v.slug for k, v in many.items()} == {ids["1:Q"]: "2024:1:Q", ids["2:R"]: "2024:2:R"}
    assert session_keys(engine, []) == {}
    with engine.connect() as conn:  # the same read inside a caller's transaction
        assert session_key(conn, ids["1:R"]) == session_keys(engine, [ids["1:R"]])[ids["1:R"]]


def test_sessions_starting_in_a_window(engine: Engine) -> None:
    ids = _calendar(engine)
    got = sessions_starting(engine, T0 + dt.timedelta(days=7), T0 + dt.timedelta(days=14))
    assert [k.session_id for k in got] == [ids["1:Q"], ids["1:R"], ids["2:Q"]]  # bounds inclusive
    assert sessions_starting(engine, T0, T0 + dt.timedelta(days=1)) == []


def test_status_facts(engine: Engine) -> None:
    empty = status_facts(engine)
    assert empty.freshest is None and empty.runs == [] and empty.failed_jobs == []
    assert (empty.highlights_waiting, empty.reminders_waiting) == (0, 0)

    ids = _calendar(engine)
    s = table(RaceSession)
    with engine.begin() as conn:
        conn.execute(s.update().where(s.c.id == ids["1:R"]).values(ingested_at=T0 + dt.timedelta(hours=1)))
        conn.execute(s.update().where(s.c.id == ids["1:Q"]).values(ingested_at=T0))
        conn.execute(table(IngestRun).insert(), [
            {"kind": "session", "target": f"2024/1/{i}", "started_at": T0 + dt.timedelta(minutes=i),
             "outcome": "failed" if i % 2 else "added", "rows": i * 10, "message": f"m{i}"}
            for i in range(7)
        ])
        conn.execute(table(JobRun).insert(), [
            {"key": "ingest:1:1", "kind": "ingest", "status": "failed", "finished_at": T0,
             "result": json.dumps({"message": "boom"})},
            {"key": "ingest:2:1", "kind": "ingest", "status": "failed", "finished_at": None, "result": None},
            {"key": "pulse:1", "kind": "pulse", "status": "done", "finished_at": T0, "result": None},
        ])
        conn.execute(table(ReminderSent).insert(), [
            {"channel_id": CH, "session_id": ids["2:R"], "offset_min": o, "status": st, "created_at": T0}
            for o, st in ((60, "pending"), (10, "pending"), (5, "sent"))
        ])
    facts = status_facts(engine)
    assert facts.freshest is not None
    assert facts.freshest[0].slug == "2024:1:R" and facts.freshest[1] == T0 + dt.timedelta(hours=1)
    assert latest_ingested(engine) == facts.freshest
    assert [r.target for r in facts.runs] == [f"2024/1/{i}" for i in (6, 5, 4, 3, 2)]
    assert [(r.target, r.message) for r in facts.failed_runs] == [
        ("2024/1/5", "m5"), ("2024/1/3", "m3"), ("2024/1/1", "m1")]
    assert facts.runs[0].rows == 60 and facts.runs[0].started_at == T0 + dt.timedelta(minutes=6)
    assert [(j.key, json.loads(j.result or "{}")) for j in facts.failed_jobs] == [
        ("ingest:1:1", {"message": "boom"})]
    assert (facts.highlights_waiting, facts.reminders_waiting) == (0, 2)
