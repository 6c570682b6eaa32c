"""The daily push through the real discord.py client when Discord misbehaves: a minute of 503s,
and a REST API that stops answering (health names Discord)."""

from __future__ import annotations

import asyncio

from bot.adapters.discord import DiscordAdapter
from bot.core.study import StudyService
from bot.observability import HealthMonitor, Metrics
from bot.scheduling import PushScheduler
from bot.storage.sql import SqlStore
from tests.discord.fake_discord import GENERAL, STUDY, FakeDiscord
from tests.discord.test_adapter import MESSAGES, subscribe
from tests.fakes import FakeClock


async def test_a_minute_of_discord_503s_posts_each_channel_once_late(
    bot: DiscordAdapter, service: StudyService, fake: FakeDiscord, clock: FakeClock,
    store: SqlStore,
) -> None:
    await subscribe(fake, channel=GENERAL)
    await subscribe(fake, channel=STUDY)
    clock.advance(hours=1)  # 09:00 in Shanghai
    fake.fail("POST", MESSAGES, 503, {"message": "Service Unavailable", "code": 0}, times=1000)
    report = await asyncio.wait_for(service.push_due(), 10)
    assert report.sent == 0 and report.retry == 2
    for _ in range(12):
        clock.advance(seconds=5)
        await asyncio.wait_for(service.push_due(), 10)
    fake.failures.clear()  # Discord is back
    for _ in range(30):
        clock.advance(seconds=10)
        await asyncio.wait_for(service.push_due(), 10)
    assert len(fake.messages_in(GENERAL)) == 1 and len(fake.messages_in(STUDY)) == 1
    assert await store.delivery_state_counts() == {"sent": 2}


async def test_a_discord_api_that_stops_answering_makes_health_name_discord(
    bot: DiscordAdapter, service: StudyService, fake: FakeDiscord, clock: FakeClock,
    store: SqlStore,
) -> None:
    monitor = HealthMonitor(store=store, scheduler=PushScheduler(service.push, clock, 20),
                            clock=clock, adapters=[bot], metrics=Metrics(), probe_timeout=0.2)
    await monitor.check(probe=True)
    assert monitor.health()[1]["adapters"]["discord"]["answering"] is True
    fake.hold(r"/oauth2/applications/@me")
    await monitor.check(probe=True)
    ok, body = monitor.health()
    assert not ok and body["status"] == "unhealthy"
    assert body["adapters"]["discord"]["answering"] is False
    assert "no answer within 0.2 s" in body["adapters"]["discord"]["error"]
