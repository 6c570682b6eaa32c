"""Table definitions for SQLAlchemy Core; the migrations create exactly these."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


metadata = MetaData()

chats = Table(
    "chats", metadata,
    Column("pk", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # What the chat studies: space-separated pack ids and tags; '' means no restriction.
    Column("packs", Text, nullable=False, server_default=""),
    Column("tags", Text, nullable=False, server_default=""),
    Column("title", String(128), nullable=False, server_default=""),  # a group's name
    UniqueConstraint("platform", "chat_id", "thread_id", name="uq_chats_ref"),
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("pk", Integer, primary_key=True),
    Column("chat_pk", Integer, ForeignKey("chats.pk"), nullable=False, unique=True),
    Column("local_time", String(5), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("paused_reason", Text, nullable=False, server_default=""),
    Column("next_run_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_subscriptions_due", "active", "next_run_at"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("pk", Integer, primary_key=True),
    Column("subscription_pk", Integer, ForeignKey("subscriptions.pk", ondelete="CASCADE"),
           nullable=False),
    Column("local_date", Date, nullable=False),
    # claimed, sent, retry (again at retry_at), failed, uncertain, missed (out of grace)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("message_id", String(64), nullable=False, server_default=""),
    Column("error", Text, nullable=False, server_default=""),
    Column("claimed_by", String(36), nullable=False, server_default=""),  # an instance's run id
    Column("due_at", UTCDateTime),  # when the post was scheduled, for the grace window
    Column("retry_at", UTCDateTime),  # state retry: not before this instant
    UniqueConstraint("subscription_pk", "local_date", name="uq_deliveries_once"),
    Index("ix_deliveries_state", "state", "claimed_at"),
    Index("ix_deliveries_retry", "state", "retry_at"),
    Index("ix_deliveries_claimed_at", "claimed_at"),
)

chat_days = Table(
    "chat_days", metadata,
    Column("pk", Integer, primary_key=True),
    Column("chat_pk", Integer, ForeignKey("chats.pk"), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("question_id", String(64), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("chat_pk", "local_date", name="uq_chat_days_date"),
)

users = Table(
    "users", metadata,
    Column("pk", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("display_name", String(128), nullable=False, server_default=""),
    Column("timezone", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "user_id", name="uq_users_ref"),
)

reveals = Table(
    "reveals", metadata,
    Column("chat_day_pk", Integer, ForeignKey("chat_days.pk"), primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), primary_key=True),
    Column("revealed_at", UTCDateTime, nullable=False),
)

grades = Table(
    "grades", metadata,
    Column("chat_day_pk", Integer, ForeignKey("chat_days.pk"), primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), primary_key=True),
    Column("grade", String(16), nullable=False),
    Column("graded_at", UTCDateTime, nullable=False),
)

# The streak ledger: one row per counted local study day; never rewritten.
study_days = Table(
    "study_days", metadata,
    Column("chat_pk", Integer, ForeignKey("chats.pk"), primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("counted_at", UTCDateTime, nullable=False),
    Column("zone", String(64), nullable=False),
    Column("chat_day_pk", Integer, ForeignKey("chat_days.pk"), nullable=False),
)

# Members who keep themselves off a chat's leaderboard (/top hide); their days still count.
board_hidden = Table(
    "board_hidden", metadata,
    Column("chat_pk", Integer, ForeignKey("chats.pk"), primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), primary_key=True),
    Column("hidden_at", UTCDateTime, nullable=False),
)

# Running instances and when each last showed it is alive: a claim held by an instance that
# stopped showing it is cut off, and is sent again by whoever is alive.
instances = Table(
    "instances", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    # The platforms it sends on, ",telegram,discord,": they share those platforms' rate limits.
    Column("platforms", String(64), nullable=False, server_default=""),
)

bot_state = Table(
    "bot_state", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ----- the review loop (issue 13) --------------------------------------------------------------

# One FSRS card per (user, question): cards belong to the user, whatever chat graded them.
review_cards = Table(
    "review_cards", metadata,
    Column("pk", Integer, primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("question_id", String(64), nullable=False),
    Column("state", Integer, nullable=False),
    Column("step", Integer),
    Column("stability", Float),
    Column("difficulty", Float),
    Column("due", UTCDateTime, nullable=False),
    Column("last_review", UTCDateTime),
    Column("reps", Integer, nullable=False),
    Column("review_day", Date),  # the user's study day of the latest review
    Column("source", String(8), nullable=False),  # daily or review
    Column("prior", Text, nullable=False, server_default=""),  # the card before that review
    Column("chat_day_pk", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_pk", "question_id", name="uq_review_cards_question"),
    Index("ix_review_cards_due", "user_pk", "due"),
)

# A user's reminder and private chat; local_time NULL means no reminder.
reminders = Table(
    "reminders", metadata,
    Column("user_pk", Integer, ForeignKey("users.pk"), primary_key=True),
    Column("chat_pk", Integer, ForeignKey("chats.pk"), nullable=False),
    Column("local_time", String(5)),
    Column("active", Boolean, nullable=False),
    Column("paused_reason", Text, nullable=False, server_default=""),
    Column("next_run_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_reminders_due", "active", "next_run_at"),
)

def _claimed_send_columns() -> list[Column[object]]:
    """How a send claimed before sending stands: the same for every kind of scheduled send."""
    return [
        # claimed, sent, quiet (nothing to say), retry, failed, uncertain, missed
        Column("state", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("claimed_at", UTCDateTime, nullable=False),
        Column("claimed_by", String(36), nullable=False, server_default=""),
        Column("due_at", UTCDateTime, nullable=False),
        Column("finished_at", UTCDateTime),
        Column("retry_at", UTCDateTime),
        Column("message_id", String(64), nullable=False, server_default=""),
        Column("error", Text, nullable=False, server_default=""),
    ]


# Reminder sends, claimed before sending like deliveries: at most one per user and local date.
reminder_sends = Table(
    "reminder_sends", metadata,
    Column("pk", Integer, primary_key=True),
    Column("user_pk", Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False),
    Column("local_date", Date, nullable=False),
    *_claimed_send_columns(),
    UniqueConstraint("user_pk", "local_date", name="uq_reminder_sends_once"),
    Index("ix_reminder_sends_retry", "state", "retry_at"),
    Index("ix_reminder_sends_claimed_at", "claimed_at"),
)

# ----- studying together: the answer posted in the group, the weekly digest, the live board ----

# A chat's scheduled group sends, one row per kind: "answer" (the day's answer at local_time),
# "digest" (Monday after the rollover) and "board" (the leaderboard message kept up to date:
# message_id and the week it belongs to; next_run_at set when a grade changed it).
chat_jobs = Table(
    "chat_jobs", metadata,
    Column("chat_pk", Integer, ForeignKey("chats.pk"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("local_time", String(5)),
    Column("active", Boolean, nullable=False),
    Column("next_run_at", UTCDateTime),
    Column("message_id", String(64), nullable=False, server_default=""),
    Column("period", String(16), nullable=False, server_default=""),
    Column("last_sent_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_chat_jobs_due", "active", "next_run_at"),
)

# Their sends, claimed before sending like deliveries: once per chat, kind and period (a local
# date for answers, a week for digests and new boards, a minute for board edits).
chat_job_sends = Table(
    "chat_job_sends", metadata,
    Column("pk", Integer, primary_key=True),
    Column("chat_pk", Integer, ForeignKey("chats.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("period", String(24), nullable=False),
    *_claimed_send_columns(),
    UniqueConstraint("chat_pk", "kind", "period", name="uq_chat_job_sends_once"),
    Index("ix_chat_job_sends_retry", "state", "retry_at"),
    Index("ix_chat_job_sends_claimed_at", "claimed_at"),
)
