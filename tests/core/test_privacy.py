"""/forgetme and /export over a real store: what a user can take with them and have deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import String, Text, select

from bot.app import add_review
from bot.core.actions import Action, Kind
from bot.core.events import Actor, ButtonPress
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.privacy import EXPORT_FORMAT, PrivacyService
from bot.core.review import ReviewConfig
from bot.core.study import StudyService
from bot.storage.schema import grades, metadata, users
from bot.storage.sql import SqlStore
from tests.core.test_study import GROUP, admin, cmd, member, payloads, text_of
from tests.fakes import FakeClock

BOB = UserRef("console", "bob-7731", "Bob Dylanovich")
BOB_DM = ChatRef("console", "dm-bob-7731")
ALICE = UserRef("console", "alice", "Alice")


def bob_private() -> Actor:
    return Actor(BOB_DM, ChatKind.PRIVATE, BOB, is_admin=True)


def bob_in_group() -> Actor:
    return member(BOB)


@pytest.fixture
async def privacy(service: StudyService, store: SqlStore, clock: FakeClock) -> PrivacyService:
    privacy = PrivacyService(store, service.bank, clock, service.codec)
    privacy.register(service)
    return privacy


async def study_a_little(service: StudyService, clock: FakeClock) -> None:
    """Alice and Bob study in the group for two days; Bob also studies alone in his DM."""
    for _ in range(2):
        for actor in (bob_in_group(), member(ALICE)):
            question = (await cmd(service, actor, "today")).public[0]
            await service.handle_button(ButtonPress(actor, payloads(question)[0]))  # reveal
            await service.handle_button(ButtonPress(actor, payloads(question)[1]))  # knew
        alone = (await cmd(service, bob_private(), "today")).public[0]
        await service.handle_button(ButtonPress(bob_private(), payloads(alone)[3]))  # not yet
        clock.advance(days=1)
    await cmd(service, bob_private(), "subscribe", "07:30", "Europe/Berlin")


async def rows_naming(store: SqlStore, user: UserRef, user_pk: int) -> list[tuple[str, Any]]:
    """Every row in every table that points at the user, holds their id (as a chat id too: a
    Telegram private chat's id is the user's) or contains their name."""
    found = []
    async with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                for column in table.columns:
                    value = row._mapping[column.name]
                    points = any(fk.column.table is users for fk in column.foreign_keys)
                    if (points and value == user_pk) or (
                            isinstance(column.type, String | Text) and isinstance(value, str)
                            and (value == user.user_id
                                 or (user.display_name and user.display_name in value))):
                        found.append((table.name, dict(row._mapping)))
    return found


async def confirm_button(service: StudyService) -> str:
    asked = await cmd(service, bob_private(), "forgetme")
    [[button]] = asked.public[0].buttons
    return button.payload


async def test_forgetme_in_a_group_only_points_to_the_private_chat_and_deletes_nothing(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    reply = await cmd(service, bob_in_group(), "forgetme")
    assert "私聊" in text_of(reply) and not reply.public[0].buttons
    assert await store.find_user(BOB) is not None
    assert "私聊" in text_of(await cmd(service, bob_in_group(), "export"))


async def test_forgetme_says_what_would_go_and_waits_for_the_confirming_press(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    await cmd(service, bob_private(), "lang", "en")
    asked = text_of(await cmd(service, bob_private(), "forgetme"))
    assert "4 grades" in asked and "2 answers you viewed" in asked
    assert "4 study days" in asked and "your name" in asked and "cannot be undone" in asked
    assert await store.find_user(BOB) is not None


async def test_the_confirming_press_leaves_no_row_that_names_the_user_in_any_table(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    bob_pk = await store.find_user(BOB)
    assert bob_pk is not None and await rows_naming(store, BOB, bob_pk)
    done = await service.handle_button(ButtonPress(bob_private(), await confirm_button(service)))
    assert "已删除" in done.toast and "4 条评分" in text_of(done)
    assert await rows_naming(store, BOB, bob_pk) == []
    # The group and Alice are as they were; Bob is off the board.
    group = await store.get_chat(GROUP)
    assert group is not None and await store.get_subscription(group.pk) is None
    board = text_of(await cmd(service, member(ALICE), "top"))
    assert "Alice" in board and "Bob" not in board
    assert len(await store.study_days(group.pk, await store.ensure_user(ALICE))) == 2


async def test_the_group_keeps_its_subscription_when_a_member_is_forgotten(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await cmd(service, admin(), "subscribe", "09:00", "Asia/Shanghai")
    await study_a_little(service, clock)
    await service.handle_button(ButtonPress(bob_private(), await confirm_button(service)))
    group = await store.get_chat(GROUP)
    assert group is not None and await store.get_subscription(group.pk) is not None
    assert await store.get_chat(BOB_DM) is None


async def test_a_confirm_button_pressed_by_anyone_else_deletes_nothing(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    payload = await confirm_button(service)
    mallory = Actor(ChatRef("console", "dm-mallory"), ChatKind.PRIVATE,
                    UserRef("console", "mallory"), is_admin=True)
    refused = await service.handle_button(ButtonPress(mallory, payload))
    assert "不可用" in refused.toast
    in_group = await service.handle_button(ButtonPress(bob_in_group(), payload))
    assert "不可用" in in_group.toast
    real = service.codec.encode(Action(Kind.FORGET, 1))
    forged = real[:-2] + ("AA" if real[-2:] != "AA" else "BB")  # never the real signature
    assert "不可用" in (await service.handle_button(ButtonPress(bob_private(), forged))).toast
    assert await store.find_user(BOB) is not None


async def test_an_old_confirm_button_does_nothing_after_the_user_came_back(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    payload = await confirm_button(service)
    await service.handle_button(ButtonPress(bob_private(), payload))
    await study_a_little(service, clock)  # Bob starts afresh
    again = await service.handle_button(ButtonPress(bob_private(), payload))
    assert "不可用" in again.toast and await store.find_user(BOB) is not None


async def test_export_sends_one_json_file_with_everything_stored_about_the_user(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    reply = await cmd(service, bob_private(), "export")
    [message] = reply.public
    assert message.attachment is not None
    assert message.attachment.media_type == "application/json"
    assert message.attachment.filename.endswith(".json")
    data = json.loads(message.attachment.data)
    assert data["format"] == EXPORT_FORMAT and data["version"] == 1
    assert data["user"]["user_id"] == BOB.user_id
    assert data["user"]["display_name"] == BOB.display_name
    assert data["private_chat"]["subscription"]["local_time"] == "07:30"
    records = data["records"]
    assert len(records["grades"]) == 4 and len(records["reveals"]) == 2
    assert len(records["study_days"]) == 4
    grade = records["grades"][0]
    assert set(grade) == {"chat_day", "grade", "graded_at"}
    assert grade["chat_day"]["question_title"].startswith("问题")
    assert grade["chat_day"]["chat"]["chat_id"] in (GROUP.chat_id, BOB_DM.chat_id)
    assert grade["graded_at"].endswith("Z")
    # Nothing of Alice's is in Bob's file.
    assert "alice" not in message.attachment.data.decode().lower()


async def test_forgetme_for_someone_the_bot_knows_nothing_about_says_so(
    service: StudyService, privacy: PrivacyService, store: SqlStore,
) -> None:
    stranger = Actor(ChatRef("console", "dm-new"), ChatKind.PRIVATE,
                     UserRef("console", "new", "New"), is_admin=True)
    reply = await cmd(service, stranger, "forgetme")
    assert "没有保存" in text_of(reply) and not reply.public[0].buttons
    assert await store.get_chat(ChatRef("console", "dm-new")) is None


async def test_forgetme_takes_the_review_cards_and_the_reminder_too(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    add_review(service, store, ReviewConfig())
    await study_a_little(service, clock)
    await cmd(service, bob_private(), "remind", "21:00")
    await cmd(service, bob_private(), "tz", "Europe/Berlin")
    asked = text_of(await cmd(service, bob_private(), "forgetme"))
    assert "4 张复习卡片" in asked and "你的每日提醒" in asked
    bob_pk = await store.find_user(BOB)
    assert bob_pk is not None
    await service.handle_button(ButtonPress(bob_private(), await confirm_button(service)))
    assert await rows_naming(store, BOB, bob_pk) == []


async def test_a_forgotten_user_who_comes_back_starts_afresh_under_a_new_key(
    service: StudyService, privacy: PrivacyService, store: SqlStore, clock: FakeClock,
) -> None:
    await study_a_little(service, clock)
    old_pk = await store.find_user(BOB)
    await service.handle_button(ButtonPress(bob_private(), await confirm_button(service)))
    question = (await cmd(service, bob_in_group(), "today")).public[0]
    graded = await service.handle_button(ButtonPress(bob_in_group(), payloads(question)[1]))
    assert "连续 1 天" in graded.toast
    new_pk = await store.find_user(BOB)
    assert new_pk is not None and new_pk != old_pk
    async with store.engine.connect() as conn:
        owners = {row.user_pk for row in (await conn.execute(select(grades))).all()}
    assert old_pk not in owners and new_pk in owners
