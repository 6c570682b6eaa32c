"""A user's own data: a copy of it (/export) and its deletion (/forgetme). Platform-neutral.

Both work in the user's private chat only, so nobody else sees what is stored or that it went.
What belongs to a user is whatever the store finds pointing at them; this module only turns the
store's per-table counts and rows into words and a file.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from bot.core.actions import Action, ActionCodec, Kind
from bot.core.events import Actor, Command
from bot.core.i18n import t
from bot.core.messages import Attachment, Button, OutgoingMessage, Response
from bot.core.models import Chat, ChatKind
from bot.core.ports import Clock, PrivacyStore, QuestionBank
from bot.core.text import bullet, paragraph

if TYPE_CHECKING:
    from bot.core.study import StudyService

EXPORT_FORMAT = "studybot-export"
EXPORT_VERSION = 1
# Tables whose rows a user would call by their own name; the rest of what goes is summed up.
_COUNTED = {"grades": "privacy_grades", "reveals": "privacy_reveals",
            "study_days": "privacy_study_days", "review_cards": "privacy_cards"}
_PRIVATE_CHAT_TABLES = frozenset({"chats", "subscriptions", "deliveries", "chat_days",
                                  "chat_jobs", "chat_job_sends"})
_REMINDER_TABLES = frozenset({"reminders", "reminder_sends"})
_PLATFORMS = {"telegram": "Telegram", "discord": "Discord", "console": "console"}


class PrivacyService:
    def __init__(self, store: PrivacyStore, bank: QuestionBank, clock: Clock,
                 codec: ActionCodec) -> None:
        self.store = store
        self.bank = bank
        self.clock = clock
        self.codec = codec

    def register(self, study: StudyService) -> None:
        """Answer /forgetme, /export and the confirming button through the study service."""
        study.add_command("forgetme", self.forgetme)
        study.add_command("export", self.export)
        study.add_button(Kind.FORGET, self.confirm_forget)

    async def forgetme(self, command: Command, chat: Chat) -> Response:
        """Say what would be deleted and ask for a confirming press; nothing goes yet."""
        lang = chat.language
        if chat.kind is not ChatKind.PRIVATE:
            return _private_only(lang, command.name)
        counts = await self.store.forget_user(command.actor.user, chat.ref, dry_run=True)
        user_pk = await self.store.find_user(command.actor.user)
        if user_pk is None:
            # Only the private chat itself is stored: there is no user to confirm as.
            await self.store.forget_user(command.actor.user, chat.ref)
            return _text_response(lang, "privacy_nothing")
        platform = _PLATFORMS.get(chat.ref.platform, chat.ref.platform)
        confirm = self.codec.encode(Action(Kind.FORGET, user_pk))
        return Response(public=(OutgoingMessage(
            title=t(lang, "forget_title"),
            blocks=(paragraph(t(lang, "forget_ask", platform=platform)),
                    *(bullet(item) for item in _summary(counts, lang)),
                    paragraph(t(lang, "forget_keeps")),
                    paragraph(t(lang, "forget_final"), bold=True)),
            buttons=((Button(t(lang, "btn_forget"), confirm),),),
        ),))

    async def confirm_forget(self, actor: Actor, action: Action, chat: Chat) -> Response:
        """The confirming press: only the user the button was made for can delete, and only
        their own data."""
        lang = chat.language
        if actor.chat_kind is not ChatKind.PRIVATE:
            return Response(toast=t(lang, "stale_button"))
        if await self.store.find_user(actor.user) != action.target:
            return Response(toast=t(lang, "stale_button"))
        counts = await self.store.forget_user(actor.user, chat.ref)
        return Response(
            public=(OutgoingMessage(
                title=t(lang, "forget_done_title"),
                blocks=(*(bullet(item) for item in _summary(counts, lang)),
                        paragraph(t(lang, "forget_done"))),
            ),),
            toast=t(lang, "forget_done_toast"),
        )

    async def export(self, command: Command, chat: Chat) -> Response:
        """Everything stored about the user as one JSON file, sent in their private chat."""
        lang = chat.language
        if chat.kind is not ChatKind.PRIVATE:
            return _private_only(lang, command.name)
        user = command.actor.user
        records = await self.store.user_records(user, chat.ref)
        now = self.clock.now()
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "platform": user.platform,
            **records,
        }
        self._name_questions(document["records"], lang)
        data = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode()
        name = f"studybot-{user.platform}-{now.date().isoformat()}.json"
        return Response(public=(OutgoingMessage(
            blocks=(paragraph(t(lang, "export_caption")),),
            attachment=Attachment(name, data, "application/json", alt=t(lang, "export_alt")),
        ),))

    def _name_questions(self, value: object, lang: str) -> None:
        """Put each question's title beside its id, so the file reads on its own."""
        if isinstance(value, dict):
            question_id = value.get("question_id")
            if isinstance(question_id, str) and "question_title" not in value:
                question = self.bank.get(question_id)
                value["question_title"] = question.localized(lang)[0] if question else None
            for inner in list(value.values()):
                self._name_questions(inner, lang)
        elif isinstance(value, list):
            for inner in value:
                self._name_questions(inner, lang)


def _summary(counts: dict[str, int], lang: str) -> list[str]:
    """The deleted rows, as a user would count them."""
    items = [t(lang, key, n=counts[table]) for table, key in _COUNTED.items() if counts.get(table)]
    other = sum(n for table, n in counts.items()
                if table not in _COUNTED and table not in _PRIVATE_CHAT_TABLES
                and table not in _REMINDER_TABLES and table != "users")
    if other:
        items.append(t(lang, "privacy_other", n=other))
    if counts.get("reminders"):
        items.append(t(lang, "privacy_reminder"))
    if counts.get("chats"):
        items.append(t(lang, "privacy_private_chat"))
    if counts.get("users"):
        items.append(t(lang, "privacy_name"))
    return items


def _private_only(lang: str, name: str) -> Response:
    return _text_response(lang, "privacy_private_only", name=name)


def _text_response(lang: str, key: str, **values: object) -> Response:
    return Response(public=(OutgoingMessage(blocks=(paragraph(t(lang, key, **values)),)),))
