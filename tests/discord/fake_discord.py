"""A small fake of Discord's REST API and gateway on 127.0.0.1, for the real discord.py client.

It answers the REST routes the bot calls, speaks just enough gateway (HELLO, IDENTIFY, READY,
GUILD_CREATE, heartbeats) and lets a test inject events such as INTERACTION_CREATE. Everything
the bot sends is recorded; queued failures (403, 404, 429, 5xx) answer the next matching calls.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

JSON = dict[str, Any]

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 910000000000000001
GENERAL = 910000000000000011  # text channels of the guild
STUDY = 910000000000000012
VOICE = 910000000000000013
ALICE = 920000000000000001  # alice manages the server; bob is a plain member
BOB = 920000000000000002
CAROL = 920000000000000003  # Manage Server but not Manage Channels
ALICE_DM = 930000000000000001
BOB_DM = 930000000000000002

MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
PLAIN_MEMBER = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use commands
EPHEMERAL = 64
BUTTON, SELECT = 2, 3  # component types: a button, a string select

_NOW = "2026-03-02T00:00:00+00:00"


def user_payload(user_id: int, name: str, *, bot: bool = False) -> JSON:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot, "public_flags": 0, "flags": 0}


USERS = {ALICE: user_payload(ALICE, "Alice"), BOB: user_payload(BOB, "Bob"),
         CAROL: user_payload(CAROL, "Carol")}
PERMISSIONS = {ALICE: PLAIN_MEMBER | MANAGE_GUILD | MANAGE_CHANNELS, BOB: PLAIN_MEMBER,
               CAROL: PLAIN_MEMBER | MANAGE_GUILD}
DMS = {ALICE: ALICE_DM, BOB: BOB_DM}


def channel_payload(channel_id: int, name: str, kind: int = 0) -> JSON:
    return {"id": str(channel_id), "type": kind, "name": name, "position": 0,
            "guild_id": str(GUILD_ID), "permission_overwrites": [], "nsfw": False,
            "parent_id": None, "topic": None, "last_message_id": None, "flags": 0,
            "rate_limit_per_user": 0} | ({"bitrate": 64000, "user_limit": 0} if kind == 2 else {})


CHANNELS = {GENERAL: channel_payload(GENERAL, "general"), STUDY: channel_payload(STUDY, "study"),
            VOICE: channel_payload(VOICE, "voice", 2)}


def member_payload(user_id: int) -> JSON:
    return {"user": USERS[user_id], "roles": [], "joined_at": _NOW, "deaf": False, "mute": False,
            "flags": 0, "nick": None, "avatar": None, "pending": False,
            "communication_disabled_until": None, "permissions": str(PERMISSIONS[user_id])}


def guild_payload() -> JSON:
    everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": str(PLAIN_MEMBER),
                "position": 0, "color": 0, "hoist": False, "managed": False,
                "mentionable": False, "flags": 0}
    bot_member = {"user": user_payload(BOT_ID, "studybot", bot=True), "roles": [],
                  "joined_at": _NOW, "deaf": False, "mute": False, "flags": 0}
    return {"id": str(GUILD_ID), "name": "Study group", "icon": None, "owner_id": str(ALICE),
            "roles": [everyone], "channels": list(CHANNELS.values()), "members": [bot_member],
            "member_count": 3, "unavailable": False, "features": [], "emojis": [],
            "stickers": [], "threads": [], "voice_states": [], "presences": [], "large": False,
            "joined_at": _NOW, "preferred_locale": "en-US", "premium_tier": 0,
            "system_channel_flags": 0, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "nsfw_level": 0}


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    body: Any
    query: dict[str, str]
    authorization: str = ""


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: JSON
    headers: dict[str, str]
    times: int = 1


@dataclass
class Sent:
    """A message the bot posted, as Discord stores it (and shows it to a user)."""

    payload: JSON
    ephemeral: bool
    files: list[JSON] = field(default_factory=list)  # uploads: filename, content_type, data,
    # description (alt text)

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def embeds(self) -> list[JSON]:
        return list(self.payload.get("embeds") or [])

    @property
    def content(self) -> str:
        return str(self.payload.get("content") or "")

    @property
    def text(self) -> str:
        """Everything a reader sees: content, embed titles, descriptions, footers."""
        parts = [self.content]
        for e in self.embeds:
            parts += [e.get("title") or "", e.get("description") or "",
                      (e.get("footer") or {}).get("text") or ""]
        return "\n".join(p for p in parts if p)

    @property
    def buttons(self) -> list[JSON]:
        return [c for row in self.payload.get("components") or []
                for c in row.get("components", [])]


@dataclass
class Interaction:
    """An interaction the test injected, and what the bot answered to it."""

    id: int
    token: str
    kind: int
    channel_id: int
    callbacks: list[JSON] = field(default_factory=list)
    replies: list[Sent] = field(default_factory=list)
    deleted_original: bool = False

    @property
    def deferred_ephemeral(self) -> bool:
        return any((c.get("data") or {}).get("flags", 0) & EPHEMERAL for c in self.callbacks)


class FakeDiscord:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.held: list[re.Pattern[str]] = []
        self.channel_messages: dict[int, list[Sent]] = {}
        self.threads: dict[int, JSON] = {}  # threads started on a message: id (= message id) → it
        self.deleted: set[int] = set()  # messages someone deleted
        self.interactions: dict[str, Interaction] = {}
        self.commands: dict[int | None, list[JSON]] = {}  # guild id (None: global) → commands
        self.identify: JSON | None = None  # the last IDENTIFY
        self.identifies: list[JSON] = []  # every IDENTIFY, one per shard and reconnection
        self.sockets: list[web.WebSocketResponse] = []
        self.shards: dict[web.WebSocketResponse, list[int]] = {}  # [id, count] per session
        self._ids = itertools.count(950000000000000001)
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        self._release.set()
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ----- what the test controls -------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, body: JSON | None = None, *,
             headers: dict[str, str] | None = None, times: int = 1) -> None:
        """Answer the next `times` calls matching `path` (a regex) with an error."""
        self.failures.append(Failure(method, re.compile(path), status,
                                     body or {"message": "error", "code": 0}, headers or {},
                                     times))

    def rate_limit(self, method: str, path: str, retry_after: float) -> None:
        # discord.py treats a 429 without a Via header as a Cloudflare ban, so send one.
        self.fail(method, path, 429, {"message": "You are being rate limited.",
                                      "retry_after": retry_after, "global": False},
                  headers={"Via": "1.1 google", "X-RateLimit-Scope": "user"})

    def hold(self, path: str) -> None:
        """Never answer calls matching `path` (until close): a Discord that stopped responding."""
        self.held.append(re.compile(path))

    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked after every recorded call)."""
        async def check() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result
        return await asyncio.wait_for(check(), within)

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send a gateway DISPATCH event to every connected client."""
        message = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        guild = data.get("guild_id") or (data.get("id") if event.startswith("GUILD_") else None)
        for ws in list(self.sockets):
            shard_id, count = self.shards.get(ws, [0, 1])
            # A server's events go to the one session whose shard owns it (see _hello_again);
            # direct messages, of no server, to shard 0.
            if not ws.closed and (int(guild or 0) >> 22) % count == shard_id:
                await ws.send_str(json.dumps(message))

    def messages_in(self, channel_id: int) -> list[Sent]:
        return self.channel_messages.get(channel_id, [])

    async def posted_in(self, channel_id: int, interaction: Interaction) -> Sent:
        """The bot's own channel message an interaction led to (the leaderboard is one), once
        the interaction's placeholder is gone."""
        await self.wait_for(lambda: interaction.deleted_original)
        return self.messages_in(channel_id)[-1]

    def delete(self, message_id: int) -> None:
        """Someone deleted a message of the bot's."""
        self.deleted.add(message_id)

    def _find(self, channel_id: int, message_id: int) -> Sent | None:
        if message_id in self.deleted:
            return None
        return next((m for m in self.messages_in(channel_id) if m.id == message_id), None)

    # ----- interactions -----------------------------------------------------------------------

    def _interaction_base(self, kind: int, user_id: int, channel_id: int) -> tuple[Interaction,
                                                                                   JSON]:
        interaction = Interaction(next(self._ids), f"itoken-{next(self._ids)}", kind, channel_id)
        self.interactions[interaction.token] = interaction
        data: JSON = {"id": str(interaction.id), "application_id": str(APP_ID), "type": kind,
                      "token": interaction.token, "version": 1, "locale": "en-US",
                      "attachment_size_limit": 8388608, "entitlements": [],
                      "app_permissions": str(PLAIN_MEMBER), "channel_id": str(channel_id)}
        if channel_id in CHANNELS:
            data |= {"guild_id": str(GUILD_ID), "guild_locale": "en-US", "context": 0,
                     "channel": CHANNELS[channel_id], "member": member_payload(user_id),
                     "authorizing_integration_owners": {"0": str(GUILD_ID)}}
        else:
            data |= {"context": 1, "user": USERS[user_id],
                     "channel": {"id": str(channel_id), "type": 1, "flags": 0,
                                 "recipients": [USERS[user_id]], "last_message_id": None},
                     "authorizing_integration_owners": {"0": str(user_id)}}
        return interaction, data

    async def slash(self, user_id: int, channel_id: int, name: str,
                    options: list[JSON] | None = None, *, resolved: JSON | None = None,
                    autocomplete: bool = False) -> Interaction:
        """A user runs a slash command (or types into one, with `autocomplete`)."""
        interaction, data = self._interaction_base(4 if autocomplete else 2, user_id, channel_id)
        command = self._command(name, channel_id in CHANNELS)
        data["data"] = {"id": command["id"], "name": name, "type": 1, "options": options or []}
        if command.get("guild_id"):
            data["data"]["guild_id"] = command["guild_id"]
        if resolved:
            data["data"]["resolved"] = resolved
        await self.dispatch("INTERACTION_CREATE", data)
        return interaction

    async def press(self, user_id: int, message: Sent, custom_id: str,
                    channel_id: int | None = None, *, component_type: int = BUTTON,
                    values: list[str] | None = None) -> Interaction:
        """A user presses a button on `message` (Discord sends the whole message along), or
        with `component_type` SELECT picks `values` in a string select."""
        channel = channel_id or int(message.payload["channel_id"])
        interaction, data = self._interaction_base(3, user_id, channel)
        data["data"] = {"custom_id": custom_id, "component_type": component_type}
        if component_type != BUTTON:
            data["data"]["values"] = values or []
        data["message"] = message.payload
        await self.dispatch("INTERACTION_CREATE", data)
        return interaction

    def fake_message(self, channel_id: int, custom_id: str, *,
                     component_type: int = BUTTON) -> Sent:
        """A message with one button (or string select), as if someone (not our bot) had
        posted it."""
        component: JSON = {"type": 2, "style": 2, "label": "?", "custom_id": custom_id}
        if component_type == SELECT:
            component = {"type": 3, "custom_id": custom_id, "min_values": 1, "max_values": 1,
                         "options": [{"label": "a", "value": "a"}, {"label": "b", "value": "b"}]}
        payload = self._message(channel_id, {"content": "?", "components": [
            {"type": 1, "components": [component]}]}, 0)
        return Sent(payload, False)

    def _command(self, name: str, in_guild: bool) -> JSON:
        pools = [self.commands.get(GUILD_ID, [])] if in_guild else []
        pools.append(self.commands.get(None, []))
        for pool in pools:
            for command in pool:
                if command["name"] == name:
                    return command
        raise AssertionError(f"the bot never registered /{name}")

    async def answered(self, interaction: Interaction, count: int = 1,
                       within: float = 5.0) -> list[Sent]:
        """The bot's first `count` replies to `interaction`, once they have arrived."""
        await self.wait_for(lambda: len(interaction.replies) >= count, within)
        return interaction.replies

    # ----- REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                body = json.loads(raw or b"null")
            elif request.content_type.startswith("multipart/"):
                body = _multipart(request.headers["Content-Type"], raw)
        call = Call(request.method, path, body, dict(request.query),
                    request.headers.get("Authorization", ""))
        await self._record(call)
        if any(p.search(path) for p in self.held):
            await self._release.wait()
            return _json({"message": "gone", "code": 0}, 503)
        for failure in self.failures:
            if failure.method == request.method and failure.pattern.search(path):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return _json(failure.body, failure.status, failure.headers)
        if call.authorization != f"Bot {self.token}" and "/interactions/" not in path \
                and not path.startswith("/webhooks/"):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        response = await self._route(request.method, path, body or {}, request.query)
        async with self._changed:
            self._changed.notify_all()
        return response

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _route(self, method: str, path: str, body: Any, query: Any) -> web.Response:
        bot = user_payload(BOT_ID, "studybot", bot=True)
        if method == "GET" and path == "/users/@me":
            return _json(bot)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json({"id": str(APP_ID), "name": "studybot", "icon": None,
                          "description": "", "bot_public": True,
                          "bot_require_code_grant": False, "owner": USERS[ALICE],
                          "verify_key": "0" * 64, "flags": 0, "summary": "", "team": None,
                          "interactions_endpoint_url": None})
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json({"url": self.gateway_url, "shards": 1,
                          "session_start_limit": {"total": 1000, "remaining": 999,
                                                  "reset_after": 0, "max_concurrency": 1}})
        if m := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path):
            if method == "PUT":
                guild = int(m[2]) if m[2] else None
                stored = [command | {"id": str(next(self._ids)), "application_id": str(APP_ID),
                                     "version": "1"} | ({"guild_id": str(guild)} if guild else {})
                          for command in body]
                self.commands[guild] = stored
                return _json(stored)
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            parent, message_id = int(m[1]), int(m[2])
            if method == "POST":
                if self._find(parent, message_id) is None:
                    return _json({"message": "Unknown Message", "code": 10008}, 404)
                if message_id in self.threads:
                    return _json({"message": "A thread has already been created for this "
                                  "message", "code": 160004}, 400)
                thread = {"id": str(message_id), "type": 11, "guild_id": str(GUILD_ID),
                          "parent_id": str(parent), "name": body.get("name", ""),
                          "owner_id": str(BOT_ID), "member_count": 1, "message_count": 0,
                          "thread_metadata": {"archived": False, "locked": False,
                                              "auto_archive_duration": body.get(
                                                  "auto_archive_duration", 1440),
                                              "archive_timestamp": _NOW}}
                self.threads[message_id] = thread
                return _json(thread, 201)
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            found = self._find(int(m[1]), int(m[2]))
            if method == "PATCH":
                if found is None:
                    return _json({"message": "Unknown Message", "code": 10008}, 404)
                found.payload = {**found.payload, "embeds": body.get("embeds") or [],
                                 "components": body.get("components") or [],
                                 "content": body.get("content") or "",
                                 "edited_timestamp": _NOW}
                return _json(found.payload)
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            channel = int(m[1])
            if method == "POST":
                if channel not in CHANNELS and channel not in DMS.values() \
                        and channel not in self.threads:
                    return _json({"message": "Unknown Channel", "code": 10003}, 404)
                sent = Sent(self._message(channel, body, 0), False, body.get("_files") or [])
                self.channel_messages.setdefault(channel, []).append(sent)
                return _json(sent.payload)
        if m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            interaction = self.interactions.get(m[2])
            if interaction is None:
                return _json({"message": "Unknown interaction", "code": 10062}, 404)
            interaction.callbacks.append(body)
            flags = (body.get("data") or {}).get("flags", 0)
            return _json({"interaction": {
                "id": m[1], "type": interaction.kind,
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL)}})
        if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/@original)?", path):
            interaction = self.interactions.get(m[2])
            if interaction is None:
                return _json({"message": "Unknown Webhook", "code": 10015}, 404)
            if method == "DELETE" and m[3]:
                interaction.deleted_original = True
                return web.Response(status=204)
            if method in ("POST", "PATCH"):
                flags = int(body.get("flags") or 0)
                if not interaction.replies and interaction.callbacks:
                    # Discord: the first followup replaces the "thinking" placeholder and keeps
                    # the deferral's visibility, whatever flags it asks for.
                    flags = (flags & ~EPHEMERAL) | (EPHEMERAL if interaction.deferred_ephemeral
                                                    else 0)
                sent = Sent(self._message(interaction.channel_id, body, flags),
                            bool(flags & EPHEMERAL), body.get("_files") or [])
                interaction.replies.append(sent)
                return _json(sent.payload)
        if method == "POST" and path == "/users/@me/channels":
            recipient = int(body.get("recipient_id", 0))
            return _json({"id": str(DMS.get(recipient, 0)), "type": 1, "flags": 0,
                          "recipients": [USERS.get(recipient, bot)], "last_message_id": None})
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _message(self, channel_id: int, body: JSON, flags: int) -> JSON:
        return {"id": str(next(self._ids)), "channel_id": str(channel_id),
                "author": user_payload(BOT_ID, "studybot", bot=True),
                "content": body.get("content") or "", "timestamp": _NOW,
                "edited_timestamp": None, "tts": False, "mention_everyone": False,
                "mentions": [], "mention_roles": [],
                "attachments": [_attachment(channel_id, i, f) for i, f
                                in enumerate(body.get("_files") or [])],
                "embeds": body.get("embeds") or [], "pinned": False, "type": 0,
                "flags": flags, "components": body.get("components") or []}

    # ----- gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op = payload.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                self.identify = payload["d"]
                self.identifies.append(payload["d"])
                self.shards[ws] = payload["d"].get("shard") or [0, 1]
                await self._hello_again(ws, self.shards[ws])
        if ws in self.sockets:
            self.sockets.remove(ws)
        self.shards.pop(ws, None)
        return ws

    async def _hello_again(self, ws: web.WebSocketResponse, shard: list[int]) -> None:
        # Discord's rule: a server belongs to shard (server id >> 22) % shard count, and only
        # that shard's session hears of it.
        shard_id, count = shard
        ours = (GUILD_ID >> 22) % count == shard_id
        ready = {"v": 10, "user": user_payload(BOT_ID, "studybot", bot=True),
                 "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if ours else [],
                 "session_id": f"session-{shard_id}", "resume_gateway_url": self.gateway_url,
                 "application": {"id": str(APP_ID), "flags": 0}, "shard": shard,
                 "private_channels": [], "relationships": [], "user_settings": {}}
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        if ours:
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq),
                                          "d": guild_payload()}))


def _multipart(content_type: str, raw: bytes) -> JSON:
    """discord.py's upload form: `payload_json` (the message) and `files[n]` (the uploads),
    their descriptions matched from the payload's `attachments` list."""
    import email
    import email.policy

    form = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw, policy=email.policy.HTTP)
    body: JSON = {}
    files: list[JSON] = []
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            body = json.loads(data)
        elif isinstance(name, str) and name.startswith("files["):
            files.append({"filename": part.get_filename(), "data": data,
                          "content_type": part.get_content_type()})
    described = {int(a["id"]): a.get("description") for a in body.get("attachments") or []}
    for index, file in enumerate(files):
        file["description"] = described.get(index)
    return body | {"_files": files}


def _attachment(channel_id: int, index: int, file: JSON) -> JSON:
    url = f"https://cdn.example/attachments/{channel_id}/{index}/{file['filename']}"
    return {"id": str(1000 + index), "filename": file["filename"], "size": len(file["data"]),
            "url": url, "proxy_url": url, "content_type": file["content_type"],
            "description": file["description"]}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses a body whose Content-Type is exactly application/json (no charset).
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})
