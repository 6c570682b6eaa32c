"""Progress: members who keep themselves off a chat's leaderboard (/top hide).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_hidden",
        sa.Column("chat_pk", sa.Integer, sa.ForeignKey("chats.pk"), primary_key=True),
        sa.Column("user_pk", sa.Integer, sa.ForeignKey("users.pk"), primary_key=True),
        sa.Column("hidden_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("board_hidden")
