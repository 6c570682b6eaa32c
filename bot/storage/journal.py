"""The outbox journal: push marks appended to a small file the moment a platform answers.

It lives outside the database's folder by default (the system's temporary folder), so a disk
that fills up or turns read-only under the database does not take the journal with it. After a
crash or a restart the marks in it are written to the database before anything is claimed, so a
post the last run delivered is never taken for cut off and sent twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from bot.core.push_model import Mark

log = logging.getLogger(__name__)


def default_journal_path(database_url: str) -> Path:
    """One journal per database, named after it, in the system's temporary folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        key = str(Path(url.database).expanduser().resolve())
    else:
        key = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"studybot-{digest}.marks"


class FileJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def append(self, marks: Sequence[Mark]) -> None:
        if self._file is None:
            # 0600: the marks name chats; nobody else on the machine needs to read them.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")
        for mark in marks:
            self._file.write(json.dumps({
                "d": mark.delivery_pk, "s": mark.state, "at": mark.at.isoformat(),
                "m": mark.message_id, "e": mark.error[:200],
                "r": mark.retry_at.isoformat() if mark.retry_at else None, "k": mark.kind,
            }, ensure_ascii=False) + "\n")
        # No fsync: what a killed process wrote is in the kernel's cache and survives it.
        self._file.flush()

    def replay(self) -> list[Mark]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        marks: list[Mark] = []
        for number, line in enumerate(lines, start=1):
            try:
                raw = json.loads(line)
                marks.append(Mark(
                    int(raw["d"]), str(raw["s"]), dt.datetime.fromisoformat(raw["at"]),
                    str(raw.get("m") or ""), str(raw.get("e") or ""),
                    dt.datetime.fromisoformat(raw["r"]) if raw.get("r") else None,
                    str(raw.get("k") or "post")))
            except (ValueError, KeyError, TypeError):
                # A line cut off by a crash mid-write: the claim is simply sent again.
                log.warning("%s:%d: unreadable mark skipped", self.path, number)
        return marks

    def clear(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)
