"""Backups taken while the bot writes, and logs that never show a token."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters import StartError
from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import build_app
from bot.cli import main
from bot.logs import setup_logging
from bot.settings import Settings
from bot.storage.backup import backup_sqlite
from bot.storage.sql import StoreError, open_store
from tests.conftest import REPO
from tests.fakes import FakeClock

TOKEN = "424242:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def root_logging() -> Iterator[None]:
    yield
    logging.getLogger().handlers.clear()


def writer(path: Path, stop: threading.Event, written: list[int]) -> None:
    """Another connection inserting rows as fast as it can, as the running bot would."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    n = 0
    while not stop.is_set() and n < 200_000:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO bot_state (key, value) VALUES (?, ?)",
                       [(f"k{n}-{i}", "x" * 200) for i in range(50)])
        db.execute("COMMIT")
        n += 1
        written[0] = n
    db.close()


async def test_a_backup_taken_while_writes_go_on_opens_and_passes_integrity_check(
    tmp_path: Path,
) -> None:
    source = tmp_path / "live.db"
    store = await open_store(f"sqlite:///{source}")  # the real schema, migrated
    await store.close()
    stop, written = threading.Event(), [0]
    thread = threading.Thread(target=writer, args=(source, stop, written))
    thread.start()
    try:
        while written[0] < 20:  # bounded by the writer's own limit
            threading.Event().wait(0.01)
        copies = [tmp_path / f"copy{i}.db" for i in range(3)]
        for copy in copies:
            assert backup_sqlite(source, copy) > 0
    finally:
        stop.set()
        thread.join(60)
    for copy in copies:
        db = sqlite3.connect(copy)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        rows = db.execute("SELECT count(*) FROM bot_state WHERE key LIKE 'k%'").fetchone()[0]
        assert rows % 50 == 0 and rows > 0  # whole transactions only: one snapshot
        db.close()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".partial")]


def test_db_backup_on_the_command_line_copies_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    root_logging: None,
) -> None:
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    assert main(["db", "migrate"]) == 0
    assert main(["db", "backup", str(tmp_path / "backups" / "b.db")]) == 0
    assert "integrity ok" in capsys.readouterr().out
    assert (tmp_path / "backups" / "b.db").is_file()


def test_backup_refuses_a_missing_database_and_overwriting_itself(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database file"):
        backup_sqlite(tmp_path / "nope.db", tmp_path / "copy.db")
    db = tmp_path / "bot.db"
    sqlite3.connect(db).close()
    with pytest.raises(StoreError, match="overwrite"):
        backup_sqlite(db, db)


def test_db_backup_of_postgresql_points_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    root_logging: None,
) -> None:
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", "postgresql://u@127.0.0.1/test")
    monkeypatch.setenv("STUDYBOT_CONFIG", "")
    assert main(["db", "backup", str(tmp_path / "x.db")]) == 1
    assert "pg_dump" in capsys.readouterr().err


def test_json_logs_are_one_object_per_line_with_the_token_masked_in_the_traceback(
    root_logging: None,
) -> None:
    stream = io.StringIO()
    setup_logging("INFO", [TOKEN], stream, fmt="json")
    log = logging.getLogger("studybot.test")
    log.info("polling https://api.telegram.org/bot%s/getUpdates", TOKEN)
    try:
        raise ConnectionError(f"cannot connect to https://api.telegram.org/bot{TOKEN}/getMe")
    except ConnectionError:
        log.exception("start failed")
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["level"] for r in records] == ["INFO", "ERROR"]
    assert records[0]["logger"] == "studybot.test" and "getUpdates" in records[0]["message"]
    assert "ConnectionError" in records[1]["exc_info"]
    assert TOKEN not in stream.getvalue() and TOKEN.split(":")[1] not in stream.getvalue()


async def test_a_token_in_a_failing_url_never_reaches_the_log_or_the_error(
    tmp_path: Path, clock: FakeClock, root_logging: None
) -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", [TOKEN], stream)
    # Nothing listens on port 9 of loopback: the request fails with the URL in hand.
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", content=REPO / "content",
                        telegram_token=TOKEN, telegram_api_url="http://127.0.0.1:9/bot")
    app = await build_app(settings, clock)
    adapter = TelegramAdapter(app.service, settings)
    try:
        with pytest.raises(StartError) as raised:
            await adapter.start()
    finally:
        await adapter.stop()
        await app.close()
    assert TOKEN not in str(raised.value)
    logging.getLogger("telegram").exception("a failing request", exc_info=RuntimeError(
        f"POST http://127.0.0.1:9/bot{TOKEN}/getMe failed"))
    output = stream.getvalue()
    assert "failing request" in output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
