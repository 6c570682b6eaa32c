"""The group sends in the console: the answer at a set time, the board updated in place."""

from __future__ import annotations

import datetime as dt

from bot.app import console_session
from bot.settings import Settings
from tests.console.test_console import StoppedClock, Terminal


async def test_in_the_console_the_answer_comes_at_21_and_the_board_follows_the_grades(
    settings: Settings,
) -> None:
    out = Terminal()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC))  # 08:30 in Shanghai
    async with console_session(settings, out, clock) as (_, console):
        async def say(line: str) -> str:
            assert await console.handle_line(line)
            return out.take()

        await say("/subscribe 09:00 Asia/Shanghai")
        assert "21:00" in await say("/answer 21:00")
        pushed = await say(":clock +30m")
        assert "每日一题" in pushed
        board = await say("/top")
        assert "排行榜" in board and "还没有人打卡" in board
        await say("2")  # alice: knew it
        updated = await say(":clock +2m")
        assert "更新了之前的消息" in updated and "alice" in updated.lower()
        evening = await say(":clock +12h")
        assert "回复题目" in evening and "今日答案" in evening
        assert evening.count("今日答案") == 1
