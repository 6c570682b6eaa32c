"""The group sends on Telegram: the answer as a reply at a set time, the leaderboard edited in
place, the weekly digest; through the real Application and the fake Bot API."""

from __future__ import annotations

import asyncio

from bot.adapters.telegram.render import visible_text
from bot.core.models import ChatRef
from bot.core.together_model import JobKind
from tests.telegram.conftest import Harness, HarnessFactory
from tests.telegram.fake_botapi import FakeBotApi, buttons, group_chat
from tests.telegram.test_telegram_e2e import (
    ALICE,
    BOB,
    GROUP,
    admin,
    press,
    say,
    subscribed_and_pushed,
)


async def board_kept(h: Harness, message_id: int) -> None:
    """Wait (briefly) until the adapter has told the core which message is the board."""
    chat = await h.app.store.get_chat(ChatRef("telegram", str(GROUP)))
    assert chat is not None
    for _ in range(500):
        job = await h.app.store.get_job(chat.pk, JobKind.BOARD)
        if job is not None and job.message_id == str(message_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the board was never kept")


def posted_ids(botapi: FakeBotApi, chat_id: int, containing: str = "") -> list[int]:
    return sorted(mid for (chat, mid), message in botapi.messages.items()
                  if chat == chat_id and containing in message.get("text", ""))


async def test_the_answer_is_posted_once_at_21_as_a_reply_to_the_question(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    await subscribed_and_pushed(h)  # 09:01 in Shanghai
    [question_id] = posted_ids(botapi, GROUP, "每日一题")
    reply = await say(botapi, group_chat(GROUP), ALICE, "/answer 21:00")
    assert "21:00" in visible_text(reply["text"])
    refused = await say(botapi, group_chat(GROUP), BOB, "/answer 22:00")
    assert "管理员" in refused["text"]
    before = len(botapi.sent(GROUP))
    h.clock.advance(hours=11, minutes=58)  # 20:59
    await h.push()
    assert len(botapi.sent(GROUP)) == before
    h.clock.advance(minutes=1)
    await h.push()
    [answer] = botapi.sent(GROUP)[before:]
    assert answer["reply_parameters"]["message_id"] == question_id
    assert "今日答案" in visible_text(answer["text"])
    assert len(buttons(answer)[0]) == 3
    delivered = botapi.messages[(GROUP, max(posted_ids(botapi, GROUP)))]
    assert delivered["reply_to_message"]["message_id"] == question_id
    await h.push()
    h.clock.advance(hours=2)
    await h.push()
    assert len(botapi.sent(GROUP)) == before + 1


async def test_the_leaderboard_message_is_edited_as_grades_come_in_and_reposted_if_deleted(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)
    board = await say(botapi, group_chat(GROUP), BOB, "/top")
    board_id = max(posted_ids(botapi, GROUP))
    assert "排行榜" in visible_text(board["text"])
    await board_kept(h, board_id)
    h.clock.advance(minutes=2)
    await press(h, BOB, post, 1, 0)  # knew it
    await h.push()
    [edit] = botapi.calls_to("editMessageText")
    assert edit["message_id"] == board_id and "User22" in visible_text(edit["text"])
    assert "User22" in botapi.messages[(GROUP, board_id)]["text"]
    sent = len(botapi.sent(GROUP))

    botapi.delete(GROUP, board_id)
    admin(botapi)
    h.clock.advance(minutes=2)
    await press(h, ALICE, post, 1, 1)  # partly
    await h.push()
    assert len(botapi.sent(GROUP)) == sent + 1  # posted anew, once
    new_board = max(posted_ids(botapi, GROUP))
    assert "User11" in botapi.messages[(GROUP, new_board)]["text"]
    h.clock.advance(minutes=2)
    await press(h, ALICE, post, 1, 0)  # a second thought edits the new one
    await h.push()
    assert botapi.calls_to("editMessageText")[-1]["message_id"] == new_board


async def test_the_weekly_digest_counts_the_grades_and_its_buttons_reveal_privately(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    post = await subscribed_and_pushed(h)  # Monday 09:01
    on = await say(botapi, group_chat(GROUP), ALICE, "/digest on")
    assert "2026-03-09 04:00" in visible_text(on["text"])
    await press(h, BOB, post, 1, 2)  # not yet
    await press(h, ALICE, post, 1, 0)  # knew it
    h.clock.advance(days=6, hours=18, minutes=59)  # Monday 03-09, 04:00 in Shanghai
    before = len(botapi.sent(GROUP))
    await h.push()
    digest = next(m for m in botapi.sent(GROUP)[before:] if "上周回顾" in m["text"])
    text = visible_text(digest["text"])
    assert "✅ 50% · 🟡 0% · ❌ 50%（2 人评分）" in text and "最难的一题" in text
    [[reveal]] = buttons(digest)
    private = len(botapi.sent(BOB))
    await press(h, BOB, digest, 0)
    [answer] = (await botapi.wait_for("sendMessage", private + 1, chat_id=BOB))[private:]
    assert "答案" in visible_text(answer["text"]) and reveal["text"] == "👀 1"


async def test_a_new_week_starts_a_new_leaderboard_message(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    await subscribed_and_pushed(h)  # Monday 2026-03-02
    await say(botapi, group_chat(GROUP), BOB, "/top")
    old_board = max(posted_ids(botapi, GROUP))
    await board_kept(h, old_board)
    h.clock.advance(days=7)  # the next Monday, 09:01: a new week
    post = await say(botapi, group_chat(GROUP), BOB, "/today")
    await press(h, BOB, post, 1, 0)
    await h.push()
    assert botapi.calls_to("editMessageText") == []
    new_board = max(posted_ids(botapi, GROUP, "排行榜"))
    assert new_board > old_board and "User22" in botapi.messages[(GROUP, new_board)]["text"]
    assert "User22" not in botapi.messages[(GROUP, old_board)]["text"]  # last week's stays
