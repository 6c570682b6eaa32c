"""`run_bot` with both platforms at once: one loop, one database, one scheduler, one /healthz."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.runner import RunningBot, run_bot
from bot.settings import Settings
from tests.conftest import REPO
from tests.discord.conftest import TOKEN
from tests.discord.fake_discord import BOB, GENERAL, FakeDiscord
from tests.fakes import FakeClock
from tests.telegram.fake_botapi import FakeBotApi, private_chat, text_message, user


async def test_telegram_and_discord_run_together_and_report_health_each(
    botapi: FakeBotApi, fake: FakeDiscord, tmp_path: Path, clock: FakeClock
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/both.db", content=REPO / "content",
        telegram_token=botapi.token, telegram_api_url=f"{botapi.url}/bot",
        discord_token=TOKEN, discord_api_url=fake.api_url, discord_gateway_url=fake.gateway_url,
        http_listen="127.0.0.1:0")
    stop = asyncio.Event()
    ready: asyncio.Future[RunningBot] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_bot(settings, clock=clock, stop=stop,
                                       started=ready.set_result))
    try:
        running = await asyncio.wait_for(asyncio.shield(ready), 30)
        assert [a.platform for a in running.adapters] == ["telegram", "discord"]
        assert running.ops is not None
        await running.app.scheduler.tick()
        await running.monitor.check(probe=True)
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{running.ops.port}/healthz") as answer:
            body = await answer.json()
        assert answer.status == 200, body
        assert body["adapters"] == {"telegram": {"connected": True, "answering": True},
                                    "discord": {"connected": True, "answering": True}}

        botapi.push(text_message(private_chat(5), user(5), "/help"))
        assert "/subscribe" in (await botapi.wait_for("sendMessage", chat_id=5))[0]["text"]
        help_ = await fake.answered(await fake.slash(BOB, GENERAL, "help"))
        assert help_ and help_[0].text
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
