"""The review loop on Discord end to end: the real discord.py client against the fake Discord.
A question graded "not yet" in a channel comes back in the DM review; /review in a server
only answers the user, ephemerally; a reminder arrives once, in the DM, at the local time."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.app import add_review
from bot.core.review import ReviewConfig
from bot.core.study import StudyService
from bot.settings import Settings
from bot.storage.sql import SqlStore
from tests.discord.conftest import start_adapter
from tests.discord.fake_discord import ALICE, ALICE_DM, GENERAL, FakeDiscord, Sent
from tests.discord.test_adapter import option, push, subscribe
from tests.fakes import FakeClock


@pytest.fixture
async def bot(service: StudyService, store: SqlStore,
              settings: Settings) -> AsyncIterator[DiscordAdapter]:
    add_review(service, store, ReviewConfig(fuzz=False))
    adapter = await start_adapter(service, settings)
    yield adapter
    task = adapter._task
    assert task is not None and not task.done(), "the discord.py gateway task died"
    await adapter.stop()


async def not_yet_in_the_channel(fake: FakeDiscord, service: StudyService,
                                 clock: FakeClock) -> Sent:
    """The daily question in #general, graded "not yet" by Alice; the channel's message."""
    await subscribe(fake)
    message = await push(service, clock, fake)
    graded = await fake.press(ALICE, message, message.buttons[3]["custom_id"])
    assert "已记录：还不会" in (await fake.answered(graded))[0].text
    return message


async def test_not_yet_in_a_channel_comes_back_in_the_dm_review_with_working_buttons(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    message = await not_yet_in_the_channel(fake, service, clock)
    clock.advance(minutes=1)
    [session] = await fake.answered(await fake.slash(ALICE, ALICE_DM, "review"))
    assert "1 张卡片到期" in session.text and "🔁 复习" in session.text
    [show] = session.buttons
    assert len(show["custom_id"]) <= 100
    [answer] = await fake.answered(await fake.press(ALICE, session, show["custom_id"]))
    assert "答案：" in answer.text
    assert [b["label"] for b in answer.buttons] == ["✅ 会了", "🟡 部分会", "❌ 还不会"]
    done, toast = await fake.answered(await fake.press(ALICE, answer,
                                                        answer.buttons[0]["custom_id"]), 2)
    assert "全部完成！下一张卡片 10 分钟后到期" in done.text
    assert "已记录：会了。私聊连续 1 天" in toast.text
    assert fake.messages_in(GENERAL) == [message]  # the channel saw none of it


async def test_review_tz_and_remind_in_a_server_answer_only_the_user(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    review = await fake.slash(ALICE, GENERAL, "review")
    [hint] = await fake.answered(review)
    assert review.deferred_ephemeral and hint.ephemeral and "私聊中发送 /review" in hint.text
    tz = await fake.slash(ALICE, GENERAL, "tz", [option("timezone", "Europe/Berlin")])
    [set_] = await fake.answered(tz)
    assert tz.deferred_ephemeral and "Europe/Berlin" in set_.text
    assert fake.messages_in(GENERAL) == []


async def test_remind_fires_once_in_the_dm_at_the_local_time(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    message = await not_yet_in_the_channel(fake, service, clock)
    [reply] = await fake.answered(await fake.slash(ALICE, ALICE_DM, "remind",
                                                   [option("time", "21:00")]))
    assert "21:00（Asia/Shanghai）" in reply.text
    clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    assert (await asyncio.wait_for(service.push_due(), 10)).sent == 1
    [reminder] = fake.messages_in(ALICE_DM)
    assert "⏰ 提醒" in reminder.text and "1 张卡片到期" in reminder.text
    assert (await asyncio.wait_for(service.push_due(), 10)).sent == 0
    assert fake.messages_in(GENERAL) == [message]


async def test_the_new_commands_are_synced_with_chinese_names(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    commands = {c["name"]: c for c in fake.commands[None]}
    assert commands["review"]["name_localizations"]["zh-CN"] == "复习"
    assert commands["tz"]["name_localizations"]["zh-CN"] == "时区"
    assert commands["remind"]["name_localizations"]["zh-CN"] == "提醒"
    assert commands["tz"]["options"][0]["autocomplete"] is True
