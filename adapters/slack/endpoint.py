"""The HTTP front door of Slack's Events API: refuse bad requests before Bolt sees them.

Bolt parses the body before it checks the signature, so a malformed or
non-object JSON body (signed or not) raised inside Bolt and became a 500 with a
traceback, a non-numeric `X-Slack-Request-Timestamp` crashed slack_sdk's
`SignatureVerifier` (`int(timestamp)`), and every rejected request's body was
logged whole. This handler runs first and in this order:

1. size: a declared `Content-Length` over the limit gets 413 without reading a
   byte; a body without one is read only up to the limit + 1 byte;
2. timestamp: present, an integer, within 5 minutes (401 otherwise);
3. signature: `SignatureVerifier` (HMAC-SHA256 of ``v0:{ts}:{body}``), 401
   (over the raw bytes when the body is not UTF-8, which slack_sdk cannot take);
4. only then parsing, the same way Bolt will parse (`slack_bolt.request.internals.
   parse_body`): the result must be a JSON object (400 otherwise).

Each refusal is ONE log line with the reason, the body size and a short hash:
never the body, which an attacker controls and may make huge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

# Slack's own events are small (a message event is a few KB); 1 MiB leaves a wide margin.
DEFAULT_MAX_BODY = 1024 * 1024
MAX_SKEW_S = 5 * 60  # Slack's documented replay window

LOG_REJECTED = "Slack request refused (%s %s): %s; %d bytes, sha256 %s"

Dispatch = Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]


class Rejected(Exception):
    """A request we answer with `status` and a short plain-text `reason`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:12]


def check_timestamp(raw: str | None, now: float) -> int:
    """The request timestamp as an int, or `Rejected(401)` (missing, not a number, stale)."""
    if raw is None or not raw.strip():
        raise Rejected(401, "missing timestamp")
    raw = raw.strip()
    # isdigit() and a length cap: int() would accept "+1_0" and a 10,000-digit number is slow.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise Rejected(401, "timestamp is not a number")
    if abs(now - int(raw)) > MAX_SKEW_S:
        raise Rejected(401, "stale timestamp")
    return int(raw)


def check_payload(text: str, content_type: str | None) -> dict[str, Any]:
    """Parse `text` exactly as Bolt will; anything but a JSON object is `Rejected(400)`."""
    if not text:
        raise Rejected(400, "empty body")
    try:
        if content_type == "application/json" or text.startswith("{"):
            payload: Any = json.loads(text)
        elif "payload" in text:  # interactivity: form field `payload` holding JSON
            fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
            payload = json.loads(fields["payload"]) if "payload" in fields else fields
        else:
            payload = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; so are bad forms
        raise Rejected(400, "malformed body") from None
    if not isinstance(payload, dict) or not payload:
        raise Rejected(400, "body is not an object")
    return payload


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, or `Rejected(413)` as soon as it is known to exceed `limit` (never read whole)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Rejected(413, "body too large")
    parts: list[bytes] = []
    size = 0
    # Hazard: `content.read(n)` returns what has arrived (up to n), not n: loop to EOF.
    while chunk := await request.content.read(min(65536, limit + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "body too large")
    return b"".join(parts)


def _signature_ok(
    verifier: SignatureVerifier, body: bytes, text: str | None, ts: str, signature: str
) -> bool:
    """HMAC check of the raw bytes. Hazard: `SignatureVerifier` decodes the body as UTF-8
    and raises on anything else, so a non-UTF-8 body is checked here over its bytes."""
    if text is not None:
        return verifier.is_valid(text, ts, signature)
    base = b"v0:" + ts.encode() + b":" + body
    mac = hmac.new(verifier.signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v0=" + mac, signature)


def make_handler(
    signing_secret: str,
    dispatch: Dispatch,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    clock: Callable[[], float] = time.time,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler that verifies, then hands the request to Bolt's `async_dispatch`."""
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        body = b""
        try:
            body = await read_limited(request, max_body)
            raw_ts = request.headers.get("X-Slack-Request-Timestamp")
            check_timestamp(raw_ts, clock())
            ts = str(raw_ts).strip()  # signed as sent; check_timestamp made sure it is digits
            signature = request.headers.get("X-Slack-Signature")
            if not signature:
                raise Rejected(401, "missing signature")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if not _signature_ok(verifier, body, text, ts, signature):
                raise Rejected(401, "invalid signature")
            if text is None:
                raise Rejected(400, "body is not UTF-8")
            check_payload(text, request.content_type)
            verified: str = text
        except Rejected as exc:
            # Hazard: the body is attacker-controlled: log its size and hash only.
            log.warning(
                LOG_REJECTED, request.method, request.path, exc.reason, len(body), _digest(body)
            )
            return web.Response(status=exc.status, text=exc.reason)
        bolt_request = AsyncBoltRequest(
            body=verified, query=request.query_string, headers=dict(request.headers)
        )
        return await to_aiohttp_response(await dispatch(bolt_request))

    return handle


def make_web_app(
    path: str,
    signing_secret: str,
    dispatch: Dispatch,
    *,
    max_body: int = DEFAULT_MAX_BODY,
) -> web.Application:
    """An aiohttp app serving only `POST path` through `make_handler`.

    `client_max_size` is set just above our own limit so aiohttp never buffers more.
    """
    app = web.Application(client_max_size=max_body + 1)
    app.router.add_post(path, make_handler(signing_secret, dispatch, max_body=max_body))
    return app
