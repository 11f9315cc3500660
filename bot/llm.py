"""The one door to an OpenAI-compatible chat model (OpenAI, Ollama, vLLM, llama.cpp, ...).

Why a wrapper around `openai.AsyncOpenAI`:
- every failure (timeout, HTTP error, dropped connection, garbage in the stream)
  becomes one exception type, `LLMError`, so callers fall back in one place;
- a semaphore bounds concurrent requests: a small local model serves requests one
  slot at a time and queueing inside the server only hides the wait;
- counters (`LLMStats`) that metrics can read without knowing about openai.

The client is built once at start-up (`LLMClient.from_settings`) and passed in;
no module globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import openai

from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class LLMError(Exception):
    """The model could not give an answer (timeout, HTTP error, garbage, empty reply).

    `reason` is a short machine-friendly tag for logs and metrics.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class LLMStats:
    """Counters for metrics. Plain ints: everything runs on one event loop."""

    calls: int = 0  # requests sent to the model
    failures: int = 0  # requests that ended in LLMError
    timeouts: int = 0  # subset of failures
    guard_rejections: int = 0  # model attempts the claim guard refused (set by bot.grounded)
    retries: int = 0  # second attempts after a failure or rejection (bot.grounded)
    fallbacks: int = 0  # answers that ended as the deterministic text (bot.grounded)
    answers: int = 0  # answers shown that came from the model (bot.grounded)
    # Claim-guard outcomes per answer: accepted / fresh_attempt / fallback / skipped (no call).
    guard: dict[str, int] = field(default_factory=dict)
    # Rejected attempts by the kinds of claim the guard refused (entity, value, attach, ...).
    rejected: dict[str, int] = field(default_factory=dict)

    def note_guard(self, outcome: str) -> None:
        self.guard[outcome] = self.guard.get(outcome, 0) + 1

    def note_rejection(self, kinds: list[str]) -> None:
        for k in kinds:
            self.rejected[k] = self.rejected.get(k, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


class LLMClient:
    """Bounded, time-limited access to one chat model.

    Args:
        base_url: OpenAI-compatible API root, e.g. ``http://127.0.0.1:8080/v1``.
        api_key: sent as a bearer token; local servers ignore it.
        model: model name sent with each request.
        timeout_s: deadline for a whole request, including waiting for a free slot
            and, when streaming, the last token.
        max_concurrency: requests in flight at once; others wait their turn.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "not-needed",
        model: str = "local-model",
        timeout_s: float = 30.0,
        max_concurrency: int = 4,
        max_tokens: int = 400,
        temperature: float = 0.2,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.stats = LLMStats()
        self._sem = asyncio.Semaphore(max(1, max_concurrency))
        # max_retries=0: bot.grounded decides about retries (once, then fallback);
        # openai's own back-off retries would multiply the user's wait.
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient | None:
        """The configured client, or None when no `LLM_BASE_URL` is set (no LLM at all)."""
        if not settings.llm_base_url:
            return None
        return cls(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            timeout_s=settings.llm_timeout_s,
            max_concurrency=settings.llm_max_concurrency,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[str]:
        """Yield text deltas as the model produces them.

        Raises `LLMError` (possibly after some deltas were yielded) on any failure,
        including the overall `timeout_s` deadline. Consume it inside
        `contextlib.aclosing(...)` so an abandoned stream frees its slot at once.
        """
        # Hazard: no `asyncio.timeout` block around the `yield`: while suspended the
        # consumer's code runs in the same task, and a deadline firing then would
        # cancel the consumer instead of us. Each await gets the remaining time.
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        self.stats.calls += 1
        await self._guarded(_until(deadline, self._sem.acquire()))
        try:
            response = await self._create(messages, max_tokens, temperature, deadline, stream=True)
            chunks = aiter(response)
            try:
                got_any = False
                while True:
                    chunk = await self._guarded(_until(deadline, anext(chunks, _END)))
                    if chunk is _END:
                        break
                    try:
                        delta = _chunk_text(chunk)
                    except LLMError as exc:
                        self._wrap(exc)
                        raise
                    if delta:
                        got_any = True
                        yield delta
                if not got_any:
                    exc = LLMError("empty", "stream ended without text")
                    self._wrap(exc)
                    raise exc
            finally:
                # Close the SDK's chunk iterator too: left to the garbage collector, a stream we
                # stopped early (guard rejection) prints "async generator already executing".
                with contextlib.suppress(Exception):
                    await chunks.aclose()  # type: ignore[attr-defined]
                with contextlib.suppress(Exception):
                    await response.close()
        finally:
            self._sem.release()

    async def _create(self, messages: Sequence[Message], max_tokens: int | None,
                      temperature: float | None, deadline: float, *, stream: bool,
                      response_format: Mapping[str, Any] | None = None) -> Any:
        """One chat-completions request, bounded by `deadline`, errors as `LLMError`."""
        extra: dict[str, Any] = {"response_format": dict(response_format)} if response_format else {}

        def create() -> Any:
            return self._client.chat.completions.create(
                model=self.model,
                messages=[dict(m) for m in messages],  # type: ignore[misc]
                max_tokens=max_tokens or self.max_tokens,
                temperature=self.temperature if temperature is None else temperature,
                stream=stream,
                **extra,
            )

        try:
            return await _until(deadline, create())
        except openai.APIConnectionError as exc:
            if isinstance(exc, openai.APITimeoutError):
                return await self._guarded(_raise(exc))
            # Hazard: a kept-alive connection the server closed after we stopped reading a stream
            # early (a guard rejection) fails at once on reuse. A new connection, once, costs
            # nothing; a server that is really down fails again and is reported as such.
            log.info("llm connection failed (%s); one new attempt", type(exc).__name__)
            return await self._guarded(_until(deadline, create()))
        except BaseException as exc:  # noqa: BLE001 - mapped and counted like every failure
            return await self._guarded(_raise(exc))

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> str:
        """The whole reply at once. Raises `LLMError` on any failure or an empty reply.

        `response_format` constrains the reply (OpenAI's json_schema, which llama.cpp's
        server and vLLM also accept); the query-plan fallback uses it."""
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        self.stats.calls += 1
        await self._guarded(_until(deadline, self._sem.acquire()))
        try:
            resp = await self._create(messages, max_tokens, temperature, deadline, stream=False,
                                      response_format=response_format)
        finally:
            self._sem.release()
        try:
            text = _completion_text(resp)
            if not text.strip():
                raise LLMError("empty", "reply had no text")
        except LLMError as exc:
            self._wrap(exc)
            raise
        return text

    async def health(self, timeout_s: float = 3.0) -> bool:
        """True when the server answers its model list (OpenAI, Ollama, vLLM, llama.cpp all do)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._client.models.list()
            return True
        except Exception as exc:  # noqa: BLE001 - health is a yes/no question
            log.info("llm health check failed: %s", type(exc).__name__)
            return False

    async def _guarded(self, aw: Awaitable[T]) -> T:
        """Await `aw`, turning any failure into a counted LLMError."""
        try:
            return await aw
        except BaseException as exc:  # noqa: BLE001 - external boundary, mapped in _wrap
            err = self._wrap(exc)
            if err is None:
                raise
            raise err from exc

    def _wrap(self, exc: BaseException) -> LLMError | None:
        """Map any failure to LLMError and count it; None for cancellation (re-raise it).

        Hazard: asyncio.timeout raises TimeoutError, but a CancelledError coming from
        outside (the caller gave up) must propagate untouched.
        """
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit | GeneratorExit):
            return None
        self.stats.failures += 1
        if isinstance(exc, LLMError):
            log.warning("llm request failed: %s", exc)
            return exc
        if isinstance(exc, TimeoutError | openai.APITimeoutError):
            self.stats.timeouts += 1
            err = LLMError("timeout", f"no complete answer within {self.timeout_s:g}s")
        elif isinstance(exc, openai.APIStatusError):
            err = LLMError("http_error", f"HTTP {exc.status_code}")
        elif isinstance(exc, openai.APIConnectionError):
            err = LLMError("connection", type(exc).__name__)
        else:
            # Garbage JSON / SSE, unexpected shapes: the server is not speaking the API.
            err = LLMError("bad_response", f"{type(exc).__name__}: {str(exc)[:200]}")
        log.warning("llm request failed: %s", err)
        return err


_END = object()


async def _raise(exc: BaseException) -> Any:
    """An awaitable that raises `exc` (so `_guarded` maps and counts it in one place)."""
    raise exc


async def _until(deadline: float, aw: Awaitable[T]) -> T:
    """Await `aw` but give up (TimeoutError) at `deadline` on the loop's clock."""
    remaining = deadline - asyncio.get_running_loop().time()
    return await asyncio.wait_for(aw, timeout=max(0.0, remaining))


def _chunk_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None)
    if not choices:
        return ""  # e.g. a final usage-only chunk
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None) if delta is not None else None
    if content is not None and not isinstance(content, str):
        raise LLMError("bad_response", "delta content is not text")
    return content or ""


def _completion_text(resp: Any) -> str:
    # Hazard: with non-strict validation openai returns whatever the server sent,
    # even a bare string for a non-JSON body. Check the shape by hand.
    choices = getattr(resp, "choices", None)
    if not choices:
        raise LLMError("bad_response", "no choices in reply")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if not isinstance(content, str):
        raise LLMError("bad_response", "reply content is not text")
    return content
