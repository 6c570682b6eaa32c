"""The daily push through the real Telegram adapter to a fake Bot API on 127.0.0.1.

    .venv/bin/python bench/telegram_push.py [GROUPS]

Subscribes GROUPS groups (default 150) at the same minute, then times one push: the store, the
HTML rendering, python-telegram-bot's rate limiter (30 messages/s overall) and real HTTP on
loopback. Prints the figures and the sending rate; asserts nothing. The rate should sit just under
Telegram's 30 messages/s: the limiter, not our code, is what sets it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import build_app
from bot.core import schedule
from bot.core.models import ChatKind, ChatRef
from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes import FakeClock  # noqa: E402
from tests.telegram.fake_botapi import FakeBotApi  # noqa: E402


async def main(groups: int) -> None:
    api = FakeBotApi()
    await api.start()
    clock = FakeClock(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", content=REPO / "content",
                            telegram_token=api.token, telegram_api_url=f"{api.url}/bot")
        app = await build_app(settings, clock)
        adapter = TelegramAdapter(app.service, settings)
        app.service.register_messenger(adapter)
        await adapter.start()
        at = dt.time(9, 0)
        for i in range(groups):
            chat = await app.store.ensure_chat(ChatRef("telegram", str(-1000 - i)),
                                               ChatKind.GROUP, language="zh",
                                               timezone="Asia/Shanghai")
            await app.store.subscribe(chat.pk, at, "Asia/Shanghai",
                                      schedule.next_run(at, "Asia/Shanghai", clock.now()))
        clock.advance(hours=1, minutes=1)
        started = time.perf_counter()
        report = await app.service.push_due()
        took = time.perf_counter() - started
        await adapter.stop()
        await app.close()
    await api.stop()
    print(f"groups pushed:        {report.sent} sent, {report.failed} failed")
    print(f"wall time:            {took:.2f} s")
    print(f"rate:                 {report.sent / took:.1f} messages/s "
          "(Telegram allows about 30/s)")
    print(f"per message:          {1000 * took / max(1, report.sent):.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 150))
