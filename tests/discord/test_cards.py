"""/streak and /top on Discord read as compact cards: one embed, its lines one under another."""

from __future__ import annotations

import datetime as dt

from bot.adapters.discord import DiscordAdapter
from bot.core.study import StudyService
from tests.discord.fake_discord import ALICE, BOB, GENERAL, FakeDiscord
from tests.fakes import FakeClock
from tests.history import group_member, study_on

DAYS = [dt.date(2026, 3, d) for d in (2, 3, 4)]


async def test_streak_and_top_have_no_blank_line_between_their_rows(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await study_on(service, clock, group_member("discord", GENERAL, ALICE, "Alice"), DAYS)
    await study_on(service, clock, group_member("discord", GENERAL, BOB, "Bob"), DAYS[-1:])
    [streak] = await fake.answered(await fake.slash(BOB, GENERAL, "streak"))
    [embed] = streak.embeds
    lines = embed["description"].split("\n")
    assert len(lines) >= 5 and "" not in lines
    assert lines[0] == "**当前连续：1 天**"
    top = await fake.posted_in(GENERAL, await fake.slash(BOB, GENERAL, "top"))
    rows = top.embeds[0]["description"].split("\n")
    assert [row.split(" — ")[0] for row in rows] == ["1\\. Alice", "2\\. Bob"]


async def test_top_hide_is_answered_only_to_the_member_and_takes_them_off_the_board(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await study_on(service, clock, group_member("discord", GENERAL, ALICE, "Alice"), DAYS)
    await study_on(service, clock, group_member("discord", GENERAL, BOB, "Bob"), DAYS[-1:])
    hide = await fake.slash(ALICE, GENERAL, "top", [{"name": "me", "type": 3, "value": "hide"}])
    [answer] = await fake.answered(hide)
    assert answer.ephemeral and "/top show" in answer.text
    board = await fake.posted_in(GENERAL, await fake.slash(BOB, GENERAL, "top"))
    assert not board.ephemeral and "Alice" not in board.text and "1\\. Bob" in board.text


async def test_top_offers_hide_and_show_as_choices_in_both_languages(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    [top] = [c for c in fake.commands[None] if c["name"] == "top"]
    [me] = top["options"]
    assert [c["value"] for c in me["choices"]] == ["hide", "show"]
    assert me["name_localizations"]["zh-CN"] == "显示"
    assert me["choices"][0]["name_localizations"]["zh-CN"] == "隐藏我"
