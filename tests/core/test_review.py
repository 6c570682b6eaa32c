"""The review loop and reminders over a real SQLite store, with a fake clock: cards made by every
grade, /review in the private chat, the daily limit, /tz, reminders claimed like pushes."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from fsrs import Card, Rating, Scheduler, State

from bot.app import add_review
from bot.core.actions import Action, ActionCodec, Kind
from bot.core.events import Actor, ButtonPress
from bot.core.messages import OutgoingMessage, Response
from bot.core.models import ChatKind, ChatRef, Grade, UserRef
from bot.core.ports import ChatGone
from bot.core.push import PushPipeline
from bot.core.reminders import ReminderService
from bot.core.review import RATING_OF_GRADE, ReviewConfig, ReviewService
from bot.core.study import StudyConfig, StudyService
from bot.storage.sql import SqlStore
from tests.core.test_study import ALICE, BOB, GROUP, admin, cmd, member, payloads, text_of
from tests.fakes import FakeBank, FakeClock, RecordingMessenger, make_questions

DM = ChatRef("console", "dm-alice")
OTHER_GROUP = ChatRef("console", "g2")


def private(user: UserRef = ALICE, chat: ChatRef = DM) -> Actor:
    return Actor(chat, ChatKind.PRIVATE, user, is_admin=True)


@pytest.fixture
def loop(service: StudyService, store: SqlStore) -> tuple[ReviewService, ReminderService]:
    return add_review(service, store, ReviewConfig(fuzz=False, daily_limit=2))


async def reviewing(store: SqlStore, clock: FakeClock, *, questions: int) -> StudyService:
    """A study service over its own bank, with the review loop (limit 2, no fuzzing)."""
    codec = ActionCodec(await store.payload_secret())
    service = StudyService(store, FakeBank(make_questions(questions)), clock, codec,
                           StudyConfig(default_timezone="Asia/Shanghai"))
    add_review(service, store, ReviewConfig(fuzz=False, daily_limit=2))
    return service


async def grade_today(service: StudyService, actor: Actor, grade: Grade,
                      chat: ChatRef = GROUP) -> str:
    """Grade the chat's question of the day as `actor`; the toast."""
    today = (await cmd(service, Actor(chat, ChatKind.GROUP, actor.user, False), "today")).public[0]
    index = {Grade.KNEW: 1, Grade.PARTLY: 2, Grade.NOT_YET: 3}[grade]
    response = await service.handle_button(ButtonPress(actor, payloads(today)[index]))
    return response.toast


async def press(service: StudyService, actor: Actor, payload: str) -> str:
    return text_of(await service.handle_button(ButtonPress(actor, payload)))


def test_knew_partly_and_not_yet_map_to_good_hard_and_again() -> None:
    assert RATING_OF_GRADE == {Grade.KNEW: Rating.Good, Grade.PARTLY: Rating.Hard,
                               Grade.NOT_YET: Rating.Again}


async def test_a_question_graded_not_yet_in_a_group_comes_back_in_the_private_review(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    user_pk = await store.ensure_user(ALICE)
    card = (await store.cards_due(user_pk, clock.now() + dt.timedelta(days=1), 10))[0]
    assert card.state == State.Learning and card.due == clock.now() + dt.timedelta(minutes=1)

    assert "全部完成！下一张卡片 1 分钟后到期" in text_of(await cmd(service, private(), "review"))
    clock.advance(minutes=1)
    session = await cmd(service, private(), "review")
    assert "1 张卡片到期" in text_of(session) and "今天还能复习 2 张" in text_of(session)
    [show] = payloads(session.public[0])
    answer = await service.handle_button(ButtonPress(private(), show))
    knew, _, _ = payloads(answer.public[0])
    graded = await service.handle_button(ButtonPress(private(), knew))
    assert "已记录：会了。私聊连续 1 天" in graded.toast
    assert "全部完成！下一张卡片 10 分钟后到期" in text_of(Response(public=graded.public))


async def test_grading_the_same_days_question_again_replaces_the_rating_not_adds_a_review(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    await grade_today(service, member(ALICE), Grade.KNEW)
    user_pk = await store.ensure_user(ALICE)
    [card] = await store.cards_due(user_pk, clock.now() + dt.timedelta(days=30), 10)
    assert card.reps == 1
    assert card.due == clock.now() + dt.timedelta(minutes=10)  # Good on a new card, not Again


async def test_one_user_in_two_groups_has_one_card_per_question(
    store: SqlStore, clock: FakeClock,
) -> None:
    service = await reviewing(store, clock, questions=1)
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    await grade_today(service, member(ALICE, OTHER_GROUP), Grade.PARTLY, OTHER_GROUP)
    user_pk = await store.ensure_user(ALICE)
    cards = await store.cards_due(user_pk, clock.now() + dt.timedelta(days=30), 10)
    # The same question on the same day: the second grade replaced the first (partly → Hard).
    hard, _ = Scheduler(enable_fuzzing=False).review_card(
        Card(card_id=1, due=clock.now()), Rating.Hard, clock.now())
    assert [c.question_id for c in cards] == ["q00"] and cards[0].reps == 1
    assert cards[0].stability == hard.stability


async def test_a_card_in_review_is_shown_on_its_fsrs_due_day_and_not_before(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    await grade_today(service, member(ALICE), Grade.KNEW)  # learning: due in 10 minutes
    clock.advance(minutes=10)
    show = payloads((await cmd(service, private(), "review")).public[0])[0]
    knew = payloads((await service.handle_button(ButtonPress(private(), show))).public[0])[0]
    graded = await service.handle_button(ButtonPress(private(), knew))
    user_pk = await store.ensure_user(ALICE)
    card = await store.get_card(user_pk, (await store.cards_after(
        user_pk, clock.now(), 1))[0].question_id)
    assert card is not None and card.state == State.Review
    assert "2 天后到期" in text_of(graded)  # All done; next card due in 2 days
    due_day = (card.due.astimezone(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=4)
               ).date()

    clock.set(dt.datetime.combine(due_day, dt.time(4, 1), dt.timezone(dt.timedelta(hours=8)))
              - dt.timedelta(days=1))
    assert "全部完成" in text_of(await cmd(service, private(), "review"))
    clock.advance(days=1)  # 04:01 on the due day: hours before the due instant, same day
    assert clock.now() < card.due
    assert "1 张卡片到期" in text_of(await cmd(service, private(), "review"))


async def test_a_review_session_stops_at_the_daily_limit_and_says_so(
    store: SqlStore, clock: FakeClock,
) -> None:
    service = await reviewing(store, clock, questions=5)
    for _ in range(3):  # three days, three questions graded "not yet"
        await grade_today(service, member(ALICE), Grade.NOT_YET)
        clock.advance(days=1)
    session = await cmd(service, private(), "review")
    assert "3 张卡片到期" in text_of(session) and "今天还能复习 2 张" in text_of(session)
    for _ in range(2):
        show = payloads(session.public[0])[0]
        answer = await service.handle_button(ButtonPress(private(), show))
        session = await service.handle_button(ButtonPress(private(), payloads(
            answer.public[0])[0]))
    assert "今天已经复习了 2 张（每日上限）。1 张卡片到期" in text_of(session)
    # A grade button of the card left (from an older message) gets the same answer, no review.
    user_pk = await store.ensure_user(ALICE)
    [left] = await store.cards_due(user_pk, clock.now(), 10)
    knew = service.codec.encode(Action(Kind.REVIEW_KNEW, left.pk * 100 + left.reps))
    assert "（每日上限）。1 张卡片到期" in await press(service, private(), knew)
    assert (await store.get_card_by_pk(left.pk)) == left
    await cmd(service, private(), "lang", "en")
    assert "You reviewed 2 cards today, the daily limit. 1 card due" in text_of(
        await cmd(service, private(), "review"))


async def test_review_buttons_of_another_user_or_forged_ones_get_the_short_notice(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    clock.advance(minutes=1)
    show = payloads((await cmd(service, private(), "review")).public[0])[0]
    bob_dm = private(BOB, ChatRef("console", "dm-bob"))
    assert "这张卡片已经不可用了" in await press(service, bob_dm, show)
    forged = show[:-1] + ("A" if show[-1] != "A" else "B")
    assert "已经不可用" in await press(service, private(), forged)
    codec = ActionCodec(await store.payload_secret())
    assert "这张卡片已经不可用了" in await press(
        service, private(), codec.encode(Action(Kind.REVIEW_KNEW, 999_999 * 100)))
    # In a group the review buttons do nothing but say where reviews happen.
    assert "私聊" in await press(service, member(ALICE), show)


async def test_review_in_a_group_answers_only_the_user_and_the_group_sees_nothing(
    service: StudyService, loop: object,
) -> None:
    response = await cmd(service, member(ALICE), "review")
    assert not response.public and "私聊中发送 /review" in text_of(response)
    assert not (await cmd(service, member(ALICE), "remind", "21:00")).public


async def test_a_card_whose_question_left_the_bank_is_skipped_and_logged(
    service: StudyService, bank: FakeBank, clock: FakeClock, loop: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    clock.advance(minutes=1)
    show = payloads((await cmd(service, private(), "review")).public[0])[0]
    bank.replace([])
    with caplog.at_level(logging.WARNING):
        assert "还没有复习卡片" in text_of(await cmd(service, private(), "review"))
        assert "已经不可用" in await press(service, private(), show)
    assert "no longer in the bank" in caplog.text


async def test_a_review_counts_the_private_chats_day_and_never_a_groups(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    clock.advance(days=1)  # the next day: nothing graded in the group yet
    show = payloads((await cmd(service, private(), "review")).public[0])[0]
    answer = await service.handle_button(ButtonPress(private(), show))
    await service.handle_button(ButtonPress(private(), payloads(answer.public[0])[2]))
    user_pk = await store.ensure_user(ALICE)
    group = await store.get_chat(GROUP)
    dm = await store.get_chat(DM)
    assert group is not None and dm is not None
    assert await store.study_days(group.pk, user_pk) == (dt.date(2026, 3, 2),)
    assert await store.study_days(dm.pk, user_pk) == (dt.date(2026, 3, 3),)


async def test_tz_moves_the_review_day_and_the_reminder_but_not_a_groups_ledger(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    assert "Asia/Shanghai" in text_of(await cmd(service, private(), "tz"))
    assert "不认识时区“Mars/Base”" in text_of(await cmd(service, private(), "tz", "Mars/Base"))
    await cmd(service, private(), "remind", "21:00")
    user_pk = await store.ensure_user(ALICE)
    before = await store.get_reminder(user_pk)
    assert before is not None and before.next_run_at == dt.datetime(2026, 3, 2, 13, 0,
                                                                     tzinfo=dt.UTC)
    # 08:00 Monday in Shanghai is 00:00 UTC, still Sunday in New York (before its rollover).
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    assert "America/New_York" in text_of(await cmd(service, member(ALICE), "tz",
                                                   "america/new_york"))
    after = await store.get_reminder(user_pk)
    assert after is not None and after.timezone == "America/New_York"
    assert after.next_run_at == dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 21:00 EST
    group = await store.get_chat(GROUP)
    assert group is not None and group.timezone == "Asia/Shanghai"
    review = loop[0]  # type: ignore[index]
    assert review.today(await review.zone_of(user_pk, group), clock.now()) == dt.date(2026, 3, 1)
    assert await store.study_days(group.pk, user_pk) == (dt.date(2026, 3, 2),)


# ----- reminders --------------------------------------------------------------------------------


async def test_a_reminder_is_sent_once_at_the_local_time_with_what_waits(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger,
    loop: object,
) -> None:
    await cmd(service, private(), "lang", "en")
    await cmd(service, private(), "remind", "21:00")
    await grade_today(service, member(ALICE), Grade.NOT_YET)  # a card due in a minute
    clock.set(dt.datetime(2026, 3, 2, 12, 59, tzinfo=dt.UTC))
    assert (await service.push_due()).sent == 0
    clock.advance(minutes=1)
    report = await service.push_due()
    assert report.sent == 1
    [(where, message)] = messenger.sent
    assert where == DM and message.title == "⏰ Reminder"
    assert "1 card due" in text_of_message(message)
    assert (await service.push_due()).sent == 0


def text_of_message(message: OutgoingMessage) -> str:
    return text_of(Response(public=(message,)))


async def test_a_reminder_names_the_groups_streak_and_the_time_left(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger,
    loop: object,
) -> None:
    await subscribe_group(service)
    for _ in range(2):  # two days in a row in the group
        await grade_today(service, member(ALICE), Grade.KNEW)
        clock.advance(days=1)
    await cmd(service, private(), "lang", "en")
    await cmd(service, private(), "remind", "21:00")
    clock.set(dt.datetime(2026, 3, 4, 13, 0, tzinfo=dt.UTC))  # 21:00: reminder due
    await cmd(service, member(BOB), "today")  # the group's question of the day is out
    await service.push_due()
    [(_, message)] = [sent for sent in messenger.sent if sent[0] == DM]
    text = text_of_message(message)
    assert "2 cards due · your streak of 2 days in your group ends in 7 h" in text


async def subscribe_group(service: StudyService) -> None:
    await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")


async def test_nothing_to_do_means_no_reminder(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger,
    loop: object,
) -> None:
    await cmd(service, private(), "remind", "21:00")
    clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    report = await service.push_due()
    assert report.sent == 0 and report.quiet == 1 and not messenger.sent
    user_pk = await store.ensure_user(ALICE)
    assert await store.reminder_send_states(user_pk) == {dt.date(2026, 3, 2): "quiet"}


async def test_a_reminder_is_claimed_once_per_user_and_day_across_a_restart(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger,
    loop: object,
) -> None:
    await cmd(service, private(), "remind", "21:00")
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    assert (await service.push_due()).sent == 1
    # A second process on the same database (a restart, or another instance), same instant.
    again = StudyService(store, service.bank, clock, service.codec, service.config)
    add_review(again, store, ReviewConfig(fuzz=False))
    again.register_messenger(messenger)
    assert isinstance(again.push, PushPipeline) and again.push.run_id != service.push.run_id
    assert (await again.push_due()).sent == 0
    user_pk = await store.ensure_user(ALICE)
    reminder = await store.get_reminder(user_pk)
    assert reminder is not None and reminder.next_run_at == dt.datetime(2026, 3, 3, 13, 0,
                                                                        tzinfo=dt.UTC)
    assert len(messenger.sent) == 1


async def test_a_user_who_blocked_the_bot_is_not_reminded_until_they_write_again(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger,
    loop: object,
) -> None:
    await cmd(service, private(), "remind", "21:00")
    await grade_today(service, member(ALICE), Grade.NOT_YET)
    messenger.failures.append(ChatGone("bot was blocked by the user"))
    clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    assert (await service.push_due()).paused == 1
    clock.advance(days=1)
    assert (await service.push_due()).sent == 0  # paused: no claim at all
    user_pk = await store.ensure_user(ALICE)
    assert await store.reminder_paused(user_pk)
    await cmd(service, private(), "streak")  # they write to the bot
    assert not await store.reminder_paused(user_pk)
    clock.advance(days=1)
    assert (await service.push_due()).sent == 1


async def test_remind_explains_itself_and_can_be_turned_off(
    service: StudyService, store: SqlStore, loop: object,
) -> None:
    assert "/remind HH:MM" in text_of(await cmd(service, private(), "remind"))
    assert "用法" in text_of(await cmd(service, private(), "remind", "25:99"))
    assert "21:30（Asia/Shanghai）" in text_of(await cmd(service, private(), "remind", "21:30"))
    assert "21:30" in text_of(await cmd(service, private(), "remind"))
    assert "已关闭" in text_of(await cmd(service, private(), "remind", "off"))
    assert await store.get_reminder(await store.ensure_user(ALICE)) is None


async def test_help_lists_review_tz_and_remind(service: StudyService, loop: object) -> None:
    text = text_of(await cmd(service, private(), "help"))
    assert "/review" in text and "/tz" in text and "/remind" in text


async def test_reminder_sends_are_pruned_with_the_push_history(
    service: StudyService, store: SqlStore, clock: FakeClock, loop: object,
) -> None:
    await cmd(service, private(), "remind", "21:00")
    clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    for _ in range(3):  # three quiet days: nothing to say, each day's send still claimed
        assert (await service.push_due()).quiet == 1
        clock.advance(days=1)
    user_pk = await store.ensure_user(ALICE)
    assert len(await store.reminder_send_states(user_pk)) == 3
    clock.advance(days=89)  # the first two sends are now older than the 90 days kept
    deliveries, _ = await service.push.prune()
    assert deliveries == 2
    assert list(await store.reminder_send_states(user_pk)) == [dt.date(2026, 3, 4)]


async def test_a_reminder_before_the_rollover_counts_the_question_of_the_day_still_running(
    service: StudyService, store: SqlStore, clock: FakeClock, messenger: RecordingMessenger,
    loop: object,
) -> None:
    await subscribe_group(service)
    await grade_today(service, member(ALICE), Grade.KNEW)  # Monday, in the group
    await cmd(service, private(), "lang", "en")
    await cmd(service, private(), "remind", "02:00")  # 02:00 Shanghai, before the 04:00 rollover
    clock.set(dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC))  # Tuesday 09:00
    await service.push_due()  # Tuesday's 02:00 reminder has long gone by: set aside
    await cmd(service, member(BOB), "today")  # the group's question of Tuesday is out
    clock.set(dt.datetime(2026, 3, 3, 18, 0, tzinfo=dt.UTC))  # Wednesday 02:00, still Tuesday
    await service.push_due()
    [(_, message)] = [sent for sent in messenger.sent if sent[0] == DM]
    assert "your streak of 1 day in your group ends in 2 h" in text_of_message(message)
