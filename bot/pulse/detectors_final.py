"""Detectors that run once a session is over: result, championship, stints, qualifying."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.pulse.state import RaceFeed, ResultRec, StandingRec
from bot.pulse.types import Priority

if TYPE_CHECKING:
    from bot.pulse.detectors import Emitter, PulseState

_NOT_FINISHED = ("R", "D", "E", "W", "F", "N")  # Ergast position_text codes


def final(feed: RaceFeed, state: PulseState, em: Emitter) -> None:
    if feed.info.is_race:
        _longest_stint(feed, em)
        if feed.results:
            _late_retirements(feed, state, em)
            _result(feed, state, em)
            _championship(feed, em)
    elif feed.info.is_qualifying and feed.results:
        _qualifying(feed, em)


def _longest_stint(feed: RaceFeed, em: Emitter) -> None:
    stints: dict[tuple[str, int], list[int]] = {}
    compounds: dict[tuple[str, int], str | None] = {}
    for rec in feed.laps:
        if rec.stint is None or rec.time_ms is None:
            continue
        stints.setdefault((rec.driver, rec.stint), []).append(rec.lap)
        compounds.setdefault((rec.driver, rec.stint), rec.compound)
    if not stints:
        return
    (driver, stint), laps = max(stints.items(), key=lambda kv: (len(kv[1]), -min(kv[1]), kv[0][0]))
    em.emit(
        "stint:longest", "stint", feed.last_lap, Priority.LOW, (driver,),
        driver=driver, stint=stint, laps=len(laps), compound=compounds[(driver, stint)],
        from_lap=min(laps), to_lap=max(laps), note="longest stint of the race",
    )


def _finished(r: ResultRec) -> bool:
    """From the official position text / status (storage.queries resolves them): a
    provisional row has neither, so only the live retirements (state.retired) count."""
    if r.position_text and r.position_text.strip().upper() in _NOT_FINISHED:
        return False
    status = (r.status or "").lower()
    return not status or status == "finished" or status.startswith("+") or "lap" in status


def _late_retirements(feed: RaceFeed, state: PulseState, em: Emitter) -> None:
    """Cars the official classification says did not finish that timing never showed
    stopping: a lapped car that stopped in the last laps, a car classified though out."""
    from bot.pulse.detectors import retirement  # the live detector's emitter (no import cycle)

    for r in feed.results:
        if r.driver in state.retired or _finished(r) or r.provisional:
            continue
        laps = [rec for rec in feed.laps if rec.driver == r.driver and rec.time_ms is not None
                and rec.lap in feed.by_lap and r.driver in feed.by_lap[rec.lap]]
        last = max(laps, key=lambda rec: rec.lap) if laps else None
        dns = (r.position_text or "").strip().upper() == "W" or "not start" in (r.status or "").lower()
        retirement(feed, state, em, r.driver, last, reason=r.status, did_not_start=dns)


def _result(feed: RaceFeed, state: PulseState, em: Emitter) -> None:
    ordered = [r for r in feed.results if r.position is not None]
    if not ordered:
        return
    winner = ordered[0]
    top = [
        {"position": r.position, "driver": r.driver, "team": r.team, "points": r.points,
         "grid": r.grid}
        for r in ordered[:10]
    ]
    dnf = [
        {"driver": r.driver, "status": r.status}
        for r in feed.results
        if not _finished(r) or (r.driver in state.retired and r.status is None)
    ]
    fastest = None
    if state.fastest is not None:
        fastest = {"driver": state.fastest[1], "lap": state.fastest[2], "lap_time_ms": state.fastest[0]}
    em.emit(
        "result", "result", feed.last_lap, Priority.CRITICAL,
        [r.driver for r in ordered[:3]],
        winner=winner.driver, winner_team=winner.team, winner_grid=winner.grid,
        podium=[r.driver for r in ordered[:3]], top10=top, not_classified=dnf,
        fastest_lap=fastest, points_known=any(r.points is not None for r in ordered),
        laps=feed.last_lap,
        # The order on the road until the official classification arrives: said so.
        provisional=any(r.provisional for r in ordered),
    )


def _table(rows: tuple[StandingRec, ...] | list[StandingRec]) -> list[StandingRec]:
    return sorted(rows, key=lambda s: (-s.points, s.position or 999, s.driver))


def _championship(feed: RaceFeed, em: Emitter) -> None:
    """Points gained, the leader (new or not), the gap, and who can still win."""
    before = {s.driver: s.points for s in feed.standings_before}
    gained = {r.driver: r.points for r in feed.results if r.points is not None}
    if feed.standings_after:
        after_rows = _table(feed.standings_after)
        source = "standings"
    elif feed.standings_before and gained:
        totals = dict(before)
        for d, p in gained.items():
            totals[d] = totals.get(d, 0.0) + p
        after_rows = _table([StandingRec(driver=d, points=p) for d, p in totals.items()])
        source = "computed from results"
    else:
        return  # no championship data in the store: say nothing rather than guess
    if not after_rows:
        return
    after = {s.driver: s.points for s in after_rows}
    leader = after_rows[0]
    second = after_rows[1] if len(after_rows) > 1 else None
    before_rows = _table(feed.standings_before) if feed.standings_before else []
    leader_before = before_rows[0].driver if before_rows else None
    new_leader = leader_before is not None and leader_before != leader.driver
    points_gained = {
        d: after[d] - before.get(d, 0.0) for d in after if d in gained or d in before
    }
    movers = sorted(
        ({"driver": d, "gained": g, "total": after[d]} for d, g in points_gained.items() if g > 0),
        key=lambda m: (-m["gained"], m["driver"]),
    )[:5]
    facts: dict[str, Any] = {
        "leader": leader.driver,
        "leader_points": leader.points,
        "second": second.driver if second else None,
        "second_points": second.points if second else None,
        "gap": (leader.points - second.points) if second else None,
        "new_leader": new_leader,
        "previous_leader": leader_before,
        "points_gained": movers,
        "source": source,
        "rounds_remaining": feed.info.rounds_remaining,
        "max_points_remaining": feed.info.max_points_remaining,
    }
    can_win: list[str] | None = None
    clinched = decided_before = False
    if feed.info.max_points_remaining is not None:
        cap = feed.info.max_points_remaining
        can_win = [s.driver for s in after_rows if s.points + cap >= leader.points]
        clinched = can_win == [leader.driver]
        # Decided at an earlier round: the title is told once, where it was won.
        cap_before = feed.info.max_points_before
        if clinched and before_rows and cap_before is not None:
            top = before_rows[0]
            decided_before = top.driver == leader.driver and all(
                s.points + cap_before < top.points for s in before_rows[1:]
            )
            clinched = not decided_before
    facts["can_still_win"] = can_win
    facts["clinched"] = clinched
    facts["decided_before"] = decided_before
    if feed.info.title_odds and not (clinched or decided_before):
        facts["title_odds"] = feed.info.title_odds  # the model's odds, fetched by the pipeline
    prio = Priority.CRITICAL if (new_leader or clinched) else Priority.HIGH
    drivers = [leader.driver] + ([second.driver] if second else [])
    em.emit("championship", "championship", feed.last_lap, prio, drivers, **facts)


def _qualifying(feed: RaceFeed, em: Emitter) -> None:
    ordered = [r for r in feed.results if r.position is not None]
    if not ordered:
        return
    pole = ordered[0]
    second = ordered[1] if len(ordered) > 1 else None
    pole_ms = pole.q3_ms or pole.q2_ms or pole.q1_ms
    second_ms = (second.q3_ms or second.q2_ms or second.q1_ms) if second else None
    em.emit(
        "pole", "pole", 0, Priority.CRITICAL, [pole.driver],
        driver=pole.driver, team=pole.team, lap_time_ms=pole_ms,
        second=second.driver if second else None,
        margin_ms=(second_ms - pole_ms) if (second_ms and pole_ms) else None,
        front_row=[r.driver for r in ordered[:2]],
    )
    # Knocked out by segment: a Q1 time but no Q2 time; a Q2 time but no Q3 time.
    q1_out = [r for r in ordered if r.q1_ms is not None and r.q2_ms is None]
    q2_out = [r for r in ordered if r.q2_ms is not None and r.q3_ms is None]
    has_segments = any(r.q2_ms is not None for r in ordered)
    if not has_segments:  # no segment times: fall back to the 2023 format's positions
        q1_out = [r for r in ordered if (r.position or 0) > 15]
        q2_out = [r for r in ordered if 10 < (r.position or 0) <= 15]
    for seg, out in (("Q1", q1_out), ("Q2", q2_out)):
        if out:
            em.emit(
                f"knockout:{seg}", "knockout", 0, Priority.MEDIUM, [r.driver for r in out],
                segment=seg, drivers_out=[{"driver": r.driver, "position": r.position,
                                           "team": r.team} for r in out],
            )
    _quali_surprises(feed, ordered, em)


def _quali_surprises(feed: RaceFeed, ordered: list[ResultRec], em: Emitter) -> None:
    """A driver far from where the championship (or the team mate) says they belong."""
    standing = {s.driver: i + 1 for i, s in enumerate(_table(feed.standings_before))}
    by_team: dict[str, list[ResultRec]] = {}
    for r in ordered:
        if r.team:
            by_team.setdefault(r.team, []).append(r)
    for r in ordered:
        pos = r.position or 0
        expected = standing.get(r.driver)
        if expected is not None and expected - pos >= 8 and pos <= 10:
            em.emit(f"quali_surprise:{r.driver}", "quali_surprise", 0, Priority.HIGH, [r.driver],
                    driver=r.driver, position=pos, championship_position=expected,
                    direction="up", team=r.team)
        elif expected is not None and pos - expected >= 10 and expected <= 5:
            em.emit(f"quali_surprise:{r.driver}", "quali_surprise", 0, Priority.HIGH, [r.driver],
                    driver=r.driver, position=pos, championship_position=expected,
                    direction="down", team=r.team)
        elif expected is None and r.team:
            mates = [m for m in by_team.get(r.team, []) if m.driver != r.driver]
            if mates and pos - (mates[0].position or 0) >= 10:
                em.emit(f"quali_surprise:{r.driver}", "quali_surprise", 0, Priority.MEDIUM,
                        [r.driver, mates[0].driver], driver=r.driver, position=pos,
                        team_mate=mates[0].driver, team_mate_position=mates[0].position,
                        direction="down", team=r.team)
