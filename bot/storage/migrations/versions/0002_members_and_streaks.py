"""Members, reveals, grades, the streak ledger, and the bot's own state (the payload key).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("timezone", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("platform", "user_id", name="uq_users_ref"),
    )
    op.create_table(
        "reveals",
        sa.Column("chat_day_pk", sa.Integer, sa.ForeignKey("chat_days.pk"), primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk"), primary_key=True),
        sa.Column("revealed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "grades",
        sa.Column("chat_day_pk", sa.Integer, sa.ForeignKey("chat_days.pk"), primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk"), primary_key=True),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("graded_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "study_days",
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk"), primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("counted_at", UTCDateTime, nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("chat_day_pk", sa.Integer, sa.ForeignKey("chat_days.pk"), nullable=False),
    )
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("bot_state", "study_days", "grades", "reveals", "users"):
        op.drop_table(table)
