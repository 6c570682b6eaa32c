"""aiosqlite connections that run each statement in one round trip to their thread.

SQLAlchemy's aiosqlite dialect drives a cursor step by step: make it, execute, fetch the rows,
close it, and aiosqlite sends each step to the connection's thread and back through the loop's
self-pipe. A grade's write transaction was about twenty such round trips, each costing more
than the statement's own work in SQLite. Here the cursor's `execute` does every step in one trip
and keeps the rows; fetching them and closing the cursor no longer leave the loop. The thread,
its queue and the connection's life are still aiosqlite's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(db: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    cursor = db.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description is not None else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor:
    """The cursor SQLAlchemy's adapter expects from aiosqlite, with the rows fetched already."""

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> OneHopCursor:
        return await self._round_trip(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        return await self._round_trip(sql, list(parameters), True)

    async def _round_trip(self, sql: str, parameters: Any, many: bool) -> OneHopCursor:
        db = self._connection._conn  # raises ValueError("no active connection") when closed
        self.description, self._rows, self.rowcount, self.lastrowid = (
            await self._connection._execute(_run, db, sql, parameters, many))
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class OneHopConnection(aiosqlite.Connection):
    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        # No round trip: the sqlite3 cursor is made, used and closed inside `execute`.
        return OneHopCursor(self)


def one_hop_creator(path: str) -> Callable[[], OneHopConnection]:
    """For create_async_engine(async_creator=…): connections to the SQLite file at `path`."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(path)

    def create() -> OneHopConnection:
        connection = OneHopConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        return connection

    return create
