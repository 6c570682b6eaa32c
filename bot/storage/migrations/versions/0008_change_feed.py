"""Change feed: on PostgreSQL, triggers NOTIFY when rows instances remember change; and the
platforms each instance sends on, to share their rate limits.

Chats, days' questions and users are remembered by every instance; a change or deletion of one
names its table. A member's study days change with every first grade, so their notice names the
chat and member. Emptying a table names the table. Inserts of new chats, days and users change
nothing anyone remembered. SQLite has one writer, which knows what it changes: nothing is
created there. An instance starting or stopping names the instances table, so that the others
recount at once who shares the platforms' rate limits.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE FUNCTION studybot_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'study_days' AND TG_LEVEL = 'ROW' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('studybot_changes',
                              'study_days:' || OLD.chat_pk || ':' || OLD.user_pk);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('studybot_changes',
                              'study_days:' || NEW.chat_pk || ':' || NEW.user_pk);
        END IF;
    ELSE
        PERFORM pg_notify('studybot_changes', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$
"""

# (table, the operations that change what is remembered)
_TRIGGERS = (("chats", "UPDATE OR DELETE"), ("chat_days", "UPDATE OR DELETE"),
             ("users", "UPDATE OR DELETE"), ("study_days", "INSERT OR UPDATE OR DELETE"),
             ("instances", "INSERT OR DELETE"))


def upgrade() -> None:
    op.add_column("instances", sa.Column("platforms", sa.String(64), nullable=False,
                                         server_default=""))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    for table, events in _TRIGGERS:
        # Row triggers: a statement that changed no row (an upsert that kept a name) says nothing.
        op.execute(f"CREATE TRIGGER studybot_{table}_changed AFTER {events} ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION studybot_notify_change()")
        # TRUNCATE fires no row trigger: the whole table is named.
        op.execute(f"CREATE TRIGGER studybot_{table}_emptied AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION studybot_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _events in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS studybot_{table}_changed ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS studybot_{table}_emptied ON {table}")
        op.execute("DROP FUNCTION IF EXISTS studybot_notify_change()")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("platforms")
