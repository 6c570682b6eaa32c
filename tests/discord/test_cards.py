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
    [top] = await fake.answered(await fake.slash(BOB, GENERAL, "top"))
    rows = top.embeds[0]["description"].split("\n")
    assert [row.split(" — ")[0] for row in rows] == ["1\\. Alice", "2\\. Bob"]
