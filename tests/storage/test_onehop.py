"""A SQLite file's writer runs each statement in one round trip to its connection thread, and
still reports rows, row counts, many-row inserts and errors the way SQLAlchemy expects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.onehop import OneHopConnection
from bot.storage.schema import bot_state
from bot.storage.sql import SqlStore, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = await open_store(f"sqlite:///{tmp_path}/bot.db")
    yield s
    await s.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a writer connection's thread."""
    seen: list[str] = []
    original = OneHopConnection._execute

    async def counting(self: OneHopConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneHopConnection, "_execute", counting)
    return seen


async def test_a_write_transaction_is_one_trip_per_statement_plus_its_commit(
        store: SqlStore, trips: list[str]) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(insert(bot_state).values(key="a", value="1"))
        assert await conn.scalar(select(bot_state.c.value).where(bot_state.c.key == "a")) == "1"
    # BEGIN IMMEDIATE, the insert, the select, the commit.
    assert trips == ["_run", "_run", "_run", "commit"]


async def test_an_update_reports_the_rows_it_changed(store: SqlStore) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(insert(bot_state), [{"key": f"k{n}", "value": "x"} for n in range(5)])
        changed = await conn.execute(update(bot_state).where(bot_state.c.key.in_(
            ["k1", "k2", "nope"])).values(value="y"))
        assert changed.rowcount == 2
        assert await conn.scalar(select(func.count()).select_from(bot_state).where(
            bot_state.c.key.like("k%"))) == 5


async def test_a_broken_constraint_raises_and_leaves_nothing_written(store: SqlStore) -> None:
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as conn:
            await conn.execute(insert(bot_state).values(key="twice", value="1"))
            await conn.execute(insert(bot_state).values(key="twice", value="2"))
    async with store.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(bot_state).where(
            bot_state.c.key == "twice")) == 0


async def test_rows_streamed_from_the_writer_arrive_in_batches_all_of_them(
        store: SqlStore) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(insert(bot_state), [{"key": f"s{n:03}", "value": str(n)}
                                               for n in range(250)])
        result = await conn.stream(select(bot_state.c.key).where(
            bot_state.c.key.like("s%")).order_by(bot_state.c.key))
        batches = [len(batch) async for batch in result.partitions(100)]
    assert batches == [100, 100, 50]


async def test_a_connection_handed_back_inside_a_transaction_is_rolled_back(
        store: SqlStore) -> None:
    """After a commit nothing is rolled back (no extra trip); a transaction left open, as a
    failed COMMIT leaves one, still is, so the next writer can begin its own."""
    async with store.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert isinstance(raw, OneHopConnection)
        await raw._execute(lambda: raw._conn.execute("BEGIN IMMEDIATE"))
        assert raw._conn.in_transaction
    async with store.engine.begin() as conn:
        await conn.execute(insert(bot_state).values(key="after", value="1"))
    async with store.engine.connect() as conn:
        assert await conn.scalar(select(bot_state.c.value).where(
            bot_state.c.key == "after")) == "1"
