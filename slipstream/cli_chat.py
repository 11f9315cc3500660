"""`slipstream chat`, `slipstream ask "TEXT"`, `slipstream demo`: the console adapter's CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from adapters.console.responder import Shown

RenderOpt = Annotated[
    str,
    typer.Option("--render", help="Show the reply as: plain (terminal), discord or slack (preview)."),
]
OutDirOpt = Annotated[
    Path | None,
    typer.Option("--out-dir", help="Write chart images (PNG) here; default: a new temp dir per run. "
                                   "The reply prints each file's path.", file_okay=False),
]
ModOpt = Annotated[bool, typer.Option("--as-moderator", help="Act as a moderator (moderator commands).")]

DEMO_INTRO = """\
Slipstream demo: the 2023 season's results and standings, plus the full lap data
of the 2023 Italian Grand Prix (Monza). No network, no LLM: every answer comes
from the store. Try:
  who won the 2023 italian grand prix?
  who was on the podium at monza?
  fastest lap at monza 2023
  pit stops at monza for VER
  VER's tyre stints at monza
  compare VER and PER at monza
  standings after round 14 2023
  /f1 results monza 2023 quali
  /f1 help
Type `quit` or press Ctrl-D to leave."""


DEMO_REPLAY_RACE = (2023, "monza", "R")


def demo_highlights(engine: Any, *, limit: int = 6) -> tuple[str, list[str]]:
    """(title, texts) of a handful of Track Pulse highlights of the demo race, in lap order.

    Runs the real detectors (and the battle forecast) over the stored Monza 2023 race (pure, no pandas; also
    stores the highlights, idempotently, so `/f1 pulse` finds them) and writes them
    with the English templates. Critical moments first, then high-priority ones.
    """
    from bot.prompting import Style
    from bot.pulse.commentary import Commentator, group_bursts
    from bot.pulse.detectors import detect_all
    from bot.pulse.forecast import add_forecasts
    from bot.pulse.pipeline import circuit_params
    from bot.pulse.types import Priority
    from storage import pulse_store

    year, event, session = DEMO_REPLAY_RACE
    sid = pulse_store.find_session(engine, year, event, session)
    feed = pulse_store.load_feed(engine, sid)
    # Battles carry the Race Lab forecast line, as a live channel gets them.
    found = add_forecasts(feed, detect_all(feed), circuit_params(engine, feed))
    pulse_store.save_highlights(engine, sid, found, teams={c: d.team for c, d in feed.drivers.items()})
    groups = group_bursts([h for h in found if h.priority >= Priority.HIGH])
    ranked = sorted(range(len(groups)), key=lambda i: (-max(h.priority for h in groups[i]), i))
    chosen = sorted(ranked[:limit])  # back in race order
    writer = Commentator()
    style = Style(length="short")
    return f"{year} Italian Grand Prix", [writer.template_text(groups[i], style) for i in chosen]


def _replay_text(engine: Any, speed: float, write=typer.echo) -> None:  # type: ignore[no-untyped-def]
    """Print the demo race's highlights (pausing `speed` seconds between them when > 0)."""
    import logging
    import time

    try:
        title, texts = demo_highlights(engine)
    except Exception as exc:  # the chat must open even if the replay cannot run
        logging.getLogger(__name__).warning("demo highlight replay skipped: %s", exc)
        return
    if not texts:
        return
    write(f"\nTrack Pulse replay: {title}, the moments a subscribed channel would have seen:\n")
    for i, text in enumerate(texts):
        write(text + "\n")
        if speed > 0 and i < len(texts) - 1:
            time.sleep(speed)
    write("Subscribe a channel with `/f1 subscribe` to get these live.\n")


def _check_render(render: str) -> str:
    if render not in ("plain", "discord", "slack"):
        raise typer.BadParameter("choose plain, discord or slack", param_hint="--render")
    return render


def _console_app(*, create_store: bool = False) -> Any:
    """The app for a terminal session; the store must exist unless `create_store`."""
    from bot.settings import Settings
    from slipstream.wiring import build_app

    settings = Settings()
    # One local user at a terminal: rate limits would only get in the way.
    settings = settings.model_copy(update={"rate_user_per_min": 0, "rate_channel_per_min": 0})
    return build_app(settings, create_store=create_store)


async def _ask(text: str, moderator: bool, render: str, *, explain: bool = False, as_json: bool = False,
               out_dir: Path | None = None, app: Any = None) -> str:
    from adapters.console.chat import ConsoleSession

    app = app or _console_app()
    try:
        if not (explain or as_json):
            session = ConsoleSession(app.dispatcher, moderator=moderator, mode=render,  # type: ignore[arg-type]
                                     conversation=False, out_dir=out_dir)
            return await session.send(text)
        understood = await _understand(app, text)
        if explain:
            for line in explain_lines(understood):
                typer.echo(line)
        session = ConsoleSession(app.dispatcher, moderator=moderator, mode=render,  # type: ignore[arg-type]
                                 conversation=False, write=typer.echo if not as_json else _silent,
                                 out_dir=out_dir)
        reply = await session.send(text)
        if as_json:
            shown = reply_json(session.responder.delivered)
            typer.echo(json.dumps({**shown, "reply": reply, **understood}, ensure_ascii=False, indent=2))
        return reply or ("{}" if as_json else "")
    finally:
        await app.aclose()


def reply_json(shown: Sequence[Shown]) -> dict[str, Any]:
    """`ask --json`: the replies of one question as one object (texts joined, cards and images
    in order); images as the files they were written to, so a script can pick them up."""
    replies = [s.reply for s in shown]
    return {
        "text": "\n\n".join(r.text for r in replies if r.text),
        "cards": [dataclasses.asdict(c) for r in replies for c in r.cards],
        "images": [
            {"path": str(path), "alt": image.alt, "filename": image.filename}
            for s in shown for image, path in zip(s.reply.images, s.paths, strict=True)
        ],
        "suggestions": [x for r in replies for x in r.suggestions],
        "ephemeral": any(r.ephemeral for r in replies),
    }


def _silent(_text: str) -> None:
    """`ask --json` prints the reply inside the JSON, not on its own."""


async def _understand(app: Any, text: str) -> dict[str, Any]:
    """How the bot reads `text`: `{"command": ...}` for a `/f1` command (or a bare command
    name, as the dispatcher takes it), else `{"plan": QueryPlan.explain()}`; a question the
    parser refuses gives `{"plan": None, "error": message}` (the reply says the same)."""
    from bot.errors import UserError
    from bot.question import resolve_question

    stripped = text.strip()
    is_command = stripped.startswith("/f1") or (
        len(stripped.split()) == 1 and app.registry.get(stripped) is not None)
    if is_command:
        rest = stripped[3:].strip() if stripped.startswith("/f1") else stripped
        try:
            parsed = app.registry.parse(rest or "help")  # a bare "/f1" is help, as in the dispatcher
        except UserError as exc:
            return {"command": None, "error": exc.message}
        if parsed is None:
            return {"command": None, "error": "not a command"}
        cmd, args = parsed
        return {"command": {"name": cmd.name, "args": {k: _plain(v) for k, v in args.items()}}}
    try:
        plan = await resolve_question(app.store, text, now=app.deps.clock())
    except UserError as exc:
        return {"plan": None, "error": exc.message}
    return {"plan": plan.explain()}


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


# Plan keys shown on the "slots" line of `ask --explain` (the others get lines of their own).
_NOT_SLOTS = ("intent", "words", "unknown", "defaults")


def explain_lines(understood: dict[str, Any]) -> list[str]:
    """`ask --explain` output: what the bot understood, as readable lines before the reply."""
    if "command" in understood:
        cmd = understood["command"]
        if cmd is None:
            return [f"a command it could not read: {understood.get('error')}", "---"]
        args = " ".join(f"{k}={v}" for k, v in cmd["args"].items())
        return [f"a command: {cmd['name']} {args}".rstrip(), "---"]
    plan = understood.get("plan")
    if plan is None:
        return [f"not understood: {understood.get('error')}", "---"]
    lines = [f"intent: {plan['intent']}"]
    slots = [f"{k}={_slot_text(v)}" for k, v in plan.items() if k not in _NOT_SLOTS and v is not None]
    lines.append("slots: " + (", ".join(slots) or "none"))
    for w in plan.get("words") or []:
        lines.append(f'  "{w["text"]}" -> {w["slot"]} = {w["value"]}')
    if plan.get("defaults"):
        lines.append("defaults used: " + ", ".join(plan["defaults"]))
    lines.append("unknown words: " + (", ".join(plan["unknown"]) if plan.get("unknown") else "none"))
    lines.append("---")
    return lines


def _slot_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


async def _chat(moderator: bool, render: str, intro: str | None, app: Any = None,
                out_dir: Path | None = None) -> None:
    from adapters.console.chat import ConsoleSession, run_chat

    app = app or _console_app()
    try:
        session = ConsoleSession(app.dispatcher, moderator=moderator, mode=render,  # type: ignore[arg-type]
                                 out_dir=out_dir)
        await run_chat(session, intro=intro)
    finally:
        await app.aclose()


def _load_demo(engine: Any, database_url: str) -> None:
    """Import the bundled demo data into the store (idempotent), with a progress bar."""
    from rich.progress import Progress

    from storage.demo import load_demo

    with Progress(transient=True) as bar:
        task = bar.add_task("loading demo data", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total or None, description=label[:60])

        report = load_demo(engine, progress=progress)
    outcomes = ", ".join(f"{s.target} {s.outcome}" for s in report.ingest.sessions) or "nothing new"
    typer.echo(f"demo data ready in {database_url} ({outcomes})", err=True)
    if not report.ok:
        typer.echo("warning: part of the demo data did not load; answers may be incomplete", err=True)


def register(app: typer.Typer) -> None:
    @app.command("ask")
    def ask(
        text: Annotated[str, typer.Argument(help="A question, or a command such as '/f1 results monza 2023'.")],
        as_moderator: ModOpt = False,
        render: RenderOpt = "plain",
        explain: Annotated[bool, typer.Option(
            "--explain", help="First print how the question was read: intent, slots, words, unknown words.")] = False,
        as_json: Annotated[bool, typer.Option(
            "--json", help='Print the reply as one JSON object instead: {"text", "cards", "images": '
                           '[{"path", "alt", "filename"}], "suggestions", "ephemeral", "reply" (as printed), '
                           '"plan" or "command"}.')] = False,
        out_dir: OutDirOpt = None,
        verbose: Annotated[bool, typer.Option(
            "-v", "--verbose", help="Also print, on stderr, what the model was given and what the claim "
                                    "guard decided (accepted / fresh attempt / fallback, rejected claims).")] = False,
    ) -> None:
        """Ask one question (or run one /f1 command) and print the reply."""
        if verbose:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            for name in ("bot.grounded", "bot.llm_plan"):
                logger = logging.getLogger(name)
                logger.setLevel(logging.DEBUG)
                logger.addHandler(handler)
                logger.propagate = False  # once, plainly, not again through the root handler
        out = asyncio.run(_ask(text, as_moderator, _check_render(render), explain=explain, as_json=as_json,
                               out_dir=out_dir))
        if not out:
            raise typer.Exit(1)

    @app.command("chat")
    def chat(as_moderator: ModOpt = False, render: RenderOpt = "plain", out_dir: OutDirOpt = None) -> None:
        """Chat with the bot in the terminal (follow-up questions keep their subject)."""
        intro = "Slipstream chat. Ask about races, or type /f1 help. `quit` to leave." if sys.stdin.isatty() else None
        asyncio.run(_chat(as_moderator, _check_render(render), intro, out_dir=out_dir))

    @app.command("demo")
    def demo(
        as_moderator: ModOpt = False,
        render: RenderOpt = "plain",
        replay: Annotated[bool, typer.Option(help="Replay the demo race's Track Pulse highlights first.")] = True,
        replay_pause: Annotated[float, typer.Option(
            "--replay-pause", help="Seconds between replayed highlights (0 = no waiting).")] = 0.0,
    ) -> None:
        """Load the bundled demo data (idempotent), replay a race's highlights, then open the chat."""
        _check_render(render)
        # One app for the whole demo (it may create the store); _chat closes it.
        app = _console_app(create_store=True)
        try:
            _load_demo(app.engine, app.settings.database_url)
            if replay:
                _replay_text(app.engine, replay_pause)
        except BaseException:
            app.close()
            raise
        if not sys.stdin.isatty():
            typer.echo(DEMO_INTRO)
            app.close()
            return  # nobody to chat with: print the intro and leave cleanly
        asyncio.run(_chat(as_moderator, render, DEMO_INTRO, app))
