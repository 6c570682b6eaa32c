"""How fast the push pipeline goes store-side, through the real SQLite store.

    .venv/bin/python bench/push_due.py [SUBSCRIPTIONS] [DUE] [--db URL]

Makes SUBSCRIPTIONS console chats (default 10000) subscribed at various local times, of which DUE
(default 10000) are due now, then times one full push through the pipeline (batch claims with
the question choice, a messenger that only counts, batch marks) and counts the SQL statements
and write transactions it took, against the same work in plain sqlite3 for scale. Also times the
earliest-due query the scheduler sleeps on. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.content.packs import load_bank  # noqa: E402
from bot.core.actions import ActionCodec  # noqa: E402
from bot.core.messages import OutgoingMessage  # noqa: E402
from bot.core.models import ChatRef  # noqa: E402
from bot.core.study import StudyConfig, StudyService  # noqa: E402
from bot.storage.schema import chats, subscriptions  # noqa: E402
from bot.storage.sql import SqlStore, open_store  # noqa: E402

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


class Clock:
    def now(self) -> dt.datetime:
        return NOW


class CountingMessenger:
    platform = "console"
    concurrency = 64

    def __init__(self) -> None:
        self.count = 0

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        self.count += 1
        return str(self.count)


async def populate(store: SqlStore, total: int, due: int) -> None:
    chat_rows = [{"platform": "console", "chat_id": f"c{i}", "thread_id": "", "kind": "group",
                  "language": "zh", "timezone": "Asia/Shanghai", "created_at": NOW}
                 for i in range(total)]
    async with store.engine.begin() as conn:
        await conn.execute(insert(chats), chat_rows)
        await conn.execute(insert(subscriptions), [
            {"chat_pk": i + 1, "local_time": "09:00", "active": True, "paused_reason": "",
             # Due ones ran a minute ago; the rest are spread over the coming day.
             "next_run_at": NOW - dt.timedelta(minutes=1) if i < due
             else NOW + dt.timedelta(minutes=1 + i % 1400), "updated_at": NOW}
            for i in range(total)])


class Counter:
    """SQL statements and write transactions the store runs."""

    def __init__(self, store: SqlStore) -> None:
        self.statements = 0
        self.writes = 0
        for engine in store.sync_engines():
            event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(store.engine.sync_engine, "commit", self._commit)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _commit(self, *args: Any) -> None:
        self.writes += 1


async def main(total: int, due: int, url: str) -> None:
    bank, _ = load_bank(REPO / "content")
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(url or f"sqlite:///{folder}/push.db")
        t0 = time.perf_counter()
        await populate(store, total, due)
        print(f"set-up: {total} subscriptions ({due} due) in {time.perf_counter() - t0:.1f} s")
        service = StudyService(store, bank, Clock(), ActionCodec(await store.payload_secret()),
                               StudyConfig())
        messenger = CountingMessenger()
        service.register_messenger(messenger)
        t0 = time.perf_counter()
        for _ in range(20):
            await service.push.next_wake()
        print(f"earliest-due query: {(time.perf_counter() - t0) / 20 * 1000:.2f} ms")
        counter = Counter(store)
        t0 = time.perf_counter()
        report = await service.push_due()
        elapsed = time.perf_counter() - t0
        sent = max(report.sent, 1)
        print(f"push: {report.sent} sent in {elapsed:.2f} s = {report.sent / elapsed:.0f} posts/s "
              f"({elapsed / sent * 1000:.3f} ms per post, store and rendering, no network)")
        print(f"  {counter.statements} statements ({counter.statements / sent:.2f} per post), "
              f"{counter.writes} write transactions ({counter.writes / sent:.3f} per post)")
        again = time.perf_counter()
        second = await service.push_due()
        print(f"second pass: {second.sent} sent (nothing due) in "
              f"{(time.perf_counter() - again) * 1000:.1f} ms")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("total", nargs="?", type=int, default=10000)
    parser.add_argument("due", nargs="?", type=int, default=10000)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    asyncio.run(main(args.total, min(args.due, args.total), args.db))
