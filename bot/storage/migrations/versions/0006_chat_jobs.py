"""Studying together: the day's answer posted in the group, the weekly digest, the live board.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_jobs",
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("local_time", sa.String(5)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("next_run_at", UTCDateTime),
        sa.Column("message_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("period", sa.String(16), nullable=False, server_default=""),
        sa.Column("last_sent_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_chat_jobs_due", "chat_jobs", ["active", "next_run_at"])
    op.create_table(
        "chat_job_sends",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(24), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(36), nullable=False, server_default=""),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("retry_at", UTCDateTime),
        sa.Column("message_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("chat_pk", "kind", "period", name="uq_chat_job_sends_once"),
    )
    op.create_index("ix_chat_job_sends_retry", "chat_job_sends", ["state", "retry_at"])
    op.create_index("ix_chat_job_sends_claimed_at", "chat_job_sends", ["claimed_at"])


def downgrade() -> None:
    op.drop_table("chat_job_sends")
    op.drop_table("chat_jobs")
