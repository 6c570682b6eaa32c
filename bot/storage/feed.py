"""What other instances change, heard from PostgreSQL, so that rows read often can be remembered.

A SQLite file has one writer, this process, which knows what it changes. On PostgreSQL other
instances write too, and a chat's language or a member's study days read from memory could be
stale. Triggers (migration 0008) therefore NOTIFY on the `studybot_changes` channel whenever a
remembered kind of row changes, in the writing transaction: the notice goes out when it commits.
A ChangeFeed LISTENs on a connection of its own and hands each notice to the store, which forgets
what it names.

The feed is `live` only while it listens: it says so after LISTEN has been acknowledged, and the
store forgets everything both then (notices sent while nobody listened are lost) and when the
connection is lost. While it is not live the store remembers nothing that others may change. A
notice travels in well under a millisecond on one host; a read in that moment may still see the
row as it was, exactly as it would have had it been read a moment earlier.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

CHANNEL = "studybot_changes"
# The migration's triggers; a database without them (not migrated yet) gets no feed.
TRIGGERS = tuple(f"studybot_{table}_{what}" for table in ("chats", "chat_days", "users",
                                                          "study_days", "instances")
                 for what in ("changed", "emptied"))
# How often the listening connection is asked whether it still answers: a connection cut
# without a word (a server restart behind a proxy, say) is found within this much.
CHECK_SECONDS = 15.0
CHECK_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


class ChangeFeed:
    """LISTEN for the triggers' notices; `on_notice(payload)` for each, `on_reset()` whenever
    the store must forget everything (the feed went live, or stopped being live)."""

    def __init__(self, url: str, on_notice: Callable[[str], None],
                 on_reset: Callable[[], None]) -> None:
        self._engine: AsyncEngine = create_async_engine(url, poolclass=NullPool)
        self._on_notice = on_notice
        self._on_reset = on_reset
        self._conn: AsyncConnection | None = None
        self._driver: Any = None  # the asyncpg connection behind _conn
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self.live = False
        self.retry_seconds = RETRY_SECONDS
        self.heard = asyncio.Event()  # set at each notice; tests wait on it

    async def start(self) -> bool:
        """Listen now if the database has the triggers; keep listening (reconnecting) until
        `close`. False, with a log line, when the schema has no triggers: nothing is followed."""
        try:
            if not await self._has_triggers():
                log.warning("the database has no change triggers (run the migrations): rows "
                            "other instances may change are read each time")
                await self._engine.dispose()
                return False
            await self._listen()
        except Exception as error:  # the bot runs without the feed meanwhile
            log.warning("cannot listen for changes yet (%s); retrying", _reason(error))
            self._lost.set()
        self._task = asyncio.create_task(self._keep(), name="change-feed")
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self._drop()
        await self._engine.dispose()

    async def _has_triggers(self) -> bool:
        async with self._engine.connect() as conn:
            found = (await conn.execute(text(
                "select count(distinct tgname) from pg_trigger where tgname = any(:names)"),
                {"names": list(TRIGGERS)})).scalar_one()
        return int(found) == len(TRIGGERS)

    async def _listen(self) -> None:
        conn = await self._engine.connect()
        try:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            driver.add_termination_listener(self._terminated)
            await driver.add_listener(CHANNEL, self._notice)
        except BaseException:
            await conn.close()
            raise
        self._conn, self._driver = conn, driver
        self._lost.clear()
        self.live = True
        self._on_reset()  # whatever changed before LISTEN was not heard

    def _notice(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_notice(payload)
        self.heard.set()

    def _terminated(self, connection: Any) -> None:
        if connection is self._driver:  # not one this feed closed itself
            self._went_away()

    def _went_away(self) -> None:
        if self.live:
            self.live = False
            self._on_reset()
            log.warning("lost the change feed's connection; reading every row until it is back")
        self._lost.set()

    async def _drop(self) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        self.live = False
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # a connection already gone cannot be closed
                pass

    async def _keep(self) -> None:
        """Check the connection now and then; when it is gone, listen again (backing off)."""
        attempt = 0
        while True:
            if not self._lost.is_set():
                try:
                    await asyncio.wait_for(self._lost.wait(), CHECK_SECONDS)
                except TimeoutError:
                    if await self._answers():
                        continue
                    self._went_away()
            await self._drop()
            try:
                await self._listen()
                attempt = 0
                log.info("listening for changes again")
            except Exception as error:  # retried below
                delay = self.retry_seconds[min(attempt, len(self.retry_seconds) - 1)]
                attempt += 1
                log.warning("cannot listen for changes (%s); retrying in %.1f s",
                            _reason(error), delay)
                await asyncio.sleep(delay)

    async def _answers(self) -> bool:
        driver = self._driver
        if driver is None or driver.is_closed():
            return False
        try:
            await asyncio.wait_for(driver.fetchval("select 1"), CHECK_TIMEOUT_SECONDS)
        except Exception:  # any failure means the connection is of no use
            return False
        return True


def _reason(error: BaseException) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__
