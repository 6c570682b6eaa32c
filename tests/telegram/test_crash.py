"""`studybot run` killed with SIGKILL in the middle of a push, then started again: every group
gets its question exactly once, and what the crash cut off goes out at once after the restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

from bot.core.models import ChatKind, ChatRef
from bot.storage.sql import open_store
from tests.telegram.fake_botapi import FakeBotApi
from tests.telegram.test_run import start, stop

GROUPS = 60


async def seed_due_groups(url: str, groups: int = GROUPS) -> None:
    """`groups` Telegram groups (-5000, -5001, …) whose daily post was due 30 s ago."""
    store = await open_store(url)
    due = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    try:
        for i in range(groups):
            chat = await store.ensure_chat(ChatRef("telegram", str(-5000 - i)), ChatKind.GROUP,
                                           language="zh", timezone="UTC")
            await store.subscribe(chat.pk, due.time().replace(second=0, microsecond=0), "UTC",
                                  due)
    finally:
        await store.close()


def sent_marks(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "run.db") as db:
        return int(db.execute("select count(*) from deliveries where state = 'sent'")
                   .fetchone()[0])


async def until(condition: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_push_killed_twice_mid_way_posts_each_group_exactly_once(
    botapi: FakeBotApi, tmp_path: Path
) -> None:
    await seed_due_groups(f"sqlite:///{tmp_path}/run.db")
    env = {"STUDYBOT_TELEGRAM_TOKEN": botapi.token,
           "STUDYBOT_TELEGRAM_API_URL": f"{botapi.url}/bot",
           "STUDYBOT_TELEGRAM_RATE_LIMIT": "0", "STUDYBOT_OUTBOX_JOURNAL": f"{tmp_path}/marks"}
    for stop_after in (20, 40):
        # Posts stop being answered after `stop_after`: the bot has sends out when it dies,
        # and none of those reached a group.
        botapi.hold_sends_after = stop_after
        botapi._answering_sends.clear()
        process = await start(tmp_path, **env)
        # Killed once the bot has recorded what it delivered: the one window left open, a
        # crash between Telegram's answer and the bot reading it, is not what this checks.
        await until(lambda n=stop_after: sent_marks(tmp_path) >= n and botapi.held_sends, 60)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        botapi.release()
    botapi.hold_sends_after = None
    restarted_at = time.monotonic()
    process = await start(tmp_path, **env)
    try:
        await until(lambda: len(botapi.delivered) >= GROUPS, 60)
        # The claims the crashes left open are sent as soon as the bot is back, not after a
        # ten-minute staleness wait.
        assert time.monotonic() - restarted_at < 30
        await asyncio.sleep(1.0)  # a duplicate, if any, would arrive now
    finally:
        err = await stop(process)
    assert process.returncode == 0, err.decode()
    assert Counter(botapi.delivered) == Counter({-5000 - i: 1 for i in range(GROUPS)})
