"""Studying together over a real store and the push pipeline: the day's answer posted at a set
time as a reply to the question, the weekly digest, and the leaderboard kept up to date by edits."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.actions import Kind
from bot.core.events import ButtonPress
from bot.core.models import ChatRef, UserRef
from bot.core.ports import ChatGone, TemporaryFailure
from bot.core.study import StudyService
from bot.core.text import plain_text
from bot.core.together import TogetherService
from bot.core.together_model import JobKind
from bot.storage.sql import SqlStore
from tests.core.test_study import GROUP, admin, cmd, member, payloads, text_of
from tests.fakes import FakeClock, RecordingMessenger

CAROL = UserRef("console", "carol", "Carol")


@pytest.fixture
def together(service: StudyService, store: SqlStore) -> TogetherService:
    together = TogetherService(service, store)
    together.register()
    return together


async def daily_post_at_nine(service: StudyService, clock: FakeClock,
                             messenger: RecordingMessenger) -> str:
    """Subscribe the group to 09:00 Shanghai and let the first post go out; its message id."""
    await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")
    clock.advance(hours=1)  # 08:00 → 09:00 in Shanghai
    assert (await service.push_due()).sent == 1
    return str(len(messenger.sent))


def body(messenger: RecordingMessenger, index: int = -1) -> str:
    message = messenger.sent[index][1]
    return message.title + "\n" + plain_text(message.blocks)


# ----- /answer --------------------------------------------------------------------------------


async def test_only_an_admin_sets_the_answer_time_and_a_bad_time_is_named(
    service: StudyService, together: TogetherService, store: SqlStore,
) -> None:
    assert "管理员" in text_of(await cmd(service, member(), "answer", "21:00"))
    assert "25:61" in text_of(await cmd(service, admin(), "answer", "25:61"))
    reply = text_of(await cmd(service, admin(), "answer", "21:00"))
    assert "21:00" in reply and "/subscribe" in reply  # not subscribed yet: said so
    assert "21:00" in text_of(await cmd(service, member(), "answer"))
    assert "关闭" in text_of(await cmd(service, admin(), "answer", "off"))
    chat = await store.get_chat(GROUP)
    assert chat is not None
    job = await store.get_job(chat.pk, JobKind.ANSWER)
    assert job is not None and job.next_run_at is None


async def test_the_answer_is_posted_once_at_its_time_as_a_reply_to_the_days_question(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    post = await daily_post_at_nine(service, clock, messenger)
    await cmd(service, admin(), "answer", "21:00")
    clock.advance(hours=11, minutes=59)  # 20:59
    await service.push_due()
    assert len(messenger.sent) == 1
    clock.advance(minutes=1)  # 21:00
    await service.push_due()
    assert len(messenger.sent) == 2 and messenger.replies[-1] == post
    assert messenger.sent[-1][0] == GROUP and "今日答案" in body(messenger)
    assert "答案 " in body(messenger)  # the answer's own text
    assert len(payloads(messenger.sent[-1][1])) == 3  # the grades, for those who discuss
    await service.push_due()
    clock.advance(hours=1)
    await service.push_due()
    assert len(messenger.sent) == 2  # once a day


async def test_an_answer_claimed_before_a_crash_is_posted_once_by_the_next_run(
    service: StudyService, together: TogetherService, store: SqlStore, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await daily_post_at_nine(service, clock, messenger)
    await cmd(service, admin(), "answer", "21:00")
    clock.advance(hours=12)
    claimed = await service.push.claim("console", 10, service.push.report)
    assert [p.kind for p in claimed] == ["job"]  # claimed, then the process died
    restarted = StudyService(store, service.bank, clock, service.codec, service.config)
    restarted.register_messenger(messenger)
    restarted.push.sole_instance = True  # the lock file says the old run is gone
    TogetherService(restarted, store).register()
    assert (await restarted.push_due()).sent == 1
    assert (await restarted.push_due()).sent == 0
    assert len(messenger.sent) == 2 and messenger.replies[-1] == "1"


async def test_no_answer_is_posted_on_a_day_without_a_posted_question(
    service: StudyService, together: TogetherService, store: SqlStore, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await cmd(service, admin(), "answer", "21:00")
    await cmd(service, member(), "today")  # a question was chosen, but never posted
    clock.advance(hours=13)
    report = await service.push_due()
    assert messenger.sent == [] and report.quiet == 1
    chat = await store.get_chat(GROUP)
    assert chat is not None
    assert await store.job_send_states(chat.pk, JobKind.ANSWER) == {"2026-03-02": "quiet"}


async def test_a_failed_answer_is_retried_and_a_removed_bot_stops_the_group_sends(
    service: StudyService, together: TogetherService, store: SqlStore, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await daily_post_at_nine(service, clock, messenger)
    await cmd(service, admin(), "answer", "21:00")
    clock.advance(hours=12)
    messenger.failures.append(TemporaryFailure("502"))
    assert (await service.push_due()).retry == 1
    clock.advance(minutes=5)
    assert (await service.push_due()).sent == 1
    clock.advance(hours=12)  # the next day's 09:00 post goes out
    assert (await service.push_due()).sent == 1
    clock.advance(hours=12)
    messenger.failures.append(ChatGone("bot was kicked"))
    assert (await service.push_due()).paused == 1
    clock.advance(hours=12)
    assert (await service.push_due()).sent == 1  # the daily post (its own pause is its own)
    clock.advance(hours=12)
    await service.push_due()
    assert messenger.replies.count("") == len(messenger.replies) - 1  # one answer, not two


# ----- the live leaderboard -------------------------------------------------------------------


async def post_board(service: StudyService, messenger: RecordingMessenger) -> str:
    """/top in the group, posted the way an adapter posts it (and tells the core its id)."""
    response = await cmd(service, member(), "top")
    assert response.remember == "board"
    message_id = await messenger.send(GROUP, response.public[0])
    await service.posted(GROUP, response.remember, message_id)
    return message_id


async def grade(service: StudyService, who: UserRef) -> None:
    question = (await cmd(service, member(who), "today")).public[0]
    await service.handle_button(ButtonPress(member(who), payloads(question)[1]))


async def test_the_board_is_edited_in_place_at_most_once_a_minute(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    board = await post_board(service, messenger)
    clock.advance(minutes=5)
    await grade(service, CAROL)
    await service.push_due()
    [(chat, edited, message)] = messenger.edits
    assert chat == GROUP and edited == board and "Carol" in plain_text(message.blocks)
    await grade(service, UserRef("console", "dan", "Dan"))
    await service.push_due()
    assert len(messenger.edits) == 1  # a minute has not passed
    clock.advance(minutes=1)
    await service.push_due()
    assert len(messenger.edits) == 2 and "Dan" in plain_text(messenger.edits[-1][2].blocks)
    assert len(messenger.sent) == 1  # edited, never posted again


async def test_a_deleted_board_is_posted_anew_and_edits_follow_the_new_message(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    board = await post_board(service, messenger)
    messenger.deleted.add(board)
    clock.advance(minutes=5)
    await grade(service, CAROL)
    report = await service.push_due()
    assert report.sent == 1 and report.failed == 0
    assert len(messenger.sent) == 2 and "Carol" in body(messenger)
    clock.advance(minutes=5)
    await grade(service, UserRef("console", "dan", "Dan"))
    await service.push_due()
    assert messenger.edits[-1][1] == "2"


async def test_a_new_week_starts_a_new_board_message(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await post_board(service, messenger)  # Monday 2026-03-02
    clock.advance(days=7)  # the next Monday, after the rollover
    await grade(service, CAROL)
    await service.push_due()
    assert messenger.edits == [] and len(messenger.sent) == 2
    assert "Carol" in body(messenger)


async def test_a_chat_without_a_board_costs_a_grade_no_group_send(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await grade(service, CAROL)
    await service.push_due()
    assert messenger.sent == [] and messenger.edits == []


# ----- the weekly digest ----------------------------------------------------------------------


async def test_the_digest_goes_out_monday_after_the_rollover_with_the_weeks_numbers(
    service: StudyService, together: TogetherService, store: SqlStore, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    assert "管理员" in text_of(await cmd(service, member(), "digest", "on"))
    assert "/digest" in text_of(await cmd(service, admin(), "digest", "maybe"))
    assert "2026-03-09 04:00" in text_of(await cmd(service, admin(), "digest", "on"))
    dan = UserRef("console", "dan", "Dan")
    for day in range(3):  # Monday to Wednesday: Carol knew it, Dan did not on day two
        question = (await cmd(service, member(CAROL), "today")).public[0]
        await service.handle_button(ButtonPress(member(CAROL), payloads(question)[1]))
        await service.handle_button(ButtonPress(member(dan), payloads(question)[
            3 if day == 1 else 2]))
        clock.advance(days=1)
    clock.set(dt.datetime(2026, 3, 8, 19, 59, tzinfo=dt.UTC))  # Monday 03:59 in Shanghai
    await service.push_due()
    assert messenger.sent == []
    clock.advance(minutes=1)
    await service.push_due()
    [(chat, digest)] = messenger.sent
    text = digest.title + "\n" + plain_text(digest.blocks)
    assert chat == GROUP and "2026-03-02 – 2026-03-08" in text
    assert text.count("✅ 50% · 🟡 50% · ❌ 0%（2 人评分）") == 2
    assert "✅ 50% · 🟡 0% · ❌ 50%（2 人评分）" in text
    assert "最难的一题" in text and "❌ 50%" in text
    assert "Carol 0 天" not in text  # the streak broke over the weekend: nobody is named
    kinds = [service.codec.decode(p) for p in payloads(digest)]
    assert [a.kind for a in kinds if a] == [Kind.REVEAL] * 3
    revealed = await service.handle_button(ButtonPress(member(CAROL), payloads(digest)[0]))
    assert revealed.private and not revealed.public  # the answer, privately
    clock.advance(days=7)
    await service.push_due()
    assert len(messenger.sent) == 1  # a quiet week says nothing
    chat_row = await store.get_chat(GROUP)
    assert chat_row is not None
    states = await store.job_send_states(chat_row.pk, JobKind.DIGEST)
    assert states == {"2026-03-02": "sent", "2026-03-09": "quiet"}
    assert "关闭" in text_of(await cmd(service, admin(), "digest", "off"))


async def test_the_answer_goes_only_to_the_chat_that_asked_for_it(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    other = ChatRef("console", "g2")
    await cmd(service, admin(chat=other), "subscribe", "09:00", "Asia/Shanghai")
    await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")
    clock.advance(hours=1)
    assert (await service.push_due()).sent == 2
    group_post = str(1 + [chat for chat, _ in messenger.sent].index(GROUP))
    await cmd(service, admin(), "answer", "21:00")
    clock.advance(hours=12)
    assert (await service.push_due()).sent == 1
    assert messenger.sent[-1][0] == GROUP and messenger.replies[-1] == group_post


async def test_a_member_who_hides_leaves_the_live_board_at_its_next_edit(
    service: StudyService, together: TogetherService, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await grade(service, CAROL)
    await post_board(service, messenger)
    clock.advance(minutes=5)
    await cmd(service, member(CAROL), "top", "hide")
    await service.push_due()
    [(_, _, board)] = messenger.edits
    assert "Carol" not in plain_text(board.blocks)
