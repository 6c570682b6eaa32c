from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.actions import ActionCodec
from bot.core.study import StudyConfig, StudyService
from bot.storage.sql import SqlStore, open_store
from tests.fakes import FakeBank, FakeClock, RecordingMessenger, make_questions
from tests.telegram.fake_botapi import FakeBotApi

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock() -> FakeClock:
    # 2026-03-02 00:00 UTC is 08:00 in Shanghai, a Monday.
    return FakeClock(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = await open_store(f"sqlite:///{tmp_path}/test.db")
    yield s
    await s.close()


@pytest.fixture
def bank() -> FakeBank:
    return FakeBank(make_questions(5))


@pytest.fixture
def messenger() -> RecordingMessenger:
    return RecordingMessenger()


@pytest.fixture
async def service(
    store: SqlStore, bank: FakeBank, clock: FakeClock, messenger: RecordingMessenger
) -> StudyService:
    codec = ActionCodec(await store.payload_secret())
    svc = StudyService(store, bank, clock, codec, StudyConfig(default_timezone="Asia/Shanghai"))
    svc.register_messenger(messenger)
    return svc


@pytest.fixture
async def botapi() -> AsyncIterator[FakeBotApi]:
    """A fake Telegram Bot API on 127.0.0.1 (tests/telegram/fake_botapi.py)."""
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()
