"""The group sends on Discord: the answer in a thread on the question, the leaderboard edited
in place, through discord.py against the fake Discord."""

from __future__ import annotations

from bot.adapters.discord import DiscordAdapter
from bot.core.study import StudyService
from bot.core.together import TogetherService
from bot.storage.sql import SqlStore
from tests.discord.fake_discord import ALICE, BOB, GENERAL, FakeDiscord
from tests.discord.test_adapter import option, push, subscribe
from tests.fakes import FakeClock


async def test_the_answer_is_posted_at_its_time_in_a_thread_on_the_question(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    TogetherService(service, store).register()
    await subscribe(fake)
    question = await push(service, clock, fake)
    [set_] = await fake.answered(await fake.slash(ALICE, GENERAL, "answer",
                                                  [option("setting", "21:00")]))
    assert "21:00" in set_.text
    refused = await fake.slash(BOB, GENERAL, "answer", [option("setting", "22:00")])
    [no] = await fake.answered(refused)
    assert no.ephemeral and refused.deferred_ephemeral
    clock.advance(hours=12)
    assert (await service.push_due()).sent == 1
    assert question.id in fake.threads
    [answer] = fake.messages_in(question.id)
    assert "今日答案" in answer.text and len(answer.buttons) == 3
    assert fake.messages_in(GENERAL) == [question]  # the channel itself stays quiet


async def test_the_leaderboard_is_a_channel_message_edited_in_place(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    TogetherService(service, store).register()
    await subscribe(fake)
    question = await push(service, clock, fake)
    board = await fake.posted_in(GENERAL, await fake.slash(BOB, GENERAL, "top"))
    assert "排行榜" in board.text
    clock.advance(minutes=2)
    [answer] = await fake.answered(await fake.press(BOB, question, question.buttons[0][
        "custom_id"]))
    await fake.answered(await fake.press(BOB, answer, answer.buttons[0]["custom_id"]))
    await service.push_due()
    assert "Bob" in board.text and fake.messages_in(GENERAL)[-1] is board

    fake.delete(board.id)
    clock.advance(minutes=2)
    await fake.answered(await fake.press(BOB, answer, answer.buttons[1]["custom_id"]))
    await service.push_due()
    reposted = fake.messages_in(GENERAL)[-1]
    assert reposted is not board and "Bob" in reposted.text


async def test_without_the_thread_permission_the_answer_goes_in_the_channel(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    TogetherService(service, store).register()
    await subscribe(fake)
    question = await push(service, clock, fake)
    await fake.answered(await fake.slash(ALICE, GENERAL, "answer", [option("setting", "21:00")]))
    fake.fail("POST", r"/threads$", 403, {"message": "Missing Permissions", "code": 50013})
    clock.advance(hours=12)
    assert (await service.push_due()).sent == 1
    answer = fake.messages_in(GENERAL)[-1]
    assert answer is not question and "今日答案" in answer.text
    assert question.id not in fake.threads


async def test_a_new_week_starts_a_new_leaderboard_message_on_discord(
    service: StudyService, bot: DiscordAdapter, fake: FakeDiscord, store: SqlStore,
    clock: FakeClock,
) -> None:
    TogetherService(service, store).register()
    await subscribe(fake)
    await push(service, clock, fake)  # Monday
    board = await fake.posted_in(GENERAL, await fake.slash(BOB, GENERAL, "top"))
    clock.advance(days=7)  # the next Monday: a new week
    [question] = await fake.answered(await fake.slash(BOB, GENERAL, "today"))
    [answer] = await fake.answered(await fake.press(BOB, question, question.buttons[0][
        "custom_id"]))
    await fake.answered(await fake.press(BOB, answer, answer.buttons[0]["custom_id"]))
    await service.push_due()
    new_board = fake.messages_in(GENERAL)[-1]
    assert new_board is not board and "Bob" in new_board.text and "Bob" not in board.text
