"""How fast the daily push goes through the real SQLite store.

    .venv/bin/python bench/push_due.py [SUBSCRIPTIONS] [DUE]

Makes SUBSCRIPTIONS console chats (default 10000) subscribed at various local times, of which DUE
(default 1000) are due now, then times: the due query alone (with a varying total, to show it
grows with what is due, not with the table), and one full push (claim, pick the question, send to
a messenger that only counts, mark sent). Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from bot.content.packs import load_bank
from bot.core.actions import ActionCodec
from bot.core.messages import OutgoingMessage
from bot.core.models import ChatKind, ChatRef
from bot.core.study import StudyConfig, StudyService
from bot.storage.sql import SqlStore, open_store

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
REPO = Path(__file__).resolve().parent.parent


class Clock:
    def now(self) -> dt.datetime:
        return NOW


class CountingMessenger:
    platform = "console"

    def __init__(self) -> None:
        self.count = 0

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        self.count += 1
        return str(self.count)


async def populate(store: SqlStore, total: int, due: int) -> None:
    for i in range(total):
        chat = await store.ensure_chat(ChatRef("console", f"c{i}"), ChatKind.GROUP,
                                       language="zh", timezone="Asia/Shanghai")
        # Due ones ran a minute ago; the rest are spread over the coming day.
        run_at = NOW - dt.timedelta(minutes=1) if i < due else NOW + dt.timedelta(
            minutes=1 + i % 1400)
        await store.subscribe(chat.pk, dt.time(9), "Asia/Shanghai", run_at)


async def time_due_query(store: SqlStore, repeats: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        await store.due_subscriptions(NOW, ("console",), 100)
    return (time.perf_counter() - start) / repeats


async def main(total: int, due: int) -> None:
    bank, _ = load_bank(REPO / "content")
    with tempfile.TemporaryDirectory() as folder:
        for size in (total // 10, total):
            store = await open_store(f"sqlite:///{folder}/q{size}.db")
            await populate(store, size, min(due, size) // 10)
            per_query = await time_due_query(store)
            print(f"due query (first 100 due of {size:>6} subscriptions): "
                  f"{per_query * 1000:.2f} ms")
            await store.close()

        store = await open_store(f"sqlite:///{folder}/push.db")
        t0 = time.perf_counter()
        await populate(store, total, due)
        print(f"set-up: {total} subscriptions in {time.perf_counter() - t0:.1f} s")
        service = StudyService(store, bank, Clock(), ActionCodec(await store.payload_secret()),
                               StudyConfig(batch=due))
        messenger = CountingMessenger()
        service.register_messenger(messenger)
        t0 = time.perf_counter()
        report = await service.push_due()
        elapsed = time.perf_counter() - t0
        print(f"push: {report.sent} sent in {elapsed:.2f} s = {report.sent / elapsed:.0f} posts/s "
              f"({elapsed / max(report.sent, 1) * 1000:.2f} ms per post, store work only)")
        again = time.perf_counter()
        second = await service.push_due()
        print(f"second tick: {second.sent} sent (nothing due) in "
              f"{(time.perf_counter() - again) * 1000:.1f} ms")
        await store.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [10000, 1000][len(args):])))
