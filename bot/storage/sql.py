"""The Store on SQLAlchemy's async Core: SQLite through aiosqlite now, PostgreSQL by URL later."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert

from bot.core.models import (
    Chat,
    ChatDay,
    ChatKind,
    ChatRef,
    Grade,
    GradeOutcome,
    Subscription,
    UserRef,
)
from bot.core.review_model import CardWrite
from bot.storage.feed import ChangeFeed
from bot.storage.onehop import one_hop_creator
from bot.storage.point import PointReader, Reads
from bot.storage.privacy import PrivacyStoreMixin
from bot.storage.progress import ProgressStoreMixin
from bot.storage.push import PushStoreMixin
from bot.storage.review import ReviewStoreMixin
from bot.storage.schema import (
    board_hidden,
    bot_state,
    chat_days,
    chats,
    deliveries,
    grades,
    reveals,
    study_days,
    subscriptions,
    users,
)
from bot.storage.together import TogetherStoreMixin

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0008"

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
            "postgres": "postgresql+asyncpg"}


class StoreError(Exception):
    """A database URL or database that cannot be used; the message is safe to show."""


class DatabaseUnusable(StoreError):
    """The configured database (its URL, file, folder or server) cannot be used.

    The message names the file or server and the reason in a few words, never a password, so the
    command line can print it as one line after the setting's name.
    """


def database_url_for_driver(url: str) -> str:
    """An operator's plain URL (sqlite:///…, postgresql://…) with the async driver we use."""
    try:
        parsed = make_url(url)
    except Exception as error:  # SQLAlchemy raises ArgumentError with the URL in it
        raise DatabaseUnusable("the database URL is not a valid URL") from error
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise DatabaseUnusable(f"unsupported database '{backend}': use sqlite:/// or postgresql://")
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


# How long a write may queue behind this process's other writes on a SQLite file before it
# fails as the database being unusable would (the push keeps its outcomes meanwhile).
WRITER_QUEUE_SECONDS = 60.0


async def open_store(url: str, *, migrate: bool = True, busy_timeout_ms: int = 5000,
                     monotonic: Callable[[], float] = time.monotonic) -> SqlStore:
    """Open (and by default migrate) the database; DatabaseUnusable in one line if it cannot be."""
    driver_url = database_url_for_driver(url)
    parsed = make_url(driver_url)
    path = _sqlite_file(parsed)
    if path is not None:
        # Once at start-up, before the loop has other work: blocking file calls are harmless here.
        _prepare_sqlite_file(path)
    # A file's writer runs each statement in one trip to its thread (bot.storage.onehop), on
    # one connection: SQLite lets one transaction write at a time, and writers queued here
    # take turns at once, where several connections would wait for the file's lock in
    # SQLite's busy handler, which sleeps in steps of up to 100 ms.
    engine = create_async_engine(driver_url, **(
        {"async_creator": one_hop_creator(str(path)), "pool_reset_on_return": None,
         "pool_size": 1, "max_overflow": 0, "pool_timeout": WRITER_QUEUE_SECONDS}
        if path is not None else _server_pool(parsed)))
    reader = None
    point: PointReader | None = None
    if engine.dialect.name == "sqlite":
        _sqlite_tuning(engine, busy_timeout_ms)
        if path is not None:
            # Reads on connections of their own that never take the write lock, so a health
            # check or a due query never waits behind a writer (or another process's lock).
            reader = create_async_engine(driver_url, pool_reset_on_return=None)
            _sqlite_tuning(reader, busy_timeout_ms, writer=False)
            inline = create_engine(parsed.set(drivername="sqlite").render_as_string(
                hide_password=False), pool_size=1, connect_args={"check_same_thread": False})
            # No BEGIN: each statement is its own snapshot, and the statements of one point
            # read run back to back without yielding the loop (see bot.storage.point).
            _sqlite_tuning(inline, busy_timeout_ms, writer=False, begin=False)
            point = PointReader(inline)
    store = SqlStore(engine, reader, point, monotonic=monotonic)
    try:
        try:
            # Connect now, even without migrating: a database that cannot be opened is reported
            # here, in one line, not as a traceback from wherever it is first used.
            async with engine.connect():
                pass
        except (OSError, DBAPIError, sqlite3.Error) as error:
            raise DatabaseUnusable(_open_failure(parsed, path, error, connecting=True)) from error
        try:
            if migrate:
                await store.migrate()
            if path is not None and path.exists():
                await store.ping()  # remembers which file it is
        except (OSError, DBAPIError, sqlite3.Error) as error:
            reason = _open_failure(parsed, path, error, connecting=False)
            if reason is None:
                raise  # a fault of ours (a migration, a query), not of the file or server
            raise DatabaseUnusable(reason) from error
    except BaseException:
        await store.close()
        raise
    return store


# Connections a PostgreSQL engine keeps open. Updates of different chats run concurrently (64 at
# a time by default, bot.adapters.telegram.order), and SQLAlchemy's default pool (5, and 10 more
# that are closed as soon as they come back) made a busy minute reconnect, TLS negotiation
# included, for most statements. Two instances at 16 + 8 stay well inside PostgreSQL's default
# of 100 connections. Last in, first out: the connections in use are those with warm caches.
SERVER_POOL_SIZE = 16
SERVER_POOL_OVERFLOW = 8


def _server_pool(url: URL) -> dict[str, Any]:
    return {"pool_size": SERVER_POOL_SIZE, "max_overflow": SERVER_POOL_OVERFLOW,
            "pool_use_lifo": True} if url.get_backend_name() == "postgresql" else {}


def _sqlite_file(url: URL) -> Path | None:
    """The database file, absolute so that warnings and errors name it whatever the cwd."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(os.path.abspath(Path(url.database).expanduser()))


def make_private_folder(folder: Path) -> None:
    """Create `folder` and any missing parents as 0700; folders that exist are left as they are.

    Path.mkdir(parents=True) would make the parents with the default mode (0755 under the usual
    umask), and those list the database's name to everyone.
    """
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for part in reversed(missing):
        part.mkdir(mode=0o700, exist_ok=True)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database's folder (0700) and an empty database file (0600) when missing.

    Why create the file ourselves rather than set a umask: SQLite creates a new database with
    0644 (less the umask), but it gives the -wal, -shm and -journal files it makes later the
    database file's own mode, whenever it makes them (a -wal is removed and made again as
    connections close and open, long after start-up). So one 0600 database file keeps all of
    them private, with no process-wide umask to set and restore around other threads' files.
    An empty file is a valid empty SQLite database. Files and folders that exist already are
    never changed (they are not ours to change): one warning says how to make them private.
    """
    folder = path.parent
    try:
        folder_existed = folder.exists()
        make_private_folder(folder)
    except OSError as error:
        raise DatabaseUnusable(
            f"cannot open {path}: {os_reason(error)} (creating the folder {folder})") from None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _warn_if_open_to_others(path, folder if folder_existed else None)
        return
    except OSError as error:
        raise DatabaseUnusable(f"cannot open {path}: {os_reason(error)}") from None
    os.close(fd)
    if folder_existed:
        _warn_if_open_to_others(None, folder)


def _warn_if_open_to_others(path: Path | None, folder: Path | None) -> None:
    """One log line when the existing database file or its folder is open to other users."""
    names: list[str] = []
    fixes: list[str] = []
    try:
        if path is not None and path.stat().st_mode & 0o077:
            names.append(str(path))
            fixes.append(f"chmod 600 {path}")
        if folder is not None:
            mode = folder.stat().st_mode
            # A sticky shared folder such as /tmp is meant to be listed by all; `chmod 700`
            # would be the wrong advice there, and the file's own mode is what protects it.
            if mode & 0o066 and not mode & stat.S_ISVTX:
                names.append(f"its folder {folder}" if names else f"the database folder {folder}")
                fixes.append(f"chmod 700 {folder}")
    except OSError:
        return  # SQLite reports an unreadable file in its own words, just after
    if fixes:
        log.warning("%s readable by other users on this machine (the database holds chats and "
                    "their members); make it private: %s", " and ".join(names)
                    + (" are" if len(names) > 1 else " is"), " && ".join(fixes))


_ERRNO_REASONS = {
    errno.EACCES: "permission denied", errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system", errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder", errno.EISDIR: "it is a folder",
    errno.ENOSPC: "no space left on the device", errno.ECONNREFUSED: "connection refused",
}


def os_reason(error: OSError) -> str:
    """An OSError in a few lowercase words, without the path Python repeats in its message."""
    if error.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[error.errno]
    if isinstance(error, TimeoutError):
        return "timed out"
    if error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    return str(error) or type(error).__name__


def _open_failure(url: URL, path: Path | None, error: BaseException, *,
                  connecting: bool) -> str | None:
    """Why the database cannot be opened, in one safe line; None when `error` is not about
    opening (a fault in a migration or a query), so it is raised as it is."""
    if url.get_backend_name() == "sqlite":
        reason = sqlite_reason(path, error) if path is not None else None
        if reason is None:
            if not connecting:
                return None
            reason = driver_message(error)
        return f"cannot open {path if path is not None else url.database}: {reason}"
    cause = _root_cause(error)
    if not connecting and not isinstance(cause, OSError) and not _is_connection_error(cause):
        return None
    # The server's own words ('database "x" does not exist', 'password authentication failed
    # for user "y"') never contain the password; the URL is shown with it masked.
    reason = os_reason(cause) if isinstance(cause, OSError) else driver_message(error)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    where = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    return f"cannot connect to {where}: {reason}"


def sqlite_reason(path: Path, error: BaseException) -> str | None:
    """What is wrong with a SQLite file that SQLite would not open or write, in a few words."""
    message = driver_message(error).lower()
    if "not a database" in message:
        return "not a SQLite database (a corrupt file, or another kind of file)"
    if "malformed" in message:
        return "the database file is corrupt (database disk image is malformed)"
    if isinstance(error, OSError):
        return os_reason(error)
    if not any(words in message for words in (
            "unable to open", "readonly", "read-only", "disk i/o error", "disk is full",
            "authorization denied")):
        return None
    if "disk is full" in message:
        return "no space left on the device"
    if path.is_dir():
        return "it is a folder"
    existing = path if path.exists() else path.parent
    try:
        if os.statvfs(existing).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError as stat_error:
        return os_reason(stat_error)
    if not os.access(existing, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK):
        # SQLite needs to write the file and to make its -wal and -shm beside it.
        return "permission denied"
    return message


def _root_cause(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "orig", None) or error.__cause__
        if inner is None:
            break
        error = inner
    return error


def driver_message(error: BaseException) -> str:
    """The driver's message alone: SQLAlchemy's adds the SQL and a link to its docs."""
    cause = _root_cause(error)
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return text.removeprefix("(sqlite3.OperationalError) ")


def _is_connection_error(error: BaseException) -> bool:
    """Errors of asyncpg's that mean the server or its login refused us."""
    name = type(error).__name__
    return name in ("InvalidCatalogNameError", "InvalidPasswordError",
                    "InvalidAuthorizationSpecificationError", "ConnectionDoesNotExistError",
                    "CannotConnectNowError", "TooManyConnectionsError",
                    "ConnectionFailureError", "ClientCannotConnectError")


def _sqlite_tuning(engine: AsyncEngine | Engine, busy_timeout_ms: int, *,
                   writer: bool = True, begin: bool = True) -> None:
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed claim survives a power cut or a file system gone read-only; with
        # NORMAL the last commits can vanish with the WAL, and their posts go out twice.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not writer:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    if isinstance(engine, AsyncEngine):
        @event.listens_for(sync, "reset")
        def _on_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
            # Instead of the pool's unconditional rollback when a connection comes back (with
            # pool_reset_on_return=None): after a commit there is nothing to roll back, and
            # asking would be one more trip to the connection's thread. A transaction still
            # open (a failed COMMIT, say) is rolled back as before.
            if state.terminate_only or state.transaction_was_reset:
                return
            raw = dbapi_connection._connection._connection  # aiosqlite's sqlite3 connection
            if raw is not None and raw.in_transaction:
                dbapi_connection.rollback()

    if not begin:
        return

    @event.listens_for(sync, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: read-then-write transactions never fail half
        # way. Readers start a plain transaction: one snapshot, no lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


# How long a user's row id and display name are trusted without a look at the database, when
# other processes may write it (PostgreSQL). The id never changes; the name only matters if it is
# changed and changed back within this time through another instance, which then keeps the other
# name until the next press after it (names are shown on /top boards only).
USER_TTL_SECONDS = 60.0
CACHE_ENTRIES = 100_000  # beyond this a cache starts over rather than grow without bound


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Remembered(Generic[K, V]):
    """Rows remembered while this process alone writes the database (hold_sole_lock), where
    every change to them goes through this store, which forgets them all (changes are rare).

    Take `since()` before reading a row and pass it to `keep` after: a read that began before a
    change is then not kept after it.
    """

    __slots__ = ("_changes", "_rows")

    def __init__(self) -> None:
        self._rows: dict[K, V] = {}
        self._changes = 0  # bumped by every forget()

    def get(self, key: K) -> V | None:
        return self._rows.get(key)

    def since(self) -> int:
        return self._changes

    def keep(self, since: int, *pairs: tuple[K, V]) -> None:
        if since != self._changes:
            return
        if len(self._rows) >= CACHE_ENTRIES:
            self._rows.clear()
        self._rows.update(pairs)

    def forget(self) -> None:
        self._changes += 1
        self._rows.clear()

    def drop(self, key: K) -> None:
        """Forget one row; reads of any row begun before this are not kept either."""
        self._changes += 1
        self._rows.pop(key, None)


class SqlStore(PushStoreMixin, ReviewStoreMixin, PrivacyStoreMixin, TogetherStoreMixin,
               ProgressStoreMixin):
    def __init__(self, engine: AsyncEngine, reader: AsyncEngine | None = None,
                 point: Reads | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.reader = reader or engine  # scans: never on the writer's connection
        # Reads by index (see bot.storage.point). On PostgreSQL they run in autocommit: a
        # transaction around one statement is two more round trips (BEGIN, ROLLBACK) to the
        # server for the same snapshot.
        self.point: Reads = point or (
            self.reader.execution_options(isolation_level="AUTOCOMMIT")
            if self.reader.dialect.name == "postgresql" else self.reader)
        self._lock_fd: int | None = None
        self._identity: tuple[int, int] | None = None  # the SQLite file's device and inode
        self._postgres = engine.dialect.name == "postgresql"
        self._monotonic = monotonic
        # Chats as last read or written, by ref and by pk, the days' questions presses ask for
        # and members' study days in a chat, while this process alone writes the database or,
        # on PostgreSQL, while it hears what other instances change (bot.storage.feed). Without
        # either, a chat's language or schedule may change anywhere and a press must see that
        # at once: they are then always read.
        self._chats: Remembered[ChatRef | int, Chat] = Remembered()
        self._chat_days: Remembered[int, ChatDay] = Remembered()
        self._member_days: Remembered[tuple[int, int], tuple[dt.date, ...]] = Remembered()
        # (platform, user id) → (row id, display name, when read): see USER_TTL_SECONDS.
        self._users: dict[tuple[str, str], tuple[int, str, float]] = {}
        self._users_changes = 0  # like Remembered's: a read begun before a change is not kept
        self._feed: ChangeFeed | None = None
        # Told when another instance starts or stops (heard on the feed).
        self.on_instances_changed: Callable[[], None] | None = None

    # ----- lifecycle --------------------------------------------------------------------------

    async def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision`, upgrading an existing database in place."""
        async with self.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(_alembic_config(c), revision))

    async def schema_revision(self) -> str | None:
        async with self.reader.connect() as conn:
            return await conn.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision())

    async def follow_changes(self) -> bool:
        """On PostgreSQL, hear what other instances change, and remember rows meanwhile (a
        running bot does this; one-off commands need not). False elsewhere, or when the schema
        has no change triggers yet."""
        if not self._postgres or self._feed is not None:
            return self._feed is not None
        feed = ChangeFeed(self.engine.url.render_as_string(hide_password=False),
                          self._changed_elsewhere, self._forget_everything)
        if not await feed.start():
            return False
        self._feed = feed
        return True

    def _changed_elsewhere(self, notice: str) -> None:
        kind, _, key = notice.partition(":")
        if kind == "study_days" and key:
            chat_pk, _, user_pk = key.partition(":")
            self._member_days.drop((int(chat_pk), int(user_pk)))
        elif kind == "study_days":  # the table was emptied
            self._member_days.forget()
        elif kind == "chats":
            self._chats.forget()
        elif kind == "chat_days":
            self._chat_days.forget()
        elif kind == "users":
            self._forget_users()
        elif kind == "instances":
            if self.on_instances_changed is not None:
                self.on_instances_changed()
        else:  # a notice of a later schema: whatever it names may be remembered
            self._forget_everything()

    def _forget_everything(self) -> None:
        self._chats.forget()
        self._chat_days.forget()
        self._member_days.forget()
        self._forget_users()

    def _forget_member_days(self, chat_pk: int | None, user_pk: int) -> None:
        """After a commit that counted a study day: at once, as the feed's notice of it (on
        PostgreSQL) arrives a moment after the commit."""
        if chat_pk is not None:
            self._member_days.drop((chat_pk, user_pk))

    def _forget_users(self) -> None:
        self._users_changes += 1
        self._users.clear()

    async def close(self) -> None:
        if self._feed is not None:
            await self._feed.close()
            self._feed = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the file releases the lock
            self._lock_fd = None
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()
        if isinstance(self.point, PointReader):  # PostgreSQL's shares the engine's pool
            await self.point.dispose()

    def hold_sole_lock(self) -> bool:
        """For a SQLite file: hold a lock that says this process alone runs the bot on it.

        True when held (so every claim another run left open was cut off and can be sent again
        at once); False for other databases, where instances show they are alive by heartbeat.
        Raises StoreError when another process holds it.
        """
        path = self.sqlite_path
        if path is None:
            return False
        import fcntl

        lock_path = path.with_name(path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise DatabaseUnusable(f"cannot open {lock_path}: {os_reason(error)}") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(f"another studybot process is using {path}; stop it first "
                             "(several instances need PostgreSQL)") from None
        self._lock_fd = fd
        return True

    def sync_engines(self) -> set[Engine]:
        """Every engine statements run on (writer, reader, point reads): for counting them."""
        engines = {self.engine.sync_engine, self.reader.sync_engine}
        if isinstance(self.point, PointReader):
            engines.add(self.point.engine)
        return engines

    @property
    def _sole(self) -> bool:
        """Whether what this process remembers cannot go stale: it alone writes the database,
        or it hears every change the others make (see bot.storage.feed)."""
        return self._lock_fd is not None or (self._feed is not None and self._feed.live)

    # ----- operations: health, metrics, backup ------------------------------------------------

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite on disk, else None."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database).expanduser()

    async def ping(self) -> None:
        """Raise unless the database answers. A SQLite file deleted under a running bot counts as
        gone: writes would land in an unlinked file and vanish at the next start."""
        path = self.sqlite_path
        if path is not None:
            try:
                stat = path.stat()
            except FileNotFoundError:
                raise StoreError(f"the database file {path} is missing") from None
            # A new connection after a deletion makes an empty file of the same name.
            identity = (stat.st_dev, stat.st_ino)
            if self._identity is None:
                self._identity = identity
            elif identity != self._identity:
                raise StoreError(f"the database file {path} is missing (replaced by another)")
        async with self.reader.connect() as conn:
            await conn.execute(select(1))

    async def subscription_counts(self) -> dict[str, int]:
        """Active subscriptions per platform (what is due is `due_count`'s, asked more often)."""
        async with self.reader.connect() as conn:
            rows = (await conn.execute(
                select(chats.c.platform, func.count()).select_from(
                    subscriptions.join(chats, subscriptions.c.chat_pk == chats.c.pk)).where(
                    subscriptions.c.active.is_(True)).group_by(chats.c.platform))).all()
        return {str(platform): int(count) for platform, count in rows}

    def _insert(self, table: Any) -> Insert:
        if self._postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    # ----- bot state --------------------------------------------------------------------------

    async def payload_secret(self) -> bytes:
        """The key that signs button payloads, made once and kept so old buttons keep working."""
        async with self.engine.begin() as conn:
            stmt = self._insert(bot_state).values(key="payload_secret",
                                                  value=secrets.token_hex(32))
            await conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            value = await conn.scalar(
                select(bot_state.c.value).where(bot_state.c.key == "payload_secret"))
        return bytes.fromhex(value)

    # ----- chats and users --------------------------------------------------------------------

    async def ensure_chat(
        self, ref: ChatRef, kind: ChatKind, *, language: str, timezone: str, title: str = ""
    ) -> Chat:
        """The chat, created with these settings (and title) if it is new, in one write. A known
        chat costs a read (or nothing, when remembered), never a write transaction."""
        known = await self.get_chat(ref)
        if known is not None:
            return known
        since = self._chats.since()
        async with self.engine.begin() as conn:
            stmt = self._insert(chats).values(
                platform=ref.platform, chat_id=ref.chat_id, thread_id=ref.thread_id,
                kind=kind.value, language=language, timezone=timezone, title=title[:128],
                created_at=_now())
            await conn.execute(stmt.on_conflict_do_nothing(
                index_elements=["platform", "chat_id", "thread_id"]))
            row = (await conn.execute(select(chats).where(_chat_is(ref)))).one()
        return self._keep_chat(_chat(row), since)

    async def get_chat(self, ref: ChatRef) -> Chat | None:
        return await self._read_chat(ref)

    async def get_chat_by_pk(self, chat_pk: int) -> Chat | None:
        return await self._read_chat(chat_pk)

    async def _read_chat(self, key: ChatRef | int) -> Chat | None:
        known = self._chats.get(key)
        if known is not None:
            return known
        since = self._chats.since()
        async with self.point.connect() as conn:
            if isinstance(key, int):
                found = await conn.execute(_CHAT_BY_PK, {"pk": key})
            else:
                found = await conn.execute(_CHAT_BY_REF, {
                    "platform": key.platform, "chat_id": key.chat_id, "thread_id": key.thread_id})
            row = found.one_or_none()
        return self._keep_chat(_chat(row), since) if row else None

    def _keep_chat(self, chat: Chat, since: int) -> Chat:
        if self._sole:
            self._chats.keep(since, (chat.ref, chat), (chat.pk, chat))
        return chat

    async def set_chat_language(self, chat_pk: int, language: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(chats).where(chats.c.pk == chat_pk).values(language=language))
        self._chats.forget()

    async def set_chat_timezone(self, chat_pk: int, timezone: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(chats).where(chats.c.pk == chat_pk).values(timezone=timezone))
        self._chats.forget()

    async def set_chat_title(self, chat_pk: int, title: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(chats).where(chats.c.pk == chat_pk).values(
                title=title[:128]))
        self._chats.forget()

    async def set_chat_selection(
        self, chat_pk: int, *, packs: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Store what the chat studies; None leaves that part as it is, () means everything."""
        values: dict[str, str] = {}
        if packs is not None:
            values["packs"] = _joined(packs)
        if tags is not None:
            values["tags"] = _joined(tags)
        if not values:
            return
        async with self.engine.begin() as conn:
            await conn.execute(update(chats).where(chats.c.pk == chat_pk).values(**values))
        self._chats.forget()

    async def move_chat(self, old: ChatRef, new: ChatRef) -> None:
        """Point everything of `old` at `new` (a Telegram group that became a supergroup)."""
        try:
            await self._move_chat(old, new)
        finally:
            self._chats.forget()

    async def _move_chat(self, old: ChatRef, new: ChatRef) -> None:
        async with self.engine.begin() as conn:
            target = await conn.scalar(select(chats.c.pk).where(_chat_is(new)))
            source = await conn.scalar(select(chats.c.pk).where(_chat_is(old)))
            if source is None:
                return
            if target is None:
                await conn.execute(update(chats).where(chats.c.pk == source).values(
                    chat_id=new.chat_id, thread_id=new.thread_id))
                return
            # Both exist (someone used the new chat first): the new one takes the schedule.
            has_sub = await conn.scalar(
                select(subscriptions.c.pk).where(subscriptions.c.chat_pk == target))
            if has_sub is None:
                await conn.execute(update(subscriptions).where(
                    subscriptions.c.chat_pk == source).values(chat_pk=target))

    def _forget_remembered(self, user: UserRef) -> None:
        """A user and their private chat were deleted: nothing remembered may name them."""
        self._forget_everything()

    async def find_user(self, user: UserRef) -> int | None:
        """The user's key, or None when nothing is stored about them (never creates one)."""
        async with self.point.connect() as conn:
            return await conn.scalar(select(users.c.pk).where(
                users.c.platform == user.platform, users.c.user_id == user.user_id))

    async def ensure_user(self, user: UserRef) -> int:
        """The user's row id; their display name is written only when it changed."""
        name = user.display_name[:128]
        key = (user.platform, user.user_id)
        now = self._monotonic()
        known = self._users.get(key)
        if known is not None and (not name or known[1] == name) and (
                self._sole or now - known[2] < USER_TTL_SECONDS):
            return known[0]
        since = self._users_changes
        async with self.point.connect() as conn:
            row = (await conn.execute(_USER_BY_REF, {
                "platform": user.platform, "user_id": user.user_id})).one_or_none()
        if row is not None and (not name or row.display_name == name):
            pk, name = int(row.pk), row.display_name
        else:
            async with self.engine.begin() as conn:
                stmt = self._insert(users).values(platform=user.platform, user_id=user.user_id,
                                                  display_name=name, created_at=_now())
                stmt = stmt.on_conflict_do_update(
                    index_elements=["platform", "user_id"], set_={"display_name": name},
                    where=users.c.display_name != name) if name else stmt.on_conflict_do_nothing(
                    index_elements=["platform", "user_id"])
                await conn.execute(stmt)
                found = await conn.scalar(select(users.c.pk).where(
                    users.c.platform == user.platform, users.c.user_id == user.user_id))
            assert found is not None
            pk = int(found)
        if since != self._users_changes:
            return pk  # changed meanwhile, maybe this very row: read it again next time
        if len(self._users) >= CACHE_ENTRIES:
            self._users.clear()
        self._users[key] = (pk, name, now)
        return pk

    # ----- subscriptions ----------------------------------------------------------------------

    async def subscribe(
        self, chat_pk: int, local_time: dt.time, timezone: str, next_run_at: dt.datetime
    ) -> Subscription:
        values = {"local_time": local_time.strftime("%H:%M"), "active": True,
                  "paused_reason": "", "next_run_at": next_run_at, "updated_at": _now()}
        async with self.engine.begin() as conn:
            stmt = self._insert(subscriptions).values(chat_pk=chat_pk, **values)
            await conn.execute(stmt.on_conflict_do_update(index_elements=["chat_pk"], set_=values))
            row = (await conn.execute(_subscription_query().where(
                subscriptions.c.chat_pk == chat_pk))).one()
        return _subscription(row)

    async def get_subscription(self, chat_pk: int) -> Subscription | None:
        async with self.point.connect() as conn:
            row = (await conn.execute(_subscription_query().where(
                subscriptions.c.chat_pk == chat_pk))).one_or_none()
        return _subscription(row) if row else None

    async def unsubscribe(self, chat_pk: int) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(update(subscriptions).where(
                subscriptions.c.chat_pk == chat_pk, subscriptions.c.active.is_(True)).values(
                active=False, paused_reason="unsubscribed", updated_at=_now()))
        return bool(result.rowcount)

    async def pause_subscription(self, subscription_pk: int, reason: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(subscriptions).where(
                subscriptions.c.pk == subscription_pk).values(
                active=False, paused_reason=reason[:500], updated_at=_now()))

    async def pause_chat(self, ref: ChatRef, reason: str) -> int:
        """Pause every subscription of a chat; an empty thread id means all its threads."""
        where = [chats.c.platform == ref.platform, chats.c.chat_id == ref.chat_id]
        if ref.thread_id:
            where.append(chats.c.thread_id == ref.thread_id)
        async with self.engine.begin() as conn:
            result = await conn.execute(update(subscriptions).where(
                subscriptions.c.active.is_(True),
                subscriptions.c.chat_pk.in_(select(chats.c.pk).where(*where))).values(
                active=False, paused_reason=reason[:500], updated_at=_now()))
        return int(result.rowcount or 0)

    async def delivery_states(self, subscription_pk: int) -> dict[dt.date, tuple[str, int]]:
        async with self.point.connect() as conn:
            rows = (await conn.execute(select(
                deliveries.c.local_date, deliveries.c.state, deliveries.c.attempts).where(
                deliveries.c.subscription_pk == subscription_pk))).all()
        return {r.local_date: (r.state, r.attempts) for r in rows}

    # ----- questions of the day ---------------------------------------------------------------

    async def chat_day(self, chat_pk: int, local_date: dt.date) -> ChatDay | None:
        async with self.point.connect() as conn:
            row = (await conn.execute(select(chat_days).where(
                chat_days.c.chat_pk == chat_pk, chat_days.c.local_date == local_date,
            ))).one_or_none()
        return _chat_day(row) if row else None

    async def get_chat_day(self, chat_day_pk: int) -> ChatDay | None:
        """A day's question by id (every press asks): remembered while this process alone
        writes, as a day never changes; prune, the one thing that deletes days, forgets them."""
        known = self._chat_days.get(chat_day_pk)
        if known is not None:
            return known
        since = self._chat_days.since()
        async with self.point.connect() as conn:
            row = (await conn.execute(select(chat_days).where(
                chat_days.c.pk == chat_day_pk))).one_or_none()
        if row is None:
            return None
        day = _chat_day(row)
        if self._sole:
            self._chat_days.keep(since, (day.pk, day))
        return day

    def _forget_chat_days(self) -> None:
        self._chat_days.forget()

    async def used_questions(self, chat_pk: int) -> tuple[int, set[str]]:
        """The chat's current cycle and the questions it has had in that cycle."""
        async with self.point.connect() as conn:
            cycle = await conn.scalar(select(func.max(chat_days.c.cycle)).where(
                chat_days.c.chat_pk == chat_pk))
            if cycle is None:
                return 0, set()
            ids = (await conn.execute(select(chat_days.c.question_id).where(
                chat_days.c.chat_pk == chat_pk, chat_days.c.cycle == cycle))).scalars().all()
        return int(cycle), set(ids)

    async def add_chat_day(
        self, chat_pk: int, local_date: dt.date, question_id: str, cycle: int
    ) -> ChatDay:
        async with self.engine.begin() as conn:
            stmt = self._insert(chat_days).values(chat_pk=chat_pk, local_date=local_date,
                                                  question_id=question_id, cycle=cycle,
                                                  created_at=_now())
            await conn.execute(stmt.on_conflict_do_nothing(
                index_elements=["chat_pk", "local_date"]))
            row = (await conn.execute(select(chat_days).where(
                chat_days.c.chat_pk == chat_pk, chat_days.c.local_date == local_date))).one()
        return _chat_day(row)

    # ----- reveals, grades, the ledger --------------------------------------------------------

    async def record_reveal(self, chat_day_pk: int, user_pk: int, now: dt.datetime) -> None:
        async with self.engine.begin() as conn:
            stmt = self._insert(reveals).values(chat_day_pk=chat_day_pk, user_pk=user_pk,
                                                revealed_at=now)
            await conn.execute(stmt.on_conflict_do_nothing(
                index_elements=["chat_day_pk", "user_pk"]))

    async def record_grade(
        self, chat_day_pk: int, user_pk: int, grade: Grade, now: dt.datetime,
        study_day: dt.date, zone: str, *, chat_pk: int | None = None,
        card: CardWrite | None = None,
    ) -> GradeOutcome:
        """Keep the member's latest grade, and their review `card` with it (one transaction).
        Only a question's first grade counts the study day (once per day): grading an old post
        again never keeps a streak alive."""
        async with self.engine.begin() as conn:
            if card is not None:
                await conn.execute(self.card_upsert(user_pk, card.question_id, card.values, now))
            before = await conn.scalar(select(grades.c.grade).where(
                grades.c.chat_day_pk == chat_day_pk, grades.c.user_pk == user_pk))
            stmt = self._insert(grades).values(chat_day_pk=chat_day_pk, user_pk=user_pk,
                                               grade=grade.value, graded_at=now)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["chat_day_pk", "user_pk"],
                set_={"grade": grade.value, "graded_at": now}))
            if before is not None:
                return GradeOutcome.CHANGED
            if chat_pk is None:  # the ledger of the chat the question was posted in
                chat_pk = await conn.scalar(select(chat_days.c.chat_pk).where(
                    chat_days.c.pk == chat_day_pk))
            ledger = self._insert(study_days).values(
                chat_pk=chat_pk, user_pk=user_pk, day=study_day, counted_at=now, zone=zone,
                chat_day_pk=chat_day_pk)
            result = await conn.execute(ledger.on_conflict_do_nothing(
                index_elements=["chat_pk", "user_pk", "day"]))
        self._forget_member_days(chat_pk, user_pk)
        return GradeOutcome.COUNTED if result.rowcount else GradeOutcome.ALREADY_COUNTED

    async def study_days(self, chat_pk: int, user_pk: int) -> tuple[dt.date, ...]:
        """The member's counted days in the chat, oldest first (every /streak and grade asks)."""
        key = (chat_pk, user_pk)
        known = self._member_days.get(key)
        if known is not None:
            return known
        since = self._member_days.since()
        async with self.point.connect() as conn:
            days = tuple((await conn.execute(
                _MEMBER_DAYS, {"chat_pk": chat_pk, "user_pk": user_pk})).scalars().all())
        if self._sole:
            self._member_days.keep(since, (key, days))
        return days

    async def chat_members_days(
        self, chat_pk: int
    ) -> Sequence[tuple[UserRef, tuple[dt.date, ...]]]:
        async with self.reader.connect() as conn:
            rows = (await conn.execute(select(
                users.c.pk, users.c.platform, users.c.user_id, users.c.display_name,
                study_days.c.day).select_from(study_days.join(users)).where(
                study_days.c.chat_pk == chat_pk, ~_hidden(chat_pk)).order_by(
                users.c.pk, study_days.c.day))).all()
        members: dict[int, tuple[UserRef, list[dt.date]]] = {}
        for r in rows:
            entry = members.setdefault(r.pk, (UserRef(r.platform, r.user_id, r.display_name), []))
            entry[1].append(r.day)
        return [(user, tuple(days)) for user, days in members.values()]


def _hidden(chat_pk: int) -> Any:
    """Whether the study day's member keeps off the chat's leaderboard (/top hide)."""
    return select(board_hidden.c.user_pk).where(
        board_hidden.c.chat_pk == chat_pk,
        board_hidden.c.user_pk == study_days.c.user_pk).exists()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The reads every command and press makes, built once: building and keying a statement costs
# more than running it on an index.
_CHAT_BY_PK = select(chats).where(chats.c.pk == bindparam("pk"))
_CHAT_BY_REF = select(chats).where(
    chats.c.platform == bindparam("platform"), chats.c.chat_id == bindparam("chat_id"),
    chats.c.thread_id == bindparam("thread_id"))
_USER_BY_REF = select(users.c.pk, users.c.display_name).where(
    users.c.platform == bindparam("platform"), users.c.user_id == bindparam("user_id"))
_MEMBER_DAYS = select(study_days.c.day).where(
    study_days.c.chat_pk == bindparam("chat_pk"),
    study_days.c.user_pk == bindparam("user_pk")).order_by(study_days.c.day)


def _chat_is(ref: ChatRef) -> Any:
    return and_(chats.c.platform == ref.platform, chats.c.chat_id == ref.chat_id,
                chats.c.thread_id == ref.thread_id)


def _chat(row: Any) -> Chat:
    return Chat(pk=row.pk, ref=ChatRef(row.platform, row.chat_id, row.thread_id),
                kind=ChatKind(row.kind), language=row.language, timezone=row.timezone,
                packs=tuple(row.packs.split()), tags=tuple(row.tags.split()),
                # Queries that select the chat's columns one by one may leave the name out.
                title=getattr(row, "title", ""))


def _joined(ids: Sequence[str]) -> str:
    # Pack ids and tags never contain spaces (the content checker enforces their pattern).
    if any(not part or part != "".join(part.split()) for part in ids):
        raise ValueError("pack ids and tags must be non-empty and without whitespace")
    return " ".join(dict.fromkeys(ids))


_SUBSCRIPTION_COLUMNS = (
    subscriptions.c.pk.label("sub_pk"), subscriptions.c.local_time, subscriptions.c.active,
    subscriptions.c.next_run_at, subscriptions.c.paused_reason, chats.c.pk, chats.c.platform,
    chats.c.chat_id, chats.c.thread_id, chats.c.kind, chats.c.language, chats.c.timezone,
    chats.c.packs, chats.c.tags, chats.c.title,
)


def _subscription_query() -> Any:
    return select(*_SUBSCRIPTION_COLUMNS).select_from(subscriptions.join(chats))


def _subscription(row: Any) -> Subscription:
    hours, minutes = row.local_time.split(":")
    return Subscription(
        pk=row.sub_pk, chat=_chat(row), local_time=dt.time(int(hours), int(minutes)),
        active=bool(row.active), next_run_at=row.next_run_at,
        paused_reason=row.paused_reason)


def _chat_day(row: Any) -> ChatDay:
    return ChatDay(pk=row.pk, chat_pk=row.chat_pk, local_date=row.local_date,
                   question_id=row.question_id)
