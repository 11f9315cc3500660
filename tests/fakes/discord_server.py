"""A fake Discord (REST + gateway websocket) on 127.0.0.1, written for the tests.

The real discord.py client talks to it unchanged: point `discord.http.Route.BASE`
at `fake.api_base` and `DiscordWebSocket.DEFAULT_GATEWAY` at `fake.gateway_url`
(the adapter does this from `DISCORD_API_BASE` / `DISCORD_GATEWAY_URL`).

Everything the client sends is recorded (`fake.requests`, `fake.gateway_frames`)
so tests assert on what Discord would have received. Payloads follow the shapes
of the real API (v10) closely enough for discord.py 2.7 to parse them.

Hazards discord.py has and this fake honours (each one cost a silent failure once):
- JSON is decoded only when `Content-Type` is exactly `application/json`.
- INTERACTION_CREATE needs `attachment_size_limit` or the client task dies.
- A 429 is retried only when the response carries a `Via` header.
- Frames are plain text (the client asks for zlib-stream; Discord would compress,
  but discord.py handles text frames, and text keeps the fake simple).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
PERM_MANAGE_GUILD = 1 << 5
PERM_ADMINISTRATOR = 1 << 3
# What @everyone gets on a fresh server (view, send, read history, use app commands, ...).
PERM_DEFAULT_MEMBER = 0x0000_0006_3FFC_F641 & ~(
    PERM_MANAGE_GUILD | PERM_ADMINISTRATOR | (1 << 1) | (1 << 2)
)

_counter = itertools.count(1)


def snowflake() -> int:
    """A real-looking, strictly increasing snowflake id."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim.
    h = {"Content-Type": "application/json"}
    if headers:
        h.update(headers)
    return web.Response(status=status, body=json.dumps(data).encode(), headers=h)


@dataclass
class Recorded:
    """One REST request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    headers: dict[str, str]
    at: float  # time.perf_counter() on arrival
    status: int = 0  # what the fake answered

    def __repr__(self) -> str:  # short, for assertion messages
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class _Rule:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    kind: str  # "429" | "fail_after_commit"
    retry_after: float = 0.0
    is_global: bool = False
    status: int = 502


@dataclass
class _Session:
    id: str
    events: list[dict[str, Any]] = field(default_factory=list)  # sent dispatches (with "s")
    seq: int = 0


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


class FakeDiscord:
    """One fake guild with a text channel, a thread and a moderator role."""

    def __init__(self, *, host: str = "127.0.0.1", heartbeat_interval_ms: int = 41250) -> None:
        self.host = host
        self.port = 0
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.token = "fake-bot-token"
        self.app_id = snowflake()
        self.bot = FakeUser(snowflake(), "slipstream", bot=True)
        self.owner = FakeUser(snowflake(), "owner")
        self.member = FakeUser(snowflake(), "fan")
        self.moderator = FakeUser(snowflake(), "mod")
        self.guild_id = snowflake()
        self.channel_id = snowflake()  # "#f1"
        self.highlights_channel_id = snowflake()  # "#race-highlights"
        self.thread_id = snowflake()  # a public thread under #f1
        self.mod_role_id = snowflake()
        self.dm_channel_id = snowflake()

        self.requests: list[Recorded] = []
        self.gateway_frames: list[dict[str, Any]] = []  # what the client sent on the gateway
        self.identify_count = 0
        self.resume_count = 0
        self.commands: dict[
            str, list[dict[str, Any]]
        ] = {}  # "global" | guild id -> synced commands
        self.messages: dict[int, dict[str, Any]] = {}  # message id -> payload (current state)
        self.originals: dict[str, int] = {}  # interaction token -> original message id
        # Tokens Discord no longer accepts (15 minutes old): webhook calls get 401 / 50027.
        self.expired_tokens: set[str] = set()
        self._token_channel: dict[str, int] = {}  # interaction token -> channel id
        self.dispatch_times: dict[str, float] = {}  # marker -> perf_counter when the event was sent
        self._rules: list[_Rule] = []
        self._nonces: dict[tuple[int, str], int] = {}  # (channel, nonce) -> message id
        self._sessions: dict[str, _Session] = {}
        self._ws: web.WebSocketResponse | None = None
        self._session: _Session | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.connected = asyncio.Event()
        # What the Developer Portal allows; IDENTIFY asking for more is closed with 4014.
        self.privileged_intents: int = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ test controls
    def rate_limit(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        retry_after: float = 0.2,
        is_global: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with 429 + retry_after (+ Via header)."""
        self._rules.append(
            _Rule(
                method,
                re.compile(path_regex),
                times,
                "429",
                retry_after=retry_after,
                is_global=is_global,
            )
        )

    def fail_after_commit(
        self, method: str, path_regex: str, *, times: int = 1, status: int = 502
    ) -> None:
        """Create the message, then answer `status` anyway (a lost response: the client will retry)."""
        self._rules.append(
            _Rule(method, re.compile(path_regex), times, "fail_after_commit", status=status)
        )

    async def wait_for_request(
        self,
        predicate: Callable[[Recorded], bool],
        *,
        timeout_s: float = 10.0,
        start: int = 0,
        watch: asyncio.Task[Any] | None = None,
    ) -> Recorded:
        """The first recorded request (from index `start`) matching `predicate`.

        `watch` is the client task: if it ends first, fail instead of waiting on.
        """

        def find() -> Recorded | None:
            return next((r for r in self.requests[start:] if predicate(r)), None)

        return await self._wait(find, timeout_s, watch, "request")

    async def wait_until(
        self,
        check: Callable[[], Any],
        *,
        timeout_s: float = 10.0,
        watch: asyncio.Task[Any] | None = None,
    ) -> Any:
        """Wait until `check()` returns something truthy (re-checked on every request/frame)."""
        return await self._wait(check, timeout_s, watch, "condition")

    async def _wait(
        self, find: Callable[[], Any], timeout_s: float, watch: asyncio.Task[Any] | None, what: str
    ) -> Any:
        async def waiter() -> Any:
            async with self._changed:
                while True:
                    found = find()
                    if found:
                        return found
                    # Also re-check now and then: some conditions change without a request.
                    try:
                        await asyncio.wait_for(self._changed.wait(), 0.05)
                    except TimeoutError:
                        pass

        wait_task = asyncio.ensure_future(waiter())
        racers: set[asyncio.Future[Any]] = {wait_task}
        if watch is not None:
            racers.add(watch)
        done, _ = await asyncio.wait(racers, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if wait_task in done:
            return wait_task.result()
        wait_task.cancel()
        if watch is not None and watch in done:
            exc = watch.exception() if not watch.cancelled() else None
            raise AssertionError(
                f"the Discord client task ended while waiting for a {what}: {exc!r}"
            )
        seen = [r for r in self.requests[-15:]]
        raise AssertionError(
            f"timed out after {timeout_s}s waiting for a {what}; last requests: {seen}"
        )

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ payload builders
    def user_payload(self, user: FakeUser) -> dict[str, Any]:
        return user.payload()

    def member_payload(
        self, user: FakeUser, *, roles: list[int] | None = None, with_user: bool = True
    ) -> dict[str, Any]:
        m: dict[str, Any] = {
            "roles": [str(r) for r in (roles or [])],
            "joined_at": "2023-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "communication_disabled_until": None,
        }
        if with_user:
            m["user"] = user.payload()
        return m

    def _roles_for(self, user: FakeUser) -> list[int]:
        return [self.mod_role_id] if user.id == self.moderator.id else []

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        if channel_id == self.thread_id:
            return {
                "id": str(self.thread_id),
                "type": 11,  # public thread
                "guild_id": str(self.guild_id),
                "parent_id": str(self.channel_id),
                "owner_id": str(self.member.id),
                "name": "Monza questions",
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 1,
                "member_count": 2,
                "total_message_sent": 1,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": _now_iso(),
                    "locked": False,
                },
            }
        name = "f1" if channel_id == self.channel_id else "race-highlights"
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": 0 if channel_id == self.channel_id else 1,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.guild_id),
            "name": "Paddock Club",
            "icon": None,
            "owner_id": str(self.owner.id),
            "unavailable": False,
            "member_count": 4,
            "large": False,
            "features": [],
            "preferred_locale": "en-US",
            "roles": [
                {
                    "id": str(self.guild_id),  # @everyone has the guild's id
                    "name": "@everyone",
                    "color": 0,
                    "hoist": False,
                    "position": 0,
                    "permissions": str(PERM_DEFAULT_MEMBER),
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                },
                {
                    "id": str(self.mod_role_id),
                    "name": "Race Control",
                    "color": 0xE10600,
                    "hoist": True,
                    "position": 1,
                    "permissions": str(PERM_DEFAULT_MEMBER | PERM_MANAGE_GUILD),
                    "managed": False,
                    "mentionable": True,
                    "flags": 0,
                },
            ],
            "emojis": [],
            "stickers": [],
            "channels": [
                self.channel_payload(self.channel_id),
                self.channel_payload(self.highlights_channel_id),
            ],
            "threads": [self.channel_payload(self.thread_id)],
            "members": [
                self.member_payload(self.bot),
                self.member_payload(self.owner),
                self.member_payload(self.member),
                self.member_payload(self.moderator, roles=[self.mod_role_id]),
            ],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": "2023-01-01T00:00:00+00:00",
            "premium_tier": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "system_channel_id": None,
        }

    def _permissions_of(self, user: FakeUser) -> int:
        if user.id == self.owner.id:
            return PERM_DEFAULT_MEMBER | PERM_ADMINISTRATOR | PERM_MANAGE_GUILD
        perms = PERM_DEFAULT_MEMBER
        if self.mod_role_id in self._roles_for(user):
            perms |= PERM_MANAGE_GUILD
        return perms

    def interaction(
        self,
        subcommand: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        focused: str | None = None,
        dm: bool = False,
        group: str = "f1",
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for `/f1 <subcommand> ...` (type 4 when `focused` is set)."""
        user = user or self.member
        channel_id = channel_id or (self.dm_channel_id if dm else self.channel_id)
        opts = []
        for k, v in (options or {}).items():
            t = (
                5
                if isinstance(v, bool)
                else 4
                if isinstance(v, int)
                else 10
                if isinstance(v, float)
                else 3
            )
            o: dict[str, Any] = {"name": k, "type": t, "value": v}
            if focused == k:
                o["focused"] = True
                o["type"] = 3 if isinstance(v, str) else t
            opts.append(o)
        cmd_id = self._command_id(group)
        token = "itok-" + uuid.uuid4().hex
        self._token_channel[token] = channel_id
        data: dict[str, Any] = {
            "id": str(snowflake()),
            "application_id": str(self.app_id),
            "type": 4 if focused else 2,
            "token": token,
            "version": 1,
            "locale": "en-GB",
            "app_permissions": str(PERM_DEFAULT_MEMBER),
            "attachment_size_limit": 10 * 1024 * 1024,  # discord.py 2.7 dies without it
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)}
            if not dm
            else {"1": str(user.id)},
            "context": 1 if dm else 0,
            "data": {
                "id": str(cmd_id),
                "name": group,
                "type": 1,
                "options": [{"name": subcommand, "type": 1, "options": opts}],
            },
        }
        if dm:
            data["channel_id"] = str(channel_id)
            data["channel"] = {
                "id": str(channel_id),
                "type": 1,
                "recipients": [user.payload()],
                "flags": 0,
            }
            data["user"] = user.payload()
        else:
            data["guild_id"] = str(self.guild_id)
            data["guild_locale"] = "en-US"
            data["guild"] = {"id": str(self.guild_id), "locale": "en-US", "features": []}
            data["channel_id"] = str(channel_id)
            data["channel"] = self.channel_payload(channel_id)
            member = self.member_payload(user, roles=self._roles_for(user))
            member["permissions"] = str(self._permissions_of(user))
            data["member"] = member
        return data

    def _command_id(self, name: str) -> int:
        for cmds in self.commands.values():
            for c in cmds:
                if c["name"] == name:
                    return int(c["id"])
        return snowflake()

    def _command_id_known(self, name: str) -> bool:
        return any(c["name"] == name for cmds in self.commands.values() for c in cmds)

    def message(
        self,
        content: str,
        *,
        author: FakeUser | None = None,
        channel_id: int | None = None,
        mention_bot: bool = False,
        reply_to: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload. `mention_bot` prefixes `<@bot>` and lists the bot in mentions."""
        author = author or self.member
        channel_id = channel_id or (self.dm_channel_id if dm else self.channel_id)
        mentions: list[dict[str, Any]] = []
        if mention_bot:
            content = f"<@{self.bot.id}> {content}"
        ref_msg = self.messages.get(reply_to) if reply_to else None
        if mention_bot or (ref_msg is not None and ref_msg["author"]["id"] == str(self.bot.id)):
            # A reply pings the replied-to author by default: Discord lists them in mentions.
            bot_mention = self.bot.payload()
            if not dm:
                bot_mention["member"] = self.member_payload(self.bot, with_user=False)
            mentions.append(bot_mention)
        data: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "type": 19 if reply_to else 0,
            "content": content,
            "author": author.payload(),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
            "components": [],
        }
        if not dm:
            data["guild_id"] = str(self.guild_id)
            data["member"] = self.member_payload(
                author, roles=self._roles_for(author), with_user=False
            )
        if reply_to:
            data["message_reference"] = {
                "type": 0,
                "message_id": str(reply_to),
                "channel_id": str(channel_id),
                **({"guild_id": str(self.guild_id)} if not dm else {}),
            }
            data["referenced_message"] = ref_msg
        self.messages[int(data["id"])] = data
        return data

    # ------------------------------------------------------------------ gateway
    async def dispatch(
        self, event: str, data: dict[str, Any], *, marker: str | None = None
    ) -> None:
        """Send a DISPATCH (op 0). Kept in the session log so a RESUME replays it."""
        session = self._session
        if session is None:
            raise RuntimeError("no gateway session: the client has not identified")
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.events.append(frame)
        if marker is not None:
            self.dispatch_times[marker] = time.perf_counter()
        ws = self._ws
        if ws is not None and not ws.closed:
            try:
                await ws.send_str(json.dumps(frame))
            except ConnectionError:
                pass  # replayed on RESUME

    async def send_interaction(self, payload: dict[str, Any]) -> None:
        await self.dispatch("INTERACTION_CREATE", payload, marker=payload["id"])

    async def send_message(self, payload: dict[str, Any]) -> None:
        await self.dispatch("MESSAGE_CREATE", payload, marker=payload["id"])

    async def request_reconnect(self) -> None:
        """Op 7 RECONNECT: the client must close and RESUME on the resume URL."""
        ws = self._ws
        if ws is not None and not ws.closed:
            self.connected.clear()
            await ws.send_str(json.dumps({"op": 7, "d": None}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        previous, self._ws = self._ws, ws
        if previous is not None and not previous.closed:
            await previous.close()
        await ws.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        )
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            self.gateway_frames.append(frame)
            op = frame.get("op")
            if op == 1:  # HEARTBEAT
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:  # IDENTIFY
                await self._on_identify(ws, frame["d"])
            elif op == 6:  # RESUME
                await self._on_resume(ws, frame["d"])
            await self._notify()
        if self._ws is ws:
            self._ws = None
        return ws

    async def _on_identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        self.identify_count += 1
        privileged = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
        if int(d.get("intents") or 0) & privileged & ~self.privileged_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session = _Session(id=uuid.uuid4().hex)
        self._sessions[session.id] = session
        self._session = session
        ready = {
            "v": 10,
            "user": self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "_trace": ["fake-discord"],
        }
        await self.dispatch("READY", ready)
        await self.dispatch("GUILD_CREATE", self.guild_payload())
        self.connected.set()

    async def _on_resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        session = self._sessions.get(d.get("session_id", ""))
        if session is None or d.get("token") != self.token:
            await ws.send_str(json.dumps({"op": 9, "d": False}))  # INVALID_SESSION, not resumable
            return
        self.resume_count += 1
        self._session = session
        seq = d.get("seq") or 0
        for frame in session.events:  # replay what the client missed, then RESUMED
            if frame["s"] > seq:
                await ws.send_str(json.dumps(frame))
        session.seq += 1
        resumed = {"op": 0, "t": "RESUMED", "s": session.seq, "d": {"_trace": ["fake-discord"]}}
        session.events.append(resumed)
        await ws.send_str(json.dumps(resumed))
        self.connected.set()

    # ------------------------------------------------------------------ REST
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body_json: Any = None
        files: list[tuple[str, bytes]] = []
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body_json = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    files.append((part.filename or "", await part.read()))  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            body_json = json.loads(raw) if raw else None
        rec = Recorded(
            request.method,
            path,
            dict(request.query),
            body_json,
            files,
            dict(request.headers),
            time.perf_counter(),
        )
        self.requests.append(rec)
        try:
            resp = await self._route(request.method, path, rec)
        finally:
            await self._notify()
        rec.status = resp.status
        return resp

    def _take_rule(self, method: str, path: str, kind: str) -> _Rule | None:
        for rule in self._rules:
            if (
                rule.kind == kind
                and rule.remaining > 0
                and rule.method == method
                and rule.pattern.search(path)
            ):
                rule.remaining -= 1
                return rule
        return None

    async def _route(self, method: str, path: str, rec: Recorded) -> web.Response:
        if rec.headers.get("Authorization") not in (f"Bot {self.token}", None):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        rule = self._take_rule(method, path, "429")
        if rule is not None:
            body = {
                "message": "You are being rate limited.",
                "retry_after": rule.retry_after,
                "global": rule.is_global,
            }
            headers = {
                "Via": "1.1 google",  # discord.py only retries a 429 that carries Via
                "Retry-After": str(max(1, int(rule.retry_after + 0.999))),
                "X-RateLimit-Scope": "global" if rule.is_global else "user",
            }
            if rule.is_global:
                headers["X-RateLimit-Global"] = "true"
            return _json(body, 429, headers)

        if method == "GET" and path == "/users/@me":
            return _json(self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0})
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._app_payload())
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )

        m = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path)
        if m:
            key = m.group(2) or "global"
            if method == "PUT":
                out = []
                for c in rec.json or []:
                    c = dict(c)
                    c.setdefault("id", str(snowflake()))
                    c["application_id"] = str(self.app_id)
                    c["version"] = str(snowflake())
                    if m.group(2):
                        c["guild_id"] = m.group(2)
                    out.append(c)
                self.commands[key] = out
                return _json(out)
            return _json(self.commands.get(key, []))

        m = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if m:
            return self._interaction_callback(int(m.group(1)), m.group(2), rec)

        m = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", path)
        if m:
            return self._webhook(method, m.group(2), m.group(3), rec)

        m = re.fullmatch(r"/channels/(\d+)/typing", path)
        if m and method == "POST":
            return web.Response(status=204)

        m = re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", path)
        if m:
            channel_id = int(m.group(1))
            if method == "POST" and m.group(2) is None:
                return self._create_channel_message(channel_id, rec)
            if method == "PATCH" and m.group(2):
                return self._edit_message(int(m.group(2)), rec.json or {}, rec)
            if method == "GET" and m.group(2) and int(m.group(2)) in self.messages:
                return _json(self.messages[int(m.group(2))])
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _app_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": "Slipstream",
            "icon": None,
            "description": "F1 race intelligence",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.owner.payload(),
            "team": None,
            "rpc_origins": [],
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
        }

    def _new_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        rec: Recorded,
        *,
        interaction_token: str | None = None,
    ) -> dict[str, Any]:
        msg = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "type": 20 if interaction_token else (19 if body.get("message_reference") else 0),
            "content": body.get("content") or "",
            "author": self.bot.payload(),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": _attachments(body, rec.files),
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "flags": body.get("flags", 0) or 0,
            "components": [],
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),  # kept for assertions
        }
        if channel_id != self.dm_channel_id:
            msg["guild_id"] = str(self.guild_id)
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
        self.messages[int(msg["id"])] = msg
        return msg

    def _create_channel_message(self, channel_id: int, rec: Recorded) -> web.Response:
        body = rec.json or {}
        if len(body.get("content") or "") > 2000:
            return self._too_long()
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            existing = self._nonces.get((channel_id, str(nonce)))
            if existing is not None:  # Discord returns the earlier message instead of a duplicate
                return _json(self.messages[existing])
        msg = self._new_message(channel_id, body, rec)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = int(msg["id"])
        failing = self._take_rule("POST", rec.path, "fail_after_commit")
        if failing is not None:
            return _json({"message": "upstream timed out", "code": 0}, failing.status)
        return _json(msg)

    def _too_long(self) -> web.Response:
        return _json(
            {
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {
                    "content": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_MAX_LENGTH",
                                "message": "Must be 2000 or fewer in length.",
                            }
                        ]
                    }
                },
            },
            400,
        )

    def _edit_message(self, message_id: int, body: dict[str, Any], rec: Recorded) -> web.Response:
        msg = self.messages.get(message_id)
        if msg is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if len(body.get("content") or "") > 2000:
            return self._too_long()
        for key in ("content", "embeds", "flags", "allowed_mentions"):
            if key in body:
                msg[key] = body[key]
        if rec.files:
            msg["attachments"] = _attachments(body, rec.files)
        msg["edited_timestamp"] = _now_iso()
        return _json(msg)

    def _interaction_callback(self, interaction_id: int, token: str, rec: Recorded) -> web.Response:
        body = rec.json or {}
        rtype = body.get("type")
        data = body.get("data") or {}
        if rtype == 8:  # autocomplete result
            return _json({"interaction": {"id": str(interaction_id), "type": 4}})
        if token in self.originals:
            return _json(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        flags = data.get("flags", 0) or 0
        channel_id = self._token_channel.get(token, self.channel_id)
        msg = self._new_message(
            channel_id, data if rtype == 4 else {"flags": flags}, rec, interaction_token=token
        )
        if rtype == 5:
            msg["flags"] = flags | 128  # LOADING
        self.originals[token] = int(msg["id"])
        return _json(
            {
                "interaction": {
                    "id": str(interaction_id),
                    "type": 2,
                    "response_message_id": msg["id"],
                    "response_message_loading": rtype == 5,
                    "response_message_ephemeral": bool(flags & 64),
                },
                "resource": {"type": rtype, "message": msg} if rtype in (4, 5) else {"type": rtype},
            }
        )

    def expire_token(self, token: str) -> None:
        """Make an interaction token stale, as Discord does 15 minutes after the interaction."""
        self.expired_tokens.add(token)

    def _webhook(self, method: str, token: str, which: str | None, rec: Recorded) -> web.Response:
        if token in self.expired_tokens:  # Discord's answer to any use of an expired token
            return _json({"message": "Invalid Webhook Token", "code": 50027}, 401)
        if which == "@original":
            mid = self.originals.get(token)
            if mid is None:
                return _json({"message": "Unknown Webhook", "code": 10015}, 404)
            if method == "DELETE":
                self.messages.pop(mid, None)
                return web.Response(status=204)
            if method == "GET":
                return _json(self.messages[mid])
            resp = self._edit_message(mid, rec.json or {}, rec)
            if resp.status == 200:
                self.messages[mid]["flags"] = (self.messages[mid].get("flags") or 0) & ~128
            return resp
        if which is not None:
            if method == "PATCH":
                return self._edit_message(int(which), rec.json or {}, rec)
            if method == "DELETE":
                self.messages.pop(int(which), None)
                return web.Response(status=204)
            return _json(self.messages.get(int(which), {}))
        if method == "POST":  # follow-up message
            body = rec.json or {}
            if len(body.get("content") or "") > 2000:
                return self._too_long()
            channel_id = self._token_channel.get(token, self.channel_id)
            msg = self._new_message(channel_id, body, rec, interaction_token=token)
            return _json(msg)
        return _json({"message": "405", "code": 0}, 405)

    # ------------------------------------------------------------------ query helpers for tests
    def requests_to(self, method: str, path_regex: str, *, start: int = 0) -> list[Recorded]:
        rx = re.compile(path_regex)
        return [r for r in self.requests[start:] if r.method == method and rx.search(r.path)]

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == str(channel_id) and m["author"]["id"] == str(self.bot.id)
        ]


def _attachments(body: dict[str, Any], files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Message attachments as Discord returns them: the uploaded files, each with the
    `description` (alt text) that `payload_json.attachments` gave the file of that index."""
    described = {
        int(a["id"]): a.get("description")
        for a in body.get("attachments") or []
        if str(a.get("id", "")).isdigit()
    }
    out = []
    for i, (name, data) in enumerate(files):
        att: dict[str, Any] = {
            "id": str(snowflake()),
            "filename": name,
            "size": len(data),
            "url": f"https://cdn.invalid/{name}",
            "proxy_url": f"https://cdn.invalid/{name}",
        }
        if described.get(i):
            att["description"] = described[i]
        out.append(att)
    return out
