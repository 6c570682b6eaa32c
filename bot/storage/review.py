"""The store side of the review loop: FSRS cards, users' zones, reminders and their sends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert

from bot.core.models import Chat, UserRef
from bot.core.push_model import Mark, SendRetake
from bot.core.review_model import (
    LedgerDay,
    Reminder,
    ReminderClaim,
    ReminderDue,
    ReviewCard,
)
from bot.storage.point import Reads
from bot.storage.push import claim_row, mark_rows, mark_statement, retake_sends
from bot.storage.schema import (
    UTCDateTime,
    chats,
    instances,
    reminder_sends,
    reminders,
    review_cards,
    study_days,
    subscriptions,
    users,
)


class ReviewStoreMixin:
    """Mixed into SqlStore; uses its engines and dialect-aware insert."""

    engine: AsyncEngine
    reader: AsyncEngine
    point: Reads
    _insert: Callable[[Any], Insert]
    _forget_member_days: Callable[[int | None, int], None]

    # ----- cards ------------------------------------------------------------------------------

    async def get_card(self, user_pk: int, question_id: str) -> ReviewCard | None:
        async with self.point.connect() as conn:
            row = (await conn.execute(select(review_cards).where(
                review_cards.c.user_pk == user_pk,
                review_cards.c.question_id == question_id))).one_or_none()
        return _card(row) if row else None

    async def get_card_by_pk(self, card_pk: int) -> ReviewCard | None:
        async with self.point.connect() as conn:
            row = (await conn.execute(select(review_cards).where(
                review_cards.c.pk == card_pk))).one_or_none()
        return _card(row) if row else None

    async def put_card(self, user_pk: int, question_id: str, values: Mapping[str, Any],
                       now: dt.datetime, ledger: LedgerDay | None = None) -> ReviewCard:
        """Create or replace the user's card for a question (FSRS fields and review marks), and
        count the `ledger` study day with it (once) in the same transaction."""
        async with self.engine.begin() as conn:
            await conn.execute(self.card_upsert(user_pk, question_id, values, now))
            if ledger is not None:
                await conn.execute(self._insert(study_days).values(
                    chat_pk=ledger.chat_pk, user_pk=user_pk, day=ledger.day, counted_at=now,
                    zone=ledger.zone, chat_day_pk=ledger.chat_day_pk).on_conflict_do_nothing(
                    index_elements=["chat_pk", "user_pk", "day"]))
            row = (await conn.execute(select(review_cards).where(
                review_cards.c.user_pk == user_pk,
                review_cards.c.question_id == question_id))).one()
        if ledger is not None:
            self._forget_member_days(ledger.chat_pk, user_pk)
        return _card(row)

    def card_upsert(self, user_pk: int, question_id: str, values: Mapping[str, Any],
                    now: dt.datetime) -> Any:
        """The statement that creates or replaces a user's card for a question."""
        stmt = self._insert(review_cards).values(
            user_pk=user_pk, question_id=question_id, created_at=now, **values)
        return stmt.on_conflict_do_update(index_elements=["user_pk", "question_id"],
                                          set_=dict(values))

    async def cards_due(self, user_pk: int, until: dt.datetime, limit: int) -> list[ReviewCard]:
        """The user's cards due by `until`, earliest first (served by ix_review_cards_due)."""
        async with self.point.connect() as conn:
            rows = (await conn.execute(select(review_cards).where(
                review_cards.c.user_pk == user_pk, review_cards.c.due <= until).order_by(
                review_cards.c.due, review_cards.c.pk).limit(limit))).all()
        return [_card(r) for r in rows]

    async def cards_after(self, user_pk: int, after: dt.datetime,
                          limit: int) -> list[ReviewCard]:
        """The user's next cards due after `after`, earliest first."""
        async with self.point.connect() as conn:
            rows = (await conn.execute(select(review_cards).where(
                review_cards.c.user_pk == user_pk, review_cards.c.due > after).order_by(
                review_cards.c.due, review_cards.c.pk).limit(limit))).all()
        return [_card(r) for r in rows]

    async def reviews_on(self, user_pk: int, day: dt.date) -> int:
        """Cards the user graded in review sessions on their study day `day`."""
        async with self.point.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(review_cards).where(
                review_cards.c.user_pk == user_pk, review_cards.c.review_day == day,
                review_cards.c.source == "review"))
        return int(count or 0)

    # ----- the user's own zone ----------------------------------------------------------------

    async def user_zone(self, user_pk: int) -> str | None:
        async with self.point.connect() as conn:
            return await conn.scalar(select(users.c.timezone).where(users.c.pk == user_pk))

    async def set_user_zone(self, user_pk: int, zone: str) -> None:
        """The user's zone; their private chat (when known) follows it."""
        async with self.engine.begin() as conn:
            await conn.execute(update(users).where(users.c.pk == user_pk).values(timezone=zone))
            await conn.execute(update(chats).where(chats.c.pk.in_(select(
                reminders.c.chat_pk).where(reminders.c.user_pk == user_pk))).values(
                timezone=zone))

    async def user_groups(self, user_pk: int) -> list[Chat]:
        """Groups with an active daily push where the user has counted a study day."""
        from bot.storage.sql import _chat

        async with self.point.connect() as conn:
            rows = (await conn.execute(select(chats).where(
                chats.c.kind != "private",
                chats.c.pk.in_(select(study_days.c.chat_pk).where(
                    study_days.c.user_pk == user_pk).distinct()),
                chats.c.pk.in_(select(subscriptions.c.chat_pk).where(
                    subscriptions.c.active.is_(True)))).order_by(chats.c.pk).limit(20))).all()
        return [_chat(r) for r in rows]

    # ----- reminders --------------------------------------------------------------------------

    async def remember_private_chat(self, user_pk: int, chat_pk: int, now: dt.datetime) -> None:
        """Note the user's private chat (reminders go there; /tz keeps its zone in step)."""
        async with self.engine.begin() as conn:
            await conn.execute(self._insert(reminders).values(
                user_pk=user_pk, chat_pk=chat_pk, local_time=None, active=False,
                next_run_at=None, updated_at=now).on_conflict_do_update(
                index_elements=["user_pk"], set_={"chat_pk": chat_pk},
                where=reminders.c.chat_pk != chat_pk))

    async def set_reminder(self, user_pk: int, chat_pk: int, local_time: dt.time | None,
                           next_run_at: dt.datetime | None, now: dt.datetime) -> None:
        """Turn the user's reminder on at a local time, or off (None)."""
        values = {"chat_pk": chat_pk, "active": local_time is not None, "paused_reason": "",
                  "local_time": local_time.strftime("%H:%M") if local_time else None,
                  "next_run_at": next_run_at, "updated_at": now}
        async with self.engine.begin() as conn:
            await conn.execute(self._insert(reminders).values(
                user_pk=user_pk, **values).on_conflict_do_update(
                index_elements=["user_pk"], set_=values))

    async def get_reminder(self, user_pk: int) -> Reminder | None:
        """The user's reminder when it is set (active or paused)."""
        async with self.point.connect() as conn:
            row = (await conn.execute(_REMINDER_QUERY.where(
                reminders.c.user_pk == user_pk, reminders.c.local_time.is_not(None)))
                ).one_or_none()
        return _reminder(row) if row else None

    async def reminder_paused(self, user_pk: int) -> str:
        """Why the user's reminder is paused ("" when it is not)."""
        async with self.point.connect() as conn:
            reason = await conn.scalar(select(reminders.c.paused_reason).where(
                reminders.c.user_pk == user_pk, reminders.c.active.is_(False),
                reminders.c.local_time.is_not(None)))
        return reason or ""

    async def paused_reminder_of(self, user: UserRef) -> int | None:
        """The user's pk when their reminder is paused because they could not be reached; a
        read only, as it runs for every private message."""
        async with self.point.connect() as conn:
            return await conn.scalar(select(reminders.c.user_pk).select_from(reminders.join(
                users, reminders.c.user_pk == users.c.pk)).where(
                users.c.platform == user.platform, users.c.user_id == user.user_id,
                reminders.c.active.is_(False), reminders.c.local_time.is_not(None),
                reminders.c.paused_reason.like("gone%")))

    async def resume_reminder(self, user_pk: int, next_run_at: dt.datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(reminders).where(
                reminders.c.user_pk == user_pk, reminders.c.local_time.is_not(None)).values(
                active=True, paused_reason="", next_run_at=next_run_at))

    async def pause_reminder(self, user_pk: int, reason: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(reminders).where(reminders.c.user_pk == user_pk).values(
                active=False, paused_reason=reason[:500]))

    async def due_reminders(
        self, platform: str, now: dt.datetime, limit: int, run_id: str,
        alive_since: dt.datetime,
    ) -> list[ReminderDue]:
        """Reminders whose time has come on one platform (served by ix_reminders_due), then
        sends to make again: retries whose time has come and claims of dead instances."""
        live = select(instances.c.run_id).where(instances.c.seen_at >= alive_since)
        async with self.reader.connect() as conn:
            rows = (await conn.execute(due_reminders_query(platform, now, limit))).all()
            work = [ReminderDue(_reminder(r)) for r in rows]
            room = limit - len(work)
            if room > 0:
                again = (await conn.execute(_REMINDER_QUERY.add_columns(
                    reminder_sends.c.pk.label("send_pk"), reminder_sends.c.local_date,
                    reminder_sends.c.due_at, reminder_sends.c.attempts, reminder_sends.c.state,
                    reminder_sends.c.claimed_by).join(
                    reminder_sends, reminder_sends.c.user_pk == reminders.c.user_pk).where(
                    reminders.c.local_time.is_not(None), chats.c.platform == platform,
                    or_(and_(reminder_sends.c.state == "retry", reminder_sends.c.retry_at <= now),
                        and_(reminder_sends.c.state == "claimed",
                             reminder_sends.c.claimed_by != run_id,
                             reminder_sends.c.claimed_by.not_in(live)))).order_by(
                    reminder_sends.c.claimed_at).limit(room))).all()
                work += [ReminderDue(_reminder(r), SendRetake(
                    r.send_pk, r.local_date.isoformat(), r.due_at, r.attempts, r.state,
                    r.claimed_by))
                    for r in again]
        return work

    async def claim_reminders(
        self, claims: Sequence[ReminderClaim], retakes: Sequence[SendRetake],
        skips: Sequence[ReminderClaim], run_id: str, now: dt.datetime,
    ) -> tuple[dict[int, int], set[int]]:
        """One transaction: claim each reminder's send for its local date (once per user and
        date), move each reminder to its next run, take over retakes. Returns what this call
        really claimed ({user pk: send pk}) and the retakes it won."""
        async with self.engine.begin() as conn:
            runs = [*claims, *skips]
            if runs:
                await conn.execute(_ADVANCE_REMINDER, [
                    {"b_user": c.reminder.user_pk, "b_old": c.reminder.next_run_at,
                     "b_new": c.following} for c in runs])
            once = self._insert(reminder_sends).on_conflict_do_nothing(
                index_elements=["user_pk", "local_date"])
            if skips:
                await conn.execute(once, [_send_row(s, "missed", run_id, now) for s in skips])
            claimed: dict[int, int] = {}
            if claims:
                await conn.execute(once, [_send_row(c, "claimed", run_id, now) for c in claims])
                mine = (await conn.execute(select(
                    reminder_sends.c.pk, reminder_sends.c.user_pk).where(
                    tuple_(reminder_sends.c.user_pk, reminder_sends.c.local_date).in_(
                        [(c.reminder.user_pk, c.local_date) for c in claims]),
                    reminder_sends.c.claimed_by == run_id, reminder_sends.c.claimed_at == now,
                    reminder_sends.c.state == "claimed", reminder_sends.c.attempts == 1))).all()
                claimed = {r.user_pk: r.pk for r in mine}
            retaken = await retake_sends(conn, reminder_sends, retakes, run_id, now)
        return claimed, retaken

    async def write_reminder_marks(self, marks: Sequence[Mark]) -> None:
        """How reminder sends ended; only a claim still open is marked."""
        if not marks:
            return
        async with self.engine.begin() as conn:
            await conn.execute(_MARK_REMINDER, mark_rows(marks))

    async def next_reminder_at(self, platforms: Sequence[str]) -> dt.datetime | None:
        """The earliest reminder run or retry of these platforms."""
        async with self.reader.connect() as conn:
            run = await conn.scalar(earliest_reminder_query(platforms))
            retry = await conn.scalar(select(func.min(reminder_sends.c.retry_at)).where(
                reminder_sends.c.state == "retry"))
        found = [t for t in (run, retry) if t is not None]
        return min(found).replace(tzinfo=dt.UTC) if found else None

    async def reminder_send_states(self, user_pk: int) -> dict[dt.date, str]:
        """How each of the user's reminder sends ended (tests, operators' questions)."""
        async with self.point.connect() as conn:
            rows = (await conn.execute(select(reminder_sends.c.local_date,
                                              reminder_sends.c.state).where(
                reminder_sends.c.user_pk == user_pk))).all()
        return {r.local_date: r.state for r in rows}


_REMINDER_QUERY = select(
    reminders.c.user_pk, reminders.c.local_time, reminders.c.next_run_at,
    users.c.timezone.label("user_zone"), chats.c.pk, chats.c.platform, chats.c.chat_id,
    chats.c.thread_id, chats.c.kind, chats.c.language, chats.c.timezone, chats.c.packs,
    chats.c.tags, chats.c.title).select_from(reminders.join(
        chats, reminders.c.chat_pk == chats.c.pk).join(users, reminders.c.user_pk == users.c.pk))

def due_reminders_query(platform: str, now: dt.datetime, limit: int) -> Any:
    """Reminders whose time has come on a platform, earliest first: the scan every tick makes,
    served by ix_reminders_due (active, next_run_at) whatever the number of users."""
    return _REMINDER_QUERY.where(
        reminders.c.active.is_(True), reminders.c.next_run_at <= now,
        chats.c.platform == platform).order_by(reminders.c.next_run_at).limit(limit)


def earliest_reminder_query(platforms: Sequence[str]) -> Any:
    """The next reminder run of these platforms. Walks ix_reminders_due in order and stops at
    the first row of a wanted platform, where MIN() over the join would read every reminder."""
    return select(reminders.c.next_run_at).select_from(
        reminders.join(chats, reminders.c.chat_pk == chats.c.pk)).where(
        reminders.c.active.is_(True), reminders.c.next_run_at.is_not(None),
        chats.c.platform.in_(platforms)).order_by(reminders.c.next_run_at).limit(1)


_ADVANCE_REMINDER = update(reminders).where(
    reminders.c.user_pk == bindparam("b_user"),
    reminders.c.next_run_at == bindparam("b_old", type_=UTCDateTime)).values(
    next_run_at=bindparam("b_new", type_=UTCDateTime))

_MARK_REMINDER = mark_statement(reminder_sends)


def _card(row: Any) -> ReviewCard:
    return ReviewCard(
        pk=row.pk, user_pk=row.user_pk, question_id=row.question_id, state=row.state,
        step=row.step, stability=row.stability, difficulty=row.difficulty, due=row.due,
        last_review=row.last_review, reps=row.reps, review_day=row.review_day,
        source=row.source, prior=row.prior, chat_day_pk=row.chat_day_pk)


def _reminder(row: Any) -> Reminder:
    from bot.storage.sql import _chat

    hours, minutes = row.local_time.split(":")
    return Reminder(user_pk=row.user_pk, chat=_chat(row),
                    local_time=dt.time(int(hours), int(minutes)),
                    timezone=row.user_zone or row.timezone, next_run_at=row.next_run_at)


def _send_row(claim: ReminderClaim, state: str, run_id: str,
              now: dt.datetime) -> dict[str, Any]:
    return {"user_pk": claim.reminder.user_pk, "local_date": claim.local_date,
            **claim_row(state, run_id, now, claim.due_at)}
