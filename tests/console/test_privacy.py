"""/export and /forgetme typed in the console, over the real app and database."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from bot.app import console_session
from bot.core.models import UserRef
from bot.settings import Settings
from tests.conftest import REPO
from tests.console.test_console import StoppedClock, Terminal
from tests.core.test_privacy import rows_naming


async def test_in_the_console_bob_exports_his_data_to_a_file_then_has_it_deleted(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/console.db", content=REPO / "content",
                        console_files=tmp_path / "files")
    out = Terminal()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    async with console_session(settings, out, clock) as (app, console):
        async def say(line: str) -> str:
            assert await console.handle_line(line)
            return out.take()

        await say(":user bob")
        today = await say("/today")
        first_button = int(today.split("[", 1)[1].split("]", 1)[0])
        assert "已记录" in await say(str(first_button + 1))  # knew it, in the group
        bob = UserRef("console", "bob", "Bob")
        bob_pk = await app.store.find_user(bob)
        assert bob_pk is not None

        assert "私聊" in await say("/export")  # the group is not the place
        await say(":private")
        exported = await say("/export")
        [path] = re.findall(r"(/\S+\.json)", exported)
        [saved] = (tmp_path / "files").iterdir()
        assert str(saved) == path
        data = json.loads(saved.read_bytes())
        assert data["user"]["user_id"] == "bob" and len(data["records"]["grades"]) == 1

        asked = await say("/forgetme")
        assert "1 条评分" in asked and "🗑 全部删除" in asked
        button = re.search(r"\[(\d+)\] 🗑", asked)
        assert button is not None
        done = await say(button.group(1))
        assert "已删除你的数据" in done
        assert await rows_naming(app.store, bob, bob_pk) == []
        await say(":group")
        assert "Bob" not in await say("/top")
