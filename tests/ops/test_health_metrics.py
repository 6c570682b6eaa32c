"""/healthz and /metrics over real HTTP on 127.0.0.1 while the bot runs on the fake Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.runner import RunningBot, run_bot
from bot.settings import Settings
from tests.conftest import REPO
from tests.fakes import FakeClock
from tests.telegram.fake_botapi import (
    FakeBotApi,
    buttons,
    callback,
    group_chat,
    sent_message,
    text_message,
    user,
)

GROUP, ALICE = -100777, 11


@pytest.fixture
async def running(
    botapi: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/db/ops.db", content=REPO / "content",
        telegram_token=botapi.token, telegram_api_url=f"{botapi.url}/bot",
        http_listen="127.0.0.1:0", tick_seconds=3600)
    stop = asyncio.Event()
    ready: asyncio.Future[RunningBot] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_bot(settings, clock=clock, stop=stop,
                                       started=ready.set_result))
    bot = await asyncio.wait_for(asyncio.shield(ready), 20)
    yield bot
    stop.set()
    await asyncio.wait_for(task, 20)


async def get(bot: RunningBot, path: str) -> tuple[int, Any]:
    assert bot.ops is not None
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{bot.ops.port}{path}") as answer:
        body = await (answer.json() if path == "/healthz" else answer.text())
        return answer.status, body


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_healthz_is_200_with_each_part_reported_while_everything_works(
    running: RunningBot,
) -> None:
    await running.app.scheduler.tick()
    await running.monitor.check(probe=True)
    status, body = await get(running, "/healthz")
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["adapters"] == {"telegram": {"connected": True, "answering": True}}
    assert body["scheduler"]["running"] and body["scheduler"]["last_tick_age_seconds"] == 0
    assert body["database"] == {"reachable": True, "writable": True}
    assert body["push"] == {"backlog": 0, "growing": False, "pending_marks": 0}


async def test_healthz_is_503_when_the_database_is_gone(
    running: RunningBot, tmp_path: Path
) -> None:
    for file in (tmp_path / "db").iterdir():
        file.unlink()
    await running.monitor.check()
    status, body = await get(running, "/healthz")
    assert status == 503
    assert body["status"] == "unhealthy" and body["database"]["reachable"] is False
    assert "missing" in body["database"]["error"]


async def test_healthz_is_503_when_the_scheduler_stopped_ticking(
    running: RunningBot, clock: FakeClock
) -> None:
    await running.app.scheduler.tick()
    await running.app.scheduler.pipeline.settled()
    clock.advance(hours=4)  # three intervals of 3600 s plus slack have passed without a tick
    status, body = await get(running, "/healthz")
    assert status == 503 and body["scheduler"]["ok"] is False


async def test_metrics_count_pushes_presses_and_subscriptions(
    running: RunningBot, botapi: FakeBotApi, clock: FakeClock
) -> None:
    botapi.members[(GROUP, ALICE)] = "creator"
    botapi.push(text_message(group_chat(GROUP), user(ALICE), "/subscribe 09:00"))
    await botapi.wait_for("sendMessage", chat_id=GROUP)
    await running.monitor.check(count=True)
    _, before = await get(running, "/metrics")
    assert sample(before, "studybot_subscriptions", platform="telegram") == 1
    assert sample(before, "studybot_pushes_total", platform="telegram", outcome="sent") == 0

    await running.monitor.check(count=True)
    clock.advance(hours=1, minutes=5)
    await running.monitor.check()
    _, due = await get(running, "/metrics")
    assert sample(due, "studybot_due_backlog") == 1
    await running.app.scheduler.tick()
    post = (await botapi.wait_for("sendMessage", 2, chat_id=GROUP))[1]
    botapi.push(callback(user(ALICE), sent_message(post), buttons(post)[1][0]["callback_data"]))
    await botapi.wait_for("answerCallbackQuery")

    await running.monitor.check()
    _, after = await get(running, "/metrics")
    assert sample(after, "studybot_pushes_total", platform="telegram", outcome="sent") == 1
    assert sample(after, "studybot_send_seconds_count", platform="telegram") == 1
    assert sample(after, "studybot_button_presses_total", platform="telegram") == 1
    assert sample(after, "studybot_due_backlog") == 0
    assert sample(after, "studybot_adapter_connected", platform="telegram") == 1
    assert sample(after, "studybot_instances", platform="telegram") == 1  # the whole rate


async def test_a_429_is_counted_in_the_metrics(
    running: RunningBot, botapi: FakeBotApi, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("bot.adapters.telegram.adapter.pause", no_wait)
    botapi.members[(GROUP, ALICE)] = "creator"
    botapi.push(text_message(group_chat(GROUP), user(ALICE), "/subscribe 09:00"))
    await botapi.wait_for("sendMessage", chat_id=GROUP)
    botapi.fail("sendMessage", 429, "Too Many Requests: retry after 5", chat_id=GROUP,
                parameters={"retry_after": 5})
    clock.advance(hours=1, minutes=5)
    await running.app.scheduler.tick()
    # The tick, or the pipeline's lane woken by the clock, sends the post: wait for the retry.
    await botapi.wait_for("sendMessage", 3, chat_id=GROUP)
    await running.app.service.push.settled()
    _, text = await get(running, "/metrics")
    assert sample(text, "studybot_rate_limited_total", platform="telegram") == 1
    assert sample(text, "studybot_pushes_total", platform="telegram", outcome="sent") == 1
    assert waits == [5.0]
