"""Your own day: `/tz` sets the user's zone, `/remind HH:MM` an opt-in daily reminder in the
private chat. Reminders are scheduled sends of the push pipeline (claimed in the database
before sending, at most one per user and local date); this module decides what one says, or
that there is nothing to say.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.core import schedule, streaks
from bot.core.events import Actor, Command
from bot.core.i18n import t
from bot.core.messages import OutgoingMessage, Response, say
from bot.core.models import Chat, ChatDay, ChatKind, Subscription, UserRef
from bot.core.review import ReviewService, wait_text
from bot.core.review_model import Reminder
from bot.core.study import _clip, _text
from bot.core.text import paragraph

log = logging.getLogger(__name__)

_OFF = frozenset({"off", "关", "关闭", "stop", "none"})


class ReminderStore(Protocol):
    async def ensure_user(self, user: Any) -> int: ...

    async def user_zone(self, user_pk: int) -> str | None: ...

    async def set_user_zone(self, user_pk: int, zone: str) -> None: ...

    async def remember_private_chat(self, user_pk: int, chat_pk: int,
                                    now: dt.datetime) -> None: ...

    async def set_reminder(self, user_pk: int, chat_pk: int, local_time: dt.time | None,
                           next_run_at: dt.datetime | None, now: dt.datetime) -> None: ...

    async def get_reminder(self, user_pk: int) -> Reminder | None: ...

    async def reminder_paused(self, user_pk: int) -> str: ...

    async def paused_reminder_of(self, user: UserRef) -> int | None: ...

    async def resume_reminder(self, user_pk: int, next_run_at: dt.datetime) -> None: ...

    async def user_groups(self, user_pk: int) -> list[Chat]: ...

    async def chat_day(self, chat_pk: int, local_date: dt.date) -> ChatDay | None: ...

    async def study_days(self, chat_pk: int, user_pk: int) -> tuple[dt.date, ...]: ...

    async def get_subscription(self, chat_pk: int) -> Subscription | None: ...

    async def subscribe(self, chat_pk: int, local_time: dt.time, timezone: str,
                        next_run_at: dt.datetime) -> Subscription: ...


class Waker(Protocol):
    def wake(self) -> None: ...


class ReminderService:
    def __init__(self, review: ReviewService, store: ReminderStore, push: Waker) -> None:
        self.review = review
        self.store = store
        self.push = push
        self.clock = review.study.clock
        self.rollover_hour: int = review.study.config.rollover_hour

    # ----- /tz --------------------------------------------------------------------------------

    async def tz_command(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        actor = command.actor
        user_pk = await self.store.ensure_user(actor.user)
        now = self.clock.now()
        if actor.chat_kind is ChatKind.PRIVATE:
            await self.store.remember_private_chat(user_pk, chat.pk, now)
        if not command.args:
            own = await self.store.user_zone(user_pk)
            if own is None:
                return say(_text(t(lang, "tz_unset", zone=chat.timezone)))
            return say(_text(t(lang, "tz_show", zone=own)))
        zone = schedule.canonical_zone(command.args[0])
        if zone is None or len(command.args) > 1:
            return say(_text(t(lang, "bad_zone", value=_clip(" ".join(command.args), 40))))
        await self.store.set_user_zone(user_pk, zone)
        if actor.chat_kind is ChatKind.PRIVATE:
            # The private chat is the user's own: its daily push follows their zone too.
            sub = await self.store.get_subscription(chat.pk)
            if sub is not None and sub.active:
                await self.store.subscribe(chat.pk, sub.local_time, zone,
                                           schedule.next_run(sub.local_time, zone, now))
        reminder = await self.store.get_reminder(user_pk)
        if reminder is not None and not await self.store.reminder_paused(user_pk):
            await self.store.set_reminder(user_pk, reminder.chat.pk, reminder.local_time,
                                          schedule.next_run(reminder.local_time, zone, now), now)
        self.push.wake()
        return say(_text(t(lang, "tz_set", zone=zone)))

    # ----- /remind ----------------------------------------------------------------------------

    async def remind_command(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        actor = command.actor
        if actor.chat_kind is not ChatKind.PRIVATE:
            return Response(private=(_text(t(lang, "remind_in_private")),))
        user_pk = await self.store.ensure_user(actor.user)
        now = self.clock.now()
        if not command.args:
            reminder = await self.store.get_reminder(user_pk)
            if reminder is None:
                return say(_text(t(lang, "remind_none")))
            return say(_text(t(lang, "remind_show", time=f"{reminder.local_time:%H:%M}",
                               zone=reminder.timezone)))
        if len(command.args) == 1 and command.args[0].strip().lower() in _OFF:
            await self.store.set_reminder(user_pk, chat.pk, None, None, now)
            return say(_text(t(lang, "remind_off")))
        at = schedule.parse_time(command.args[0]) if len(command.args) == 1 else None
        if at is None:
            return say(_text(t(lang, "remind_usage")))
        zone = await self.review.zone_of(user_pk, chat)
        next_at = schedule.next_run(at, zone, now)
        await self.store.set_reminder(user_pk, chat.pk, at, next_at, now)
        self.push.wake()
        local = next_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        return say(_text(t(lang, "remind_set", time=f"{at:%H:%M}", zone=zone, when=local)))

    # ----- a user who blocked the bot writes again --------------------------------------------

    async def on_private(self, actor: Actor) -> None:
        """The user wrote to the bot in private: a reminder paused because the bot could not
        reach them (blocked) runs again."""
        user_pk = await self.store.paused_reminder_of(actor.user)
        if user_pk is None:
            return
        reminder = await self.store.get_reminder(user_pk)
        if reminder is not None:
            now = self.clock.now()
            await self.store.resume_reminder(
                user_pk, schedule.next_run(reminder.local_time, reminder.timezone, now))
            self.push.wake()
            log.info("reminders of user %s resumed: they wrote to the bot", user_pk)

    # ----- what a reminder says ---------------------------------------------------------------

    async def reminder_message(self, reminder: Reminder,
                               now: dt.datetime) -> OutgoingMessage | None:
        """The reminder's text, or None when nothing waits: no card due (within today's limit)
        and no question of the day left ungraded in the user's groups."""
        lang = reminder.chat.language
        parts: list[str] = []
        due = await self.review.due(reminder.user_pk, reminder.timezone, now)
        today = self.review.today(reminder.timezone, now)
        if due and await self.review.left_today(reminder.user_pk, today):
            parts.append(t(lang, "review_due", n=len(due)))
        for group in await self.store.user_groups(reminder.user_pk):
            line = await self._group_line(reminder.user_pk, group, now, lang)
            if line:
                parts.append(line)
        if not parts:
            return None
        return OutgoingMessage(title=t(lang, "remind_title"),
                               blocks=(paragraph(" · ".join(parts)),
                                       paragraph(t(lang, "remind_hint"))))

    async def _group_line(self, user_pk: int, group: Chat, now: dt.datetime,
                          lang: str) -> str:
        """"your streak of 12 days in the group ends in 3 h" when today's question there is
        posted and not graded yet; "" otherwise."""
        zone = group.timezone
        # The group's study day, not the calendar's: at 01:00 yesterday's question still counts.
        today = streaks.study_day(now, zone, self.rollover_hour)
        if await self.store.chat_day(group.pk, today) is None:
            return ""  # no question there today (yet)
        days = await self.store.study_days(group.pk, user_pk)
        if today in days:
            return ""
        left = wait_text(streaks.day_ends_at(today, zone, self.rollover_hour) - now, lang)
        status = streaks.compute(days, today)
        name = group.title or t(lang, "remind_a_group")
        if status.current:
            return t(lang, "remind_streak", n=status.current, left=left, group=name)
        return t(lang, "remind_question", left=left, group=name)

