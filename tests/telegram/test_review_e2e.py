"""The review loop on Telegram end to end: real Application, fake Bot API, real store and core.
A question graded "not yet" in the group comes back in the private chat; reminders arrive once
at the user's local time; the group never sees any of it."""

from __future__ import annotations

import datetime as dt

from bot.adapters.telegram.render import visible_text
from tests.telegram.conftest import Harness, HarnessFactory, Q
from tests.telegram.fake_botapi import (
    FakeBotApi,
    buttons,
    group_chat,
    private_chat,
    text_message,
    user,
)
from tests.telegram.test_telegram_e2e import ALICE, GROUP, press, say, subscribed_and_pushed


async def test_not_yet_in_the_group_comes_back_in_the_private_review_with_working_buttons(
    telegram: HarnessFactory, botapi: FakeBotApi,
) -> None:
    h = await telegram(questions=(Q("kv-cache"), Q("rope", title="什么是 RoPE？")))
    post = await subscribed_and_pushed(h)
    toast = await press(h, ALICE, post, row=1, col=2)  # ❌ not yet
    assert "已记录：还不会" in toast["text"]
    in_group = len(botapi.sent(GROUP))

    h.clock.advance(minutes=1)  # FSRS: "again" brings a new card back after a minute
    session = await say(botapi, private_chat(ALICE), ALICE, "/review")
    text = visible_text(session["text"])
    assert "1 张卡片到期 · 今天还能复习 20 张" in text and "什么是" in text
    [[show]] = buttons(session)
    assert len(show["callback_data"].encode()) <= 64

    before = len(botapi.sent(ALICE))
    await press(h, ALICE, session, row=0)
    answer = (await botapi.wait_for("sendMessage", before + 1, chat_id=ALICE))[before]
    assert "答案：" in visible_text(answer["text"])
    assert [b["text"] for b in buttons(answer)[0]] == ["✅ 会了", "🟡 部分会", "❌ 还不会"]

    before = len(botapi.sent(ALICE))
    graded = await press(h, ALICE, answer, row=0, col=0)
    assert "已记录：会了。私聊连续 1 天" in graded["text"]
    done = (await botapi.wait_for("sendMessage", before + 1, chat_id=ALICE))[before]
    assert "全部完成！下一张卡片 10 分钟后到期" in visible_text(done["text"])

    # The same button again (a double tap) replaces the rating: no second review, no new card.
    again = await press(h, ALICE, answer, row=0, col=1)
    assert "已记录：部分会" in again["text"]
    assert len(botapi.sent(GROUP)) == in_group  # the group saw none of it


async def test_review_in_the_group_sends_the_way_to_the_private_chat_and_nothing_to_the_group(
    telegram: HarnessFactory, botapi: FakeBotApi,
) -> None:
    await telegram()
    botapi.push(text_message(group_chat(GROUP), user(ALICE), "/review"))
    [hint] = await botapi.wait_for("sendMessage", 1, chat_id=ALICE)
    assert "私聊中发送 /review" in visible_text(hint["text"])
    botapi.push(text_message(group_chat(GROUP), user(ALICE), "/remind 21:00"))
    await botapi.wait_for("sendMessage", 2, chat_id=ALICE)
    assert botapi.sent(GROUP) == []


async def with_a_card_and_a_reminder(telegram: HarnessFactory) -> Harness:
    """Alice grades the group's question "not yet" and asks for a reminder at 21:00."""
    h = await telegram()
    post = await subscribed_and_pushed(h)
    await press(h, ALICE, post, row=1, col=2)
    reply = await say(h.api, private_chat(ALICE), ALICE, "/remind 21:00")
    assert "21:00（Asia/Shanghai）" in visible_text(reply["text"])
    return h


async def test_remind_fires_once_at_the_local_time_with_what_waits(
    telegram: HarnessFactory, botapi: FakeBotApi,
) -> None:
    h = await with_a_card_and_a_reminder(telegram)
    in_group = len(botapi.sent(GROUP))

    h.clock.set(dt.datetime(2026, 3, 2, 12, 59, tzinfo=dt.UTC))  # 20:59 in Shanghai
    assert (await h.push()).sent == 0
    before = len(botapi.sent(ALICE))
    h.clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    assert (await h.push()).sent == 1
    reminder = botapi.sent(ALICE)[before]
    assert visible_text(reminder["text"]).startswith("⏰ 提醒")
    assert "1 张卡片到期" in visible_text(reminder["text"])
    assert (await h.push()).sent == 0  # once a day
    assert len(botapi.sent(GROUP)) == in_group


async def test_a_user_who_blocked_the_bot_gets_no_reminder_until_they_write_again(
    telegram: HarnessFactory, botapi: FakeBotApi,
) -> None:
    h = await with_a_card_and_a_reminder(telegram)
    botapi.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=ALICE)
    h.clock.set(dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC))
    assert (await h.push()).paused == 1
    h.clock.advance(days=1)
    assert (await h.push()).sent == 0
    await say(botapi, private_chat(ALICE), ALICE, "/start")  # back
    h.clock.advance(days=1)
    assert (await h.push()).sent == 1


async def test_the_reminder_names_the_group_whose_streak_ends_and_the_time_left(
    telegram: HarnessFactory, botapi: FakeBotApi,
) -> None:
    h = await with_a_card_and_a_reminder(telegram)  # a day counted in "Study group" on the 2nd
    h.clock.set(dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC))  # 09:00 on the 3rd: the push
    assert (await h.push()).sent == 1
    before = len(botapi.sent(ALICE))
    h.clock.set(dt.datetime(2026, 3, 3, 13, 0, tzinfo=dt.UTC))  # 21:00: 7 h before 04:00
    assert (await h.push()).sent == 1
    [reminder] = botapi.sent(ALICE)[before:]
    assert ("1 张卡片到期 · 你在Study group的连续打卡（1 天）将在 7 小时后中断"
            in visible_text(reminder["text"]))


async def test_review_in_the_group_from_someone_the_bot_cannot_reach_gets_a_link_that_starts_it(
    telegram: HarnessFactory, botapi: FakeBotApi,
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    await press(h, ALICE, post, row=1, col=2)
    h.clock.advance(minutes=1)
    botapi.blocked_users.add(ALICE)  # never opened the private chat
    in_group = len(botapi.sent(GROUP))
    botapi.push(text_message(group_chat(GROUP), user(ALICE), "/review"))
    link = (await botapi.wait_for("sendMessage", in_group + 1, chat_id=GROUP))[in_group]
    assert "先打开和我的私聊：https://t.me/StudyTestBot?start=R0_" in visible_text(link["text"])
    payload = visible_text(link["text"]).split("?start=")[1].strip()

    botapi.blocked_users.discard(ALICE)  # they tap it: Telegram sends /start PAYLOAD
    session = await say(botapi, private_chat(ALICE), ALICE, f"/start {payload}")
    assert "1 张卡片到期" in visible_text(session["text"]) and buttons(session)
    assert len(botapi.sent(GROUP)) == in_group + 1
