"""Progress: /stats, a member's study calendar (a picture) and grades by tag, and /stats group,
a chat's week. Platform-neutral; the picture is drawn by bot.pictures in a thread of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from babel.dates import format_date, format_skeleton, get_day_names

from bot.core import streaks
from bot.core.events import Command
from bot.core.i18n import t
from bot.core.messages import Attachment, OutgoingMessage, Response, say
from bot.core.models import Chat, ChatKind, Grade, UserRef
from bot.core.ports import Clock, QuestionBank
from bot.core.study import StudyService, _display, _text
from bot.core.text import Block, card, paragraph
from bot.pictures import heatmap, shares

WEEKS = 26
YEAR_WEEKS = 52
MAX_TAGS = 8  # tag rows listed; the rest are counted, so a caption stays short
MAX_TITLE = 40  # characters of a question's title in a row of the week
ACTIVE_WINDOW = 30  # days looked back for a chat's days with activity
# Weight of each grade in a share score: a tag or question is weaker the lower its score.
_SCORE = {Grade.KNEW: 1.0, Grade.PARTLY: 0.5, Grade.NOT_YET: 0.0}

Drawer = Callable[[heatmap.Heatmap], bytes]
ChartDrawer = Callable[[shares.WeekShares], bytes]
Spec = TypeVar("Spec")


class ProgressStore(Protocol):
    async def ensure_user(self, user: UserRef) -> int: ...

    async def study_days(self, chat_pk: int, user_pk: int) -> tuple[dt.date, ...]: ...

    async def user_study_days(self, user_pk: int) -> tuple[dt.date, ...]: ...

    async def user_grades(self, user_pk: int,
                          chat_pk: int | None = None) -> Sequence[tuple[str, Grade]]: ...

    async def chat_questions_since(
        self, chat_pk: int, since: dt.date
    ) -> Sequence[tuple[dt.date, str, tuple[Grade, ...]]]: ...

    async def chat_activity_since(self, chat_pk: int,
                                  since: dt.date) -> Sequence[tuple[int, dt.date]]: ...


@dataclass(frozen=True, slots=True)
class Shares:
    """Grades given, as whole percentages that add up to 100."""

    knew: int
    partly: int
    not_yet: int
    count: int
    score: float  # 1.0 all knew … 0.0 all not yet

    @classmethod
    def of(cls, grades: Iterable[Grade]) -> Shares:
        counts = Counter(grades)
        total = sum(counts.values())
        percent = _largest_remainder([counts[g] for g in Grade], total)
        score = sum(_SCORE[g] * n for g, n in counts.items()) / total if total else 0.0
        return cls(*percent, count=total, score=score)

    def text(self, lang: str) -> str:
        return t(lang, "stats_shares", knew=self.knew, partly=self.partly,
                 not_yet=self.not_yet)


class ProgressService:
    def __init__(self, store: ProgressStore, bank: QuestionBank, clock: Clock, *,
                 rollover_hour: int = 4, draw: Drawer = heatmap.draw,
                 chart: ChartDrawer = shares.draw) -> None:
        self.store = store
        self.bank = bank
        self.clock = clock
        self.rollover_hour = rollover_hour
        self.draw = draw
        self.chart = chart

    async def stats(self, command: Command, chat: Chat) -> Response:
        lang = chat.language
        choice = command.args[0].casefold() if command.args else ""
        if len(command.args) > 1 or choice not in ("", "year", "group"):
            return say(_text(t(lang, "stats_usage")))
        if choice == "group":
            if chat.kind is ChatKind.PRIVATE:
                return say(_text(t(lang, "stats_group_private")))
            return say(await self.group_week(chat))
        return say(await self.member(command, chat, YEAR_WEEKS if choice else WEEKS))

    # ----- a member ---------------------------------------------------------------------------

    async def member(self, command: Command, chat: Chat, weeks: int) -> OutgoingMessage:
        """In a group, the member's record there; in a private chat, across all their chats."""
        lang = chat.language
        user_pk = await self.store.ensure_user(command.actor.user)
        today = streaks.study_day(self.clock.now(), chat.timezone, self.rollover_hour)
        everywhere = chat.kind is ChatKind.PRIVATE
        if everywhere:
            days = await self.store.user_study_days(user_pk)
            graded = await self.store.user_grades(user_pk)
        else:
            days = await self.store.study_days(chat.pk, user_pk)
            graded = await self.store.user_grades(user_pk, chat.pk)
        status = streaks.compute(days, today)
        month = sum(1 for d in set(days) if (d.year, d.month) == (today.year, today.month))

        def n_days(n: int) -> str:
            return t(lang, "stats_days", n=n)

        numbers = (t(lang, "stats_streaks", current=n_days(status.current),
                     longest=n_days(status.longest)),
                   t(lang, "stats_month", month=n_days(month), total=n_days(status.total_days)))
        spec = self.calendar(days, today, weeks, lang, " · ".join(numbers))
        png = await _painted(self.draw, spec)
        alt = t(lang, "stats_alt", weeks=weeks, days=n_days(len(spec.days)),
                current=n_days(status.current), longest=n_days(status.longest))
        name = _display(command.actor.user.display_name or command.actor.user.user_id)
        title = t(lang, "stats_title_everywhere" if everywhere else "stats_title", name=name)
        blocks: list[Block] = [card(*numbers)]
        blocks.extend(self._tags(graded, lang))
        return OutgoingMessage(title=title, blocks=tuple(blocks),
                               attachment=Attachment("stats.png", png, "image/png", alt))

    def calendar(self, days: Iterable[dt.date], today: dt.date, weeks: int, lang: str,
                 numbers: str) -> heatmap.Heatmap:
        """The heatmap of `weeks` weeks ending with today's, labelled in `lang`."""
        start = today - dt.timedelta(days=today.weekday(), weeks=weeks - 1)
        names = get_day_names("abbreviated", locale=lang)
        months = [((day - start).days // 7, format_date(day, "MMM", locale=lang))
                  for day in (start + dt.timedelta(days=i) for i in range((today - start).days + 1))
                  if day.day == 1]
        if not months or months[0][0] > 2:  # name the first column's month when there is room
            months.insert(0, (0, format_date(start, "MMM", locale=lang)))
        return heatmap.Heatmap(
            start=start, today=today,
            days=frozenset(d for d in days if start <= d <= today),
            title=t(lang, "stats_picture_title", weeks=weeks), subtitle=numbers,
            weekdays=tuple(names[i] if i in (0, 2, 4) else "" for i in range(7)),
            months=tuple(months),
            legend=(t(lang, "stats_legend_studied"), t(lang, "stats_legend_idle")))

    def _tags(self, graded: Sequence[tuple[str, Grade]], lang: str) -> list[Block]:
        by_tag: dict[str, list[Grade]] = {}
        for question_id, grade in graded:
            question = self.bank.get(question_id)
            for tag in question.tags if question else ():
                by_tag.setdefault(tag, []).append(grade)
        if not by_tag:
            return [paragraph(t(lang, "stats_no_grades"))]
        shares = sorted(((Shares.of(g), tag) for tag, g in by_tag.items()),
                        key=lambda st: (st[0].score, -st[0].count, st[1]))
        rows = [t(lang, "stats_tag_row", tag=tag, shares=s.text(lang),
                  grades=t(lang, "stats_grades", n=s.count)) for s, tag in shares[:MAX_TAGS]]
        if len(shares) > MAX_TAGS:
            rows.append(t(lang, "stats_more_tags", n=len(shares) - MAX_TAGS))
        return [card(t(lang, "stats_tags_head"), *rows, bold_first=True)]

    # ----- a chat's week ----------------------------------------------------------------------

    async def group_week(self, chat: Chat) -> OutgoingMessage:
        lang = chat.language
        today = streaks.study_day(self.clock.now(), chat.timezone, self.rollover_hour)
        monday = today - dt.timedelta(days=today.weekday())
        window = today - dt.timedelta(days=ACTIVE_WINDOW - 1)
        activity = await self.store.chat_activity_since(chat.pk, min(window, monday))
        active_days = len({day for _, day in activity if day >= window})
        members = len({user for user, day in activity if day >= monday})
        summary = card(
            t(lang, "stats_group_days", days=t(lang, "stats_days", n=active_days)),
            t(lang, "stats_group_members", n=members))
        week = await self.store.chat_questions_since(chat.pk, monday)
        if not week:
            return OutgoingMessage(title=t(lang, "stats_group_title"),
                                   blocks=(summary, paragraph(t(lang, "stats_group_none"))))
        rows: list[str] = []
        bars: list[tuple[str, int, int, int]] = []
        hardest: tuple[Shares, str, int] | None = None
        for day, question_id, grades in week:
            title = self._question_title(question_id, lang)
            date = format_skeleton("MMMd", day, locale=lang)
            given = Shares.of(grades)
            bars.append((date, given.knew, given.partly, given.not_yet))
            if not grades:
                rows.append(t(lang, "stats_group_row_ungraded", date=date, title=title))
                continue
            rows.append(t(lang, "stats_group_row", date=date, title=title,
                          shares=given.text(lang),
                          grades=t(lang, "stats_grades", n=given.count)))
            if hardest is None or (given.score, -given.count) < (hardest[0].score,
                                                                 -hardest[0].count):
                hardest = (given, title, len(bars) - 1)
        blocks = [summary, card(t(lang, "stats_group_questions"), *(f"• {row}" for row in rows),
                                bold_first=True)]
        if hardest is None:
            return OutgoingMessage(title=t(lang, "stats_group_title"), blocks=tuple(blocks))
        if hardest[0].knew < 100:  # a week everyone knew has no hardest question to name
            blocks.append(paragraph(t(lang, "stats_group_hardest", title=hardest[1],
                                      shares=hardest[0].text(lang))))
        chart = shares.WeekShares(
            title=t(lang, "stats_group_chart_title"), rows=tuple(bars), hardest=hardest[2],
            legend=(t(lang, "grade_knew"), t(lang, "grade_partly"), t(lang, "grade_not_yet")))
        png = await _painted(self.chart, chart)
        return OutgoingMessage(title=t(lang, "stats_group_title"), blocks=tuple(blocks),
                               attachment=Attachment("week.png", png, "image/png",
                                                     t(lang, "stats_group_alt")))

    def _question_title(self, question_id: str, lang: str) -> str:
        question = self.bank.get(question_id)
        title = question.localized(lang)[0] if question else question_id
        return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def install(service: StudyService, draw: Drawer = heatmap.draw) -> ProgressService:
    """Build the progress service over the study service's store, bank and clock, and route
    /stats to it."""
    store: ProgressStore = service.store  # type: ignore[assignment]  # SqlStore has both
    progress = ProgressService(store, service.bank, service.clock,
                               rollover_hour=service.config.rollover_hour, draw=draw)
    service.add_command("stats", progress.stats)
    return progress


async def _painted(draw: Callable[[Spec], bytes], spec: Spec) -> bytes:
    """The picture, drawn in the pictures' own thread: a burst of /stats waits its turn there
    instead of filling the loop's default executor, and the event loop never blocks."""
    return await asyncio.get_running_loop().run_in_executor(_painter(), draw, spec)


@functools.cache
def _painter() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="studybot-pictures")


def _largest_remainder(counts: Sequence[int], total: int) -> tuple[int, ...]:
    """Whole percentages of `total` that add up to exactly 100 (0s when total is 0)."""
    if not total:
        return tuple(0 for _ in counts)
    exact = [100 * c / total for c in counts]
    floors = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: floors[i] - exact[i])
    for i in by_remainder[: 100 - sum(floors)]:
        floors[i] += 1
    return tuple(floors)

