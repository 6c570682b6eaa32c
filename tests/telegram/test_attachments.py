"""Files on Telegram: a picture goes out as sendPhoto, any other file as sendDocument, with the
message text as caption (what does not fit Telegram's 1024 characters follows as messages)."""

from __future__ import annotations

import datetime as dt

from bot.adapters.telegram.render import visible_text
from bot.core.events import Actor, Command
from bot.core.messages import Button, OutgoingMessage, Response
from bot.core.models import Chat, ChatKind, ChatRef, UserRef
from bot.core.text import paragraph
from bot.pictures import heatmap
from tests.fakes import document_message, picture_message, tiny_png
from tests.history import study_on
from tests.telegram.conftest import HarnessFactory
from tests.telegram.fake_botapi import (
    FakeBotApi,
    buttons,
    group_chat,
    png_size,
    text_message,
    user,
)

GROUP = -1001234
ALICE, BOB = 11, 22


async def test_a_picture_is_sent_as_a_photo_captioned_with_the_text_and_its_buttons(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    row = (Button("Again", "rv-1"),)
    await h.adapter.send(ChatRef("telegram", str(GROUP)),
                         picture_message("Five days this month", buttons=(row,)))
    [photo] = botapi.files(GROUP)
    assert photo["method"] == "sendPhoto" and photo["photo"].filename == "progress.png"
    assert photo["photo"].data == tiny_png(64, 32)
    assert visible_text(photo["caption"]) == "Progress\n\nFive days this month"
    assert [b["text"] for b in buttons(photo)[0]] == ["Again"]
    assert botapi.sent(GROUP) == []  # nothing more than the photo


async def test_a_text_longer_than_a_caption_follows_the_photo_as_a_message(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    long_text = "第" * 1500
    row = (Button("Again", "rv-1"),)
    await h.adapter.send(ChatRef("telegram", str(GROUP)),
                         picture_message(long_text, buttons=(row,)))
    [photo] = botapi.files(GROUP)
    assert visible_text(photo["caption"]) == "Progress" and not buttons(photo)
    [rest] = botapi.sent(GROUP)
    assert visible_text(rest["text"]) == long_text
    assert [b["text"] for b in buttons(rest)[0]] == ["Again"]


async def test_a_file_that_is_not_a_picture_is_sent_as_a_document(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    await h.adapter.send(ChatRef("telegram", str(GROUP)), document_message("Your data"))
    [document] = botapi.files(GROUP)
    assert document["method"] == "sendDocument"
    assert document["document"].filename == "export.json"
    assert document["document"].data == b'{"days": 3}'
    assert visible_text(document["caption"]) == "Your data"


async def test_a_picture_without_text_is_captioned_with_its_alt_text(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    bare = picture_message()
    await h.adapter.send(ChatRef("telegram", str(GROUP)),
                         OutgoingMessage(attachment=bare.attachment))
    [photo] = botapi.files(GROUP)
    assert photo["caption"] == "A green square"
    assert png_size(photo["photo"].data) == (64, 32)


async def test_a_private_picture_asked_for_in_a_group_reaches_only_the_users_private_chat(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()

    async def picture(command: Command, chat: Chat) -> Response:
        return Response(public=(OutgoingMessage(blocks=(paragraph("Sent to you"),)),),
                        private=(picture_message("Only yours"),))

    h.app.service.add_command("picture", picture)
    botapi.push(text_message(group_chat(GROUP), user(BOB), "/picture"))
    [photo] = await botapi.wait_for("sendPhoto", chat_id=BOB)
    assert visible_text(photo["caption"]) == "Progress\n\nOnly yours"
    assert botapi.files(GROUP) == []
    assert visible_text(botapi.sent(GROUP)[0]["text"]) == "Sent to you"


# ----- /stats -----------------------------------------------------------------------------------


async def test_stats_in_a_group_is_a_photo_of_each_members_own_calendar(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    h = await telegram()
    group = ChatRef("telegram", str(GROUP))
    days = [dt.date(2026, 3, d) for d in (2, 3, 4, 5)]
    await study_on(h.app.service, h.clock, Actor(group, ChatKind.GROUP, UserRef(
        "telegram", str(ALICE), "Alice"), False), days)
    await study_on(h.app.service, h.clock, Actor(group, ChatKind.GROUP, UserRef(
        "telegram", str(BOB), "Bob"), False), days[-1:])
    pictures = {}
    for sender in (ALICE, BOB):
        before = len(botapi.files(GROUP))
        botapi.push(text_message(group_chat(GROUP), user(sender), "/stats"))
        photo = (await botapi.wait_for("sendPhoto", before + 1, chat_id=GROUP))[before]
        assert png_size(photo["photo"].data) == heatmap.size(26)
        pictures[sender] = photo
    assert "当前连续 4 天" in visible_text(pictures[ALICE]["caption"])
    assert "当前连续 1 天" in visible_text(pictures[BOB]["caption"])
    assert pictures[ALICE]["photo"].data != pictures[BOB]["photo"].data
    assert botapi.sent(GROUP) == []  # the caption carried all of the text
