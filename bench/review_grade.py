"""What one review grade costs the bot, end to end through the fake Telegram Bot API.

    .venv/bin/python bench/review_grade.py [GRADES] [--rate MSG_PER_S]

The real app and Telegram adapter (python-telegram-bot against the fake Bot API on 127.0.0.1,
SQLite on a temporary file), one user with GRADES cards due (default 300, at most the shipped
bank's size). For each card: the user taps "show answer", then "knew it"; timed from the moment
the fake hands the grade's callback to the bot's long poll until the bot's toast
(answerCallbackQuery) and until the next card arrives (sendMessage). That is the bot's side:
getUpdates, the core's work on the store, rendering, and two Bot API calls over loopback HTTP.
With the default rate limit (29 messages/s overall, evenly spaced) every Bot API call waits for
its 34 ms slot; `--rate 0` turns the limiter off to show the bot's own work. Prints p50 and p99;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.adapters.telegram.adapter import TelegramAdapter  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.core.models import ChatKind, ChatRef, UserRef  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.telegram.fake_botapi import (  # noqa: E402
    FakeBotApi,
    buttons,
    callback,
    private_chat,
    sent_message,
    text_message,
    user,
)

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
ALICE = 11


class Clock:
    def now(self) -> dt.datetime:
        return NOW


async def sent_to(api: FakeBotApi, count: int) -> dict[str, Any]:
    return (await api.wait_for("sendMessage", count, chat_id=ALICE, within=30))[count - 1]


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"


async def main(grades: int, rate: float | None) -> None:
    api = FakeBotApi()
    await api.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/grade.db", content=REPO / "content",
                            telegram_token=api.token, telegram_api_url=f"{api.url}/bot",
                            review_limit=1000,
                            **({} if rate is None else {"telegram_rate_limit": rate}))
        app = await build_app(settings, Clock())
        adapter = TelegramAdapter(app.service, settings)
        app.service.register_messenger(adapter)
        await adapter.start()
        try:
            store = app.store
            user_pk = await store.ensure_user(UserRef("telegram", str(ALICE), "Alice"))
            ids = list(app.service.bank.ids())[:grades]
            # The question of the day the cards came from: the streak ledger refers to it.
            group = await store.ensure_chat(ChatRef("telegram", "-100"), ChatKind.GROUP,
                                            language="zh", timezone="Asia/Shanghai")
            origin = await store.add_chat_day(group.pk, dt.date(2026, 2, 27), ids[0], 0)
            for question_id in ids:  # cards in review, due an hour ago
                await store.put_card(user_pk, question_id, {
                    "state": 2, "step": None, "stability": 3.0, "difficulty": 5.0,
                    "due": NOW - dt.timedelta(hours=1), "last_review": NOW - dt.timedelta(days=3),
                    "reps": 2, "review_day": dt.date(2026, 2, 27), "source": "daily",
                    "prior": "", "chat_day_pk": origin.pk}, NOW)
            api.push(text_message(private_chat(ALICE), user(ALICE), "/review"))
            card = await sent_to(api, 1)
            toasts: list[float] = []
            nexts: list[float] = []
            reveals: list[float] = []
            for n in range(len(ids)):
                count = len(api.sent(ALICE))
                started = time.perf_counter()
                api.push(callback(user(ALICE), sent_message(card), buttons(card)[0][0][
                    "callback_data"]))
                answer = await sent_to(api, count + 1)
                reveals.append((time.perf_counter() - started) * 1000)
                answered = len(api.calls_to("answerCallbackQuery"))
                started = time.perf_counter()
                api.push(callback(user(ALICE), sent_message(answer), buttons(answer)[0][0][
                    "callback_data"]))
                await api.wait_for("answerCallbackQuery", answered + 1, within=30)
                toasts.append((time.perf_counter() - started) * 1000)
                card = await sent_to(api, count + 2)
                nexts.append((time.perf_counter() - started) * 1000)
                if n == len(ids) - 1:
                    assert "All done" in card["text"] or "全部完成" in card["text"], card["text"]
            limit = settings.telegram_rate_limit
            print(f"{len(ids)} review grades through the fake Bot API (SQLite, rate limit "
                  f"{f'{limit:g} msg/s' if limit else 'off'}):")
            print(f"  grade → toast (answerCallbackQuery): {summary(toasts)}")
            print(f"  grade → next card (sendMessage):     {summary(nexts)}")
            print(f"  show answer → answer (sendMessage):  {summary(reveals)}")
        finally:
            await adapter.stop()
            await app.close()
            await api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("grades", nargs="?", type=int, default=300)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.grades, args.rate))
