"""/forgetme and /export through discord.py against the fake Discord."""

from __future__ import annotations

import json

from bot.adapters.discord import DiscordAdapter
from bot.core.models import UserRef
from bot.core.privacy import PrivacyService
from bot.core.study import StudyService
from bot.storage.sql import SqlStore
from tests.core.test_privacy import rows_naming
from tests.discord.fake_discord import BOB, BOB_DM, GENERAL, FakeDiscord
from tests.discord.test_adapter import push, subscribe
from tests.fakes import FakeClock


async def test_forgetme_in_a_dm_deletes_the_user_after_the_confirming_press(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    PrivacyService(store, service.bank, clock, service.codec).register(service)
    await subscribe(fake)
    message = await push(service, clock, fake)
    [answer] = await fake.answered(await fake.press(BOB, message, message.buttons[0]["custom_id"]))
    await fake.answered(await fake.press(BOB, answer, answer.buttons[0]["custom_id"]))
    bob_pk = await store.find_user(UserRef("discord", str(BOB)))
    assert bob_pk is not None
    bob = UserRef("discord", str(BOB), "Bob")  # the fake's display name for Bob

    [asked] = await fake.answered(await fake.slash(BOB, BOB_DM, "forgetme"))
    assert "1 条评分" in asked.text and len(asked.buttons) == 1
    pressed = await fake.press(BOB, asked, asked.buttons[0]["custom_id"])
    [done] = await fake.answered(pressed)
    assert "已删除你的数据" in done.text
    assert await rows_naming(store, bob, bob_pk) == []
    board = await fake.posted_in(GENERAL, await fake.slash(BOB, GENERAL, "top"))
    assert "Bob" not in board.text


async def test_forgetme_in_a_server_channel_answers_only_the_one_who_asked(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    PrivacyService(store, service.bank, clock, service.codec).register(service)
    interaction = await fake.slash(BOB, GENERAL, "forgetme")
    [reply] = await fake.answered(interaction)
    assert interaction.deferred_ephemeral and reply.ephemeral and "私聊" in reply.text
    assert fake.messages_in(GENERAL) == []


async def test_export_in_a_dm_attaches_the_json_file(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    PrivacyService(store, service.bank, clock, service.codec).register(service)
    await subscribe(fake)
    message = await push(service, clock, fake)
    [answer] = await fake.answered(await fake.press(BOB, message, message.buttons[0]["custom_id"]))
    await fake.answered(await fake.press(BOB, answer, answer.buttons[1]["custom_id"]))  # partly
    [reply] = await fake.answered(await fake.slash(BOB, BOB_DM, "export"))
    [upload] = reply.files
    assert upload["filename"].endswith(".json")
    data = json.loads(upload["data"])
    assert data["user"]["user_id"] == str(BOB) and data["user"]["display_name"] == "Bob"
    assert [g["grade"] for g in data["records"]["grades"]] == ["partly"]
