"""Detect → store → write → enqueue, for one session (called by the service after each ingest).

Detection re-runs over the whole stored session every time: it is pure and
takes a few milliseconds, and highlights are stored by key, so a second run
adds only what is new (a live session grows lap by lap). Each subscribed
channel then gets the new highlights it asked for, bursts grouped, written in
its style, as outbox rows the `Deliverer` posts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bot.forecast_format import odds_line
from bot.lab import CircuitParams
from bot.prompting import Style
from bot.pulse.commentary import Commentator
from bot.pulse.detectors import detect_all
from bot.pulse.forecast import add_forecasts
from bot.pulse.preview import preview_highlight
from bot.pulse.stories import PHASE, Told, tell
from bot.pulse.types import PulseHighlight
from storage import pulse_store
from storage.pulse_store import Message, StoredHighlight, Subscription
from storage.race_feed import RaceFeed

log = logging.getLogger(__name__)


def detect_session(engine: Engine, session_id: int, *, now: float | None = None,
                   title_odds: str = "") -> list[StoredHighlight]:
    """Run detection over the stored session; store and return the highlights not stored yet.
    `title_odds` (the predictor's line, fetched by `run_session`) goes into the championship
    highlight: the detectors stay pure and read it from the feed."""
    return detect_feed(engine, session_id, pulse_store.load_feed(engine, session_id), now=now,
                       title_odds=title_odds)


def detect_feed(engine: Engine, session_id: int, feed: RaceFeed, *, now: float | None = None,
                title_odds: str = "") -> list[StoredHighlight]:
    """`detect_session` over a feed already loaded."""
    if title_odds:
        feed = dataclasses.replace(feed, info=dataclasses.replace(feed.info, title_odds=title_odds))
    highlights = detect_all(feed)
    # Battles told for the first time carry the Race Lab forecast (`bot.pulse.forecast`); the
    # circuit is fitted only when there is one (most ingests of a live race have none).
    stored = {s.key for s in pulse_store.session_highlights(engine, session_id)}
    if any(h.kind == "battle" and h.key not in stored for h in highlights):
        highlights = add_forecasts(feed, highlights, circuit_params(engine, feed), skip=stored)
    teams = {code: d.team for code, d in feed.drivers.items()}
    return pulse_store.save_highlights(engine, session_id, highlights, teams=teams, now=now)


def circuit_params(engine: Engine, feed: pulse_store.RaceFeed) -> CircuitParams | None:
    """The circuit's passing parameters for the battle forecast, from the Race Lab model fitted
    on the stored race (this thread is already off the event loop); None (the forecast's
    defaults) when the race cannot be fitted yet (a race with too few laps, no laps)."""
    if not feed.info.is_race:
        return None
    try:
        from bot.lab import fit_race_model
        from storage.lab_data import race_data

        return fit_race_model(race_data(engine, feed.info.year, feed.info.round)).circuit_params()
    except Exception as exc:  # the forecast then uses general defaults; the highlights stand
        log.info("battle forecast: no circuit fit for %s %s (%s)", feed.info.year, feed.info.round, exc)
        return None


def _style(sub: Subscription) -> Style:
    try:
        return Style(tone=sub.tone, length=sub.length, language=sub.language)  # type: ignore[arg-type]
    except ValueError:
        return Style()


def plan_messages(
    highlights: Sequence[StoredHighlight],
    subs: Sequence[Subscription],
    session_type: str,
    *,
    now: float,
    session: Sequence[StoredHighlight] | None = None,
) -> list[tuple[Subscription, Told, list[StoredHighlight]]]:
    """Per channel: the stories it is told for the new `highlights` (see `bot.pulse.stories`).

    `session` is every stored highlight of the session (a digest closed now reads its
    window from it); the new ones when None.
    """
    session = list(session) if session is not None else list(highlights)
    by_key = {h.key: h for h in session}
    by_key.update({h.key: h for h in highlights})
    new = [h.as_highlight() for h in highlights]
    everything = [h.as_highlight() for h in session]
    is_race = session_type in ("R", "S")
    plan: list[tuple[Subscription, Told, list[StoredHighlight]]] = []
    for sub in subs:
        def wants(h: PulseHighlight, sub: Subscription = sub) -> bool:
            return sub.wants(by_key[h.key], session_type)

        # A channel that chose kinds, drivers or teams gets those as they come (no digest).
        fold = not (sub.kinds or sub.drivers or sub.teams)
        for told in tell(new, session=everything, wants=wants, is_race=is_race, fold=fold):
            plan.append((sub, told, [by_key[h.key] for h in told.new]))
    return plan


async def enqueue_for_subscribers(
    engine: Engine,
    highlights: Sequence[StoredHighlight],
    *,
    session_type: str,
    commentator: Commentator,
    now: float | None = None,
    subs: Sequence[Subscription] | None = None,
    session: Sequence[StoredHighlight] | None = None,
) -> int:
    """Write outbox rows for every active subscription; returns messages enqueued.

    Text is written once per (message, style) — a thousand channels with the same
    style share one rendering (and one LLM call when a model is configured).
    """
    if not highlights:
        return 0
    now = time.time() if now is None else now
    if subs is None:
        subs = await asyncio.to_thread(pulse_store.list_subscriptions, engine)
    plan = plan_messages(highlights, subs, session_type, now=now, session=session)
    texts: dict[tuple[tuple[str, ...], Style], str] = {}
    messages: list[Message] = []
    for sub, told, group in plan:
        style = _style(sub)
        key = (tuple(h.key for h in told.items) + (told.story or "",), style)
        if key not in texts:
            texts[key] = await commentator.write_told(told, style)
        messages.append(
            Message(channel_id=sub.channel_id, highlights=tuple(group), text=texts[key],
                    not_before=now + sub.spoiler_delay_s, story=told.story)
        )
    return await asyncio.to_thread(pulse_store.enqueue, engine, messages, now=now)


@dataclass(frozen=True, slots=True)
class PulseRun:
    session_id: int
    new_highlights: int
    messages: int


async def run_session(
    engine: Engine, session_id: int, commentator: Commentator, *, now: float | None = None,
    predictor: Any | None = None,
) -> PulseRun:
    """The service's hook after an ingest: detect what is new and queue it for channels.
    With a predictor, a race's championship highlight carries the title odds, and a classified
    qualifying queues the race's preview (`post_preview`)."""
    feed = await asyncio.to_thread(pulse_store.load_feed, engine, session_id)
    odds = await title_odds_after(engine, session_id, feed, predictor)
    new = await asyncio.to_thread(detect_feed, engine, session_id, feed, now=now, title_odds=odds)
    session_type = new[0].prefix.rsplit(":", 1)[-1] if new else "R"
    # A digest closed by this run, or a story's next chapter, reads the earlier highlights.
    everything = None
    if any(h.kind == PHASE or h.facts.get("story") for h in new):
        everything = await asyncio.to_thread(pulse_store.session_highlights, engine, session_id)
    n = await enqueue_for_subscribers(
        engine, new, session_type=session_type, commentator=commentator, now=now,
        session=everything,
    )
    if new:
        log.info("pulse: session %s: %d new highlights, %d messages queued", session_id, len(new), n)
    if predictor is not None and any(h.kind == "pole" and h.prefix.endswith(":Q") for h in new):
        n += await post_preview(engine, session_id, predictor, commentator, now=now)
    return PulseRun(session_id=session_id, new_highlights=len(new), messages=n)


async def title_odds_after(engine: Engine, session_id: int, feed: RaceFeed, predictor: Any | None) -> str:
    """The title-odds line after a classified grand prix ("" for other sessions, a race still
    running, without a predictor, once the championship highlight is told — later ingests of
    the race re-run the pipeline —, or when it has no forecast: the championship highlight then
    reads as before). The model first folds the result in (the service's own update runs
    after the ingest job, this pipeline inside it), so the odds are those after this race."""
    info = feed.info
    if predictor is None or info.session_type != "R" or not (feed.final and feed.results):
        return ""
    told = await asyncio.to_thread(pulse_store.session_highlights, engine, session_id)
    if any(h.kind == "championship" for h in told):
        return ""  # only a new championship highlight reads the odds
    try:
        await predictor.fold_new_results()  # this race's result first
        tf = await predictor.title(info.year, after_round=info.round)
    except Exception:  # the odds are extra: the race's highlights go out without them
        log.warning("pulse: no title odds after %s round %s", info.year, info.round, exc_info=True)
        return ""
    return odds_line(tf)


async def post_preview(
    engine: Engine, session_id: int, predictor: Any, commentator: Commentator, *, now: float | None = None,
) -> int:
    """The race's forecast (with the grid), stored once on the grand prix session under one key
    and queued for the channels that chose the `preview` kind; returns messages enqueued."""
    race_id = await asyncio.to_thread(pulse_store.race_session_of, engine, session_id)
    where = await asyncio.to_thread(pulse_store.session_round, engine, session_id)
    if race_id is None or where is None:
        return 0
    try:
        fc = await predictor.race(where[0], where[1])
    except Exception:  # no forecast: no preview, the rest of Track Pulse goes on
        log.warning("pulse: no preview for %s round %s", where[0], where[1], exc_info=True)
        return 0
    new = await asyncio.to_thread(pulse_store.save_highlights, engine, race_id, [preview_highlight(fc)], now=now)
    return await enqueue_for_subscribers(engine, new, session_type="R", commentator=commentator, now=now)
