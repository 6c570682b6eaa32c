"""The SQLite store on real files: migrations, the once-per-date claim, concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

from sqlalchemy import text

from bot.core.models import ChatKind, ChatRef, Grade, UserRef
from bot.storage.sql import HEAD, open_store

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


async def test_a_new_database_is_created_at_the_latest_schema(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/nested/dir/bot.db")
    try:
        assert await store.schema_revision() == HEAD
    finally:
        await store.close()
    tables = {r[0] for r in sqlite3.connect(tmp_path / "nested/dir/bot.db").execute(
        "select name from sqlite_master where type='table'")}
    assert {"chats", "subscriptions", "deliveries", "chat_days", "users", "grades",
            "study_days", "reveals", "bot_state", "alembic_version"} <= tables


async def test_a_database_of_the_previous_version_is_upgraded_in_place_keeping_its_data(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    old = await open_store(url, migrate=False)
    await old.migrate("0001")
    assert await old.schema_revision() == "0001"
    chat = await old.ensure_chat(ChatRef("telegram", "-100"), ChatKind.GROUP, language="en",
                                 timezone="Europe/Berlin")
    await old.subscribe(chat.pk, dt.time(7, 30), "Europe/Berlin", NOW)
    await old.close()

    upgraded = await open_store(url)
    try:
        assert await upgraded.schema_revision() == HEAD
        kept = await upgraded.get_chat(ChatRef("telegram", "-100"))
        assert kept is not None and kept.language == "en"
        sub = await upgraded.get_subscription(kept.pk)
        assert sub is not None and sub.local_time == dt.time(7, 30) and sub.next_run_at == NOW
        user = await upgraded.ensure_user(UserRef("telegram", "42", "Ann"))
        day = await upgraded.add_chat_day(kept.pk, dt.date(2026, 3, 2), "q1", 0)
        assert await upgraded.record_grade(day.pk, user, Grade.KNEW, NOW, dt.date(2026, 3, 2),
                                           "Europe/Berlin")
    finally:
        await upgraded.close()


async def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twice.db"
    await (await open_store(url)).close()
    store = await open_store(url)
    try:
        await store.migrate()
        assert await store.schema_revision() == HEAD
    finally:
        await store.close()


async def test_the_database_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/wal.db")
    try:
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await store.close()


async def test_only_one_of_many_concurrent_claims_for_a_date_wins(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/claims.db")
    try:
        chat = await store.ensure_chat(ChatRef("console", "g"), ChatKind.GROUP, language="zh",
                                       timezone="Asia/Shanghai")
        sub = await store.subscribe(chat.pk, dt.time(9), "Asia/Shanghai", NOW)
        following = NOW + dt.timedelta(days=1)
        results = await asyncio.gather(*(
            store.claim_delivery(sub, dt.date(2026, 3, 2), following, NOW) for _ in range(10)))
        assert sum(1 for r in results if r is not None) == 1
        moved = await store.get_subscription(chat.pk)
        assert moved is not None and moved.next_run_at == following
    finally:
        await store.close()


async def test_the_payload_key_is_made_once_and_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/key.db"
    first = await open_store(url)
    key = await first.payload_secret()
    await first.close()
    second = await open_store(url)
    try:
        assert await second.payload_secret() == key and len(key) == 32
    finally:
        await second.close()


async def test_a_chat_is_created_once_and_keeps_its_settings(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/chats.db")
    try:
        ref = ChatRef("telegram", "-1001", "77")
        made = await store.ensure_chat(ref, ChatKind.GROUP, language="zh", timezone="UTC")
        await store.set_chat_language(made.pk, "en")
        again = await store.ensure_chat(ref, ChatKind.GROUP, language="zh", timezone="UTC")
        assert again.pk == made.pk and again.language == "en"
        other_topic = await store.ensure_chat(ChatRef("telegram", "-1001", "78"),
                                              ChatKind.GROUP, language="zh", timezone="UTC")
        assert other_topic.pk != made.pk
    finally:
        await store.close()


async def test_a_display_name_change_is_kept_and_an_empty_one_keeps_the_old(
    tmp_path: Path,
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/users.db")
    try:
        pk = await store.ensure_user(UserRef("discord", "1", "Old"))
        assert await store.ensure_user(UserRef("discord", "1", "New")) == pk
        assert await store.ensure_user(UserRef("discord", "1", "")) == pk
        chat = await store.ensure_chat(ChatRef("discord", "c"), ChatKind.GROUP, language="zh",
                                       timezone="UTC")
        day = await store.add_chat_day(chat.pk, dt.date(2026, 3, 2), "q", 0)
        await store.record_grade(day.pk, pk, Grade.KNEW, NOW, dt.date(2026, 3, 2), "UTC")
        [(user, days)] = await store.chat_members_days(chat.pk)
        assert user.display_name == "New" and days == (dt.date(2026, 3, 2),)
    finally:
        await store.close()
