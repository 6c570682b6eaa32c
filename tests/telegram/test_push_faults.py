"""The daily push through the real Telegram adapter when Telegram misbehaves: an outage of 500s,
a server that accepts connections and never answers, 429s handled without an ERROR traceback."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter

import pytest

from bot.core.models import ChatKind, ChatRef
from bot.core.schedule import next_run
from bot.observability import HealthMonitor, Metrics
from tests.telegram.conftest import Harness, HarnessFactory

NINE = dt.time(9, 0)


async def subscribe(h: Harness, groups: int) -> None:
    for i in range(groups):
        chat = await h.app.store.ensure_chat(ChatRef("telegram", str(-1000 - i)), ChatKind.GROUP,
                                             language="zh", timezone="Asia/Shanghai")
        await h.app.store.subscribe(chat.pk, NINE, "Asia/Shanghai",
                                    next_run(NINE, "Asia/Shanghai", h.clock.now()))


async def test_a_60_second_telegram_outage_posts_every_group_once_late(
    telegram: HarnessFactory,
) -> None:
    h = await telegram()
    await subscribe(h, 60)
    h.clock.advance(hours=1)
    h.api.outage = 500
    assert (await h.push()).sent == 0
    for _ in range(12):
        h.clock.advance(seconds=5)
        await h.push()
    h.api.outage = 0
    for _ in range(40):
        h.clock.advance(seconds=10)
        await h.push()
    assert Counter(h.api.delivered) == Counter({-1000 - i: 1 for i in range(60)})
    assert await h.app.store.delivery_state_counts() == {"sent": 60}


async def test_a_telegram_that_never_answers_makes_healthz_unhealthy_naming_it(
    telegram: HarnessFactory,
) -> None:
    h = await telegram()
    monitor = HealthMonitor(store=h.app.store, scheduler=h.app.scheduler, clock=h.clock,
                            adapters=[h.adapter], metrics=Metrics(), probe_timeout=0.2)
    await monitor.check(probe=True)
    assert monitor.health()[1]["adapters"]["telegram"]["answering"] is True
    h.api.hang()
    try:
        await monitor.check(probe=True)
        ok, body = monitor.health()
    finally:
        h.api.release()
    assert not ok and body["status"] == "unhealthy"
    assert body["adapters"]["telegram"] == {
        "connected": True, "answering": False, "error": "no answer within 0.2 s"}
    await monitor.check(probe=True)
    assert monitor.health()[1]["adapters"]["telegram"]["answering"] is True


async def test_a_handled_429_leaves_no_error_traceback_in_the_log(
    telegram: HarnessFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    h = await telegram()
    await subscribe(h, 1)
    h.api.fail("sendMessage", 429, "Too Many Requests: retry after 3", chat_id=-1000,
               parameters={"retry_after": 3})
    h.clock.advance(hours=1)
    caplog.set_level(logging.INFO)
    assert (await h.push()).sent == 1
    assert h.sleeps == [3.0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("rate limited" in r.getMessage() for r in caplog.records)
    await asyncio.sleep(0)
