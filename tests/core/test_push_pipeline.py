"""The push pipeline under faults: outages, a database that refuses writes, restarts.

Deterministic: an injected clock, a real SQLite file, and a store wrapper that fails writes on
demand the way SQLite does (disk full, read-only, locked).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy.exc import OperationalError

from bot.core.actions import ActionCodec
from bot.core.events import Actor, Command
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.ports import TemporaryFailure
from bot.core.push import PushConfig
from bot.core.study import StudyConfig, StudyService
from bot.storage.journal import FileJournal
from bot.storage.sql import SqlStore, open_store
from tests.fakes import FakeBank, FakeClock, RecordingMessenger

GRACE = dt.timedelta(hours=6)


class FaultyStore:
    """The real store, with writes that fail while `failing` is set (as SQLite reports it)."""

    WRITES: ClassVar[set[str]] = {"claim_batch", "write_marks", "heartbeat", "end_instance",
                                  "prune", "pause_subscription", "move_chat"}

    def __init__(self, inner: SqlStore) -> None:
        self.inner = inner
        self.failing = ""
        self.writes = Counter[str]()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in self.WRITES:
            return attr

        async def write(*args: Any, **kwargs: Any) -> Any:
            if self.failing:
                raise OperationalError("statement", {}, Exception(self.failing))
            self.writes[name] += 1
            return await attr(*args, **kwargs)

        return write


class FlakyMessenger(RecordingMessenger):
    """Fails every send while `down` (a platform outage), else records it."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.attempts = 0

    async def send(self, chat: ChatRef, message: Any) -> str:
        self.attempts += 1
        if self.down:
            raise TemporaryFailure("500 Internal Server Error")
        return await super().send(chat, message)


async def make_service(store: Any, bank: FakeBank, clock: FakeClock, messenger: Any,
                       journal: FileJournal | None = None) -> StudyService:
    codec = ActionCodec(await store.payload_secret())
    service = StudyService(store, bank, clock, codec, StudyConfig(grace=GRACE),
                           PushConfig(grace=GRACE))
    service.push._rng = random.Random(7)
    service.push.outbox.journal = journal
    service.register_messenger(messenger)
    return service


async def subscribe_groups(service: StudyService, count: int) -> None:
    for i in range(count):
        actor = Actor(ChatRef("console", f"g{i}"), ChatKind.GROUP,
                      UserRef("console", "admin"), True)
        await service.handle_command(Command(actor, "subscribe", ("09:00", "Asia/Shanghai")))


async def claim_then_fail_writes(service: StudyService, count: int, faulty: FaultyStore,
                                 failure: str) -> None:
    """Claim `count` posts while the database works, then send them while it refuses writes."""
    posts = await service.push.claim("console", count, service.push.report)
    faulty.failing = failure
    for post in posts:
        await service.push.deliver(post, service.push.report)


def per_chat(messenger: RecordingMessenger) -> Counter[str]:
    return Counter(chat.chat_id for chat, _ in messenger.sent)


@pytest.fixture
def faulty(store: SqlStore) -> FaultyStore:
    return FaultyStore(store)


async def test_a_60_second_outage_delays_every_group_but_posts_each_once(
    store: SqlStore, bank: FakeBank, clock: FakeClock
) -> None:
    messenger = FlakyMessenger()
    service = await make_service(store, bank, clock, messenger)
    await subscribe_groups(service, 600)
    clock.advance(hours=1)  # 09:00 in Shanghai
    messenger.down = True
    report = await service.push_due()
    assert report.sent == 0 and report.retry == 600
    for _ in range(12):  # the minute passes in 5 s steps; retries back off meanwhile
        clock.advance(seconds=5)
        await service.push_due()
    messenger.down = False
    for _ in range(60):
        clock.advance(seconds=5)
        await service.push_due()
    assert per_chat(messenger) == Counter({f"g{i}": 1 for i in range(600)})
    states = await store.delivery_state_counts()
    assert states == {"sent": 600}
    # Backoff: far fewer tries than one per group per step.
    assert messenger.attempts < 600 * 6


async def test_a_10_minute_outage_still_posts_everything_once_within_the_grace_window(
    store: SqlStore, bank: FakeBank, clock: FakeClock
) -> None:
    messenger = FlakyMessenger()
    service = await make_service(store, bank, clock, messenger)
    await subscribe_groups(service, 50)
    clock.advance(hours=1)
    messenger.down = True
    for _ in range(60):
        await service.push_due()
        clock.advance(seconds=10)
    messenger.down = False
    for _ in range(40):
        await service.push_due()
        clock.advance(seconds=15)
    assert per_chat(messenger) == Counter({f"g{i}": 1 for i in range(50)})
    assert await store.delivery_state_counts() == {"sent": 50}


async def test_a_post_whose_retries_run_past_the_grace_window_is_missed_not_left_retrying(
    store: SqlStore, bank: FakeBank, clock: FakeClock
) -> None:
    messenger = FlakyMessenger()
    service = await make_service(store, bank, clock, messenger)
    await subscribe_groups(service, 3)
    clock.advance(hours=1)
    messenger.down = True
    missed = 0
    for _ in range(200):  # seven hours of a platform that never comes back
        missed += (await service.push_due()).missed
        clock.advance(minutes=2, seconds=30)
    assert missed == 3
    assert await store.delivery_state_counts() == {"missed": 3}
    assert messenger.sent == []


async def test_a_disk_full_mid_push_keeps_the_marks_and_posts_nothing_twice(
    faulty: FaultyStore, bank: FakeBank, clock: FakeClock, store: SqlStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    messenger = RecordingMessenger()
    service = await make_service(faulty, bank, clock, messenger)
    await subscribe_groups(service, 40)
    clock.advance(hours=1)
    caplog.set_level(logging.ERROR)
    await claim_then_fail_writes(service, 40, faulty, "database or disk is full")
    for _ in range(30):  # thirty seconds of a full disk: the outbox keeps trying
        assert not await service.push.outbox.flush()
        clock.advance(seconds=1)
    assert not service.push.outbox.writable and len(service.push.outbox.pending) == 40
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "disk is full" in errors[0].getMessage()
    assert errors[0].exc_info is None  # one line, not a traceback
    # Nothing is claimed again while its mark waits, even by this process's own next pass.
    faulty.failing = ""
    clock.advance(minutes=30)
    assert (await service.push_due()).sent == 0
    assert service.push.outbox.writable and not service.push.outbox.pending
    assert per_chat(messenger) == Counter({f"g{i}": 1 for i in range(40)})
    assert await store.delivery_state_counts() == {"sent": 40}


async def test_marks_journaled_while_the_disk_was_read_only_are_written_after_a_restart(
    faulty: FaultyStore, bank: FakeBank, clock: FakeClock, store: SqlStore, tmp_path: Path,
) -> None:
    messenger = RecordingMessenger()
    journal = FileJournal(tmp_path / "elsewhere" / "marks")
    journal.path.parent.mkdir()
    service = await make_service(faulty, bank, clock, messenger, journal)
    await subscribe_groups(service, 20)
    clock.advance(hours=1)
    await claim_then_fail_writes(service, 20, faulty, "attempt to write a readonly database")
    assert not await service.push.outbox.flush()
    # The process is stopped; the file system is repaired; a new process starts.
    faulty.failing = ""
    clock.advance(minutes=15)
    restarted = await make_service(store, bank, clock, messenger, FileJournal(journal.path))
    restarted.push.sole_instance = True  # as `studybot run` on a SQLite file
    assert await restarted.push.recover() == 20
    assert (await restarted.push_due()).sent == 0
    assert per_chat(messenger) == Counter({f"g{i}": 1 for i in range(20)})
    assert await store.delivery_state_counts() == {"sent": 20}
    assert not journal.path.exists()


async def test_a_claim_cut_off_by_a_crash_is_sent_at_once_by_a_sole_instance(
    store: SqlStore, bank: FakeBank, clock: FakeClock,
) -> None:
    messenger = RecordingMessenger()
    first = await make_service(store, bank, clock, messenger)
    await subscribe_groups(first, 5)
    clock.advance(hours=1)
    await first.push.beat()
    assert len(await first.push.claim("console", 5, first.push.report)) == 5  # then killed
    restarted = await make_service(store, bank, clock, messenger)
    restarted.push.sole_instance = True
    assert (await restarted.push_due()).sent == 5  # no lease to wait out
    assert per_chat(messenger) == Counter({f"g{i}": 1 for i in range(5)})


async def test_a_write_lock_held_elsewhere_delays_marks_but_never_duplicates(
    tmp_path: Path, bank: FakeBank, clock: FakeClock,
) -> None:
    import sqlite3

    from bot.storage.sql import open_store

    store = await open_store(f"sqlite:///{tmp_path}/locked.db", busy_timeout_ms=50)
    try:
        messenger = RecordingMessenger()
        service = await make_service(store, bank, clock, messenger)
        await subscribe_groups(service, 10)
        clock.advance(hours=1)
        posts = await service.push.claim("console", 10, service.push.report)
        other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        for post in posts:
            await service.push.deliver(post, service.push.report)
        assert not await service.push.outbox.flush()
        assert "locked" in service.push.outbox.last_error
        # Reads still answer while the lock is held (health checks use them).
        await store.ping()
        assert await store.due_count(clock.now()) == 0
        other.execute("ROLLBACK")
        other.close()
        clock.advance(minutes=20)
        assert (await service.push_due()).sent == 0
        assert per_chat(messenger) == Counter({f"g{i}": 1 for i in range(10)})
        assert await store.delivery_state_counts() == {"sent": 10}
    finally:
        await store.close()


async def test_the_pipeline_knows_the_next_due_instant_and_a_subscription_wakes_it(
    store: SqlStore, bank: FakeBank, clock: FakeClock,
) -> None:
    service = await make_service(store, bank, clock, RecordingMessenger())
    woken: list[bool] = []
    service.push.wake = lambda: woken.append(True)  # type: ignore[method-assign]
    await subscribe_groups(service, 1)
    assert woken == [True]
    # 09:00 in Shanghai is 01:00 UTC: the pipeline sleeps exactly until then.
    assert await service.push.next_wake() == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


async def test_old_history_is_pruned_after_the_retention_period(
    store: SqlStore, bank: FakeBank, clock: FakeClock,
) -> None:
    messenger = RecordingMessenger()
    service = await make_service(store, bank, clock, messenger)
    await subscribe_groups(service, 2)
    clock.advance(hours=1)
    for _ in range(12):  # twelve days: more than the five questions' cycle
        await service.push_due()
        clock.advance(days=1)
    assert (await store.delivery_state_counts())["sent"] == 24
    clock.advance(days=90 - 5)
    deliveries, days = await service.push.prune()
    assert deliveries == 14  # everything claimed more than 90 days ago
    assert days > 0  # unused days of finished question cycles
    assert sum((await store.delivery_state_counts()).values()) == 10


async def test_instances_count_each_other_at_each_heartbeat_to_share_the_rate(
    database_url: str, bank: FakeBank, clock: FakeClock,
) -> None:
    one_store, other_store = await open_store(database_url), await open_store(database_url)
    try:
        one = await make_service(one_store, bank, clock, RecordingMessenger())
        other = await make_service(other_store, bank, clock, RecordingMessenger())
        await one.push.beat()
        assert one.push.rate_share("console") == 1
        await other.push.beat()
        await one.push.beat()
        assert one.push.rate_share("console") == other.push.rate_share("console") == 2
        await other_store.end_instance(other.push.run_id)  # a clean stop
        await one.push.beat()
        assert one.push.rate_share("console") == 1
        await other.push.beat()
        clock.advance(seconds=31)  # the other stopped beating: its lease ran out
        await one.push.beat()
        assert one.push.rate_share("console") == 1
    finally:
        await one_store.close()
        await other_store.close()


async def test_the_sole_instance_of_a_sqlite_file_keeps_the_whole_rate(
    tmp_path: Path, bank: FakeBank, clock: FakeClock,
) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/bot.db")
    try:
        service = await make_service(store, bank, clock, RecordingMessenger())
        service.push.sole_instance = store.hold_sole_lock()
        await store.heartbeat("a-run-that-was-killed", clock.now())
        await service.push.beat()
        assert service.push.rate_share("console") == 1
    finally:
        await store.close()


async def test_instances_on_other_platforms_do_not_take_a_share_of_this_ones_limit(
    database_url: str, bank: FakeBank, clock: FakeClock,
) -> None:
    both_store, discord_store = await open_store(database_url), await open_store(database_url)
    try:
        both = await make_service(both_store, bank, clock, RecordingMessenger("telegram"))
        both.register_messenger(RecordingMessenger("discord"))
        discord_only = await make_service(discord_store, bank, clock,
                                          RecordingMessenger("discord"))
        await discord_only.push.beat()
        await both.push.beat()
        assert (both.push.rate_share("telegram"), both.push.rate_share("discord")) == (1, 2)
        # An instance of a version that does not say its platforms counts on every one.
        await both_store.heartbeat("an-older-instance", clock.now())
        await both.push.beat()
        assert (both.push.rate_share("telegram"), both.push.rate_share("discord")) == (2, 3)
    finally:
        await both_store.close()
        await discord_store.close()
