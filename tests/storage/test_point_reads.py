"""Reads by index on a SQLite file run on the caller's thread (no hop to a connection thread), see
every commit made before them, never take the write lock, and never wait for a free connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.core.models import ChatKind, ChatRef, Grade, UserRef
from bot.storage.point import PointReader
from bot.storage.schema import chats
from bot.storage.sql import SqlStore, open_store

GROUP = ChatRef("telegram", "-100")
ALICE = UserRef("telegram", "1", "Alice")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = await open_store(f"sqlite:///{tmp_path}/bot.db")
    yield s
    await s.close()


async def test_a_members_study_days_are_read_on_the_calling_thread(store: SqlStore) -> None:
    assert isinstance(store.point, PointReader)
    threads: list[int] = []

    def seen(*_: Any) -> None:
        threads.append(threading.get_ident())

    event.listen(store.point.engine, "before_cursor_execute", seen)
    chat = await store.ensure_chat(GROUP, ChatKind.GROUP, language="zh", timezone="UTC")
    user = await store.ensure_user(ALICE)
    await store.study_days(chat.pk, user)
    assert threads and set(threads) == {threading.get_ident()}


async def test_a_point_read_sees_a_grade_committed_just_before(store: SqlStore) -> None:
    chat = await store.ensure_chat(GROUP, ChatKind.GROUP, language="zh", timezone="UTC")
    user = await store.ensure_user(ALICE)
    day = await store.add_chat_day(chat.pk, dt.date(2026, 3, 2), "q1", cycle=1)
    assert await store.study_days(chat.pk, user) == ()
    await store.record_grade(day.pk, user, Grade.KNEW, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
                             dt.date(2026, 3, 2), "UTC")
    assert await store.study_days(chat.pk, user) == (dt.date(2026, 3, 2),)


async def test_point_reads_cannot_write(store: SqlStore) -> None:
    async with store.point.connect() as conn:
        with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
            await conn.execute(chats.delete())


async def test_many_point_reads_open_at_once_never_wait_for_a_connection(
        store: SqlStore) -> None:
    """More readers than the pool keeps, each pausing inside its read: a wait for a connection
    would block the loop they all run on, so none may happen."""
    await store.ensure_chat(GROUP, ChatKind.GROUP, language="zh", timezone="UTC")
    both_in = asyncio.Event()
    inside = 0

    async def read() -> int:
        nonlocal inside
        async with store.point.connect() as conn:
            inside += 1
            if inside == 40:
                both_in.set()
            await asyncio.wait_for(both_in.wait(), timeout=5)
            return len((await conn.execute(select(chats.c.pk))).all())

    assert await asyncio.wait_for(asyncio.gather(*(read() for _ in range(40))), 10) == [1] * 40
