"""Component interactions the bot does not recognise: the real discord.py client against the fake
Discord. GIVEN a connected bot, WHEN a user presses a button or picks in a select that no handler
of ours knows, THEN exactly one private "no longer available" notice answers it, nothing above
DEBUG is logged, and the gateway task lives on (the `bot` fixture checks that).
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.core.i18n import t
from bot.core.study import StudyService
from tests.discord.fake_discord import (
    ALICE,
    ALICE_DM,
    BOB,
    BUTTON,
    EPHEMERAL,
    GENERAL,
    SELECT,
    FakeDiscord,
    Interaction,
    Sent,
)
from tests.fakes import FakeClock

NOTICE_ZH = t("zh", "stale_button")
NOTICE_EN = t("en", "stale_button")
SETTLE = 0.3  # time for a second, unwanted answer to arrive before counting the answers


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record from here on, for checking that unknown components log nothing loud."""
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    return caplog


async def one_private_answer(fake: FakeDiscord, interaction: Interaction) -> Sent:
    """The single reply to `interaction`, after checking it was acknowledged once, privately,
    within Discord's three seconds."""
    await fake.wait_for(lambda: interaction.callbacks, within=3.0)
    [reply] = await fake.answered(interaction)
    await asyncio.sleep(SETTLE)
    assert len(interaction.replies) == 1, [r.text for r in interaction.replies]
    [callback] = interaction.callbacks
    # The adapter defers privately (type 5, flags 64) and then sends the followup.
    assert callback["type"] == 5 and callback["data"]["flags"] & EPHEMERAL
    assert reply.ephemeral
    return reply


async def assert_notice(fake: FakeDiscord, caplog: pytest.LogCaptureFixture, message: Sent,
                        custom_id: str, *, user: int = BOB, component_type: int = BUTTON,
                        values: list[str] | None = None) -> None:
    """A press of `custom_id` on `message` gets one private notice and logs nothing loud."""
    interaction = await fake.press(user, message, custom_id, component_type=component_type,
                                   values=values)
    reply = await one_private_answer(fake, interaction)
    assert reply.content == NOTICE_ZH
    assert_nothing_loud(caplog)


def assert_nothing_loud(caplog: pytest.LogCaptureFixture) -> None:
    # The bot's and discord.py's records; the fake server's access log is not the bot's.
    loud = [r for r in caplog.records if r.name.split(".")[0] in ("bot", "discord")
            and (r.levelno > logging.DEBUG or r.exc_info)]
    assert loud == [], [(r.name, r.levelname, r.getMessage()) for r in loud]


async def subscribe_and_push(fake: FakeDiscord, service: StudyService,
                             clock: FakeClock) -> Sent:
    subscribed = await fake.slash(ALICE, GENERAL, "subscribe", [
        {"name": "time", "type": 3, "value": "09:00"},
        {"name": "timezone", "type": 3, "value": "Asia/Shanghai"}])
    await fake.answered(subscribed)
    clock.advance(hours=1)
    report = await asyncio.wait_for(service.push_due(), 10)
    assert report.sent == 1, report
    return fake.messages_in(GENERAL)[-1]


@pytest.mark.parametrize("custom_id", [
    "reveal:12345",  # a button of an older version of the bot, before the sb: prefix
    "persistent_view:grade:knew",
    "someone-else:42",
    "sb",
    "sb:",
    "SB:r1_AAAAAAAAAAA",
])
async def test_a_button_with_an_unknown_custom_id_gets_one_private_notice(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture, custom_id: str,
) -> None:
    await assert_notice(fake, quiet, fake.fake_message(GENERAL, custom_id), custom_id)


@pytest.mark.parametrize("custom_id", [
    "sb:r1_AAAAAAAAAAA",  # the shape of a reveal payload with a made-up signature
    "sb:g1_AAAAAAAAAAA_k",
    "sb:" + "A" * 64,
])
async def test_a_button_with_an_sb_id_whose_payload_is_forged_gets_one_private_notice(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture, custom_id: str,
) -> None:
    await assert_notice(fake, quiet, fake.fake_message(GENERAL, custom_id), custom_id)


async def test_an_sb_id_the_pressed_message_does_not_carry_still_gets_one_private_notice(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture,
) -> None:
    # discord.py's dynamic item dispatch drops a custom_id missing from the message's components.
    message = fake.fake_message(GENERAL, "someone-else:42")
    await assert_notice(fake, quiet, message, "sb:r1_AAAAAAAAAAA")


@pytest.mark.parametrize("custom_id", [
    "x" * 100,  # Discord's longest custom_id
    "sb:" + "A" * 65,  # one character more than a payload may have
    "sb:" + "A" * 2000,  # longer than Discord allows at all
    "sb:r1_ÅÄÖ_ünïcødé",
    "sb:r1_\u202eAAAA\u200d\u200b",  # right-to-left override, zero-width joiner and space
    "🎲🃏🀄" * 30,
    "日本語のボタン",
    "sb:r1\x00AAAA",  # a NUL inside the id
    "\U0010ffff\ufeff\ufffd",
])
async def test_a_button_with_a_very_long_or_odd_unicode_id_gets_one_private_notice(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture, custom_id: str,
) -> None:
    await assert_notice(fake, quiet, fake.fake_message(GENERAL, custom_id), custom_id)


@pytest.mark.parametrize("custom_id", ["pick-a-pack", "sb:r1_AAAAAAAAAAA"])
async def test_a_string_select_interaction_gets_one_private_notice(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture, custom_id: str,
) -> None:
    message = fake.fake_message(GENERAL, custom_id, component_type=SELECT)
    await assert_notice(fake, quiet, message, custom_id, component_type=SELECT, values=["a"])


async def test_a_select_claiming_to_be_a_button_id_of_ours_gets_one_private_notice(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture,
) -> None:
    # The message has a button with this id but the interaction says it came from a select:
    # discord.py matches on both, finds nothing, and drops it.
    message = fake.fake_message(GENERAL, "sb:r1_AAAAAAAAAAA")
    await assert_notice(fake, quiet, message, "sb:r1_AAAAAAAAAAA", component_type=SELECT,
                        values=["a"])


async def test_an_unknown_button_in_a_dm_gets_the_notice_there(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture,
) -> None:
    message = fake.fake_message(ALICE_DM, "reveal:12345")
    await assert_notice(fake, quiet, message, "reveal:12345", user=ALICE)


async def test_the_notice_is_in_the_channels_language(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    switched = await fake.slash(ALICE, GENERAL, "lang",
                                [{"name": "language", "type": 3, "value": "en"}])
    await fake.answered(switched)
    message = fake.fake_message(GENERAL, "reveal:12345")
    reply = await one_private_answer(fake, await fake.press(BOB, message, "reveal:12345"))
    assert reply.content == NOTICE_EN


async def test_a_notice_that_cannot_be_sent_is_logged_at_debug_only(
    bot: DiscordAdapter, fake: FakeDiscord, quiet: pytest.LogCaptureFixture,
) -> None:
    # The interaction expired (or Discord failed): nobody can be told, and it is not the bot's
    # fault, so it is no warning either.
    fake.fail("POST", r"/interactions/\d+/[^/]+/callback", 404,
              {"message": "Unknown interaction", "code": 10062})
    message = fake.fake_message(GENERAL, "reveal:12345")
    interaction = await fake.press(BOB, message, "reveal:12345")
    await fake.wait_for(lambda: any("/callback" in c.path for c in fake.calls))
    await asyncio.sleep(SETTLE)
    assert interaction.replies == []
    assert_nothing_loud(quiet)
    assert any("not ours" in r.getMessage() for r in quiet.records)


async def test_many_unknown_presses_at_once_are_each_answered_once(
    bot: DiscordAdapter, fake: FakeDiscord,
) -> None:
    message = fake.fake_message(GENERAL, "reveal:12345")
    interactions = [await fake.press(BOB, message, "reveal:12345") for _ in range(20)]
    for interaction in interactions:
        assert (await one_private_answer(fake, interaction)).content == NOTICE_ZH


async def test_a_recognised_reveal_button_still_gets_the_answer_and_only_the_answer(
    bot: DiscordAdapter, fake: FakeDiscord, service: StudyService, clock: FakeClock,
    quiet: pytest.LogCaptureFixture,
) -> None:
    message = await subscribe_and_push(fake, service, clock)
    interaction = await fake.press(BOB, message, message.buttons[0]["custom_id"])
    answer = await one_private_answer(fake, interaction)
    assert "答案：" in answer.text and NOTICE_ZH not in answer.text
    assert [b["label"] for b in answer.buttons] == ["✅ 会了", "🟡 部分会", "❌ 还不会"]
    # A grade button on the private answer is recognised too: one toast, no notice.
    graded = await fake.press(BOB, answer, answer.buttons[0]["custom_id"])
    toast = await one_private_answer(fake, graded)
    assert "已记录：会了" in toast.text
