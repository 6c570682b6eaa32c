"""`studybot run`: every platform that has a token, the scheduler and (optionally) the HTTP
endpoint, in one event loop, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.adapters import PlatformAdapter
from bot.app import App, build_app
from bot.clock import SystemClock
from bot.core.ports import Clock
from bot.observability import (
    HealthMonitor,
    MeteredMessenger,
    Metrics,
    OpsServer,
    RateLimitLogCounter,
)
from bot.settings import Settings

log = logging.getLogger(__name__)


class NoPlatform(Exception):
    """No platform token is configured, so there is nothing to run."""


def configured_platforms(settings: Settings) -> list[str]:
    platforms = []
    if settings.telegram_token is not None:
        platforms.append("telegram")
    if settings.discord_token is not None:
        platforms.append("discord")
    return platforms


def make_adapters(app: App, settings: Settings, metrics: Metrics) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    # Imported here so that a deployment with one platform never loads the other's library.
    if settings.telegram_token is not None:
        from bot.adapters.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(app.service, settings,
                                        on_rate_limited=lambda: metrics.limited("telegram")))
    if settings.discord_token is not None:
        from bot.adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(app.service, settings))
    return adapters


async def run_bot(
    settings: Settings, *, clock: Clock | None = None, stop: asyncio.Event | None = None,
    started: Callable[[RunningBot], None] | None = None,
) -> None:
    """Run until `stop` is set (by SIGINT/SIGTERM when not given)."""
    if not configured_platforms(settings):
        raise NoPlatform("no platform token is set")
    stop = stop or _stop_on_signals()
    clock = clock or SystemClock()
    app = await build_app(settings, clock)
    metrics = Metrics()
    app.service.on_button = metrics.pressed
    adapters: list[PlatformAdapter] = []
    ops: OpsServer | None = None
    monitor: HealthMonitor | None = None
    # discord.py retries 429s itself and only logs them: count its log lines while we run.
    discord_http = logging.getLogger("discord.http")
    rate_limits = RateLimitLogCounter(metrics, "discord")
    discord_http.addFilter(rate_limits)
    try:
        adapters = make_adapters(app, settings, metrics)
        for adapter in adapters:
            app.service.register_messenger(MeteredMessenger(adapter, metrics))
            await adapter.start()
        app.scheduler.start()
        app.service.push.on_outcome = metrics.push_outcome
        monitor = HealthMonitor(store=app.store, scheduler=app.scheduler, clock=clock,
                                adapters=adapters, metrics=metrics)
        monitor.start()
        if settings.http_listen:
            ops = OpsServer(settings.http_listen, monitor)
            await ops.start()
        log.info("studybot running on %s", ", ".join(a.platform for a in adapters))
        if started is not None:
            started(RunningBot(app, adapters, metrics, ops, monitor))
        await stop.wait()
        log.info("stopping")
    finally:
        if monitor is not None:
            await monitor.stop()
        await _shut_down(app, adapters, ops)
        discord_http.removeFilter(rate_limits)


@dataclass(frozen=True)
class RunningBot:
    """What is running, for whoever started it (tests and embedding programs)."""

    app: App
    adapters: Sequence[PlatformAdapter]
    metrics: Metrics
    ops: OpsServer | None
    monitor: HealthMonitor


async def _shut_down(
    app: App, adapters: Sequence[PlatformAdapter], ops: OpsServer | None
) -> None:
    if ops is not None:
        await ops.stop()
    # The push in flight finishes first: it needs the adapters' connections to post.
    await app.scheduler.drain()
    for adapter in reversed(adapters):
        await adapter.stop()
    await app.close()
    log.info("stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or not POSIX
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    return stop
