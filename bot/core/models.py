"""Value objects shared by the core, the store and the adapters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


class Grade(StrEnum):
    KNEW = "knew"
    PARTLY = "partly"
    NOT_YET = "not_yet"


class GradeOutcome(StrEnum):
    """What a grade did to the streak ledger."""

    COUNTED = "counted"  # the question's first grade, and today's first counted study
    ALREADY_COUNTED = "already_counted"  # the question's first grade; today was counted before
    CHANGED = "changed"  # the question was graded before: the grade changes, no day counts


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a message goes: a chat on a platform, optionally a thread/topic inside it."""

    platform: str
    chat_id: str
    thread_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.chat_id}:{self.thread_id}"


@dataclass(frozen=True, slots=True)
class UserRef:
    platform: str
    user_id: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    pack: str
    title: str
    answer: str
    tags: tuple[str, ...]
    difficulty: int
    source: str
    key_points: tuple[str, ...] = ()
    title_en: str = ""
    answer_en: str = ""
    key_points_en: tuple[str, ...] = ()
    language: str = "zh"

    def localized(self, language: str) -> tuple[str, str, tuple[str, ...]]:
        """Title, answer, key points in `language` if the question has them; else the original."""
        if language == "en" and self.language != "en" and self.title_en and self.answer_en:
            return self.title_en, self.answer_en, self.key_points_en
        return self.title, self.answer, self.key_points


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat the bot knows, with its per-chat preferences."""

    pk: int
    ref: ChatRef
    kind: ChatKind
    language: str
    timezone: str
    # What the chat studies: pack ids and tags; empty means no restriction.
    packs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    title: str = ""  # the group's name as the platform last showed it ("" for private chats)


@dataclass(frozen=True, slots=True)
class PackSummary:
    """A question pack as a chat sees it when choosing what to study."""

    id: str
    title: str
    questions: int


@dataclass(frozen=True, slots=True)
class Subscription:
    pk: int
    chat: Chat
    local_time: dt.time
    active: bool
    next_run_at: dt.datetime
    paused_reason: str = ""


@dataclass(frozen=True, slots=True)
class ChatDay:
    """The question a chat studies on one local date; the same for the push and /today."""

    pk: int
    chat_pk: int
    local_date: dt.date
    question_id: str

