"""Logging set-up: readable lines or JSON lines, with every configured secret masked wherever it
would appear — message, arguments, traceback, a URL inside an exception."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

MASK = "***"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then masks secrets in the finished text.

    Masking the final text (not the record) also covers what formatters compute on their own,
    such as a JSON formatter's traceback field.
    """

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = tuple(sorted((s for s in secrets if s and len(s) >= 6), key=len,
                                    reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def make_formatter(fmt: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    inner: logging.Formatter
    if fmt == "json":
        inner = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                              rename_fields={"levelname": "level", "name": "logger"},
                              json_ensure_ascii=False)
    else:
        inner = logging.Formatter(TEXT_FORMAT)
    return RedactingFormatter(inner, _with_parts(secrets))


def _with_parts(secrets: Iterable[str]) -> list[str]:
    """A Telegram token is `<bot id>:<secret>`; the secret half alone must not leak either."""
    out: list[str] = []
    for secret in secrets:
        out.append(secret)
        _, sep, tail = secret.partition(":")
        if sep and len(tail) >= 16:
            out.append(tail)
    return out


def setup_logging(
    level: str, secrets: Iterable[str] = (), stream: TextIO | None = None, fmt: str = "text"
) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(fmt, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries' request logs carry URLs, and Telegram's URLs carry the token: keep them quiet.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
