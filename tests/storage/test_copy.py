"""`studybot db copy`: every row of every table, SQLite to PostgreSQL and back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.core.models import ChatKind, ChatRef, Grade, UserRef
from bot.core.push_model import Claim, Mark
from bot.core.review_model import ReminderClaim
from bot.core.together_model import JobClaim, JobKind
from bot.storage.schema import metadata
from bot.storage.sql import HEAD, SqlStore, open_store
from tests.postgres import Databases

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 2)
PASSWORD = "copy-Pa55word-never-shown"


async def seed(store: SqlStore) -> None:
    """At least one row in every table, through the store's own writes."""
    await store.payload_secret()
    await store.heartbeat("run-1", NOW)
    grader = await store.ensure_user(UserRef("telegram", "42", "Zoë 'quoted' 学习者"))
    for n, kind in enumerate((ChatKind.GROUP, ChatKind.PRIVATE, ChatKind.GROUP)):
        chat = await store.ensure_chat(ChatRef("telegram", f"-100{n}", str(n)), kind,
                                       language="zh", timezone="Asia/Shanghai")
        await store.set_chat_selection(chat.pk, packs=["default"], tags=["rag"])
        subscription = await store.subscribe(chat.pk, dt.time(9), "Asia/Shanghai", NOW)
        claim = Claim(subscription, DAY, NOW, NOW + dt.timedelta(days=1), chat_pk=chat.pk,
                      question_id=f"q{n}")
        result = await store.claim_batch([claim], [], [], "run-1", NOW)
        [(key, delivery_pk)] = result.claimed.items()
        await store.write_marks([Mark(delivery_pk, "sent", NOW, message_id=str(n))])
        day = result.days[key]
        await store.record_reveal(day.pk, grader, NOW)
        await store.record_grade(day.pk, grader, Grade.KNEW, NOW, DAY, "Asia/Shanghai")
    private = await store.ensure_chat(ChatRef("telegram", "-1001", "1"), ChatKind.PRIVATE,
                                      language="zh", timezone="UTC")
    await store.unsubscribe(private.pk)
    # The review loop, reminders and group sends.
    await store.put_card(grader, "q0", {
        "state": 2, "step": None, "stability": 3.5, "difficulty": 5.25, "due": NOW,
        "last_review": NOW, "reps": 1, "review_day": DAY, "source": "daily", "prior": "",
        "chat_day_pk": day.pk}, NOW)
    await store.set_reminder(grader, private.pk, dt.time(21), NOW, NOW)
    reminder = await store.get_reminder(grader)
    assert reminder is not None
    await store.claim_reminders([ReminderClaim(reminder, DAY, NOW, NOW + dt.timedelta(days=1))],
                                [], [], "run-1", NOW)
    await store.set_job(day.chat_pk, JobKind.ANSWER, dt.time(21), NOW, NOW)
    job = await store.get_job(day.chat_pk, JobKind.ANSWER)
    assert job is not None
    await store.claim_jobs([JobClaim(job, DAY.isoformat(), NOW, NOW + dt.timedelta(days=1))],
                           [], [], "run-1", NOW)
    await store.set_board_hidden(day.chat_pk, grader, True, NOW)


async def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    store = await open_store(url, migrate=False)
    try:
        async with store.engine.connect() as conn:
            return {table.name: [tuple(row) for row in (await conn.execute(
                select(table).order_by(*table.primary_key.columns))).all()]
                for table in metadata.sorted_tables}
    finally:
        await store.close()


@pytest.fixture
async def postgres_url(postgres_databases: Databases) -> AsyncIterator[str]:
    """An empty PostgreSQL database (no tables), its URL carrying a password to keep hidden."""
    async with postgres_databases.fresh(migrated=False) as url:
        parsed = make_url(url)
        # Trust authentication ignores this one; a server that needs one has it in its URL.
        yield parsed.set(password=parsed.password or PASSWORD).render_as_string(
            hide_password=False)


async def copy(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The command line as an operator runs it (its own event loop, so in a thread here)."""
    code = await asyncio.to_thread(main, ["db", "copy", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


async def test_a_round_trip_through_postgresql_keeps_every_row_of_every_table(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    source, back = f"sqlite:///{tmp_path}/source.db", f"sqlite:///{tmp_path}/back.db"
    store = await open_store(source)
    await seed(store)
    await store.close()
    original = await rows(source)
    assert all(original.values()), "a table with no rows would not show it was copied"

    code, there = await copy(capsys, source, postgres_url)
    assert code == 0, there
    assert str(make_url(postgres_url).password) not in there and "***" in there
    for table, table_rows in original.items():
        assert f"  {table} " in there and f" {len(table_rows):,}\n" in there.split(
            f"  {table} ", 1)[1]
    assert "every table's count matches the source" in there
    assert await rows(postgres_url) == original

    code, back_out = await copy(capsys, postgres_url, back)
    assert code == 0, back_out
    assert await rows(back) == original

    # New rows on PostgreSQL take keys after the copied ones: its sequences were moved on.
    copied = await open_store(postgres_url)
    try:
        chat = await copied.ensure_chat(ChatRef("discord", "new"), ChatKind.GROUP,
                                        language="en", timezone="UTC")
        assert chat.pk == max(row[0] for row in original["chats"]) + 1
        assert await copied.payload_secret() == await _secret(source)
    finally:
        await copied.close()


async def _secret(url: str) -> bytes:
    store = await open_store(url)
    try:
        return await store.payload_secret()
    finally:
        await store.close()


async def test_a_target_with_rows_is_refused_in_one_line_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    source, target = f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"
    for url in (source, target):
        store = await open_store(url)
        await seed(store)
        await store.close()
    kept = await rows(target)

    code, refused = await copy(capsys, source, target)
    assert code == 1
    assert refused.count("\n") == 1 and refused.startswith("studybot: target: ")
    assert "is not empty" in refused and "--force" in refused
    assert await rows(target) == kept

    code, forced = await copy(capsys, source, target, "--force")
    assert code == 0, forced
    assert await rows(target) == await rows(source)


@pytest.mark.parametrize(("make", "words"), [
    ("missing", "source: no database file at"),
    ("same", "the source and the target are the same database"),
    ("old", f"source: its schema is 0002, this studybot's is {HEAD}; run `studybot db migrate`"),
])
async def test_a_source_that_cannot_be_copied_is_one_line_and_leaves_no_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    make: str, words: str,
) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    source = f"sqlite:///{tmp_path}/source.db"
    target = source if make == "same" else f"sqlite:///{tmp_path}/target.db"
    if make == "old":
        store = await open_store(source, migrate=False)
        await store.migrate("0002")
        await store.close()
    code, said = await copy(capsys, source, target)
    assert code == 1 and said.count("\n") == 1 and words in said, said
    assert make == "same" or not (tmp_path / "target.db").exists()
