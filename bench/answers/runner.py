"""Run answer-set questions through the real bot core (no LLM) and grade the replies.

Shared by `bench/bench_answers.py` and `tests/core/test_answers_eval.py`. Each question, or
each follow-up group, gets a NEW console session with its own conversation id, so nothing
leaks from one to the next; rate limits are off as in `slipstream ask`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
# "Now" for the bot during the evaluation: the day after the latest race with results in the
# data (2025 Singapore GP, 5 Oct 2025), so "this season" = 2025, "last year" = 2024, "last race"
# = Singapore, exactly as the generator reads them. The machine's clock may be far later.
EVAL_NOW = dt.datetime(2025, 10, 6, 12, 0, tzinfo=dt.UTC)
CLASS_NAMES = {1: "names & time", 2: "positions & teams", 3: "result detail", 4: "race story (laps)",
               5: "qualifying & sprints", 6: "standings", 7: "history aggregates", 8: "schedule",
               9: "unanswerable", 10: "follow-ups", 11: "forecasts"}


def load(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass
class Outcome:
    """One graded question (or follow-up group)."""

    rec: dict[str, Any]
    ok: bool
    replies: list[str]
    failed: list[str] = field(default_factory=list)  # "turn N: expect|forbid: regex"
    ms: list[float] = field(default_factory=list)     # answer time per turn


def grade(reply: str, expect: Iterable[str], forbid: Iterable[str]) -> list[str]:
    """The regexes that failed: an expect that did not match, a forbid that did."""
    bad = [f"expect: {p}" for p in expect if not re.search(p, reply, re.IGNORECASE)]
    bad += [f"forbid: {p}" for p in forbid if re.search(p, reply, re.IGNORECASE)]
    return bad


def turns_of(rec: dict[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    """(text, expect, forbid) per turn; a single question is one turn."""
    if "turns" not in rec:
        return [(rec["question"], rec["expect"], rec["forbid"])]
    return list(zip(rec["turns"], rec["expect"], rec["forbid"], strict=True))


def private_copy(url: str) -> tuple[str, Path]:
    """A throwaway copy of a SQLite store (the bench writes conversation rows): (url, dir)."""
    src = Path(url.split("///", 1)[1])
    work = Path(tempfile.mkdtemp(prefix="answers-eval-"))
    shutil.copyfile(src, work / "store.db")
    return f"sqlite:///{work / 'store.db'}", work


class Runner:
    """The bot core wired as `slipstream ask` wires it, over one store, with a fixed clock."""

    def __init__(self, database_url: str, now: dt.datetime = EVAL_NOW, *, llm_base_url: str | None = None,
                 llm_settings: dict[str, Any] | None = None) -> None:
        """`llm_base_url` None (the default) = no model, the deterministic answers the bench grades;
        else the bot phrases answers through that OpenAI-compatible server, with `llm_settings`
        (e.g. `{"llm_max_tokens": 60, "llm_temperature": 0.0}`) over the defaults."""
        from bot.settings import Settings
        from slipstream.wiring import build_app

        settings = Settings(database_url=database_url, llm_base_url=llm_base_url)
        update = {"rate_user_per_min": 0, "rate_channel_per_min": 0, **(llm_settings or {})}
        settings = settings.model_copy(update=update)
        self.app = build_app(settings, create_store=False, clock=lambda: now)
        self._run = uuid.uuid4().hex[:8]
        self._events = itertools.count(1)

    def session(self, key: str) -> Any:
        """A fresh console session (own conversation id) for callers that drive turns themselves."""
        return self._session(key)

    def _session(self, key: str) -> Any:
        from adapters.console.chat import ConsoleSession

        session = ConsoleSession(self.app.dispatcher, moderator=False, mode="plain", conversation=True,
                                 write=lambda _text: None)
        # A conversation of its own, and event ids never seen before: the dispatcher drops a
        # repeated event id as a duplicate delivery, and every ConsoleSession counts from 1.
        session.conversation_id = f"eval:{self._run}:{key}"
        session._ids = (f"{self._run}-{n}" for n in self._events)  # noqa: SLF001
        return session

    async def ask(self, rec: dict[str, Any]) -> Outcome:
        session = self._session(rec["id"])
        replies, failed, ms = [], [], []
        for i, (text, expect, forbid) in enumerate(turns_of(rec)):
            t = time.perf_counter()
            try:
                reply = await session.send(text)
            except Exception as exc:  # noqa: BLE001 - a crash is a wrong answer, not the end of the run
                reply = f"<exception {type(exc).__name__}: {exc}>"
            ms.append((time.perf_counter() - t) * 1000)
            replies.append(reply)
            failed += [f"turn {i + 1}: {f}" if "turns" in rec else f for f in grade(reply, expect, forbid)]
        return Outcome(rec, not failed, replies, failed, ms)

    async def aclose(self) -> None:
        await self.app.aclose()


async def run_all(database_url: str, records: list[dict[str, Any]], now: dt.datetime = EVAL_NOW) -> list[Outcome]:
    runner = Runner(database_url, now)
    try:
        return [await runner.ask(r) for r in records]
    finally:
        await runner.aclose()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else 0.0


def summary(outcomes: list[Outcome]) -> str:
    """Per-class n / right / %, the total, and answer time median / p99 per question."""
    lines = [f"{'class':<26}{'n':>5}{'right':>7}{'%':>8}"]
    for cls in sorted({o.rec["class"] for o in outcomes}):
        sub = [o for o in outcomes if o.rec["class"] == cls]
        right = sum(o.ok for o in sub)
        lines.append(f"{cls:>2} {CLASS_NAMES.get(cls, ''):<23}{len(sub):>5}{right:>7}{right / len(sub):>8.1%}")
    right = sum(o.ok for o in outcomes)
    lines.append(f"{'total':<26}{len(outcomes):>5}{right:>7}{right / max(1, len(outcomes)):>8.1%}")
    per_q = [sum(o.ms) for o in outcomes]
    per_turn = [m for o in outcomes for m in o.ms]
    lines.append(f"answer time per question: median {statistics.median(per_q):.1f} ms, p99 {pct(per_q, 99):.1f} ms "
                 f"(per turn: median {statistics.median(per_turn):.1f} ms, p99 {pct(per_turn, 99):.1f} ms)")
    return "\n".join(lines)


def misses(outcomes: list[Outcome]) -> str:
    out = []
    for o in outcomes:
        if o.ok:
            continue
        q = o.rec.get("question") or " → ".join(o.rec["turns"])
        out.append(f"[{o.rec['id']}] {q}")
        for i, r in enumerate(o.replies):
            label = f"  reply {i + 1}: " if len(o.replies) > 1 else "  reply: "
            out.append(label + r.replace("\n", " ⏎ ")[:200])
        out.extend(f"  failed {f[:160]}" for f in o.failed)
        out.append(f"  source: {o.rec['source']}")
    return "\n".join(out)
