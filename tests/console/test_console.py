"""The console adapter end to end: typed lines in, text out, over the real app and database."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.app import console_session
from bot.clock import OffsetClock
from bot.settings import Settings
from tests.conftest import REPO


class Terminal(io.StringIO):
    def take(self) -> str:
        """Everything written since the last take."""
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


class StoppedClock(OffsetClock):
    """The console's clock, started at a fixed instant so the test never depends on today."""

    def __init__(self, start: dt.datetime) -> None:
        super().__init__()
        self.start = start

    def now(self) -> dt.datetime:
        return self.start + self.offset


async def test_a_study_session_in_the_console_from_subscribe_to_leaderboard(
    settings: Settings,
) -> None:
    out = Terminal()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC))  # 08:30 in Shanghai
    async with console_session(settings, out, clock) as (app, console):
        async def say(line: str) -> str:
            assert await console.handle_line(line)
            return out.take()

        assert "09:00" in await say("/subscribe 09:00 Asia/Shanghai")
        await app.scheduler.tick()
        assert out.take() == ""  # 08:30: nothing due yet

        pushed = await say(":clock +30m")  # the scheduler ticks as the clock moves
        assert "── 学习群 ──" in pushed and "每日一题 · 2026-03-02" in pushed
        assert "[1] 👀 查看答案" in pushed and "[2] ✅ 会了" in pushed

        answer = await say("1")
        assert "── 只有 alice 能看到 ──" in answer and "答案：" in answer
        assert "要点" in answer
        graded = await say("2")
        assert "已记录：会了" in graded and "连续 1 天" in graded

        await say(":user bob")
        assert "管理员" in await say("/subscribe 10:00")
        today = await say("/today")
        assert "每日一题 · 2026-03-02" in today
        first_button = int(today.split("[", 1)[1].split("]", 1)[0])
        assert "已记录：部分会" in await say(str(first_button + 2))

        board = await say("/top")
        assert "Alice" in board and "Bob" in board
        assert "当前连续：1 天" in await say("/streak")

        await say(":private")
        assert "25:00" in await say("/subscribe 25:00")
        assert "Mars/Base" in await say("/subscribe 09:00 Mars/Base")
        assert "/help" in await say("/frobnicate")
        assert "/" in await say("hello there")
        assert "太长" in await say("长" * 5000)
        odd = await say("/subscribe \u202e\x1b[2J09:00 \U0001f600")
        assert "\x1b" not in odd and odd.strip()
        assert "没有按钮" in await say("999")
        assert "English" in await say("/lang en")
        assert "Commands" in await say("/help")

        assert "每日一题 · 2026-03-03" in await say(":clock +1d")


async def test_the_console_chooses_packs_and_tags_through_the_core_commands(
    settings: Settings,
) -> None:
    out = Terminal()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC))
    async with console_session(settings, out, clock) as (_, console):
        async def say(line: str) -> str:
            assert await console.handle_line(line)
            return out.take()

        packs = await say("/pack")
        assert "✓ default — " in packs and "本聊天学习：全部题库" in packs
        assert "“nope”" in await say("/pack nope")
        assert "rag" in await say("/tags rag")
        assert "✓ rag" in await say("/tags")
        today = await say("/today")
        assert "每日一题 · 2026-03-02" in today and "rag" in today.split("标签：", 1)[1]
        await say(":user bob")
        assert "管理员" in await say("/tags all")
        assert "/pack" in await say("/help") and "/tags" in await say("/help")


async def test_moving_the_clock_past_the_push_time_delivers_it_on_the_way(
    settings: Settings,
) -> None:
    out = Terminal()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))  # 17:00 in Shanghai
    async with console_session(settings, out, clock) as (_, console):
        await console.handle_line("/subscribe 09:00")
        out.take()
        assert await console.handle_line(":clock +1d")
        travelled = out.take()
        assert travelled.count("每日一题 · 2026-03-03") == 1
        assert "17:00 UTC" not in travelled and "2026-03-03 09:00 UTC" in travelled


async def test_quit_ends_the_session(settings: Settings) -> None:
    out = Terminal()
    async with console_session(settings, out) as (_, console):
        assert await console.handle_line(":quit") is False


def console_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`studybot console` on a fresh database, the shipped content, no config file."""
    return {**os.environ, "STUDYBOT_DATABASE_URL": f"sqlite:///{tmp_path}/console.db",
            "STUDYBOT_CONTENT": str(REPO / "content"), "STUDYBOT_CONFIG": "",
            "PYTHONPATH": str(REPO), **extra}


def run_console(tmp_path: Path, typed: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "console"], input=typed, text=True,
                          capture_output=True, cwd=tmp_path, env=console_env(tmp_path, **extra),
                          timeout=60, check=False)


def test_the_console_command_runs_on_piped_input_and_exits_cleanly(tmp_path: Path) -> None:
    script = "/start\n/today\n1\n2\n/streak\n:quit\n"
    done = run_console(tmp_path, script)
    assert done.returncode == 0, done.stderr
    assert "每日一题" in done.stdout and "答案：" in done.stdout and "连续 1 天" in done.stdout
    assert done.stdout.rstrip().endswith("再见")
    assert "Traceback" not in done.stderr


def test_end_of_input_ends_the_console_like_ctrl_d(tmp_path: Path) -> None:
    done = run_console(tmp_path, "/help\n", STUDYBOT_LANGUAGE="en")
    assert done.returncode == 0 and done.stdout.rstrip().endswith("bye")


def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path: Path) -> None:
    done = run_console(tmp_path, "", STUDYBOT_DEFAULT_TIMEZONE="Mars/Base",
                       STUDYBOT_TELEGRAM_TOKEN="123456:SECRET-TOKEN-VALUE")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "STUDYBOT_DEFAULT_TIMEZONE" in done.stderr and "Mars/Base" in done.stderr
    assert "SECRET-TOKEN-VALUE" not in done.stderr + done.stdout


def test_ctrl_c_ends_the_console_cleanly_even_while_it_waits_for_input(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "bot", "console"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path, env=console_env(tmp_path))
    assert process.stdout is not None and process.stdin is not None
    try:
        assert "studybot" in process.stdout.readline()  # up, and waiting on the open pipe
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr
