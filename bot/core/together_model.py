"""Value objects of a chat's group sends (the day's answer, the weekly digest, the live
leaderboard), shared by the core and the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bot.core.messages import OutgoingMessage
from bot.core.models import Chat
from bot.core.push_model import SendRetake


class JobKind(StrEnum):
    ANSWER = "answer"  # the day's answer, posted as a reply to the day's question
    DIGEST = "digest"  # last week in one post, Monday after the rollover
    BOARD = "board"  # the leaderboard message, edited as grades come in


@dataclass(frozen=True, slots=True)
class ChatJob:
    """One kind of group send of a chat and where it stands.

    For the board, `message_id` is the message being kept up to date and `period` the week it
    belongs to (its Monday, ISO); `next_run_at` is set when a grade changed what it shows.
    """

    chat: Chat
    kind: JobKind
    local_time: dt.time | None
    next_run_at: dt.datetime | None
    message_id: str = ""
    period: str = ""
    last_sent_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class JobDue:
    job: ChatJob
    retake: SendRetake | None = None


@dataclass(frozen=True, slots=True)
class JobClaim:
    """A run to claim: the job's send for `period`, and its next run (None: none planned)."""

    job: ChatJob
    period: str
    due_at: dt.datetime
    following: dt.datetime | None
    late_ok: bool = False  # a board edit is never too late: it shows the board as it is now


@dataclass(frozen=True, slots=True)
class JobSend:
    """What a claimed send does: post `message` (as a reply to `reply_to` when given), or edit
    the message `edit`. `board_week` marks a leaderboard send: once it is out, its message, its
    week and the time are recorded, so the next edit goes there and waits a minute from this one."""

    message: OutgoingMessage
    reply_to: str = ""
    edit: str = ""
    board_week: str = ""
