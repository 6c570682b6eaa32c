"""Files on Discord: the file is uploaded with the reply or post; a picture is shown as the
image of the message's embed (attachment://name), with its alt text as the file description."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.core import progress
from bot.core.events import Actor, Command
from bot.core.messages import OutgoingMessage, Response
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.study import StudyService
from bot.core.text import paragraph
from bot.pictures import heatmap
from tests.discord.fake_discord import ALICE, BOB, GENERAL, FakeDiscord
from tests.fakes import FakeClock, document_message, picture_message, tiny_png
from tests.history import study_on


async def test_a_scheduled_picture_is_uploaded_and_shown_as_the_embeds_image(
    bot: DiscordAdapter, fake: FakeDiscord
) -> None:
    await bot.send(ChatRef("discord", str(GENERAL)), picture_message("Five days"))
    [post] = fake.messages_in(GENERAL)
    [upload] = post.files
    assert upload["filename"] == "progress.png" and upload["data"] == tiny_png(64, 32)
    assert upload["description"] == "A green square"
    [embed] = post.embeds
    assert embed["image"]["url"] == "attachment://progress.png"
    assert embed["title"] == "Progress" and embed["description"] == "Five days"


async def test_a_file_that_is_not_a_picture_is_attached_without_an_embed_image(
    bot: DiscordAdapter, fake: FakeDiscord
) -> None:
    await bot.send(ChatRef("discord", str(GENERAL)), document_message())
    [post] = fake.messages_in(GENERAL)
    assert [f["filename"] for f in post.files] == ["export.json"]
    assert post.files[0]["data"] == b'{"days": 3}'
    assert "image" not in post.embeds[0]


async def test_a_private_picture_is_an_ephemeral_reply_only_the_user_sees(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def core_answer(command: Command) -> Response:
        # The core answering with a note for the channel and a picture for the user alone.
        return Response(public=(OutgoingMessage(blocks=(paragraph("Sent to you"),)),),
                        private=(picture_message("Only yours"),))

    monkeypatch.setattr(service, "handle_command", core_answer)
    interaction = await fake.slash(BOB, GENERAL, "today")
    note, picture = await fake.answered(interaction, 2)
    assert not note.ephemeral and not note.files
    assert picture.ephemeral and picture.files[0]["filename"] == "progress.png"
    assert picture.embeds[0]["image"]["url"] == "attachment://progress.png"


async def test_an_unsafe_file_name_is_cleaned_so_the_embed_still_finds_the_picture(
    bot: DiscordAdapter, fake: FakeDiscord
) -> None:
    base = picture_message()
    assert base.attachment is not None
    odd = OutgoingMessage(title="Progress", attachment=type(base.attachment)(
        "进度 图 (1).png", base.attachment.data, "image/png"))
    await bot.send(ChatRef("discord", str(GENERAL)), odd)
    [post] = fake.messages_in(GENERAL)
    name = post.files[0]["filename"]
    assert name.endswith(".png") and name.isascii() and " " not in name
    assert post.embeds[0]["image"]["url"] == f"attachment://{name}"


# ----- /stats -----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


async def test_stats_in_a_server_is_an_ephemeral_embed_showing_the_members_calendar(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    progress.install(service)
    channel = ChatRef("discord", str(GENERAL))
    await study_on(service, clock, Actor(channel, ChatKind.GROUP, UserRef(
        "discord", str(ALICE), "Alice"), False), [dt.date(2026, 3, d) for d in (2, 3, 4)])
    pictures = {}
    for member in (ALICE, BOB):
        interaction = await fake.slash(member, GENERAL, "stats")
        [reply] = await fake.answered(interaction)
        assert reply.ephemeral and interaction.deferred_ephemeral
        [upload] = reply.files
        assert upload["filename"] == "stats.png" and upload["description"]
        assert png_size(upload["data"]) == heatmap.size(26)
        assert reply.embeds[0]["image"]["url"] == "attachment://stats.png"
        pictures[member] = (reply.text, upload["data"])
    assert "当前连续 3 天" in pictures[ALICE][0] and "当前连续 0 天" in pictures[BOB][0]
    assert pictures[ALICE][1] != pictures[BOB][1]
    assert fake.messages_in(GENERAL) == []


async def test_stats_for_the_channels_week_is_shown_to_everyone(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService,
) -> None:
    progress.install(service)
    interaction = await fake.slash(BOB, GENERAL, "stats",
                                   [{"name": "view", "type": 3, "value": "group"}])
    [reply] = await fake.answered(interaction)
    assert not reply.ephemeral and "本群本周" in reply.text and not reply.files


async def test_stats_is_a_slash_command_with_a_chinese_name_and_its_views_as_choices(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    [stats] = [c for c in fake.commands[None] if c["name"] == "stats"]
    assert stats["name_localizations"]["zh-CN"] == "统计"
    [view] = stats["options"]
    assert [c["value"] for c in view["choices"]] == ["year", "group"]
    assert view["choices"][1]["name_localizations"]["zh-CN"] == "本频道"
