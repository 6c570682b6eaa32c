"""Updates of different chats are handled at once; one chat's (one member's presses) in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update

from bot.adapters.telegram.order import PerChatOrder, order_key
from bot.adapters.telegram.render import visible_text
from bot.core.i18n import t
from tests.telegram.conftest import HarnessFactory
from tests.telegram.fake_botapi import (
    FakeBotApi,
    callback,
    group_chat,
    sent_message,
    text_message,
    user,
)


def _update(body: dict[str, Any], update_id: int = 1) -> Update:
    return Update.de_json({"update_id": update_id, **body}, None)  # type: ignore[arg-type]


def _in_group(chat_id: int, text: str = "/today") -> Update:
    return _update(text_message(group_chat(chat_id), user(1), text))


class Journal:
    """Handlers that note when they start and finish, each finishing when its gate opens."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def handler(self, name: str) -> Awaitable[None]:
        gate = self.gates[name] = asyncio.Event()

        async def run() -> None:
            self.events.append(f"{name} starts")
            await gate.wait()
            self.events.append(f"{name} ends")

        return run()


async def _settle() -> None:
    for _ in range(20):  # let every task that can move run until it waits
        await asyncio.sleep(0)


async def test_two_chats_updates_overlap_while_one_chats_stay_in_order() -> None:
    processor = PerChatOrder(8)
    journal = Journal()
    arrivals = [("a1", _in_group(-1)), ("b1", _in_group(-2)), ("a2", _in_group(-1, "/lang en"))]
    tasks = [asyncio.create_task(processor.process_update(update, journal.handler(name)))
             for name, update in arrivals]
    await _settle()
    assert journal.events == ["a1 starts", "b1 starts"]  # b1 did not wait for a1; a2 did
    journal.gates["b1"].set()
    await _settle()
    assert journal.events[-1] == "b1 ends" and "a2 starts" not in journal.events
    journal.gates["a1"].set()
    await _settle()
    assert journal.events[-2:] == ["a1 ends", "a2 starts"]
    journal.gates["a2"].set()
    await asyncio.gather(*tasks)
    assert journal.events[-1] == "a2 ends" and processor._tails == {}


async def test_no_more_updates_run_at_once_than_the_bound() -> None:
    processor = PerChatOrder(2)
    journal = Journal()
    names = ["c1", "c2", "c3"]
    tasks = [asyncio.create_task(processor.process_update(_in_group(-i), journal.handler(name)))
             for i, name in enumerate(names, 1)]
    await _settle()
    assert journal.events == ["c1 starts", "c2 starts"]
    journal.gates["c2"].set()
    await _settle()
    assert journal.events[-1] == "c3 starts"
    journal.gates["c1"].set()
    journal.gates["c3"].set()
    await asyncio.gather(*tasks)


async def test_a_members_presses_keep_their_order_and_a_groups_members_press_at_once() -> None:
    post = sent_message({"chat_id": -5, "text": "q"})
    alice_reveal = _update(callback(user(10), post, "r1_x"))
    alice_grade = _update(callback(user(10), sent_message({"chat_id": 10, "text": "a"}), "k1_x"))
    bob_reveal = _update(callback(user(11), post, "r1_x"))
    assert order_key(alice_reveal) == order_key(alice_grade) == 10
    assert order_key(bob_reveal) == 11
    assert order_key(_update(text_message(group_chat(-5), user(10), "/streak"))) == -5
    assert order_key(object()) is None


async def test_an_update_cancelled_while_it_waits_closes_its_handler_and_frees_the_chat() -> None:
    processor = PerChatOrder(4)
    journal = Journal()
    first = asyncio.create_task(processor.process_update(_in_group(-1), journal.handler("a1")))
    waiting = journal.handler("a2")
    second = asyncio.create_task(processor.process_update(_in_group(-1), waiting))
    await _settle()
    second.cancel()
    await _settle()
    assert second.cancelled() and waiting.cr_frame is None  # type: ignore[attr-defined]
    journal.gates["a1"].set()
    await first
    assert journal.events == ["a1 starts", "a1 ends"] and processor._tails == {}


async def test_a_group_waiting_on_telegram_holds_up_neither_another_group_nor_its_own_order(
    telegram: HarnessFactory, botapi: FakeBotApi
) -> None:
    await telegram()
    botapi.members[(-1, 1)] = "administrator"
    botapi.hold("getChatMember")  # /subscribe asks whether the sender is an admin
    botapi.push(text_message(group_chat(-1), user(1), "/subscribe 09:00"))
    botapi.push(text_message(group_chat(-1), user(1), "/unsubscribe"))
    botapi.push(text_message(group_chat(-2), user(2), "/streak"))
    await botapi.wait_for("sendMessage", chat_id=-2)  # answered while group -1 waits
    assert botapi.sent(-1) == []
    botapi.release()
    subscribed, unsubscribed = await botapi.wait_for("sendMessage", 2, chat_id=-1)
    # In the order sent: /unsubscribe found the subscription /subscribe had just made.
    assert "09:00" in subscribed["text"]
    assert visible_text(unsubscribed["text"]) == t("zh", "unsubscribed")
