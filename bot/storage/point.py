"""Point reads of a SQLite file on the event loop's own thread.

Through aiosqlite every step of a read (cursor, execute, fetch, close, rollback) is a round trip
to the connection's thread and back through the loop's self-pipe: about five hops, which cost a
command far more than the few microseconds SQLite needs to find a row by its index. Reads that
go straight to an index (a chat, a user, a card, a member's study days) therefore run here, on a
plain `sqlite3` connection in the calling thread. In WAL mode a reader never waits for a writer
or another process, and the pages it touches are hot in the page cache, so a point read cannot
hold the loop up. Scans (due work, counts, exports, boards of whole chats) stay on the threaded
reader engine, where a slow one costs only its own caller.

On PostgreSQL there is no thread to hop to (asyncpg speaks on the loop), and the store uses its
engine for point reads too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Executable, Result, ScalarResult


class Reads(Protocol):
    """Where the store's point reads go: a PointReader, or an engine (PostgreSQL)."""

    def connect(self) -> AbstractAsyncContextManager[Any]: ...

    async def dispose(self) -> None: ...


class InlineConnection:
    """A synchronous SQLAlchemy connection behind the async methods the store calls.

    Nothing here yields to the loop, so the statements of one read follow each other within
    microseconds with no task of this process in between, and each is its own snapshot: no
    transaction is begun for them (another process writing the file in those microseconds can
    only add what the next read would see anyway). A result is read inside its `connect()`
    block, as every point read does; it is not buffered first, which would cost more than the
    read itself.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Executable,
                      parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
                      ) -> Result[Any]:
        return self._conn.execute(statement, parameters)

    async def scalar(self, statement: Executable,
                     parameters: Mapping[str, Any] | None = None) -> Any:
        return self._conn.scalar(statement, parameters)

    async def scalars(self, statement: Executable,
                      parameters: Mapping[str, Any] | None = None) -> ScalarResult[Any]:
        return (await self.execute(statement, parameters)).scalars()

    def reset(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


class PointReader:
    """One connection to a SQLite file (query_only, tuned like the reader engine), used inline.

    One is enough: reads on it never overlap, as none yields the loop, and it holds no
    transaction between them (every statement is its own). Taking a connection from a pool and
    handing it back for each read would cost more than the read.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: InlineConnection | None = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[InlineConnection]:
        if self._conn is None:
            self._conn = InlineConnection(self.engine.connect())
        try:
            yield self._conn
        except BaseException:
            self._conn.reset()  # a failed statement leaves nothing behind for the next read
            raise

    async def dispose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()
