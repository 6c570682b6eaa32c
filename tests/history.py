"""Study histories made through the core, the way members make them: /today, then a grade."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from bot.core.events import Actor, ButtonPress, Command
from bot.core.models import ChatKind, ChatRef, Grade, Question, UserRef
from bot.core.study import StudyService
from tests.fakes import FakeClock

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


async def study_on(service: StudyService, clock: FakeClock, actor: Actor,
                   days: Iterable[dt.date],
                   grade: Grade | Callable[[Question], Grade] = Grade.KNEW) -> None:
    """On each day (10:00 in Shanghai) the actor opens today's question and grades it, with
    `grade` or the grade it gives for that question.

    The clock is left at the last day's 10:00."""
    for day in days:
        clock.set(dt.datetime.combine(day, dt.time(10), SHANGHAI).astimezone(dt.UTC))
        response = await service.handle_command(Command(actor, "today"))
        [post] = response.public
        grades = {g: b.payload for g, b in zip(Grade, post.buttons[-1], strict=True)}
        chat = await service.store.get_chat(actor.chat)
        assert chat is not None
        posted = await service.question_of_day(chat, day)
        question = service.bank.get(posted.question_id) if posted else None
        assert question is not None
        given = grade if isinstance(grade, Grade) else grade(question)
        press = await service.handle_button(ButtonPress(actor, grades[given]))
        assert press.toast, "the grade was not taken"


def days_back(today: dt.date, *offsets: int) -> list[dt.date]:
    """The days `offsets` days before `today`, oldest first."""
    return sorted(today - dt.timedelta(days=n) for n in offsets)


def group_member(platform: str, chat_id: object, user_id: object, name: str) -> Actor:
    """A plain member of a group on a platform, as its adapter would name them."""
    return Actor(ChatRef(platform, str(chat_id)), ChatKind.GROUP,
                 UserRef(platform, str(user_id), name), False)
