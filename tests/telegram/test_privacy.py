"""/forgetme and /export through the real Application and the fake Bot API."""

from __future__ import annotations

import json

from bot.core.models import UserRef
from tests.core.test_privacy import rows_naming
from tests.telegram.conftest import HarnessFactory
from tests.telegram.fake_botapi import FakeBotApi, group_chat, private_chat, text_message, user
from tests.telegram.test_telegram_e2e import BOB, GROUP, press, say, subscribed_and_pushed


async def test_forgetme_in_the_private_chat_deletes_the_user_after_the_confirming_press(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    await press(h, BOB, post, 0)  # reveal
    await press(h, BOB, post, 1)  # knew it
    bob = UserRef("telegram", str(BOB), f"User{BOB}")
    bob_pk = await h.app.store.find_user(bob)
    assert bob_pk is not None

    asked = await say(botapi, private_chat(BOB), BOB, "/forgetme")
    assert "1 条评分" in asked["text"] and "删除后无法恢复" in asked["text"]
    assert await h.app.store.find_user(bob) == bob_pk  # nothing goes before the press
    before = len(botapi.sent(BOB))
    answer = await press(h, BOB, asked, 0)
    assert answer["text"] == "已删除。"
    done = (await botapi.wait_for("sendMessage", before + 1, chat_id=BOB))[before]
    assert "已删除你的数据" in done["text"] and "1 条评分" in done["text"]
    assert await rows_naming(h.app.store, bob, bob_pk) == []
    board = await say(botapi, group_chat(GROUP), BOB, "/top")
    assert "User22" not in board["text"]


async def test_forgetme_in_a_group_points_to_the_private_chat(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    reply = await say(botapi, group_chat(GROUP), BOB, "/forgetme")
    assert "私聊" in reply["text"] and "reply_markup" not in reply


async def test_export_in_the_private_chat_sends_a_json_document(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    await press(h, BOB, post, 0)
    await press(h, BOB, post, 1, 2)  # not yet
    botapi.push(text_message(private_chat(BOB), user(BOB), "/export"))
    await botapi.wait_for("sendDocument", 1)
    [document] = botapi.files(BOB)
    assert document["method"] == "sendDocument"
    assert document["document"].filename.endswith(".json")
    data = json.loads(document["document"].data)
    assert data["user"]["user_id"] == str(BOB)
    [grade] = data["records"]["grades"]
    assert grade["grade"] == "not_yet" and grade["chat_day"]["chat"]["chat_id"] == str(GROUP)
    assert botapi.files(GROUP) == []
