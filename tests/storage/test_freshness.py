"""Classification freshness (history makes a session final, FastF1 never downgrades it) and
the HTTP-cache part of the offline source fingerprint (a changed Jolpica response is noticed)."""

from __future__ import annotations

import copy
import json
import pickle
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from storage import queries
from storage.ff1_loader import LAP_FIELDS, payload_hash
from storage.history import import_history
from storage.ingest import HTTP_CACHE_NAME, HttpCacheIndex, ingest, write_payload, write_schedule
from tests.storage.conftest import MONZA_SCHEDULE, demo_ergast


def _provisional(value: dict[str, Any], lap_bump: int = 0) -> dict[str, Any]:
    """The Monza payload as FastF1 gives it before Jolpica has the race: no grid, status,
    points, and an archive that is not complete (what a fresh 2023 Las Vegas load looks like)."""
    out = copy.deepcopy(value)
    p = out["payload"]
    for r in p["results"]:
        r["points"] = r["grid"] = r["status"] = r["position_text"] = None  # ClassifiedPosition too
    p["session"]["archive_status"] = None
    if lap_bump:
        i = LAP_FIELDS.index("lap_time_ms")
        p["laps"][0][i] = (p["laps"][0][i] or 0) + lap_bump  # one lap's time: a changed payload
    out["hash"] = payload_hash(p)
    return out


def _monza_race(engine: Engine) -> queries.SessionInfo:
    ev = queries.event_by_round(engine, 2023, 14)
    assert ev is not None
    s = queries.session_for(engine, ev.id, "R")
    assert s is not None
    return s


def test_history_makes_fastf1_session_final_and_reingest_keeps_it(
    engine: Engine, monza_payload: dict[str, Any]
) -> None:
    with engine.begin() as conn:
        write_schedule(conn, 2023, MONZA_SCHEDULE)
    assert write_payload(engine, 2023, 14, "R", _provisional(monza_payload)).outcome == "added"
    s = _monza_race(engine)
    assert (s.classification, s.history_at) == ("provisional", None) and s.ingested_at is not None

    import_history(engine, demo_ergast())
    s = _monza_race(engine)
    assert s.classification == "final" and s.history_at is not None
    history_at = s.history_at

    # A later FastF1 re-ingest of a changed (still point-less) payload updates in place
    # but keeps the official classification and the history stamp.
    out = write_payload(engine, 2023, 14, "R", _provisional(monza_payload, lap_bump=7))
    assert out.outcome == "updated", out
    s = _monza_race(engine)
    assert s.classification == "final" and s.history_at == history_at
    assert s.ingested_at is not None and s.ingested_at >= history_at  # aware UTC on both stores
    table = queries.results(engine, s.id)
    assert table is not None
    winner = table.rows[0]
    assert (winner.driver.code, winner.grid, winner.points, winner.status) == ("VER", 2, 25.0, "Finished")


def _rewrite_response(cache: Path, url_part: str, edit: Any) -> None:
    """Edit one cached HTTP response in FastF1's requests-cache file, as a re-download would."""
    con = sqlite3.connect(cache / HTTP_CACHE_NAME)
    try:
        rows = con.execute("select key, value from responses").fetchall()
        hits = [(k, pickle.loads(v)) for k, v in rows if url_part in pickle.loads(v)["url"]]
        assert len(hits) == 1, [pickle.loads(v)["url"] for _, v in rows]
        key, resp = hits[0]
        edit(resp)
        con.execute("update responses set value = ? where key = ?", (pickle.dumps(resp), key))
        con.commit()
    finally:
        con.close()


def _disqualify_sainz(resp: dict[str, Any]) -> None:
    data = json.loads(resp["_content"])
    for r in data["MRData"]["RaceTable"]["Races"][0]["Results"]:
        if r["Driver"]["code"] == "SAI":
            r["status"] = "Disqualified"
    resp["_content"] = json.dumps(data).encode()
    resp["headers"]["Content-Length"] = str(len(resp["_content"]))


def test_changed_results_response_is_noticed(sqlite_engine: Engine, monza_cache: Path) -> None:
    index = HttpCacheIndex(monza_cache)
    assert index.digest(2023, 14) and index.digest(2023, 13) == ""  # only Monza's Jolpica rows
    assert ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache).sessions[0].outcome == "added"
    again = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache).sessions[0]
    assert (again.outcome, again.reason) == ("skipped", "unchanged (cache files)")

    # Another round's / the schedule's rows changing does not defeat the cheap skip.
    _rewrite_response(monza_cache, "schedule_2023", lambda r: r.update(created_at="2026-11-23T00:00:00+00:00"))
    other = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache).sessions[0]
    assert (other.outcome, other.reason, other.load_s) == ("skipped", "unchanged (cache files)", None)

    # Jolpica's results for this race changed (a post-race decision): FastF1 loads it again.
    _rewrite_response(monza_cache, "/2023/14/results", _disqualify_sainz)
    changed = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache).sessions[0]
    assert changed.outcome == "updated" and changed.load_s is not None, changed
    with sqlite_engine.connect() as conn:
        status = conn.execute(text("select r.status from result r join driver d on d.id = r.driver_id "
                                   "where d.code = 'SAI'")).scalar_one()
        assert status == "Disqualified"
        assert conn.execute(text("select count(*) from result")).scalar_one() == 20
    last = ingest(sqlite_engine, 2023, 14, "R", cache_dir=monza_cache).sessions[0]
    assert (last.outcome, last.reason) == ("skipped", "unchanged (cache files)")


def test_unreadable_http_cache_falls_back_to_file_stat(tmp_path: Path) -> None:
    (tmp_path / HTTP_CACHE_NAME).write_bytes(b"not a sqlite database" * 100)
    index = HttpCacheIndex(tmp_path)
    d = index.digest(2023, 14)
    assert d.startswith("file:") and index.digest(2019, 1) == d  # every round: conservative
    assert HttpCacheIndex(tmp_path / "missing").digest(2023, 14) == ""
