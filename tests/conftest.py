from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.actions import ActionCodec
from bot.core.study import StudyConfig, StudyService
from bot.storage.sql import SqlStore, open_store
from tests.fakes import FakeBank, FakeClock, RecordingMessenger, make_questions
from tests.postgres import Databases, require_server, run_now
from tests.telegram.fake_botapi import FakeBotApi

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock() -> FakeClock:
    # 2026-03-02 00:00 UTC is 08:00 in Shanghai, a Monday.
    return FakeClock(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Databases]:
    """The PostgreSQL test server (skips, or fails under CI=true, without one)."""
    databases = Databases(require_server())
    yield databases
    run_now(databases.close())


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of the test's own, on each backend the store supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.db"
        return
    databases: Databases = request.getfixturevalue("postgres_databases")
    async with databases.fresh() as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    s = await open_store(database_url)
    await s.follow_changes()  # on PostgreSQL, as a running bot does: rows are remembered
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
