"""The side effects the core needs, as Protocols; adapters and the store implement them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from bot.core.messages import OutgoingMessage
from bot.core.models import (
    Chat,
    ChatDay,
    ChatKind,
    ChatRef,
    Grade,
    GradeOutcome,
    PackSummary,
    Question,
    Subscription,
    UserRef,
)
from bot.core.push_model import Claim, ClaimResult, Due, History, Mark, Retake, SendRetake
from bot.core.review_model import CardWrite, ReminderClaim, ReminderDue
from bot.core.together_model import JobClaim, JobDue


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class QuestionBank(Protocol):
    def ids(self) -> tuple[str, ...]: ...

    def get(self, question_id: str) -> Question | None: ...

    def pack_summaries(self) -> tuple[PackSummary, ...]:
        """Every pack with its title and number of questions, ordered by id."""
        ...

    def tag_counts(self, packs: Collection[str] = ()) -> Mapping[str, int]:
        """Questions per tag within `packs` (empty: every pack)."""
        ...

    def matching(self, packs: Collection[str] = (), tags: Collection[str] = ()) -> tuple[str, ...]:
        """Ids of the questions in any of `packs` having any of `tags`; empty means no limit."""
        ...


class DeliveryError(Exception):
    """A send failed; subclasses say what the core should do about it."""


class ChatGone(DeliveryError):
    """The bot can no longer post there (blocked, kicked, chat deleted): pause, don't retry."""


class ChatMoved(DeliveryError):
    """The chat has a new id (a Telegram group upgraded to a supergroup): move and retry."""

    def __init__(self, new_chat: ChatRef) -> None:
        super().__init__(f"chat moved to {new_chat.chat_id}")
        self.new_chat = new_chat


class SendTimedOut(DeliveryError):
    """The platform did not answer in time; the message may or may not have arrived."""


class MessageGone(DeliveryError):
    """The message to edit no longer exists (someone deleted it)."""


class TemporaryFailure(DeliveryError):
    """A network or server error before the platform accepted the message; safe to retry."""


class Messenger(Protocol):
    """Delivers scheduled posts on one platform."""

    platform: str

    async def send(self, chat: ChatRef, message: OutgoingMessage, *, reply_to: str = "") -> str:
        """Post `message`; returns the platform's message id. Raises a DeliveryError subclass.

        With `reply_to` it answers that message of the chat where the platform threads replies
        (Telegram: a reply; Discord: in a thread on it), or posts plainly if it is gone.
        """
        ...

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace a message the bot posted; MessageGone when it was deleted."""
        ...


class MembershipCheck(Protocol):
    """Tells whether a user is a member of a group (answers may be cached briefly)."""

    platform: str

    async def is_member(self, chat: ChatRef, user: UserRef) -> bool:
        """False only when the platform says the user is not in the chat."""
        ...


class Store(Protocol):
    async def ensure_chat(
        self, ref: ChatRef, kind: ChatKind, *, language: str, timezone: str, title: str = ""
    ) -> Chat: ...

    async def get_chat(self, ref: ChatRef) -> Chat | None: ...

    async def get_chat_by_pk(self, chat_pk: int) -> Chat | None: ...

    async def set_chat_language(self, chat_pk: int, language: str) -> None: ...

    async def set_chat_timezone(self, chat_pk: int, timezone: str) -> None: ...

    async def set_chat_title(self, chat_pk: int, title: str) -> None: ...

    async def set_chat_selection(
        self, chat_pk: int, *, packs: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Store what the chat studies; None leaves that part as it is, () means everything."""
        ...

    async def move_chat(self, old: ChatRef, new: ChatRef) -> None: ...

    async def ensure_user(self, user: UserRef) -> int: ...

    async def subscribe(
        self, chat_pk: int, local_time: dt.time, timezone: str, next_run_at: dt.datetime
    ) -> Subscription: ...

    async def get_subscription(self, chat_pk: int) -> Subscription | None: ...

    async def unsubscribe(self, chat_pk: int) -> bool: ...

    async def pause_subscription(self, subscription_pk: int, reason: str) -> None: ...

    async def pause_chat(self, ref: ChatRef, reason: str) -> int: ...

    async def chat_day(self, chat_pk: int, local_date: dt.date) -> ChatDay | None: ...

    async def get_chat_day(self, chat_day_pk: int) -> ChatDay | None: ...

    async def used_questions(self, chat_pk: int) -> tuple[int, set[str]]: ...

    async def add_chat_day(
        self, chat_pk: int, local_date: dt.date, question_id: str, cycle: int
    ) -> ChatDay: ...

    async def record_reveal(self, chat_day_pk: int, user_pk: int, now: dt.datetime) -> None: ...

    async def record_grade(
        self, chat_day_pk: int, user_pk: int, grade: Grade, now: dt.datetime,
        study_day: dt.date, zone: str, *, chat_pk: int | None = None,
        card: CardWrite | None = None,
    ) -> GradeOutcome:
        """Keep the grade (and write `card` in the same transaction)."""
        ...

    async def study_days(self, chat_pk: int, user_pk: int) -> tuple[dt.date, ...]: ...

    async def chat_members_days(
        self, chat_pk: int
    ) -> Sequence[tuple[UserRef, tuple[dt.date, ...]]]:
        """Every member with counted days in the chat, but those who keep off its board."""
        ...

    async def set_board_hidden(self, chat_pk: int, user_pk: int, hidden: bool,
                               now: dt.datetime) -> bool:
        """Keep a member off (or on) the chat's leaderboard; whether that changed anything."""
        ...

    async def close(self) -> None: ...


class PushStore(Protocol):
    """What the push pipeline needs of the store: batch reads and writes, instances."""

    async def due_work(
        self, platform: str, now: dt.datetime, limit: int, run_id: str,
        alive_since: dt.datetime,
    ) -> list[Due]: ...

    async def histories(self, wanted: Sequence[tuple[int, dt.date]]) -> dict[int, History]: ...

    async def claim_batch(
        self, claims: Sequence[Claim], retakes: Sequence[Retake], skips: Sequence[Claim],
        run_id: str, now: dt.datetime,
    ) -> ClaimResult: ...

    async def write_marks(self, marks: Sequence[Mark]) -> None: ...

    async def heartbeat(self, run_id: str, now: dt.datetime,
                        platforms: Sequence[str] = ()) -> None: ...

    async def live_instances(self, alive_since: dt.datetime) -> list[frozenset[str]]: ...

    async def end_instance(self, run_id: str) -> None: ...

    async def next_due_at(self, platforms: Sequence[str]) -> dt.datetime | None: ...

    async def prune(self, before: dt.datetime, limit: int = 5000) -> tuple[int, int]: ...

    async def move_chat(self, old: ChatRef, new: ChatRef) -> None: ...

    async def pause_subscription(self, subscription_pk: int, reason: str) -> None: ...

    # Reminders (bot.core.reminders) ride the same pipeline: due, claimed, marked.
    async def due_reminders(
        self, platform: str, now: dt.datetime, limit: int, run_id: str,
        alive_since: dt.datetime,
    ) -> list[ReminderDue]: ...

    async def claim_reminders(
        self, claims: Sequence[ReminderClaim], retakes: Sequence[SendRetake],
        skips: Sequence[ReminderClaim], run_id: str, now: dt.datetime,
    ) -> tuple[dict[int, int], set[int]]: ...

    async def pause_reminder(self, user_pk: int, reason: str) -> None: ...

    # A chat's group sends (bot.core.together) too: the answer, the digest, the live board.
    async def due_jobs(
        self, platform: str, now: dt.datetime, limit: int, run_id: str,
        alive_since: dt.datetime,
    ) -> list[JobDue]: ...

    async def claim_jobs(
        self, claims: Sequence[JobClaim], retakes: Sequence[SendRetake],
        skips: Sequence[JobClaim], run_id: str, now: dt.datetime,
    ) -> tuple[dict[tuple[int, str], int], set[int]]: ...

    async def pause_chat_jobs(self, chat_pk: int) -> None: ...

class PrivacyStore(Protocol):
    """What a user's copy of their data and its deletion need of the store."""

    async def find_user(self, user: UserRef) -> int | None: ...

    async def forget_user(self, user: UserRef, private_chat: ChatRef | None,
                          *, dry_run: bool = False) -> dict[str, int]:
        """Delete (or with dry_run, count) every row naming the user; rows per table."""
        ...

    async def user_records(
        self, user: UserRef, private_chat: ChatRef | None
    ) -> dict[str, Any]: ...
