"""Presses that only read do not write: known chats and members are read (or remembered), and a
member's row is written only when their display name changed. What is remembered never hides a
change: this process's own changes at once, another instance's chat changes at once too (without
the sole lock or a change feed, bot.storage.feed, chats are not remembered), a member's name
after USER_TTL_SECONDS."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.core.models import ChatKind, ChatRef, UserRef
from bot.storage.schema import users
from bot.storage.sql import USER_TTL_SECONDS, SqlStore, open_store

GROUP = ChatRef("telegram", "-100")
ALICE = UserRef("telegram", "1", "Alice")


@dataclass
class Counts:
    statements: int = 0
    writes: int = 0  # committed transactions


@contextmanager
def counted(store: SqlStore) -> Iterator[Counts]:
    counts = Counts()

    def statement(*_: Any) -> None:
        counts.statements += 1

    def commit(*_: Any) -> None:
        counts.writes += 1

    engines = store.sync_engines()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)
    try:
        yield counts
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine, "commit", commit)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def sole(tmp_path: Path, ticks: Ticks) -> AsyncIterator[SqlStore]:
    """The store as `studybot run` has it on SQLite: this process alone writes the file."""
    store = await open_store(f"sqlite:///{tmp_path}/bot.db", monotonic=ticks)
    assert store.hold_sole_lock()
    yield store
    await store.close()


@pytest.fixture
async def shared(tmp_path: Path, ticks: Ticks) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    """Two instances on one database, as several bots share PostgreSQL (no sole lock)."""
    one = await open_store(f"sqlite:///{tmp_path}/shared.db", monotonic=ticks)
    other = await open_store(f"sqlite:///{tmp_path}/shared.db", monotonic=ticks)
    yield one, other
    await one.close()
    await other.close()


async def _group(store: SqlStore) -> Any:
    return await store.ensure_chat(GROUP, ChatKind.GROUP, language="zh", timezone="Asia/Shanghai")


async def _name(store: SqlStore, user: UserRef) -> str:
    async with store.reader.connect() as conn:
        return str(await conn.scalar(select(users.c.display_name).where(
            users.c.platform == user.platform, users.c.user_id == user.user_id)))


async def test_a_known_chat_and_an_unchanged_member_cost_no_write_transaction(
    shared: tuple[SqlStore, SqlStore],
) -> None:
    store, _ = shared
    chat = await _group(store)
    pk = await store.ensure_user(ALICE)
    with counted(store) as counts:
        assert await _group(store) == chat
        assert await store.ensure_user(ALICE) == pk
    assert counts.writes == 0


async def test_with_the_sole_lock_a_known_chat_and_member_cost_no_statement(
    sole: SqlStore,
) -> None:
    chat = await _group(sole)
    pk = await sole.ensure_user(ALICE)
    day = await sole.add_chat_day(chat.pk, dt.date(2026, 3, 2), "q1", 0)
    assert await sole.get_chat_day(day.pk) == day
    with counted(sole) as counts:
        assert await _group(sole) == chat
        assert await sole.get_chat(GROUP) == chat
        assert await sole.get_chat_by_pk(chat.pk) == chat
        assert await sole.ensure_user(ALICE) == pk
        assert await sole.get_chat_day(day.pk) == day
    assert counts == Counts(0, 0)


async def test_a_pruned_day_is_not_answered_from_memory(sole: SqlStore) -> None:
    chat = await _group(sole)
    old = await sole.add_chat_day(chat.pk, dt.date(2026, 3, 1), "q1", 0)
    assert await sole.get_chat_day(old.pk) == old
    await sole.add_chat_day(chat.pk, dt.date(2026, 3, 2), "q2", 1)  # a newer question cycle
    _, gone = await sole.prune(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert gone == 1 and await sole.get_chat_day(old.pk) is None


async def test_a_new_chat_and_a_new_member_are_written_once(sole: SqlStore) -> None:
    with counted(sole) as counts:
        await _group(sole)
        await sole.ensure_user(ALICE)
    assert counts.writes == 2


async def test_a_renamed_member_has_the_new_name_written_and_an_empty_name_keeps_it(
    sole: SqlStore,
) -> None:
    pk = await sole.ensure_user(ALICE)
    with counted(sole) as counts:
        assert await sole.ensure_user(UserRef("telegram", "1", "Alicia")) == pk
    assert counts.writes == 1 and await _name(sole, ALICE) == "Alicia"
    with counted(sole) as counts:
        assert await sole.ensure_user(UserRef("telegram", "1", "")) == pk
    assert counts.writes == 0 and await _name(sole, ALICE) == "Alicia"


async def test_this_stores_own_chat_changes_are_seen_at_once_with_the_sole_lock(
    sole: SqlStore,
) -> None:
    chat = await _group(sole)
    await sole.set_chat_language(chat.pk, "en")
    assert (await _group(sole)).language == "en"
    await sole.set_chat_timezone(chat.pk, "Europe/Berlin")
    assert (await sole.get_chat_by_pk(chat.pk)).timezone == "Europe/Berlin"  # type: ignore[union-attr]
    await sole.set_chat_selection(chat.pk, packs=["default"], tags=["rag"])
    changed = await sole.get_chat(GROUP)
    assert changed is not None and (changed.packs, changed.tags) == (("default",), ("rag",))
    moved = ChatRef("telegram", "-200")
    await sole.move_chat(GROUP, moved)
    assert await sole.get_chat(GROUP) is None
    assert (await sole.get_chat_by_pk(chat.pk)).ref == moved  # type: ignore[union-attr]
    fresh = await _group(sole)
    assert fresh.pk != chat.pk and fresh.language == "zh"


async def test_a_chat_read_before_a_change_is_not_remembered_after_it(sole: SqlStore) -> None:
    chat = await _group(sole)
    await sole.set_chat_language(chat.pk, "zh")  # forgets: the next read goes to the database
    since = sole._chats.since()
    await sole.set_chat_language(chat.pk, "en")
    sole._keep_chat(chat, since)  # a read that began before the change ends after it
    assert (await _group(sole)).language == "en"


async def test_another_instances_chat_change_is_seen_at_once(
    shared: tuple[SqlStore, SqlStore],
) -> None:
    one, other = shared
    chat = await _group(one)
    await other.set_chat_language(chat.pk, "en")
    assert (await _group(one)).language == "en"
    assert (await one.get_chat_by_pk(chat.pk)).language == "en"  # type: ignore[union-attr]


async def test_another_instances_rename_is_undone_no_later_than_the_member_ttl(
    shared: tuple[SqlStore, SqlStore], ticks: Ticks,
) -> None:
    one, other = shared
    await one.ensure_user(ALICE)
    await other.ensure_user(UserRef("telegram", "1", "Alicia"))
    await one.ensure_user(ALICE)  # remembered as written a moment ago: not looked up
    assert await _name(one, ALICE) == "Alicia"
    ticks.now += USER_TTL_SECONDS
    await one.ensure_user(ALICE)
    assert await _name(one, ALICE) == "Alice"
