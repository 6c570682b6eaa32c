"""Button presses and commands through the real `studybot run`, against a bare python-telegram-bot
Application answering the same updates, in the same run.

    .venv/bin/python bench/interact.py [--users N] [--days N] [--commands N] [--db URL]

Starts a fake Bot API on 127.0.0.1 in this process that times each update it hands out in a
getUpdates answer and the bot's answer to it (answerCallbackQuery for a press, the reply for a
command). Seeds a group with one question a day and its members, starts `studybot run` as a
subprocess (with a statement counter on SQLAlchemy's engine events) and presses, one at a time:
each member reveals and grades each day's question. Bot-side processing is the time from the
update leaving the fake to its answer arriving. Then, the limiter off, a first `/streak` from
each of many groups at once (the bot meets each group: a write apiece), and then many `/streak`
from those now known groups at once: commands per second for both. The same presses and
commands then go, in the same run, to a bare python-telegram-bot Application (its defaults; no
store, answers prepared in advance) against another instance of the same fake. Prints p50/p99
for both, the difference, statements and write transactions per press, and commands/s with
ratios. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fanout import REPO, bot_env

from bot.adapters.telegram.render import render
from bot.clock import SystemClock
from bot.content.packs import load_bank
from bot.core.actions import Action, ActionCodec, Kind
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.study import StudyService
from bot.storage.schema import metadata
from bot.storage.sql import open_store
from tests.telegram.fake_botapi import (
    FakeBotApi,
    callback,
    group_chat,
    private_chat,
    sent_message,
    text_message,
    user,
)

GROUP = -1_001_000_000_001
STREAK_GROUPS = -1_002_000_000_000  # /streak comes from GROUP, GROUP - 1, … of these
USER_BASE = 7_000_000


class TimedBotApi(FakeBotApi):
    """The tests' fake Bot API, timing each update handed out and each answer to one."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.handed: dict[int, float] = {}  # update id → when a getUpdates answer carried it
        self.answered: dict[str, float] = {}  # callback query id → answerCallbackQuery
        self.replies: list[float] = []  # sendMessage to a group (a command's reply)
        self.event = asyncio.Event()

    async def _api_getUpdates(self, params: Any) -> dict[str, Any]:
        body = await super()._api_getUpdates(params)
        now = time.time()
        for update in body["result"]:
            self.handed.setdefault(update["update_id"], now)
        return body

    async def _api_answerCallbackQuery(self, params: Any) -> dict[str, Any]:
        self.answered[str(params["callback_query_id"])] = time.time()
        self.event.set()
        return await super()._api_answerCallbackQuery(params)

    async def _api_sendMessage(self, params: Any) -> dict[str, Any]:
        # A canned answer without the tests' HTML checks, so the client side is what is measured.
        chat_id = int(params["chat_id"])
        if chat_id < 0:
            self.replies.append(time.time())
            self.event.set()
        chat = {"id": chat_id, "type": "supergroup", "title": "g"} if chat_id < 0 else {
            "id": chat_id, "type": "private", "first_name": "User"}
        return {"ok": True, "result": {"message_id": next(self._message_ids), "date": 0,
                                       "chat": chat, "text": "a"}}

    async def _handle(self, request: Any) -> Any:
        response = await super()._handle(request)
        self.calls.clear()  # memory stays flat; the timings above are what is read
        self.delivered.clear()
        return response

    async def until(self, done: Any, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not done():
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(0.001, deadline - time.monotonic()))


@dataclass(frozen=True)
class Press:
    kind: str  # "reveal" or "grade"
    update: dict[str, Any]
    query_id: str
    measured: bool


@dataclass
class Figures:
    latency: dict[str, list[float]] = field(default_factory=lambda: {"reveal": [], "grade": []})
    windows: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: {"reveal": [], "grade": []})
    commands_per_s: float = 0.0
    first_contact_per_s: float = 0.0  # one /streak from each group, before the measured ones


async def seed(url: str, users: int, days: int) -> tuple[list[Press], str]:
    """A group with a question for each of `days` days and `users` known members; the presses
    (a warm-up day, then every member reveals and grades each day) and an answer's HTML."""
    bank, _ = load_bank(REPO / "content")
    store = await open_store(url)
    async with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
    codec = ActionCodec(await store.payload_secret())
    chat = await store.ensure_chat(ChatRef("telegram", str(GROUP)), ChatKind.GROUP,
                                   language="zh", timezone="Asia/Shanghai")
    ids = bank.ids()
    start = dt.datetime.now(dt.UTC).date()
    chat_days = [await store.add_chat_day(chat.pk, start - dt.timedelta(days=d),
                                          ids[d * 7 % len(ids)], 0) for d in range(days + 1)]
    for u in range(users):
        await store.ensure_user(UserRef("telegram", str(USER_BASE + u), f"User{USER_BASE + u}"))
    # The answer as the bot renders it, for the bare handler to send as it is.
    question = bank.get(chat_days[1].question_id)
    assert question is not None
    service = StudyService(store, bank, SystemClock(), codec)
    html = render(service.answer_message(chat_days[1], question, "zh"))[0].html
    await store.close()
    group_post = {"message_id": 10, "date": int(time.time()), "chat": group_chat(GROUP),
                  "text": "q"}
    presses: list[Press] = []
    grades = (Kind.KNEW, Kind.PARTLY, Kind.NOT_YET)
    for d, day in enumerate(chat_days):
        for u in range(users):
            member = user(USER_BASE + u)
            reveal_id, grade_id = f"r{d}-{u}", f"g{d}-{u}"
            private_post = sent_message({"chat_id": USER_BASE + u, "text": "a"}, 11)
            presses.append(Press("reveal", callback(member, group_post, codec.encode(
                Action(Kind.REVEAL, day.pk)), reveal_id), reveal_id, d > 0))
            presses.append(Press("grade", callback(member, private_post, codec.encode(
                Action(grades[(d + u) % 3], day.pk)), grade_id), grade_id, d > 0))
    return presses, html


def streak_updates(count: int, groups: int, users: int) -> list[dict[str, Any]]:
    return [text_message(group_chat(STREAK_GROUPS - i % groups), user(USER_BASE + i % users),
                         "/streak") for i in range(count)]


async def drive(api: TimedBotApi, presses: list[Press], commands: list[dict[str, Any]],
                figures: Figures, first: list[dict[str, Any]]) -> None:
    """Presses one at a time (each waits for its answer); then a first /streak from every group
    at once (the bot meets each group: a write apiece); then every measured command at once."""
    for press in presses:
        update_id = api.push(press.update)
        await api.until(lambda q=press.query_id: q in api.answered)  # type: ignore[misc]
        if press.measured:
            begun, done = api.handed[update_id], api.answered[press.query_id]
            figures.latency[press.kind].append((done - begun) * 1000)
            figures.windows[press.kind].append((begun, done))
    if first:
        figures.first_contact_per_s = await burst(api, first)
    if commands:
        figures.commands_per_s = await burst(api, commands)


async def burst(api: TimedBotApi, updates: list[dict[str, Any]]) -> float:
    """Every update handed out at once: answers per second, first handed to last answered."""
    api.replies.clear()
    first = [api.push(update) for update in updates][0]  # noqa: RUF015 (all pushed)
    await api.until(lambda: len(api.replies) >= len(updates), within=300)
    return len(updates) / (max(api.replies) - api.handed[first])


async def wait_ready(api: TimedBotApi, proc: asyncio.subprocess.Process) -> None:
    """Until the bot polls: a probe update's id is handed out."""
    probe = api.push(text_message(private_chat(USER_BASE), user(USER_BASE), "hello"))
    while probe not in api.handed:
        if proc.returncode is not None:
            raise SystemExit(f"the bot stopped at start-up ({proc.returncode})")
        await asyncio.sleep(0.05)  # a bench polling its fake's counter, not a test
    await asyncio.sleep(0.5)


async def stop(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    _, err = await proc.communicate()
    return err.decode(errors="replace")


async def run_ours(args: argparse.Namespace, tmp: str, presses: list[Press],
                   commands: list[dict[str, Any]], first: list[dict[str, Any]],
                   ) -> tuple[Figures, list[tuple[float, str]]]:
    api = TimedBotApi()
    await api.start()
    url = args.db or f"sqlite:///{tmp}/interact.db"
    env = bot_env(url, tmp, api, None, False)
    counted = f"{tmp}/statements.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--counted-bot", counted, env=env, cwd=str(REPO),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    figures = Figures()
    err = ""
    try:
        await wait_ready(api, proc)
        await drive(api, presses, commands, figures, first)
    finally:
        err = await stop(proc)
        await api.stop()
        if proc.returncode not in (0, -signal.SIGTERM) or os.environ.get("FANOUT_LOG_LEVEL"):
            print(err[-3000:], file=sys.stderr)
    written = await asyncio.to_thread(Path(counted).read_text)
    log = [(float(at), kind) for at, kind in json.loads(written)]
    return figures, log


async def run_bare(html: str, presses: list[Press], commands: list[dict[str, Any]],
                   first: list[dict[str, Any]], concurrent: bool) -> Figures:
    api = TimedBotApi()
    await api.start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--bare", f"{api.url}/bot", api.token, html,
        "1" if concurrent else "0", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    figures = Figures()
    try:
        await wait_ready(api, proc)
        await drive(api, presses, commands, figures, first)
    finally:
        await stop(proc)
        await api.stop()
    return figures


def per_press(log: list[tuple[float, str]], windows: list[tuple[float, float]]) -> tuple[
        float, float]:
    """Statements and write transactions (commits) inside the presses' windows, per press."""
    statements = commits = 0
    for begun, done in windows:
        for at, kind in log:
            if begun <= at <= done:
                statements += kind == "s"
                commits += kind == "c"
    return statements / len(windows), commits / len(windows)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(
        values) > 1 else values[0]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/interact.db"
        presses, html = await seed(url, args.users, args.days)
        commands = streak_updates(args.commands, args.groups, args.users)
        first = commands[:args.groups]  # one from each group
        ours, log = await run_ours(args, tmp, presses, commands, first)
        bare = await run_bare(html, presses, commands, first, concurrent=False)
        bare_concurrent = await run_bare(html, [], commands, first, concurrent=True)
        sqlite_commits = await asyncio.to_thread(
            bare_commits, f"{tmp}/commits.db") if not args.db else []
    backend = url.split(":")[0]
    print(f"{backend}: {args.users} members × {args.days} days; presses one at a time; "
          f"{args.commands} /streak from {args.groups} known groups at once, limiter off")
    for kind in ("reveal", "grade"):
        mine, theirs = ours.latency[kind], bare.latency[kind]
        statements, commits = per_press(log, ours.windows[kind])
        print(f"{kind:6}  studybot p50 {pct(mine, 50):5.2f} ms  p99 {pct(mine, 99):5.2f} ms | "
              f"bare p50 {pct(theirs, 50):5.2f} ms  p99 {pct(theirs, 99):5.2f} ms | over bare: "
              f"p50 {pct(mine, 50) - pct(theirs, 50):+5.2f} ms  "
              f"p99 {pct(mine, 99) - pct(theirs, 99):+5.2f} ms | "
              f"{statements:.1f} statements, {commits:.2f} write transactions per press")
    print(f"/streak studybot {ours.commands_per_s:,.0f}/s | bare, one at a time "
          f"{bare.commands_per_s:,.0f}/s (ratio {ours.commands_per_s / bare.commands_per_s:.2f})"
          f" | bare, concurrent_updates=True {bare_concurrent.commands_per_s:,.0f}/s "
          f"(ratio {ours.commands_per_s / bare_concurrent.commands_per_s:.2f})")
    print(f"/streak, first contact ({args.groups} groups, one each; the bot writes each new "
          f"group): studybot {ours.first_contact_per_s:,.0f}/s | bare, one at a time "
          f"{bare.first_contact_per_s:,.0f}/s | bare, concurrent_updates=True "
          f"{bare_concurrent.first_contact_per_s:,.0f}/s")
    if sqlite_commits:
        print(f"anchor for the write each press keeps: a bare sqlite3 commit on the same disk "
              f"(WAL, synchronous=FULL, as the bot's) p50 {pct(sqlite_commits, 50):.2f} ms  "
              f"p99 {pct(sqlite_commits, 99):.2f} ms")


def bare_commits(path: str, count: int = 300) -> list[float]:
    """Milliseconds per one-row write transaction with the sqlite3 module alone."""
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (n INTEGER)")
    times = []
    for n in range(count):
        begun = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?)", (n,))
        db.execute("COMMIT")
        times.append((time.perf_counter() - begun) * 1000)
    db.close()
    return times


def counted_bot(path: str) -> int:
    """`studybot run` with every statement and commit of every engine logged to `path` at exit."""
    import atexit

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    log: list[tuple[float, str]] = []
    event.listen(Engine, "before_cursor_execute",
                 lambda *_: log.append((time.time(), "s")))
    event.listen(Engine, "commit", lambda *_: log.append((time.time(), "c")))
    atexit.register(lambda: Path(path).write_text(json.dumps(log)))
    from bot.cli import main as studybot

    profile = os.environ.get("INTERACT_PROFILE")  # FILE: run the bot under cProfile
    if not profile:
        return studybot(["run"])
    import cProfile

    with cProfile.Profile() as profiler:
        try:
            return studybot(["run"])
        finally:
            profiler.dump_stats(profile)


def bare_app(url: str, token: str, html: str, concurrent: bool) -> None:
    """The anchor: python-telegram-bot alone, answering the same presses and commands the way
    the bot does (the answer privately, then the toast; a reply in the group), without a store."""
    from telegram import Update
    from telegram.constants import ParseMode
    from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        if query.data.startswith("r"):
            await context.bot.send_message(query.from_user.id, html, parse_mode=ParseMode.HTML)
            await query.answer("已私信答案")
        else:
            await query.answer("已记录：会 · 连续 3 天")

    async def on_streak(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        await context.bot.send_message(
            chat.id, "<b>🔥 User 的连续学习</b>\n\n<b>当前连续：0 天</b>",
            parse_mode=ParseMode.HTML)

    app = (Application.builder().token(token).base_url(url)
           .concurrent_updates(concurrent).build())
    app.add_handler(CallbackQueryHandler(on_press))
    app.add_handler(CommandHandler("streak", on_streak))
    app.run_polling(poll_interval=0, timeout=1)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--counted-bot":
        raise SystemExit(counted_bot(sys.argv[2]))
    if len(sys.argv) > 5 and sys.argv[1] == "--bare":
        bare_app(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1")
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--db", default="", help="a scratch database (its studybot tables are "
                        "emptied) instead of a fresh SQLite file, e.g. postgresql://…")
    asyncio.run(main(parser.parse_args()))
