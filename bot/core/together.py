"""Studying together: the day's answer posted in the group at a set time (/answer), a weekly
digest (/digest) and a leaderboard message that keeps itself up to date (/top). Platform-neutral.

All three are group sends of the push pipeline: claimed in the database before they go out, once
per chat, kind and period, at the platforms' pace. This module plans them and says what they say.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol

from bot.core import schedule, streaks
from bot.core.actions import Action, Kind
from bot.core.events import Command
from bot.core.i18n import t
from bot.core.messages import Button, OutgoingMessage, Response, say
from bot.core.models import Chat, ChatDay, Grade
from bot.core.study import StudyService, _clip, _display, _text
from bot.core.text import bullet, paragraph
from bot.core.together_model import ChatJob, JobClaim, JobKind, JobSend

log = logging.getLogger(__name__)

_OFF = frozenset({"off", "关", "关闭", "stop", "none"})
_ON = frozenset({"on", "开", "开启", "start"})
DIGEST_TOP = 3  # streaks named in a digest


class TogetherStore(Protocol):
    async def set_job(self, chat_pk: int, kind: JobKind, local_time: dt.time | None,
                      next_run_at: dt.datetime | None, now: dt.datetime) -> None: ...

    async def get_job(self, chat_pk: int, kind: JobKind) -> ChatJob | None: ...

    async def set_board(self, chat_pk: int, message_id: str, week: str,
                        now: dt.datetime) -> None: ...

    async def board_changed(self, chat_pk: int, now: dt.datetime) -> bool: ...

    async def day_post(self, chat_pk: int, local_date: dt.date) -> str: ...

    async def chat_day(self, chat_pk: int, local_date: dt.date) -> ChatDay | None: ...

    async def get_subscription(self, chat_pk: int) -> Any: ...

    async def week_grades(self, chat_pk: int, start: dt.date,
                          end: dt.date) -> list[tuple[ChatDay, dict[str, int]]]: ...

    async def chat_members_days(self, chat_pk: int) -> Any: ...


class TogetherService:
    def __init__(self, study: StudyService, store: TogetherStore) -> None:
        self.study = study
        self.store = store
        self.clock = study.clock
        self.rollover_hour = study.config.rollover_hour

    def register(self) -> None:
        """Answer /answer and /digest, follow grades for the board, carry the group sends."""
        self.study.add_command("answer", self.answer_command)
        self.study.add_command("digest", self.digest_command)
        self.study.help_keys += ["help_answer", "help_digest"]
        self.study.grade_hooks.append(self._graded)
        self.study.board_hooks.append(self._board_touched)
        self.study.remember_hooks["board"] = self._board_from_command
        self.study.push.jobs = self

    # ----- /answer HH:MM|off ------------------------------------------------------------------

    async def answer_command(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        if not command.args:
            job = await self.store.get_job(chat.pk, JobKind.ANSWER)
            if job is None or job.next_run_at is None or job.local_time is None:
                return say(_text(t(lang, "answer_none")))
            return say(_text(t(lang, "answer_show", time=job.local_time.strftime("%H:%M"),
                               zone=chat.timezone)))
        if not command.actor.is_admin:
            return say(_text(t(lang, "admins_only")))
        if len(command.args) > 1:
            return say(_text(t(lang, "answer_usage")))
        now = self.clock.now()
        if command.args[0].strip().casefold() in _OFF:
            await self.store.set_job(chat.pk, JobKind.ANSWER, None, None, now)
            return say(_text(t(lang, "answer_off")))
        at = schedule.parse_time(command.args[0])
        if at is None:
            return say(_text(t(lang, "bad_time_usage", value=_clip(command.args[0], 40),
                               usage=t(lang, "answer_usage"))))
        next_at = schedule.next_run(at, chat.timezone, now)
        await self.store.set_job(chat.pk, JobKind.ANSWER, at, next_at, now)
        self.study.push.wake()
        lines = [t(lang, "answer_set", time=at.strftime("%H:%M"), zone=chat.timezone,
                   when=self.study._when(next_at, chat.timezone, now, lang))]
        if await self.store.get_subscription(chat.pk) is None:
            lines.append(t(lang, "answer_needs_subscription"))
        return say(OutgoingMessage(blocks=tuple(paragraph(line) for line in lines)))

    # ----- /digest on|off ---------------------------------------------------------------------

    async def digest_command(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        if not command.args:
            job = await self.store.get_job(chat.pk, JobKind.DIGEST)
            on = job is not None and job.next_run_at is not None
            return say(_text(t(lang, "digest_is_on" if on else "digest_is_off")))
        if not command.actor.is_admin:
            return say(_text(t(lang, "admins_only")))
        choice = command.args[0].strip().casefold()
        if len(command.args) > 1 or choice not in _ON | _OFF:
            return say(_text(t(lang, "digest_usage")))
        now = self.clock.now()
        if choice in _OFF:
            await self.store.set_job(chat.pk, JobKind.DIGEST, None, None, now)
            return say(_text(t(lang, "digest_off")))
        first = self.next_digest(chat.timezone, now)
        await self.store.set_job(chat.pk, JobKind.DIGEST, None, first, now)
        self.study.push.wake()
        return say(_text(t(lang, "digest_on", when=self.study._when(first, chat.timezone, now,
                                                                     lang))))

    def next_digest(self, zone: str, after: dt.datetime) -> dt.datetime:
        """Monday at the rollover hour, local time: the first strictly after `after`."""
        at = dt.time(self.rollover_hour, 0)
        run = schedule.next_run(at, zone, after)
        for _ in range(8):
            if schedule.local_date_of_run(run, zone).weekday() == 0:
                return run
            run = schedule.next_run(at, zone, run)
        raise AssertionError("a Monday comes within eight days")

    # ----- the live leaderboard ---------------------------------------------------------------

    def week_of(self, chat: Chat, now: dt.datetime) -> str:
        """The study week `now` falls in, named by its Monday (the chat's zone and rollover)."""
        today = streaks.study_day(now, chat.timezone, self.rollover_hour)
        return (today - dt.timedelta(days=today.weekday())).isoformat()

    async def _board_from_command(self, chat: Chat, message_id: str) -> None:
        await self.store.set_board(chat.pk, message_id, self.week_of(chat, self.clock.now()),
                                   self.clock.now())

    async def _graded(self, actor: Any, user_pk: int, day: ChatDay, grade: Grade,
                      origin: Chat) -> None:
        await self._board_touched(origin)

    async def _board_touched(self, chat: Chat) -> None:
        if await self.store.board_changed(chat.pk, self.clock.now()):
            self.study.push.wake()

    async def board_posted(self, job: ChatJob, message_id: str, week: str,
                           now: dt.datetime) -> None:
        await self.store.set_board(job.chat.pk, message_id, week, now)

    # ----- the pipeline's questions -----------------------------------------------------------

    def plan(self, job: ChatJob, now: dt.datetime) -> JobClaim:
        assert job.next_run_at is not None
        zone = job.chat.timezone
        due = job.next_run_at
        if job.kind is JobKind.BOARD:
            # One edit per minute at most, so the minute names the send.
            return JobClaim(job, due.strftime("e%Y%m%dT%H%M"), due, None, late_ok=True)
        if job.kind is JobKind.DIGEST:
            summarized = schedule.local_date_of_run(due, zone) - dt.timedelta(days=7)
            monday = summarized - dt.timedelta(days=summarized.weekday())
            return JobClaim(job, monday.isoformat(), due,
                            self.next_digest(zone, max(now, due)))
        assert job.local_time is not None
        return JobClaim(job, schedule.local_date_of_run(due, zone).isoformat(), due,
                        schedule.next_run(job.local_time, zone, max(now, due)))

    async def job_send(self, job: ChatJob, period: str, now: dt.datetime) -> JobSend | None:
        if job.kind is JobKind.BOARD:
            week = self.week_of(job.chat, now)
            board = await self.study.leaderboard(job.chat)
            if job.message_id and job.period == week:
                return JobSend(board, edit=job.message_id, board_week=week)
            return JobSend(board, board_week=week)  # a new week starts a new message
        if job.kind is JobKind.DIGEST:
            return await self._digest(job.chat, dt.date.fromisoformat(period))
        return await self._answer_post(job.chat, dt.date.fromisoformat(period))

    async def _answer_post(self, chat: Chat, local_date: dt.date) -> JobSend | None:
        """The day's answer as a reply to the day's question; None when none was posted."""
        day = await self.store.chat_day(chat.pk, local_date)
        question = self.study.bank.get(day.question_id) if day else None
        post = await self.store.day_post(chat.pk, local_date) if day else ""
        if day is None or not post:
            return None
        if question is None:
            log.warning("the answer of chat %s for %s is gone from the bank; not posted",
                        chat.pk, local_date)
            return None
        lang = chat.language
        title = question.localized(lang)[0]
        message = OutgoingMessage(
            title=t(lang, "answer_post_title", title=title),
            blocks=(*self.study.answer_blocks(question, lang), paragraph(t(lang, "answer_talk"))),
            buttons=(self.study.grade_row(day, lang),))
        return JobSend(message, reply_to=post)

    async def _digest(self, chat: Chat, monday: dt.date) -> JobSend | None:
        """Last week in one post; None for a week without questions."""
        lang = chat.language
        week = await self.store.week_grades(chat.pk, monday, monday + dt.timedelta(days=7))
        if not week:
            return None
        blocks = []
        buttons: list[Button] = []
        hardest: tuple[float, str] | None = None
        for i, (day, counts) in enumerate(week, start=1):
            question = self.study.bank.get(day.question_id)
            title = question.localized(lang)[0] if question else day.question_id
            graded = sum(counts.values())
            if graded:
                shares = {g: round(100 * counts.get(g.value, 0) / graded) for g in Grade}
                blocks.append(bullet(t(lang, "digest_row", i=i, title=title, n=graded,
                                       knew=shares[Grade.KNEW], partly=shares[Grade.PARTLY],
                                       not_yet=shares[Grade.NOT_YET])))
                missed = counts.get(Grade.NOT_YET.value, 0) / graded
                if missed and (hardest is None or missed > hardest[0]):
                    hardest = (missed, title)
            else:
                blocks.append(bullet(t(lang, "digest_row_ungraded", i=i, title=title)))
            if question is not None:
                buttons.append(Button(t(lang, "btn_digest_reveal", i=i),
                                      self.study.codec.encode(Action(Kind.REVEAL, day.pk))))
        if hardest is not None:
            blocks.append(paragraph(t(lang, "digest_hardest", title=hardest[1],
                                      pct=round(100 * hardest[0]))))
        today = streaks.study_day(self.clock.now(), chat.timezone, self.rollover_hour)
        leaders = sorted(((streaks.compute(days, today).current,
                           _display(user.display_name or user.user_id))
                          for user, days in await self.store.chat_members_days(chat.pk)),
                         key=lambda row: (-row[0], row[1]))
        named = [t(lang, "digest_streak", name=name, n=n) for n, name in leaders if n][:DIGEST_TOP]
        if named:
            blocks.append(paragraph(t(lang, "digest_streaks", names=" · ".join(named))))
        blocks.append(paragraph(t(lang, "digest_reveal_hint")))
        rows = tuple(tuple(buttons[i:i + 4]) for i in range(0, len(buttons), 4))
        end = monday + dt.timedelta(days=6)
        return JobSend(OutgoingMessage(
            title=t(lang, "digest_title", start=monday.isoformat(), end=end.isoformat()),
            blocks=tuple(blocks), buttons=rows))
