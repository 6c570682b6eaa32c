"""The store's side of progress: what /stats reads (on the reader engine), and who keeps off a
chat's leaderboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert

from bot.core.models import Grade
from bot.storage.point import Reads
from bot.storage.schema import board_hidden, chat_days, grades, study_days


class ProgressStoreMixin:
    """Mixed into SqlStore; uses its engines and dialect-aware insert."""

    engine: AsyncEngine
    reader: AsyncEngine
    point: Reads
    _insert: Callable[[Any], Insert]

    async def set_board_hidden(self, chat_pk: int, user_pk: int, hidden: bool,
                               now: dt.datetime) -> bool:
        """Keep the member off (or put them back on) the chat's leaderboard; whether that
        changed anything."""
        async with self.engine.begin() as conn:
            if hidden:
                result = await conn.execute(self._insert(board_hidden).values(
                    chat_pk=chat_pk, user_pk=user_pk, hidden_at=now).on_conflict_do_nothing(
                    index_elements=["chat_pk", "user_pk"]))
            else:
                result = await conn.execute(delete(board_hidden).where(
                    board_hidden.c.chat_pk == chat_pk, board_hidden.c.user_pk == user_pk))
        return bool(result.rowcount)

    async def user_study_days(self, user_pk: int) -> tuple[dt.date, ...]:
        """The member's counted days in every chat, each local day once, in order."""
        async with self.point.connect() as conn:
            days = (await conn.execute(select(study_days.c.day).where(
                study_days.c.user_pk == user_pk).distinct().order_by(
                study_days.c.day))).scalars().all()
        return tuple(days)

    async def user_grades(self, user_pk: int,
                          chat_pk: int | None = None) -> Sequence[tuple[str, Grade]]:
        """(question id, latest grade) of every question the member graded, in one chat's
        posts or (chat_pk None) anywhere."""
        query = select(chat_days.c.question_id, grades.c.grade).select_from(
            grades.join(chat_days, grades.c.chat_day_pk == chat_days.c.pk)).where(
            grades.c.user_pk == user_pk)
        if chat_pk is not None:
            query = query.where(chat_days.c.chat_pk == chat_pk)
        async with self.reader.connect() as conn:
            rows = (await conn.execute(query.order_by(chat_days.c.local_date))).all()
        return [(r.question_id, Grade(r.grade)) for r in rows]

    async def chat_questions_since(
        self, chat_pk: int, since: dt.date
    ) -> Sequence[tuple[dt.date, str, tuple[Grade, ...]]]:
        """The chat's questions from `since` on: (local date, question id, every grade given)."""
        query = select(chat_days.c.local_date, chat_days.c.question_id,
                       grades.c.grade).select_from(chat_days.outerjoin(
                           grades, grades.c.chat_day_pk == chat_days.c.pk)).where(
            chat_days.c.chat_pk == chat_pk, chat_days.c.local_date >= since).order_by(
            chat_days.c.local_date)
        async with self.reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        found: dict[tuple[dt.date, str], list[Grade]] = {}
        for r in rows:
            given = found.setdefault((r.local_date, r.question_id), [])
            if r.grade is not None:
                given.append(Grade(r.grade))
        return [(day, question, tuple(given)) for (day, question), given in found.items()]

    async def chat_activity_since(self, chat_pk: int,
                                  since: dt.date) -> Sequence[tuple[int, dt.date]]:
        """(member, day) for every counted study day in the chat from `since` on."""
        async with self.reader.connect() as conn:
            rows = (await conn.execute(select(study_days.c.user_pk, study_days.c.day).where(
                study_days.c.chat_pk == chat_pk, study_days.c.day >= since))).all()
        return [(r.user_pk, r.day) for r in rows]
