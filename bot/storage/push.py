"""The store's side of the push pipeline: batch claims, batch marks, instances, pruning.

Every write here is one transaction for a whole batch, so the per-post cost is a few rows, not a
few round trips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

from bot.core.models import ChatDay
from bot.core.push_model import Claim, ClaimResult, Due, History, Mark, Retake, SendRetake
from bot.storage.schema import (
    UTCDateTime,
    chat_days,
    chats,
    deliveries,
    grades,
    instances,
    reminder_sends,
    reveals,
    study_days,
    subscriptions,
)


class PushStoreMixin:
    """Mixed into SqlStore; uses its engine and dialect-aware insert."""

    engine: AsyncEngine
    reader: AsyncEngine
    # SqlStore's dialect-aware INSERT (ON CONFLICT works on SQLite and PostgreSQL alike).
    _insert: Callable[[Any], Insert]
    # SqlStore's: drops the days it remembers, after days are deleted.
    _forget_chat_days: Callable[[], None]

    # ----- reading what is due ----------------------------------------------------------------

    async def due_work(
        self, platform: str, now: dt.datetime, limit: int, run_id: str, alive_since: dt.datetime,
    ) -> list[Due]:
        """Up to `limit` posts to make for one platform: new runs whose time has come, failed
        posts whose retry time has come, and claims cut off by an instance that died."""
        from bot.storage.sql import _SUBSCRIPTION_COLUMNS, _subscription

        joined = deliveries.join(subscriptions).join(chats)
        live = select(instances.c.run_id).where(instances.c.seen_at >= alive_since)
        async with self.reader.connect() as conn:
            new_rows = (await conn.execute(select(*_SUBSCRIPTION_COLUMNS).select_from(
                subscriptions.join(chats)).where(
                subscriptions.c.active.is_(True), subscriptions.c.next_run_at <= now,
                chats.c.platform == platform).order_by(
                subscriptions.c.next_run_at).limit(limit))).all()
            room = limit - len(new_rows)
            again_rows: list[Any] = []
            if room > 0:
                again_rows = list((await conn.execute(
                    select(*_SUBSCRIPTION_COLUMNS, deliveries.c.pk.label("delivery_pk"),
                           deliveries.c.local_date, deliveries.c.due_at,
                           deliveries.c.claimed_at, deliveries.c.attempts, deliveries.c.state,
                           deliveries.c.claimed_by).select_from(joined).where(
                        chats.c.platform == platform,
                        or_(and_(deliveries.c.state == "retry", deliveries.c.retry_at <= now),
                            and_(deliveries.c.state == "claimed",
                                 deliveries.c.claimed_by != run_id,
                                 deliveries.c.claimed_by.not_in(live))),
                    ).order_by(deliveries.c.claimed_at).limit(room))).all())
        work = [Due(_subscription(r)) for r in new_rows]
        for r in again_rows:
            work.append(Due(
                _subscription(r), Retake(r.delivery_pk, r.local_date,
                                         r.due_at or r.claimed_at, r.attempts, r.state,
                                         r.claimed_by)))
        return work

    async def histories(
        self, wanted: Sequence[tuple[int, dt.date]]
    ) -> dict[int, History]:
        """For each chat: its question cycle, the questions used in it, and the days already
        chosen among `wanted` (chat, local date) pairs."""
        chat_pks = sorted({chat for chat, _ in wanted})
        if not chat_pks:
            return {}
        out = {pk: History() for pk in chat_pks}
        async with self.reader.connect() as conn:
            current = select(chat_days.c.chat_pk, func.max(chat_days.c.cycle).label("cycle")).where(
                chat_days.c.chat_pk.in_(chat_pks)).group_by(chat_days.c.chat_pk).subquery()
            rows = (await conn.execute(select(
                chat_days.c.pk, chat_days.c.chat_pk, chat_days.c.local_date,
                chat_days.c.question_id, chat_days.c.cycle).join(
                current, and_(current.c.chat_pk == chat_days.c.chat_pk,
                              current.c.cycle == chat_days.c.cycle)))).all()
            wanted_set = set(wanted)
            for r in rows:
                history = out[r.chat_pk]
                history.cycle = r.cycle
                history.used.add(r.question_id)
                if (r.chat_pk, r.local_date) in wanted_set:
                    history.days[r.local_date] = ChatDay(r.pk, r.chat_pk, r.local_date,
                                                         r.question_id)
            # A day chosen in an older cycle (rare: /today just before a new cycle began).
            missing = [(c, d) for c, d in wanted if d not in out[c].days]
            if missing:
                old = (await conn.execute(select(chat_days).where(
                    tuple_(chat_days.c.chat_pk, chat_days.c.local_date).in_(missing)))).all()
                for r in old:
                    out[r.chat_pk].days[r.local_date] = ChatDay(r.pk, r.chat_pk, r.local_date,
                                                                r.question_id)
        return out

    # ----- claiming a batch -------------------------------------------------------------------

    async def claim_batch(
        self, claims: Sequence[Claim], retakes: Sequence[Retake], skips: Sequence[Claim],
        run_id: str, now: dt.datetime,
    ) -> ClaimResult:
        """One transaction: claim new runs (once per subscription and local date), choose their
        questions, move each subscription to its next run, take over retakes, record skips.

        Only what this call really claimed comes back; a date someone else claimed first, or a
        retake someone else took, is left out, so nothing is posted twice.
        """
        result = ClaimResult()
        async with self.engine.begin() as conn:
            await self._advance(conn, [*claims, *skips])
            # Executed for many rows at once with one compiled statement; ON CONFLICT keeps a
            # date someone else claimed first as theirs.
            once = self._insert(deliveries).on_conflict_do_nothing(
                index_elements=["subscription_pk", "local_date"])
            if skips:
                await conn.execute(once, [_delivery_row(s, "missed", run_id, now)
                                          for s in skips])
            if claims:
                await conn.execute(once, [_delivery_row(c, "claimed", run_id, now)
                                          for c in claims])
                keys = [(c.subscription.pk, c.local_date) for c in claims]
                mine = (await conn.execute(select(
                    deliveries.c.pk, deliveries.c.subscription_pk, deliveries.c.local_date).where(
                    tuple_(deliveries.c.subscription_pk, deliveries.c.local_date).in_(keys),
                    deliveries.c.claimed_by == run_id, deliveries.c.claimed_at == now,
                    deliveries.c.state == "claimed", deliveries.c.attempts == 1))).all()
                result.claimed = {(r.subscription_pk, r.local_date): r.pk for r in mine}
            for retake in retakes:
                taken = await conn.execute(update(deliveries).where(
                    deliveries.c.pk == retake.delivery_pk, deliveries.c.state == retake.state,
                    deliveries.c.claimed_by == retake.claimed_by).values(
                    state="claimed", claimed_by=run_id, claimed_at=now, retry_at=None,
                    attempts=deliveries.c.attempts + 1))
                if taken.rowcount:
                    result.retaken.add(retake.delivery_pk)
            picks = [c for c in claims if c.question_id and (c.subscription.pk, c.local_date)
                     in result.claimed]
            picks += [c for c in retakes if c.question_id and c.delivery_pk in result.retaken]
            if picks:
                await conn.execute(self._insert(chat_days).on_conflict_do_nothing(
                    index_elements=["chat_pk", "local_date"]), [
                    {"chat_pk": p.chat_pk, "local_date": p.local_date,
                     "question_id": p.question_id, "cycle": p.cycle, "created_at": now}
                    for p in picks])
                rows = (await conn.execute(select(chat_days).where(tuple_(
                    chat_days.c.chat_pk, chat_days.c.local_date).in_(
                    [(p.chat_pk, p.local_date) for p in picks])))).all()
                result.days = {(r.chat_pk, r.local_date): ChatDay(
                    r.pk, r.chat_pk, r.local_date, r.question_id) for r in rows}
        return result

    async def _advance(self, conn: AsyncConnection, runs: Sequence[Claim]) -> None:
        """Move each subscription to its next run, unless someone already moved it (one
        statement executed for the whole batch)."""
        if not runs:
            return
        await conn.execute(_ADVANCE, [
            {"b_pk": r.subscription.pk, "b_old": r.subscription.next_run_at,
             "b_new": r.following} for r in runs])

    # ----- marks ------------------------------------------------------------------------------

    async def write_marks(self, marks: Sequence[Mark]) -> None:
        """Record how posts ended, in one transaction. Only a claim still open is marked, so a
        mark replayed after a restart never overwrites a later outcome."""
        reminder_marks = [m for m in marks if m.kind == "reminder"]
        if reminder_marks:
            await self.write_reminder_marks(reminder_marks)  # type: ignore[attr-defined]
        job_marks = [m for m in marks if m.kind == "job"]
        if job_marks:
            await self.write_job_marks(job_marks)  # type: ignore[attr-defined]
        marks = [m for m in marks if m.kind == "post"]
        if not marks:
            return
        async with self.engine.begin() as conn:
            await conn.execute(_MARK, mark_rows(marks))

    # ----- instances --------------------------------------------------------------------------

    async def heartbeat(self, run_id: str, now: dt.datetime,
                        platforms: Sequence[str] = ()) -> None:
        """Show that this instance is alive (its claims are not to be taken over), and which
        platforms it sends on."""
        joined = f",{','.join(sorted(platforms))}," if platforms else ""
        async with self.engine.begin() as conn:
            done = await conn.execute(update(instances).where(
                instances.c.run_id == run_id).values(seen_at=now, platforms=joined))
            if not done.rowcount:
                await conn.execute(self._insert(instances).values(
                    run_id=run_id, started_at=now, seen_at=now,
                    platforms=joined).on_conflict_do_nothing(index_elements=["run_id"]))

    async def live_instances(self, alive_since: dt.datetime) -> list[frozenset[str]]:
        """The platforms of each instance heard from since `alive_since` (each beats every
        10 s)."""
        async with self.reader.connect() as conn:
            rows = (await conn.execute(select(instances.c.platforms).where(
                instances.c.seen_at >= alive_since))).scalars().all()
        return [frozenset(p for p in str(row).split(",") if p) for row in rows]

    async def end_instance(self, run_id: str) -> None:
        """A clean stop: whatever this instance still holds may be taken over at once."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(instances).where(instances.c.run_id == run_id))

    # ----- timing and size --------------------------------------------------------------------

    async def next_due_at(self, platforms: Sequence[str]) -> dt.datetime | None:
        """The earliest instant any post of these platforms is due (a run or a retry)."""
        if not platforms:
            return None
        async with self.reader.connect() as conn:
            run = await conn.scalar(select(func.min(subscriptions.c.next_run_at)).select_from(
                subscriptions.join(chats)).where(
                subscriptions.c.active.is_(True), chats.c.platform.in_(platforms)))
            retry = await conn.scalar(select(func.min(deliveries.c.retry_at)).select_from(
                deliveries.join(subscriptions).join(chats)).where(
                deliveries.c.state == "retry", chats.c.platform.in_(platforms)))
        reminder = await self.next_reminder_at(platforms)  # type: ignore[attr-defined]
        job = await self.next_job_at(platforms)  # type: ignore[attr-defined]
        found = [t.replace(tzinfo=dt.UTC) for t in (run, retry, reminder, job) if t is not None]
        return min(found) if found else None

    async def due_count(self, now: dt.datetime) -> int:
        """Runs whose time has passed and retries due: what the pipeline has still to do."""
        async with self.reader.connect() as conn:
            runs = await conn.scalar(select(func.count()).select_from(subscriptions).where(
                subscriptions.c.active.is_(True), subscriptions.c.next_run_at <= now))
            retries = await conn.scalar(select(func.count()).select_from(deliveries).where(
                deliveries.c.state == "retry", deliveries.c.retry_at <= now))
        return int(runs or 0) + int(retries or 0)

    async def delivery_state_counts(self) -> dict[str, int]:
        """How many deliveries are in each state (tests, benchmarks, operators' questions)."""
        async with self.reader.connect() as conn:
            rows = (await conn.execute(select(deliveries.c.state, func.count()).group_by(
                deliveries.c.state))).all()
        return {str(state): int(n) for state, n in rows}

    async def prune(self, before: dt.datetime, limit: int = 5000) -> tuple[int, int]:
        """Delete deliveries claimed before `before`, and days chosen before it that nobody
        revealed or graded and that belong to an older question cycle; at most `limit` rows of
        each per call, so one prune never holds the write lock for long."""
        try:
            return await self._prune(before, limit)
        finally:
            # After the commit: a day read before it is not remembered past it.
            self._forget_chat_days()

    async def _prune(self, before: dt.datetime, limit: int) -> tuple[int, int]:
        async with self.engine.begin() as conn:
            old = select(deliveries.c.pk).where(deliveries.c.claimed_at < before).limit(limit)
            gone_deliveries = (await conn.execute(
                delete(deliveries).where(deliveries.c.pk.in_(old)))).rowcount or 0
            # Reminder sends are deliveries too: they go with the same retention.
            old_reminders = select(reminder_sends.c.pk).where(
                reminder_sends.c.claimed_at < before).limit(limit)
            gone_deliveries += (await conn.execute(delete(reminder_sends).where(
                reminder_sends.c.pk.in_(old_reminders)))).rowcount or 0
            same_chat = chat_days.alias("same_chat")
            current = select(func.max(same_chat.c.cycle)).where(
                same_chat.c.chat_pk == chat_days.c.chat_pk).scalar_subquery()
            unused = select(chat_days.c.pk).where(
                chat_days.c.created_at < before,
                chat_days.c.cycle < current,
                ~select(grades.c.chat_day_pk).where(
                    grades.c.chat_day_pk == chat_days.c.pk).exists(),
                ~select(reveals.c.chat_day_pk).where(
                    reveals.c.chat_day_pk == chat_days.c.pk).exists(),
                ~select(study_days.c.chat_day_pk).where(
                    study_days.c.chat_day_pk == chat_days.c.pk).exists(),
            ).limit(limit)
            gone_days = (await conn.execute(
                delete(chat_days).where(chat_days.c.pk.in_(unused)))).rowcount or 0
        return int(gone_deliveries), int(gone_days)


_ADVANCE = update(subscriptions).where(
    subscriptions.c.pk == bindparam("b_pk"),
    subscriptions.c.next_run_at == bindparam("b_old", type_=UTCDateTime)).values(
    next_run_at=bindparam("b_new", type_=UTCDateTime))

def mark_statement(table: Any) -> Any:
    """How a claimed send ended (deliveries, reminder sends): only a claim still open."""
    return update(table).where(
        table.c.pk == bindparam("b_pk"), table.c.state == "claimed").values(
        state=bindparam("b_state"), finished_at=bindparam("b_at", type_=UTCDateTime),
        message_id=bindparam("b_message"), error=bindparam("b_error"),
        retry_at=bindparam("b_retry", type_=UTCDateTime))


async def retake_sends(conn: AsyncConnection, table: Any, retakes: Sequence[SendRetake],
                       run_id: str, now: dt.datetime) -> set[int]:
    """Take over sends to make again (reminder or group sends); only one taker wins each, the
    one that finds it as it was read."""
    retaken: set[int] = set()
    for retake in retakes:
        taken = await conn.execute(update(table).where(
            table.c.pk == retake.send_pk, table.c.state == retake.state,
            table.c.claimed_by == retake.claimed_by).values(
            state="claimed", claimed_by=run_id, claimed_at=now, retry_at=None,
            attempts=table.c.attempts + 1))
        if taken.rowcount:
            retaken.add(retake.send_pk)
    return retaken


def mark_rows(marks: Sequence[Mark]) -> list[dict[str, Any]]:
    return [{"b_pk": m.delivery_pk, "b_state": m.state, "b_at": m.at,
             "b_message": m.message_id[:64], "b_error": m.error[:500], "b_retry": m.retry_at}
            for m in marks]


def claim_row(state: str, run_id: str, now: dt.datetime, due_at: dt.datetime) -> dict[str, Any]:
    """The columns a claimed (or missed) send starts with, deliveries and reminders alike."""
    return {"state": state, "attempts": 1 if state == "claimed" else 0, "claimed_at": now,
            "claimed_by": run_id, "due_at": due_at,
            "finished_at": now if state == "missed" else None, "message_id": "",
            "error": "missed the grace window" if state == "missed" else ""}


_MARK = mark_statement(deliveries)


def _delivery_row(claim: Claim, state: str, run_id: str, now: dt.datetime) -> dict[str, Any]:
    return {"subscription_pk": claim.subscription.pk, "local_date": claim.local_date,
            **claim_row(state, run_id, now, claim.due_at)}

