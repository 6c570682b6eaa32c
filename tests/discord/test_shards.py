"""Discord sharding: STUDYBOT_DISCORD_SHARDS splits the gateway between instances."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.actions import ActionCodec
from bot.core.study import StudyConfig, StudyService
from bot.settings import Settings
from bot.storage.sql import SqlStore
from tests.discord.conftest import start_adapter
from tests.discord.fake_discord import ALICE, GENERAL, GUILD_ID, FakeDiscord
from tests.fakes import FakeBank, FakeClock


async def test_two_instances_split_the_shards_and_the_server_is_served_by_its_owner(
    fake: FakeDiscord, service: StudyService, store: SqlStore, bank: FakeBank, clock: FakeClock,
    settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.adapters.discord")
    assert (GUILD_ID >> 22) % 4 == 2  # Discord's rule puts the test server on shard 2 of 4
    # A second process: its own service over the same database, as two instances would be.
    other = StudyService(store, bank, clock, ActionCodec(await store.payload_secret()),
                         StudyConfig())
    first = await start_adapter(service, settings.model_copy(update={"discord_shards": "0-1/4"}))
    second = await start_adapter(other, settings.model_copy(update={"discord_shards": "2-3/4"}))
    try:
        assert sorted(tuple(i["shard"]) for i in fake.identifies) == [
            (0, 4), (1, 4), (2, 4), (3, 4)]
        assert first.connected and second.connected
        assert first.client is not None and second.client is not None
        assert [g.id for g in first.client.guilds] == []
        assert [g.id for g in second.client.guilds] == [GUILD_ID]
        [reply] = await fake.answered(await fake.slash(ALICE, GENERAL, "help"))
        assert "/subscribe" in reply.text
        assert "on shards 0,1 of 4" in caplog.text and "on shards 2,3 of 4" in caplog.text
    finally:
        await second.stop()
        await first.stop()


async def test_without_shards_one_connection_carries_every_server(
    fake: FakeDiscord, service: StudyService, settings: Settings,
) -> None:
    adapter = await start_adapter(service, settings)
    try:
        assert [i.get("shard") for i in fake.identifies] in ([None], [[0, 1]])
        assert adapter.client is not None and [g.id for g in adapter.client.guilds] == [GUILD_ID]
    finally:
        await adapter.stop()


async def _events_run() -> None:
    for _ in range(3):  # discord.py runs each event handler as a task of its own
        await asyncio.sleep(0)


async def test_an_instance_is_connected_only_while_every_one_of_its_shards_is(
    fake: FakeDiscord, service: StudyService, settings: Settings,
) -> None:
    adapter = await start_adapter(service, settings.model_copy(update={"discord_shards": "0-1/4"}))
    try:
        client = adapter.client
        assert client is not None and adapter.connected
        client.dispatch("disconnect")
        client.dispatch("shard_disconnect", 1)
        await _events_run()
        assert not adapter.connected
        client.dispatch("resumed")
        client.dispatch("shard_resumed", 0)  # another shard's resume says nothing of shard 1
        await _events_run()
        assert not adapter.connected
        client.dispatch("resumed")
        client.dispatch("shard_resumed", 1)
        await _events_run()
        assert adapter.connected
    finally:
        await adapter.stop()
