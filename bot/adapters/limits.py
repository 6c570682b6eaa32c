"""Sending at a steady rate: evenly spaced slots that do not drift.

A leaky bucket of capacity one (aiolimiter with a tiny period) loses the time by which each wake-up
is late, so under load it runs a few per cent below its rate; one with a larger capacity lets a
burst through on top of the rate and draws 429s. Here each caller takes the next slot, counted
from the previous slot rather than from when it woke, so the average rate is the rate and no
second ever holds more than one extra slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import TracebackType


class SteadyRate:
    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._next = -float("inf")

    async def __aenter__(self) -> None:
        now = self._clock()
        # Idle time earns no credit: a quiet minute never turns into a burst.
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        return None
