"""The send limiter: evenly spaced slots at the configured rate, and, when several instances of
the bot send under one platform limit, each at its share of it."""

from __future__ import annotations

from bot.adapters.limits import SteadyRate


class Clock:
    """A monotonic clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def _slots(limiter: SteadyRate, clock: Clock, count: int) -> list[float]:
    taken = []
    for _ in range(count):
        async with limiter:
            taken.append(round(clock.now - 100.0, 6))
    return taken


async def test_sends_are_evenly_spaced_at_the_rate() -> None:
    clock = Clock()
    limiter = SteadyRate(10, clock=clock, sleep=clock.sleep)
    assert await _slots(limiter, clock, 4) == [0.0, 0.1, 0.2, 0.3]


async def test_each_of_two_instances_sends_at_half_the_rate() -> None:
    clock = Clock()
    limiter = SteadyRate(10, clock=clock, sleep=clock.sleep, shared_by=lambda: 2)
    assert await _slots(limiter, clock, 4) == [0.0, 0.2, 0.4, 0.6]


async def test_the_share_follows_instances_as_they_come_and_go() -> None:
    clock = Clock()
    instances = [1]
    limiter = SteadyRate(10, clock=clock, sleep=clock.sleep, shared_by=lambda: instances[0])
    assert await _slots(limiter, clock, 2) == [0.0, 0.1]
    instances[0] = 3
    assert await _slots(limiter, clock, 2) == [0.2, 0.5]
    instances[0] = 0  # nobody counted yet (a database hiccup): never faster than the rate
    assert await _slots(limiter, clock, 2) == [0.8, 0.9]


async def test_idle_time_earns_no_burst() -> None:
    clock = Clock()
    limiter = SteadyRate(10, clock=clock, sleep=clock.sleep)
    await _slots(limiter, clock, 1)
    clock.now += 60
    assert await _slots(limiter, clock, 3) == [60.0, 60.1, 60.2]
