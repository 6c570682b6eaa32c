"""What an operator watches: Prometheus metrics and a health check, served over HTTP when
STUDYBOT_HTTP_LISTEN is set (`/healthz`, `/metrics`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.adapters import PlatformAdapter
from bot.core.messages import OutgoingMessage
from bot.core.models import ChatRef
from bot.core.ports import ChatGone, ChatMoved, Clock, Messenger, SendTimedOut
from bot.scheduling import Ticker
from bot.settings import split_listen
from bot.storage.sql import SqlStore

log = logging.getLogger(__name__)

DB_TIMEOUT = 3.0


class Metrics:
    """The bot's metrics, in a registry of its own (tests make as many as they like)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pushes = Counter("studybot_pushes", "Scheduled posts by platform and outcome "
                              "(sent, gone, moved, timeout, failed)", ["platform", "outcome"],
                              registry=r)
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
        self.last_tick_age = Gauge("studybot_scheduler_last_tick_age_seconds",
                                   "Seconds since the scheduler last looked for due pushes",
                                   registry=r)

    def pressed(self, platform: str) -> None:
        self.button_presses.labels(platform).inc()

    def limited(self, platform: str) -> None:
        self.rate_limited.labels(platform).inc()


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


class OpsServer:
    """`/healthz` and `/metrics` on an aiohttp server in the bot's own event loop."""

    def __init__(
        self, listen: str, *, store: SqlStore, ticker: Ticker, clock: Clock,
        adapters: Sequence[PlatformAdapter], metrics: Metrics,
    ) -> None:
        self.host, self.port = split_listen(listen)
        self.store = store
        self.ticker = ticker
        self.clock = clock
        self.adapters = adapters
        self.metrics = metrics
        self.started_at = clock.now()
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

    async def health(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock.now()
        adapters = {a.platform: {"connected": a.connected} for a in self.adapters}
        age = (now - self.ticker.last_tick).total_seconds() if self.ticker.last_tick else None
        # Healthy while ticks keep coming: a few missed intervals are slack for a slow push.
        allowed = 3 * self.ticker.every_seconds + 60
        waiting = age is None and (now - self.started_at) < dt.timedelta(seconds=allowed)
        scheduler_ok = self.ticker.running and (waiting or (age is not None and age <= allowed))
        database: dict[str, Any] = {"reachable": True}
        try:
            await asyncio.wait_for(self.store.ping(), DB_TIMEOUT)
        except Exception as error:  # any failure to answer is "unreachable"
            database = {"reachable": False, "error": str(error)[:200] or type(error).__name__}
        ok = (all(a["connected"] for a in adapters.values()) and scheduler_ok
              and database["reachable"])
        body = {
            "status": "ok" if ok else "unhealthy",
            "adapters": adapters,
            "scheduler": {"running": self.ticker.running, "ok": scheduler_ok,
                          "last_tick_age_seconds": None if age is None else round(age, 1)},
            "database": database,
        }
        return ok, body

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, body = await self.health()
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        await self._refresh()
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _refresh(self) -> None:
        """Gauges that are read from the database and the adapters at scrape time."""
        now = self.clock.now()
        for adapter in self.adapters:
            self.metrics.connected.labels(adapter.platform).set(1 if adapter.connected else 0)
        if self.ticker.last_tick is not None:
            self.metrics.last_tick_age.set((now - self.ticker.last_tick).total_seconds())
        try:
            per_platform, due = await asyncio.wait_for(
                self.store.subscription_counts(now), DB_TIMEOUT)
        except Exception as error:
            log.warning("metrics: cannot read subscription counts: %s", error)
            return
        for adapter in self.adapters:
            self.metrics.subscriptions.labels(adapter.platform).set(
                per_platform.get(adapter.platform, 0))
        self.metrics.due_backlog.set(due)
