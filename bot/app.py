"""The composition root: settings → store, content, core service, scheduler, adapters."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from bot.clock import OffsetClock
from bot.content.packs import load_bank
from bot.core import progress
from bot.core.actions import ActionCodec, Kind
from bot.core.ports import Clock
from bot.core.privacy import PrivacyService
from bot.core.push import PushConfig
from bot.core.reminders import ReminderService
from bot.core.review import GRADE_OF_REVIEW_KIND, ReviewConfig, ReviewService
from bot.core.study import StudyConfig, StudyService
from bot.core.together import TogetherService
from bot.scheduling import PushScheduler
from bot.settings import Settings
from bot.storage.journal import FileJournal, default_journal_path
from bot.storage.sql import SqlStore, open_store

if TYPE_CHECKING:
    from bot.adapters.console.adapter import ConsoleAdapter

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    store: SqlStore
    service: StudyService
    scheduler: PushScheduler

    async def close(self) -> None:
        # A tick in flight holds a database connection: let it finish before the pool closes,
        # or the connection is torn down under it and its close never completes.
        await self.scheduler.drain()
        await self.store.close()


async def build_app(settings: Settings, clock: Clock) -> App:
    bank, problems = load_bank(settings.content)
    for problem in problems:
        log.warning("content: %s", problem)
    if not len(bank):
        log.warning("no questions loaded from %s", settings.content)
    store = await open_store(settings.database_url)
    try:
        sole = store.hold_sole_lock()
        if not sole:
            await store.follow_changes()  # PostgreSQL: remember rows, hearing others' changes
        codec = ActionCodec(await store.payload_secret())
    except Exception:
        await store.close()
        raise
    config = StudyConfig(
        default_timezone=settings.default_timezone, default_language=settings.language,
        rollover_hour=settings.rollover_hour,
        grace=dt.timedelta(minutes=settings.push_grace_minutes),
    )
    push = PushConfig(grace=config.grace,
                      retention=dt.timedelta(days=settings.retention_days),
                      idle=dt.timedelta(seconds=settings.tick_seconds))
    service = StudyService(store, bank, clock, codec, config, push)
    add_review(service, store, ReviewConfig(retention=settings.review_retention,
                                            daily_limit=settings.review_limit))
    PrivacyService(store, bank, clock, codec).register(service)
    TogetherService(service, store).register()
    progress.install(service)
    journal = FileJournal(settings.outbox_journal or default_journal_path(settings.database_url))
    service.push.outbox.journal = journal
    service.push.sole_instance = sole
    store.on_instances_changed = service.push.instances_changed
    try:
        await service.push.recover()
    except Exception as error:
        # The marks stay in the journal for the next start; claims are not taken meanwhile
        # only if the database refuses those too, which the pipeline then reports.
        log.error("could not write the push marks kept from the last run: %s", error)
    return App(settings, store, service, PushScheduler(service.push, clock, settings.tick_seconds))


def add_review(service: StudyService, store: SqlStore,
               config: ReviewConfig) -> tuple[ReviewService, ReminderService]:
    """Compose the review loop and reminders into the study service and its push pipeline."""
    review = ReviewService(service, store, config)
    reminders = ReminderService(review, store, service.push)
    service.card_for_grade = review.card_for_grade
    service.private_hooks.append(reminders.on_private)
    service.add_command("review", review.review_command)
    service.add_command("tz", reminders.tz_command)
    service.add_command("remind", reminders.remind_command)
    for kind in GRADE_OF_REVIEW_KIND.keys() | {Kind.REVIEW_SHOW, Kind.REVIEW_OPEN}:
        service.add_button(kind, review.on_button)
    service.help_keys += ["help_review", "help_tz", "help_remind"]
    service.push.reminders = reminders
    return review, reminders


@asynccontextmanager
async def console_session(
    settings: Settings, out: TextIO, clock: OffsetClock | None = None, *, color: bool = False
) -> AsyncIterator[tuple[App, ConsoleAdapter]]:
    """The real app with the console as its only platform, pushes running; closed on exit."""
    from bot.adapters.console.adapter import ConsoleAdapter

    clock = clock or OffsetClock()
    app = await build_app(settings, clock)
    console = ConsoleAdapter(app.service, out, clock, color=color, tick=app.scheduler.tick,
                             files=settings.console_files)
    app.service.register_messenger(console)
    app.scheduler.start()
    try:
        yield app, console
    finally:
        await app.close()


async def run_console(settings: Settings) -> None:
    """The console chat on stdin/stdout until EOF, Ctrl-C or `:quit`."""
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    async with console_session(settings, sys.stdout, color=interactive) as (_, console):
        if interactive:
            await _interactive(console)
        else:
            await console.run(_stdin_lines())


async def _stdin_lines() -> AsyncIterator[str]:
    """Lines from a pipe or file. A daemon thread reads them, so Ctrl-C never waits on a read
    (an executor thread blocked in readline would hold up the loop's shutdown)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for line in sys.stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except RuntimeError:  # the loop closed first: we are shutting down anyway
            return

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


async def _interactive(console: ConsoleAdapter) -> None:
    # prompt_toolkit keeps the input line intact while scheduled pushes print above it.
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession()

    async def lines() -> AsyncIterator[str]:
        while True:
            try:
                yield await session.prompt_async(console.prompt())
            except (EOFError, KeyboardInterrupt):
                return

    with patch_stdout(raw=True):
        console.out = sys.stdout  # the patched stream, so pushes print above the prompt
        await console.run(lines())
