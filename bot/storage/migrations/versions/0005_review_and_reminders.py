"""The review loop: a user's FSRS card per question, reminders and their claimed sends, and
the names of groups (a reminder says which group's streak ends).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        # A group's name, as the platform last showed it: reminders name the group.
        batch.add_column(sa.Column("title", sa.String(128), nullable=False, server_default=""))
    op.create_table(
        "review_cards",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk"), nullable=False),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("state", sa.Integer, nullable=False),
        sa.Column("step", sa.Integer),
        sa.Column("stability", sa.Float),
        sa.Column("difficulty", sa.Float),
        sa.Column("due", UTCDateTime, nullable=False),
        sa.Column("last_review", UTCDateTime),
        sa.Column("reps", sa.Integer, nullable=False),
        sa.Column("review_day", sa.Date),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("prior", sa.Text, nullable=False, server_default=""),
        sa.Column("chat_day_pk", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("user_pk", "question_id", name="uq_review_cards_question"),
    )
    op.create_index("ix_review_cards_due", "review_cards", ["user_pk", "due"])
    op.create_table(
        "reminders",
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk"), primary_key=True),
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk"), nullable=False),
        sa.Column("local_time", sa.String(5)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("next_run_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_reminders_due", "reminders", ["active", "next_run_at"])
    op.create_table(
        "reminder_sends",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(36), nullable=False, server_default=""),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("retry_at", UTCDateTime),
        sa.Column("message_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("user_pk", "local_date", name="uq_reminder_sends_once"),
    )
    op.create_index("ix_reminder_sends_retry", "reminder_sends", ["state", "retry_at"])
    op.create_index("ix_reminder_sends_claimed_at", "reminder_sends", ["claimed_at"])


def downgrade() -> None:
    op.drop_table("reminder_sends")
    op.drop_table("reminders")
    op.drop_table("review_cards")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("title")
