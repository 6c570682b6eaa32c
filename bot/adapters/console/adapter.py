"""A chat in the terminal over the real core: the simplest proof that the core is neutral.

Lines starting with `/` are bot commands, a number presses that button, and lines starting with
`:` control the console itself (which chat, which user, the clock).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.adapters.console.render import flat_buttons, render, safe
from bot.clock import OffsetClock
from bot.core.events import Actor, ButtonPress, Command, parse_command
from bot.core.i18n import t
from bot.core.messages import Attachment, Button, OutgoingMessage, Response
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.study import MAX_INPUT, StudyService

PLATFORM = "console"
GROUP = ChatRef(PLATFORM, "group")
USERS = ("alice", "bob")  # alice admins the group; bob is a plain member

_DELTA = re.compile(r"^\+?(\d{1,4})([mhd])$")
_SAFE_NAME = re.compile(r"[^\w.-]+")


@dataclass(frozen=True, slots=True)
class _Shown:
    button: Button
    chat: ChatRef
    chat_kind: ChatKind


class ConsoleAdapter:
    platform = PLATFORM
    concurrency = 1  # one post at a time, so the terminal shows them in order

    def __init__(self, service: StudyService, out: TextIO, clock: OffsetClock | None = None,
                 *, color: bool = False,
                 tick: Callable[[], Awaitable[object]] | None = None,
                 files: Path | None = None) -> None:
        self.service = service
        self.out = out
        self.clock = clock
        self.color = color
        self.tick = tick
        self.user = USERS[0]
        self.in_group = True
        self._buttons: dict[int, _Shown] = {}
        self._numbers = itertools.count(1)
        self._message_ids = itertools.count(1)
        # Where pictures and files are saved (STUDYBOT_CONSOLE_FILES); without the setting, a
        # folder of its own under the system's temp folder, made when the first file arrives.
        self.files = files
        self._file_numbers = itertools.count(1)

    # ----- where we are -----------------------------------------------------------------------

    def _chat(self) -> tuple[ChatRef, ChatKind]:
        if self.in_group:
            return GROUP, ChatKind.GROUP
        return ChatRef(PLATFORM, f"dm-{self.user}"), ChatKind.PRIVATE

    def _actor(self) -> Actor:
        chat, kind = self._chat()
        admin = kind is ChatKind.PRIVATE or self.user == USERS[0]
        return Actor(chat, kind, UserRef(PLATFORM, self.user, self.user.capitalize()), admin)

    def prompt(self) -> str:
        where = "group" if self.in_group else "private"
        return f"{self.user}@{where}> "

    # ----- Messenger: scheduled posts ---------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        kind = ChatKind.GROUP if chat == GROUP else ChatKind.PRIVATE
        self._show(message, chat, kind, header=f"── {self._chat_label(chat)} ──")
        return str(next(self._message_ids))

    def _chat_label(self, chat: ChatRef) -> str:
        if chat == GROUP:
            return self._t("console_group")
        return self._t("console_private", user=chat.chat_id.removeprefix("dm-"))

    def _t(self, key: str, **values: object) -> str:
        return t(self.service.config.default_language, key, **values)

    # ----- input ------------------------------------------------------------------------------

    async def run(self, lines: AsyncIterator[str]) -> None:
        self.write(self._t("console_intro"))
        async for line in lines:
            if not await self.handle_line(line):
                break
        self.write(self._t("console_bye"))

    async def handle_line(self, raw: str) -> bool:
        """Act on one line of input; False when the user asked to leave."""
        line = raw.strip()
        if not line:
            return True
        if len(line) > MAX_INPUT:
            self.write(self._t("console_too_long", limit=MAX_INPUT))
            return True
        if line.startswith(":"):
            return await self._control(line[1:].split())
        if line.isdigit():
            await self._press(int(line))
            return True
        actor = self._actor()
        parsed = parse_command(line)
        if parsed is None:
            response = await self.service.handle_text(actor, line)
            if not response.public and not response.private:
                self.write(self._t("console_quiet"))
        else:
            name, args = parsed
            response = await self.service.handle_command(Command(actor, name or "?", args))
        self._answer(response, actor)
        return True

    async def _press(self, number: int) -> None:
        shown = self._buttons.get(number)
        if shown is None:
            self.write(self._t("console_no_button", number=number))
            return
        user = self._actor().user
        actor = Actor(shown.chat, shown.chat_kind, user, shown.chat_kind is ChatKind.PRIVATE)
        response = await self.service.handle_button(ButtonPress(actor, shown.button.payload))
        self._answer(response, actor)

    def _answer(self, response: Response, actor: Actor) -> None:
        for message in response.public:
            self._show(message, actor.chat, actor.chat_kind)
        for message in response.private:
            own = ChatRef(PLATFORM, f"dm-{actor.user.user_id}")
            header = f"── {self._t('console_only_you', user=actor.user.user_id)} ──"
            self._show(message, own, ChatKind.PRIVATE, header=header)
        if response.toast:
            self.write(f"» {safe(response.toast)}")

    async def _control(self, words: list[str]) -> bool:
        command, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if command in ("quit", "exit", "q"):
            return False
        if command == "group":
            self.in_group = True
        elif command == "private":
            self.in_group = False
        elif command == "user" and args and args[0].lower() in USERS:
            self.user = args[0].lower()
        elif command == "user":
            self.write(self._t("console_users", users=", ".join(USERS)))
            return True
        elif command == "clock" and self.clock is not None and args and _DELTA.match(args[0]):
            amount, unit = _DELTA.match(args[0]).groups()  # type: ignore[union-attr]
            unit_name = {"m": "minutes", "h": "hours", "d": "days"}[unit]
            await self._travel(dt.timedelta(**{unit_name: int(amount)}))
        elif command == "clock":
            self.write(self._t("console_clock_usage"))
            return True
        elif command != "where":
            self.write(self._t("console_help"))
            return True
        now = self.clock.now() if self.clock else dt.datetime.now(dt.UTC)
        where = self._chat_label(self._chat()[0])
        self.write(self._t("console_where", user=self.user, where=where,
                           now=f"{now:%Y-%m-%d %H:%M}"))
        return True

    async def _travel(self, span: dt.timedelta) -> None:
        """Move the clock in steps, ticking the scheduler at each, so pushes on the way arrive
        on time instead of being skipped as missed."""
        assert self.clock is not None
        step = dt.timedelta(minutes=15)
        while span > dt.timedelta():
            moved = min(step, span)
            self.clock.advance(moved)
            span -= moved
            if self.tick is not None:
                await self.tick()

    # ----- output -----------------------------------------------------------------------------

    def _show(self, message: OutgoingMessage, chat: ChatRef, kind: ChatKind,
              header: str = "") -> None:
        numbers = [next(self._numbers) for _ in flat_buttons(message)]
        for number, button in zip(numbers, flat_buttons(message), strict=True):
            self._buttons[number] = _Shown(button, chat, kind)
        text = render(message, numbers[0] if numbers else 0, color=self.color)
        if message.attachment is not None:
            text = "\n".join(p for p in (text, self._save(message.attachment)) if p)
        self.write(f"{header}\n{text}" if header else text)

    def _save(self, attachment: Attachment) -> str:
        """Write the file where the user can open it; the line that says where."""
        if self.files is None:
            self.files = Path(tempfile.mkdtemp(prefix="studybot-console-"))
        self.files.mkdir(parents=True, exist_ok=True)
        # Numbered, so a second picture never overwrites the first one of the session.
        name = _SAFE_NAME.sub("_", Path(attachment.filename).name).strip("._") or "file"
        path = self.files / f"{next(self._file_numbers):03d}-{name}"
        path.write_bytes(attachment.data)
        if attachment.is_picture:
            return self._t("console_picture", path=path, alt=safe(attachment.alt) or name)
        return self._t("console_file", path=path)

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
