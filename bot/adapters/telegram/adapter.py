"""Telegram on python-telegram-bot 22: updates in as core events, core messages out as HTML.

The Application is started by hand (initialize, start, polling or webhook) so it shares the one
event loop with the scheduler and the other adapters; PTB's JobQueue is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram import User as TgUser
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters import StartError
from bot.adapters.limits import SteadyRate
from bot.adapters.telegram.order import PerChatOrder
from bot.adapters.telegram.render import Rendered, escape, render, render_with_file
from bot.adapters.telegram.transport import AiohttpRequest
from bot.core.events import Actor, ButtonPress, Command, parse_command
from bot.core.i18n import LANGUAGES, catalog_keys, t
from bot.core.messages import Attachment, OutgoingMessage, Response
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.ports import (
    ChatGone,
    ChatMoved,
    DeliveryError,
    MessageGone,
    SendTimedOut,
    TemporaryFailure,
)
from bot.core.study import MAX_INPUT, StudyService
from bot.core.text import paragraph
from bot.settings import Settings, split_listen

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ADMIN_COMMANDS = frozenset({"subscribe", "unsubscribe", "lang", "pack", "tags", "answer",
                            "digest"})
MENU = ("today", "streak", "top", "stats", "review", "remind", "tz", "subscribe", "unsubscribe",
        "pack", "tags", "lang", "answer", "digest", "export", "forgetme", "help")
ALLOWED_UPDATES = ["message", "channel_post", "callback_query", "my_chat_member"]
# A message the bot cannot edit any more: deleted, or too old for Telegram to allow it.
EDIT_GONE_REASONS = ("message to edit not found", "message can't be edited",
                     "message_id_invalid")
GONE_REASONS = ("chat not found", "group chat was deactivated", "message thread not found",
                "topic_closed", "topic_deleted", "not enough rights", "have no rights",
                "need administrator rights", "chat_write_forbidden", "bot was kicked")
# Telegram sends anonymous admins' messages from this user, with the group as sender_chat.
ANONYMOUS_ADMIN_ID = 1087968824
DOUBLE_TAP = dt.timedelta(seconds=10)
MEMBER_CACHE_SECONDS = 60.0
POLL_FAILURE_WINDOW = 60.0  # seconds after a failed getUpdates during which we report "down"

pause = asyncio.sleep  # looked up at call time, so a test can stand in for the real wait
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class _HandledRateLimit(logging.Filter):
    """PTB's rate limiter logs every 429 it gives up on with a traceback at ERROR; with its own
    retries off, each of those is a 429 this adapter waits out and resends, so it is no error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Rate limit hit after maximum of")


_RATE_LIMIT_LOG = logging.getLogger("telegram.ext.AIORateLimiter")
if not any(isinstance(f, _HandledRateLimit) for f in _RATE_LIMIT_LOG.filters):
    _RATE_LIMIT_LOG.addFilter(_HandledRateLimit())


class TelegramAdapter:
    platform = PLATFORM
    # Posts sent at once by the push pipeline; the rate limiter sets the actual pace.
    concurrency = 64
    # Updates handled at once (different chats; one chat's stay in order: PerChatOrder).
    concurrent_updates = 64

    def __init__(
        self, service: StudyService, settings: Settings, *, sleep: Sleep | None = None,
        max_retries: int = 3, on_rate_limited: Callable[[], None] | None = None,
        read_timeout: float = 10.0,
    ) -> None:
        if settings.telegram_token is None:
            raise ValueError("STUDYBOT_TELEGRAM_TOKEN is not set")
        self.service = service
        self.settings = settings
        self._token = settings.telegram_token.get_secret_value()
        self._sleep = sleep or (lambda seconds: pause(seconds))
        self._max_retries = max_retries
        self._on_rate_limited = on_rate_limited
        self._read_timeout = read_timeout
        self._resume = asyncio.Event()
        self._resume.set()
        rate = settings.telegram_rate_limit
        # Telegram's limit is the bot's: several instances of it keep to a share each.
        self._overall = (SteadyRate(rate, shared_by=lambda: service.push.rate_share(PLATFORM))
                         if rate > 0 else contextlib.nullcontext())
        self._recent_reveals: dict[tuple[int, str], dt.datetime] = {}
        self._members: dict[tuple[str, str], tuple[bool, float]] = {}
        service.register_membership(self)
        self.app: Application[Any, Any, Any, Any, Any, Any] = self._build()
        self.username = ""
        self._started = False
        self._poll_failed_at: float | None = None
        self._conflict_logged = False  # another poller is said once, not on every retry

    # ----- lifecycle --------------------------------------------------------------------------

    def _build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        rate = self.settings.telegram_rate_limit
        builder = (
            ApplicationBuilder()
            .token(self._token)
            .base_url(self.settings.telegram_api_url)
            # Many sends at once need as many connections, or they queue for the pool. The read
            # timeout is how long a send may wait for Telegram's answer before it counts as
            # timed out (the message may still have arrived, so the core does not resend it).
            .request(AiohttpRequest(pool_size=self.concurrency + 8, pool_timeout=30.0,
                                    read_timeout=self._read_timeout,
                                    write_timeout=self._read_timeout))
            .get_updates_request(AiohttpRequest(pool_size=2, read_timeout=self._read_timeout))
            .concurrent_updates(PerChatOrder(self.concurrent_updates))
        )
        if rate > 0:
            # Telegram's 20 messages per minute per group; the overall limit is ours (_call),
            # evenly spaced. 429s are retried in _call, with an injectable sleep, so the
            # limiter's own retries stay off.
            builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=0))
        app = builder.build()
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(ChatMemberHandler(self._on_my_chat_member,
                                          ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        # New messages and channel posts only: an edited "/subscribe" must not act twice.
        fresh = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        app.add_handler(MessageHandler(filters.TEXT & fresh, self._on_text))
        app.add_error_handler(self._on_error)
        return app

    @property
    def connected(self) -> bool:
        """Running, and polling has not failed within the last minute (PTB retries on its own,
        so a failure that stopped repeating means the connection is back)."""
        updater = self.app.updater
        running = self._started and self.app.running and updater is not None and updater.running
        failed = self._poll_failed_at
        return running and (failed is None or time.monotonic() - failed > POLL_FAILURE_WINDOW)

    async def start(self) -> None:
        """Log in (getMe), publish the command menu, and start polling or the webhook."""
        try:
            await self.app.initialize()
        except InvalidToken:
            raise StartError("Telegram rejected the token (STUDYBOT_TELEGRAM_TOKEN)") from None
        except TelegramError as error:
            raise StartError(f"cannot reach the Telegram Bot API: {self._clean(error)}") from None
        self.username = self.app.bot.username or ""
        await self._publish_menu()
        await self.app.start()
        updater = self.app.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            host, port = split_listen(self.settings.telegram_webhook_listen)
            secret = (self.settings.telegram_webhook_secret.get_secret_value()
                      if self.settings.telegram_webhook_secret else secrets.token_urlsafe(32))
            await updater.start_webhook(
                listen=host, port=port,
                url_path=urlsplit(self.settings.telegram_webhook_url).path.lstrip("/"),
                webhook_url=self.settings.telegram_webhook_url, secret_token=secret,
                allowed_updates=ALLOWED_UPDATES)
            log.info("telegram: @%s receiving updates by webhook on %s:%d", self.username,
                     host, port)
        else:
            await updater.start_polling(allowed_updates=ALLOWED_UPDATES,
                                        error_callback=self._on_polling_error)
            log.info("telegram: @%s polling for updates", self.username)
        self._started = True

    async def stop(self) -> None:
        """Stop receiving, let handlers in flight finish, close the HTTP connections."""
        self._started = False
        updater = self.app.updater
        try:
            if updater is not None and updater.running:
                await updater.stop()
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        except Exception:
            log.exception("telegram: error while stopping")

    async def _publish_menu(self) -> None:
        """setMyCommands per language so clients show the menu in the user's language."""
        keys = catalog_keys()
        zone = self.service.config.default_timezone
        for language_code in ("", *LANGUAGES):
            lang = language_code or self.service.config.default_language
            commands = []
            for name in MENU:
                key = f"help_{name}"
                if key not in keys:
                    continue
                line = t(lang, key, zone=zone)
                description = line.split(" — ", 1)[-1].strip()[:256] or name
                commands.append(BotCommand(name, description))
            try:
                await self._call(lambda c=commands, code=language_code:  # type: ignore[misc]
                                 self.app.bot.set_my_commands(c, language_code=code or None))
            except TelegramError as error:
                log.warning("telegram: could not publish the command menu: %s",
                            self._clean(error))

    async def probe(self) -> None:
        """Ask Telegram something small; raises when it does not answer (health checks)."""
        await self.app.bot.get_me(read_timeout=5.0, connect_timeout=5.0)

    # ----- Messenger: scheduled posts ---------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutgoingMessage, *, reply_to: str = "") -> str:
        ids = await self._deliver(chat, message, reply_to=reply_to)
        return ids[0]

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace the text and buttons of a message the bot posted (its first part only: what
        is edited, a leaderboard, fits one message)."""
        chunk = render(message)[0]
        try:
            await self._call(lambda: self.app.bot.edit_message_text(
                chat_id=int(chat.chat_id), message_id=int(message_id), text=chunk.html,
                parse_mode=ParseMode.HTML, reply_markup=_markup(chunk),
                link_preview_options=LinkPreviewOptions(is_disabled=True)))
        except BadRequest as error:
            text = str(error).lower()
            if "not modified" in text:
                return  # it already says this: nothing to do
            if any(reason in text for reason in EDIT_GONE_REASONS):
                raise MessageGone(self._clean(error)) from None
            raise self._delivery_error(error, chat) from None
        except TelegramError as error:
            raise self._delivery_error(error, chat) from None

    async def _deliver(self, chat: ChatRef, message: OutgoingMessage, *,
                       reply_to: str = "") -> list[str]:
        """One core message: its file with the text as caption (what does not fit follows as
        messages), or the text alone."""
        if message.attachment is None:
            return await self._post(chat, render(message), reply_to=reply_to)
        caption, rest = render_with_file(message)
        ids = await self._post(chat, [caption], message.attachment, reply_to=reply_to)
        return ids + await self._post(chat, rest)

    async def _post(self, chat: ChatRef, chunks: Sequence[Rendered],
                    attachment: Attachment | None = None, *, reply_to: str = "") -> list[str]:
        ids: list[str] = []
        for chunk in chunks:
            try:
                sent = await self._call(  # type: ignore[misc]
                    lambda c=chunk, r=reply_to: self._send_chunk(chat, c, attachment, r))
            except TelegramError as error:
                raise self._delivery_error(error, chat) from None
            ids.append(str(sent.message_id))
            reply_to = ""  # only the first part answers the message
        return ids

    def _delivery_error(self, error: TelegramError, chat: ChatRef) -> DeliveryError:
        """What a failed Bot API call means for the core."""
        if isinstance(error, ChatMigrated):
            return ChatMoved(ChatRef(PLATFORM, str(error.new_chat_id), chat.thread_id))
        if isinstance(error, Forbidden):
            return ChatGone(self._clean(error))
        if isinstance(error, BadRequest):
            text = str(error).lower()
            if any(reason in text for reason in GONE_REASONS):
                return ChatGone(self._clean(error))
            return DeliveryError(self._clean(error))
        if isinstance(error, TimedOut):
            return SendTimedOut(self._clean(error) or "timed out")
        if isinstance(error, RetryAfter | NetworkError):
            return TemporaryFailure(self._clean(error))
        return DeliveryError(self._clean(error))

    def _send_chunk(self, chat: ChatRef, chunk: Rendered,
                    attachment: Attachment | None = None,
                    reply_to: str = "") -> Awaitable[Message]:
        markup = _markup(chunk)
        thread = int(chat.thread_id) if chat.thread_id else None
        # A reply to a message someone deleted still goes out, as a plain post.
        replying = ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True) \
            if reply_to else None
        if attachment is not None:
            # Telegram has no alt text: the caption is what describes the file.
            shown = chunk.html.strip().strip("\u2063")  # render() marks an empty text with it
            caption = shown or escape(attachment.alt[:1000]) or None
            if attachment.is_picture:
                return self.app.bot.send_photo(
                    chat_id=int(chat.chat_id), photo=attachment.data,
                    filename=attachment.filename, caption=caption, parse_mode=ParseMode.HTML,
                    message_thread_id=thread, reply_markup=markup, reply_parameters=replying)
            return self.app.bot.send_document(
                chat_id=int(chat.chat_id), document=attachment.data,
                filename=attachment.filename, caption=caption, parse_mode=ParseMode.HTML,
                message_thread_id=thread, reply_markup=markup, reply_parameters=replying)
        return self.app.bot.send_message(
            chat_id=int(chat.chat_id), text=chunk.html, parse_mode=ParseMode.HTML,
            message_thread_id=thread, reply_parameters=replying,
            reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True))

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        """Run a Bot API call; on 429 wait `retry_after` (pausing our other calls) and retry."""
        for attempt in range(self._max_retries + 1):
            await self._resume.wait()
            try:
                async with self._overall:
                    return await request()
            except RetryAfter as error:
                if self._on_rate_limited is not None:
                    self._on_rate_limited()
                if attempt == self._max_retries:
                    raise
                wait = _retry_seconds(error)
                log.warning("telegram: rate limited, retrying in %.1f s", wait)
                self._resume.clear()
                try:
                    await self._sleep(wait)
                finally:
                    self._resume.set()
        raise AssertionError("unreachable")

    # ----- updates in -------------------------------------------------------------------------

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        sender = message.from_user
        if sender is not None and sender.is_bot and sender.id != ANONYMOUS_ADMIN_ID:
            return
        text = message.text
        parsed = parse_command(text[:MAX_INPUT + 1], self.username)
        chat = message.chat
        if parsed is None:
            if chat.type != Chat.PRIVATE:
                return
            actor = await self._actor(message, admin_needed=False)
            response = await self.service.handle_text(actor, text)
        else:
            name, args = parsed
            actor = replace(await self._actor(message, admin_needed=name in ADMIN_COMMANDS),
                            chat_title=chat.title or "")
            response = await self.service.handle_command(Command(actor, name or "?", args[:20]))
        await self._respond(response, actor)

    async def _actor(self, message: Message, *, admin_needed: bool) -> Actor:
        chat = message.chat
        thread = ""
        if message.is_topic_message and message.message_thread_id:
            thread = str(message.message_thread_id)
        ref = ChatRef(PLATFORM, str(chat.id), thread)
        if chat.type == Chat.PRIVATE:
            user = _user_ref(message.from_user, chat)
            return Actor(ref, ChatKind.PRIVATE, user, True)
        sender_chat = message.sender_chat
        if chat.type == Chat.CHANNEL:
            # Only a channel's admins can post in it.
            return Actor(ref, ChatKind.CHANNEL, _chat_user(chat), True)
        if sender_chat is not None and sender_chat.id == chat.id:
            # An anonymous admin of this group.
            return Actor(ref, ChatKind.GROUP, _chat_user(chat), True)
        if sender_chat is not None or message.from_user is None:
            # A linked channel's post or another chat speaking: never an admin here.
            return Actor(ref, ChatKind.GROUP, _chat_user(sender_chat or chat), False)
        user = _user_ref(message.from_user, chat)
        is_admin = admin_needed and await self._is_admin(chat.id, message.from_user.id)
        return Actor(ref, ChatKind.GROUP, user, is_admin)

    async def is_member(self, chat: ChatRef, user: UserRef) -> bool:
        """Whether the user is in the group (getChatMember, cached for a minute so a busy
        group does not cost a call per press). An API error counts as a member."""
        key = (chat.chat_id, user.user_id)
        now = time.monotonic()
        cached = self._members.get(key)
        if cached is not None and now - cached[1] < MEMBER_CACHE_SECONDS:
            return cached[0]
        try:
            member = await self._call(lambda: self.app.bot.get_chat_member(
                int(chat.chat_id), int(user.user_id)))
        except (TelegramError, ValueError) as error:
            log.info("telegram: membership of %s unknown: %s", chat.chat_id, self._clean(error))
            return True
        inside = member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR,
                                   ChatMember.MEMBER) or bool(
            getattr(member, "is_member", False))
        if len(self._members) > 10_000:
            self._members.clear()
        self._members[key] = (inside, now)
        return inside

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        try:
            member = await self._call(lambda: self.app.bot.get_chat_member(chat_id, user_id))
        except TelegramError as error:
            log.warning("telegram: getChatMember failed in %s: %s", chat_id, self._clean(error))
            return False
        return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)

    async def _respond(self, response: Response, actor: Actor) -> None:
        for i, message in enumerate(response.public):
            ids = await self._reply(actor.chat, message)
            if i == 0 and ids and response.remember:
                await self.service.posted(actor.chat, response.remember, ids[0])
        if response.private:
            sent = await self._send_private(int(actor.user.user_id), response.private,
                                            quiet=actor.chat_kind is not ChatKind.PRIVATE)
            if not sent and response.deep_link and self.username:
                # The user never opened the private chat: one line with the link that opens
                # it is all the group sees.
                link = f"https://t.me/{self.username}?start={response.deep_link}"
                chat = await self.service.store.get_chat(actor.chat)
                lang = chat.language if chat else self.service.config.default_language
                await self._reply(actor.chat, OutgoingMessage(blocks=(
                    paragraph(t(lang, "telegram_open_private", link=link)),)))

    async def _reply(self, chat: ChatRef, message: OutgoingMessage) -> list[str]:
        """Answer in the chat; the ids of the messages posted ([] when it could not)."""
        try:
            return await self._deliver(chat, message)
        except ChatMoved as moved:
            await self.service.chat_moved(chat, moved.new_chat)
            return await self._deliver(moved.new_chat, message)
        except ChatGone as gone:
            await self.service.chat_gone(chat, f"gone: {gone}")
        except DeliveryError as error:
            log.warning("telegram: could not answer in %s: %s", chat.chat_id, error)
        return []

    async def _send_private(
        self, user_id: int, messages: Sequence[OutgoingMessage], *, quiet: bool = True
    ) -> bool:
        """Send to the user's private chat; False when the bot may not write to them yet."""
        target = ChatRef(PLATFORM, str(user_id))
        try:
            for message in messages:
                await self._deliver(target, message)
        except (ChatGone, DeliveryError) as error:
            if not quiet:
                log.warning("telegram: could not write to user %s: %s", user_id, error)
            return False
        return True

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        answered = False
        try:
            answered = await self._handle_callback(query)
        finally:
            if not answered:
                # The client spins until the callback is answered, whatever went wrong.
                await self._answer(query)

    async def _handle_callback(self, query: CallbackQuery) -> bool:
        data = query.data or ""
        message = query.message
        if message is None or not data or len(data.encode()) > 64:
            return False
        chat = message.chat
        thread = ""
        if isinstance(message, Message) and message.is_topic_message and message.message_thread_id:
            thread = str(message.message_thread_id)
        kind = ChatKind.PRIVATE if chat.type == Chat.PRIVATE else (
            ChatKind.CHANNEL if chat.type == Chat.CHANNEL else ChatKind.GROUP)
        user = _user_ref(query.from_user, chat)
        actor = Actor(ChatRef(PLATFORM, str(chat.id), thread), kind, user,
                      kind is ChatKind.PRIVATE, chat.title or "")
        now = self.service.clock.now()
        key = (query.from_user.id, data)
        last = self._recent_reveals.get(key)
        if last is not None and now - last < DOUBLE_TAP:
            return False  # a double tap: the first tap already did the work
        response = await self.service.handle_button(ButtonPress(actor, data))
        if not response.private:
            await self._answer(query, response.toast)
            await self._respond(Response(public=response.public), actor)
            return True
        self._remember_reveal(key, now)
        if await self._send_private(query.from_user.id, response.private):
            await self._answer(query, response.toast)
        elif response.deep_link and self.username:
            # The user never opened a private chat with the bot: one tap opens it with the answer.
            await self._answer(query, url=f"https://t.me/{self.username}?start={response.deep_link}")
        else:
            await self._answer(query, response.toast)
        return True

    def _remember_reveal(self, key: tuple[int, str], now: dt.datetime) -> None:
        self._recent_reveals = {k: v for k, v in self._recent_reveals.items()
                                if now - v < DOUBLE_TAP}
        self._recent_reveals[key] = now

    async def _answer(self, query: CallbackQuery, text: str = "", url: str = "") -> None:
        try:
            await self._call(lambda: query.answer(text=text[:200] or None, url=url or None))
        except TelegramError as error:
            # Too old or already answered: nothing left to do for this press.
            log.debug("telegram: answerCallbackQuery failed: %s", self._clean(error))

    async def _on_my_chat_member(self, update: Update,
                                 context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        status = change.new_chat_member.status
        if status in (ChatMember.LEFT, ChatMember.BANNED):
            await self.service.chat_gone(ChatRef(PLATFORM, str(change.chat.id)),
                                         f"bot removed ({status})")

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return
        old = ChatRef(PLATFORM, str(message.chat.id))
        new = ChatRef(PLATFORM, str(message.migrate_to_chat_id))
        await self.service.chat_moved(old, new)
        log.info("telegram: group %s became supergroup %s", old.chat_id, new.chat_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("telegram: error while handling an update: %s",
                  self._clean(error) if error else "unknown",
                  exc_info=(type(error), error, error.__traceback__) if error else None)

    def _on_polling_error(self, error: TelegramError) -> None:
        self._poll_failed_at = time.monotonic()
        if isinstance(error, Conflict):
            # Telegram hands each update to one getUpdates caller only: a second poller (a
            # second instance, or a webhook set elsewhere) is an operator's mistake to name
            # once, not a network fault to log on every retry of PTB's backoff.
            if not self._conflict_logged:
                self._conflict_logged = True
                log.warning("telegram: another instance is polling this bot's updates (409 "
                            "Conflict); only one may poll: stop the other, or run every "
                            "instance in webhook mode (STUDYBOT_TELEGRAM_WEBHOOK_URL); "
                            "Telegram said: %s", self._clean(error))
            return
        log.warning("telegram: polling failed, retrying: %s", self._clean(error))

    def _clean(self, error: object) -> str:
        """An error's text with the token masked (PTB may quote the request URL)."""
        return str(error).replace(self._token, "***")[:300]


def _retry_seconds(error: RetryAfter) -> float:
    value = getattr(error, "_retry_after", None)
    if isinstance(value, dt.timedelta):
        return max(0.0, value.total_seconds())
    return float(error.retry_after if isinstance(error.retry_after, int) else
                 error.retry_after.total_seconds())


def _user_ref(user: TgUser | None, chat: Chat) -> UserRef:
    if user is None:
        return _chat_user(chat)
    return UserRef(PLATFORM, str(user.id), user.full_name or user.username or str(user.id))


def _chat_user(chat: Chat) -> UserRef:
    return UserRef(PLATFORM, str(chat.id), chat.title or chat.full_name or str(chat.id))


def _markup(chunk: Rendered) -> InlineKeyboardMarkup | None:
    if not chunk.keyboard:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
        for row in chunk.keyboard
    ])
