"""Grounded answers: the data decides every fact, the model only phrases it, the guard checks.

`answer_with_llm` turns the deterministic answer (already computed, always correct) into its
claim list (`bot.claims`), asks the model to phrase those claims for the question, and shows
the model's text only if every claim in it is one of them, attached to the same subject, with
the must-say claims present (`bot.claimguard`). Otherwise the deterministic answer is shown at
once: there is no retry that feeds the rejected tokens back (the model only swaps in another
wrong number); at most one fresh attempt at temperature 0, and only when the first ran warmer.
Timeouts and model errors fall back at once (a second 30 s wait helps nobody).

Streaming: text reaches the chat word by word, and only after the text up to that word passed
the guard; a sentence whose numbers may still be attached to a name that has not arrived is
held until it ends. When the guard rejects, the model's stream is closed at once and the text
shown so far (all of it checked) is replaced by the deterministic answer.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.claimguard import ClaimGuard, Verdict
from bot.claims import ClaimSet, Vocabulary, claims_from_answer
from bot.llm import LLMClient, LLMError
from bot.model import Responder
from bot.prompting import PromptRenderer, Style
from bot.streaming import StreamingReply

log = logging.getLogger(__name__)

# Shown only when there is no deterministic text to fall back on (nothing to phrase either).
NO_ANSWER = "I could not answer that right now; please try again in a moment."
# An answer with more claims than this is a table (standings, penalties, lap lists): the
# deterministic layout reads better than prose, and the prompt would stop being cheap.
MAX_CLAIMS = 12
# Reply size per channel length, in characters (the guard's upper bound).
MAX_CHARS = {"short": 400, "medium": 800, "long": 1500}

_MENTION = re.compile(r"@(everyone|here|channel)\b|<!(everyone|here|channel)>", re.IGNORECASE)


@dataclass(slots=True)
class GroundedAnswer:
    """The outcome of one grounded answer.

    Attributes:
        text: what the user got (model text that passed the guard, or the fallback).
        used_llm: `text` came from the model.
        fell_back: `text` is the deterministic fallback.
        reason: "ok", "ok_fresh" (the fresh attempt passed), "no_llm", "not_phrased" (nothing
            to phrase, or a table), "timeout", "http_error", "connection", "bad_response",
            "empty", or "guard: <kinds>".
        outcome: "accepted", "fresh_attempt" (accepted on the second try), "fallback", or
            "skipped" (no model call).
        delivered: already shown through the responder (do not send it again).
        suggestions: follow-up questions for the reply (built from the context).
        problems: what the guard rejected on the last rejected attempt, as (kind, token).
        attempts: model calls made (0, 1 or 2).
        first_text_s: seconds from the call to the first text shown (streaming only).
        claims: the claim lines the model was given.
        rejected_text: the model's last rejected text (for `ask -v` and debugging; never shown).
    """

    text: str
    used_llm: bool
    fell_back: bool
    reason: str
    outcome: str = "skipped"
    delivered: bool = False
    suggestions: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    attempts: int = 0
    first_text_s: float | None = None
    claims: list[str] = field(default_factory=list)
    rejected_text: str = ""

    @property
    def unsupported(self) -> list[str]:
        return [tok for _, tok in self.problems]


def neutralize_mentions(text: str) -> str:
    """Defuse @everyone / @here / <!channel> in model text (adapters also disable pings)."""
    return _MENTION.sub(
        lambda m: m.group(0).replace("@", "@\u200b").replace("<!", "<\u200b!"), text
    )


async def answer_with_llm(
    *,
    llm: LLMClient | None,
    renderer: PromptRenderer,
    vocab: Vocabulary,
    question: str,
    style: Style,
    responder: Responder | None,
    fallback_text: str,
    context: Mapping[str, Any] | None = None,
    watch: Iterable[str] = (),
    task: Literal["answer", "pulse"] = "answer",
    clock: Callable[[], float] = time.monotonic,
) -> GroundedAnswer:
    """Phrase `fallback_text` (the deterministic answer) with the model, or show it as it is.

    Args:
        llm: the model client; None means no LLM configured (fallback at once).
        renderer: prompt templates.
        vocab: the names the guard knows (`bot.vocab`).
        question: the user's text, as typed (quoted and neutralised into the prompt).
        style: tone / length / language of the channel.
        responder: when given, the answer is streamed and delivered here
            (`GroundedAnswer.delivered` is True); when None, the caller sends `text`.
        fallback_text: the deterministic answer: the only facts, and what is shown whenever
            the model's text is not.
        context: the answer's context, for follow-up suggestions only (never for facts).
        watch: words of the question the bot did not read (`claimguard.unread_words`): the model
            may not repeat them (an injection's payload).
        task: "answer" (a question) or "pulse" (a Track Pulse message).
        clock: for the streaming throttle (tests).
    """
    started = time.perf_counter()
    suggestions = suggest_followups(context or {}, question)
    stream = StreamingReply(responder, clock=clock) if responder is not None else None
    claims = claims_from_answer(fallback_text, vocab)
    lines = claims.lines()
    if llm is None:
        return await _fall_back(None, stream, fallback_text, "no_llm", suggestions, [], 0, lines, "skipped")
    if not lines or len(lines) > MAX_CLAIMS or not _has_subject(claims):
        llm.stats.note_guard("skipped")
        return await _fall_back(None, stream, fallback_text, "not_phrased", suggestions, [], 0, lines, "skipped")

    guard = ClaimGuard(claims, vocab, question=question, max_chars=MAX_CHARS.get(style.length, 800),
                       watch=frozenset(watch))
    messages = renderer.phrase_messages(claims=lines, must=_must(claims), question=question, style=style, task=task)
    max_tokens = min(llm.max_tokens, style.max_tokens)
    if stream is not None:
        # The placeholder goes out while the model reads the prompt (not before the request):
        # a platform round trip would otherwise add to every first token.
        stream.begin()

    problems: list[tuple[str, str]] = []
    reason = ""
    rejected_text = ""
    first_text: list[float] = []
    # A fresh attempt only helps when the first was sampled: at temperature 0 it would repeat.
    temperatures = [llm.temperature] + ([0.0] if llm.temperature > 0 else [])
    for attempt, temperature in enumerate(temperatures, 1):
        try:
            if stream is not None:
                text, verdict = await _stream_guarded(
                    llm, messages, guard, stream, max_tokens, temperature, started, first_text
                )
            else:
                text = await llm.complete(messages, max_tokens=max_tokens, temperature=temperature)
                verdict = guard.check(text.strip())
        except LLMError as exc:
            reason = exc.reason
            llm.stats.note_guard("fallback")
            return await _fall_back(llm, stream, fallback_text, reason, suggestions, problems, attempt, lines)

        if verdict.ok:
            text = neutralize_mentions(text.strip())
            outcome = "accepted" if attempt == 1 else "fresh_attempt"
            llm.stats.answers += 1
            llm.stats.note_guard(outcome)
            if stream is not None:
                await stream.finish(text, suggestions=suggestions)
            return GroundedAnswer(
                text, used_llm=True, fell_back=False, reason="ok" if attempt == 1 else "ok_fresh",
                outcome=outcome, delivered=stream is not None, suggestions=suggestions, attempts=attempt,
                first_text_s=first_text[0] if first_text else None, claims=lines,
            )  # fmt: skip

        llm.stats.guard_rejections += 1
        rejected_text = text
        problems = [(p.kind, p.token) for p in verdict.problems]
        llm.stats.note_rejection(verdict.kinds)
        reason = "guard: " + ", ".join(verdict.kinds)
        log.info("claim guard rejected attempt %d: %s", attempt,
                 "; ".join(f"{k} {t!r}" for k, t in problems[:8]))
        if attempt < len(temperatures):
            llm.stats.retries += 1
            if stream is not None:
                await stream.reset()
    llm.stats.note_guard("fallback")
    ans = await _fall_back(llm, stream, fallback_text, reason, suggestions, problems, len(temperatures), lines)
    ans.rejected_text = rejected_text
    return ans


def log_outcome(ans: GroundedAnswer, model_text: str | None = None) -> None:
    """One INFO line per phrased answer (outcome, attempts, rejected claim kinds); the claims
    and rejections at DEBUG (`slipstream ask -v` shows both)."""
    kinds = sorted({k for k, _ in ans.problems})
    log.info("claim guard: %s (%s), %d attempt(s), %d claims%s", ans.outcome, ans.reason, ans.attempts,
             len(ans.claims), f", rejected: {', '.join(kinds)}" if kinds else "")
    if log.isEnabledFor(logging.DEBUG):
        for line in ans.claims:
            log.debug("  claim: %s", line)
        if ans.rejected_text:
            log.debug("  model wrote (not shown): %s", ans.rejected_text.replace("\n", " / "))
        for kind, token in ans.problems:
            log.debug("  rejected %s: %r", kind, token)


def _has_subject(claims: ClaimSet) -> bool:
    """An answer worth phrasing names a driver or team and states something about them."""
    return bool(claims.must_entities) and any(c.values for c in claims.claims)


def _must(claims: ClaimSet) -> list[str]:
    return [n for n, _ in claims.must_entities] + [v.text for v in claims.must_values] + claims.must_words


async def _stream_guarded(
    llm: LLMClient,
    messages: list[dict[str, str]],
    guard: ClaimGuard,
    stream: StreamingReply,
    max_tokens: int,
    temperature: float,
    started: float,
    first_text: list[float],
) -> tuple[str, Verdict]:
    """Stream the model's answer, releasing only text that passed the guard.

    Returns the full text and the final verdict; on a rejection the model stream is closed
    early (no point paying for the rest).
    """
    buf = ""
    released = 0
    # aclosing: leaving early (guard rejection) closes the HTTP stream and frees the slot.
    async with contextlib.aclosing(
        llm.stream(messages, max_tokens=max_tokens, temperature=temperature)
    ) as deltas:
        async for delta in deltas:
            buf += delta
            cut = _last_word_end(buf)
            if cut <= released:
                continue
            lead = len(buf) - len(buf.lstrip())
            verdict = guard.check(buf[lead:cut], final=False)
            if not verdict.ok:
                return buf, verdict
            safe = lead + verdict.safe_len
            if safe <= released or not buf[released:safe].strip():
                continue
            await stream.push(neutralize_mentions(buf[max(released, lead):safe]))
            if not first_text:
                first_text.append(time.perf_counter() - started)
            released = safe
    text = buf.strip()
    verdict = guard.check(text)
    if verdict.ok and released < len(buf):
        rest = buf[max(released, len(buf) - len(buf.lstrip())):].rstrip()
        if rest.strip():
            await stream.push(neutralize_mentions(rest))
            if not first_text:
                first_text.append(time.perf_counter() - started)
    return text, verdict


def _last_word_end(text: str) -> int:
    """Index just past the last whitespace: everything before it is made of whole words."""
    for i in range(len(text) - 1, -1, -1):
        if text[i].isspace():
            return i + 1
    return 0


async def _fall_back(
    llm: LLMClient | None,
    stream: StreamingReply | None,
    fallback_text: str,
    reason: str,
    suggestions: list[str],
    problems: list[tuple[str, str]],
    attempts: int,
    claims: list[str],
    outcome: str = "fallback",
) -> GroundedAnswer:
    if llm is not None:
        llm.stats.fallbacks += 1
        log.warning("llm answer replaced by the deterministic answer: %s", reason)
    if stream is not None:
        if fallback_text.strip():
            await stream.finish(fallback_text, suggestions=suggestions)
        else:  # nothing deterministic to show (and so nothing was asked of the model): say so
            await stream.fail(NO_ANSWER)
            fallback_text = stream.text
    return GroundedAnswer(
        fallback_text, used_llm=False, fell_back=True, reason=reason, outcome=outcome,
        delivered=stream is not None, suggestions=suggestions, problems=problems, attempts=attempts,
        claims=claims,
    )  # fmt: skip


# -- follow-up suggestions ---------------------------------------------------------------

_EVENT_KEYS = ("event", "event_name", "race", "grand_prix", "session_name")
_TOPICS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("fastest",), "Who set the fastest lap{at}?"),
    (("pit", "stop"), "How did the pit stops go{at}?"),
    (("stint", "tyre", "tire", "compound"), "What tyre strategies were used{at}?"),
    (("standing", "championship", "points"), "What are the championship standings after {event}?"),
)


def suggest_followups(context: Mapping[str, Any], question: str, limit: int = 3) -> list[str]:
    """A few natural next questions, built only from names in the context.

    Pure and cheap; nothing here states a fact, so nothing needs guarding.
    """
    q = question.casefold()
    event = _find_event(context)
    at = f" at the {event}" if event else ""
    out: list[str] = []
    codes = _driver_codes(context)
    if len(codes) >= 2 and "compar" not in q and " vs" not in q:
        out.append(f"Compare {codes[0]} and {codes[1]}")
    for words, template in _TOPICS:
        if any(w in q for w in words):
            continue
        if "{event}" in template and not event:
            continue
        out.append(template.format(at=at, event=f"the {event}" if event else ""))
    return out[:limit]


def _find_event(context: Mapping[str, Any]) -> str | None:
    for key in _EVENT_KEYS:
        value = context.get(key)
        if isinstance(value, str) and 3 <= len(value) <= 60:
            return value
        if isinstance(value, Mapping):
            name = value.get("name")
            if isinstance(name, str) and 3 <= len(name) <= 60:
                return name
    return None


def _driver_codes(obj: Any, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if k in ("code", "driver", "driver_code", "abbreviation") and isinstance(v, str):
                if re.fullmatch(r"[A-Z]{3}", v) and v not in out:
                    out.append(v)
            else:
                _driver_codes(v, out)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _driver_codes(item, out)
    return out
