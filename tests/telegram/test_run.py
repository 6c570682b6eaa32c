"""`studybot run` as an operator starts it: a real process, the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.telegram.fake_botapi import FakeBotApi, private_chat, text_message, user


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    return {**keep, "STUDYBOT_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "STUDYBOT_CONTENT": str(REPO / "content"), "STUDYBOT_CONFIG": "",
            "PYTHONPATH": str(REPO), **extra}


async def start(tmp_path: Path, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=run_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def stop(process: asyncio.subprocess.Process) -> bytes:
    """SIGTERM, then what the bot wrote to stderr; killed if it does not stop within 30 s."""
    try:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return err


async def test_run_serves_telegram_until_sigterm_then_stops_cleanly(
    botapi: FakeBotApi, tmp_path: Path
) -> None:
    process = await start(tmp_path, STUDYBOT_TELEGRAM_TOKEN=botapi.token,
                          STUDYBOT_TELEGRAM_API_URL=f"{botapi.url}/bot")
    try:
        await botapi.wait_for("getUpdates", within=60)
        botapi.push(text_message(private_chat(7), user(7), "/help"))
        reply = (await botapi.wait_for("sendMessage", chat_id=7, within=20))[0]
        assert "/subscribe" in reply["text"]
    finally:
        err = await stop(process)
    log = err.decode()
    assert process.returncode == 0, log
    assert "polling for updates" in log and "stopped" in log
    assert botapi.token not in log and botapi.token.split(":")[1] not in log


async def test_run_without_a_token_says_which_variables_to_set(tmp_path: Path) -> None:
    process = await start(tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "STUDYBOT_TELEGRAM_TOKEN" in err.decode() and "STUDYBOT_DISCORD_TOKEN" in err.decode()


async def test_run_with_a_rejected_token_exits_with_a_clear_error_and_no_token(
    botapi: FakeBotApi, tmp_path: Path
) -> None:
    wrong = "654321:WRONG-token-value-here"
    process = await start(tmp_path, STUDYBOT_TELEGRAM_TOKEN=wrong,
                          STUDYBOT_TELEGRAM_API_URL=f"{botapi.url}/bot")
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert "rejected the token" in err.decode()
    assert "WRONG-token-value-here" not in err.decode()
