"""/streak and /top in the console read as compact cards: no blank line between rows."""

from __future__ import annotations

import io
from pathlib import Path

from bot.app import console_session
from bot.settings import Settings
from tests.conftest import REPO


async def test_streak_and_top_print_their_rows_on_consecutive_lines(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db", content=REPO / "content",
                        language="en")
    out = io.StringIO()
    async with console_session(settings, out) as (_, console):
        async def say(line: str) -> list[str]:
            out.seek(0)
            out.truncate()
            assert await console.handle_line(line)
            return out.getvalue().rstrip("\n").split("\n")

        today = "\n".join(await say("/today"))
        knew = int(today.split("[", 2)[2].split("]", 1)[0])
        await say(str(knew))
        streak = await say("/streak")
        board = await say("/top")
    assert streak[1:3] == ["Current streak: 1 day", "Longest streak: 1 day"]
    assert len(streak) >= 6 and "" not in streak
    assert board[1].startswith("1. Alice — ") and "" not in board
