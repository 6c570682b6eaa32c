"""How long a `/metrics` and a `/healthz` scrape take with a big subscription table.

    .venv/bin/python bench/metrics_scrape.py [SUBSCRIPTIONS]

Fills a SQLite database with SUBSCRIPTIONS active subscriptions (default 1,000,000) over two
platforms, starts the real health monitor and HTTP endpoint on 127.0.0.1, and times 50 scrapes
of each over HTTP (they answer from what the monitor last saw), then one background look of
the monitor itself (the counting it does aside, once a minute). Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.app import build_app  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.observability import HealthMonitor, Metrics, OpsServer  # noqa: E402
from bot.settings import Settings  # noqa: E402


def fill(path: Path, total: int) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with sqlite3.connect(path) as db:
        db.executemany(
            "insert into chats (platform, chat_id, thread_id, kind, language, timezone, "
            "created_at, packs, tags) values (?, ?, '', 'group', 'zh', 'UTC', ?, '', '')",
            ((("telegram", "discord")[i % 2], str(i), now) for i in range(total)))
        db.execute(
            "insert into subscriptions (chat_pk, local_time, active, paused_reason, "
            "next_run_at, updated_at) select pk, '09:00', 1, '', ?, ? from chats",
            (now + dt.timedelta(hours=1), now))


async def timed(http: aiohttp.ClientSession, url: str, times: int = 50) -> list[float]:
    took = []
    for _ in range(times):
        started = time.perf_counter()
        async with http.get(url) as answer:
            await answer.read()
        took.append((time.perf_counter() - started) * 1000)
    return took


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms"


async def main(total: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/big.db", content=REPO / "content",
                            outbox_journal=Path(tmp) / "marks")
        app = await build_app(settings, SystemClock())
        started = time.perf_counter()
        fill(Path(tmp) / "big.db", total)
        print(f"filled {total} subscriptions in {time.perf_counter() - started:.1f} s")
        monitor = HealthMonitor(store=app.store, scheduler=app.scheduler, clock=SystemClock(),
                                adapters=[], metrics=Metrics())
        started = time.perf_counter()
        await monitor.check(probe=True, count=True)
        print(f"one background look (ping, backlog, per-platform counts): "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        ops = OpsServer("127.0.0.1:0", monitor)
        await ops.start()
        base = f"http://127.0.0.1:{ops.port}"
        async with aiohttp.ClientSession() as http:
            print(f"/metrics: {summary(await timed(http, base + '/metrics'))}")
            print(f"/healthz: {summary(await timed(http, base + '/healthz'))}")
        await ops.stop()
        await app.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
