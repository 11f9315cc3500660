"""A real local HTTP server speaking the OpenAI chat completions API, for tests.

It binds 127.0.0.1 on a random port and answers `POST /v1/chat/completions`
(plain JSON and SSE streaming, like OpenAI / llama.cpp), `GET /v1/models` and
`GET /health`. Each request takes the next scripted `Behaviour` (or the default),
so a test can say "first answer invents a number, second is fine", "hang",
"HTTP 500", "garbage", "delay 0.3 s before the first token".

Use from any area's tests::

    from tests.fakes.openai_server import FakeOpenAIServer, Behaviour, openai_server  # fixture

    async def test_x(openai_server):
        openai_server.script(Behaviour(reply="Verstappen won."))
        settings = Settings(llm_base_url=openai_server.base_url)

or without the fixture: ``async with FakeOpenAIServer(default=Behaviour(delay_s=0.2)) as srv:``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web

ReplyFn = Callable[[dict[str, Any]], str]


@dataclass(slots=True)
class Behaviour:
    """What the server does for one request.

    Attributes:
        reply: the assistant text (split into word chunks when streaming).
        reply_fn: computes the reply from the request body instead (overrides `reply`).
        chunks: explicit stream chunks (overrides the word split).
        delay_s: wait before answering at all (time to first token).
        chunk_delay_s: wait between stream chunks.
        status: HTTP status; anything but 200 sends an OpenAI-style error body.
        hang: never answer (the client must time out); the handler ends on shutdown.
        garbage: send a body that is not the API (non-JSON / broken SSE frames).
        fail_after_chunks: when streaming, drop the connection after this many chunks.
    """

    reply: str = "OK."
    reply_fn: ReplyFn | None = None
    chunks: list[str] | None = None
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    status: int = 200
    hang: bool = False
    garbage: bool = False
    fail_after_chunks: int | None = None


@dataclass(slots=True)
class RecordedRequest:
    body: dict[str, Any]
    stream: bool
    received_at: float = field(default_factory=time.perf_counter)
    first_chunk_at: float | None = None  # when the first content chunk was written (streaming)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


class FakeOpenAIServer:
    """The fake server. Start with `await start()` (or `async with`), stop with `close()`."""

    def __init__(self, default: Behaviour | None = None, model: str = "fake-model") -> None:
        self.default = default or Behaviour()
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Behaviour] = deque()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port = 0

    # -- scripting ---------------------------------------------------------------
    def script(self, *behaviours: Behaviour | str) -> None:
        """Queue behaviours for the next requests, in order (a str means `Behaviour(reply=s)`)."""
        for b in behaviours:
            self._queue.append(Behaviour(reply=b) if isinstance(b, str) else b)

    def set_default(self, behaviour: Behaviour) -> None:
        self.default = behaviour

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> FakeOpenAIServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # aiohttp keeps the bound socket here; port 0 = random
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._closing.set()  # releases hanging handlers so shutdown is quick
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAIServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- handlers --------------------------------------------------------------------
    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "body is not JSON")
        stream = bool(body.get("stream"))
        record = RecordedRequest(body=body, stream=stream)
        self.requests.append(record)
        b = self._queue.popleft() if self._queue else self.default

        if b.hang:
            await self._closing.wait()
            return _error(503, "shutting down")
        if b.delay_s:
            await asyncio.sleep(b.delay_s)
        if b.status != 200:
            return _error(b.status, "scripted failure")
        text = b.reply_fn(body) if b.reply_fn else b.reply
        if not stream:
            if b.garbage:
                return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
            return web.json_response(_completion(self.model, text))
        return await self._stream(request, b, text, record)

    async def _stream(
        self, request: web.Request, b: Behaviour, text: str, record: RecordedRequest
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if b.garbage:
            await resp.write(b"data: {this is not json\n\n")
            await resp.write(b"data: [DONE]\n\n")
            return resp
        await resp.write(_sse(_chunk(cid, self.model, {"role": "assistant", "content": ""})))
        pieces = b.chunks if b.chunks is not None else split_words(text)
        for i, piece in enumerate(pieces):
            if b.fail_after_chunks is not None and i >= b.fail_after_chunks:
                # Drop the connection mid-stream, as a crashed server would.
                assert request.transport is not None
                request.transport.close()
                return resp
            if b.chunk_delay_s and i:
                await asyncio.sleep(b.chunk_delay_s)
            if record.first_chunk_at is None:
                record.first_chunk_at = time.perf_counter()
            await resp.write(_sse(_chunk(cid, self.model, {"content": piece})))
        await resp.write(_sse(_chunk(cid, self.model, {}, finish_reason="stop")))
        await resp.write(b"data: [DONE]\n\n")
        return resp


def split_words(text: str) -> list[str]:
    """Word-sized chunks that keep their trailing whitespace (like token streams do)."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def _sse(obj: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()


def _chunk(cid: str, model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 0},
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "server_error", "code": status}}, status=status
    )


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAIServer]:
    """A started fake OpenAI server; script it with `.script(...)`, point clients at `.base_url`."""
    server = FakeOpenAIServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def with_delay(behaviour: Behaviour, delay_s: float) -> Behaviour:
    """A copy of `behaviour` that waits `delay_s` before answering (fixed-latency model)."""
    return replace(behaviour, delay_s=delay_s)


def phrase_claims(body: dict[str, Any]) -> str:
    """A well-behaved model: the claims of a phrasing prompt ("Facts:" lines), as sentences.

    For benchmarks and tests that need the model's text to be shown (the claim guard accepts
    a text that says exactly the claims); any other prompt gets a plain "OK.".
    """
    user = next((m.get("content") or "" for m in reversed(body.get("messages") or []) if m.get("role") == "user"), "")
    lines = [ln[2:].strip() for ln in user.split("Facts:", 1)[-1].splitlines() if ln.startswith("- ")]
    return " ".join(ln.rstrip(".") + "." for ln in lines) if lines else "OK."
