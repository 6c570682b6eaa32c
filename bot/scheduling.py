"""One APScheduler job, the ticker, asks the core to send whatever is due.

No job per chat: the store knows which subscriptions are due, and the claim in the store makes a
tick that runs twice (or on two instances) harmless.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import Clock
from bot.core.study import PushReport, StudyService

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, service: StudyService, clock: Clock, every_seconds: int) -> None:
        self.service = service
        self.clock = clock
        self.every_seconds = every_seconds
        self.last_tick: dt.datetime | None = None
        self.last_report: PushReport | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._in_flight: asyncio.Task[object] | None = None

    def start(self) -> None:
        """Start ticking now and every `every_seconds`; needs a running event loop."""
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        scheduler.add_job(
            self.tick, "interval", seconds=self.every_seconds, id="studybot-ticker",
            next_run_time=dt.datetime.now(dt.UTC), max_instances=1, coalesce=True,
            # A tick delayed by a busy loop still runs: due work is found by the store anyway.
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    async def tick(self) -> PushReport | None:
        self._in_flight = asyncio.current_task()
        try:
            report = await self.service.push_due()
        except asyncio.CancelledError:
            # Shutdown cancels a tick in flight; its claims are re-sent after a restart.
            log.debug("push tick cancelled by shutdown")
            return None
        except Exception:
            log.exception("the push tick failed; the next tick tries again")
            return None
        finally:
            self._in_flight = None
        self.last_tick = self.clock.now()
        self.last_report = report
        if report.sent or report.failed or report.paused or report.missed:
            log.info("push: %d sent, %d failed, %d paused, %d missed", report.sent,
                     report.failed, report.paused, report.missed)
        return report

    async def drain(self, within: float = 30.0) -> None:
        """Stop ticking and let a push in flight finish its writes (up to `within` seconds)."""
        self.shutdown()
        task = self._in_flight
        if task is None or task is asyncio.current_task() or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), within)
        except TimeoutError:
            log.warning("a push was still running after %.0f s; its claims are re-sent later",
                        within)

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
