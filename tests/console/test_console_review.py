"""The review loop in the console: typed lines in, text out, over the real app and database."""

from __future__ import annotations

import datetime as dt
import re

from bot.app import console_session
from bot.settings import Settings
from tests.console.test_console import StoppedClock, Terminal


def button(text: str, label: str) -> str:
    """The number shown in front of a button label, e.g. "[3] ❌ 还不会" → "3"."""
    found = re.findall(rf"\[(\d+)\] {re.escape(label)}", text)
    assert found, f"no button {label!r} in:\n{text}"
    return found[-1]


async def test_not_yet_in_the_group_comes_back_in_the_private_review_and_reminds_at_night(
    settings: Settings,
) -> None:
    out = Terminal()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC))  # 08:30 in Shanghai
    async with console_session(settings, out, clock) as (_, console):
        async def say(line: str) -> str:
            assert await console.handle_line(line)
            return out.take()

        await say("/subscribe 09:00 Asia/Shanghai")
        pushed = await say(":clock +30m")
        assert "每日一题" in pushed
        assert "已记录：还不会" in await say(button(pushed, "❌ 还不会"))

        hint = await say("/review")  # in the group: only alice is told where to go
        assert "── 只有 alice 能看到 ──" in hint and "私聊中发送 /review" in hint

        await say(":private")
        assert "21:00（Asia/Shanghai）" in await say("/remind 21:00")
        await say(":clock +1m")
        session = await say("/review")
        assert "🔁 复习" in session and "1 张卡片到期 · 今天还能复习 20 张" in session
        answer = await say(button(session, "👀 查看答案"))
        assert "答案：" in answer and "[" in answer
        graded = await say(button(answer, "✅ 会了"))
        assert "已记录：会了。私聊连续 1 天" in graded
        assert "全部完成！下一张卡片 10 分钟后到期" in graded
        assert "学习群" not in graded

        # 21:00 in Shanghai: the card (due after ten minutes) is waiting, so a reminder comes.
        night = await say(":clock +12h")
        assert night.count("⏰ 提醒") == 1 and "1 张卡片到期" in night
        assert "── alice 的私聊 ──" in night
        assert "⏰ 提醒" not in await say(":clock +1h")
