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
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 shared_by: Callable[[], int] | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        # How many processes send under the same limit (instances of one bot); each keeps to
        # its share, asked at every slot so the pace follows instances as they come and go.
        self._shared_by = shared_by
        self._next = -float("inf")

    async def __aenter__(self) -> None:
        now = self._clock()
        # Idle time earns no credit: a quiet minute never turns into a burst.
        slot = max(now, self._next)
        share = max(1, self._shared_by()) if self._shared_by is not None else 1
        self._next = slot + self.interval * share
        if slot > now:
            await self._sleep(slot - now)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        return None
