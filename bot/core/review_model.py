"""Value objects of the review loop and reminders, shared by the core and the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.models import Chat
from bot.core.push_model import SendRetake


@dataclass(frozen=True, slots=True)
class ReviewCard:
    """A user's FSRS card for one question, as stored.

    `review_day` and `source` say when and where the latest review was graded; `prior` is the
    card as it was before that review (JSON, "" for a card that had none), so grading the same
    day's question again replaces the day's rating instead of adding a review.
    """

    pk: int
    user_pk: int
    question_id: str
    state: int  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: int | None
    stability: float | None
    difficulty: float | None
    due: dt.datetime
    last_review: dt.datetime | None
    reps: int
    review_day: dt.date | None
    source: str  # "daily" (a question of the day) or "review" (a /review session)
    prior: str
    chat_day_pk: int  # the question of the day that made the card; the ledger refers to it


@dataclass(frozen=True, slots=True)
class LedgerDay:
    """A study day to count in a chat's ledger along with a review."""

    chat_pk: int
    day: dt.date
    zone: str
    chat_day_pk: int


@dataclass(frozen=True, slots=True)
class CardWrite:
    """A card to create or replace (FSRS fields and review marks), written with the grade that
    made it, in the grade's own transaction."""

    question_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Reminder:
    """A user's daily reminder: sent to their private chat at a local time in their zone."""

    user_pk: int
    chat: Chat  # the user's private chat with the bot
    local_time: dt.time
    timezone: str
    next_run_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ReminderDue:
    reminder: Reminder
    retake: SendRetake | None = None


@dataclass(frozen=True, slots=True)
class ReminderClaim:
    """A reminder run to claim for the user's local date, and where its schedule goes next."""

    reminder: Reminder
    local_date: dt.date
    due_at: dt.datetime
    following: dt.datetime
