"""The Discord adapter end to end: the real discord.py client against the fake Discord, over the
real StudyService and a SQLite store. GIVEN a connected bot, WHEN a user acts, THEN Discord sees…
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
import pytest
from pydantic import SecretStr

from bot.adapters.discord import DiscordAdapter, DiscordStartError
from bot.adapters.discord.adapter import INVITE_PERMISSIONS
from bot.adapters.discord.commands import build_commands, suggest_zones
from bot.adapters.discord.render import DESCRIPTION_LIMIT, EMBEDS_PER_MESSAGE, MESSAGE_EMBED_TOTAL
from bot.core.actions import ActionCodec
from bot.core.messages import OutgoingMessage
from bot.core.models import ChatRef, Question
from bot.core.ports import ChatGone, DeliveryError, SendTimedOut, TemporaryFailure
from bot.core.study import StudyConfig, StudyService
from bot.settings import ConfigError, Settings
from bot.storage.sql import SqlStore, open_store
from tests.conftest import REPO
from tests.discord.conftest import TOKEN, start_adapter
from tests.discord.fake_discord import (
    ALICE,
    ALICE_DM,
    BOB,
    CAROL,
    GENERAL,
    GUILD_ID,
    MANAGE_CHANNELS,
    PLAIN_MEMBER,
    STUDY,
    FakeDiscord,
    Sent,
)
from tests.fakes import FakeBank, FakeClock

CHANNEL_OPTION, STRING_OPTION = 7, 3
MESSAGES = r"/channels/\d+/messages"


def option(name: str, value: str) -> dict[str, object]:
    return {"name": name, "type": STRING_OPTION, "value": value}


async def subscribe(fake: FakeDiscord, user: int = ALICE, channel: int = GENERAL,
                    time: str = "09:00", zone: str = "Asia/Shanghai") -> list[Sent]:
    interaction = await fake.slash(user, channel, "subscribe",
                                   [option("time", time), option("timezone", zone)])
    return await fake.answered(interaction)


async def push(service: StudyService, clock: FakeClock, fake: FakeDiscord,
               channel: int = GENERAL) -> Sent:
    """Move the clock to 09:00 in Shanghai and let the scheduler's push run."""
    clock.advance(hours=1)
    report = await asyncio.wait_for(service.push_due(), 10)
    assert report.sent == 1, report
    return fake.messages_in(channel)[-1]


async def subscription_of(store: SqlStore, channel: int) -> object:
    chat = await store.get_chat(ChatRef("discord", str(channel)))
    return None if chat is None else await store.get_subscription(chat.pk)


# ----- slash commands ------------------------------------------------------------------------


async def test_an_admin_subscribes_the_channel_and_everyone_sees_the_confirmation(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    [reply] = await subscribe(fake)
    assert "已订阅：每天 09:00（Asia/Shanghai）" in reply.text
    assert not reply.ephemeral
    sub = await subscription_of(store, GENERAL)
    assert sub is not None and sub.active  # type: ignore[attr-defined]


async def test_the_command_is_acknowledged_before_the_core_answers(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    interaction = await fake.slash(ALICE, GENERAL, "help")
    await fake.answered(interaction)
    callback_at = next(i for i, c in enumerate(fake.calls) if c.path.endswith("/callback"))
    followup_at = next(i for i, c in enumerate(fake.calls) if c.path.startswith("/webhooks/"))
    assert callback_at < followup_at
    assert interaction.callbacks == [{"type": 5}]  # deferred, "thinking", visible to all


async def test_a_member_without_manage_permissions_is_refused_privately(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    [reply] = await subscribe(fake, user=BOB)
    assert "只有群管理员" in reply.text
    assert reply.ephemeral and interaction_flags(fake) == [64]
    assert await subscription_of(store, GENERAL) is None


def interaction_flags(fake: FakeDiscord) -> list[int]:
    return [(c.body.get("data") or {}).get("flags", 0) for c in fake.calls
            if c.path.endswith("/callback")]


async def test_manage_server_alone_is_enough_to_subscribe(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    [reply] = await subscribe(fake, user=CAROL)
    assert "已订阅" in reply.text and not reply.ephemeral
    assert await subscription_of(store, GENERAL) is not None


async def test_the_daily_question_reaches_a_dm_subscription(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await subscribe(fake, user=ALICE, channel=ALICE_DM)
    message = await push(service, clock, fake, channel=ALICE_DM)
    assert "每日一题" in message.text and len(message.buttons) == 4
    interaction = await fake.press(ALICE, message, message.buttons[0]["custom_id"])
    assert "答案：" in (await fake.answered(interaction))[0].text


async def test_an_admin_can_subscribe_another_text_channel(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    resolved = {"channels": {str(STUDY): {"id": str(STUDY), "type": 0, "name": "study",
                                          "permissions": str(PLAIN_MEMBER | MANAGE_CHANNELS)}}}
    interaction = await fake.slash(
        ALICE, GENERAL, "subscribe",
        [{"name": "channel", "type": CHANNEL_OPTION, "value": str(STUDY)}, option("time", "21:30")],
        resolved=resolved)
    [reply] = await fake.answered(interaction)
    assert "21:30" in reply.text
    assert await subscription_of(store, STUDY) is not None
    assert await subscription_of(store, GENERAL) is None


async def test_a_voice_channel_is_refused_as_a_target_with_a_clear_answer(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    resolved = {"channels": {"77": {"id": "77", "type": 2, "name": "voice",
                                    "permissions": str(PLAIN_MEMBER | MANAGE_CHANNELS)}}}
    interaction = await fake.slash(ALICE, GENERAL, "subscribe",
                                   [{"name": "channel", "type": CHANNEL_OPTION, "value": "77"}],
                                   resolved=resolved)
    [reply] = await fake.answered(interaction)
    assert reply.ephemeral and "文字频道" in reply.text


async def test_a_bad_time_gets_the_cores_explanation(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    [reply] = await subscribe(fake, time="25:99")
    assert "25:99" in reply.text and "HH:MM" in reply.text
    assert await subscription_of(store, GENERAL) is None


async def test_in_a_dm_with_the_bot_the_user_is_the_admin(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    [reply] = await subscribe(fake, user=BOB, channel=ALICE_DM)
    assert "已订阅" in reply.text
    chat = await store.get_chat(ChatRef("discord", str(ALICE_DM)))
    assert chat is not None and chat.kind == "private"


async def test_lang_switches_the_channel_to_english(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    interaction = await fake.slash(ALICE, GENERAL, "lang", [option("language", "en")])
    [reply] = await fake.answered(interaction)
    assert reply.text == "Language set to English."
    help_ = await fake.answered(await fake.slash(BOB, GENERAL, "help"))
    assert "Commands" in help_[0].text


async def test_pack_lists_for_everyone_and_only_a_manager_may_choose(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    listing = await fake.answered(await fake.slash(BOB, GENERAL, "pack"))
    assert "题库" in listing[0].text
    refused = await fake.answered(await fake.slash(BOB, GENERAL, "pack",
                                                   [option("choice", "all")]))
    assert "管理员" in refused[0].text
    [done] = await fake.answered(await fake.slash(ALICE, GENERAL, "tags",
                                                  [option("choice", "all")]))
    assert "取消标签筛选" in done.text and not done.ephemeral


async def test_the_timezone_option_autocompletes_at_most_25_iana_names(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    interaction = await fake.slash(
        ALICE, GENERAL, "subscribe",
        [{"name": "timezone", "type": STRING_OPTION, "value": "shang", "focused": True}],
        autocomplete=True)
    await fake.wait_for(lambda: interaction.callbacks)
    [callback] = interaction.callbacks
    assert callback["type"] == 8  # autocomplete result
    assert callback["data"]["choices"] == [{"name": "Asia/Shanghai", "value": "Asia/Shanghai"}]
    assert len(suggest_zones("a")) == 25 and suggest_zones("")[0] == "Asia/Shanghai"


async def test_commands_are_synced_globally_with_chinese_localizations(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    commands = {c["name"]: c for c in fake.commands[None]}
    assert set(commands) == {"subscribe", "unsubscribe", "today", "streak", "top", "stats", "lang",
                             "pack", "tags", "answer", "digest", "export", "forgetme", "help",
                             "review", "tz", "remind"}
    subscribe_ = commands["subscribe"]
    assert subscribe_["name_localizations"]["zh-CN"] == "订阅"
    assert int(subscribe_["default_member_permissions"]) == MANAGE_CHANNELS
    assert commands["today"]["default_member_permissions"] is None
    assert [o["name"] for o in subscribe_["options"]] == ["channel", "time", "timezone"]
    assert subscribe_["options"][0]["channel_types"] == [0, 5]
    assert subscribe_["options"][2]["autocomplete"] is True
    assert fake.identify is not None and fake.identify["intents"] == 1  # guilds only


async def test_with_a_development_server_set_commands_are_synced_there(
    service: StudyService, fake: FakeDiscord, settings: Settings,
) -> None:
    adapter = await start_adapter(service, settings.model_copy(update={"discord_guild": GUILD_ID}))
    try:
        assert None not in fake.commands
        assert len(fake.commands[GUILD_ID]) == len(build_commands(adapter))
        # The copies answer too: Discord names the server in the interaction of a server command.
        interaction = await fake.slash(ALICE, GENERAL, "help")
        assert "可用命令" in (await fake.answered(interaction))[0].text
    finally:
        await adapter.stop()


# ----- the daily push and its buttons --------------------------------------------------------


async def test_the_scheduled_push_arrives_as_an_embed_with_reveal_and_grade_buttons(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await subscribe(fake)
    assert fake.messages_in(GENERAL) == []  # 08:00 in Shanghai: not yet
    message = await push(service, clock, fake)
    [embed] = message.embeds
    assert embed["title"] == "📘 每日一题 · 2026-03-02"
    assert "难度" in embed["description"] and "attention" in embed["description"]
    labels = [b["label"] for b in message.buttons]
    assert labels == ["👀 查看答案", "✅ 会了", "🟡 部分会", "❌ 还不会"]
    assert all(b["custom_id"].startswith("sb:") for b in message.buttons)


async def test_reveal_shows_the_answer_only_to_the_presser(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await subscribe(fake)
    message = await push(service, clock, fake)
    interaction = await fake.press(BOB, message, message.buttons[0]["custom_id"])
    [answer] = await fake.answered(interaction)
    assert interaction.deferred_ephemeral and answer.ephemeral
    assert "答案：" in answer.text and "要点" in answer.text
    assert [b["label"] for b in answer.buttons] == ["✅ 会了", "🟡 部分会", "❌ 还不会"]
    assert fake.messages_in(GENERAL) == [message]  # nothing new in the channel


async def test_grading_counts_the_day_privately_and_streak_shows_it(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await subscribe(fake)
    message = await push(service, clock, fake)
    revealed = await fake.press(BOB, message, message.buttons[0]["custom_id"])
    [answer] = await fake.answered(revealed)
    graded = await fake.press(BOB, answer, answer.buttons[0]["custom_id"])  # knew it
    [toast] = await fake.answered(graded)
    assert toast.ephemeral and "已记录：会了" in toast.text and "连续 1 天" in toast.text
    again = await fake.press(BOB, message, message.buttons[2]["custom_id"])  # second thoughts
    assert "评分已改为" in (await fake.answered(again))[0].text
    streak = await fake.answered(await fake.slash(BOB, GENERAL, "streak"))
    assert "当前连续：1 天" in streak[0].text and "Bob" in streak[0].text
    top = await fake.posted_in(GENERAL, await fake.slash(ALICE, GENERAL, "top"))
    assert "Bob" in top.text


async def test_today_posts_the_same_question_with_working_buttons(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    [today] = await fake.answered(await fake.slash(BOB, GENERAL, "today"))
    assert not today.ephemeral and "每日一题 · 2026-03-02" in today.text
    interaction = await fake.press(ALICE, today, today.buttons[0]["custom_id"])
    assert (await fake.answered(interaction))[0].ephemeral


async def test_buttons_of_a_message_sent_before_a_restart_still_work(
    fake: FakeDiscord, service: StudyService, clock: FakeClock, settings: Settings,
    database_url: str, bank: FakeBank,
) -> None:
    first = await start_adapter(service, settings)
    try:
        await subscribe(fake)
        message = await push(service, clock, fake)
    finally:
        await first.stop()
    assert not first.connected

    # A new process: new store connection, new service, new client and adapter; same database.
    store = await open_store(database_url)
    try:
        codec = ActionCodec(await store.payload_secret())
        again = StudyService(store, bank, clock, codec, StudyConfig())
        second = await start_adapter(again, settings)
        try:
            interaction = await fake.press(BOB, message, message.buttons[0]["custom_id"])
            [answer] = await fake.answered(interaction)
            assert answer.ephemeral and "答案：" in answer.text
        finally:
            await second.stop()
    finally:
        await store.close()


async def test_a_forged_custom_id_gets_a_private_no_longer_available_notice(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    forged = fake.fake_message(GENERAL, "sb:r1_AAAAAAAAAAA")
    interaction = await fake.press(BOB, forged, "sb:r1_AAAAAAAAAAA")
    [notice] = await fake.answered(interaction)
    assert notice.ephemeral and "已经不可用" in notice.content


async def test_a_button_that_is_not_ours_gets_the_same_notice(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    other = fake.fake_message(GENERAL, "someone-else:42")
    interaction = await fake.press(BOB, other, "someone-else:42")
    [notice] = await fake.answered(interaction)
    assert notice.ephemeral and "已经不可用" in notice.content


async def test_a_long_answer_is_revealed_in_several_messages_within_discords_limits(
    fake: FakeDiscord, store: SqlStore, clock: FakeClock, settings: Settings,
) -> None:
    answer = "\n\n".join(f"第 {i} 段：" + "自注意力让每个位置看到所有位置。" * 30
                         for i in range(40))
    long = Question(id="long", pack="t", title="很长的题", answer=answer, tags=("x",),
                    difficulty=2, source="ours")
    service = StudyService(store, FakeBank([long]), clock,
                           ActionCodec(await store.payload_secret()), StudyConfig())
    adapter = await start_adapter(service, settings)
    try:
        [today] = await fake.answered(await fake.slash(ALICE, GENERAL, "today"))
        interaction = await fake.press(BOB, today, today.buttons[0]["custom_id"])
        await fake.answered(interaction, 2)
        await fake.wait_for(lambda: interaction.replies[-1].buttons)  # the grade row comes last
        replies = interaction.replies
        assert all(r.ephemeral for r in replies)
        for reply in replies:
            embeds = reply.embeds
            assert 1 <= len(embeds) <= EMBEDS_PER_MESSAGE
            total = sum(len(e.get("title") or "") + len(e.get("description") or "")
                        + len((e.get("footer") or {}).get("text") or "") for e in embeds)
            assert total <= MESSAGE_EMBED_TOTAL
            assert all(len(e.get("description") or "") <= DESCRIPTION_LIMIT for e in embeds)
        text = "\n".join(r.text for r in replies)
        assert all(f"第 {i} 段" in text for i in range(40))
        assert [bool(r.buttons) for r in replies][-1] and not any(r.buttons for r in replies[:-1])
    finally:
        await adapter.stop()


# ----- sending and its errors ----------------------------------------------------------------


async def test_a_forbidden_channel_pauses_the_subscription(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
    store: SqlStore,
) -> None:
    await subscribe(fake)
    fake.fail("POST", MESSAGES, 403, {"message": "Missing Access", "code": 50001})
    clock.advance(hours=1)
    report = await asyncio.wait_for(service.push_due(), 10)
    assert report.paused == 1 and report.sent == 0
    sub = await subscription_of(store, GENERAL)
    assert sub is not None and not sub.active  # type: ignore[attr-defined]


async def test_an_unknown_channel_pauses_the_subscription(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
    store: SqlStore,
) -> None:
    await subscribe(fake)
    fake.fail("POST", MESSAGES, 404, {"message": "Unknown Channel", "code": 10003})
    clock.advance(hours=1)
    report = await asyncio.wait_for(service.push_due(), 10)
    assert report.paused == 1
    sub = await subscription_of(store, GENERAL)
    assert sub is not None and not sub.active  # type: ignore[attr-defined]


async def test_a_429_is_waited_out_by_discord_py_and_the_message_is_sent_once(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    await subscribe(fake)
    fake.rate_limit("POST", MESSAGES, retry_after=0.01)  # the one short real wait in the suite
    message = await push(service, clock, fake)
    posts = [c for c in fake.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert len(posts) == 2  # the refused attempt, then the same message again
    assert posts[0].body == posts[1].body
    assert fake.messages_in(GENERAL) == [message]


async def test_a_server_error_is_a_temporary_failure(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    fake.fail("POST", MESSAGES, 503, {"message": "unavailable", "code": 0})
    with pytest.raises(TemporaryFailure):
        await bot.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi"))


async def test_a_network_error_is_a_temporary_failure(
    bot: DiscordAdapter, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unreachable(*args: object, **kwargs: object) -> None:
        raise aiohttp.ClientConnectionError("connection reset")

    monkeypatch.setattr(discord.PartialMessageable, "send", unreachable)
    with pytest.raises(TemporaryFailure):
        await bot.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi"))


async def expire_sends_when(bot: DiscordAdapter, ready: object) -> None:
    """Run every pending send's deadline out as soon as `ready()` holds: a timeout without
    waiting for real time to pass."""
    for _ in range(1000):
        if ready():  # type: ignore[operator]
            break
        await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    for attempt in list(bot._sends):
        assert attempt.deadline is not None
        attempt.deadline.reschedule(loop.time())


async def test_a_send_without_an_answer_in_time_is_reported_as_timed_out(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    fake.hold(MESSAGES)  # Discord takes the request and never answers
    sending = asyncio.create_task(
        bot.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi")))
    await fake.wait_for(lambda: any(c.path.endswith("/messages") for c in fake.calls))
    await expire_sends_when(bot, lambda: True)
    with pytest.raises(SendTimedOut):  # it may have arrived: the core will not send it again
        await asyncio.wait_for(sending, 5)


async def test_a_timeout_while_waiting_out_a_rate_limit_is_a_temporary_failure(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    fake.rate_limit("POST", MESSAGES, retry_after=29)  # discord.py would sleep 29 s, then retry
    sending = asyncio.create_task(
        bot.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi")))
    await fake.wait_for(lambda: any(c.path.endswith("/messages") for c in fake.calls))
    await expire_sends_when(bot, lambda: all(a.state == "idle" for a in bot._sends))
    with pytest.raises(TemporaryFailure):  # never accepted, so safe to send again later
        await asyncio.wait_for(sending, 5)


async def test_a_rate_limit_longer_than_the_cap_fails_at_once_as_temporary(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    fake.rate_limit("POST", MESSAGES, retry_after=600)
    with pytest.raises(TemporaryFailure, match="rate limited"):
        await asyncio.wait_for(
            bot.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi")), 5)


async def test_a_rejected_message_is_a_delivery_error_and_a_bad_id_means_gone(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    fake.fail("POST", MESSAGES, 400, {"message": "Invalid Form Body", "code": 50035})
    with pytest.raises(DeliveryError) as caught:
        await bot.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi"))
    assert not isinstance(caught.value, ChatGone | TemporaryFailure)
    with pytest.raises(ChatGone):
        await bot.send(ChatRef("discord", "not-a-number"), OutgoingMessage(title="hi"))


async def test_sending_before_start_is_a_temporary_failure(
    service: StudyService, settings: Settings,
) -> None:
    adapter = DiscordAdapter(service, settings)
    with pytest.raises(TemporaryFailure):
        await adapter.send(ChatRef("discord", str(GENERAL)), OutgoingMessage(title="hi"))
    await adapter.stop()  # safe without a start


# ----- server and channel removal ------------------------------------------------------------


async def test_leaving_a_server_pauses_the_subscriptions_of_its_channels(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    await subscribe(fake, channel=GENERAL)
    await subscribe(fake, channel=STUDY, time="21:00")
    await subscribe(fake, user=BOB, channel=ALICE_DM)
    await fake.dispatch("GUILD_DELETE", {"id": str(GUILD_ID)})

    async def paused() -> bool:
        subs = [await subscription_of(store, c) for c in (GENERAL, STUDY)]
        return all(s is not None and not s.active for s in subs)  # type: ignore[attr-defined]

    await wait_until(paused)
    dm = await subscription_of(store, ALICE_DM)
    assert dm is not None and dm.active  # type: ignore[attr-defined]


async def test_a_deleted_channel_pauses_its_subscription(
    bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
) -> None:
    await subscribe(fake, channel=STUDY)
    await fake.dispatch("CHANNEL_DELETE", {"id": str(STUDY), "type": 0, "name": "study",
                                           "guild_id": str(GUILD_ID), "position": 0,
                                           "permission_overwrites": []})

    async def paused() -> bool:
        sub = await subscription_of(store, STUDY)
        return sub is not None and not sub.active  # type: ignore[attr-defined]

    await wait_until(paused)


async def wait_until(condition: object, attempts: int = 200) -> None:
    """Poll an async condition, yielding to the loop between tries (bounded, no sleeping)."""
    for _ in range(attempts):
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


# ----- start, stop and the token -------------------------------------------------------------


async def test_a_wrong_token_fails_start_with_a_message_that_does_not_show_it(
    service: StudyService, settings: Settings,
) -> None:
    wrong = settings.model_copy(update={"discord_token": SecretStr("wrong-token-123456")})
    adapter = DiscordAdapter(service, wrong, ready_timeout=5)
    with pytest.raises(DiscordStartError) as caught:
        await adapter.start()
    assert "wrong-token-123456" not in str(caught.value) and "TOKEN" in str(caught.value)
    assert not adapter.connected


async def test_start_without_a_token_names_the_setting(
    service: StudyService, settings: Settings,
) -> None:
    adapter = DiscordAdapter(service, settings.model_copy(update={"discord_token": None}))
    with pytest.raises(ConfigError, match="STUDYBOT_DISCORD_TOKEN"):
        await adapter.start()


async def test_an_unreachable_discord_fails_start_cleanly(
    service: StudyService, settings: Settings, fake: FakeDiscord,
) -> None:
    await fake.close()
    adapter = DiscordAdapter(service, settings, ready_timeout=5)
    with pytest.raises(DiscordStartError, match="cannot log in"):
        await adapter.start()
    await adapter.stop()


async def test_the_token_never_appears_in_logs(
    fake: FakeDiscord, service: StudyService, clock: FakeClock, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = await start_adapter(service, settings)
    try:
        await subscribe(fake)
        fake.fail("POST", MESSAGES, 403, {"message": "Missing Access", "code": 50001})
        clock.advance(hours=1)
        await asyncio.wait_for(service.push_due(), 10)
    finally:
        await adapter.stop()
        await adapter.stop()  # twice is fine
    assert fake.calls[0].authorization == f"Bot {TOKEN}"  # it was used…
    assert "Missing Access" in caplog.text
    assert TOKEN not in caplog.text  # …and never logged



async def test_an_unknown_command_gets_an_answer_rather_than_silence(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    fake.commands[None].append({"id": "1", "name": "gone", "application_id": "1"})
    interaction = await fake.slash(ALICE, GENERAL, "gone")
    [reply] = await fake.answered(interaction)
    assert reply.ephemeral and "出了点问题" in reply.text


def test_the_readme_invite_asks_for_exactly_the_permissions_the_bot_uses() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"permissions={INVITE_PERMISSIONS.value}" in readme
    assert "scope=bot+applications.commands" in readme
    assert INVITE_PERMISSIONS == discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True, create_public_threads=True,
        send_messages_in_threads=True)


async def test_connected_turns_false_while_the_gateway_reconnects_and_back_after_resume(
    bot: DiscordAdapter,
) -> None:
    assert bot.connected
    client = bot._client
    assert client is not None
    client.dispatch("disconnect")
    for _ in range(100):  # bounded: the listener runs on the next loop turns
        if not bot.connected:
            break
        await asyncio.sleep(0)
    assert not bot.connected
    client.dispatch("resumed")
    for _ in range(100):
        if bot.connected:
            break
        await asyncio.sleep(0)
    assert bot.connected


async def test_every_scheduled_post_passes_the_global_rate_limiter(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
) -> None:
    class CountingThrottle:
        entered = 0

        async def __aenter__(self) -> None:
            CountingThrottle.entered += 1

        async def __aexit__(self, *exc: object) -> None:
            return None

    bot.throttle = CountingThrottle()
    await subscribe(fake)
    await subscribe(fake, user=ALICE, channel=ALICE_DM)
    clock.advance(hours=1, minutes=1)
    report = await service.push_due()
    assert report.sent == 2 and CountingThrottle.entered == 2
