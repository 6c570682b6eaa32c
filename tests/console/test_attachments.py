"""Files in the console: the bytes are written to a folder and the path printed with the text."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

import pytest

from bot.app import console_session
from bot.core.events import Command
from bot.core.messages import OutgoingMessage, Response
from bot.core.models import Chat
from bot.core.text import paragraph
from bot.pictures import heatmap
from bot.settings import Settings
from tests.conftest import REPO
from tests.console.test_console import StoppedClock
from tests.fakes import document_message, picture_message, tiny_png


def settings_for(tmp_path: Path, files: Path | None) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/console.db", content=REPO / "content",
                    console_files=files)


async def answer_with(response: Response, tmp_path: Path, files: Path | None) -> str:
    """What the console prints when a command's answer is `response`."""
    out = io.StringIO()
    async with console_session(settings_for(tmp_path, files), out) as (app, console):
        async def picture(command: Command, chat: Chat) -> Response:
            return response

        app.service.add_command("picture", picture)
        out.truncate(0)
        assert await console.handle_line("/picture")
    return out.getvalue()


async def test_a_private_picture_is_saved_in_the_configured_folder_and_its_path_printed(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pictures"
    shown = await answer_with(
        Response(public=(OutgoingMessage(blocks=(paragraph("Sent to you"),)),),
                 private=(picture_message("Only yours"),)), tmp_path, folder)
    saved = folder / "001-progress.png"
    assert saved.read_bytes() == tiny_png(64, 32)
    private = shown.split("──")[-1]  # after the "only alice sees this" header
    assert "Only yours" in private and str(saved) in private and "A green square" in private
    assert str(saved) not in shown.split("──")[0]  # the group saw only its note


async def test_two_files_never_overwrite_each_other(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    await answer_with(Response(public=(document_message(), document_message())), tmp_path,
                      folder)
    assert sorted(p.name for p in folder.iterdir()) == ["001-export.json", "002-export.json"]


async def test_without_a_folder_set_files_go_to_a_new_folder_in_the_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    shown = await answer_with(Response(public=(document_message(),)), tmp_path, None)
    [folder] = list(temp.iterdir())
    assert folder.name.startswith("studybot-console-")
    saved = folder / "001-export.json"
    assert saved.read_bytes() == b'{"days": 3}' and str(saved) in shown


async def test_stats_prints_the_numbers_and_the_path_of_the_calendar_picture(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "pictures"
    out = io.StringIO()
    clock = StoppedClock(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC))  # 10:00 in Shanghai
    async with console_session(settings_for(tmp_path, folder), out, clock) as (_, console):
        async def say(line: str) -> str:
            out.seek(0)
            out.truncate()
            assert await console.handle_line(line)
            return out.getvalue()

        for _ in range(3):  # alice grades today's question three days running
            today = await say("/today")
            knew = int(today.split("[", 2)[2].split("]", 1)[0])  # the first grade button
            assert "会了" in await say(str(knew))
            clock.offset += dt.timedelta(days=1)
        clock.offset -= dt.timedelta(days=1)
        alice = await say("/stats")
        await say(":user bob")
        bob = await say("/stats")
    assert "当前连续 3 天 · 最长 3 天" in alice and "当前连续 0 天" in bob
    alice_png, bob_png = folder / "001-stats.png", folder / "002-stats.png"
    assert str(alice_png) in alice and str(bob_png) in bob
    for png in (alice_png, bob_png):
        data = png.read_bytes()
        size = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert size == heatmap.size(26)
    assert alice_png.read_bytes() != bob_png.read_bytes()
