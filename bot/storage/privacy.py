"""The store's side of a user's right to a copy and to be forgotten.

Both walk the foreign keys of the schema's metadata instead of naming tables, so a table added
later that points at a user (or at their private chat) is exported and deleted with no change here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.models import ChatKind, ChatRef, UserRef
from bot.storage.schema import chat_days, chats, metadata, subscriptions, users


class PrivacyStoreMixin:
    """Mixed into SqlStore; uses its engines."""

    engine: AsyncEngine
    reader: AsyncEngine
    # SqlStore's: drops what it remembers of the user (ids, chats, days) once they are deleted.
    _forget_remembered: Callable[[UserRef], None]

    async def forget_user(self, user: UserRef, private_chat: ChatRef | None,
                          *, dry_run: bool = False) -> dict[str, int]:
        """Delete every row naming `user`, and their private chat with all that hangs off it.

        Returns the rows deleted per table. With `dry_run` the same deletion runs in a
        transaction that is rolled back, so the counts are exactly what a real run would delete.
        Group chats are never touched: only rows that point at the user go from them.
        """
        async with self.engine.connect() as conn:
            transaction = await conn.begin()
            try:
                counts = await _forget(conn, user, private_chat)
            except BaseException:
                await transaction.rollback()
                raise
            if dry_run:
                await transaction.rollback()
            else:
                await transaction.commit()
                self._forget_remembered(user)
        return {name: n for name, n in counts.items() if n}

    async def user_records(self, user: UserRef, private_chat: ChatRef | None) -> dict[str, Any]:
        """Everything stored about `user`, as plain JSON-ready values.

        `user` is their row; `private_chat` their private chat's row (with its subscription);
        `records` maps each table that points at the user to its rows. In those rows a
        reference to a chat is replaced by the chat it names, a reference to a chat's question
        of a day by that chat, date and question id, and the reference to the user is left out.
        """
        async with self.reader.connect() as conn:
            row = (await conn.execute(select(users).where(
                users.c.platform == user.platform, users.c.user_id == user.user_id))).first()
            if row is None:
                return {"user": None, "private_chat": None, "records": {}}
            user_pk = row.pk
            resolver = _Resolver(conn)
            records: dict[str, list[dict[str, Any]]] = {}
            for table in metadata.sorted_tables:
                for column in _columns_pointing_at(table, users):
                    rows = (await conn.execute(select(table).where(column == user_pk).order_by(
                        *table.primary_key.columns))).all()
                    records[table.name] = [await resolver.row(table, r._mapping, skip=column.name)
                                           for r in rows]
            chat = None
            if private_chat is not None:
                chat_pk = await _private_chat_pk(conn, private_chat)
                if chat_pk is not None:
                    chat = await resolver.private_chat(chat_pk)
            return {"user": _plain_row(users, row._mapping, skip="pk"),
                    "private_chat": chat, "records": records}


async def _forget(conn: AsyncConnection, user: UserRef,
                  private_chat: ChatRef | None) -> Counter[str]:
    counts: Counter[str] = Counter()
    if private_chat is not None:
        chat_pk = await _private_chat_pk(conn, private_chat)
        if chat_pk is not None:
            await _delete_tree(conn, chats, chats.c.pk == chat_pk, counts)
    await _delete_tree(conn, users, (users.c.platform == user.platform)
                       & (users.c.user_id == user.user_id), counts)
    return counts


async def _private_chat_pk(conn: AsyncConnection, ref: ChatRef) -> int | None:
    """The chat's key, only when it is a private chat: a group is never deleted for a user."""
    return await conn.scalar(select(chats.c.pk).where(
        chats.c.platform == ref.platform, chats.c.chat_id == ref.chat_id,
        chats.c.thread_id == ref.thread_id, chats.c.kind == ChatKind.PRIVATE.value))


async def _delete_tree(conn: AsyncConnection, table: Table, condition: ColumnElement[bool],
                       counts: Counter[str]) -> None:
    """Delete the rows of `table` matching `condition`, after every row pointing at them."""
    for child in metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                await _delete_tree(conn, child, fk.parent.in_(
                    select(fk.column).where(condition)), counts)
    result = await conn.execute(delete(table).where(condition))
    counts[table.name] += result.rowcount or 0


def _columns_pointing_at(table: Table, target: Table) -> list[Any]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table is target]


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _plain_row(table: Table, row: Any, *, skip: str = "") -> dict[str, Any]:
    return {c.name: _plain(row[c.name]) for c in table.columns if c.name != skip}


class _Resolver:
    """Turns keys into what they name, so an export reads without the database beside it."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._chats: dict[int, dict[str, Any]] = {}
        self._days: dict[int, dict[str, Any]] = {}

    async def chat(self, chat_pk: int) -> dict[str, Any]:
        if chat_pk not in self._chats:
            row = (await self.conn.execute(select(
                chats.c.platform, chats.c.chat_id, chats.c.thread_id, chats.c.kind).where(
                chats.c.pk == chat_pk))).first()
            self._chats[chat_pk] = dict(row._mapping) if row else {}
        return self._chats[chat_pk]

    async def day(self, chat_day_pk: int) -> dict[str, Any]:
        if chat_day_pk not in self._days:
            row = (await self.conn.execute(select(chat_days).where(
                chat_days.c.pk == chat_day_pk))).first()
            self._days[chat_day_pk] = {} if row is None else {
                "chat": await self.chat(row.chat_pk), "date": row.local_date.isoformat(),
                "question_id": row.question_id}
        return self._days[chat_day_pk]

    async def row(self, table: Table, row: Any, *, skip: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column in table.columns:
            if column.name == skip:
                continue
            value = row[column.name]
            targets = {fk.column.table for fk in column.foreign_keys}
            if chat_days in targets and value is not None:
                out[column.name.removesuffix("_pk")] = await self.day(value)
            elif chats in targets and value is not None:
                out[column.name.removesuffix("_pk")] = await self.chat(value)
            else:
                out[column.name] = _plain(value)
        return out

    async def private_chat(self, chat_pk: int) -> dict[str, Any]:
        row = (await self.conn.execute(select(chats).where(chats.c.pk == chat_pk))).first()
        assert row is not None
        chat = _plain_row(chats, row._mapping, skip="pk")
        sub = (await self.conn.execute(select(subscriptions).where(
            subscriptions.c.chat_pk == chat_pk))).first()
        chat["subscription"] = None if sub is None else _plain_row(
            subscriptions, sub._mapping, skip="pk")
        return chat
