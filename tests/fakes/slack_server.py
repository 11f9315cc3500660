"""A fake Slack platform on 127.0.0.1 for tests and benchmarks.

Three pieces, all real network servers so slack-bolt / slack_sdk run unmodified:

* `FakeSlack` — the Web API (`https://slack.com/api/` stand-in). Point
  `AsyncWebClient(base_url=fake.api_url)` at it (the trailing slash matters).
  Every call is recorded in `fake.calls` (method, merged args, headers, time);
  `fake.fail_next(...)` makes the next call(s) of a method answer 429 with a
  `Retry-After` header (or any Slack error). It also serves the Socket Mode
  websocket that `apps.connections.open` hands out: `hello` on connect,
  envelopes pushed by `send_envelope`, acks recorded in `fake.acks`.
* `sign_request` / `signed_headers` — the `v0=` HMAC-SHA256 signature Slack
  puts on every HTTP-mode request.
* Payload builders (`event_body`, `mention_event`, `message_event`,
  `slash_command_body`) shaped like Slack's real payloads.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TEAM_ID = "T0TEST"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
APP_ID = "A0TEST"


@dataclass
class Call:
    """One Web API call the fake received."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.perf_counter)
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.args.get("blocks")
        if raw is None:
            return []
        return json.loads(raw) if isinstance(raw, str) else list(raw)

    def all_text(self) -> str:
        """Text plus every string inside the blocks: what a reader would see."""
        parts = [str(self.args.get("text") or "")]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "text" and isinstance(v, str):
                        parts.append(v)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.blocks())
        return "\n".join(parts)


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: float | None
    remaining: int
    skip: int = 0  # let this many calls through first


@dataclass
class UploadedFile:
    """One external upload as the fake saw it: announced by files.getUploadURLExternal
    (name, length, alt_txt), bytes POSTed to the upload URL, shared by
    files.completeUploadExternal (title, channel, thread)."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    completed: bool = False


class FakeSlack:
    """Fake Slack Web API + Socket Mode websocket. Use as `async with FakeSlack() as fake:`."""

    def __init__(self, *, team_id: str = TEAM_ID, latency_s: float = 0.0) -> None:
        self.team_id = team_id
        self.latency_s = latency_s  # added to every Web API answer (benchmarks)
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, UploadedFile] = {}  # external uploads by file id
        # user id -> users.info "user" object fields (is_admin, is_owner, is_bot, name...)
        self.users: dict[str, dict[str, Any]] = {}
        self.acks: list[dict[str, Any]] = []
        self.ws_connections = 0
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: dict[str, list[tuple[asyncio.Event, asyncio.Event]]] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._ws: list[web.WebSocketResponse] = []
        self._ws_ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/hooks/{path:.*}", self._hook)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await self._site.start()
        server = self._site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for ws in list(self._ws):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for `AsyncWebClient(base_url=...)` / `SLACK_API_BASE_URL` (trailing slash kept)."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ control
    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: float | None = 1,
        count: int = 1,
        skip: int = 0,
    ) -> None:
        """Answer the next `count` calls of `method` with an error (default: 429 + Retry-After),
        after letting `skip` calls through normally."""
        self._failures.setdefault(method, []).append(
            _Failure(status, error, retry_after, count, skip)
        )

    def hold_next(self, method: str) -> tuple[asyncio.Event, asyncio.Event]:
        """Process the next call of `method` (Slack did the work), then hold the answer.

        Returns `(done, release)`: `done` is set once the work is recorded; the HTTP
        answer is sent only after the test sets `release`. Lets a test kill the caller
        at the exact moment "Slack has the message, the caller does not know yet".
        """
        done, release = asyncio.Event(), asyncio.Event()
        self._holds.setdefault(method, []).append((done, release))
        return done, release

    def drop_next(self, method: str) -> None:
        """Process the next call of `method` normally but drop the connection before answering.

        The client sees a disconnect although Slack did the work: the case where
        a naive retry posts twice.
        """
        self._failures.setdefault(method, []).insert(0, _Failure(0, "", None, 1))

    def add_user(
        self,
        user_id: str,
        *,
        admin: bool = False,
        owner: bool = False,
        bot: bool = False,
        name: str = "",
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name or user_id.lower(),
            "real_name": name or user_id,
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "is_bot": bot,
        }

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method
            and (not ok_only or (c.status == 200 and c.response.get("ok", True)))
        ]

    def posts(self, channel: str | None = None) -> list[Call]:
        """Successful chat.postMessage calls, optionally for one channel."""
        return [
            c
            for c in self.calls_to("chat.postMessage")
            if channel is None or c.args.get("channel") == channel
        ]

    def updates(self, channel: str | None = None) -> list[Call]:
        """Successful chat.update calls (edits of a message by ts), optionally for one channel."""
        return [
            c
            for c in self.calls_to("chat.update")
            if channel is None or c.args.get("channel") == channel
        ]

    async def wait_for(self, predicate: Any, timeout_s: float = 5.0) -> None:
        """Wait until `predicate()` is true (re-checked after every recorded call)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout_s)

    async def wait_calls(self, method: str, n: int = 1, timeout_s: float = 5.0) -> list[Call]:
        await self.wait_for(lambda: len(self.calls_to(method)) >= n, timeout_s)
        return self.calls_to(method)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ Web API
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        ctype = request.headers.get("Content-Type", "")
        if request.method == "POST" and request.can_read_body:
            if ctype.startswith("application/json"):
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:
                raw = await request.text()
                args.update(dict(urllib.parse.parse_qsl(raw, keep_blank_values=True)))
        call = Call(method=method, args=args, headers=dict(request.headers))
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        failures = self._failures.get(method)
        if failures and failures[0].skip > 0:
            failures[0].skip -= 1
            failures = None
        if failures and failures[0].status == 0:
            # "Processed, but the answer never arrived": do the work, then cut the connection.
            failures.pop(0)
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            call.response = handler(args) if handler else {"ok": True}
            self.calls.append(call)
            await self._notify()
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("fake: connection dropped after processing")
        if failures:
            f = failures[0]
            f.remaining -= 1
            if f.remaining <= 0:
                failures.pop(0)
            call.status = f.status
            call.response = {"ok": False, "error": f.error}
            self.calls.append(call)
            await self._notify()
            headers = {"Retry-After": str(int(f.retry_after))} if f.retry_after is not None else {}
            return web.json_response(
                {"ok": False, "error": f.error}, status=f.status, headers=headers
            )
        if not str(request.headers.get("Authorization", "")).startswith("Bearer x"):
            call.response = {"ok": False, "error": "not_authed"}
            self.calls.append(call)
            await self._notify()
            return web.json_response({"ok": False, "error": "not_authed"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        payload = handler(args) if handler else {"ok": True}
        call.response = payload
        self.calls.append(call)
        await self._notify()
        holds = self._holds.get(method)
        if holds:
            done, release = holds.pop(0)
            done.set()
            await release.wait()
        return web.json_response(payload)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{500000 + next(self._ts):06d}"  # apart from new_ts()

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake Team",
            "user": "slipstream",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": ts,
            "message": {
                "type": "message",
                "text": args.get("text", ""),
                "ts": ts,
                "bot_id": BOT_ID,
                "user": BOT_USER_ID,
            },
        }

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": args.get("ts"),
            "text": args.get("text", ""),
        }

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = str(args.get("user", ""))
        user = self.users.get(uid)
        if user is None:
            user = {
                "id": uid,
                "team_id": self.team_id,
                "name": uid.lower(),
                "is_admin": False,
                "is_owner": False,
                "is_primary_owner": False,
                "is_bot": False,
            }
        return {"ok": True, "user": user}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first; like Slack, metadata only with `include_all_metadata`."""
        channel = args.get("channel")
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        msgs = []
        for c in reversed(self.posts(channel)):
            meta = c.args.get("metadata")
            if isinstance(meta, str):
                meta = json.loads(meta)
            ts = c.response.get("ts")
            edits = [u for u in self.updates(channel) if u.args.get("ts") == ts]
            msg = {
                "type": "message",
                "text": (edits[-1] if edits else c).args.get("text", ""),  # as last edited
                "bot_id": BOT_ID,
                "ts": ts,
            }
            if meta and with_meta:
                msg["metadata"] = meta
            msgs.append(msg)
        return {"ok": True, "messages": msgs[: int(args.get("limit", 100))], "has_more": False}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self.files[file_id] = UploadedFile(
            id=file_id,
            filename=args["filename"],
            length=int(args["length"]),
            alt_txt=args.get("alt_txt"),
        )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files", "[]")
        files = json.loads(files) if isinstance(files, str) else files
        found = [self.files.get(f.get("id", "")) for f in files]
        if not files or any(f is None or f.data is None for f in found):
            return {"ok": False, "error": "file_not_found"}  # unknown id, or bytes never posted
        for spec, upload in zip(files, found, strict=True):
            assert upload is not None and upload.data is not None
            if len(upload.data) != upload.length:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            upload.title = spec.get("title") or upload.filename
            upload.channel_id = args.get("channel_id")
            upload.thread_ts = args.get("thread_ts")
            upload.completed = True
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    def shared_files(self) -> list[UploadedFile]:
        """Files the bot completed (shared into a channel), in upload order."""
        return [f for f in self.files.values() if f.completed]

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    @property
    def response_url(self) -> str:
        """A slash command `response_url` served by this fake (calls recorded as "response_url")."""
        return f"{self.base_url}/hooks/commands/{self.team_id}/{next(self._ts)}"

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call(method="response_url", args=body, headers=dict(request.headers)))
        await self._notify()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return web.Response(status=404, text="unknown upload url")
        self.uploads[file_id] = data
        self.files[file_id].data = data
        self.calls.append(Call(method="upload", args={"file_id": file_id, "length": len(data)},
                               headers=dict(request.headers)))
        await self._notify()
        return web.Response(text=f"OK - {len(data)}")

    # ------------------------------------------------------------------ Socket Mode
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.ws_connections += 1
        self._ws.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._ws_ready.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    data["_at"] = time.perf_counter()
                    self.acks.append(data)
                    await self._notify()
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            if ws in self._ws:
                self._ws.remove(ws)
            if not self._ws:
                self._ws_ready.clear()
        return ws

    async def wait_socket(self, timeout_s: float = 5.0) -> None:
        await asyncio.wait_for(self._ws_ready.wait(), timeout_s)

    async def send_envelope(
        self, type_: str, payload: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> str:
        """Push one Socket Mode envelope (`events_api`, `slash_commands`) to the connected app."""
        await self.wait_socket()
        envelope_id = str(uuid.uuid4())
        msg: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": type_ != "events_api",
        }
        if type_ == "events_api":
            msg["retry_attempt"] = retry_attempt
            msg["retry_reason"] = retry_reason
        await self._ws[-1].send_json(msg)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout_s: float = 5.0) -> dict[str, Any]:
        await self.wait_for(
            lambda: any(a.get("envelope_id") == envelope_id for a in self.acks), timeout_s
        )
        return next(a for a in self.acks if a.get("envelope_id") == envelope_id)


# ---------------------------------------------------------------------- signing
def sign_request(secret: str, body: bytes | str, timestamp: int | str) -> str:
    """Slack's request signature: `v0=` + HMAC-SHA256(secret, `v0:{ts}:{body}`)."""
    if isinstance(body, str):
        body = body.encode()
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: bytes | str,
    *,
    content_type: str,
    timestamp: int | None = None,
    retry_num: int | None = None,
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign_request(secret, body, ts),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


# ---------------------------------------------------------------------- payloads
_seq = itertools.count(1)


def new_ts() -> str:
    return f"{int(time.time())}.{next(_seq):06d}"


def event_body(
    event: dict[str, Any], *, team_id: str = TEAM_ID, event_id: str | None = None
) -> dict[str, Any]:
    """An Events API `event_callback` envelope around `event`."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}],
        "is_ext_shared_channel": False,
    }


def mention_event(
    text: str,
    *,
    user: str = "U0MEMBER",
    channel: str = "C0GENERAL",
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts or new_ts(),
        "channel": channel,
        "event_ts": ts or new_ts(),
        "team": TEAM_ID,
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def message_event(
    text: str,
    *,
    user: str | None = "U0MEMBER",
    channel: str = "C0GENERAL",
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    ts = ts or new_ts()
    ev: dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "team": TEAM_ID,
    }
    if user is not None:
        ev["user"] = user
    if thread_ts:
        ev["thread_ts"] = thread_ts
    if subtype:
        ev["subtype"] = subtype
    if bot_id:
        ev["bot_id"] = bot_id
    ev.update(extra)
    return ev


def slash_command_body(
    text: str,
    *,
    user: str = "U0MEMBER",
    channel: str = "C0GENERAL",
    command: str = "/f1",
    response_url: str = "",
    trigger_id: str | None = None,
) -> str:
    """The form-encoded body Slack POSTs for a slash command."""
    return urllib.parse.urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or "https://hooks.slack.test/commands/T0TEST/1/abc",
            "trigger_id": trigger_id or f"{next(_seq)}.{uuid.uuid4().hex[:8]}",
        }
    )
