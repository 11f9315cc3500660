"""Grounded answers: the model phrases, the data decides, the guard checks.

`answer_with_llm` renders the prompts, asks the model, checks the answer with the
fact guard, retries once on a rejection, and otherwise falls back to the
deterministic answer the caller already computed. Timeouts and model errors fall
back at once (a second 30 s wait helps nobody).

How "never show an unguarded number" works while streaming: text is released to
the chat word by word, and only after the whole text up to that word passes the
guard. A word is released when the whitespace after it arrived, so a number or
name is always checked complete ("1:25.0" never shows before "72" arrives). When
the guard rejects, the model's stream is closed at once and the answer shown so
far (all of it checked) is replaced by the retry or by the fallback text.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.factguard import FactIndex, GuardResult
from bot.llm import LLMClient, LLMError
from bot.model import Responder
from bot.prompting import PromptRenderer, Style
from bot.streaming import StreamingReply

log = logging.getLogger(__name__)

# Shown (after the partial text) only when a stream breaks and there is no fallback text.
CUT_SHORT = "The answer was cut short; please ask again in a moment."
NO_ANSWER = "I could not answer that right now; please try again in a moment."

_MENTION = re.compile(r"@(everyone|here|channel)\b|<!(everyone|here|channel)>", re.IGNORECASE)


@dataclass(slots=True)
class GroundedAnswer:
    """The outcome of one grounded answer.

    Attributes:
        text: what the user got (model text that passed the guard, or the fallback).
        used_llm: `text` came from the model.
        fell_back: `text` is the deterministic fallback.
        reason: "ok", "ok_after_retry", "no_llm", "timeout", "http_error",
            "connection", "bad_response", "empty", or "guard: <tokens>".
        delivered: already shown through the responder (do not send it again).
        suggestions: follow-up questions for the reply (built from the context).
        unsupported: tokens the guard rejected on the last rejected attempt.
        attempts: model calls made (0, 1 or 2).
        first_text_s: seconds from the call to the first text shown (streaming only).
    """

    text: str
    used_llm: bool
    fell_back: bool
    reason: str
    delivered: bool = False
    suggestions: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    attempts: int = 0
    first_text_s: float | None = None


def neutralize_mentions(text: str) -> str:
    """Defuse @everyone / @here / <!channel> in model text (adapters also disable pings)."""
    return _MENTION.sub(
        lambda m: m.group(0).replace("@", "@\u200b").replace("<!", "<\u200b!"), text
    )


async def answer_with_llm(
    *,
    llm: LLMClient | None,
    renderer: PromptRenderer,
    context: Mapping[str, Any],
    question: str,
    history: Sequence[tuple[str, str]],
    style: Style,
    responder: Responder | None,
    fallback_text: str,
    template: str = "answer.md.j2",
    clock: Callable[[], float] = time.monotonic,
) -> GroundedAnswer:
    """Answer `question` from `context` with the model, or fall back to `fallback_text`.

    Args:
        llm: the model client; None means no LLM configured (fallback at once).
        renderer: prompt templates.
        context: JSON-able facts (any nested mappings / lists); the only truth.
        question: the user's text, as typed (it goes into its own slot).
        history: earlier turns as `(role, text)` with role "user" / "assistant"
            (or `(question, answer)` pairs), oldest first.
        style: tone / length / language of the channel.
        responder: when given, the answer is streamed and delivered here
            (`GroundedAnswer.delivered` is True); when None, the caller sends `text`.
        fallback_text: the deterministic answer; shown whenever the model's is not.
        template: "answer.md.j2" or "compare.md.j2" (or another with the same variables).
        clock: for the streaming throttle (tests).
    """
    started = time.perf_counter()
    suggestions = suggest_followups(context, question)
    stream = StreamingReply(responder, clock=clock) if responder is not None else None
    if llm is None:
        return await _fall_back(None, stream, fallback_text, "no_llm", suggestions, [], 0)

    index = FactIndex(context)
    base = renderer.messages(
        template=template, facts=context, question=question, history=history, style=style
    )
    max_tokens = min(llm.max_tokens, style.max_tokens)
    if stream is not None:
        # The placeholder goes out while the model reads the prompt (not before the request):
        # a platform round trip would otherwise add to every first token.
        stream.begin()

    messages = base
    unsupported: list[str] = []
    reason = ""
    first_text: list[float] = []
    for attempt in (1, 2):
        temperature = llm.temperature if attempt == 1 else 0.0
        try:
            if stream is not None:
                text, verdict = await _stream_guarded(
                    llm, messages, index, stream, max_tokens, temperature, started, first_text
                )
            else:
                text = await llm.complete(messages, max_tokens=max_tokens, temperature=temperature)
                verdict = index.check(text)
        except LLMError as exc:
            reason = exc.reason
            if stream is not None and not fallback_text.strip():
                await stream.fail(CUT_SHORT if stream.text.strip() else NO_ANSWER)
                return GroundedAnswer(
                    stream.text, used_llm=False, fell_back=True, reason=reason, delivered=True,
                    attempts=attempt, first_text_s=first_text[0] if first_text else None,
                )  # fmt: skip
            return await _fall_back(
                llm, stream, fallback_text, reason, suggestions, unsupported, attempt
            )

        if verdict.ok:
            text = neutralize_mentions(text.strip())
            llm.stats.answers += 1
            if stream is not None:
                await stream.finish(text, suggestions=suggestions)
            return GroundedAnswer(
                text,
                used_llm=True,
                fell_back=False,
                reason="ok" if attempt == 1 else "ok_after_retry",
                delivered=stream is not None,
                suggestions=suggestions,
                attempts=attempt,
                first_text_s=first_text[0] if first_text else None,
            )

        llm.stats.guard_rejections += 1
        unsupported = verdict.unsupported
        reason = "guard: " + ", ".join(unsupported[:5])
        log.info("fact guard rejected attempt %d: %s", attempt, ", ".join(unsupported[:10]))
        if attempt == 1:
            llm.stats.retries += 1
            note = renderer.render("retry.md.j2", unsupported=unsupported[:10])
            messages = [base[0], {"role": "user", "content": base[1]["content"] + "\n" + note}]
            if stream is not None:
                await stream.reset()
    return await _fall_back(llm, stream, fallback_text, reason, suggestions, unsupported, 2)


async def _stream_guarded(
    llm: LLMClient,
    messages: list[dict[str, str]],
    index: FactIndex,
    stream: StreamingReply,
    max_tokens: int,
    temperature: float,
    started: float,
    first_text: list[float],
) -> tuple[str, GuardResult]:
    """Stream the model's answer, releasing only text that passed the guard.

    Returns the full text and the verdict; on a rejection the model stream is
    closed early (no point paying for the rest).
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
            verdict = index.check(buf[:cut])
            if not verdict.ok:
                return buf, verdict
            if not buf[:released].strip() and not buf[released:cut].strip():
                continue  # leading whitespace only
            await stream.push(neutralize_mentions(buf[released:cut]))
            if not first_text:
                first_text.append(time.perf_counter() - started)
            released = cut
    verdict = index.check(buf)
    if verdict.ok and released < len(buf):
        await stream.push(neutralize_mentions(buf[released:]))
        if not first_text:
            first_text.append(time.perf_counter() - started)
    return buf, verdict


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
    unsupported: list[str],
    attempts: int,
) -> GroundedAnswer:
    if llm is not None:
        llm.stats.fallbacks += 1
        log.warning("llm answer replaced by the deterministic answer: %s", reason)
    if stream is not None:
        if fallback_text.strip():
            await stream.finish(fallback_text, suggestions=suggestions)
        else:  # nothing deterministic to show: keep what was (guarded and) shown, say so
            await stream.fail(CUT_SHORT if stream.text.strip() else NO_ANSWER)
            fallback_text = stream.text
    return GroundedAnswer(
        fallback_text,
        used_llm=False,
        fell_back=True,
        reason=reason,
        delivered=stream is not None,
        suggestions=suggestions,
        unsupported=unsupported,
        attempts=attempts,
    )


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
