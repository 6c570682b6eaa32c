"""`studybot run`: every platform that has a token, the scheduler and (optionally) the HTTP
endpoint, in one event loop, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from bot.adapters import PlatformAdapter
from bot.app import App, build_app
from bot.clock import SystemClock
from bot.core.ports import Clock
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


def make_adapters(app: App, settings: Settings) -> list[PlatformAdapter]:
    adapters: list[PlatformAdapter] = []
    # Imported here so that a deployment with one platform never loads the other's library.
    if settings.telegram_token is not None:
        from bot.adapters.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(app.service, settings))
    if settings.discord_token is not None:
        from bot.adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(app.service, settings))
    return adapters


async def run_bot(
    settings: Settings, *, clock: Clock | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run until `stop` is set (by SIGINT/SIGTERM when not given)."""
    if not configured_platforms(settings):
        raise NoPlatform("no platform token is set")
    stop = stop or _stop_on_signals()
    app = await build_app(settings, clock or SystemClock())
    adapters: list[PlatformAdapter] = []
    try:
        adapters = make_adapters(app, settings)
        for adapter in adapters:
            app.service.register_messenger(adapter)
            await adapter.start()
        app.ticker.start()
        log.info("studybot running on %s", ", ".join(a.platform for a in adapters))
        await stop.wait()
        log.info("stopping")
    finally:
        await _shut_down(app, adapters)


async def _shut_down(app: App, adapters: Sequence[PlatformAdapter]) -> None:
    # The push in flight finishes first: it needs the adapters' connections to post.
    await app.ticker.drain()
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
