"""The use cases over a real SQLite store, with a fake clock and a recording messenger."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import event

from bot.core.actions import Action, Kind
from bot.core.events import Actor, ButtonPress, Command
from bot.core.messages import OutgoingMessage, Response
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.ports import ChatGone, ChatMoved, SendTimedOut, TemporaryFailure
from bot.core.push import PushReport
from bot.core.study import StudyService
from bot.core.text import plain_text
from bot.storage.sql import SqlStore
from tests.fakes import FakeClock, RecordingMessenger

GROUP = ChatRef("console", "g1")
ALICE = UserRef("console", "alice", "Alice")
BOB = UserRef("console", "bob", "Bob")


def admin(user: UserRef = ALICE, chat: ChatRef = GROUP) -> Actor:
    return Actor(chat, ChatKind.GROUP, user, is_admin=True)


def member(user: UserRef = BOB, chat: ChatRef = GROUP) -> Actor:
    return Actor(chat, ChatKind.GROUP, user, is_admin=False)


def text_of(response: Response) -> str:
    parts = [m.title + "\n" + plain_text(m.blocks) for m in (*response.public, *response.private)]
    return "\n".join([*parts, response.toast])


def payloads(message: OutgoingMessage) -> list[str]:
    return [b.payload for row in message.buttons for b in row]


async def cmd(service: StudyService, actor: Actor, name: str, *args: str) -> Response:
    return await service.handle_command(Command(actor, name, args))


async def subscribe_at_nine(service: StudyService) -> None:
    response = await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")
    assert "09:00" in text_of(response)


# ----- subscribing ----------------------------------------------------------------------------


async def test_an_admin_subscribes_and_is_told_when_the_next_question_comes(
    service: StudyService,
) -> None:
    response = await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")
    # The clock says 08:00 in Shanghai, so the first question is an hour away.
    assert "2026-03-02 09:00" in text_of(response)
    assert "1 小时 0 分钟" in text_of(response)


async def test_a_member_who_is_not_an_admin_cannot_subscribe_a_group(
    service: StudyService, store: SqlStore
) -> None:
    response = await cmd(service, member(), "subscribe", "09:00")
    assert "管理员" in text_of(response)
    chat = await store.get_chat(GROUP)
    assert chat is not None and await store.get_subscription(chat.pk) is None


async def test_bad_times_and_zones_get_a_clear_answer_naming_the_value(
    service: StudyService,
) -> None:
    assert "25:00" in text_of(await cmd(service, admin(), "subscribe", "25:00"))
    assert "Mars/Base" in text_of(await cmd(service, admin(), "subscribe", "09:00", "Mars/Base"))
    assert "/subscribe" in text_of(await cmd(service, admin(), "subscribe", "1", "2", "3"))
    hostile = "\x1b[31m" + "狗" * 500
    reply = text_of(await cmd(service, admin(), "subscribe", hostile))
    assert "\x1b" not in reply and len(reply) < 300


async def test_subscribe_without_arguments_uses_nine_oclock_in_the_default_zone(
    service: StudyService,
) -> None:
    reply = text_of(await cmd(service, admin(), "subscribe"))
    assert "09:00" in reply and "Asia/Shanghai" in reply


async def test_unsubscribe_stops_the_push(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    assert "已退订" in text_of(await cmd(service, admin(), "unsubscribe"))
    clock.advance(hours=2)
    await service.push_due()
    assert messenger.sent == []
    assert "没有订阅" in text_of(await cmd(service, admin(), "unsubscribe"))


# ----- the daily push -------------------------------------------------------------------------


async def test_the_question_arrives_at_the_local_time_once_per_day(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    clock.advance(minutes=59)
    await service.push_due()
    assert messenger.sent == []  # 08:59 local
    clock.advance(minutes=1)
    report = await service.push_due()
    assert report.sent == 1
    chat, message = messenger.sent[0]
    assert chat == GROUP and "2026-03-02" in message.title
    await service.push_due()
    clock.advance(hours=3)
    await service.push_due()
    assert len(messenger.sent) == 1  # never twice on one local date
    clock.advance(hours=21)  # 09:00 the next day
    await service.push_due()
    assert len(messenger.sent) == 2 and "2026-03-03" in messenger.sent[1][1].title


async def test_questions_do_not_repeat_until_the_bank_is_exhausted(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    clock.advance(hours=1)
    for _ in range(7):
        await service.push_due()
        clock.advance(days=1)
    titles = [plain_text(m.blocks).splitlines()[0] for _, m in messenger.sent]
    assert len(titles) == 7
    assert len(set(titles[:5])) == 5  # five questions in the bank: all before any repeats
    assert titles[5] in titles[:5]


async def test_today_shows_the_same_question_the_push_carries(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    today = (await cmd(service, member(), "today")).public[0]
    clock.advance(hours=1)
    await service.push_due()
    pushed = messenger.sent[0][1]
    assert plain_text(today.blocks) == plain_text(pushed.blocks)
    assert payloads(today) == payloads(pushed)


async def test_a_push_missed_by_less_than_the_grace_window_is_sent_late_once(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    clock.advance(hours=4)  # the bot was down from 08:00 to 12:00
    assert (await service.push_due()).sent == 1
    assert (await service.push_due()).sent == 0


async def test_a_push_missed_by_more_than_the_grace_window_is_skipped_not_sent_late(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    clock.advance(hours=8)  # 16:00 local, past the six-hour grace
    report = await service.push_due()
    assert (report.sent, report.missed) == (0, 1)
    clock.advance(hours=17)  # 09:00 the next day
    assert (await service.push_due()).sent == 1


async def test_after_a_restart_nothing_is_posted_twice(
    service: StudyService, store: SqlStore, bank: object, clock: FakeClock,
    messenger: RecordingMessenger,
) -> None:
    await subscribe_at_nine(service)
    clock.advance(hours=1)
    await service.push_due()
    restarted = StudyService(store, service.bank, clock, service.codec, service.config)
    restarted.register_messenger(messenger)
    clock.advance(minutes=5)
    assert (await restarted.push_due()).sent == 0
    assert len(messenger.sent) == 1


async def test_a_claim_cut_off_by_a_crash_is_sent_again_once_its_instance_stops_beating(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    clock.advance(hours=1)
    chat = await store.get_chat(GROUP)
    assert chat is not None
    sub = await store.get_subscription(chat.pk)
    assert sub is not None
    # The process showed it was alive, claimed the date, then died before sending.
    await service.push.beat()
    assert len(await service.push.claim("console", 10, PushReport())) == 1
    restarted = StudyService(store, service.bank, clock, service.codec, service.config)
    restarted.register_messenger(messenger)
    assert (await restarted.push_due()).sent == 0  # its owner may still be sending it
    clock.advance(seconds=31)  # the owner's lease ran out without a heartbeat
    assert (await restarted.push_due()).sent == 1
    assert (await restarted.push_due()).sent == 0
    states = await store.delivery_states(sub.pk)
    assert states[dt.date(2026, 3, 2)] == ("sent", 2)
    assert len(messenger.sent) == 1


async def test_a_blocked_bot_pauses_that_subscription_and_the_others_still_get_theirs(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    other = ChatRef("console", "g2")
    await subscribe_at_nine(service)
    await cmd(service, admin(chat=other), "subscribe", "09:00", "Asia/Shanghai")
    messenger.failures.append(ChatGone("bot was blocked by the user"))
    clock.advance(hours=1)
    report = await service.push_due()
    assert (report.sent, report.paused) == (1, 1)
    paused = [c for c in (GROUP, other) if c not in [chat for chat, _ in messenger.sent]]
    chat = await store.get_chat(paused[0])
    assert chat is not None
    sub = await store.get_subscription(chat.pk)
    assert sub is not None and not sub.active and "blocked" in sub.paused_reason
    clock.advance(days=1)
    assert (await service.push_due()).sent == 1  # only the chat that still has the bot


async def test_a_moved_chat_gets_the_post_at_its_new_id_and_keeps_its_schedule(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    new = ChatRef("console", "g1-super")
    messenger.failures.append(ChatMoved(new))
    clock.advance(hours=1)
    report = await service.push_due()
    assert (report.sent, report.moved) == (1, 1)
    assert messenger.sent[0][0] == new
    moved = await store.get_chat(new)
    assert moved is not None and await store.get_subscription(moved.pk) is not None


async def test_a_timed_out_send_is_not_repeated_because_it_may_have_arrived(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    messenger.failures.append(SendTimedOut("read timeout"))
    clock.advance(hours=1)
    assert (await service.push_due()).uncertain == 1
    clock.advance(minutes=30)
    await service.push_due()
    assert messenger.sent == []


async def test_a_temporary_failure_is_retried_on_a_later_tick(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    messenger.failures.append(TemporaryFailure("502 bad gateway"))
    clock.advance(hours=1)
    assert (await service.push_due()).failed == 1
    clock.advance(minutes=1)
    assert (await service.push_due()).sent == 1
    assert len(messenger.sent) == 1


# ----- reveal, grade, streak, leaderboard -----------------------------------------------------


async def test_reveal_answers_only_the_presser_and_does_not_count_the_day(
    service: StudyService, store: SqlStore
) -> None:
    question = (await cmd(service, member(), "today")).public[0]
    reveal = payloads(question)[0]
    response = await service.handle_button(ButtonPress(member(), reveal))
    assert response.public == ()
    assert "答案" in response.private[0].title and "答案" in plain_text(response.private[0].blocks)
    assert service.codec.decode(response.deep_link) == service.codec.decode(reveal)
    streak = text_of(await cmd(service, member(), "streak"))
    assert "当前连续：0 天" in streak


async def test_an_answer_revealed_again_is_not_parsed_again(service: StudyService) -> None:
    question = (await cmd(service, member(), "today")).public[0]
    reveal = payloads(question)[0]
    first = await service.handle_button(ButtonPress(member(), reveal))
    again = await service.handle_button(ButtonPress(member(ALICE), reveal))
    # The same parsed blocks, shared: the second reveal did not parse the Markdown.
    assert first.private[0].blocks[0] is again.private[0].blocks[0]


async def test_grading_counts_the_day_once_and_the_streak_grows_day_by_day(
    service: StudyService, clock: FakeClock
) -> None:
    for day in range(3):
        question = (await cmd(service, member(), "today")).public[0]
        knew, partly = payloads(question)[1], payloads(question)[2]
        first = await service.handle_button(ButtonPress(member(), knew))
        assert f"连续 {day + 1} 天" in first.toast and "已记录" in first.toast
        again = await service.handle_button(ButtonPress(member(), partly))  # a second thought
        assert "评分已改为" in again.toast and f"连续 {day + 1} 天" in again.toast
        clock.advance(days=1)
    clock.advance(days=-1)
    streak = text_of(await cmd(service, member(), "streak"))
    assert "当前连续：3 天" in streak and "已完成" in streak


async def test_grading_an_old_post_again_changes_the_grade_but_never_counts_a_new_day(
    service: StudyService, clock: FakeClock
) -> None:
    old = (await cmd(service, member(), "today")).public[0]
    knew, not_yet = payloads(old)[1], payloads(old)[3]
    assert "今天完成" in (await service.handle_button(ButtonPress(member(), knew))).toast
    for _ in range(5):  # the same old button, pressed every day without studying
        clock.advance(days=1)
        pressed = await service.handle_button(ButtonPress(member(), not_yet))
        assert "不再计入打卡" in pressed.toast
    streak = text_of(await cmd(service, member(), "streak"))
    assert "当前连续：0 天" in streak


async def test_an_older_question_graded_for_the_first_time_counts_today(
    service: StudyService, clock: FakeClock
) -> None:
    old = (await cmd(service, member(), "today")).public[0]
    clock.advance(days=1)
    pressed = await service.handle_button(ButtonPress(member(), payloads(old)[1]))
    assert "今天完成" in pressed.toast and "连续 1 天" in pressed.toast
    today = (await cmd(service, member(), "today")).public[0]
    second = await service.handle_button(ButtonPress(member(), payloads(today)[2]))
    assert "今天已经打过卡" in second.toast


async def test_late_night_grading_counts_for_the_evening_before(
    service: StudyService, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC))  # noon on 03-02 in Shanghai
    question = (await cmd(service, member(), "today")).public[0]
    clock.set(dt.datetime(2026, 3, 2, 17, 30, tzinfo=dt.UTC))  # 01:30 on 03-03
    await service.handle_button(ButtonPress(member(), payloads(question)[1]))
    clock.set(dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC))  # 20:00 on 03-03
    question = (await cmd(service, member(), "today")).public[0]
    response = await service.handle_button(ButtonPress(member(), payloads(question)[1]))
    assert "连续 2 天" in response.toast


async def test_a_grade_from_a_private_chat_counts_for_the_group_the_question_came_from(
    service: StudyService,
) -> None:
    question = (await cmd(service, member(), "today")).public[0]
    private = Actor(ChatRef("console", "dm-bob"), ChatKind.PRIVATE, BOB, is_admin=True)
    answer = await service.handle_command(Command(private, "start", (payloads(question)[0],)))
    grade_here = payloads(answer.private[0])[0]
    await service.handle_button(ButtonPress(private, grade_here))
    assert "当前连续：1 天" in text_of(await cmd(service, member(), "streak"))


async def test_the_leaderboard_ranks_members_by_current_streak(
    service: StudyService, clock: FakeClock
) -> None:
    for day in range(2):
        question = (await cmd(service, member(), "today")).public[0]
        await service.handle_button(ButtonPress(member(BOB), payloads(question)[1]))
        if day == 1:
            await service.handle_button(ButtonPress(member(ALICE), payloads(question)[3]))
        clock.advance(days=1)
    clock.advance(days=-1)
    board = text_of(await cmd(service, member(), "top"))
    assert board.index("Bob") < board.index("Alice")
    assert "1. Bob — 连续 2 天 · 本周 2 天 · 累计 2 天" in board
    assert "2. Alice — 连续 1 天 · 本周 1 天 · 累计 1 天" in board


async def test_an_empty_leaderboard_invites_people_to_grade(service: StudyService) -> None:
    assert "还没有人打卡" in text_of(await cmd(service, member(), "top"))


async def test_forged_and_foreign_button_data_get_a_short_notice_and_change_nothing(
    service: StudyService,
) -> None:
    for forged in ["r1_AAAAAAAAAAA", "k999_xxxxxxxxxxx", "", "💥" * 100, "r1"]:
        response = await service.handle_button(ButtonPress(member(), forged))
        assert response.toast and not response.private and not response.public
    unknown_day = service.codec.encode(Action(Kind.REVEAL, 424242))
    response = await service.handle_button(ButtonPress(member(), unknown_day))
    assert "不可用" in response.toast


async def test_lang_switches_the_chat_to_english_for_everyone(service: StudyService) -> None:
    assert "English" in text_of(await cmd(service, admin(), "lang", "en"))
    assert "Commands" in text_of(await cmd(service, member(), "help"))
    question = (await cmd(service, member(), "today")).public[0]
    assert "Question of the day" in question.title and "Question" in plain_text(question.blocks)
    assert "only this chat's admins" in text_of(await cmd(service, member(), "lang", "zh"))
    assert "Usage" in text_of(await cmd(service, admin(), "lang", "klingon"))


async def test_unknown_commands_point_to_help(service: StudyService) -> None:
    assert "/help" in text_of(await cmd(service, member(), "frobnicate"))


async def test_a_zone_change_keeps_the_days_already_counted(
    service: StudyService, store: SqlStore, clock: FakeClock
) -> None:
    # Day one, graded at 20:00 in Shanghai: counted as 2026-03-02.
    clock.set(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC))
    question = (await cmd(service, member(), "today")).public[0]
    await service.handle_button(ButtonPress(member(), payloads(question)[1]))
    # The group moves to Los Angeles; there it is still the morning of 2026-03-02.
    await cmd(service, admin(), "subscribe", "09:00", "America/Los_Angeles")
    clock.set(dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC))  # 12:00 on 03-02 in LA
    question = (await cmd(service, member(), "today")).public[0]
    again = await service.handle_button(ButtonPress(member(), payloads(question)[1]))
    # The same 03-02 question again: the grade stands, no second day is counted.
    assert "不再计入打卡" in again.toast and "连续 1 天" in again.toast
    # The next LA day counts as the next day of the same streak.
    clock.set(dt.datetime(2026, 3, 3, 20, 0, tzinfo=dt.UTC))
    question = (await cmd(service, member(), "today")).public[0]
    next_day = await service.handle_button(ButtonPress(member(), payloads(question)[1]))
    assert "连续 2 天" in next_day.toast
    chat = await store.get_chat(GROUP)
    assert chat is not None
    user = await store.ensure_user(BOB)
    assert await store.study_days(chat.pk, user) == (dt.date(2026, 3, 2), dt.date(2026, 3, 3))


async def test_streak_shows_the_time_left_today_and_the_freezes_held(
    service: StudyService, clock: FakeClock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC))  # 20:00 in Shanghai
    reply = text_of(await cmd(service, member(), "streak"))
    # The study day ends at 04:00 local: eight hours from 20:00.
    assert "还剩 8 小时 0 分钟" in reply and "补签卡：0 / 2" in reply


async def test_an_unexpected_error_for_one_chat_does_not_stop_the_push_to_the_others(
    service: StudyService, clock: FakeClock, messenger: RecordingMessenger
) -> None:
    await subscribe_at_nine(service)
    await cmd(service, admin(chat=ChatRef("console", "g2")), "subscribe", "09:00")
    messenger.failures.append(ValueError("a bug in a renderer"))
    clock.advance(hours=1)
    report = await service.push_due()
    assert (report.sent, report.failed) == (1, 1)
    clock.advance(minutes=11)  # the broken one's claim is stale now: tried again
    assert (await service.push_due()).sent == 1
    assert len(messenger.sent) == 2


async def test_a_new_group_is_written_once_with_its_name_and_a_rename_is_kept(
    service: StudyService, store: SqlStore
) -> None:
    commits = 0

    def commit(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(store.engine.sync_engine, "commit", commit)
    named = Actor(GROUP, ChatKind.GROUP, BOB, is_admin=False, chat_title="LLM 学习群")
    await cmd(service, named, "streak")
    assert commits == 2  # the group, with its name, and Bob; no write to name the group after
    chat = await store.get_chat(GROUP)
    assert chat is not None and chat.title == "LLM 学习群"
    await cmd(service, replace(named, chat_title="面试小组"), "streak")
    chat = await store.get_chat(GROUP)
    assert chat is not None and chat.title == "面试小组"
