"""FastF1 ingestion of the real Monza 2023 race (offline cache fixture), SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from storage.db import table
from storage.ff1_loader import LAP_FIELDS, payload_hash
from storage.ingest import (
    ChildRunner,
    IngestError,
    ingest,
    ingest_async,
    write_payload,
    write_schedule,
)
from storage.models import IngestRun, Lap, Result
from tests.storage import child_funcs
from tests.storage.conftest import MONZA_SCHEDULE


def _q(engine: Engine, sql: str, **kw: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), kw).all())


MONZA_R = """
    select s.id from race_session s join event e on e.id = s.event_id
    where e.year = 2023 and e.round = 14 and s.type = 'R'
"""


def _counts(engine: Engine) -> dict[str, int]:
    names = ["lap", "result", "stint", "pit_stop", "race_control_message", "weather_sample",
             "track_status_change", "session_driver", "driver", "constructor", "event", "race_session"]
    return {n: _q(engine, f"select count(*) from {n}")[0][0] for n in names}


def test_monza_facts_and_unchanged_reingest(engine: Engine, monza_cache: Path) -> None:
    first = ingest(engine, 2023, "Monza", "R", cache_dir=monza_cache)
    assert [s.outcome for s in first.sessions] == ["added"], first.sessions
    sid = _q(engine, MONZA_R)[0][0]

    assert _q(engine, "select count(*) from lap where session_id = :s", s=sid)[0][0] == 958
    assert _q(engine, "select count(*) from session_driver where session_id = :s", s=sid)[0][0] == 20
    winner = _q(engine, """select d.code, r.grid, r.points, r.status from result r
                           join driver d on d.id = r.driver_id
                           where r.session_id = :s and r.position = 1""", s=sid)
    assert winner == [("VER", 2, 25.0, "Finished")]
    top5 = _q(engine, """select d.code from result r join driver d on d.id = r.driver_id
                         where r.session_id = :s order by r.position_order limit 5""", s=sid)
    assert [r[0] for r in top5] == ["VER", "PER", "SAI", "LEC", "RUS"]
    fastest = _q(engine, """select d.code, l.lap_time_ms, l.lap_number, l.compound from lap l
                            join driver d on d.id = l.driver_id
                            where l.session_id = :s and l.lap_time_ms is not null
                            order by l.lap_time_ms limit 1""", s=sid)
    assert fastest == [("PIA", 85072, 43, "MEDIUM")]  # 1:25.072
    assert _q(engine, """select d.code, r.fastest_lap_ms, r.fastest_lap_number from result r
                         join driver d on d.id = r.driver_id
                         where r.session_id = :s and r.fastest_lap_rank = 1""", s=sid) == [("PIA", 85072, 43)]
    stints = _q(engine, """select st.compound, st.start_lap, st.end_lap from stint st
                           join driver d on d.id = st.driver_id
                           where st.session_id = :s and d.code = 'VER' order by st.stint""", s=sid)
    assert stints == [("MEDIUM", 1, 20), ("HARD", 21, 51)]
    ver_stop = _q(engine, """select p.lap, p.pit_lane_ms, p.compound_after from pit_stop p
                             join driver d on d.id = p.driver_id
                             where p.session_id = :s and d.code = 'VER'""", s=sid)
    assert len(ver_stop) == 1 and ver_stop[0][0] == 20 and ver_stop[0][2] == "HARD"
    assert 15_000 < ver_stop[0][1] < 40_000  # pit lane time in ms, derived PitOut - PitIn
    assert _q(engine, "select count(*) from race_control_message where session_id = :s", s=sid)[0][0] == 43
    assert _q(engine, "select count(*) from weather_sample where session_id = :s", s=sid)[0][0] == 156
    sess = _q(engine, "select status, classification, total_laps, content_hash, ingested_at "
                      "from race_session where id = :s", s=sid)[0]
    assert sess[0] == "ingested" and sess[1] == "final" and sess[2] == 51 and sess[3] and sess[4]
    # Fields FastF1 lacks stay NULL: no car telemetry, no Ergast pit durations here.
    assert _q(engine, "select count(*) from pit_stop where session_id = :s and duration_ms is not null",
              s=sid)[0][0] == 0

    before = _counts(engine)
    second = ingest(engine, 2023, "Monza", "R", cache_dir=monza_cache)
    assert [s.outcome for s in second.sessions] == ["skipped"]
    # Cheap because FastF1 never ran: the cache files' fingerprint matched, no child was
    # called. (How cheap is bench/bench_ingest.py's "unchanged re-ingest" figure.)
    (skip,) = second.sessions
    assert skip.reason == "unchanged (cache files)" and skip.child_s is None and skip.load_s is None
    assert second.schedule_source == "store"
    assert _counts(engine) == before
    with engine.connect() as conn:
        runs = conn.execute(select(table(IngestRun).c.outcome).where(table(IngestRun).c.kind == "session")
                            .order_by(table(IngestRun).c.id)).scalars().all()
    assert runs == ["added", "skipped"]


def test_changed_payload_updates_in_place(engine: Engine, monza_payload: dict[str, Any]) -> None:
    # The module's one real FastF1 load, written through the same path `ingest` uses
    # (the full ingest is covered above; a second child load here would add nothing).
    with engine.begin() as conn:
        write_schedule(conn, 2023, MONZA_SCHEDULE)
    assert write_payload(engine, 2023, 14, "R", monza_payload).outcome == "added"
    assert _q(engine, "select count(*) from lap")[0][0] == 958
    lap_t, res_t = table(Lap), table(Result)
    with engine.connect() as conn:
        ids_before = dict(conn.execute(select(lap_t.c.id, lap_t.c.lap_time_ms)).all())
    # Same payload, re-hashed unchanged → skipped by hash.
    assert write_payload(engine, 2023, 14, "R", monza_payload).outcome == "skipped"

    changed = copy.deepcopy(monza_payload)
    p = changed["payload"]
    lap_no = LAP_FIELDS.index("lap_number")
    time_i = LAP_FIELDS.index("lap_time_ms")
    num_i = LAP_FIELDS.index("driver_number")
    ver_lap10 = next(lap for lap in p["laps"] if lap[num_i] == "1" and lap[lap_no] == 10)
    ver_lap10[time_i] += 1234  # a corrected timing
    ham_last = max((lap for lap in p["laps"] if lap[num_i] == "44"), key=lambda lap: lap[lap_no])
    p["laps"].remove(ham_last)  # a lap no longer present
    sai = next(r for r in p["results"] if r["driver_number"] == "55")
    sai["status"] = "Disqualified"  # a post-race decision
    changed["hash"] = payload_hash(p)

    out = write_payload(engine, 2023, 14, "R", changed)
    assert out.outcome == "updated", out
    assert _q(engine, "select count(*) from lap")[0][0] == 957
    assert _q(engine, "select count(*) from (select session_id, driver_id, lap_number, count(*) c "
                      "from lap group by session_id, driver_id, lap_number having count(*) > 1) x")[0][0] == 0
    with engine.connect() as conn:
        ids_after = dict(conn.execute(select(lap_t.c.id, lap_t.c.lap_time_ms)).all())
        sai_status = conn.execute(text("select r.status from result r join driver d on d.id = r.driver_id "
                                       "where d.code = 'SAI'")).scalar_one()
        assert conn.execute(select(func.count()).select_from(res_t)).scalar_one() == 20
    # Updated in place: every surviving lap kept its id; exactly one lap time changed.
    assert set(ids_after) < set(ids_before) and len(ids_before) - len(ids_after) == 1
    assert sum(1 for i, v in ids_after.items() if ids_before[i] != v) == 1
    assert sai_status == "Disqualified"


def test_fingerprint_change_falls_back_to_content_hash(sqlite_engine: Engine, monza_cache: Path) -> None:
    # The first ingest goes through the async wrapper (off the event loop) on the way.
    first = asyncio.run(ingest_async(sqlite_engine, 2023, "Italian", "Race", cache_dir=monza_cache))
    assert first.added == 1 and first.ok
    for f in monza_cache.rglob("*.ff1pkl"):  # same bytes, new mtimes (e.g. a re-synced cache)
        os.utime(f, (time.time() + 5, time.time() + 5))
    rep = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache)
    assert [(s.outcome, s.reason) for s in rep.sessions] == [("skipped", "unchanged (content hash)")]
    assert rep.sessions[0].load_s is not None  # FastF1 did load this time
    again = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache)
    assert again.sessions[0].reason == "unchanged (cache files)"  # the new fingerprint was stored


def test_bad_input_raises_before_writing(sqlite_engine: Engine, monza_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="cache dir not found"):
        ingest(sqlite_engine, 2023, cache_dir=tmp_path / "missing")
    with pytest.raises(IngestError, match="unknown session"):
        ingest(sqlite_engine, 2023, "Monza", "XYZ", cache_dir=monza_cache)
    assert _q(sqlite_engine, "select count(*) from event")[0][0] == 0
    with pytest.raises(IngestError, match="unknown year 1900"):
        ingest(sqlite_engine, 1900, cache_dir=monza_cache)
    with pytest.raises(IngestError, match="unknown event 'Atlantis'"):
        ingest(sqlite_engine, 2023, "Atlantis", cache_dir=monza_cache)
    with pytest.raises(IngestError, match="no S session"):
        ingest(sqlite_engine, 2023, "Monza", "sprint", cache_dir=monza_cache)
    assert _q(sqlite_engine, "select count(*) from lap")[0][0] == 0


def test_child_failures_are_contained() -> None:
    with ChildRunner() as runner:
        out = runner.call(child_funcs.call_exit, timeout_s=60)
        assert out["ok"] is False and "exit() called" in out["error"]
        ok = runner.call(child_funcs.answer, timeout_s=60)  # the same worker survived exit()
        assert ok["ok"] is True and ok["value"] == 42
        died = runner.call(child_funcs.hard_crash, timeout_s=60)
        assert died["ok"] is False and "process died" in died["error"]
        hung = runner.call(child_funcs.hang, timeout_s=1.5)
        assert hung["ok"] is False and "timed out after 1.5 s" in hung["error"]
        assert runner.call(child_funcs.answer, timeout_s=60)["value"] == 42  # a fresh worker
