"""The store's side of a chat's group sends: the answer at a set time, the weekly digest and the
live leaderboard. Claimed before sending like the daily push, once per chat, kind and period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert

from bot.core.models import ChatDay
from bot.core.push_model import Mark, SendRetake
from bot.core.together_model import ChatJob, JobClaim, JobDue, JobKind
from bot.storage.point import Reads
from bot.storage.push import claim_row, mark_rows, mark_statement, retake_sends
from bot.storage.schema import (
    UTCDateTime,
    chat_days,
    chat_job_sends,
    chat_jobs,
    chats,
    deliveries,
    grades,
    instances,
    subscriptions,
)

BOARD_EVERY = dt.timedelta(minutes=1)  # a leaderboard message is edited at most this often


class TogetherStoreMixin:
    """Mixed into SqlStore; uses its engines and dialect-aware insert."""

    engine: AsyncEngine
    reader: AsyncEngine
    point: Reads
    _insert: Callable[[Any], Insert]

    # ----- settings ---------------------------------------------------------------------------

    async def set_job(self, chat_pk: int, kind: JobKind, local_time: dt.time | None,
                      next_run_at: dt.datetime | None, now: dt.datetime) -> None:
        """Turn a chat's group send on (with its time and first run) or off (None)."""
        on = next_run_at is not None
        values = {"local_time": local_time.strftime("%H:%M") if local_time else None,
                  "active": on, "next_run_at": next_run_at, "updated_at": now}
        async with self.engine.begin() as conn:
            stmt = self._insert(chat_jobs).values(chat_pk=chat_pk, kind=kind.value, **values)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["chat_pk", "kind"], set_=values))

    async def get_job(self, chat_pk: int, kind: JobKind) -> ChatJob | None:
        async with self.point.connect() as conn:
            row = (await conn.execute(_JOB_QUERY.where(
                chat_jobs.c.chat_pk == chat_pk, chat_jobs.c.kind == kind.value))).first()
        return None if row is None else _job(row)

    async def set_board(self, chat_pk: int, message_id: str, week: str,
                        now: dt.datetime) -> None:
        """The chat's leaderboard is now `message_id`, for the week starting `week`."""
        values = {"active": True, "message_id": message_id[:64], "period": week,
                  "last_sent_at": now, "next_run_at": None, "updated_at": now}
        async with self.engine.begin() as conn:
            stmt = self._insert(chat_jobs).values(chat_pk=chat_pk, kind=JobKind.BOARD.value,
                                                  **values)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["chat_pk", "kind"], set_=values))

    async def board_changed(self, chat_pk: int, now: dt.datetime) -> bool:
        """A grade changed the chat's board: plan an edit, a minute after the last at the
        earliest. One read when the chat keeps no board; True when an edit was planned."""
        async with self.point.connect() as conn:
            row = (await conn.execute(select(
                chat_jobs.c.last_sent_at, chat_jobs.c.next_run_at).where(
                chat_jobs.c.chat_pk == chat_pk, chat_jobs.c.kind == JobKind.BOARD.value,
                chat_jobs.c.active.is_(True)))).first()
        if row is None or row.next_run_at is not None:
            return False  # no board here, or an edit is planned already
        at = now if row.last_sent_at is None else max(now, row.last_sent_at + BOARD_EVERY)
        async with self.engine.begin() as conn:
            changed = await conn.execute(update(chat_jobs).where(
                chat_jobs.c.chat_pk == chat_pk, chat_jobs.c.kind == JobKind.BOARD.value,
                chat_jobs.c.active.is_(True), chat_jobs.c.next_run_at.is_(None)).values(
                next_run_at=at))
        return bool(changed.rowcount)

    async def pause_chat_jobs(self, chat_pk: int) -> None:
        """The bot can no longer post in the chat: its group sends stop."""
        async with self.engine.begin() as conn:
            await conn.execute(update(chat_jobs).where(chat_jobs.c.chat_pk == chat_pk).values(
                active=False))

    async def day_post(self, chat_pk: int, local_date: dt.date) -> str:
        """The message id of the chat's daily post for a date, "" when none was sent."""
        async with self.point.connect() as conn:
            found = await conn.scalar(select(deliveries.c.message_id).select_from(
                deliveries.join(subscriptions)).where(
                subscriptions.c.chat_pk == chat_pk, deliveries.c.local_date == local_date,
                deliveries.c.state == "sent"))
        return str(found or "")

    # ----- the pipeline -----------------------------------------------------------------------

    async def due_jobs(self, platform: str, now: dt.datetime, limit: int, run_id: str,
                       alive_since: dt.datetime) -> list[JobDue]:
        """Group sends whose time has come on one platform (ix_chat_jobs_due), then sends to
        make again: retries whose time has come and claims of dead instances."""
        async with self.reader.connect() as conn:
            rows = (await conn.execute(_JOB_QUERY.where(
                chat_jobs.c.active.is_(True), chat_jobs.c.next_run_at <= now,
                chats.c.platform == platform).order_by(
                chat_jobs.c.next_run_at).limit(limit))).all()
            work = [JobDue(_job(r)) for r in rows]
            room = limit - len(work)
            if room > 0:
                live = select(instances.c.run_id).where(instances.c.seen_at >= alive_since)
                again = (await conn.execute(_JOB_QUERY.add_columns(
                    chat_job_sends.c.pk.label("send_pk"), chat_job_sends.c.period.label("sp"),
                    chat_job_sends.c.due_at, chat_job_sends.c.attempts, chat_job_sends.c.state,
                    chat_job_sends.c.claimed_by).join(chat_job_sends, and_(
                        chat_job_sends.c.chat_pk == chat_jobs.c.chat_pk,
                        chat_job_sends.c.kind == chat_jobs.c.kind)).where(
                    chats.c.platform == platform,
                    or_(and_(chat_job_sends.c.state == "retry",
                             chat_job_sends.c.retry_at <= now),
                        and_(chat_job_sends.c.state == "claimed",
                             chat_job_sends.c.claimed_by != run_id,
                             chat_job_sends.c.claimed_by.not_in(live)))).order_by(
                    chat_job_sends.c.claimed_at).limit(room))).all()
                work += [JobDue(_job(r), SendRetake(r.send_pk, r.sp, r.due_at, r.attempts,
                                                   r.state, r.claimed_by)) for r in again]
        return work

    async def claim_jobs(
        self, claims: Sequence[JobClaim], retakes: Sequence[SendRetake],
        skips: Sequence[JobClaim], run_id: str, now: dt.datetime,
    ) -> tuple[dict[tuple[int, str], int], set[int]]:
        """One transaction: claim each send for its period (once per chat, kind and period),
        move each job to its next run, take over retakes. Returns what this call really
        claimed ({(chat pk, kind): send pk}) and the retakes it won."""
        async with self.engine.begin() as conn:
            runs = [*claims, *skips]
            if runs:
                await conn.execute(_ADVANCE, [
                    {"b_chat": c.job.chat.pk, "b_kind": c.job.kind.value,
                     "b_old": c.job.next_run_at, "b_new": c.following} for c in runs])
            once = self._insert(chat_job_sends).on_conflict_do_nothing(
                index_elements=["chat_pk", "kind", "period"])
            if skips:
                await conn.execute(once, [_send_row(s, "missed", run_id, now) for s in skips])
            claimed: dict[tuple[int, str], int] = {}
            if claims:
                await conn.execute(once, [_send_row(c, "claimed", run_id, now) for c in claims])
                mine = (await conn.execute(select(
                    chat_job_sends.c.pk, chat_job_sends.c.chat_pk, chat_job_sends.c.kind).where(
                    tuple_(chat_job_sends.c.chat_pk, chat_job_sends.c.kind,
                           chat_job_sends.c.period).in_(
                        [(c.job.chat.pk, c.job.kind.value, c.period) for c in claims]),
                    chat_job_sends.c.claimed_by == run_id, chat_job_sends.c.claimed_at == now,
                    chat_job_sends.c.state == "claimed",
                    chat_job_sends.c.attempts == 1))).all()
                claimed = {(r.chat_pk, r.kind): r.pk for r in mine}
            retaken = await retake_sends(conn, chat_job_sends, retakes, run_id, now)
        return claimed, retaken

    async def write_job_marks(self, marks: Sequence[Mark]) -> None:
        """How group sends ended; only a claim still open is marked."""
        if marks:
            async with self.engine.begin() as conn:
                await conn.execute(_MARK_JOB, mark_rows(marks))

    async def next_job_at(self, platforms: Sequence[str]) -> dt.datetime | None:
        """The earliest group send or retry of these platforms."""
        async with self.reader.connect() as conn:
            run = await conn.scalar(select(func.min(chat_jobs.c.next_run_at)).select_from(
                chat_jobs.join(chats, chat_jobs.c.chat_pk == chats.c.pk)).where(
                chat_jobs.c.active.is_(True), chats.c.platform.in_(platforms)))
            retry = await conn.scalar(select(func.min(chat_job_sends.c.retry_at)).select_from(
                chat_job_sends.join(chats, chat_job_sends.c.chat_pk == chats.c.pk)).where(
                chat_job_sends.c.state == "retry", chats.c.platform.in_(platforms)))
        found = [t.replace(tzinfo=dt.UTC) for t in (run, retry) if t is not None]
        return min(found) if found else None

    async def job_send_states(self, chat_pk: int, kind: JobKind) -> dict[str, str]:
        """How each of a chat's sends of one kind ended, by period (tests, operators)."""
        async with self.point.connect() as conn:
            rows = (await conn.execute(select(chat_job_sends.c.period, chat_job_sends.c.state)
                                       .where(chat_job_sends.c.chat_pk == chat_pk,
                                              chat_job_sends.c.kind == kind.value))).all()
        return {r.period: r.state for r in rows}

    async def prune_job_sends(self, before: dt.datetime, limit: int = 5000) -> int:
        async with self.engine.begin() as conn:
            old = select(chat_job_sends.c.pk).where(
                chat_job_sends.c.claimed_at < before).limit(limit)
            return int((await conn.execute(delete(chat_job_sends).where(
                chat_job_sends.c.pk.in_(old)))).rowcount or 0)


    async def week_grades(self, chat_pk: int, start: dt.date,
                          end: dt.date) -> list[tuple[ChatDay, dict[str, int]]]:
        """The chat's questions of days in [start, end) with their grades counted by kind."""
        from bot.storage.sql import _chat_day

        async with self.reader.connect() as conn:
            days = (await conn.execute(select(chat_days).where(
                chat_days.c.chat_pk == chat_pk, chat_days.c.local_date >= start,
                chat_days.c.local_date < end).order_by(chat_days.c.local_date))).all()
            counts = (await conn.execute(select(
                grades.c.chat_day_pk, grades.c.grade, func.count()).where(
                grades.c.chat_day_pk.in_([d.pk for d in days])).group_by(
                grades.c.chat_day_pk, grades.c.grade))).all() if days else []
        by_day: dict[int, dict[str, int]] = {d.pk: {} for d in days}
        for day_pk, grade, n in counts:
            by_day[day_pk][str(grade)] = int(n)
        return [(_chat_day(d), by_day[d.pk]) for d in days]


def _job_columns() -> tuple[Any, ...]:
    return (chat_jobs.c.kind.label("job_kind"), chat_jobs.c.local_time.label("job_time"),
            chat_jobs.c.next_run_at.label("job_next"), chat_jobs.c.message_id.label("job_msg"),
            chat_jobs.c.period.label("job_period"), chat_jobs.c.last_sent_at, chats.c.pk,
            chats.c.platform, chats.c.chat_id, chats.c.thread_id, chats.c.kind,
            chats.c.language, chats.c.timezone, chats.c.packs, chats.c.tags)


_JOB_QUERY = select(*_job_columns()).select_from(
    chat_jobs.join(chats, chat_jobs.c.chat_pk == chats.c.pk))


_ADVANCE = update(chat_jobs).where(
    chat_jobs.c.chat_pk == bindparam("b_chat"), chat_jobs.c.kind == bindparam("b_kind"),
    chat_jobs.c.next_run_at == bindparam("b_old", type_=UTCDateTime)).values(
    next_run_at=bindparam("b_new", type_=UTCDateTime))

_MARK_JOB = mark_statement(chat_job_sends)


def _job(row: Any) -> ChatJob:
    from bot.storage.sql import _chat

    local_time = None
    if row.job_time:
        hours, minutes = row.job_time.split(":")
        local_time = dt.time(int(hours), int(minutes))
    return ChatJob(chat=_chat(row), kind=JobKind(row.job_kind), local_time=local_time,
                   next_run_at=row.job_next, message_id=row.job_msg, period=row.job_period,
                   last_sent_at=row.last_sent_at)


def _send_row(claim: JobClaim, state: str, run_id: str, now: dt.datetime) -> dict[str, Any]:
    return {"chat_pk": claim.job.chat.pk, "kind": claim.job.kind.value, "period": claim.period,
            **claim_row(state, run_id, now, claim.due_at)}
