"""Fixtures for the Discord tests: the fake Discord on 127.0.0.1 and the real adapter on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.core.study import StudyService
from bot.settings import Settings
from tests.discord.fake_discord import FakeDiscord

TOKEN = "MTIzNDU2Nzg5.fake-discord.token-for-the-tests-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(TOKEN)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def settings(tmp_path: Path, fake: FakeDiscord) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/test.db", discord_token=TOKEN,
                    discord_api_url=fake.api_url, discord_gateway_url=fake.gateway_url)


async def start_adapter(service: StudyService, settings: Settings) -> DiscordAdapter:
    """The real adapter, registered as the service's Discord messenger, connected to the fake.

    No wait for more servers after READY (discord.py's default is two seconds of real time), nor
    between the IDENTIFYs of several shards (five seconds each against the real Discord).
    """
    adapter = DiscordAdapter(service, settings, ready_timeout=10.0, guild_ready_timeout=0.0,
                             identify_interval=0.0)
    service.register_messenger(adapter)
    await adapter.start()
    return adapter


@pytest.fixture
async def bot(service: StudyService, settings: Settings) -> AsyncIterator[DiscordAdapter]:
    adapter = await start_adapter(service, settings)
    yield adapter
    task = adapter._task
    # A payload discord.py cannot parse kills its task silently: every test checks it lived.
    assert task is not None and not task.done(), "the discord.py gateway task died"
    await adapter.stop()
