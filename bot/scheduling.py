"""APScheduler is the push pipeline's clock: one job, moved to the earliest due instant.

No job per chat, and no fixed tick: when a lane runs out of due posts the job is moved to the
next run or retry the store knows of (at most `every_seconds` ahead, so a change made by another
instance is seen too), and a subscription change fires it at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import Clock
from bot.core.push import PushPipeline, PushReport

log = logging.getLogger(__name__)

JOB = "studybot-push"
SOON = dt.timedelta(milliseconds=500)


class PushScheduler:
    def __init__(self, pipeline: PushPipeline, clock: Clock, every_seconds: int) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self.every_seconds = every_seconds
        self.last_report: PushReport | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._planning: asyncio.Task[None] | None = None
        self.next_wake: dt.datetime | None = None  # in the clock's time, for health and tests

    @property
    def last_tick(self) -> dt.datetime | None:
        """When the pipeline last looked for due posts."""
        return self.pipeline.last_look

    def start(self) -> None:
        """Start the lanes and the clock job; needs a running event loop."""
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        scheduler.add_job(
            self._fire, "date", run_date=dt.datetime.now(dt.UTC), id=JOB, max_instances=1,
            coalesce=True,
            # A wake-up delayed by a busy loop still runs: due work is found by the store anyway.
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler
        self.pipeline.on_change = self.replan
        self.pipeline.start()

    @property
    def running(self) -> bool:
        return (self._scheduler is not None and self._scheduler.running
                and self.pipeline.running)

    async def _fire(self) -> None:
        self.pipeline.wake()
        # Lanes that drain plan again when they run dry; meanwhile look in `every_seconds`.
        self._move_to(self.clock.now() + dt.timedelta(seconds=self.every_seconds))

    def replan(self) -> None:
        """Move the job to the earliest due instant (called when a lane has nothing left)."""
        if self._planning is None or self._planning.done():
            self._planning = asyncio.get_running_loop().create_task(self._plan())

    async def _plan(self) -> None:
        if self._scheduler is None:
            return
        now = self.clock.now()
        latest = now + dt.timedelta(seconds=self.every_seconds)
        try:
            due = await self.pipeline.next_wake()
        except Exception as error:
            log.warning("cannot read the next due time: %s; looking again in %d s", error,
                        self.every_seconds)
            due = None
        # Something due already (a failing claim, say) is looked at again soon, not at once,
        # so a fault never turns the job into a busy loop.
        wake = latest if due is None else max(now + SOON, min(due, latest))
        self._move_to(wake)

    def _move_to(self, wake: dt.datetime) -> None:
        now = self.clock.now()
        self.next_wake = wake
        # APScheduler runs on the real clock; the pipeline's may be moved (the console's is).
        real = dt.datetime.now(dt.UTC) + (wake - now)
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        job = scheduler.get_job(JOB)
        if job is None:
            scheduler.add_job(self._fire, "date", run_date=real, id=JOB, max_instances=1,
                              coalesce=True, misfire_grace_time=None)
        else:
            job.modify(next_run_time=real)

    def wake(self) -> None:
        self.pipeline.wake()

    async def tick(self) -> PushReport | None:
        """One pass over what is due now, to completion (the console after moving its clock)."""
        try:
            report = await self.pipeline.run_once()
        except asyncio.CancelledError:
            log.debug("push pass cancelled by shutdown")
            return None
        except Exception:
            log.exception("the push pass failed; the pipeline tries again")
            return None
        self.last_report = report
        if report.sent or report.failed or report.paused or report.missed:
            log.info("push: %d sent, %d failed, %d paused, %d missed", report.sent,
                     report.failed, report.paused, report.missed)
        return report

    async def drain(self, within: float = 30.0) -> None:
        """Stop the clock, let posts in flight finish and their marks be written."""
        self.shutdown()
        await self.pipeline.stop(within)

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        if self._planning is not None:
            self._planning.cancel()
