"""Value objects of the push pipeline, shared by the core and the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.core.models import ChatDay, Subscription


@dataclass(frozen=True, slots=True)
class Retake:
    """A delivery to make again: a retry whose time has come, or a claim an instance that died
    left open. `state` and `claimed_by` are what it was read with, so only one taker wins."""

    delivery_pk: int
    local_date: dt.date
    due_at: dt.datetime
    attempts: int
    state: str
    claimed_by: str
    # Filled in by the core when the day's question was never chosen (claims of old versions).
    chat_pk: int = 0
    question_id: str = ""
    cycle: int = 0


@dataclass(frozen=True, slots=True)
class SendRetake:
    """A claimed send of another kind (a reminder, a group send) to make again: a retry whose
    time has come, or a claim a dead instance left. `state` and `claimed_by` are what it was
    read with, so only one taker wins."""

    send_pk: int
    period: str  # what the send is made once for: a local date, a week, a minute
    due_at: dt.datetime
    attempts: int
    state: str
    claimed_by: str


@dataclass(frozen=True, slots=True)
class Due:
    """Something due for a subscription: its next run (retake None) or a retake."""

    subscription: Subscription
    retake: Retake | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A run to claim: the subscription's post for `local_date`, and where the schedule goes
    next. `question_id` is the day's question when it has yet to be chosen."""

    subscription: Subscription
    local_date: dt.date
    due_at: dt.datetime
    following: dt.datetime
    chat_pk: int = 0
    question_id: str = ""
    cycle: int = 0


@dataclass(slots=True)
class History:
    """What the store knows of a chat's questions: the cycle, the ids used in it, chosen days."""

    cycle: int = 0
    used: set[str] = field(default_factory=set)
    days: dict[dt.date, ChatDay] = field(default_factory=dict)


@dataclass(slots=True)
class ClaimResult:
    claimed: dict[tuple[int, dt.date], int] = field(default_factory=dict)  # → delivery pk
    retaken: set[int] = field(default_factory=set)
    days: dict[tuple[int, dt.date], ChatDay] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Mark:
    """How a post ended: sent, failed, uncertain, missed, or retry (again at `retry_at`)."""

    delivery_pk: int
    state: str
    at: dt.datetime
    message_id: str = ""
    error: str = ""
    retry_at: dt.datetime | None = None
    kind: str = "post"  # "post" (a delivery) or "reminder" (a reminder send)
