"""/top hide and /top show: a member keeps off a chat's leaderboard, and comes back."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from bot.core.events import Actor, Command
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.study import StudyService
from bot.core.text import plain_text
from bot.storage.sql import open_store
from tests.fakes import FakeClock
from tests.history import study_on

GROUP = ChatRef("console", "g1")
OTHER = ChatRef("console", "g2")
ALICE = UserRef("console", "alice", "Alice")
BOB = UserRef("console", "bob", "Bob")
DAYS = [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]


def member(user: UserRef, chat: ChatRef = GROUP) -> Actor:
    return Actor(chat, ChatKind.GROUP, user, is_admin=False)


async def say(service: StudyService, actor: Actor, name: str, *args: str) -> str:
    response = await service.handle_command(Command(actor, name, args))
    return "\n".join(m.title + "\n" + plain_text(m.blocks) for m in response.public)


async def test_a_hidden_member_leaves_the_board_but_keeps_their_streak_until_they_show(
    service: StudyService, clock: FakeClock,
) -> None:
    await study_on(service, clock, member(ALICE), DAYS)
    await study_on(service, clock, member(BOB), DAYS[-1:])
    assert "排行榜不再显示你" in await say(service, member(ALICE), "top", "hide")
    board = await say(service, member(BOB), "top")
    assert "Alice" not in board and "1. Bob" in board
    assert "当前连续：2 天" in await say(service, member(ALICE), "streak")
    assert "重新出现" in await say(service, member(ALICE), "top", "show")
    assert "1. Alice" in await say(service, member(BOB), "top")


async def test_hiding_twice_or_showing_someone_shown_says_so(
    service: StudyService, clock: FakeClock,
) -> None:
    await say(service, member(ALICE), "top", "hide")
    assert "已经不在" in await say(service, member(ALICE), "top", "隐藏")
    await say(service, member(ALICE), "top", "show")
    assert "本来就在" in await say(service, member(ALICE), "top", "show")


async def test_hiding_in_one_group_leaves_the_member_on_another_groups_board(
    service: StudyService, clock: FakeClock,
) -> None:
    await study_on(service, clock, member(ALICE, GROUP), DAYS)
    await study_on(service, clock, member(ALICE, OTHER), DAYS)
    await say(service, member(ALICE, GROUP), "top", "hide")
    assert "Alice" not in await say(service, member(BOB, GROUP), "top")
    assert "1. Alice" in await say(service, member(BOB, OTHER), "top")


async def test_anything_else_after_top_gets_the_usage(service: StudyService) -> None:
    assert "/top hide" in await say(service, member(ALICE), "top", "vanish")
    assert "/top hide" in await say(service, member(ALICE), "top", "hide", "now")


async def test_a_database_from_before_hiding_gains_the_hidden_members_table_keeping_its_data(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/v4.db"
    before = await open_store(url, migrate=False)
    await before.migrate("0006")  # the revision before board_hidden
    chat = await before.ensure_chat(GROUP, ChatKind.GROUP, language="zh", timezone="UTC")
    user_pk = await before.ensure_user(ALICE)
    await before.close()
    store = await open_store(url)
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    try:
        assert await store.get_chat(GROUP) == chat
        assert await store.set_board_hidden(chat.pk, user_pk, True, now)
        assert not await store.set_board_hidden(chat.pk, user_pk, True, now)
    finally:
        await store.close()
    rows = sqlite3.connect(tmp_path / "v4.db").execute(
        "select chat_pk, user_pk from board_hidden").fetchall()
    assert rows == [(chat.pk, user_pk)]
