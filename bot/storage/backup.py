"""An online, consistent copy of the SQLite database, safe while the bot is writing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.storage.sql import StoreError


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy `source` to `target` with SQLite's backup API; returns the copy's size in bytes.

    The copy is taken in one step under a read transaction, so it is one consistent snapshot even
    while another process writes (WAL lets the writer go on meanwhile). It is checked with
    `PRAGMA integrity_check` before it replaces `target`, and it is a single self-contained file.
    """
    if not source.is_file():
        raise StoreError(f"no database file at {source}")
    if target.resolve() == source.resolve():
        raise StoreError("the backup must not overwrite the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: everything in one step, one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside the copy
            result = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
            src.close()
        if not result or result[0] != "ok":
            raise StoreError(f"the copy failed its integrity check: {result}")
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise StoreError(f"backup failed: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
