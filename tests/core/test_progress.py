"""/stats and /stats group over a real SQLite store, the real picture, a fake clock."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
import threading

import pytest

from bot.core import progress
from bot.core.events import Actor, Command
from bot.core.messages import OutgoingMessage
from bot.core.models import ChatKind, ChatRef, Grade, Question, UserRef
from bot.core.study import StudyService
from bot.core.text import plain_text
from bot.pictures import heatmap, shares
from tests.conftest import REPO
from tests.fakes import FakeBank, FakeClock
from tests.history import days_back, study_on

GROUP = ChatRef("console", "g1")
OTHER_GROUP = ChatRef("console", "g2")
ALICE = UserRef("console", "alice", "Alice")
BOB = UserRef("console", "bob", "Bob")
TODAY = dt.date(2026, 3, 20)  # a Friday


def in_group(user: UserRef = ALICE, chat: ChatRef = GROUP) -> Actor:
    return Actor(chat, ChatKind.GROUP, user, is_admin=user == ALICE)


def in_private(user: UserRef = ALICE) -> Actor:
    return Actor(ChatRef("console", f"dm-{user.user_id}"), ChatKind.PRIVATE, user, True)


@pytest.fixture
def bank() -> FakeBank:
    # Even questions are about rag, odd ones about agents; q03 is about both.
    tags = {0: ("rag",), 1: ("agents",), 2: ("rag",), 3: ("agents", "rag"), 4: ("rag",),
            5: ("agents",)}
    return FakeBank(Question(
        id=f"q{i:02d}", pack="test", title=f"问题 {i}？", answer="答案", tags=tags[i],
        difficulty=1, source="ours", title_en=f"Question {i}?", answer_en="Answer.")
        for i in range(6))


@pytest.fixture
def stats(service: StudyService) -> progress.ProgressService:
    return progress.install(service)


async def ask(service: StudyService, actor: Actor, *args: str) -> OutgoingMessage:
    response = await service.handle_command(Command(actor, "stats", args))
    [message] = response.public
    return message


def text(message: OutgoingMessage) -> str:
    return message.title + "\n" + plain_text(message.blocks)


def png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def pixels(data: bytes) -> bytes:
    from matplotlib.image import imread

    return imread(io.BytesIO(data), format="png").tobytes()


# ----- a member ---------------------------------------------------------------------------------


async def test_stats_in_a_group_shows_the_streaks_days_this_month_and_a_calendar_picture(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    await study_on(service, clock, in_group(), days_back(TODAY, 30, 3, 2, 1, 0))
    message = await ask(service, in_group())
    shown = text(message)
    assert "📊 Alice 的学习统计" in shown
    assert "当前连续 4 天 · 最长 4 天" in shown
    assert "本月 4 天 · 累计 5 天" in shown  # 30 days back is February
    picture = message.attachment
    assert picture is not None and picture.is_picture and picture.filename == "stats.png"
    assert png_size(picture.data) == heatmap.size(26)
    assert "26 周" in picture.alt and "5 天" in picture.alt and "当前连续 4 天" in picture.alt


async def test_stats_year_draws_a_calendar_of_52_weeks(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    await study_on(service, clock, in_group(), [TODAY])
    message = await ask(service, in_group(), "year")
    assert message.attachment is not None
    assert png_size(message.attachment.data) == heatmap.size(52)
    assert heatmap.size(52)[0] > heatmap.size(26)[0]


async def test_two_members_with_different_histories_get_different_pictures(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    await study_on(service, clock, in_group(ALICE), days_back(TODAY, 9, 8, 7, 0))
    await study_on(service, clock, in_group(BOB), days_back(TODAY, 40, 20, 0))
    alice = (await ask(service, in_group(ALICE))).attachment
    bob = (await ask(service, in_group(BOB))).attachment
    again = (await ask(service, in_group(ALICE))).attachment
    assert alice is not None and bob is not None and again is not None
    assert png_size(alice.data) == png_size(bob.data)
    assert pixels(alice.data) != pixels(bob.data)
    assert pixels(alice.data) == pixels(again.data)  # the same record, the same picture


async def test_in_a_group_only_that_groups_days_count_and_in_private_every_chats(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    await study_on(service, clock, in_group(chat=GROUP), days_back(TODAY, 3, 2))
    await study_on(service, clock, in_group(chat=OTHER_GROUP), days_back(TODAY, 2, 1, 0))
    assert "累计 2 天" in text(await ask(service, in_group(chat=GROUP)))
    everywhere = text(await ask(service, in_private()))
    assert "所有聊天" in everywhere
    assert "当前连续 4 天" in everywhere and "累计 4 天" in everywhere  # day 2 counted once


async def test_grades_are_shared_out_per_tag_weakest_first(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    def rag_is_hard(question: Question) -> Grade:
        return Grade.NOT_YET if question.tags == ("rag",) else Grade.KNEW

    await study_on(service, clock, in_group(), days_back(TODAY, 5, 4, 3, 2, 1, 0),
                   grade=rag_is_hard)
    rows = [line for line in text(await ask(service, in_group())).splitlines()
            if re.match(r"^(rag|agents)：", line)]
    assert [row.split("：")[0] for row in rows] == ["rag", "agents"]
    assert rows[1].startswith("agents：会了 100% · 部分会 0% · 还不会 0%")
    for row in rows:
        knew, partly, not_yet = map(int, re.findall(r"(\d+)%", row))
        assert knew + partly + not_yet == 100


async def test_counts_use_english_plural_forms(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    await study_on(service, clock, in_group(), [TODAY])
    await service.handle_command(Command(in_group(), "lang", ("en",)))
    shown = text(await ask(service, in_group()))
    assert "Current streak 1 day · longest 1 day" in shown
    assert "(1 grade)" in shown and "days" not in shown.split("\n")[1]


async def test_a_member_with_no_grades_is_told_how_to_get_some(
    service: StudyService, stats: progress.ProgressService,
) -> None:
    message = await ask(service, in_group(BOB))
    assert "还没有打过分" in text(message) and "当前连续 0 天" in text(message)
    assert message.attachment is not None


async def test_an_unknown_choice_gets_the_usage(
    service: StudyService, stats: progress.ProgressService,
) -> None:
    assert "/stats year" in text(await ask(service, in_group(), "decade"))
    assert "/stats year" in text(await ask(service, in_group(), "year", "group"))


async def test_the_picture_is_drawn_in_a_thread_of_its_own_not_on_the_event_loop(
    service: StudyService,
) -> None:
    threads: list[threading.Thread] = []

    def draw(spec: heatmap.Heatmap) -> bytes:
        threads.append(threading.current_thread())
        return heatmap.draw(spec)

    progress.install(service, draw=draw)
    await ask(service, in_group())
    assert threads and threads[0] is not threading.main_thread()
    assert threads[0].name.startswith("studybot-pictures")  # its own thread, not the pool's


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    code = ("import sys, bot.app, bot.core.progress, bot.pictures.heatmap; "
            "print(any(m.split('.')[0] == 'matplotlib' for m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                           text=True, check=True)
    assert found.stdout.strip() == "False"


# ----- the group's week -------------------------------------------------------------------------


async def test_stats_group_shows_the_weeks_questions_with_their_shares_and_the_hardest(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    await study_on(service, clock, in_group(ALICE), [monday - dt.timedelta(days=3), monday,
                                                     monday + dt.timedelta(days=1)])
    await study_on(service, clock, in_group(BOB), [monday + dt.timedelta(days=1)],
                   grade=Grade.NOT_YET)
    await study_on(service, clock, in_group(BOB), [TODAY], grade=Grade.PARTLY)
    shown = text(await ask(service, in_group(), "group"))
    assert "📈 本群本周" in shown
    assert "有人打卡的日子：最近 30 天里 4 天" in shown
    assert "本周打卡成员：2 人" in shown
    rows = [line for line in shown.splitlines() if line.startswith("• ")]
    assert len(rows) == 3  # Monday, Tuesday, Friday: the days the chat had a question
    assert rows[0].startswith("• 3月16日") and "会了 100%" in rows[0]
    assert "会了 50% · 部分会 0% · 还不会 50%（2 次打分）" in rows[1]
    hardest = next(line for line in shown.splitlines() if line.startswith("本周最难："))
    tuesday_title = rows[1].removeprefix("• 3月17日 ").split("：")[0]
    assert tuesday_title in hardest


async def test_a_week_everyone_knew_names_no_hardest_question(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    await study_on(service, clock, in_group(ALICE), [monday, TODAY])
    shown = text(await ask(service, in_group(), "group"))
    assert "会了 100%" in shown and "本周最难" not in shown


async def test_stats_group_draws_the_weeks_shares_as_bars_when_someone_graded(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    await study_on(service, clock, in_group(ALICE), [monday, TODAY])
    chart = (await ask(service, in_group(), "group")).attachment
    assert chart is not None and chart.filename == "week.png" and "最难" in chart.alt
    assert png_size(chart.data) == shares.size(2)
    await study_on(service, clock, in_group(BOB), [TODAY], grade=Grade.NOT_YET)
    again = (await ask(service, in_group(), "group")).attachment
    assert again is not None and pixels(again.data) != pixels(chart.data)


async def test_a_week_nobody_graded_has_no_chart(
    service: StudyService, clock: FakeClock, stats: progress.ProgressService,
) -> None:
    await service.handle_command(Command(in_group(), "today"))
    message = await ask(service, in_group(), "group")
    assert "还没有人打分" in text(message) and message.attachment is None


async def test_stats_group_in_a_private_chat_says_where_it_works(
    service: StudyService, stats: progress.ProgressService,
) -> None:
    assert "群里" in text(await ask(service, in_private(), "group"))


async def test_stats_group_before_any_question_says_there_is_none_yet(
    service: StudyService, stats: progress.ProgressService,
) -> None:
    shown = text(await ask(service, in_group(), "group"))
    assert "本周还没有题目" in shown and "本周打卡成员：0 人" in shown

