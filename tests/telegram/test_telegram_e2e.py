"""The Telegram adapter end to end: real python-telegram-bot Application, fake Bot API over HTTP
on 127.0.0.1, real SQLite store, real core. The clock is fake; nothing sleeps for real."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import Conflict

from bot.adapters.telegram.render import visible_text
from bot.core.i18n import t
from bot.core.models import ChatRef
from tests.fakes import FakeClock
from tests.telegram.conftest import Harness, HarnessFactory, Q
from tests.telegram.fake_botapi import (
    FakeBotApi,
    buttons,
    callback,
    group_chat,
    my_chat_member,
    private_chat,
    sent_message,
    text_message,
    user,
)

GROUP = -1001234
ALICE, BOB = 11, 22  # alice administers the group; bob is a member


def admin(api: FakeBotApi, user_id: int = ALICE, chat_id: int = GROUP) -> None:
    api.members[(chat_id, user_id)] = "administrator"


async def say(api: FakeBotApi, chat: dict[str, Any], sender: int, text: str, *,
              thread: int | None = None) -> dict[str, Any]:
    """Send a text as `sender` and return the bot's next message to that chat."""
    before = len(api.sent(chat["id"]))
    api.push(text_message(chat, user(sender), text, thread=thread))
    found = await api.wait_for("sendMessage", before + 1, chat_id=chat["id"])
    return found[before]


async def subscribed_and_pushed(h: Harness, at: str = "09:00") -> dict[str, Any]:
    """Alice subscribes the group; the clock reaches the time; the push goes out."""
    admin(h.api)
    await say(h.api, group_chat(GROUP), ALICE, f"/subscribe {at} Asia/Shanghai")
    h.clock.advance(hours=1, minutes=1)  # 08:00 → 09:01 in Shanghai
    before = len(h.api.sent(GROUP))
    report = await h.push()
    assert report.sent == 1
    return h.api.sent(GROUP)[before]


async def press(h: Harness, sender: int, post: dict[str, Any], row: int, col: int = 0) -> dict:
    data = buttons(post)[row][col]["callback_data"]
    before = len(h.api.calls_to("answerCallbackQuery"))
    h.api.push(callback(user(sender), sent_message(post), data))
    answers = await h.api.wait_for("answerCallbackQuery", before + 1)
    return answers[before]


# ----- start, help, menu ------------------------------------------------------------------------


async def test_start_in_a_private_chat_welcomes_the_user_with_the_commands(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    botapi.push(text_message(private_chat(ALICE), user(ALICE), "/start"))
    welcome, commands = await botapi.wait_for("sendMessage", 2, chat_id=ALICE)
    assert visible_text(welcome["text"]) == t("zh", "welcome")
    assert "/subscribe" in commands["text"] and commands["parse_mode"] == "HTML"


async def test_start_in_a_group_answers_in_the_group(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    botapi.push(text_message(group_chat(GROUP), user(BOB), "/start@StudyTestBot"))
    _, commands = await botapi.wait_for("sendMessage", 2, chat_id=GROUP)
    assert "/today" in commands["text"]


async def test_a_command_for_another_bot_is_ignored(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    botapi.push(text_message(group_chat(GROUP), user(BOB), "/today@SomeOtherBot"))
    reply = await say(botapi, group_chat(GROUP), BOB, "/help")
    assert len(botapi.sent(GROUP)) == 1 and "/streak" in reply["text"]


async def test_the_command_menu_is_published_in_chinese_and_english(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    menus = {c.get("language_code", ""): c["commands"] for c in botapi.calls_to("setMyCommands")}
    assert set(menus) == {"", "zh", "en"}
    english = {c["command"]: c["description"] for c in menus["en"]}
    assert {"today", "streak", "top", "subscribe", "lang", "help"} <= set(english)
    assert english["today"] == "today's question"
    assert {c["command"]: c["description"] for c in menus["zh"]}["today"] == "今天的题目"


# ----- subscribe and push -----------------------------------------------------------------------


async def test_an_admin_subscribes_the_group_and_a_member_is_refused(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    admin(botapi)
    refused = await say(botapi, group_chat(GROUP), BOB, "/subscribe 08:30")
    assert visible_text(refused["text"]) == t("zh", "admins_only")
    accepted = await say(botapi, group_chat(GROUP), ALICE, "/subscribe 08:30 Asia/Shanghai")
    assert "08:30" in accepted["text"] and "Asia/Shanghai" in accepted["text"]
    asked = {(c["chat_id"], c["user_id"]) for c in botapi.calls_to("getChatMember")}
    assert asked == {(GROUP, BOB), (GROUP, ALICE)}


async def test_an_anonymous_group_admin_may_subscribe(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    group = group_chat(GROUP)
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                 "username": "GroupAnonymousBot"}
    botapi.push(text_message(group, anonymous, "/subscribe 07:00", sender_chat=group))
    reply = (await botapi.wait_for("sendMessage", chat_id=GROUP))[0]
    assert "07:00" in reply["text"]
    assert botapi.calls_to("getChatMember") == []


async def test_the_daily_question_arrives_at_the_local_time_with_reveal_and_grade_buttons(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    admin(botapi)
    await say(botapi, group_chat(GROUP), ALICE, "/subscribe 09:00 Asia/Shanghai")
    clock.advance(minutes=59)  # 08:59 in Shanghai
    assert (await h.push()).sent == 0
    clock.advance(minutes=1)
    assert (await h.push()).sent == 1
    post = botapi.sent(GROUP)[-1]
    assert "什么是 KV Cache？" in post["text"] and post["parse_mode"] == "HTML"
    labels = [[b["text"] for b in row] for row in buttons(post)]
    assert labels == [[t("zh", "btn_reveal")],
                      [t("zh", "btn_knew"), t("zh", "btn_partly"), t("zh", "btn_not_yet")]]
    assert (await h.push()).sent == 0  # once per day


async def test_today_shows_the_same_question_the_push_carries(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram([Q("one", title="第一题"), Q("two", title="第二题"),
                        Q("three", title="第三题")])
    post = await subscribed_and_pushed(h)
    today = await say(botapi, group_chat(GROUP), BOB, "/today")
    assert visible_text(today["text"]).splitlines()[:3] == visible_text(
        post["text"]).splitlines()[:3]


async def test_a_forum_topic_gets_the_push_in_the_topic_where_it_subscribed(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    admin(botapi)
    forum = group_chat(GROUP, forum=True)
    reply = await say(botapi, forum, ALICE, "/subscribe 09:00", thread=7)
    assert reply["message_thread_id"] == 7
    clock.advance(hours=1)
    assert (await h.push()).sent == 1
    assert botapi.sent(GROUP)[-1]["message_thread_id"] == 7


async def test_a_channel_subscribes_from_a_post_and_gets_its_question(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    channel = {"id": -1002000, "type": "channel", "title": "LLM daily"}
    post = text_message(channel, None, "/subscribe 09:00", sender_chat=channel)
    botapi.push({"channel_post": post["message"]})
    reply = (await botapi.wait_for("sendMessage", chat_id=-1002000))[0]
    assert "09:00" in reply["text"]
    clock.advance(hours=1)
    assert (await h.push()).sent == 1
    edited = text_message(channel, None, "/unsubscribe", sender_chat=channel)
    botapi.push({"edited_channel_post": {**edited["message"], "edit_date": 1}})
    await say(botapi, private_chat(ALICE), ALICE, "/help")
    assert len(botapi.sent(-1002000)) == 2  # the edit did nothing


# ----- reveal and grade -------------------------------------------------------------------------


async def test_reveal_in_a_group_sends_the_answer_privately_and_nothing_to_the_group(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    in_group = len(botapi.sent(GROUP))
    answer = await press(h, BOB, post, 0)
    private = botapi.sent(BOB)
    assert len(private) == 1 and "KV Cache" in private[0]["text"]
    assert [b["text"] for b in buttons(private[0])[0]] == [
        t("zh", "btn_knew"), t("zh", "btn_partly"), t("zh", "btn_not_yet")]
    assert answer["text"] == t("zh", "revealed_toast") and "url" not in answer
    assert len(botapi.sent(GROUP)) == in_group


async def test_a_user_the_bot_cannot_write_to_gets_a_start_link_that_shows_the_answer(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    botapi.blocked_users.add(BOB)
    answer = await press(h, BOB, post, 0)
    assert answer["url"].startswith("https://t.me/StudyTestBot?start=")
    payload = answer["url"].split("start=", 1)[1]
    assert payload == buttons(post)[0][0]["callback_data"]
    botapi.blocked_users.discard(BOB)  # the user taps the link: Telegram opens the chat
    reply = await say(botapi, private_chat(BOB), BOB, f"/start {payload}")
    assert "KV Cache" in reply["text"] and len(buttons(reply)[0]) == 3


async def test_grading_counts_the_day_and_streak_shows_it(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    answer = await press(h, BOB, post, 1, 0)  # knew it
    assert answer["text"] == t("zh", "graded", grade=t("zh", "grade_knew"), n=1)
    again = await press(h, BOB, post, 1, 0)
    assert again["text"] == t("zh", "grade_changed", grade=t("zh", "grade_knew"), n=1)
    streak = await say(botapi, group_chat(GROUP), BOB, "/streak")
    assert t("zh", "streak_current", n=1) in visible_text(streak["text"])


async def test_the_leaderboard_ranks_two_members(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram([Q("one"), Q("two")])
    post = await subscribed_and_pushed(h)
    await press(h, BOB, post, 1, 0)
    await press(h, ALICE, post, 1, 1)
    clock.advance(days=1)
    assert (await h.push()).sent == 1
    await press(h, BOB, botapi.sent(GROUP)[-1], 1, 2)
    board = visible_text((await say(botapi, group_chat(GROUP), ALICE, "/top"))["text"])
    lines = [line for line in board.splitlines() if line.strip()]
    assert lines[1].startswith("1.") and "User22" in lines[1]
    assert lines[2].startswith("2.") and "User11" in lines[2]


async def test_a_double_tap_on_reveal_sends_the_answer_once(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    await press(h, BOB, post, 0)
    await press(h, BOB, post, 0)
    assert len(botapi.sent(BOB)) == 1
    assert len(botapi.calls_to("answerCallbackQuery")) == 2


async def test_forged_callback_data_gets_a_short_answer_and_no_data(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    real = buttons(post)[0][0]["callback_data"]
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    for data in (forged, "r1_AAAAAAAAAAA", "garbage", "💥" * 16):
        before = len(botapi.calls_to("answerCallbackQuery"))
        botapi.push(callback(user(BOB), sent_message(post), data))
        answer = (await botapi.wait_for("answerCallbackQuery", before + 1))[before]
        assert answer["text"] == t("zh", "stale_button")
    assert botapi.sent(BOB) == []


# ----- long and tricky content ------------------------------------------------------------------


async def test_a_long_answer_is_split_into_valid_messages_within_the_limit(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    paragraph = "长答案的一段话，用来测试拆分。" * 60  # 900 characters
    long_answer = "\n\n".join(f"### 第{i}部分\n\n**要点 {i}：** {paragraph}" for i in range(12))
    h = await telegram([Q("long", answer=long_answer)])
    post = await subscribed_and_pushed(h)
    await press(h, BOB, post, 0)
    parts = botapi.sent(BOB)
    assert len(parts) >= 3
    seen = ""
    for part in parts:
        text = visible_text(part["text"])
        assert len(text.encode("utf-16-le")) // 2 <= 4096
        seen += text
    assert seen.count(paragraph) == 12  # nothing lost, nothing cut mid-paragraph
    assert buttons(parts[-1]) and all(not buttons(p) for p in parts[:-1])


async def test_html_special_characters_in_content_are_escaped(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    answer = ("比较 `a < b && c > d` 与 **粗体 <b>不是标签</b>**，星号 *斜体* 和 2 * 3 & 4。\n\n"
              "```python\nif x < 3 and y & 1:\n    print('<ok>')\n```\n")
    h = await telegram([Q("tricky", title="为什么 <script> & 1 < 2？", answer=answer)])
    post = await subscribed_and_pushed(h)
    assert "为什么 <script> & 1 < 2？" in visible_text(post["text"])
    await press(h, BOB, post, 0)
    text = botapi.sent(BOB)[0]["text"]  # the fake rejects malformed HTML with a 400
    assert "<code>a &lt; b &amp;&amp; c &gt; d</code>" in text
    assert "<b>粗体 &lt;b&gt;不是标签&lt;/b&gt;</b>" in text
    assert "<i>斜体</i>" in text and "2 * 3 &amp; 4" in text
    assert "print('&lt;ok&gt;')" in text and 'class="language-python"' in text


# ----- failures while pushing -------------------------------------------------------------------


async def test_a_429_waits_retry_after_and_sends_the_same_message_once(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    admin(botapi)
    await say(botapi, group_chat(GROUP), ALICE, "/subscribe 09:00")
    botapi.fail("sendMessage", 429, "Too Many Requests: retry after 7", chat_id=GROUP,
                parameters={"retry_after": 7})
    clock.advance(hours=1)
    report = await h.push()
    assert report.sent == 1 and h.sleeps == [7.0]
    attempts = botapi.sent(GROUP)[-2:]
    assert attempts[0]["text"] == attempts[1]["text"]


async def test_a_send_that_times_out_is_marked_uncertain_and_not_sent_twice(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram(read_timeout=0.2)
    admin(botapi)
    await say(botapi, group_chat(GROUP), ALICE, "/subscribe 09:00")
    botapi.slow["sendMessage"] = 1.0  # the one bounded real wait: longer than the timeout
    clock.advance(hours=1)
    report = await h.push()
    assert report.uncertain == 1 and report.sent == 0
    chat = await h.app.store.get_chat(ChatRef("telegram", str(GROUP)))
    assert chat is not None
    sub = await h.app.store.get_subscription(chat.pk)
    assert sub is not None
    assert [state for state, _ in (await h.app.store.delivery_states(sub.pk)).values()] == [
        "uncertain"]
    clock.advance(minutes=30)
    before = len(botapi.sent(GROUP))
    assert (await h.push()).sent == 0 and len(botapi.sent(GROUP)) == before


async def test_a_403_pauses_the_subscription_and_the_next_days_send_nothing(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    admin(botapi)
    await say(botapi, group_chat(GROUP), ALICE, "/subscribe 09:00")
    botapi.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat",
                chat_id=GROUP)
    clock.advance(hours=1)
    assert (await h.push()).paused == 1
    clock.advance(days=1)
    before = len(botapi.sent(GROUP))
    assert (await h.push()).sent == 0 and len(botapi.sent(GROUP)) == before


async def test_a_migrated_group_gets_the_push_at_its_new_id_from_then_on(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram([Q("one"), Q("two")])
    old, new = -555, -1009999
    admin(botapi, chat_id=old)
    await say(botapi, group_chat(old, kind="group"), ALICE, "/subscribe 09:00")
    botapi.fail("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                chat_id=old, parameters={"migrate_to_chat_id": new})
    clock.advance(hours=1)
    report = await h.push()
    assert (report.sent, report.moved) == (1, 1)
    assert len(botapi.sent(new)) == 1
    clock.advance(days=1)
    assert (await h.push()).sent == 1
    assert len(botapi.sent(new)) == 2


async def test_a_migration_notice_moves_the_subscription_before_any_push(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    old, new = -556, -1008888
    admin(botapi, chat_id=old)
    await say(botapi, group_chat(old, kind="group"), ALICE, "/subscribe 09:00")
    notice = text_message(group_chat(old, kind="group"), user(ALICE), "x")
    del notice["message"]["text"]
    notice["message"]["migrate_to_chat_id"] = new
    botapi.push(notice)
    await say(botapi, private_chat(ALICE), ALICE, "/help")  # updates are handled in order
    clock.advance(hours=1)
    assert (await h.push()).sent == 1
    assert len(botapi.sent(new)) == 1 and len(botapi.sent(old)) == 1  # only the confirmation


async def test_removing_the_bot_from_a_group_pauses_its_subscription(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    admin(botapi)
    await say(botapi, group_chat(GROUP), ALICE, "/subscribe 09:00")
    botapi.push(my_chat_member(group_chat(GROUP), user(ALICE), "member", "kicked"))
    await say(botapi, private_chat(ALICE), ALICE, "/help")
    clock.advance(hours=1)
    assert (await h.push()).sent == 0
    assert len(botapi.sent(GROUP)) == 1


async def test_one_failing_chat_does_not_stop_the_push_to_the_others(
    telegram: HarnessFactory, botapi: FakeBotApi, clock: FakeClock
) -> None:
    h = await telegram()
    other = -1007777
    admin(botapi)
    admin(botapi, chat_id=other)
    await say(botapi, group_chat(GROUP), ALICE, "/subscribe 09:00")
    await say(botapi, group_chat(other), ALICE, "/subscribe 09:00")
    botapi.fail("sendMessage", 500, "Internal Server Error", chat_id=GROUP)
    clock.advance(hours=1)
    report = await h.push()
    assert (report.sent, report.failed) == (1, 1)
    assert len(botapi.sent(other)) == 2


# ----- odd input --------------------------------------------------------------------------------


async def test_huge_and_odd_unicode_messages_get_an_answer_not_a_crash(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    chat = private_chat(BOB)
    weird = "/subscribe 25:99 \u202e\u0000🏳️‍🌈" + "字" * 5000
    reply = await say(botapi, chat, BOB, weird)
    assert "25:99" in reply["text"]
    reply = await say(botapi, chat, BOB, "x" * 5000)
    assert visible_text(reply["text"]) == t("zh", "input_too_long", limit=4096)
    reply = await say(botapi, chat, BOB, "/subscribe 09:00 Mars/Olympus_Mons")
    assert "Mars/Olympus_Mons" in visible_text(reply["text"])


async def test_the_adapter_reports_connected_while_polling_and_down_when_polling_fails(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    assert h.adapter.connected
    botapi.fail("getUpdates", 502, "Bad Gateway")
    for _ in range(200):  # bounded: the poller meets the error within a few polls
        if not h.adapter.connected:
            break
        await asyncio.sleep(0.01)
    assert not h.adapter.connected  # polling failed just now: reported down
    await h.adapter.stop()
    assert not h.adapter.connected
    await asyncio.sleep(0)


async def test_a_second_poller_is_named_in_one_log_line_however_often_telegram_answers_409(
    telegram: HarnessFactory, botapi: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    h = await telegram()
    said = "Conflict: terminated by other getUpdates request; make sure that only one bot " \
           "instance is running"
    botapi.fail("getUpdates", 409, said)
    for _ in range(200):  # bounded: the poller meets the 409 within a few polls
        if not h.adapter.connected:
            break
        await asyncio.sleep(0.01)
    assert not h.adapter.connected
    # PTB retries with a growing pause; its next 409 comes straight to the same callback.
    h.adapter._on_polling_error(Conflict(said))
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.adapters")]
    conflicts = [line for line in lines if "another instance is polling" in line]
    assert len(conflicts) == 1 and "webhook mode" in conflicts[0] and said in conflicts[0]
    assert not [line for line in lines if "polling failed" in line]


# ----- webhook mode -----------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_registers_the_url_and_accepts_only_updates_with_the_secret(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    import aiohttp

    port = free_port()
    await telegram(telegram_webhook_url="https://bot.example.com/tg-hook",
                   telegram_webhook_listen=f"127.0.0.1:{port}",
                   telegram_webhook_secret="s3cret-Value_1")
    registered = botapi.calls_to("setWebhook")[0]
    assert registered["url"] == "https://bot.example.com/tg-hook"
    assert registered["secret_token"] == "s3cret-Value_1"
    assert botapi.calls_to("getUpdates") == []
    update = {"update_id": 1, **text_message(private_chat(BOB), user(BOB), "/help")}
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{port}/tg-hook"
        async with http.post(url, json=update) as refused:
            assert refused.status == 403
        async with http.post(url, json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Value_1"}) as ok:
            assert ok.status == 200
    reply = (await botapi.wait_for("sendMessage", chat_id=BOB))[0]
    assert "/subscribe" in reply["text"]
