"""Chats, subscriptions, the delivery guard and each chat's questions of the day.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("platform", "chat_id", "thread_id", name="uq_chats_ref"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk"), nullable=False, unique=True),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("next_run_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_subscriptions_due", "subscriptions", ["active", "next_run_at"])
    op.create_table(
        "deliveries",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("subscription_pk", sa.Integer,
                  sa.ForeignKey("subscriptions.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("message_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("subscription_pk", "local_date", name="uq_deliveries_once"),
    )
    op.create_index("ix_deliveries_state", "deliveries", ["state", "claimed_at"])
    op.create_table(
        "chat_days",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk"), nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("chat_pk", "local_date", name="uq_chat_days_date"),
    )


def downgrade() -> None:
    for table in ("chat_days", "deliveries", "subscriptions", "chats"):
        op.drop_table(table)
