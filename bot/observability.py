"""What an operator watches: Prometheus metrics and a health check, served over HTTP when
STUDYBOT_HTTP_LISTEN is set (`/healthz`, `/metrics`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.adapters import PlatformAdapter
from bot.core.messages import OutgoingMessage
from bot.core.models import ChatRef
from bot.core.ports import ChatGone, ChatMoved, Clock, Messenger, SendTimedOut
from bot.scheduling import PushScheduler
from bot.settings import split_listen
from bot.storage.sql import SqlStore

log = logging.getLogger(__name__)

DB_TIMEOUT = 3.0
COUNT_TIMEOUT = 30.0  # counting every subscription is slow on a big table; it runs aside
PROBE_TIMEOUT = 5.0
BACKLOG_SAMPLES = 4


class Metrics:
    """The bot's metrics, in a registry of its own (tests make as many as they like)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pushes = Counter("studybot_pushes", "Scheduled posts by platform and outcome "
                              "(sent, gone, moved, timeout, failed, retry, missed)",
                              ["platform", "outcome"], registry=r)
        self.rate_limited = Counter("studybot_rate_limited", "429 answers from a platform",
                                    ["platform"], registry=r)
        self.send_seconds = Histogram(
            "studybot_send_seconds", "Time to post one scheduled message", ["platform"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=r)
        self.button_presses = Counter("studybot_button_presses", "Button presses handled",
                                      ["platform"], registry=r)
        self.due_backlog = Gauge("studybot_due_backlog",
                                 "Active subscriptions whose push time has passed", registry=r)
        self.subscriptions = Gauge("studybot_subscriptions", "Active subscriptions",
                                   ["platform"], registry=r)
        self.connected = Gauge("studybot_adapter_connected", "1 while a platform is connected",
                               ["platform"], registry=r)
        self.pending_marks = Gauge("studybot_pending_marks",
                                   "Push outcomes waiting for the database to take them",
                                   registry=r)
        self.instances = Gauge("studybot_instances",
                               "Instances of this bot sending on a platform (sharing its rate "
                               "limit), as last counted", ["platform"], registry=r)
        self.last_tick_age = Gauge("studybot_scheduler_last_tick_age_seconds",
                                   "Seconds since the scheduler last looked for due pushes",
                                   registry=r)

    def pressed(self, platform: str) -> None:
        self.button_presses.labels(platform).inc()

    def limited(self, platform: str) -> None:
        self.rate_limited.labels(platform).inc()

    def push_outcome(self, platform: str, outcome: str) -> None:
        """Outcomes the pipeline decides on its own (the sends are counted where they happen)."""
        if outcome in ("missed", "retry"):
            self.pushes.labels(platform, outcome).inc()


class MeteredMessenger:
    """A Messenger that counts and times what it sends, by outcome."""

    def __init__(self, inner: Messenger, metrics: Metrics) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.metrics = metrics

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> str:
        started = time.perf_counter()
        outcome = "failed"
        try:
            message_id = await self.inner.send(chat, message)
            outcome = "sent"
            return message_id
        except ChatGone:
            outcome = "gone"
            raise
        except ChatMoved:
            outcome = "moved"
            raise
        except SendTimedOut:
            outcome = "timeout"
            raise
        finally:
            self.metrics.pushes.labels(self.platform, outcome).inc()
            self.metrics.send_seconds.labels(self.platform).observe(
                time.perf_counter() - started)


class RateLimitLogCounter(logging.Filter):
    """Counts a library's own 429 log lines (discord.py retries 429s itself and only logs)."""

    def __init__(self, metrics: Metrics, platform: str) -> None:
        super().__init__()
        self.metrics = metrics
        self.platform = platform

    def filter(self, record: logging.LogRecord) -> bool:
        if "rate limit" in record.getMessage().lower():
            self.metrics.limited(self.platform)
        return True


class HealthMonitor:
    """Looks at every part in the background and keeps the answer, so `/healthz` and `/metrics`
    answer at once from memory and never wait on a lock, a hung platform or a slow count."""

    def __init__(
        self, *, store: SqlStore, scheduler: PushScheduler, clock: Clock,
        adapters: Sequence[PlatformAdapter], metrics: Metrics, every: float = 5.0,
        probe_every: float = 10.0, probe_timeout: float = PROBE_TIMEOUT,
        count_every: float = 60.0,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.clock = clock
        self.adapters = adapters
        self.metrics = metrics
        self.every = every
        self.probe_every = probe_every
        self.probe_timeout = probe_timeout
        self.count_every = count_every
        self.started_at = clock.now()
        self.answering: dict[str, tuple[bool, str]] = {a.platform: (True, "") for a in adapters}
        self.database: dict[str, Any] = {"reachable": True, "writable": True}
        self.backlog: deque[int] = deque(maxlen=BACKLOG_SAMPLES)
        self._probed_at = -float("inf")
        self._counted_at = -float("inf")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # the monitor must outlive whatever it looks at
                log.exception("health check failed")
            await asyncio.sleep(self.every)

    async def check(self, *, probe: bool | None = None, count: bool | None = None) -> None:
        """Look at every part once (probes and counts only when due unless told)."""
        started = time.monotonic()
        if probe if probe is not None else started - self._probed_at >= self.probe_every:
            self._probed_at = started
            await asyncio.gather(*(self._probe(a) for a in self.adapters))
        await self._check_database()
        if count if count is not None else started - self._counted_at >= self.count_every:
            self._counted_at = started
            await self._count()

    async def _probe(self, adapter: PlatformAdapter) -> None:
        probe = getattr(adapter, "probe", None)
        if probe is None:
            return
        try:
            await asyncio.wait_for(probe(), self.probe_timeout)
        except TimeoutError:
            self.answering[adapter.platform] = (
                False, f"no answer within {self.probe_timeout:g} s")
        except Exception as error:
            self.answering[adapter.platform] = (False, str(error)[:200] or type(error).__name__)
        else:
            self.answering[adapter.platform] = (True, "")

    async def _check_database(self) -> None:
        pipeline = self.scheduler.pipeline
        database: dict[str, Any] = {"reachable": True, "writable": True}
        try:
            await asyncio.wait_for(self.store.ping(), DB_TIMEOUT)
            due = await asyncio.wait_for(self.store.due_count(self.clock.now()), DB_TIMEOUT)
        except Exception as error:  # any failure to answer is "unreachable"
            database = {"reachable": False,
                        "error": str(error)[:200] or type(error).__name__}
        else:
            self.backlog.append(due + len(pipeline.outbox.pending))
            self.metrics.due_backlog.set(due)
        for platform in pipeline.messengers:
            self.metrics.instances.labels(platform).set(pipeline.rate_share(platform))
        problem = pipeline.database_error or (
            "" if pipeline.outbox.writable else pipeline.outbox.last_error)
        if problem:
            database["writable"] = False
            database.setdefault("error", problem[:200])
        self.database = database

    async def _count(self) -> None:
        try:
            per_platform = await asyncio.wait_for(self.store.subscription_counts(),
                                                  COUNT_TIMEOUT)
        except Exception as error:
            log.warning("metrics: cannot count subscriptions: %s", error)
            return
        for adapter in self.adapters:
            self.metrics.subscriptions.labels(adapter.platform).set(
                per_platform.get(adapter.platform, 0))

    def growing(self) -> bool:
        """The backlog rose at every one of the last samples: posts are not going out."""
        samples = list(self.backlog)
        return (len(samples) == BACKLOG_SAMPLES and samples[-1] > 0
                and all(b > a for a, b in itertools.pairwise(samples)))

    def health(self) -> tuple[bool, dict[str, Any]]:
        """The last look at every part; no I/O."""
        now = self.clock.now()
        scheduler = self.scheduler
        adapters = {}
        for a in self.adapters:
            answering, error = self.answering.get(a.platform, (True, ""))
            part: dict[str, Any] = {"connected": a.connected, "answering": answering}
            if error:
                part["error"] = error
            adapters[a.platform] = part
        last = scheduler.last_tick
        age = (now - last).total_seconds() if last else None
        # Healthy while the pipeline keeps looking: a few missed intervals are slack.
        allowed = 3 * scheduler.every_seconds + 60
        waiting = age is None and (now - self.started_at) < dt.timedelta(seconds=allowed)
        scheduler_ok = scheduler.running and (waiting or (age is not None and age <= allowed))
        growing = self.growing()
        ok = (all(a["connected"] and a["answering"] for a in adapters.values())
              and scheduler_ok and self.database["reachable"] and self.database["writable"]
              and not growing)
        body = {
            "status": "ok" if ok else "unhealthy",
            "adapters": adapters,
            "scheduler": {"running": scheduler.running, "ok": scheduler_ok,
                          "last_tick_age_seconds": None if age is None else round(age, 1)},
            "database": self.database,
            "push": {"backlog": self.backlog[-1] if self.backlog else None,
                     "growing": growing,
                     "pending_marks": len(scheduler.pipeline.outbox.pending)},
        }
        return ok, body


class OpsServer:
    """`/healthz` and `/metrics` on an aiohttp server in the bot's own event loop."""

    def __init__(self, listen: str, monitor: HealthMonitor) -> None:
        self.host, self.port = split_listen(listen)
        self.monitor = monitor
        self.metrics = monitor.metrics
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, body = self.monitor.health()
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        monitor = self.monitor
        for adapter in monitor.adapters:
            self.metrics.connected.labels(adapter.platform).set(1 if adapter.connected else 0)
        last = monitor.scheduler.last_tick
        if last is not None:
            self.metrics.last_tick_age.set((monitor.clock.now() - last).total_seconds())
        self.metrics.pending_marks.set(len(monitor.scheduler.pipeline.outbox.pending))
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
