"""An online, consistent copy of the SQLite database, safe while the bot is writing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.storage.sql import (
    DatabaseUnusable,
    StoreError,
    make_private_folder,
    os_reason,
    sqlite_reason,
)


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy `source` to `target` with SQLite's backup API; returns the copy's size in bytes.

    The copy is taken in one step under a read transaction, so it is one consistent snapshot even
    while another process writes (WAL lets the writer go on meanwhile). It is checked with
    `PRAGMA integrity_check` before it replaces `target`, and it is a single self-contained file,
    readable by its owner only (0600, like the database: it holds the same chats and members).
    """
    if not source.is_file():
        raise DatabaseUnusable(f"no database file at {source}")
    if target.resolve() == source.resolve():
        raise StoreError("the backup must not overwrite the database itself")
    partial = target.with_name(target.name + ".partial")
    try:
        make_private_folder(target.parent)
        partial.unlink(missing_ok=True)
        # Made 0600 before SQLite opens it: SQLite would make it 0644, and its -journal takes
        # the file's mode. os.replace below keeps the mode, so the copy is private throughout.
        os.close(os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise StoreError(f"cannot write the backup {target}: {os_reason(error)}") from None
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
        if any(words in str(error) for words in ("not a database", "malformed", "unable to open")):
            # The copy's file was made and opened above, so these are about the source: name
            # the setting's file (corrupt, or on a read-only disk where its -shm cannot be made).
            reason = sqlite_reason(source, error)
            raise DatabaseUnusable(f"cannot open {source}: {reason}") from None
        raise StoreError(f"backup failed: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
