"""Rows read on every press (chats, days' questions, members, their study days) are remembered
when nothing can change them unheard: on a SQLite file this process alone writes, and on
PostgreSQL while the store hears other instances' changes from the database (bot.storage.feed).
A remembered row never hides a change: this process's own at once, another instance's as soon as
its notice arrives, and everything while the notices cannot be heard."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, text

from bot.core.actions import ActionCodec
from bot.core.models import ChatDay, ChatKind, ChatRef, Grade, UserRef
from bot.core.review_model import LedgerDay
from bot.core.study import StudyConfig, StudyService
from bot.storage.schema import chats
from bot.storage.sql import SqlStore, _alembic_config, open_store
from tests.fakes import FakeBank, FakeClock, RecordingMessenger, make_questions
from tests.postgres import Databases
from tests.storage.test_reads_do_not_write import Counts, counted

GROUP = ChatRef("telegram", "-100")
ALICE = UserRef("telegram", "1", "Alice")
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 2)
WAIT_SECONDS = 10.0  # a bound for the server's notices; they come within milliseconds


@pytest.fixture
async def pair(postgres_databases: Databases) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    """Two instances on one PostgreSQL database, each following the other's changes."""
    async with postgres_databases.fresh() as url:
        one, other = await open_store(url), await open_store(url)
        try:
            assert await one.follow_changes() and await other.follow_changes()
            yield one, other
        finally:
            await one.close()
            await other.close()


@pytest.fixture
async def sole(tmp_path: Path) -> AsyncIterator[SqlStore]:
    store = await open_store(f"sqlite:///{tmp_path}/bot.db")
    assert store.hold_sole_lock()
    yield store
    await store.close()


async def _group(store: SqlStore, language: str = "zh") -> int:
    chat = await store.ensure_chat(GROUP, ChatKind.GROUP, language=language, timezone="UTC")
    return chat.pk


async def _member_of_a_day(store: SqlStore) -> tuple[int, int, ChatDay]:
    """A group, a member, and a day's question; the member's days are read (and remembered)."""
    pk = await _group(store)
    user = await store.ensure_user(ALICE)
    day = await store.add_chat_day(pk, DAY, "q1", cycle=1)
    assert await store.study_days(pk, user) == ()
    return pk, user, day


async def _heard(store: SqlStore, change: Callable[[], Awaitable[object]]) -> None:
    """Make `change` (elsewhere) and wait until `store` has heard a notice after it."""
    feed = store._feed
    assert feed is not None
    feed.heard.clear()
    await change()
    await asyncio.wait_for(feed.heard.wait(), WAIT_SECONDS)


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for the feed's connection to come and go, which the server decides."""
    for _ in range(int(WAIT_SECONDS / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_remembered_chat_costs_no_statement_while_the_feed_is_live(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, _ = pair
    pk, user, _ = await _member_of_a_day(one)
    with counted(one) as counts:
        await _group(one)
        await one.get_chat_by_pk(pk)
        await one.ensure_user(ALICE)
        assert await one.study_days(pk, user) == ()
    assert counts == Counts(0, 0)


async def test_another_instances_chat_change_is_seen_once_its_notice_arrives(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, other = pair
    pk = await _group(one)
    assert (await one.get_chat(GROUP)).language == "zh"  # type: ignore[union-attr]
    await _heard(one, lambda: other.set_chat_language(pk, "en"))
    assert (await one.get_chat(GROUP)).language == "en"  # type: ignore[union-attr]
    assert (await one.get_chat_by_pk(pk)).language == "en"  # type: ignore[union-attr]


async def test_a_study_day_counted_by_another_instance_shows_in_the_members_days(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, other = pair
    pk, user, day = await _member_of_a_day(one)
    await _heard(one, lambda: other.record_grade(day.pk, user, Grade.KNEW, NOW, DAY, "UTC"))
    assert await one.study_days(pk, user) == (DAY,)


async def test_a_member_forgotten_through_another_instance_is_not_remembered(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, other = pair
    first = await one.ensure_user(ALICE)
    await _heard(one, lambda: other.forget_user(ALICE, None))
    assert await one.ensure_user(ALICE) != first  # a new key, not the deleted one


async def test_a_change_written_straight_to_the_database_is_heard_too(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, other = pair
    await _group(one)

    async def by_hand() -> None:
        async with other.engine.begin() as conn:
            await conn.execute(delete(chats))

    await _heard(one, by_hand)
    assert await one.get_chat(GROUP) is None


async def test_an_emptied_table_is_heard_as_a_whole(pair: tuple[SqlStore, SqlStore]) -> None:
    one, other = pair
    pk, user, day = await _member_of_a_day(one)
    await other.record_grade(day.pk, user, Grade.KNEW, NOW, DAY, "UTC")
    await _until(lambda: one._member_days.get((pk, user)) is None)
    assert await one.study_days(pk, user) == (DAY,)

    async def truncate() -> None:
        async with other.engine.begin() as conn:
            await conn.execute(text("truncate study_days"))

    await _heard(one, truncate)
    assert await one.study_days(pk, user) == ()


async def test_a_read_begun_before_a_notice_is_not_remembered_after_it(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, other = pair
    pk = await _group(one)
    stale = await one.get_chat(GROUP)
    assert stale is not None
    one._chats.forget()
    since = one._chats.since()  # a read starts, sees "zh", and is slow to finish
    await _heard(one, lambda: other.set_chat_language(pk, "en"))
    one._keep_chat(stale, since)
    assert (await one.get_chat(GROUP)).language == "en"  # type: ignore[union-attr]


async def test_while_the_feed_is_down_every_row_is_read_and_it_listens_again(
    pair: tuple[SqlStore, SqlStore], monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, other = pair
    pk = await _group(one)
    feed = one._feed
    assert feed is not None and feed.live
    listen = feed._listen
    attempts: list[int] = []

    async def unreachable() -> None:
        attempts.append(1)
        raise OSError("connection refused")

    monkeypatch.setattr(feed, "_listen", unreachable)
    feed.retry_seconds = (0.0,)
    listener = feed._driver.get_server_pid()  # type: ignore[union-attr]
    async with other.engine.connect() as conn:
        await conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": listener})
    await _until(lambda: len(attempts) >= 2)
    assert not feed.live
    await other.set_chat_language(pk, "en")  # nobody hears it
    assert (await one.get_chat(GROUP)).language == "en"  # type: ignore[union-attr]
    monkeypatch.setattr(feed, "_listen", listen)
    await _until(lambda: feed.live)
    assert (await one.get_chat(GROUP)).language == "en"  # type: ignore[union-attr]
    await _heard(one, lambda: other.set_chat_language(pk, "de"))
    assert (await one.get_chat(GROUP)).language == "de"  # type: ignore[union-attr]


async def test_an_instance_starting_or_stopping_is_counted_by_the_others_at_once(
    pair: tuple[SqlStore, SqlStore], clock: FakeClock,
) -> None:
    one, other = pair
    bank = FakeBank(make_questions(1))
    first, second = [StudyService(store, bank, clock, ActionCodec(await store.payload_secret()),
                                  StudyConfig()) for store in pair]
    one.on_instances_changed = first.push.instances_changed
    for service in (first, second):
        service.register_messenger(RecordingMessenger("telegram"))
    await first.push.beat()
    assert first.push.rate_share("telegram") == 1
    await _heard(one, second.push.beat)  # its first heartbeat: a new instance
    await _until(lambda: first.push.rate_share("telegram") == 2)
    await _heard(one, lambda: other.end_instance(second.push.run_id))  # a clean stop
    await _until(lambda: first.push.rate_share("telegram") == 1)


async def test_without_the_change_triggers_nothing_is_remembered(
    postgres_databases: Databases,
) -> None:
    async with postgres_databases.fresh(migrated=False) as url:
        one = await open_store(url, migrate=False)
        await one.migrate("0007")  # an older schema: the bot started before migrating
        other = await open_store(url, migrate=False)
        try:
            assert not await one.follow_changes()
            pk = await _group(one)
            await other.set_chat_language(pk, "en")
            assert (await one.get_chat(GROUP)).language == "en"  # type: ignore[union-attr]
        finally:
            await one.close()
            await other.close()


async def test_the_change_triggers_migrate_down_and_up_again(
    postgres_databases: Databases,
) -> None:
    async with postgres_databases.fresh() as url:
        store = await open_store(url)
        try:
            async with store.engine.begin() as conn:
                await conn.run_sync(lambda c: command.downgrade(_alembic_config(c), "0007"))
                left = (await conn.execute(text(
                    "select count(*) from pg_trigger where tgname like 'studybot_%'"))).scalar()
            assert left == 0
            assert not await store.follow_changes()
            await store.migrate()
            assert await store.follow_changes()
        finally:
            await store.close()


async def test_a_sqlite_store_has_no_feed_to_follow(sole: SqlStore) -> None:
    assert not await sole.follow_changes()


async def test_this_stores_own_grade_shows_in_the_members_days_at_once(
    sole: SqlStore,
) -> None:
    pk, user, day = await _member_of_a_day(sole)
    with counted(sole) as counts:
        assert await sole.study_days(pk, user) == ()
    assert counts.statements == 0  # remembered
    await sole.record_grade(day.pk, user, Grade.KNEW, NOW, DAY, "UTC")
    assert await sole.study_days(pk, user) == (DAY,)


async def test_a_review_that_counts_a_day_shows_in_the_members_days_at_once(
    sole: SqlStore,
) -> None:
    pk, user, day = await _member_of_a_day(sole)
    await sole.put_card(user, "q1", {
        "state": 2, "step": None, "stability": 3.5, "difficulty": 5.25, "due": NOW,
        "last_review": NOW, "reps": 1, "review_day": DAY, "source": "review", "prior": "",
        "chat_day_pk": day.pk}, NOW, LedgerDay(pk, DAY, "UTC", day.pk))
    assert await sole.study_days(pk, user) == (DAY,)


async def test_own_grade_on_postgresql_is_seen_before_its_notice_arrives(
    pair: tuple[SqlStore, SqlStore],
) -> None:
    one, _ = pair
    pk, user, day = await _member_of_a_day(one)
    await one.record_grade(day.pk, user, Grade.KNEW, NOW, DAY, "UTC")
    assert await one.study_days(pk, user) == (DAY,)  # no await between: the notice is not in
