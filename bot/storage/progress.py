"""The store's side of progress: what /stats reads. Reads only, on the reader engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.models import Grade
from bot.storage.schema import chat_days, grades, study_days


class ProgressStoreMixin:
    """Mixed into SqlStore; uses its reader engine."""

    reader: AsyncEngine

    async def user_study_days(self, user_pk: int) -> tuple[dt.date, ...]:
        """The member's counted days in every chat, each local day once, in order."""
        async with self.reader.connect() as conn:
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
