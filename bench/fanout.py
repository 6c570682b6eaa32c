"""The daily push at scale, through the real `studybot run`, against fakes that keep the limits.

    .venv/bin/python bench/fanout.py [--telegram N] [--discord N] [--ceiling N] [--db URL]
                                     [--instances N]

Starts a fake Telegram Bot API and a fake Discord on 127.0.0.1 in this process; they enforce the
platforms' limits as token buckets (Telegram: 30 messages a second overall; Discord: 50 requests
a second; at most a second's worth at once) and answer 429 past them, counting each. Seeds N due
chats per platform (default 10,000 each) across time zones, all due at the same instant, starts
`studybot run` as a subprocess and prints, per platform: the delay of the first post after its
due time, the rate against the limit, the 429s, and the delay of the last post; then the ceiling
(limits off, Telegram only, a fake that checks nothing) against a bare python-telegram-bot loop
sending the same messages to the same fake, also in a subprocess; and the bot's peak RSS.

`--instances N` (PostgreSQL only) starts N `studybot run` processes on the one database, same
tokens, same fakes, so they share the due posts through the database's claims. Each is given
the platforms' default rates, as an operator would leave them: the instances count each other
at their heartbeats and each sends at its share.
The limited run counts posts per chat at the fakes and exits 1, naming what failed, when a due
chat got no post or more than one, when a fake answered 429, or when a platform's posts came
faster than its limit overall.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.models import ChatKind  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.schema import chats, metadata, subscriptions  # noqa: E402
from bot.storage.sql import open_store  # noqa: E402
from tests.discord.fake_discord import FakeDiscord, _json  # noqa: E402
from tests.telegram.fake_botapi import BOT, FakeBotApi, _error  # noqa: E402

ZONES = ("Asia/Shanghai", "Asia/Tokyo", "Europe/Berlin", "America/New_York", "UTC",
         "Asia/Kolkata", "Australia/Sydney", "America/Los_Angeles")
DISCORD_TOKEN = "MTIzNDU2Nzg5.fake-discord.token-for-the-bench-0123456789"
DISCORD_BASE = 900_000_000_000_000_000
TELEGRAM_BASE = -1_000_000_000
TELEGRAM_LIMIT, DISCORD_LIMIT = 30, 50  # what the platforms allow, kept by the fakes


class Window:
    """A platform's limit as a token bucket: `limit` requests a second, and at most one
    second's worth at once (a client that bursts past that, as a bucket of 30 on top of 30/s
    does at the start of a push, is answered 429)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tokens = float(limit)
        self.at = time.monotonic()
        self.rejected = 0

    def admit(self) -> bool:
        if not self.limit:
            return True
        now = time.monotonic()
        self.tokens = min(self.limit, self.tokens + (now - self.at) * self.limit)
        self.at = now
        if self.tokens < 1:
            self.rejected += 1
            return False
        self.tokens -= 1
        return True


class LimitedBotApi(FakeBotApi):
    """The tests' fake Bot API, keeping Telegram's overall limit and timing each post."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.window = Window(limit)
        self.posted: list[float] = []
        self.per_chat: Counter[int] = Counter()  # posts per chat, whichever instance sent them

    async def _api_sendMessage(self, params: Any) -> dict[str, Any]:
        if not self.window.admit():
            body = _error(429, "Too Many Requests: retry after 1")
            body["parameters"] = {"retry_after": 1}
            return body
        answer = await super()._api_sendMessage(params)
        if answer.get("ok"):
            self.posted.append(time.time())
            self.per_chat[int(params["chat_id"])] += 1
        return answer

    async def _handle(self, request: web.Request) -> web.Response:
        # Keep memory flat over 10,000s of calls: only the answer matters here.
        response = await super()._handle(request)
        self.calls.clear()
        self.delivered.clear()
        return response


class LimitedDiscord(FakeDiscord):
    """The tests' fake Discord, keeping the global 50 requests/s and timing each post."""

    def __init__(self, limit: int) -> None:
        super().__init__(DISCORD_TOKEN)
        self.window = Window(limit)
        self.posted: list[float] = []
        self.per_chat: Counter[int] = Counter()

    async def _route(self, method: str, path: str, body: Any, query: Any) -> web.Response:
        if method == "POST" and path.startswith("/channels/"):
            self.calls.clear()
            if not self.window.admit():
                return web.json_response(
                    {"message": "You are being rate limited.", "retry_after": 0.5,
                     "global": True}, status=429,
                    headers={"Retry-After": "0.5", "X-RateLimit-Global": "true",
                             "X-RateLimit-Scope": "global", "Via": "1.1 google"})
            channel = int(path.split("/")[2])
            self.posted.append(time.time())
            self.per_chat[channel] += 1
            return _json(self._message(channel, body, 0))
        return await super()._route(method, path, body, query)


class LeanBotApi(FakeBotApi):
    """The tests' fake Bot API server answering without any checking, so the client side is
    what is measured: a canned answer per call, every post timed."""

    def __init__(self) -> None:
        super().__init__(token="123456:BENCH-token-for-the-lean-fake")
        self.posted: list[float] = []
        self._ids = itertools.count(1)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        await request.read()
        if method == "sendMessage":
            self.posted.append(time.time())
            result: Any = {"message_id": next(self._ids), "date": int(time.time()),
                           "chat": {"id": -1, "type": "supergroup", "title": "g"},
                           "text": "q"}
        elif method == "getMe":
            result = BOT.to_dict()
        elif method == "getUpdates":
            await asyncio.sleep(1.0)
            result = []
        else:
            result = True
        return web.json_response({"ok": True, "result": result})


async def seed(url: str, telegram: int, discord: int, due: dt.datetime) -> None:
    """N chats per platform, zones in turn, each subscribed at the local time of `due`.

    The database must be a scratch one: every studybot table in it is emptied first.
    """
    store = await open_store(url)
    async with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
    now = dt.datetime.now(dt.UTC)
    chat_rows, zones = [], []
    for platform, count in (("telegram", telegram), ("discord", discord)):
        for i in range(count):
            zone = ZONES[i % len(ZONES)]
            chat_id = str(TELEGRAM_BASE - i) if platform == "telegram" else str(
                DISCORD_BASE + i)
            chat_rows.append({"platform": platform, "chat_id": chat_id, "thread_id": "",
                              "kind": ChatKind.GROUP.value, "language": "zh",
                              "timezone": zone, "created_at": now})
            zones.append(zone)
    async with store.engine.begin() as conn:
        if chat_rows:
            await conn.execute(insert(chats), chat_rows)
        pks = (await conn.execute(select(chats.c.pk).order_by(chats.c.pk))).scalars().all()
        sub_rows = [{"chat_pk": pk, "active": True, "paused_reason": "", "next_run_at": due,
                     "updated_at": now,
                     "local_time": due.astimezone(ZoneInfo(zone)).strftime("%H:%M")}
                    for pk, zone in zip(pks, zones, strict=True)]
        if sub_rows:
            await conn.execute(insert(subscriptions), sub_rows)
    await store.close()


def bot_env(url: str, tmp: str, api: FakeBotApi | None, discord: FakeDiscord | None,
            limits: bool, instance: int = 0) -> dict[str, str]:
    """The environment of one `studybot run` (instance `instance`), at the platforms' default
    rates or with the limits off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    rate = Settings.model_fields
    env.update({
        "STUDYBOT_DATABASE_URL": url, "STUDYBOT_CONTENT": str(REPO / "content"),
        "STUDYBOT_LOG_LEVEL": os.environ.get("FANOUT_LOG_LEVEL", "WARNING"),
        # One journal per process: each keeps its own outcomes waiting for the database.
        "STUDYBOT_OUTBOX_JOURNAL": f"{tmp}/marks-{instance}",
        # /metrics tells which instance sent how many.
        "STUDYBOT_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "STUDYBOT_TELEGRAM_RATE_LIMIT": str(rate["telegram_rate_limit"].default
                                            if limits else 0),
        "STUDYBOT_DISCORD_RATE_LIMIT": str(rate["discord_rate_limit"].default
                                           if limits else 0),
    })
    if api is not None:
        env["STUDYBOT_TELEGRAM_TOKEN"] = api.token
        env["STUDYBOT_TELEGRAM_API_URL"] = f"{api.url}/bot"
    if discord is not None:
        env["STUDYBOT_DISCORD_TOKEN"] = DISCORD_TOKEN
        env["STUDYBOT_DISCORD_API_URL"] = discord.api_url
        env["STUDYBOT_DISCORD_GATEWAY_URL"] = discord.gateway_url
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def sent_by(listen: str) -> dict[str, int]:
    """Posts an instance counts as sent, per platform, from its own /metrics."""
    try:
        async with ClientSession() as http, http.get(f"http://{listen}/metrics") as answer:
            text = await answer.text()
    except OSError:
        return {}
    return {sample.labels["platform"]: int(sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "studybot_pushes_total" and sample.labels["outcome"] == "sent"}


async def run_bots_until(envs: list[dict[str, str]], done: Any,
                         within: float) -> list[tuple[float, dict[str, int]]]:
    """Start one `studybot run` per environment, wait until `done()` or `within` seconds, stop
    them; per instance, its peak RSS and its sent posts per platform."""
    # FANOUT_PROFILE=FILE runs the (first) bot under cProfile and leaves its figures in FILE.
    profile = os.environ.get("FANOUT_PROFILE")
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, *(["-m", "cProfile", "-o", profile] if profile and not i else []),
        "-m", "bot", "run", env=env, cwd=str(REPO),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        for i, env in enumerate(envs)]
    deadline = time.monotonic() + within
    while (not done() and time.monotonic() < deadline  # noqa: ASYNC110
           and all(proc.returncode is None for proc in procs)):
        await asyncio.sleep(0.2)  # polls the fakes' counters; a bench, not a test
    if len(procs) > 1:
        # A post sent twice would come from a claim another instance took over, after the
        # first send: give it a moment to show at the fake before counting.
        await asyncio.sleep(3.0)
    figures = [(peak_rss_mib(proc.pid), await sent_by(env["STUDYBOT_HTTP_LISTEN"]))
               for proc, env in zip(procs, envs, strict=True)]
    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for i, proc in enumerate(procs):
        _, err = await proc.communicate()
        if proc.returncode not in (0, -signal.SIGTERM) or os.environ.get("FANOUT_LOG_LEVEL"):
            print(f"--- instance {i + 1}, exit {proc.returncode}\n"
                  f"{err.decode(errors='replace')[-2000:]}", file=sys.stderr)
    return figures


def rate_of(posted: list[float]) -> float:
    return (len(posted) - 1) / (max(posted) - min(posted)) if len(posted) > 1 and max(
        posted) > min(posted) else float("nan")


def busiest_second(posted: list[float]) -> int:
    """The most posts in any one second: up to twice the limit is within a token bucket of
    one second's worth, so this is shown, not checked."""
    times, most, start = sorted(posted), 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def report(name: str, posted: list[float], due: float, limit: float, rejected: int,
           expected: int) -> None:
    if not posted:
        print(f"{name:9} nothing posted")
        return
    first, last = min(posted), max(posted)
    rate = rate_of(posted)
    share = f"{100 * rate / limit:.1f} % of {limit:g}/s" if limit else "no limit"
    print(f"{name:9} {len(posted)}/{expected} posted; first {first - due:+.2f} s after due, "
          f"last {last - due:.1f} s; {rate:.1f} msg/s ({share}), busiest second "
          f"{busiest_second(posted)}; 429s: {rejected}")


def violations(name: str, fake: LimitedBotApi | LimitedDiscord, chat_ids: range,
               limit: float) -> list[str]:
    """What breaks the promise at this fake: every due chat posted exactly once, no 429, and
    no faster than the platform's limit overall."""
    missed = sum(1 for chat in chat_ids if not fake.per_chat[chat])
    twice = sum(1 for chat in chat_ids if fake.per_chat[chat] > 1)
    strays = sum(1 for chat in fake.per_chat if chat not in chat_ids)
    failed = []
    if missed or twice or strays:
        failed.append(f"{name}: {missed} due chats missed, {twice} posted more than once, "
                      f"{strays} posts to chats not due")
    if fake.window.rejected:
        failed.append(f"{name}: the fake answered 429 {fake.window.rejected} times")
    if rate_of(fake.posted) > limit:
        failed.append(f"{name}: {rate_of(fake.posted):.1f} posts/s overall, over the "
                      f"platform's {limit}/s")
    return failed


def next_due(margin: float) -> dt.datetime:
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=margin)
    return (at + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


async def limited_run(args: argparse.Namespace, tmp: str) -> list[str]:
    """The limited run's figures; what failed, if anything."""
    api, discord = LimitedBotApi(TELEGRAM_LIMIT), LimitedDiscord(DISCORD_LIMIT)
    await api.start()
    await discord.start()
    url = args.db or f"sqlite:///{tmp}/fanout.db"
    due = next_due(args.margin)
    started = time.perf_counter()
    await seed(url, args.telegram, args.discord, due)
    print(f"seeded {args.telegram} Telegram groups and {args.discord} Discord channels in "
          f"{time.perf_counter() - started:.1f} s, due at {due:%H:%M:%S} UTC "
          f"({url.split(':')[0]}); {args.instances} instance(s) at the default rates")
    telegram_ids = range(TELEGRAM_BASE - args.telegram + 1, TELEGRAM_BASE + 1)
    discord_ids = range(DISCORD_BASE, DISCORD_BASE + args.discord)
    envs = [bot_env(url, tmp, api if args.telegram else None,
                    discord if args.discord else None, True, i)
            for i in range(args.instances)]
    figures = await run_bots_until(
        envs, lambda: (len(api.per_chat) >= args.telegram
                       and len(discord.per_chat) >= args.discord),
        within=args.margin + 90 + args.telegram / 25 + args.discord / 40)
    report("telegram", api.posted, due.timestamp(), TELEGRAM_LIMIT, api.window.rejected,
           args.telegram)
    report("discord", discord.posted, due.timestamp(), DISCORD_LIMIT, discord.window.rejected,
           args.discord)
    for i, (rss, sent) in enumerate(figures):
        print(f"instance {i + 1}: sent {sent.get('telegram', 0)} Telegram, "
              f"{sent.get('discord', 0)} Discord posts (its /metrics); peak RSS {rss:.0f} MiB")
    await api.stop()
    await discord.close()
    return (violations("telegram", api, telegram_ids, TELEGRAM_LIMIT)
            + violations("discord", discord, discord_ids, DISCORD_LIMIT))


async def ceiling_run(args: argparse.Namespace, tmp: str) -> None:
    api = LeanBotApi()
    await api.start()
    url = f"sqlite:///{tmp}/ceiling.db" if not args.db else args.db
    due = next_due(args.margin)
    await seed(url, args.ceiling, 0, due)
    await run_bots_until([bot_env(url, tmp, api, None, False)],
                         lambda: len(api.posted) >= args.ceiling, within=args.margin + 300)
    ours = list(api.posted)
    api.posted.clear()
    bare = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--bare", f"{api.url}/bot", api.token, str(args.ceiling),
        stdout=asyncio.subprocess.PIPE)
    out, _ = await bare.communicate()
    theirs = list(api.posted)
    await api.stop()
    rate = (len(ours) - 1) / (max(ours) - min(ours)) if len(ours) > 1 else float("nan")
    bare_rate = (len(theirs) - 1) / (max(theirs) - min(theirs)) if len(theirs) > 1 else 0.0
    print(f"ceiling   studybot run, limits off: {len(ours)} posts at {rate:.0f} msg/s; "
          f"bare python-telegram-bot loop: {bare_rate:.0f} msg/s "
          f"({json.loads(out or b'{}').get('sent', 0)} sent); ratio {rate / bare_rate:.2f}")


async def bare_loop(url: str, token: str, count: int) -> None:
    """The anchor: python-telegram-bot alone, the same message and concurrency, no store."""
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.constants import ParseMode
    from telegram.request import HTTPXRequest

    text = ("<b>📚 每日一题 · 2026-03-02</b>\n\n<b>什么是 KV Cache？为什么能加速解码？</b>\n\n"
            "inference · ★★☆")
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton("显示答案", callback_data="r" + "x" * 40)],
        [InlineKeyboardButton(label, callback_data=label + "y" * 40)
         for label in ("会", "部分", "不会")]])
    bot = Bot(token, base_url=url, request=HTTPXRequest(connection_pool_size=72))
    await bot.initialize()
    gate = asyncio.Semaphore(64)
    sent = 0

    async def one(i: int) -> None:
        nonlocal sent
        async with gate:
            await bot.send_message(TELEGRAM_BASE - i, text, parse_mode=ParseMode.HTML,
                                   reply_markup=markup)
            sent += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    await bot.shutdown()
    print(json.dumps({"sent": sent}))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--telegram", type=int, default=10_000)
    parser.add_argument("--discord", type=int, default=10_000)
    parser.add_argument("--ceiling", type=int, default=10_000)
    parser.add_argument("--db", default="", help="a scratch database (its studybot tables are "
                        "emptied) instead of a fresh SQLite file, e.g. postgresql://…")
    parser.add_argument("--margin", type=float, default=20.0,
                        help="seconds between the start and the due time")
    parser.add_argument("--instances", type=int, default=1,
                        help="`studybot run` processes sharing the --db (PostgreSQL only)")
    parser.add_argument("--bare", nargs=3, metavar=("URL", "TOKEN", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        await bare_loop(args.bare[0], args.bare[1], int(args.bare[2]))
        return
    if args.instances < 1:
        sys.exit("fanout: --instances must be 1 or more")
    if args.instances > 1 and not args.db.startswith("postgresql"):
        sys.exit("fanout: --instances above 1 needs a PostgreSQL --db; a SQLite database "
                 "serves one instance (a second `studybot run` on it refuses to start)")
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.telegram or args.discord:
            failed = await limited_run(args, tmp)
        if args.ceiling:
            await ceiling_run(args, tmp)
    if failed:
        sys.exit("FAILED\n" + "\n".join(f"  {line}" for line in failed))


if __name__ == "__main__":
    asyncio.run(main())
