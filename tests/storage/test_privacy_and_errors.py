"""The database's files are private, and a database that cannot be opened is one line at start.

Modes are checked on real files; start-up failures run the real `python -m bot` in a subprocess
with stdin closed, the way an operator (or systemd) starts it.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import socketserver
import stat
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.storage.backup import backup_sqlite
from bot.storage.journal import FileJournal
from bot.storage.sql import open_store
from tests.conftest import REPO
from tests.postgres import require_server

NOBODY = 65534
PASSWORD = "s3cret-pass-word"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def bot_env(database_url: str, **extra: str) -> dict[str, str]:
    """The shipped content, no config file, no platform token from the caller's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    return {**env, "STUDYBOT_DATABASE_URL": database_url, "STUDYBOT_CONTENT": str(REPO / "content"),
            "STUDYBOT_CONFIG": "", "PYTHONPATH": str(REPO), **extra}


def studybot(cwd: Path, database_url: str, *args: str, as_user: int | None = None,
             **extra: str) -> subprocess.CompletedProcess[str]:
    ids = {} if as_user is None else {"user": as_user, "group": as_user, "extra_groups": []}
    return subprocess.run([sys.executable, "-m", "bot", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, cwd=cwd, timeout=90, check=False,
                          env=bot_env(database_url, **extra), **ids)


def assert_one_line(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Exit status 1 and exactly one line on stderr containing each of `expected`."""
    line = done.stderr.strip()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and line.count("\n") == 0, done.stderr
    assert line.startswith("studybot: STUDYBOT_DATABASE_URL: "), line
    for part in expected:
        assert part in line, line
    return line


@contextmanager
def tmpfs(target: Path, options: str) -> Iterator[Path]:
    """A small tmpfs at `target`, always unmounted; skips when this process may not mount."""
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only file system needs root")
    target.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=2m,{options}", "tmpfs",
                           str(target)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


# ----- file modes -----------------------------------------------------------------------------


async def test_a_new_database_its_wal_shm_lock_and_folders_are_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "sub" / "bot.db"
    with umask(0o022):  # the usual umask, under which files are made 0644
        store = await open_store(f"sqlite:///{path}")
        try:
            assert store.hold_sole_lock()
            await store.payload_secret()  # a write: the -wal and -shm are in use now
            files = [path, path.with_name("bot.db-wal"), path.with_name("bot.db-shm"),
                     path.with_name("bot.db.lock")]
            assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
            assert oct(mode(tmp_path / "data")) == oct(mode(path.parent)) == "0o700"
        finally:
            await store.close()


async def test_a_backup_and_the_folder_made_for_it_are_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    source = tmp_path / "bot.db"
    store = await open_store(f"sqlite:///{source}")
    await store.close()
    target = tmp_path / "backups" / "daily" / "copy.db"
    with umask(0o022):
        backup_sqlite(source, target)
    assert oct(mode(target)) == "0o600"
    assert oct(mode(target.parent)) == oct(mode(target.parent.parent)) == "0o700"
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]  # no -journal left


def test_the_outcome_journal_is_readable_by_the_owner_only(tmp_path: Path) -> None:
    journal = FileJournal(tmp_path / "marks")
    with umask(0o022):
        journal.append([])
    assert oct(mode(tmp_path / "marks")) == "0o600"
    journal.clear()


def test_the_console_makes_the_default_data_folder_and_database_private(tmp_path: Path) -> None:
    done = studybot(tmp_path, "sqlite:///data/studybot.db", "console")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing to warn about: the bot made these itself
    assert oct(mode(tmp_path / "data")) == "0o700"
    assert {p.name: oct(mode(p)) for p in (tmp_path / "data").iterdir()} == {
        "studybot.db": "0o600", "studybot.db.lock": "0o600"}


# ----- the warning for files the bot did not make ---------------------------------------------


async def test_an_existing_world_readable_database_is_warned_about_once_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shared"
    path = folder / "bot.db"
    store = await open_store(f"sqlite:///{path}")
    await store.close()
    path.chmod(0o644)
    folder.chmod(0o755)

    done = studybot(tmp_path, f"sqlite:///{path}", "console")

    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "WARNING" in lines[0] and str(path) in lines[0]
    assert f"chmod 600 {path}" in lines[0] and f"chmod 700 {folder}" in lines[0]
    assert oct(mode(path)) == "0o644" and oct(mode(folder)) == "0o755"  # not ours to change


async def test_a_private_database_in_a_private_folder_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "bot.db"
    for _ in range(2):  # made, then opened again as an existing file
        store = await open_store(f"sqlite:///{path}")
        await store.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_new_database_in_an_existing_open_folder_warns_about_the_folder_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    store = await open_store(f"sqlite:///{folder}/bot.db")
    await store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"chmod 700 {folder}" in warnings[0]
    assert "chmod 600" not in warnings[0]


# ----- start-up failures: one line, no traceback ----------------------------------------------


@pytest.mark.parametrize("command", [["console"], ["run"], ["db", "migrate"],
                                     ["db", "backup", "copy.db"]])
def test_a_corrupt_database_file_stops_every_command_with_one_line(
    tmp_path: Path, command: list[str],
) -> None:
    path = tmp_path / "bot.db"
    path.write_bytes(b"this is not a database, it is a note someone saved here\n" * 100)
    path.chmod(0o600)
    done = studybot(tmp_path, f"sqlite:///{path}", *command,
                    STUDYBOT_TELEGRAM_TOKEN="123456:TOKEN-NEVER-USED")
    assert_one_line(done, f"cannot open {path}: not a SQLite database")
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def test_a_database_on_a_read_only_file_system_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro") as mount:
        new_file = studybot(tmp_path, f"sqlite:///{mount}/bot.db", "console")
        assert_one_line(new_file, f"cannot open {mount}/bot.db: read-only file system")
        new_folder = studybot(tmp_path, f"sqlite:///{mount}/data/bot.db", "console")
        assert_one_line(new_folder, f"cannot open {mount}/data/bot.db: read-only file system",
                        f"creating the folder {mount}/data")


def test_an_existing_database_on_a_file_system_gone_read_only_is_one_line(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk", "rw") as mount:
        url = f"sqlite:///{mount}/bot.db"
        assert studybot(tmp_path, url, "db", "migrate").returncode == 0
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mount)],
                                 capture_output=True, text=True, check=False)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        backup = ["db", "backup", str(tmp_path / "copy.db")]
        for command in (["console"], ["run"], ["db", "migrate"], backup):
            done = studybot(tmp_path, url, *command,
                            STUDYBOT_TELEGRAM_TOKEN="123456:TOKEN-NEVER-USED")
            assert_one_line(done, f"cannot open {mount}/bot.db: read-only file system")


@contextmanager
def folder_others_may_not_write() -> Iterator[tuple[Path, int | None]]:
    """A folder the bot's process may read but not write, and the user to run the bot as.

    As root nothing is denied, so the bot then runs as `nobody` (the folder sits in /tmp, since
    pytest's own folders are closed to other users); otherwise the folder is made read-only.
    """
    folder = Path(tempfile.mkdtemp(prefix="studybot-denied-"))
    as_root = os.geteuid() == 0
    folder.chmod(0o755 if as_root else 0o555)
    try:
        yield folder, NOBODY if as_root else None
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_folder_the_bot_may_not_write_to_is_one_line_saying_permission_denied() -> None:
    with folder_others_may_not_write() as (folder, user):
        probe = subprocess.run([sys.executable, "-c", "import bot.cli"], cwd=folder,
                               env=bot_env("sqlite://"), capture_output=True, text=True,
                               check=False, **({} if user is None else {
                                   "user": user, "group": user, "extra_groups": []}))
        if probe.returncode != 0:
            pytest.skip(f"the bot cannot run as uid {user}: {probe.stderr.strip()[-200:]}")
        for command in (["console"], ["db", "migrate"]):
            in_folder = studybot(folder, f"sqlite:///{folder}/bot.db", *command, as_user=user)
            assert_one_line(in_folder, f"cannot open {folder}/bot.db: permission denied")
            below = studybot(folder, f"sqlite:///{folder}/data/bot.db", *command, as_user=user)
            assert_one_line(below, f"cannot open {folder}/data/bot.db: permission denied",
                            f"creating the folder {folder}/data")


@pytest.mark.parametrize("command", [["console"], ["run"], ["db", "migrate"]])
def test_an_unreachable_postgresql_server_is_one_line_without_the_password(
    tmp_path: Path, command: list[str],
) -> None:
    url = f"postgresql://studybot:{PASSWORD}@127.0.0.1:1/test"  # nothing listens on port 1
    done = studybot(tmp_path, url, *command, STUDYBOT_TELEGRAM_TOKEN="123456:TOKEN-NEVER-USED")
    assert_one_line(done, "cannot connect to postgresql://studybot:***@127.0.0.1:1/test",
                    "connection refused")
    assert PASSWORD not in done.stderr + done.stdout


def test_an_unknown_postgresql_database_is_one_line_naming_it(tmp_path: Path) -> None:
    given = require_server()
    # The server's own password if it needs one (trust authentication ignores this one).
    server = given.set(drivername="postgresql", password=given.password or PASSWORD,
                       database="studybot_no_such_database")
    done = studybot(tmp_path, server.render_as_string(hide_password=False), "console")
    assert_one_line(done, f"cannot connect to {server.render_as_string(hide_password=True)}",
                    'database "studybot_no_such_database" does not exist')
    assert str(server.password) not in done.stderr + done.stdout


class _RefusingPostgres(socketserver.BaseRequestHandler):
    """Speaks just enough of PostgreSQL's wire protocol to ask for a password and refuse it,
    as a server with password authentication does for a wrong one."""

    def handle(self) -> None:
        sock = self.request
        while True:  # SSL and GSS requests come first: decline them, then the startup message
            size = struct.unpack("!I", _read(sock, 4))[0]
            code = struct.unpack("!I", _read(sock, size - 4)[:4])[0]
            if code in (80877103, 80877104):
                sock.sendall(b"N")
                continue
            break
        sock.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
        kind = _read(sock, 1)
        size = struct.unpack("!I", _read(sock, 4))[0]
        self.server.passwords.append((kind, _read(sock, size - 4)))  # type: ignore[attr-defined]
        fields = (b"SFATAL\0VFATAL\0C28P01\0"
                  b'Mpassword authentication failed for user "studybot"\0\0')
        sock.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


def test_a_wrong_postgresql_password_is_one_line_without_the_password(tmp_path: Path) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RefusingPostgres)
    server.passwords = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        url = f"postgresql://studybot:{PASSWORD}@127.0.0.1:{port}/test"
        done = studybot(tmp_path, url, "db", "migrate")
    finally:
        server.shutdown()
        server.server_close()
    assert_one_line(done, f"cannot connect to postgresql://studybot:***@127.0.0.1:{port}/test",
                    "password authentication failed")
    assert PASSWORD not in done.stderr + done.stdout
    assert (b"p", PASSWORD.encode() + b"\0") in server.passwords  # type: ignore[attr-defined]
