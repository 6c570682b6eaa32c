"""The push pipeline: who holds a claim, when a failed post is tried again, live instances.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        # Claims made before this version belong to no live instance, so they count as cut off.
        batch.add_column(sa.Column("claimed_by", sa.String(36), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("due_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("retry_at", UTCDateTime, nullable=True))
        batch.create_index("ix_deliveries_retry", ["state", "retry_at"])
        batch.create_index("ix_deliveries_claimed_at", ["claimed_at"])
    op.create_table(
        "instances",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("instances")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_claimed_at")
        batch.drop_index("ix_deliveries_retry")
        batch.drop_column("retry_at")
        batch.drop_column("due_at")
        batch.drop_column("claimed_by")
