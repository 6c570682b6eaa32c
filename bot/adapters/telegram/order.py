"""Updates of different chats at once, each chat's in the order they came.

python-telegram-bot hands updates to its update processor one at a time by default, so a slow
database write or Bot API call in one chat holds up every other chat. With `concurrent_updates`
it runs them all at once, and then two updates of one chat (`/lang en` then `/today`) may finish
in either order. This processor sits between the two: updates are chained per key and the keys
run concurrently, at most `max_concurrent_updates` updates at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def order_key(update: object) -> Hashable | None:
    """What an update must keep its order with; None for an update that needs no order.

    A button press is keyed by the member who pressed it (their private chat has the same id),
    not by the group it was pressed in: one member's presses stay in order (a double tap is seen
    as one), while a group's members are served at once. Everything else is keyed by its chat.
    """
    if not isinstance(update, Update):
        return None
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    chat = update.effective_chat
    return chat.id if chat is not None else None


class PerChatOrder(BaseUpdateProcessor):
    """Runs updates with different keys (`order_key`) concurrently and those with one key one
    after another, in arrival order.

    Arrival order is the order python-telegram-bot calls `do_process_update`: it starts one task
    per update in the order fetched, and each passes the processor's semaphore first-in first-out
    (asyncio's semaphore does not let a newcomer overtake a waiter), so an update never holds a
    slot while the update it waits for is still waiting for one.
    """

    __slots__ = ("_tails",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        # key → done-event of the last update of that key so far; gone once nothing is queued.
        self._tails: dict[Hashable, asyncio.Event] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            await coroutine
            return
        before = self._tails.get(key)
        done = self._tails[key] = asyncio.Event()
        try:
            if before is not None:
                try:
                    await before.wait()
                except BaseException:
                    # Cancelled while queued (shutting down): the handler never runs, and its
                    # coroutine is closed so it is not reported as never awaited.
                    close = getattr(coroutine, "close", None)
                    if close is not None:
                        close()
                    raise
            await coroutine
        finally:
            done.set()
            if self._tails.get(key) is done:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to set up: chains are made as updates come."""

    async def shutdown(self) -> None:
        """Nothing to free: a chain is dropped once its last update is done."""
