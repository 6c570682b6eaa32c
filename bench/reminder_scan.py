"""The reminder scan with many users: what one tick of the push pipeline costs, and its plan.

    .venv/bin/python bench/reminder_scan.py [USERS] [--burst N] [--db URL]

Makes USERS users (default 100,000), each with a private chat and a reminder at a local time
spread over the day (so about USERS/1440 are due in any minute), a third of them with two
review cards due, every one a member of one of 1,000 subscribed groups whose question of the
day is out and not yet graded. Then times, through the real pipeline with a messenger that only
counts: an idle tick (nothing due), the tick at the minute when the first reminders come due,
and optionally a burst of N users all due at once. Prints the query plan of the due scan (it
must use ix_reminders_due) and of the earliest-due query. Prints figures; asserts nothing.
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

from sqlalchemy import insert, text, update

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.push_due import CountingMessenger  # noqa: E402
from bot.app import add_review  # noqa: E402
from bot.content.packs import load_bank  # noqa: E402
from bot.core.actions import ActionCodec  # noqa: E402
from bot.core.review import ReviewConfig  # noqa: E402
from bot.core.study import StudyConfig, StudyService  # noqa: E402
from bot.storage.review import due_reminders_query, earliest_reminder_query  # noqa: E402
from bot.storage.schema import (  # noqa: E402
    chat_days,
    chats,
    reminders,
    review_cards,
    study_days,
    subscriptions,
    users,
)
from bot.storage.sql import SqlStore, open_store  # noqa: E402

NOW = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)  # 21:00 in Shanghai
ZONE = "Asia/Shanghai"
GROUPS = 1000
CHUNK = 20_000


class Clock:
    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> dt.datetime:
        return self.current


async def insert_chunks(store: SqlStore, table: Any, rows: list[dict[str, Any]]) -> None:
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            await conn.execute(insert(table), rows[start:start + CHUNK])


async def populate(store: SqlStore, total: int, questions: list[str]) -> None:
    day = dt.date(2026, 3, 2)
    await insert_chunks(store, chats, [
        {"platform": "console", "chat_id": f"g{g}", "thread_id": "", "kind": "group",
         "language": "en", "timezone": ZONE, "created_at": NOW} for g in range(GROUPS)])
    await insert_chunks(store, subscriptions, [
        {"chat_pk": g + 1, "local_time": "09:00", "active": True, "paused_reason": "",
         "next_run_at": NOW + dt.timedelta(hours=12), "updated_at": NOW}
        for g in range(GROUPS)])
    await insert_chunks(store, chat_days, [
        {"chat_pk": g + 1, "local_date": d, "question_id": questions[g % len(questions)],
         "cycle": 0, "created_at": NOW}
        for g in range(GROUPS) for d in (day - dt.timedelta(days=1), day)])
    await insert_chunks(store, users, [
        {"platform": "console", "user_id": f"u{i}", "display_name": "", "created_at": NOW}
        for i in range(total)])
    await insert_chunks(store, chats, [
        {"platform": "console", "chat_id": f"dm-u{i}", "thread_id": "", "kind": "private",
         "language": "en", "timezone": ZONE, "created_at": NOW} for i in range(total)])
    # Reminder times spread over the day; the first minute's are due at NOW.
    await insert_chunks(store, reminders, [
        {"user_pk": i + 1, "chat_pk": GROUPS + i + 1,
         "local_time": f"{(21 * 60 + i % 1440) // 60 % 24:02d}:{i % 60:02d}", "active": True,
         "paused_reason": "", "next_run_at": NOW + dt.timedelta(minutes=i % 1440),
         "updated_at": NOW} for i in range(total)])
    await insert_chunks(store, study_days, [
        {"chat_pk": i % GROUPS + 1, "user_pk": i + 1, "day": day - dt.timedelta(days=1),
         "counted_at": NOW - dt.timedelta(days=1), "zone": ZONE,
         "chat_day_pk": 2 * (i % GROUPS) + 1} for i in range(total)])
    await insert_chunks(store, review_cards, [
        {"user_pk": i + 1, "question_id": questions[(i + k) % len(questions)], "state": 2,
         "step": None, "stability": 3.0, "difficulty": 5.0,
         "due": NOW - dt.timedelta(hours=1), "last_review": NOW - dt.timedelta(days=3),
         "reps": 2, "review_day": day - dt.timedelta(days=3), "source": "daily", "prior": "",
         "chat_day_pk": 1, "created_at": NOW}
        for i in range(0, total, 3) for k in range(2)])


async def plan(store: SqlStore, statement: Any) -> list[str]:
    """The database's plan for a statement, as its EXPLAIN prints it."""
    async with store.engine.connect() as conn:
        sql = str(statement.compile(conn.engine.sync_engine, compile_kwargs={
            "literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        rows = (await conn.execute(text(prefix + sql))).all()
    return [str(r[-1]) for r in rows]


async def tick(service: StudyService) -> tuple[float, Any]:
    started = time.perf_counter()
    report = await service.push.run_once()
    return (time.perf_counter() - started) * 1000, report


async def main(total: int, burst: int, url: str) -> None:
    bank, _ = load_bank(REPO / "content")
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(url or f"sqlite:///{folder}/reminders.db")
        started = time.perf_counter()
        await populate(store, total, list(bank.ids()))
        if store.engine.dialect.name == "postgresql":
            async with store.engine.connect() as conn:  # plans from the data, not from guesses
                await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                    text("ANALYZE"))
        print(f"set-up: {total:,} users with reminders, {GROUPS:,} groups, "
              f"{len(range(0, total, 3)) * 2:,} due cards in {time.perf_counter() - started:.1f} s")
        print("\nplan of the due scan (every tick):")
        for line in await plan(store, due_reminders_query("console", NOW, 200)):
            print(f"  {line}")
        print("plan of the earliest-due query (what the scheduler sleeps on):")
        for line in await plan(store, earliest_reminder_query(["console"])):
            print(f"  {line}")

        clock = Clock()
        service = StudyService(store, bank, clock, ActionCodec(await store.payload_secret()),
                               StudyConfig(default_timezone=ZONE))
        add_review(service, store, ReviewConfig(fuzz=False))
        messenger = CountingMessenger()
        service.register_messenger(messenger)

        clock.current = NOW - dt.timedelta(seconds=30)
        idle = [(await tick(service))[0] for _ in range(20)]
        print(f"\nidle tick (nothing due, {total:,} reminders set): "
              f"median {sorted(idle)[len(idle) // 2]:.2f} ms")
        wake = time.perf_counter()
        for _ in range(20):
            await service.push.next_wake()
        print(f"earliest-due queries (posts, retries, reminders): "
              f"{(time.perf_counter() - wake) / 20 * 1000:.2f} ms")
        wake = time.perf_counter()
        for _ in range(20):
            await store.next_reminder_at(["console"])
        print(f"  of which the reminders': {(time.perf_counter() - wake) / 20 * 1000:.2f} ms")

        clock.current = NOW
        took, report = await tick(service)
        sent = report.sent + report.quiet
        print(f"tick at the minute: {sent} reminder(s) due, {report.sent} sent, "
              f"{report.quiet} with nothing to say, in {took:.1f} ms "
              f"({took / max(sent, 1):.2f} ms per reminder)")

        if burst:
            async with store.engine.begin() as conn:
                await conn.execute(update(reminders).where(
                    reminders.c.user_pk.in_(range(2, 2 + burst * 3, 3))).values(
                    next_run_at=NOW + dt.timedelta(minutes=5)))
            clock.current = NOW + dt.timedelta(minutes=5)
            took, report = await tick(service)
            sent = report.sent + report.quiet
            print(f"burst: {sent:,} due at once, {report.sent:,} sent in {took / 1000:.2f} s "
                  f"= {sent / (took / 1000):.0f} reminders/s")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("users", nargs="?", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=0)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    asyncio.run(main(args.users, args.burst, args.db))
