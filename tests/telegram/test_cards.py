"""/streak and /top on Telegram read as compact cards: the title, then one line per row."""

from __future__ import annotations

import datetime as dt

from bot.adapters.telegram.render import visible_text
from tests.history import group_member, study_on
from tests.telegram.conftest import Harness, HarnessFactory
from tests.telegram.fake_botapi import FakeBotApi, group_chat
from tests.telegram.test_telegram_e2e import say

GROUP = -1001234
ALICE, BOB = 11, 22
DAYS = [dt.date(2026, 3, d) for d in (2, 3, 4)]


async def alice_three_days_bob_one(h: Harness) -> None:
    """Histories under the names the fake Bot API gives its users (User11, User22)."""
    service, clock = h.app.service, h.clock
    await study_on(service, clock, group_member("telegram", GROUP, ALICE, "User11"), DAYS)
    await study_on(service, clock, group_member("telegram", GROUP, BOB, "User22"), DAYS[-1:])


async def test_streak_is_the_title_and_one_block_of_lines_with_english_plurals(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    await study_on(h.app.service, h.clock, group_member("telegram", GROUP, BOB, "Bob"),
                   DAYS[-1:])
    botapi.members[(GROUP, ALICE)] = "administrator"
    await say(botapi, group_chat(GROUP), ALICE, "/lang en")
    shown = visible_text((await say(botapi, group_chat(GROUP), BOB, "/streak"))["text"])
    title, body = shown.split("\n\n")
    lines = body.split("\n")
    assert title.endswith("streak") and len(lines) >= 5
    assert lines[:2] == ["Current streak: 1 day", "Longest streak: 1 day"]


async def test_top_lists_members_on_consecutive_lines(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await alice_three_days_bob_one(await telegram())
    shown = visible_text((await say(botapi, group_chat(GROUP), BOB, "/top"))["text"])
    title, body = shown.split("\n\n")
    assert title == "🏆 排行榜"
    assert [line.split(" — ")[0] for line in body.split("\n")] == ["1. User11", "2. User22"]


async def test_top_hide_takes_the_member_off_the_board_and_top_show_puts_them_back(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await alice_three_days_bob_one(await telegram())
    hidden = await say(botapi, group_chat(GROUP), ALICE, "/top hide")
    assert "/top show" in visible_text(hidden["text"])
    board = visible_text((await say(botapi, group_chat(GROUP), BOB, "/top"))["text"])
    assert "User11" not in board and "1. User22" in board
    await say(botapi, group_chat(GROUP), ALICE, "/top show")
    board = visible_text((await say(botapi, group_chat(GROUP), BOB, "/top"))["text"])
    assert "1. User11" in board


async def test_stats_is_in_the_command_menu_and_help_names_it_with_top_hide(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    menus = {c.get("language_code", ""): c["commands"] for c in botapi.calls_to("setMyCommands")}
    english = {c["command"]: c["description"] for c in menus["en"]}
    assert english["stats"].startswith("your study calendar")
    assert "统计" not in english["stats"] and "学习日历" in {
        c["command"]: c["description"] for c in menus["zh"]}["stats"]
    shown = visible_text((await say(botapi, group_chat(GROUP), BOB, "/help"))["text"])
    assert "/stats [year|group]" in shown and "/top [hide|show]" in shown
