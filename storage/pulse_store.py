"""Track Pulse persistence: the race feed from store rows, highlights, subscriptions, outbox.

All functions are synchronous and take an Engine (the bot calls them through
`asyncio.to_thread`). They return plain dataclasses, never ORM objects.

Claiming (the heart of "never twice"): a deliverer claims due rows by writing
its worker id and a lease in ONE statement. On PostgreSQL the candidate rows
are picked with `FOR UPDATE SKIP LOCKED`, so two deliverers never claim the
same row; on SQLite the single writer lock makes the conditional UPDATE
atomic. Only the oldest unfinished row of a channel can be claimed, so a
channel's messages go out in order and one at a time. A claim whose lease ran
out (the deliverer died) is claimed again and re-posted with the SAME
idempotency key, which the platform de-duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, case, func, or_, select, update
from sqlmodel import Session as OrmSession

from storage import outbox, queries
from storage import pulse_heads as heads
from storage.db import table, upsert
from storage.models import (
    Driver,
    DriverStanding,
    Event,
    Lap,
    RaceControlMessage,
    Result,
    SessionDriver,
    TrackStatusChange,
    WeatherSample,
)
from storage.models import Session as RaceSession
from storage.pulse_models import (
    CLAIMED,
    FAILED,
    GROUPED,
    PENDING,
    POSTED,
    SKIPPED,
    PulseDelivery,
    PulseHighlightRow,
    PulseSubscription,
)
from storage.pulse_types import INTERNAL_KINDS, KINDS, OPT_IN_KINDS, Priority, PulseHighlight
from storage.race_feed import (
    DriverRec,
    LapRec,
    RaceControlRec,
    RaceFeed,
    ResultRec,
    SessionInfo,
    StandingRec,
    TrackStatusRec,
    WeatherRec,
)
from storage.read_sessions import session_key

SPRINT_FORMATS = ("sprint", "sprint_qualifying", "sprint_shootout")


def _queue() -> outbox.LeaseTable:
    """The delivery outbox in the one lease convention (`storage.outbox`): leases in UNIX
    seconds, a row is held while `claimed`, its claimer recorded in `claimed_by`."""
    d = table(PulseDelivery)
    # Hazard: `status || ''`, not `status`: with a bare status here SQLite walks every
    # pending row of the (status, ...) indexes instead of looking up the claimed ids.
    status = d.c.status + ""
    return outbox.LeaseTable(
        d, key="id", lease="lease_until", open=status.in_([PENDING, CLAIMED]),
        attempts="attempts", owner="claimed_by", unix=True, held=d.c.status == CLAIMED,
    )


def _at(unix_s: float) -> dt.datetime:
    """Track Pulse keeps UNIX seconds; the lease module takes aware UTC datetimes."""
    return dt.datetime.fromtimestamp(unix_s, dt.UTC)


# ----------------------------------------------------------------------------- feed


def _max_round_points(year: int) -> float:
    # 25 for a win, plus the fastest-lap point from 2019 to 2024.
    return 26.0 if 2019 <= year <= 2024 else 25.0


def _max_sprint_points(year: int) -> float:
    return 3.0 if year == 2021 else (8.0 if year >= 2022 else 0.0)


def load_feed(engine: Engine, session_id: int) -> RaceFeed:
    """Everything stored about one session, as a `RaceFeed` (final once classified)."""
    with OrmSession(engine) as conn:  # ORM session: rows come back as model objects
        srow = conn.execute(
            select(RaceSession, Event).join(Event, Event.id == RaceSession.event_id)
            .where(RaceSession.id == session_id)
        ).first()
        if srow is None:
            raise LookupError(f"no session with id {session_id}")
        sess, ev = srow
        sd = conn.execute(
            select(SessionDriver, Driver).join(Driver, Driver.id == SessionDriver.driver_id)
            .where(SessionDriver.session_id == session_id)
        ).all()
        code_of: dict[int, str] = {}
        teams: dict[str, str | None] = {}
        numbers: dict[str, str | None] = {}
        names: dict[str, str | None] = {}
        for s, d in sd:
            code = s.code or d.code or d.ref[:3].upper()
            code_of[d.id] = code
            teams[code], numbers[code], names[code] = s.team_name, s.number, d.full_name
        res_rows = conn.execute(
            select(Result, Driver).join(Driver, Driver.id == Result.driver_id)
            .where(Result.session_id == session_id)
        ).all()
        for _r, d in res_rows:
            code_of.setdefault(d.id, d.code or d.ref[:3].upper())
        grids = {code_of[r.driver_id]: r.grid for r, _d in res_rows}
        drivers = [
            DriverRec(code=c, number=numbers.get(c), name=names.get(c), team=teams.get(c),
                      grid=grids.get(c))
            for c in sorted(set(code_of.values()))
        ]
        laps = [
            LapRec(
                driver=code_of.get(lp.driver_id, str(lp.driver_id)), lap=lp.lap_number,
                position=lp.position, lap_time_ms=lp.lap_time_ms, time_ms=lp.time_ms,
                lap_start_ms=lp.lap_start_ms, pit_in_ms=lp.pit_in_ms, pit_out_ms=lp.pit_out_ms,
                compound=lp.compound, stint=lp.stint, tyre_life=lp.tyre_life,
                track_status=lp.track_status, deleted=lp.deleted,
            )
            for lp in conn.execute(select(Lap).where(Lap.session_id == session_id)).scalars()
        ]
        rcm = [
            RaceControlRec(seq=m.seq, message=m.message, lap=m.lap, category=m.category,
                           flag=m.flag, scope=m.scope, racing_number=m.racing_number)
            for m in conn.execute(
                select(RaceControlMessage).where(RaceControlMessage.session_id == session_id)
            ).scalars()
        ]
        weather = [
            WeatherRec(time_ms=w.time_ms, air_temp=w.air_temp, track_temp=w.track_temp,
                       rainfall=w.rainfall)
            for w in conn.execute(
                select(WeatherSample).where(WeatherSample.session_id == session_id)
            ).scalars()
        ]
        ts = [
            TrackStatusRec(seq=t.seq, status=t.status, time_ms=t.time_ms, message=t.message)
            for t in conn.execute(
                select(TrackStatusChange).where(TrackStatusChange.session_id == session_id)
            ).scalars()
        ]
        # The resolved classification (official beats timing), as every other view reads it.
        resolved = queries.results(conn.connection(), session_id)
        results = [
            ResultRec(
                driver=code_of[r.driver.id], position=r.position, position_text=r.position_text,
                status=r.status, points=r.points, grid=r.grid, laps=r.laps,
                team=r.team_name or teams.get(code_of[r.driver.id]),
                q1_ms=r.q1_ms, q2_ms=r.q2_ms, q3_ms=r.q3_ms, provisional=r.provisional,
            )
            for r in (resolved.rows if resolved else ())
        ]

        def standings(rnd: int) -> list[StandingRec]:
            rows = conn.execute(
                select(DriverStanding, Driver).join(Driver, Driver.id == DriverStanding.driver_id)
                .where(DriverStanding.year == ev.year, DriverStanding.round == rnd)
            ).all()
            return [
                StandingRec(driver=code_of.get(d.id) or d.code or d.ref[:3].upper(),
                            points=s.points, position=s.position, wins=s.wins)
                for s, d in rows
            ]

        is_race = sess.type in ("R", "S")
        before = standings(ev.round - 1) if ev.round > 1 else []
        # Standings "after" only describe this session when it is the round's race.
        after = standings(ev.round) if sess.type == "R" else []
        later = conn.execute(
            select(Event.round, Event.format).where(Event.year == ev.year, Event.round > ev.round)
        ).all()
        this_format = ev.format
    max_remaining: float | None = None
    max_before: float | None = None
    rounds_remaining: int | None = None
    if later or ev.round > 1:
        rounds_remaining = len(later)
        max_remaining = sum(
            _max_round_points(ev.year) + (_max_sprint_points(ev.year) if f in SPRINT_FORMATS else 0)
            for _r, f in later
        )
        if sess.type == "S":  # this round's grand prix is still to come
            max_remaining += _max_round_points(ev.year)
        max_before = max_remaining + (
            _max_sprint_points(ev.year) if sess.type == "S" else _max_round_points(ev.year)
            + (_max_sprint_points(ev.year) if this_format in SPRINT_FORMATS else 0)
        )
    total_laps = sess.total_laps or (max((lp.lap for lp in laps), default=0) or None)
    info = SessionInfo(
        session_id=session_id, year=ev.year, round=ev.round, event_name=ev.name,
        session_type=sess.type, total_laps=total_laps,
        max_points_remaining=max_remaining if is_race else None,
        rounds_remaining=rounds_remaining, max_points_before=max_before if is_race else None,
    )
    classified = any(r.position is not None for r in results)
    return RaceFeed.build(
        info, drivers, laps, race_control=rcm, weather=weather, track_status=ts,
        results=results if classified else (), standings_before=before, standings_after=after,
        final=classified,
    )


def find_session(engine: Engine, year: int, event: str | int, session_type: str = "R") -> int:
    """Session id for (year, event name / round, type); LookupError with a clear reason."""
    from storage import queries

    evs = queries.events(engine, year)
    if not evs:
        raise LookupError(f"no {year} events in the store (ingest the season first)")
    chosen = None
    if isinstance(event, int) or str(event).isdigit():
        chosen = next((e for e in evs if e.round == int(event)), None)
    else:
        matches = queries.match_events(evs, str(event))
        chosen = matches[0][1] if matches else None
    if chosen is None:
        raise LookupError(f"no {year} event matches {event!r}")
    with engine.connect() as conn:
        sid = conn.execute(
            select(RaceSession.id).where(
                RaceSession.event_id == chosen.id, RaceSession.type == session_type.upper()
            )
        ).scalar()
    if sid is None:
        raise LookupError(f"{chosen.label} has no {session_type} session in the store")
    return int(sid)


# ----------------------------------------------------------------------------- highlights


@dataclass(frozen=True, slots=True)
class StoredHighlight:
    id: int
    session_id: int
    key: str
    kind: str
    lap: int
    priority: Priority
    seq: int
    drivers: tuple[str, ...]
    teams: tuple[str, ...]
    facts: dict[str, Any]
    detected_at: float
    prefix: str = ""  # "2023:14:R", the session part of global keys

    @property
    def global_key(self) -> str:
        return f"{self.prefix}:{self.key}" if self.prefix else f"{self.session_id}:{self.key}"

    def as_highlight(self) -> PulseHighlight:
        return PulseHighlight(key=self.key, kind=self.kind, lap=self.lap, priority=self.priority,
                              drivers=self.drivers, facts=self.facts)


def _split(v: str) -> tuple[str, ...]:
    return tuple(x for x in v.split(",") if x)


def _stored(row: PulseHighlightRow, prefix: str = "") -> StoredHighlight:
    return StoredHighlight(
        id=row.id or 0, session_id=row.session_id, key=row.key, kind=row.kind, lap=row.lap,
        priority=Priority(row.priority), seq=row.seq, drivers=_split(row.drivers),
        teams=_split(row.teams), facts=json.loads(row.facts), detected_at=row.detected_at,
        prefix=prefix,
    )


def _prefix(engine: Engine, session_id: int) -> str:
    key = session_key(engine, session_id)
    return key.slug if key is not None else str(session_id)


def session_round(engine: Engine, session_id: int) -> tuple[int, int, str] | None:
    """(year, round, session type) of a stored session; None when unknown."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Event.year, Event.round, RaceSession.type).join(Event, Event.id == RaceSession.event_id)
            .where(RaceSession.id == session_id)
        ).first()
    return (int(row[0]), int(row[1]), str(row[2])) if row is not None else None


def race_session_of(engine: Engine, session_id: int) -> int | None:
    """The grand prix session of `session_id`'s weekend (where its pre-race preview is kept)."""
    with engine.connect() as conn:
        event_id = conn.execute(select(RaceSession.event_id).where(RaceSession.id == session_id)).scalar()
        if event_id is None:
            return None
        return conn.execute(
            select(RaceSession.id).where(RaceSession.event_id == event_id, RaceSession.type == "R")
        ).scalar()


def save_highlights(
    engine: Engine,
    session_id: int,
    highlights: Sequence[PulseHighlight],
    *,
    teams: dict[str, str | None] | None = None,
    now: float | None = None,
) -> list[StoredHighlight]:
    """Store highlights not stored yet (by key); return the NEW ones, in detection order."""
    now = time.time() if now is None else now
    teams = teams or {}
    tbl = table(PulseHighlightRow)
    with engine.begin() as conn:
        existing = set(
            conn.execute(select(tbl.c.key).where(tbl.c.session_id == session_id)).scalars()
        )
        base = conn.execute(
            select(func.coalesce(func.max(tbl.c.seq), 0)).where(tbl.c.session_id == session_id)
        ).scalar_one()
        rows = []
        for h in highlights:
            if h.key in existing:
                continue
            existing.add(h.key)
            base += 1
            rows.append({
                "session_id": session_id, "key": h.key, "kind": h.kind, "lap": h.lap,
                "priority": int(h.priority), "seq": base, "drivers": ",".join(h.drivers),
                "teams": ",".join(sorted({t for d in h.drivers if (t := teams.get(d))})),
                "facts": json.dumps(h.facts, sort_keys=True, default=str), "detected_at": now,
            })
        upsert(conn, PulseHighlightRow, rows, ["session_id", "key"], update=())
        keys = [r["key"] for r in rows]
    if not keys:
        return []
    with OrmSession(engine) as orm:
        stored = orm.execute(
            select(PulseHighlightRow).where(
                PulseHighlightRow.session_id == session_id, PulseHighlightRow.key.in_(keys)
            ).order_by(PulseHighlightRow.seq)
        ).scalars().all()
    prefix = _prefix(engine, session_id)
    return [_stored(r, prefix) for r in stored]


def session_highlights(engine: Engine, session_id: int) -> list[StoredHighlight]:
    """Every stored highlight of one session, in detection order (a digest reads its window)."""
    with OrmSession(engine) as orm:
        rows = orm.execute(
            select(PulseHighlightRow).where(PulseHighlightRow.session_id == session_id)
            .order_by(PulseHighlightRow.seq)
        ).scalars().all()
    prefix = _prefix(engine, session_id)
    return [_stored(r, prefix) for r in rows]


def recent_highlights(
    engine: Engine, *, limit: int = 10, session_id: int | None = None,
    min_priority: Priority = Priority.LOW,
) -> list[StoredHighlight]:
    """The latest detected highlights (newest session first, then detection order)."""
    stmt = select(PulseHighlightRow).where(PulseHighlightRow.priority >= int(min_priority),
                                           PulseHighlightRow.kind.not_in(sorted(INTERNAL_KINDS)))
    if session_id is not None:
        stmt = stmt.where(PulseHighlightRow.session_id == session_id)
    stmt = stmt.order_by(PulseHighlightRow.detected_at.desc(), PulseHighlightRow.session_id.desc(),
                         PulseHighlightRow.seq.desc()).limit(limit)
    with OrmSession(engine) as conn:
        rows = conn.execute(stmt).scalars().all()
    prefixes = {sid: _prefix(engine, sid) for sid in {r.session_id for r in rows}}
    return list(reversed([_stored(r, prefixes[r.session_id]) for r in rows]))


# ----------------------------------------------------------------------------- subscriptions


@dataclass(frozen=True, slots=True)
class Subscription:
    channel_id: str
    active: bool
    kinds: tuple[str, ...]
    min_priority: Priority
    drivers: tuple[str, ...]
    teams: tuple[str, ...]
    spoiler_delay_s: int
    session_types: tuple[str, ...]
    tone: str
    length: str
    language: str

    def wants(self, h: StoredHighlight, session_type: str) -> bool:
        """The channel's filters: session type, kind, priority, drivers / teams followed."""
        if not self.active:
            return False
        if self.session_types and session_type not in self.session_types:
            return False
        if self.kinds and h.kind not in self.kinds:
            return False
        if not self.kinds and h.kind in OPT_IN_KINDS:
            return False
        if h.priority < self.min_priority:
            return False
        if self.drivers or self.teams:
            hit_driver = bool(set(self.drivers) & set(h.drivers))
            hit_team = any(t.lower() in ht.lower() for t in self.teams for ht in h.teams)
            # Whole-field stories (safety car, result, weather) name no driver: always keep them.
            if h.drivers and not (hit_driver or hit_team) and h.kind not in ("result", "championship"):
                return False
        return True


def _sub(row: PulseSubscription) -> Subscription:
    return Subscription(
        channel_id=row.channel_id, active=row.active, kinds=_split(row.kinds),
        min_priority=Priority(row.min_priority), drivers=_split(row.drivers),
        teams=_split(row.teams), spoiler_delay_s=row.spoiler_delay_s,
        session_types=_split(row.session_types), tone=row.tone, length=row.length,
        language=row.language,
    )


TONES = ("casual", "technical", "neutral")
LENGTHS = ("short", "medium", "long")


def subscribe(
    engine: Engine,
    channel_id: str,
    *,
    kinds: Iterable[str] | None = None,
    min_priority: Priority | str | int = Priority.MEDIUM,
    drivers: Iterable[str] | None = None,
    teams: Iterable[str] | None = None,
    spoiler_delay_s: int = 0,
    session_types: Iterable[str] | None = None,
    tone: str = "neutral",
    length: str = "short",
    language: str = "en",
    by: str | None = None,
) -> Subscription:
    """Create or replace a channel's subscription (idempotent). ValueError on bad filters."""
    kinds_t = tuple(sorted({k.strip().lower() for k in (kinds or ()) if k.strip()}))
    bad = [k for k in kinds_t if k not in KINDS]
    if bad:
        raise ValueError(f"unknown highlight kind(s): {', '.join(bad)}")
    if tone not in TONES:
        raise ValueError(f"tone must be one of {', '.join(TONES)}")
    if length not in LENGTHS:
        raise ValueError(f"length must be one of {', '.join(LENGTHS)}")
    if spoiler_delay_s < 0 or spoiler_delay_s > 7 * 24 * 3600:
        raise ValueError("spoiler delay must be between 0 and 7 days")
    values = {
        "channel_id": channel_id, "active": True, "kinds": ",".join(kinds_t),
        "min_priority": int(Priority.parse(min_priority)),
        "drivers": ",".join(sorted({d.strip().upper() for d in (drivers or ()) if d.strip()})),
        "teams": ",".join(sorted({t.strip() for t in (teams or ()) if t.strip()})),
        "spoiler_delay_s": int(spoiler_delay_s),
        "session_types": ",".join(s.upper() for s in (session_types or ("R", "S", "Q", "SQ"))),
        "tone": tone, "length": length, "language": (language or "en").lower()[:8],
        "updated_at": time.time(), "updated_by": by,
    }
    with engine.begin() as conn:
        upsert(conn, PulseSubscription, [values], ["channel_id"])
    sub = get_subscription(engine, channel_id)
    assert sub is not None
    return sub


def unsubscribe(engine: Engine, channel_id: str) -> bool:
    """Stop a channel's highlights now: deactivate and skip what is still queued for it.

    Returns False when the channel had no active subscription.
    """
    with engine.begin() as conn:
        res = conn.execute(
            update(PulseSubscription)
            .where(PulseSubscription.channel_id == channel_id, PulseSubscription.active.is_(True))
            .values(active=False, updated_at=time.time())
        )
        # A claimed row may be mid-post: leave it to finish; everything not yet claimed stops.
        conn.execute(
            update(PulseDelivery)
            .where(PulseDelivery.channel_id == channel_id,
                   PulseDelivery.status.in_([PENDING, GROUPED]))
            .values(status=SKIPPED, last_error="unsubscribed")
        )
    return bool(res.rowcount)


def get_subscription(engine: Engine, channel_id: str) -> Subscription | None:
    with OrmSession(engine) as conn:
        row = conn.execute(
            select(PulseSubscription).where(PulseSubscription.channel_id == channel_id)
        ).scalar()
    return _sub(row) if row else None


def list_subscriptions(engine: Engine, *, active_only: bool = True) -> list[Subscription]:
    stmt = select(PulseSubscription).order_by(PulseSubscription.channel_id)
    if active_only:
        stmt = stmt.where(PulseSubscription.active.is_(True))
    with OrmSession(engine) as conn:
        return [_sub(r) for r in conn.execute(stmt).scalars()]


# ----------------------------------------------------------------------------- outbox


def idempotency_key(channel_id: str, global_keys: Sequence[str]) -> str:
    """Stable per (channel, highlight set): the platform's de-duplication key (a Discord
    nonce is at most 25 characters, so it is a hash)."""
    raw = channel_id + "|" + "|".join(sorted(global_keys))
    return hashlib.sha256(raw.encode()).hexdigest()[:25]


@dataclass(frozen=True, slots=True)
class Message:
    """One message to enqueue for one channel: a highlight, or a burst told as one."""

    channel_id: str
    highlights: tuple[StoredHighlight, ...]
    text: str
    not_before: float
    # An evolving story ("fastest_lap", "battle:LEC:SAI"), unique within the highlights'
    # session: its first message in a channel is posted, every later one edits it.
    story: str | None = None


def _scoped_story(m: Message) -> str | None:
    """The story key as stored: prefixed by the session of its highlights, so a story
    named alike in another session (next race's "fastest_lap") starts a new message."""
    if m.story is None or not m.highlights:
        return None
    h = m.highlights[0]
    return f"{h.prefix or h.session_id}:{m.story}"


def _story_heads(conn: Any, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(channel, scoped story) -> id of the story's head row in that channel, if queued."""
    d = table(PulseDelivery)
    found: dict[tuple[str, str], int] = {}
    channels = sorted({c for c, _ in wanted})
    stories = sorted({s for _, s in wanted})
    for i in range(0, len(channels), 500):
        rows = conn.execute(
            select(d.c.channel_id, d.c.story, d.c.id).where(
                d.c.channel_id.in_(channels[i : i + 500]), d.c.story.in_(stories),
                d.c.edits_id.is_(None),
            ).order_by(d.c.seq)  # two heads only after racing enqueues: the older one wins
        ).all()
        for c, st, rid in rows:
            found.setdefault((c, st), int(rid))
    return found


def enqueue(engine: Engine, messages: Sequence[Message], *, now: float | None = None) -> int:
    """Write deliveries (one row per channel and highlight; a burst's extra rows are
    `grouped` under the first). Already-queued (channel, highlight) pairs are left
    alone. Returns the number of new messages.

    A message with a `story` whose head is already queued for its channel (this call
    or an earlier one) is written with `edits_id` = the head's id: it will edit that
    message. The story's first message is an ordinary post, the story's head."""
    now = time.time() if now is None else now
    tbl = table(PulseDelivery)
    new_messages = 0
    with engine.begin() as conn:
        seq0 = conn.execute(select(func.coalesce(func.max(tbl.c.seq), 0))).scalar_one()
        pairs = {(m.channel_id, h.id) for m in messages for h in m.highlights}
        channels = sorted({c for c, _ in pairs})
        queued: set[tuple[str, int]] = set()
        for i in range(0, len(channels), 500):
            chunk = channels[i : i + 500]
            queued.update(
                (c, hid) for c, hid in conn.execute(
                    select(tbl.c.channel_id, tbl.c.highlight_id).where(
                        tbl.c.channel_id.in_(chunk),
                        tbl.c.highlight_id.in_(sorted({h for _, h in pairs})),
                    )
                )
            )
        wanted = {(m.channel_id, st) for m in messages if (st := _scoped_story(m)) is not None}
        story_heads = _story_heads(conn, wanted) if wanted else {}
        new_heads: dict[tuple[str, str], dict[str, Any]] = {}  # stories starting in this call
        edits_of_new: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (row, its head's row)
        leaders: list[dict[str, Any]] = []
        members: list[tuple[int, list[dict[str, Any]]]] = []
        for m in _interleaved(messages):
            fresh = [h for h in m.highlights if (m.channel_id, h.id) not in queued]
            if not fresh:
                continue
            seq0 += 1
            story = _scoped_story(m)
            row = {
                "highlight_id": fresh[0].id, "channel_id": m.channel_id, "seq": seq0,
                "status": PENDING, "group_leader_id": None,
                "idempotency_key": idempotency_key(m.channel_id, [h.global_key for h in fresh]),
                "text": m.text, "not_before": m.not_before, "attempts": 0, "created_at": now,
                "story": story, "edits_id": None,
            }
            if story is not None:
                key = (m.channel_id, story)
                if key in story_heads:
                    row["edits_id"] = story_heads[key]
                elif key in new_heads:
                    edits_of_new.append((row, new_heads[key]))
                else:
                    new_heads[key] = row
            leaders.append(row)
            if len(fresh) > 1:
                members.append((len(leaders) - 1, [
                    {"highlight_id": h.id, "channel_id": m.channel_id, "seq": seq0,
                     "status": GROUPED, "text": "", "not_before": m.not_before, "attempts": 0,
                     "created_at": now,
                     "idempotency_key": idempotency_key(m.channel_id, [h.global_key]) + "g"}
                    for h in fresh[1:]
                ]))
            new_messages += 1
        # Already-queued pairs were filtered above; a concurrent enqueue's are left alone.
        # Edits of a story started in this call go in second, once their head has an id.
        later = {id(r) for r, _h in edits_of_new}
        upsert(conn, PulseDelivery, [r for r in leaders if id(r) not in later],
               ["channel_id", "highlight_id"], update=())
        if edits_of_new:
            head_ids = _ids_by_key(conn, [h["idempotency_key"] for _r, h in edits_of_new])
            for r, h in edits_of_new:
                # No id: a concurrent enqueue took the head's pair; this row then posts anew.
                r["edits_id"] = head_ids.get(h["idempotency_key"])
            upsert(conn, PulseDelivery, [r for r, _h in edits_of_new],
                   ["channel_id", "highlight_id"], update=())
        first: dict[str, int] = {}
        for row in leaders:  # each channel's first new message (seqs rise within a channel)
            first.setdefault(row["channel_id"], row["seq"])
        heads.start(conn, first.items())
        if members:
            ids = _ids_by_key(conn, [leaders[i]["idempotency_key"] for i, _ in members])
            rows = []
            for i, mem in members:
                lid = ids.get(leaders[i]["idempotency_key"])
                for r in mem:
                    r["group_leader_id"] = lid
                    rows.append(r)
            upsert(conn, PulseDelivery, rows, ["channel_id", "highlight_id"], update=())
    return new_messages


def _ids_by_key(conn: Any, keys: Sequence[str]) -> dict[str, int]:
    """Row ids of just-written rows, by idempotency key (unique)."""
    d = table(PulseDelivery)
    out: dict[str, int] = {}
    for i in range(0, len(keys), 500):
        out.update((k, int(v)) for k, v in conn.execute(
            select(d.c.idempotency_key, d.c.id).where(d.c.idempotency_key.in_(keys[i : i + 500]))
        ).all())
    return out


def _interleaved(messages: Sequence[Message]) -> list[Message]:
    """Every channel's first message, then every channel's second, and so on.

    A channel's own order is kept (its `seq`s still rise); across channels, a round
    robin: heads are claimed oldest `seq` first, so channels progress evenly instead
    of the first channel's whole backlog going out before the last channel's first.
    """
    rank: dict[str, int] = {}
    keyed = []
    for i, m in enumerate(messages):
        k = rank.get(m.channel_id, 0)
        rank[m.channel_id] = k + 1
        keyed.append((k, i, m))
    keyed.sort(key=lambda t: (t[0], t[1]))
    return [m for _, _, m in keyed]


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    channel_id: str
    text: str
    idempotency_key: str
    attempts: int
    highlight_id: int
    # An earlier claim of this row ended without a result (the deliverer died, or the post
    # failed ambiguously): the message may already be on the platform. See `release`.
    maybe_posted: bool = False
    # This row edits a story: the platform id of the message to edit (the head's). None
    # for an ordinary post, or when the story has no posted message yet (see `claim`).
    edit_message_id: str | None = None


def new_worker_id() -> str:
    return uuid.uuid4().hex[:16]


def claim(
    engine: Engine, worker: str, *, now: float, lease_s: float = 60.0, limit: int = 50,
    skip_channels: Iterable[str] = (),
) -> list[Claimed]:
    """Claim up to `limit` due messages: the oldest unfinished one of each channel.

    A row is due when it is pending (or claimed with an expired lease) and its
    `not_before` has passed, and it is its channel's head (`storage.pulse_heads`).
    A row taken over from an expired claim comes back with `maybe_posted=True`.
    Both reads are index ranges that stop at `limit`: the cost does not grow with
    the backlog (checked with EXPLAIN on SQLite and PostgreSQL).
    """
    d = table(PulseDelivery)
    skip = sorted(set(skip_channels))
    with engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        # Expired claims first (a deliverer died; few rows, all heads), then due heads.
        expired = select(d.c.id).where(
            d.c.status == CLAIMED, d.c.lease_until < now, d.c.not_before + 0 <= now,
        ).order_by(d.c.status, d.c.seq).limit(limit)
        if skip:
            expired = expired.where(d.c.channel_id.not_in(skip))
        picks = [(expired, CLAIMED), (heads.due_heads(now, limit, skip), PENDING)]
        before: dict[int, str] = {}
        for pick, status in picks:
            if len(before) >= limit:
                break
            pick = pick.limit(limit - len(before))
            if pg:
                # Rows another deliverer is claiming right now are skipped, not waited for.
                pick = pick.with_for_update(skip_locked=True)
            before.update((int(i), status) for i in conn.execute(pick).scalars())
        # The atomic step re-checks the state (pending, or claimed with an expired lease):
        # on SQLite this UPDATE is the claim.
        ids = outbox.claim_keys(conn, _queue(), list(before), now=_at(now), lease_s=lease_s,
                                owner=worker, extra={"status": CLAIMED})
        if not ids:
            return []
        rows = conn.execute(
            select(d.c.id, d.c.channel_id, d.c.text, d.c.idempotency_key, d.c.attempts,
                   d.c.highlight_id, d.c.edits_id, d.c.seq)
            .where(d.c.id.in_(ids), d.c.claimed_by == worker, d.c.status == CLAIMED)
            .order_by(d.c.seq)
        ).all()
        targets = _edit_targets(conn, [(r.edits_id, r.seq) for r in rows if r.edits_id is not None])
    return [
        Claimed(r.id, r.channel_id, r.text, r.idempotency_key, r.attempts, r.highlight_id,
                maybe_posted=before.get(r.id) == CLAIMED,
                edit_message_id=targets.get((r.edits_id, r.seq)))
        for r in rows
    ]


def _edit_targets(conn: Any, edits: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(head id, seq of an edit row) -> the message that edit row edits.

    A channel has one row in flight and its rows go out in seq order, so a story's
    head (an earlier seq, same channel) is settled before any edit of it is claimed.
    The message edited is the story's latest posted one before the row: the head's
    (its edits record the head's message id). If the head FAILED, was skipped or has
    no message id, there is none and the edit is posted as a new message instead;
    the story's later edits then edit that message.
    """
    if not edits:
        return {}
    d = table(PulseDelivery)
    head_ids = sorted({h for h, _s in edits})
    posted: dict[int, list[tuple[int, str]]] = {}  # head id -> (seq, message id), in seq order
    for hid, eid, seq, mid in conn.execute(
        select(d.c.id, d.c.edits_id, d.c.seq, d.c.message_id).where(
            or_(d.c.id.in_(head_ids), d.c.edits_id.in_(head_ids)),
            d.c.status == POSTED, d.c.message_id.is_not(None),
        ).order_by(d.c.seq)
    ).all():
        posted.setdefault(int(eid if eid is not None else hid), []).append((int(seq), str(mid)))
    out: dict[tuple[int, int], str] = {}
    for head, seq in edits:
        before = [mid for s, mid in posted.get(head, ()) if s < seq]
        if before:
            out[(head, seq)] = before[-1]
    return out


def mark_posted(engine: Engine, delivery_id: int, worker: str, message_id: str, *, now: float) -> bool:
    """Record the platform message id (and the burst members with it). False if our claim
    was lost (lease expired and another deliverer took it): its result then wins."""
    d = table(PulseDelivery)
    with engine.begin() as conn:
        done = outbox.finish_rows(
            conn, _queue(), [delivery_id], owner=worker, returning=("channel_id", "seq"),
            values={"status": POSTED, "message_id": message_id, "posted_at": now, "last_error": None},
        )
        if done:
            conn.execute(
                update(d).where(d.c.group_leader_id == delivery_id, d.c.status == GROUPED)
                .values(status=POSTED, message_id=message_id, posted_at=now)
            )
            heads.advance(conn, [(c, s) for c, s in done])
    return bool(done)


def mark_posted_many(
    engine: Engine, posted: Sequence[tuple[int, str]], worker: str, *, now: float
) -> int:
    """`mark_posted` for a round of posts in ONE transaction (a crash before it only means
    those rows are re-posted with their keys, which the platform de-duplicates).

    Two statements per chunk whatever its size: the leaders (still claimed by us; a
    row whose claim we lost is left to its new owner) with their message ids, then
    the burst members of exactly those leaders, copying the leader's message id.
    """
    if not posted:
        return 0
    d = table(PulseDelivery)
    members = d.alias("leader")
    done = 0
    with engine.begin() as conn:
        for i in range(0, len(posted), 500):
            chunk = dict(posted[i : i + 500])
            mids = case(chunk, value=d.c.id)  # id -> its message id, in one UPDATE
            finished = outbox.finish_rows(
                conn, _queue(), list(chunk), owner=worker, returning=("id", "channel_id", "seq"),
                values={"status": POSTED, "message_id": mids, "posted_at": now, "last_error": None},
            )
            won = [int(i) for i, _c, _s in finished]
            heads.advance(conn, [(c, s) for _i, c, s in finished])
            done += len(won)
            if won:
                conn.execute(
                    update(d).where(d.c.group_leader_id.in_(won), d.c.status == GROUPED)
                    .values(status=POSTED, posted_at=now, message_id=(
                        select(members.c.message_id)
                        .where(members.c.id == d.c.group_leader_id)
                        .scalar_subquery()
                    ))
                )
    return done


def release(
    engine: Engine, delivery_id: int, worker: str, *, not_before: float, error: str | None = None,
    maybe_posted: bool = False,
) -> None:
    """Give a claim back (rate limited, transient error): due again at `not_before`, and
    the channel's later messages with it.

    `maybe_posted`: the attempt may have reached the platform (connection lost after
    sending). The row then stays `claimed` with a lease ending at `not_before`, exactly
    like a claim whose deliverer died, so whoever takes it next (any process, after any
    restart) is told `maybe_posted` and checks the platform before posting again.
    """
    d = table(PulseDelivery)
    # maybe_posted: still held, the lease ending at `not_before`; else open again at once.
    values: dict[str, Any] = {} if maybe_posted else {"status": PENDING, "claimed_by": None}
    with engine.begin() as conn:
        res = outbox.release_row(
            conn, _queue(), delivery_id, owner=worker, returning=("channel_id", "seq"),
            until=_at(not_before) if maybe_posted else None,
            values={"not_before": not_before, "last_error": error, **values},
        )
        if res is not None:
            # The whole channel waits, not just this row: its later rows must not look due,
            # or they would fill the claim's window ahead of other channels' heads.
            conn.execute(
                update(d).where(d.c.channel_id == res[0], d.c.seq > res[1],
                                d.c.status == PENDING, d.c.not_before < not_before)
                .values(not_before=not_before)
            )


def mark_failed(engine: Engine, delivery_id: int, worker: str, error: str) -> None:
    """A permanent failure (channel gone): recorded, never retried, never silently dropped."""
    d = table(PulseDelivery)
    with engine.begin() as conn:
        done = outbox.finish_rows(
            conn, _queue(), [delivery_id], owner=worker, returning=("channel_id", "seq"),
            values={"status": FAILED, "last_error": error[:500]},
        )
        if done:
            conn.execute(
                update(d).where(d.c.group_leader_id == delivery_id, d.c.status == GROUPED)
                .values(status=FAILED, last_error=error[:500])
            )
            heads.advance(conn, [(c, s) for c, s in done])


def outbox_counts(engine: Engine, channel_id: str | None = None) -> dict[str, int]:
    d = table(PulseDelivery)
    stmt = select(d.c.status, func.count()).group_by(d.c.status)
    if channel_id is not None:
        stmt = stmt.where(d.c.channel_id == channel_id)
    with engine.connect() as conn:
        return {s: int(n) for s, n in conn.execute(stmt).all()}


def posted_for_channel(engine: Engine, channel_id: str) -> list[tuple[str, str | None]]:
    """(highlight key, message id) of what a channel got, in order."""
    d = table(PulseDelivery)
    h = table(PulseHighlightRow)
    with engine.connect() as conn:
        rows = conn.execute(
            select(h.c.key, d.c.message_id).join(h, h.c.id == d.c.highlight_id)
            .where(d.c.channel_id == channel_id, d.c.status == POSTED)
            .order_by(d.c.seq, d.c.id)
        ).all()
    return [(k, m) for k, m in rows]


def session_teams(engine: Engine, session_id: int) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SessionDriver.code, SessionDriver.team_name, Driver.code)
            .join(Driver, Driver.id == SessionDriver.driver_id)
            .where(SessionDriver.session_id == session_id)
        ).all()
    return {(c or dc): t for c, t, dc in rows if (c or dc)}


Render = Callable[[Sequence[StoredHighlight], Subscription], str]
