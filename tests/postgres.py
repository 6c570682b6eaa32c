"""A private PostgreSQL database per test, on the server the tests are given.

The server is STUDYBOT_TEST_POSTGRES_URL (default: postgres on 127.0.0.1:5432, database `test`),
and it may be shared with other test runs, so nothing here touches a database it did not make:
each session migrates one template database of its own, and each test gets a copy of it
(CREATE DATABASE … TEMPLATE is a file copy, much faster than running the migrations again),
dropped when the test ends. A run that is killed cannot drop its own: names say which machine and
process made them, and the next run on the same machine drops those whose process is gone. With
no server, the PostgreSQL cases skip, except under CI=true,
where they fail: CI must test the backend that several instances need.

`python -m tests.postgres` checks the server is there, for CI to say so before the tests run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
# Names of the databases made here start with this, so a leftover is easy to recognise; then
# come this machine's tag and the process id, so a later run can tell whose it is.
PREFIX = "studybot_test_"
HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_OWNED = re.compile(rf"^{PREFIX}([0-9a-f]{{8}})_([0-9]+)_[0-9a-f]+$")

T = TypeVar("T")


def run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end from sync code, even while a test's event loop is running
    (a session fixture is set up from inside the first async fixture that needs it)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def server_url() -> URL:
    return make_url(os.environ.get("STUDYBOT_TEST_POSTGRES_URL", DEFAULT_URL))


def shown(url: URL) -> str:
    """The URL as tests print it: never the password."""
    return url.render_as_string(hide_password=True)


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _unreachable_reason(url: URL) -> str | None:
    """None when the server takes a login to `url`, else why not in a few words."""
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=3)
    except (OSError, asyncpg.PostgresError) as error:  # TimeoutError is an OSError
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if url.password:
            reason = reason.replace(str(url.password), "***")
        return reason
    await connection.close()
    return None


@cache
def unreachable_reason() -> str | None:
    """Asked once per session: a missing server costs one timeout, not one per test."""
    return run_now(_unreachable_reason(server_url()))


def require_server() -> URL:
    """The server's URL; skips the test when there is none, or fails it under CI=true."""
    url = server_url()
    reason = unreachable_reason()
    if reason is not None:
        message = f"no PostgreSQL server for the tests at {shown(url)} ({reason})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires one (set STUDYBOT_TEST_POSTGRES_URL)",
                        pytrace=False)
        pytest.skip(f"{message}; set STUDYBOT_TEST_POSTGRES_URL to test PostgreSQL too")
    return url


class Databases:
    """Makes databases on the test server: a migrated template once, then a copy per test."""

    def __init__(self, server: URL) -> None:
        self.server = server
        self._template: str | None = None

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_asyncpg_dsn(self.server), timeout=10)

    async def _create(self, template: str) -> str:
        name = f"{PREFIX}{HOST}_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        admin = await self._admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        return name

    async def drop(self, name: str) -> None:
        assert name.startswith(PREFIX), name  # never anything this module did not make
        admin = await self._admin()
        try:
            # FORCE: a test that failed half way may have left a connection open.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def template(self) -> str:
        # Imported here: tests/postgres.py is also run as a script before the venv matters.
        from bot.storage.sql import open_store

        if self._template is None:  # tests run one at a time: no lock needed
            await self.sweep()
            name = await self._create("template0")
            store = await open_store(self.url_of(name))
            await store.close()  # a template must have no connections when copied
            self._template = name
        return self._template

    async def sweep(self) -> list[str]:
        """Drop the databases that runs on this machine left behind when they were killed (their
        process is gone); another machine's, or a live run's, are never touched."""
        admin = await self._admin()
        try:
            names = [row["datname"] for row in await admin.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{PREFIX}%")]
        finally:
            await admin.close()
        left = []
        for name in names:
            owner = _OWNED.match(name)
            if owner and owner[1] == HOST and not _alive(int(owner[2])):
                await self.drop(name)
                left.append(name)
        return left

    def url_of(self, name: str) -> str:
        """An operator's URL (postgresql://…) to the database `name`, as settings take it."""
        return self.server.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False)

    @asynccontextmanager
    async def fresh(self, *, migrated: bool = True) -> AsyncIterator[str]:
        """The URL of a database of the test's own (migrated, or empty), dropped afterwards."""
        name = await self._create(await self.template() if migrated else "template0")
        try:
            yield self.url_of(name)
        finally:
            await self.drop(name)

    async def close(self) -> None:
        if self._template is not None:
            await self.drop(self._template)
            self._template = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def main() -> int:
    reason = unreachable_reason()
    if reason is not None:
        print(f"PostgreSQL is not reachable at {shown(server_url())}: {reason}. The tests need "
              "it under CI=true: start it, or point STUDYBOT_TEST_POSTGRES_URL at one.",
              file=sys.stderr)
        return 1
    dropped = run_now(Databases(server_url()).sweep())
    print(f"PostgreSQL for the tests: {shown(server_url())}"
          + (f" (dropped {len(dropped)} databases left by killed test runs)" if dropped else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
