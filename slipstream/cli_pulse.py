"""`slipstream pulse replay` and `slipstream pulse recent`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer


@contextmanager
def _engine() -> Iterator[Any]:
    """The store's engine (it must exist: replay reads stored races), closed on the way out."""
    from bot.settings import Settings
    from slipstream.wiring import opened

    with opened(Settings(), create_store=False) as app:
        yield app.engine


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _replay(engine: Any, year: int, event: str, session: str, speed: float, as_json: bool,
            floor: Any, style: Any, save: bool) -> None:
    """Detect lap by lap on the stored session and print what would be posted."""
    from bot.pulse.commentary import Commentator
    from bot.pulse.detectors import detect
    from bot.pulse.stories import tell
    from storage import pulse_store

    try:
        sid = pulse_store.find_session(engine, year, event.strip(), session.strip().upper())
    except LookupError as exc:
        _fail(str(exc))
    feed = pulse_store.load_feed(engine, sid)
    if not feed.laps and not feed.results:
        _fail(f"{year} {event} {session}: no laps or results in the store (ingest it first)")
    writer = Commentator()
    state = None
    everything = []
    last = max(feed.last_lap, 1)
    for n in range(1, last + 1):
        new, state = detect(feed.upto(n), state)
        everything.extend(new)
        # What a channel at this floor is told: headlines, story updates, digests.
        for told in tell(new, session=everything, wants=lambda h: h.priority >= floor,
                         is_race=feed.info.is_race):
            text = writer.template_text(told.items, style, window=told.window,
                                        story=bool(told.story))
            edit = bool(told.story) and told.items[0] is not told.new[0]
            if as_json:
                for h in told.new:
                    sys.stdout.write(json.dumps({
                        "key": h.key, "kind": h.kind, "lap": h.lap, "drivers": list(h.drivers),
                        "priority": h.priority.label, "text": text, "story": told.story,
                        "edit": edit, "digest": list(told.window) if told.window else None,
                    }, ensure_ascii=False) + "\n")
            else:
                typer.echo(("(update) " if edit else "") + text + "\n")
        sys.stdout.flush()
        if speed > 0 and n < last:
            recs = feed.by_lap.get(n, {})
            lap_ms = min((r.lap_time_ms for r in recs.values() if r.lap_time_ms), default=90000)
            time.sleep(lap_ms / 1000 / speed)
    if save:
        teams = {c: d.team for c, d in feed.drivers.items()}
        pulse_store.save_highlights(engine, sid, everything, teams=teams)


def register(app: typer.Typer) -> None:
    pulse = typer.Typer(help="Track Pulse: race highlights.", no_args_is_help=True)

    @pulse.command("replay")
    def replay(
        year: int = typer.Option(..., help="Season, e.g. 2023."),
        event: str = typer.Option(..., help="Event name or round, e.g. monza or 14."),
        session: str = typer.Option("R", help="Session code: R, S, Q, SQ."),
        speed: float = typer.Option(0.0, help="Replay speed (1 = real time, 60 = a lap a ~1.5 s); 0 = no waiting."),
        as_json: bool = typer.Option(False, "--json", help="JSON lines: key, kind, lap, drivers, priority, text."),
        min_priority: str = typer.Option("low", help="low / medium / high / critical."),
        tone: str = typer.Option("neutral", help="casual / technical / neutral."),
        length: str = typer.Option("short", help="short / medium / long."),
        language: str = typer.Option("en", help="Language code (English templates; others fall back)."),
        save: bool = typer.Option(True, help="Store the highlights (for `pulse recent` and channels)."),
    ) -> None:
        """Replay a stored session lap by lap and print the highlights as they would be posted."""
        from bot.prompting import Style
        from bot.pulse.types import Priority

        try:
            floor = Priority.parse(min_priority)
            style = Style(tone=tone, length=length, language=language)  # type: ignore[arg-type]
        except ValueError as exc:
            _fail(str(exc))
        with _engine() as engine:
            _replay(engine, year, event, session, speed, as_json, floor, style, save)

    @pulse.command("recent")
    def recent(
        limit: int = typer.Option(10, help="How many."),
        as_json: bool = typer.Option(False, "--json", help="JSON lines."),
        min_priority: str = typer.Option("low", help="low / medium / high / critical."),
    ) -> None:
        """The most recently detected highlights in the store."""
        from bot.prompting import Style
        from bot.pulse.commentary import Commentator
        from bot.pulse.types import Priority
        from storage import pulse_store

        try:
            floor = Priority.parse(min_priority)
        except ValueError as exc:
            _fail(str(exc))
        with _engine() as engine:
            rows = pulse_store.recent_highlights(engine, limit=limit, min_priority=floor)
        if not rows:
            typer.echo("no highlights yet (run `slipstream pulse replay ...` or the service)")
            return
        writer = Commentator()
        for h in rows:
            text = writer.template_text([h.as_highlight()], Style(length="short"))
            if as_json:
                typer.echo(json.dumps({"key": h.global_key, "kind": h.kind, "lap": h.lap,
                                       "drivers": list(h.drivers), "priority": h.priority.label,
                                       "text": text}, ensure_ascii=False))
            else:
                typer.echo(text)

    app.add_typer(pulse, name="pulse")
