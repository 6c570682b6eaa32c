"""What each chat studies: its chosen packs and tags.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A server default fills existing rows, so every chat keeps studying everything.
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("packs", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("tags", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("tags")
        batch.drop_column("packs")
