"""Copy one studybot database into another, e.g. SQLite to PostgreSQL when one machine is not
enough any more (and back).

Every table of bot/storage/schema.py is copied, so a table added there is copied too. The target
is migrated to the latest schema first and the rows are written in one transaction: a copy that
fails leaves the target as it was. The source is read in one transaction as well, so a bot still
writing to it cannot make the copy a mix of two moments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, Table, delete, func, insert, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import metadata
from bot.storage.sql import (
    HEAD,
    DatabaseUnusable,
    SqlStore,
    StoreError,
    database_url_for_driver,
    driver_message,
    open_store,
)

# Rows per INSERT: large enough that a million rows is a few thousand round trips, small enough
# to stay far below PostgreSQL's 32,767 bind parameters at our widest table (13 columns).
BATCH = 1000


@dataclass(frozen=True)
class TableCount:
    table: str
    rows: int


def shown_url(url: str) -> str:
    """`url` as it may be printed: the password masked, the driver as the operator wrote it."""
    try:
        parsed = make_url(url)
    except Exception:  # SQLAlchemy's ArgumentError repeats the URL, password and all
        return "(not a valid URL)"
    return parsed.render_as_string(hide_password=True)


async def copy_database(source_url: str, target_url: str, *, force: bool = False
                        ) -> list[TableCount]:
    """Copy every row of every table from `source_url` into `target_url`; the rows per table.

    Raises StoreError, in one line with no password, when the source is not a studybot database
    at the latest schema, when the target is the source or already holds rows (unless `force`,
    which replaces them), and when the counts copied do not match the source's.
    """
    if _same_database(source_url, target_url):
        raise StoreError("the source and the target are the same database")
    async with _opened("source", source_url, migrate=False) as source:
        # Checked before the target is touched: a wrong source leaves no new target behind.
        revision = await source.schema_revision()
        if revision is None:
            raise StoreError(f"source: {shown_url(source_url)} holds no studybot tables")
        if revision != HEAD:
            raise StoreError(f"source: its schema is {revision}, this studybot's is {HEAD}; "
                             "run `studybot db migrate` on it first")
        async with _opened("target", target_url, migrate=True) as target:
            return await _copy_rows(source, target, target_url, force=force)


async def _copy_rows(source: SqlStore, target: SqlStore, target_url: str, *, force: bool
                     ) -> list[TableCount]:
    """The copy proper, in one read transaction on the source and one write on the target."""
    tables = metadata.sorted_tables  # parents before the rows that refer to them
    try:
        async with _snapshot(source) as reading, target.engine.begin() as writing:
            present = [count for count in await _counts(writing, tables) if count.rows]
            if present and not force:
                listed = ", ".join(f"{c.table} {c.rows}" for c in present)
                raise StoreError(f"target: {shown_url(target_url)} is not empty ({listed} "
                                 "rows); add --force to replace its rows")
            for table in reversed(tables):
                await writing.execute(delete(table))
            for table in tables:
                await _copy_table(reading, writing, table)
            if writing.dialect.name == "postgresql":
                await _advance_sequences(writing, tables)
            expected = await _counts(reading, tables)
            copied = await _counts(writing, tables)
            if copied != expected:
                wrong = ", ".join(f"{e.table} {c.rows} of {e.rows}"
                                  for e, c in zip(expected, copied, strict=True) if e != c)
                raise StoreError(f"the copy's row counts differ ({wrong}); nothing was "
                                 "written")
    except DBAPIError as error:
        # The driver's words name a table or a constraint, never the URL or its password.
        raise StoreError(f"copy failed, nothing was written: {driver_message(error)}"
                         ) from None
    return copied


def _where(url: str) -> tuple[str, ...] | None:
    """What identifies the database behind `url`, to refuse copying a database onto itself."""
    try:
        parsed = make_url(database_url_for_driver(url))
    except DatabaseUnusable:
        return None  # open_store reports it, as the source's or the target's
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return None
        return ("sqlite", str(Path(parsed.database).expanduser().resolve()))
    return (parsed.get_backend_name(), str(parsed.host or ""), str(parsed.port or 5432),
            str(parsed.database or ""))


def _same_database(source_url: str, target_url: str) -> bool:
    where = _where(source_url)
    return where is not None and where == _where(target_url)


@asynccontextmanager
async def _opened(role: str, url: str, *, migrate: bool) -> AsyncIterator[SqlStore]:
    """The store at `url`; its problems are reported as the source's or the target's."""
    if not migrate:
        _require_sqlite_file(url)
    try:
        store = await open_store(url, migrate=migrate)
    except DatabaseUnusable as error:
        raise StoreError(f"{role}: {error}") from None
    try:
        yield store
    finally:
        await store.close()


def _require_sqlite_file(url: str) -> None:
    """A SQLite source must exist: opening it would make an empty file of that name."""
    try:
        parsed: URL = make_url(database_url_for_driver(url))
    except DatabaseUnusable as error:
        raise StoreError(f"source: {error}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise StoreError(f"source: no database file at {path}")


@asynccontextmanager
async def _snapshot(store: SqlStore) -> AsyncIterator[AsyncConnection]:
    """A read transaction that sees the source at one moment, while its bot may go on writing.

    SQLite's reader engine never takes the write lock, and its transaction reads one snapshot.
    PostgreSQL's default (READ COMMITTED) takes a new snapshot per statement: REPEATABLE READ
    keeps the first one for every table.
    """
    async with store.reader.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn


async def _copy_table(reading: AsyncConnection, writing: AsyncConnection, table: Table) -> None:
    rows = await reading.stream(select(table).order_by(*table.primary_key.columns))
    async for batch in rows.mappings().partitions(BATCH):
        await writing.execute(insert(table), [dict(row) for row in batch])


async def _advance_sequences(writing: AsyncConnection, tables: Sequence[Table]) -> None:
    """Move each serial key's sequence past the keys copied in: explicit keys do not advance it,
    and the next new chat would otherwise collide with chat 1."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        key = keys[0].name
        await writing.execute(
            text(f"SELECT setval(pg_get_serial_sequence(:table, :key), "
                 f'COALESCE(MAX("{key}"), 1), MAX("{key}") IS NOT NULL) FROM "{table.name}"'),
            {"table": table.name, "key": key})


async def _counts(conn: AsyncConnection, tables: Sequence[Table]) -> list[TableCount]:
    return [TableCount(table.name, int(await conn.scalar(select(func.count()).select_from(table))
                                       or 0)) for table in tables]
