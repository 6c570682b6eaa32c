"""Two `studybot run` instances in webhook mode behind one load balancer, on one PostgreSQL
database: every update is handled once, by the instance it reaches, and every group gets its
daily post once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.postgres import Databases
from tests.telegram.fake_botapi import FakeBotApi, private_chat, text_message, user
from tests.telegram.test_crash import seed_due_groups, until
from tests.telegram.test_run import start, stop
from tests.telegram.test_telegram_e2e import free_port

GROUPS = 30
USERS = 12
SECRET = "shared-Webhook_secret-1"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Balancer:
    """Round robin over the instances' webhook listeners, as a proxy in front of them would."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self._turn = itertools.cycle(backends)
        self.forwarded: Counter[int] = Counter()
        self.port = free_port()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        backend = next(self._turn)
        headers = {name: request.headers[name] for name in ("Content-Type", HEADER)
                   if name in request.headers}
        async with self._http.post(f"http://127.0.0.1:{backend}{request.path}",
                                   data=await request.read(), headers=headers) as answer:
            self.forwarded[backend] += 1
            return web.Response(status=answer.status, body=await answer.read())


async def listening(port: int, within: float = 30.0) -> None:
    """Wait (bounded) until something accepts connections on 127.0.0.1:`port`."""
    for _ in range(int(within / 0.05)):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listens on port {port}")


@pytest.fixture
async def database(postgres_databases: Databases) -> AsyncIterator[str]:
    async with postgres_databases.fresh() as url:
        yield url


async def test_two_webhook_instances_behind_a_balancer_handle_each_update_and_post_once(
    botapi: FakeBotApi, tmp_path: Path, database: str,
) -> None:
    await seed_due_groups(database, GROUPS)
    ports = [free_port(), free_port()]
    balancer = Balancer(ports)
    await balancer.start()
    processes = []
    try:
        for n, port in enumerate(ports):
            folder = tmp_path / f"instance{n}"
            folder.mkdir()
            processes.append(await start(
                folder, STUDYBOT_DATABASE_URL=database, STUDYBOT_TELEGRAM_TOKEN=botapi.token,
                STUDYBOT_TELEGRAM_API_URL=f"{botapi.url}/bot", STUDYBOT_TELEGRAM_RATE_LIMIT="0",
                STUDYBOT_TELEGRAM_WEBHOOK_URL="https://bot.example.com/tg-hook",
                STUDYBOT_TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                STUDYBOT_TELEGRAM_WEBHOOK_SECRET=SECRET,
                STUDYBOT_OUTBOX_JOURNAL=f"{folder}/marks"))
        registered = await botapi.wait_for("setWebhook", 2, within=60)
        assert {(r["url"], r["secret_token"]) for r in registered} == {
            ("https://bot.example.com/tg-hook", SECRET)}
        # python-telegram-bot registers the webhook first and listens a moment after.
        for port in ports:
            await listening(port)

        async with aiohttp.ClientSession() as http:
            for n in range(USERS):
                update = {"update_id": 1000 + n,
                          **text_message(private_chat(700 + n), user(700 + n), "/help")}
                async with http.post(f"http://127.0.0.1:{balancer.port}/tg-hook", json=update,
                                     headers={HEADER: SECRET}) as answer:
                    assert answer.status == 200
        assert balancer.forwarded == Counter({port: USERS // 2 for port in ports})

        def replies() -> Counter[int]:
            return Counter(p["chat_id"] for p in botapi.calls_to("sendMessage")
                           if 700 <= int(p["chat_id"]) < 700 + USERS)

        await until(lambda: len(replies()) == USERS
                    and len([c for c in botapi.delivered if c <= -5000]) >= GROUPS, 60)
        await asyncio.sleep(1.0)  # a duplicate reply or post, if any, would arrive now
    finally:
        errors = [await stop(process) for process in processes]
        await balancer.stop()
    for process, err in zip(processes, errors, strict=True):
        assert process.returncode == 0, err.decode()
        assert "webhook" in err.decode()
    assert replies() == Counter({700 + n: 1 for n in range(USERS)})
    assert Counter(c for c in botapi.delivered if c <= -5000) == Counter(
        {-5000 - i: 1 for i in range(GROUPS)})
