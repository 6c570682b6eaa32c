"""Migration 0005 (the review loop) on real SQLite files: an existing 0004 database is upgraded
in place with its data intact, and the reminder scan is served by its index."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import insert, text

from bot.core.models import ChatKind, ChatRef, Grade, UserRef
from bot.storage.schema import chats, subscriptions
from bot.storage.sql import HEAD, _alembic_config, open_store

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


async def test_a_0004_database_is_upgraded_to_the_review_schema_with_its_data_intact(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/v4.db"
    old = await open_store(url, migrate=False)
    await old.migrate("0004")
    # Written with the 0004 columns only: today's store reads a chat's name 0004 lacks.
    async with old.engine.begin() as conn:
        group_pk = (await conn.execute(insert(chats).values(
            platform="telegram", chat_id="-100", thread_id="", kind="group", language="en",
            timezone="Europe/Berlin", created_at=NOW, packs="", tags=""))).inserted_primary_key[0]
        await conn.execute(insert(subscriptions).values(
            chat_pk=group_pk, local_time="07:30", active=True, paused_reason="", next_run_at=NOW,
            updated_at=NOW))
    user_pk = await old.ensure_user(UserRef("telegram", "42", "Ann"))
    day = await old.add_chat_day(group_pk, dt.date(2026, 3, 2), "q1", 0)
    await old.record_grade(day.pk, user_pk, Grade.NOT_YET, NOW, dt.date(2026, 3, 2),
                           "Europe/Berlin")
    await old.close()

    upgraded = await open_store(url)
    try:
        assert await upgraded.schema_revision() == HEAD
        chat = await upgraded.get_chat(ChatRef("telegram", "-100"))
        assert chat is not None and chat.pk == group_pk and chat.timezone == "Europe/Berlin"
        assert chat.title == ""  # no name known yet: the next message from the group says it
        sub = await upgraded.get_subscription(chat.pk)
        assert sub is not None and sub.local_time == dt.time(7, 30)
        assert await upgraded.study_days(chat.pk, user_pk) == (dt.date(2026, 3, 2),)
        assert await upgraded.ensure_user(UserRef("telegram", "42")) == user_pk
        # The new tables are there and empty: grades made before the upgrade make no cards.
        assert await upgraded.cards_due(user_pk, NOW + dt.timedelta(days=365), 10) == []
        dm = await upgraded.ensure_chat(ChatRef("telegram", "42"), ChatKind.PRIVATE,
                                        language="en", timezone="Europe/Berlin")
        await upgraded.set_reminder(user_pk, dm.pk, dt.time(21, 0), NOW, NOW)
        reminder = await upgraded.get_reminder(user_pk)
        assert reminder is not None and reminder.chat.pk == dm.pk
    finally:
        await upgraded.close()


async def test_the_review_tables_migrate_down_to_0004_and_up_again(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/down.db")
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(_alembic_config(c), "0004"))
            names = {r[0] for r in (await conn.execute(text(
                "select name from sqlite_master where type='table'"))).all()}
            columns = {r[1] for r in (await conn.execute(text(
                "PRAGMA table_info(chats)"))).all()}
        assert not names & {"review_cards", "reminders", "reminder_sends"}
        assert "title" not in columns
        await store.migrate()
        assert await store.schema_revision() == HEAD
    finally:
        await store.close()


async def test_the_reminder_scan_and_the_due_cards_are_served_by_indexes(tmp_path: Path) -> None:
    await (await open_store(f"sqlite:///{tmp_path}/plan.db")).close()
    db = sqlite3.connect(tmp_path / "plan.db")
    scan = " ".join(r[3] for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT user_pk FROM reminders WHERE active = 1 AND "
        "next_run_at <= '2026-03-02' ORDER BY next_run_at LIMIT 200"))
    assert "INDEX ix_reminders_due" in scan and "SCAN" not in scan
    cards = " ".join(r[3] for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT pk FROM review_cards WHERE user_pk = 1 AND "
        "due <= '2026-03-02' ORDER BY due LIMIT 20"))
    assert "ix_review_cards_due" in cards
