"""A small Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real Application.

It speaks just enough of the Bot API for the adapter: getMe, long-polling getUpdates, sendMessage
(with HTML checked like Telegram does), sendPhoto and sendDocument (multipart uploads; the file
kept as an `Upload`, the caption checked like message text), answerCallbackQuery, getChatMember,
setMyCommands and the webhook calls. Tests inject updates, queue errors, and read every call the
bot made.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web
from telegram import (
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    User,
)

BOT = User(id=999, is_bot=True, first_name="Study", username="StudyTestBot",
           can_join_groups=True, can_read_all_group_messages=False,
           supports_inline_queries=False)
TEXT_FIELDS = {"text", "caption", "url", "callback_query_id", "language_code", "secret_token"}
_BAD_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});)")
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
                "a", "blockquote", "tg-spoiler", "span", "tg-emoji"}


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded in a multipart form field."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeBotApi:
    token: str = "123456:TEST-token-for-the-fake-server"
    calls: list[Call] = field(default_factory=list)
    # (method, chat_id or None) → queued error bodies, used first-in first-out
    errors: dict[tuple[str, int | None], list[dict[str, Any]]] = field(default_factory=dict)
    members: dict[tuple[int, int], str] = field(default_factory=dict)  # (chat, user) → status
    blocked_users: set[int] = field(default_factory=set)  # private chats the bot may not write to
    slow: dict[str, float] = field(default_factory=dict)  # method → seconds before answering
    outage: int = 0  # while non-zero, every call but getUpdates answers with this HTTP status
    delivered: list[int] = field(default_factory=list)  # chats of sendMessage calls that posted
    # Once this many posts were delivered, further sendMessage calls wait, then fail unposted.
    hold_sends_after: int | None = None
    # Every message the bot posted, as it reads now (edits applied): (chat, message id) → it.
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._new_update = asyncio.Event()
        self._new_call = asyncio.Event()
        self._answering = asyncio.Event()
        self._answering.set()
        self._answering_sends = asyncio.Event()
        self._holding: dict[str, asyncio.Event] = {}  # method → set when its calls may answer
        self.held_sends = 0
        self._runner: web.AppRunner | None = None

    # ----- server -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = request.match_info["method"]
        await self._answering.wait()  # cleared by hang(): accept, never answer
        params = await _params(request)
        self.calls.append(Call(method, params))
        self._new_call.set()
        chat_id = params.get("chat_id")
        for key in ((method, chat_id if isinstance(chat_id, int) else None), (method, None)):
            queue = self.errors.get(key)
            if queue:
                return _json(queue.pop(0))
        if self.outage and method != "getUpdates":
            return _json(_error(self.outage, "Internal Server Error"))
        if method in self.slow:
            await asyncio.sleep(self.slow.pop(method))
        if method in self._holding:
            await self._holding[method].wait()
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"})
        return _json(await handler(params))

    # ----- Bot API methods --------------------------------------------------------------------

    async def _api_getMe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _ok(BOT.to_dict())

    async def _api_getUpdates(self, params: Mapping[str, Any]) -> dict[str, Any]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            # A short hold keeps polling cheap without slowing shutdown.
            timeout = min(float(params.get("timeout") or 0), 0.2)
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                pass
        return _ok(self._updates[:100])

    async def _api_sendMessage(self, params: Mapping[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if self.hold_sends_after is not None and len(self.delivered) >= self.hold_sends_after:
            self.held_sends += 1
            await self._answering_sends.wait()
            return _error(502, "Bad Gateway")
        if chat_id in self.blocked_users:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            checked = _check_html(text)
            if isinstance(checked, str) and checked.startswith("!"):
                return _error(400, "Bad Request: can't parse entities: " + checked[1:])
            text = checked
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        return self._delivered(params, {"text": text})

    def _delivered(self, params: Mapping[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        """The message as posted in its chat (and topic), with its keyboard."""
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": _now(),
            "chat": {"id": chat_id, "type": "supergroup", "title": "Study group"}
            if chat_id < 0 else {"id": chat_id, "type": "private", "first_name": "User"},
            "from": BOT.to_dict(), **content,
        }
        if params.get("message_thread_id"):
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        replying = params.get("reply_parameters") or {}
        answered = self.messages.get((chat_id, int(replying.get("message_id") or 0)))
        if replying and answered is None and not replying.get("allow_sending_without_reply"):
            return _error(400, "Bad Request: message to be replied not found")
        if answered is not None:
            message["reply_to_message"] = answered
        self.delivered.append(chat_id)
        self.messages[(chat_id, message["message_id"])] = message
        return _ok(message)

    def delete(self, chat_id: int, message_id: int) -> None:
        """Someone deleted a message of the bot's."""
        del self.messages[(chat_id, message_id)]

    async def _api_editMessageText(self, params: Mapping[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            checked = _check_html(text)
            if checked.startswith("!"):
                return _error(400, "Bad Request: can't parse entities: " + checked[1:])
            text = checked
        markup = params.get("reply_markup")
        if text == message.get("text") and markup == message.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified: specified new message "
                               "content and reply markup are exactly the same")
        message = {**message, "text": text, "edit_date": _now()}
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self.messages[key] = message
        return _ok(message)

    async def _api_sendPhoto(self, params: Mapping[str, Any]) -> dict[str, Any]:
        upload = params.get("photo")
        if not isinstance(upload, Upload) or not upload.data.startswith(b"\x89PNG\r\n\x1a\n"):
            return _error(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = png_size(upload.data)
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            return _error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        photo = [{"file_id": f"photo{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}",
                  "width": width, "height": height, "file_size": len(upload.data)}]
        return self._file_message(params, "photo", photo)

    async def _api_sendDocument(self, params: Mapping[str, Any]) -> dict[str, Any]:
        upload = params.get("document")
        if not isinstance(upload, Upload) or not upload.data:
            return _error(400, "Bad Request: file must be non-empty")
        document = {"file_id": f"doc{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}",
                    "file_name": upload.filename, "mime_type": upload.content_type,
                    "file_size": len(upload.data)}
        return self._file_message(params, "document", document)

    def _file_message(self, params: Mapping[str, Any], kind: str, file: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_users:
            return _error(403, "Forbidden: bot can't initiate conversation with a user")
        caption = str(params.get("caption", ""))
        if caption and params.get("parse_mode") == "HTML":
            checked = _check_html(caption)
            if checked.startswith("!"):
                return _error(400, "Bad Request: can't parse entities: " + checked[1:])
            caption = checked
        if len(caption.encode("utf-16-le")) // 2 > 1024:
            return _error(400, "Bad Request: message caption is too long")
        return self._delivered(params, {kind: file} | ({"caption": caption} if caption else {}))

    async def _api_answerCallbackQuery(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _ok(True)

    async def _api_getChatMember(self, params: Mapping[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = self.members.get((chat_id, user_id), "member")
        user = User(id=user_id, is_bot=False, first_name=f"User{user_id}")
        member: Any
        if status == "creator":
            member = ChatMemberOwner(user=user, is_anonymous=False)
        elif status == "administrator":
            member = ChatMemberAdministrator(
                user=user, can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                can_delete_messages=True, can_manage_video_chats=False,
                can_restrict_members=True, can_promote_members=False, can_change_info=True,
                can_invite_users=True, can_post_stories=False, can_edit_stories=False,
                can_delete_stories=False)
        elif status == "left":
            member = ChatMemberLeft(user=user)
        else:
            member = ChatMemberMember(user=user)
        return _ok(member.to_dict())

    async def _api_setMyCommands(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _ok(True)

    async def _api_deleteWebhook(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _ok(True)

    async def _api_setWebhook(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _ok(True)

    async def _api_close(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return _ok(True)

    # ----- for tests --------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def hang(self) -> None:
        """Accept connections and requests but answer none until release()."""
        self._answering.clear()

    def hold(self, method: str) -> None:
        """Accept calls of `method` but answer none until release()."""
        self._holding[method] = asyncio.Event()

    def release(self) -> None:
        self._answering.set()
        self._answering_sends.set()
        for gate in self._holding.values():
            gate.set()
        self._holding.clear()

    def fail(self, method: str, code: int, description: str, *, chat_id: int | None = None,
             parameters: dict[str, Any] | None = None, times: int = 1) -> None:
        body = _error(code, description)
        if parameters:
            body["parameters"] = parameters
        self.errors.setdefault((method, chat_id), []).extend(dict(body) for _ in range(times))

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """sendMessage calls that succeeded or not, optionally to one chat."""
        return [c.params for c in self.calls if c.method == "sendMessage"
                and (chat_id is None or int(c.params["chat_id"]) == chat_id)]

    def files(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """sendPhoto and sendDocument calls, optionally to one chat, in order."""
        return [c.params | {"method": c.method} for c in self.calls
                if c.method in ("sendPhoto", "sendDocument")
                and (chat_id is None or int(c.params["chat_id"]) == chat_id)]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, *, within: float = 5.0,
                       chat_id: int | None = None) -> list[dict[str, Any]]:
        """Wait until the bot made `count` calls of `method` (to `chat_id`); return them."""
        async def enough() -> list[dict[str, Any]]:
            while True:
                found = [c for c in self.calls_to(method)
                         if chat_id is None or int(c.get("chat_id", 0)) == chat_id]
                if len(found) >= count:
                    return found
                self._new_call.clear()
                await self._new_call.wait()

        return await asyncio.wait_for(enough(), within)

    def clear(self) -> None:
        self.calls.clear()


# ----- update builders --------------------------------------------------------------------------


def user(user_id: int, name: str = "") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name or f"User{user_id}"}


def private_chat(user_id: int, name: str = "") -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": name or f"User{user_id}"}


def group_chat(chat_id: int, *, forum: bool = False, kind: str = "supergroup") -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": kind, "title": "Study group"}
    if forum:
        chat["is_forum"] = True
    return chat


_message_ids = itertools.count(5000)


def text_message(chat: dict[str, Any], sender: dict[str, Any] | None, text: str, *,
                 thread: int | None = None,
                 sender_chat: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": next(_message_ids), "date": _now(), "chat": chat,
                               "text": text}
    if sender is not None:
        message["from"] = sender
    if sender_chat is not None:
        message["sender_chat"] = sender_chat
    if thread is not None:
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
    if text.startswith("/"):
        head = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(head.encode("utf-16-le")) // 2}]
    return {"message": message}


def callback(sender: dict[str, Any], message: dict[str, Any], data: str,
             query_id: str = "") -> dict[str, Any]:
    return {"callback_query": {"id": query_id or f"cb{next(_message_ids)}", "from": sender,
                               "chat_instance": "ci-1", "message": message, "data": data}}


def my_chat_member(chat: dict[str, Any], sender: dict[str, Any], old: str,
                   new: str) -> dict[str, Any]:
    bot = BOT.to_dict()
    return {"my_chat_member": {
        "chat": chat, "from": sender, "date": _now(),
        "old_chat_member": {"user": bot, "status": old},
        "new_chat_member": {"user": bot, "status": new, **(
            {"until_date": 0} if new == "kicked" else {})},
    }}


def sent_message(params: Mapping[str, Any], message_id: int = 100) -> dict[str, Any]:
    """A message the bot sent, in the shape a callback query carries it back."""
    chat_id = int(params["chat_id"])
    chat = group_chat(chat_id) if chat_id < 0 else private_chat(chat_id)
    message: dict[str, Any] = {"message_id": message_id, "date": _now(), "chat": chat,
                               "from": BOT.to_dict(), "text": params.get("text", "")}
    if params.get("message_thread_id"):
        message["message_thread_id"] = int(params["message_thread_id"])
        message["is_topic_message"] = True
    return message


def buttons(params: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    markup = params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return list(markup.get("inline_keyboard", []))


# ----- helpers ----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _now() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _error(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}


def _json(body: dict[str, Any]) -> web.Response:
    # Telegram answers errors with the error code as the HTTP status, and PTB relies on it.
    return web.json_response(body, status=200 if body.get("ok") else int(body["error_code"]))


async def _params(request: web.Request) -> dict[str, Any]:
    """PTB posts form fields whose non-string values are JSON-encoded."""
    raw: Mapping[str, Any]
    if request.content_type == "application/json":
        raw = await request.json()
        return dict(raw)
    raw = await request.post() if request.can_read_body else request.query
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, web.FileField):
            params[key] = Upload(value.filename, value.content_type, value.file.read())
            continue
        if key in TEXT_FIELDS or not isinstance(value, str):
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


class _HtmlChecker(HTMLParser):
    """Parses Telegram-style HTML: known tags only, properly nested; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"unexpected end tag \"{tag}\""
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_html(markup: str) -> str:
    """The visible text, or '!reason' when Telegram would reject the markup."""
    if any(bad in markup for bad in ("<<", "< ")) or markup.count("<") != markup.count(">"):
        return "!unbalanced angle brackets"
    if _BAD_ENTITY.search(markup):
        return "!unsupported character entity"
    checker = _HtmlChecker()
    checker.feed(markup)
    checker.close()
    if checker.error:
        return "!" + checker.error
    if checker.stack:
        return f"!unclosed tag \"{checker.stack[-1]}\""
    return "".join(checker.text)
