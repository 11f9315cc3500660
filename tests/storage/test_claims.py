"""Event claims and shared rate counters (`storage.claims`) on SQLite and PostgreSQL,
and revision 0005_event_claims upgrading a store at 0004 with data in it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic import command
from sqlalchemy import Engine, text

from storage import claims
from storage.db import make_engine
from storage.migrate import alembic_config, drift, ensure_schema, head

T0 = 1_800_000_000.0  # a window boundary for 60 s windows (divisible by 60)


def test_a_key_is_claimed_once_until_it_expires_and_is_pruned(engine: Engine) -> None:
    assert claims.claim_event(engine, "slack:Ev1", ttl_s=60, now=T0) is True
    assert claims.claim_event(engine, "slack:Ev1", ttl_s=60, now=T0 + 1) is False
    assert claims.claim_event(engine, "discord:i:Ev1", ttl_s=60, now=T0 + 1) is True  # other namespace
    assert claims.prune(engine, now=T0 + 30) == 0  # nothing expired yet
    assert claims.claim_event(engine, "slack:Ev1", ttl_s=60, now=T0 + 30) is False
    assert claims.prune(engine, now=T0 + 61.5) == 2  # both expired (T0 + 60, T0 + 61)
    assert claims.claim_event(engine, "slack:Ev1", ttl_s=60, now=T0 + 62) is True  # pruned: a new claim


def test_over_long_keys_are_claimed_by_digest(engine: Engine) -> None:
    long_a, long_b = "slack:" + "a" * 400, "slack:" + "a" * 399 + "b"  # same head, different ends
    assert claims.claim_event(engine, long_a, ttl_s=60, now=T0) is True
    assert claims.claim_event(engine, long_b, ttl_s=60, now=T0) is True
    assert claims.claim_event(engine, long_a, ttl_s=60, now=T0) is False
    assert claims.hit_rate(engine, "user:" + "u" * 500, limit=1, window_s=60, now=T0) is None
    assert claims.hit_rate(engine, "user:" + "u" * 500, limit=1, window_s=60, now=T0 + 1) is not None


def test_concurrent_claims_of_one_key_let_exactly_one_through(engine: Engine) -> None:
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda _: claims.claim_event(engine, "slack:cmd:T9", ttl_s=60, now=T0), range(16)))
    assert won.count(True) == 1


def test_rate_limit_window_slides_and_refusals_are_not_counted(engine: Engine) -> None:
    hit = lambda now: claims.hit_rate(engine, "user:u1", limit=3, window_s=60, now=now)  # noqa: E731
    assert [hit(T0 + 1), hit(T0 + 2), hit(T0 + 3)] == [None, None, None]
    wait = hit(T0 + 4)
    # Full on its own: the rest of this window, then a third of the next (3 * (1 - t/60) <= 2).
    assert wait is not None and abs(wait - (56 + 20)) < 0.01
    assert hit(T0 + 5) is not None  # still refused, and refusals were taken back:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count FROM rate_count WHERE key = 'user:u1'")).scalar_one() == 3
    # In the next window the previous 3 weigh 3 * (1 - 10/60) = 2.5: 2.5 + 1 > 3, refused ...
    assert hit(T0 + 70) is not None
    # ... and 3 * (1 - 30/60) = 1.5: 1.5 + 1 <= 3, one more fits, then 1.5 + 2 > 3 again.
    assert hit(T0 + 90) is None
    assert hit(T0 + 91) is not None
    # Two windows later the old hits no longer count at all.
    assert [hit(T0 + 180), hit(T0 + 181), hit(T0 + 182)] == [None, None, None]
    assert hit(T0 + 183) is not None
    assert claims.hit_rate(engine, "user:u2", limit=3, window_s=60, now=T0 + 183) is None  # per key


def test_concurrent_hits_never_admit_more_than_the_limit(engine: Engine) -> None:
    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(
            lambda i: claims.hit_rate(engine, "chan:c1", limit=5, window_s=60, now=T0 + 10 + i / 100), range(20)))
    assert sum(w is None for w in waits) == 5


def test_upgrade_from_0004_keeps_data_and_adds_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0004_reminder_pending")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO channel_setting (channel_id, tone) VALUES ('slack:T1:C1', 'concise')"))
            conn.execute(text("INSERT INTO reminder_subscription (channel_id, session_types, offsets_min, active) "
                              "VALUES ('slack:T1:C1', 'R', '60', TRUE)"))
        result = ensure_schema(engine)
        assert result.before == "0004_reminder_pending" and result.after == head()  # through 0005
        assert drift(engine) == []
        with engine.connect() as conn:
            assert conn.execute(text("SELECT tone FROM channel_setting")).scalar_one() == "concise"
            assert conn.execute(text("SELECT offsets_min FROM reminder_subscription")).scalar_one() == "60"
        assert claims.claim_event(engine, "slack:Ev9", ttl_s=60, now=T0) is True
        assert claims.hit_rate(engine, "user:u9", limit=1, window_s=60, now=T0) is None
        # Down to 0004 and up again: the tables go and come back, older data untouched.
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0004_reminder_pending")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT tone FROM channel_setting")).scalar_one() == "concise"
        ensure_schema(engine)
        assert drift(engine) == []
        assert claims.claim_event(engine, "slack:Ev9", ttl_s=60, now=T0) is True  # the old claim went with it
    finally:
        engine.dispose()
