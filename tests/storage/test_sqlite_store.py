"""The store on real databases: SQLite files (migrations, WAL) and, where the test takes
`database_url`, PostgreSQL too (the once-per-date claim under concurrency, chats, users)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, text

from bot.core.models import ChatKind, ChatRef, Grade, UserRef
from bot.core.push_model import Claim
from bot.storage.schema import chats, subscriptions
from bot.storage.sql import HEAD, _alembic_config, open_store

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
            "study_days", "reveals", "bot_state", "instances", "alembic_version"} <= tables


async def test_a_database_of_the_previous_version_is_upgraded_in_place_keeping_its_data(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    old = await open_store(url, migrate=False)
    await old.migrate("0001")
    assert await old.schema_revision() == "0001"
    # Written with the 0001 columns only: today's store reads columns 0001 does not have.
    async with old.engine.begin() as conn:
        chat_pk = (await conn.execute(insert(chats).values(
            platform="telegram", chat_id="-100", thread_id="", kind="group", language="en",
            timezone="Europe/Berlin", created_at=NOW))).inserted_primary_key[0]
        await conn.execute(insert(subscriptions).values(
            chat_pk=chat_pk, local_time="07:30", active=True, paused_reason="", next_run_at=NOW,
            updated_at=NOW))
    await old.close()

    upgraded = await open_store(url)
    try:
        assert await upgraded.schema_revision() == HEAD
        kept = await upgraded.get_chat(ChatRef("telegram", "-100"))
        assert kept is not None and kept.language == "en"
        assert (kept.packs, kept.tags) == ((), ())
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


async def test_only_one_of_many_concurrent_claims_for_a_date_wins(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        chat = await store.ensure_chat(ChatRef("console", "g"), ChatKind.GROUP, language="zh",
                                       timezone="Asia/Shanghai")
        sub = await store.subscribe(chat.pk, dt.time(9), "Asia/Shanghai", NOW)
        following = NOW + dt.timedelta(days=1)
        claim = Claim(sub, dt.date(2026, 3, 2), NOW, following, chat_pk=chat.pk,
                      question_id="q1")
        results = await asyncio.gather(*(
            store.claim_batch([claim], [], [], f"instance-{i}", NOW) for i in range(10)))
        assert sum(len(r.claimed) for r in results) == 1
        moved = await store.get_subscription(chat.pk)
        assert moved is not None and moved.next_run_at == following
    finally:
        await store.close()


async def test_the_payload_key_is_made_once_and_kept(database_url: str) -> None:
    url = database_url
    first = await open_store(url)
    key = await first.payload_secret()
    await first.close()
    second = await open_store(url)
    try:
        assert await second.payload_secret() == key and len(key) == 32
    finally:
        await second.close()


async def test_a_chat_is_created_once_and_keeps_its_settings(database_url: str) -> None:
    store = await open_store(database_url)
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
    database_url: str,
) -> None:
    store = await open_store(database_url)
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


# ----- what a chat studies (0003) -------------------------------------------------------------


async def test_a_0002_database_gains_empty_pack_and_tag_choices_for_its_chats(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/v2.db"
    old = await open_store(url, migrate=False)
    await old.migrate("0002")
    async with old.engine.begin() as conn:
        await conn.execute(insert(chats).values(
            platform="discord", chat_id="9", thread_id="", kind="group", language="zh",
            timezone="UTC", created_at=NOW))
    await old.close()

    upgraded = await open_store(url)
    try:
        assert await upgraded.schema_revision() == HEAD
        chat = await upgraded.get_chat(ChatRef("discord", "9"))
        assert chat is not None and (chat.packs, chat.tags) == ((), ())
    finally:
        await upgraded.close()
    columns = {r[1]: r for r in sqlite3.connect(tmp_path / "v2.db").execute(
        "PRAGMA table_info(chats)")}
    assert columns["packs"][3] == 1 and columns["tags"][3] == 1  # NOT NULL


async def test_the_pack_and_tag_columns_migrate_down_and_up_again(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/down.db")
    try:
        chat = await store.ensure_chat(ChatRef("console", "g"), ChatKind.GROUP, language="zh",
                                       timezone="UTC")
        await store.set_chat_selection(chat.pk, packs=["default"], tags=["rag"])
        async with store.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(_alembic_config(c), "0002"))
            names = {r[1] for r in (await conn.execute(text("PRAGMA table_info(chats)"))).all()}
        assert "packs" not in names and "tags" not in names
        assert await store.schema_revision() == "0002"
        await store.migrate()
        again = await store.get_chat(ChatRef("console", "g"))
        assert again is not None and again.pk == chat.pk and again.packs == ()
    finally:
        await store.close()


async def test_a_chats_packs_and_tags_are_kept_and_travel_with_its_subscription(
    database_url: str,
) -> None:
    store = await open_store(database_url)
    try:
        ref = ChatRef("telegram", "-5")
        chat = await store.ensure_chat(ref, ChatKind.GROUP, language="zh", timezone="UTC")
        assert (chat.packs, chat.tags) == ((), ())
        await store.set_chat_selection(chat.pk, packs=["default", "extra", "default"])
        await store.set_chat_selection(chat.pk, tags=["rag", "alignment"])
        again = await store.ensure_chat(ref, ChatKind.GROUP, language="en", timezone="UTC")
        assert again.packs == ("default", "extra") and again.tags == ("rag", "alignment")
        await store.subscribe(chat.pk, dt.time(9), "UTC", NOW)
        [work] = await store.due_work("telegram", NOW, 10, "me", NOW)
        due = work.subscription
        assert due.chat.packs == ("default", "extra") and due.chat.tags == ("rag", "alignment")
        await store.set_chat_selection(chat.pk, packs=[])  # the tags stay as they were
        cleared = await store.get_chat_by_pk(chat.pk)
        assert cleared is not None and cleared.packs == () and cleared.tags == again.tags
    finally:
        await store.close()


async def test_a_pack_id_or_tag_with_whitespace_is_refused_by_the_store(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/bad.db")
    try:
        chat = await store.ensure_chat(ChatRef("console", "g"), ChatKind.GROUP, language="zh",
                                       timezone="UTC")
        for bad in (["two words"], [""], ["tab\tbed"]):
            with pytest.raises(ValueError):
                await store.set_chat_selection(chat.pk, tags=bad)
        kept = await store.get_chat_by_pk(chat.pk)
        assert kept is not None and kept.tags == ()
    finally:
        await store.close()
