"""How much the push history weighs, and what pruning keeps of it.

    .venv/bin/python bench/retention_size.py [CHATS] [DAYS]

Writes DAYS days (default 365) of daily posts for CHATS chats (default 2,000) the way the
pipeline leaves them (a delivery and a chosen question per chat per day), measures the file,
scales it to 100,000 chats, then prunes with the default retention and a 90-day one and measures
again. Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.storage.sql import open_store  # noqa: E402

START = dt.datetime(2025, 1, 1, 1, 0)
BANK = 369  # questions in the shipped bank: the length of one cycle


def fill(path: Path, chats: int, days: int) -> None:
    with sqlite3.connect(path) as db:
        db.executemany(
            "insert into chats (pk, platform, chat_id, thread_id, kind, language, timezone, "
            "created_at, packs, tags) values (?, 'telegram', ?, '', 'group', 'zh', "
            "'Asia/Shanghai', ?, '', '')", ((i + 1, str(-1000 - i), START) for i in range(chats)))
        db.execute("insert into subscriptions (chat_pk, local_time, active, paused_reason, "
                   "next_run_at, updated_at) select pk, '09:00', 1, '', ?, ? from chats",
                   (START, START))
        for day in range(days):
            at = START + dt.timedelta(days=day)
            db.executemany(
                "insert into deliveries (subscription_pk, local_date, state, attempts, "
                "claimed_at, finished_at, message_id, error, claimed_by, due_at) values "
                "(?, ?, 'sent', 1, ?, ?, ?, '', '7f9c1e52-2b1a-4c8e-9d3f-0a6b5c4d3e2f', ?)",
                ((c + 1, at.date(), at, at, str(100000 + day), at) for c in range(chats)))
            db.executemany(
                "insert into chat_days (chat_pk, local_date, question_id, cycle, created_at) "
                "values (?, ?, ?, ?, ?)",
                ((c + 1, at.date(), f"question-id-of-typical-length-{day % BANK}",
                  day // BANK, at) for c in range(chats)))


def size(path: Path) -> int:
    with sqlite3.connect(path) as db:
        db.execute("pragma wal_checkpoint(truncate)")
        db.execute("vacuum")
    return path.stat().st_size


async def prune(url: str, now: dt.datetime, days: int) -> tuple[int, int]:
    store = await open_store(url)
    total = (0, 0)
    try:
        while True:
            a, b = await store.prune(now.replace(tzinfo=dt.UTC) - dt.timedelta(days=days),
                                     limit=50_000)
            total = (total[0] + a, total[1] + b)
            if not a and not b:
                return total
    finally:
        await store.close()


async def main(chats: int, days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        url = f"sqlite:///{path}"
        await (await open_store(url)).close()
        empty = size(path)
        fill(path, chats, days)
        full = size(path)
        per_chat_day = (full - empty) / (chats * days)
        per_100k_year = per_chat_day * 100_000 * 365 / 1024**3
        print(f"{chats} chats × {days} days: {(full - empty) / 1024**2:.1f} MiB = "
              f"{per_chat_day:.0f} bytes per chat per day = {per_100k_year:.2f} GiB per 100,000 "
              "chats per year, unpruned")
        now = START + dt.timedelta(days=days)
        for keep in (90, 30):
            removed = await prune(url, now, keep)
            after = size(path)
            print(f"pruned to {keep} days: removed {removed[0]} deliveries and {removed[1]} "
                  f"unused days; {(after - empty) / 1024**2:.1f} MiB left")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [2000, 365][len(args):])))
