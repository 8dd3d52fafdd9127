"""An open SQLite store, and the registry that shares one store between clients.

Clients opened on the same path (or the ephemeral store) from the same event loop share one
`Store`, as Chroma shares one system per path. The store closes when its last client closes,
or at interpreter exit.

Any number of processes may open one persistent path and read and write it at once:

- Opening (connecting, setting the PRAGMAs, migrating the schema) runs under an inter-process
  lock on `<path>/achroma.lock`, and each migration step re-reads the schema version inside
  its own write transaction, so however many processes race to open a new path, the schema is
  made once. A failed open closes its connection and releases the lock before raising.
- SQLite allows one writer at a time across processes. A write waits for the others (SQLite's
  busy handler, then retries with backoff up to `BUSY_DEADLINE`), so users never see
  `database is locked`; a sqlite3 error that does escape becomes an `InternalError` naming
  the path.
- WAL mode: readers never wait for writers, and every read sees every transaction committed
  (by any process) before it began.
- Reads of a persistent store go through read-only connections of their own (`READERS`, each
  with its own aiosqlite thread), the least busy one each time: a slow read (a `$regex` scan
  of a large collection) holds up neither the writer nor the reads on the other connections,
  and a read never sees a write transaction half done. Writes keep the one writer connection.
  The in-memory store has one connection for everything.
- A read is one hand-off to a connection's thread however many statements it makes:
  `Store.run(fn, ...)` runs a plain function there with the thread's `sqlite3.Connection`
  (the executor checks a collection's state, searches its index and fetches the rows in one
  call), because each hand-off costs more than the statements themselves.
- A read known to cost less than a hand-off (an unfiltered nearest-neighbour query, a get of
  a few ids, a count) takes none while it is the only read: `Store.run_inline` runs it on the
  event loop's thread, with a read-only connection of the loop's own, then yields to the loop
  once. Blocking the loop for a fraction of a millisecond costs less than the hop, which here
  costs more than the read; when other reads are in flight, it is handed off as any other,
  so concurrent reads still run on the read connections' threads in parallel. That
  connection never waits for a lock (busy_timeout 0): a busy read is handed off instead.

A store whose directory is deleted while it is open (a test's TemporaryDirectory) writes
nothing there again: `vanished()` notices, logs one warning, and close saves nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite
import anyio

from achroma.engine.filelock import FileLock
from achroma.engine.filter_sql import regex_timeout, regexp
from achroma.engine.migrations import migrate
from achroma.errors import InternalError

logger = logging.getLogger("achroma")

T = TypeVar("T")
P = ParamSpec("P")

DB_FILE = "achroma.sqlite3"
# Taken (by every process) while a store is opened and its schema migrated.
LOCK_FILE = "achroma.lock"
# How long an open waits for other processes' opens (each holds the lock for milliseconds,
# or as long as a migration takes) before it gives up.
OPEN_LOCK_TIMEOUT = 120.0

# How long SQLite's own busy handler waits for another connection's lock, per statement.
BUSY_TIMEOUT_MS = 10_000
# How long a write (or an open) keeps retrying while another process holds the database
# (a long write, a checkpoint, WAL recovery after a crash) before it gives up.
BUSY_DEADLINE = 60.0
# Backoff between retries, in seconds (with jitter, so racing processes spread out).
_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.25

# The page size of a new database file, in bytes (SQLite's default is 4096). Override it
# with ACHROMA_PAGE_SIZE (benchmarks compare sizes).
PAGE_SIZE = int(os.environ.get("ACHROMA_PAGE_SIZE", "16384"))

# Read-only connections of a persistent store: enough for a slow read or two beside the
# ordinary ones, each one thread.
READERS = 3

# SQLITE_BUSY (with its extended codes BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT) and
# SQLITE_PROTOCOL (a WAL lock race SQLite gave up retrying): both mean "try again".
_RETRYABLE = {5, 15}
_RETRYABLE_MESSAGES = ("database is locked", "locking protocol")


def is_busy(exc: BaseException) -> bool:
    """Whether a sqlite3 error only says another connection holds a lock right now."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in _RETRYABLE
    return str(exc).startswith(_RETRYABLE_MESSAGES)


class _Reader(aiosqlite.Connection):
    """A read-only connection that counts the calls queued on its thread (every call of an
    aiosqlite connection or its cursors goes through `_execute`)."""

    pending = 0

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.pending += 1
        try:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            self.pending -= 1


class Store:
    """The writer connection with its write lock, and the read connections; all SQL of one
    engine goes through them."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: Path | None,
        identity: tuple[int, int] | None = None,
        readers: Sequence[_Reader] = (),
        inline: sqlite3.Connection | None = None,
    ) -> None:
        self.writer = db
        self.readers = list(readers)
        self._inline = inline
        self._inline_busy = False
        self.path = path
        self.write_lock = anyio.Lock()
        self.closed = False
        # The database file (absolute: the process may chdir) and its (st_dev, st_ino) when
        # it was opened.
        self._db_file = os.path.abspath(path / DB_FILE) if path is not None else None
        self._identity = identity
        self._vanished = False

    @property
    def db(self) -> aiosqlite.Connection:
        """The connection for the next read statement: the least busy reader (the writer when
        the store has none). Writes go through `transaction()`."""
        if not self.readers:
            return self.writer
        return min(self.readers, key=lambda r: r.pending)

    @property
    def where(self) -> str:
        """The store, for messages."""
        return f"the store at {self.path}" if self.path is not None else "the in-memory store"

    # --- opening ---

    @classmethod
    async def open(cls, path: Path | None) -> Store:
        """Open the store at `path` (None: in memory), creating and migrating it if needed."""
        if path is None:
            return await cls._connect(None)
        path.mkdir(parents=True, exist_ok=True)
        try:
            async with FileLock(path / LOCK_FILE, timeout=OPEN_LOCK_TIMEOUT):
                return await cls._connect(path)
        except TimeoutError as exc:
            raise InternalError(
                f"could not open the store at {path}: another process has held "
                f"{path / LOCK_FILE} for {OPEN_LOCK_TIMEOUT:g} s"
            ) from exc

    @classmethod
    async def _connect(cls, path: Path | None) -> Store:
        where = f"the store at {path}" if path is not None else "the in-memory store"
        db: aiosqlite.Connection | None = None
        readers: list[_Reader] = []
        inline: sqlite3.Connection | None = None
        try:
            target = ":memory:" if path is None else path / DB_FILE
            db = await aiosqlite.connect(target, isolation_level=None)
            conn = db
            # busy_timeout first: journal_mode on a new file may already wait for a lock.
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            identity = None
            if path is not None:
                # A new file's page size, set before its first table and before WAL mode
                # (which fixes it); on an existing file it changes nothing.
                await conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                await retry_busy(where, lambda: conn.execute("PRAGMA journal_mode = WAL"))
                # NORMAL in WAL mode: a committed transaction survives a process crash
                # (kill -9); only an OS crash or power loss can drop the last commits.
                await conn.execute("PRAGMA synchronous = NORMAL")
                st = os.stat(path / DB_FILE)
                identity = (st.st_dev, st.st_ino)
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.create_function("regexp", 2, regexp, deterministic=True)
            await retry_busy(where, lambda: migrate(conn))
            if path is not None:
                for _ in range(READERS):
                    readers.append(await _open_reader(path / DB_FILE))
                inline = _open_inline_reader(path / DB_FILE)
        except BaseException as exc:
            if inline is not None:
                inline.close()
            for reader in readers:
                await _close_quietly(reader)
            if db is not None:
                await _close_quietly(db)
            if isinstance(exc, sqlite3.Error):
                raise InternalError(f"could not open {where}: {exc}") from exc
            raise
        return cls(db, path, identity, readers, inline)

    # --- reading and writing ---

    async def run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`fn(connection, *args)` on the thread of the least busy read connection (see
        `call`), retried while busy."""
        db = self.db
        if not isinstance(db, _Reader):
            return await retry_busy(self.where, lambda: call(db, fn, *args, **kwargs))
        # Counted from now, not from when `call`'s task first runs: reads started together
        # must not all pick the same connection.
        db.pending += 1
        try:
            return await retry_busy(self.where, lambda: call(db, fn, *args, **kwargs))
        finally:
            db.pending -= 1

    async def run_inline(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(connection, *args)` on the event loop's own thread when no other read is in
        flight (then one yield to the loop), else as `run` does. Only for reads that cost
        less than a hand-off: the loop waits for `fn`."""
        conn = self._inline
        if conn is None or self._inline_busy or any(r.pending for r in self.readers):
            return await self.run(fn, *args, **kwargs)
        self._inline_busy = True
        try:
            try:
                result = fn(conn, *args, **kwargs)
            except sqlite3.OperationalError as exc:
                if (timed_out := regex_timeout(exc)) is not None:
                    raise timed_out from None
                if not is_busy(exc):
                    raise
            else:
                # Reads started while this one ran see it busy and go to the threads; the
                # loop serves whatever else is waiting before the caller goes on.
                await asyncio.sleep(0)
                return result
        finally:
            self._inline_busy = False
        return await self.run(fn, *args, **kwargs)  # busy: wait for the lock on a thread

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """All rows of one read statement, retried while another process holds a lock that
        blocks it (rare in WAL mode: WAL recovery after a crash, a closing last connection);
        a sqlite3 error becomes an `InternalError`."""
        try:
            rows: Iterable[Any] = await retry_busy(
                self.where, lambda: self.db.execute_fetchall(sql, params)
            )
        except sqlite3.Error as exc:
            raise self._error("reading", exc) from exc
        return list(rows)

    @contextlib.asynccontextmanager
    async def transaction(self, locked: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: serialised in this process (and, by SQLite, with every other
        process), committed or rolled back whole.

        `locked=True` when the caller already holds `write_lock` (to keep it past the commit).
        A sqlite3 error escaping the body (after the rollback) becomes an `InternalError`.
        """
        async with contextlib.AsyncExitStack() as stack:
            if not locked:
                await stack.enter_async_context(self.write_lock)
            await self._begin()
            try:
                yield self.writer
            except BaseException as exc:
                with anyio.CancelScope(shield=True):
                    await self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise self._error("writing", exc) from exc
                raise
            else:
                with anyio.CancelScope(shield=True):
                    await self._commit()

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE (take SQLite's write lock now, so no statement of the
        transaction can fail busy later), retried while another process writes."""

        async def begin() -> None:
            # Shielded: a BEGIN abandoned half-way would still run in aiosqlite's thread and
            # leave a transaction open that nobody ends, locking out every other process.
            with anyio.CancelScope(shield=True):
                await self.writer.execute("BEGIN IMMEDIATE")

        try:
            await retry_busy(self.where, begin)
        except sqlite3.Error as exc:
            raise self._error("writing", exc) from exc

    async def _commit(self) -> None:
        """COMMIT, retried while busy (a failed COMMIT leaves the transaction open, so it can
        be retried); rolled back and raised as an `InternalError` if it cannot commit."""

        async def commit() -> None:
            await self.writer.execute("COMMIT")

        try:
            await retry_busy(self.where, commit, still_valid=lambda: self.writer.in_transaction)
        except sqlite3.Error as exc:
            await self._rollback()
            raise self._error("writing", exc) from exc

    async def _rollback(self) -> None:
        try:
            if self.writer.in_transaction:
                await self.writer.execute("ROLLBACK")
        except (sqlite3.Error, ValueError):  # SQLite may have rolled back already
            logger.debug("rollback of %s failed", self.where, exc_info=True)

    def _error(self, doing: str, exc: sqlite3.Error) -> InternalError:
        if self.vanished():
            return InternalError(
                f"{self.where} was deleted while it was open; {doing} it failed: {exc}"
            )
        if is_busy(exc):
            return InternalError(
                f"{self.where} stayed locked by another process for {BUSY_DEADLINE:g} s; "
                f"{doing} it failed: {exc}"
            )
        return InternalError(f"{doing} {self.where} failed: {exc}")

    # --- the directory ---

    def vanished(self) -> bool:
        """Whether the store's directory or database file was deleted (or replaced by
        another) since it was opened. Nothing should be written there any more. The first
        time it says so, it logs one warning (logger "achroma")."""
        if self._db_file is None or self._identity is None:
            return False
        if not self._vanished:
            try:
                st = os.stat(self._db_file)
            except (FileNotFoundError, NotADirectoryError):
                gone = True
            except OSError:  # unreadable is not gone
                gone = False
            else:
                gone = (st.st_dev, st.st_ino) != self._identity
            if gone:
                self._vanished = True
                logger.warning(
                    "%s was deleted while it was open; nothing more is written there", self.where
                )
        return self._vanished

    async def close(self) -> None:
        """Close the connections (the writer last: it checkpoints the WAL) and stop their
        threads."""
        if self.closed:
            return
        self.closed = True
        self._close_inline()
        for reader in self.readers:
            await _close_quietly(reader)
        await _close_quietly(self.writer)

    def _close_inline(self) -> None:
        conn, self._inline = self._inline, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def stop(self) -> list[asyncio.Future[Any]]:
        """Stop the connections' threads without a clean close (their loop is gone); on a
        running loop, the futures say when each thread has stopped."""
        self.closed = True
        self._close_inline()
        stopping = []
        for connection in (*self.readers, self.writer):
            with contextlib.suppress(Exception):
                stopping.append(connection.stop())
        return [f for f in stopping if f is not None]


async def call(
    db: aiosqlite.Connection,
    fn: Callable[Concatenate[sqlite3.Connection, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`fn(connection, *args)` on `db`'s own thread, with its `sqlite3.Connection`: one
    hand-off for any number of statements (every aiosqlite call is one such call).

    A cancelled caller returns only once `fn` has finished, as `anyio.to_thread.run_sync`
    does: `fn` may be using what its caller holds (a vector index under its read lock),
    which must not be let go while `fn` runs.
    """
    conn = db._conn  # the thread's connection (ValueError when closed)
    task = asyncio.ensure_future(db._execute(fn, conn, *args, **kwargs))  # type: ignore[no-untyped-call]
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved: the caller was cancelled, that is what it sees
        raise


async def retry_busy(
    where: str,
    op: Callable[[], Awaitable[T]],
    still_valid: Callable[[], bool] | None = None,
) -> T:
    """`await op()`, again (with growing, jittered sleeps) while SQLite reports busy, for up
    to BUSY_DEADLINE seconds; then the last busy error is raised. `still_valid` (when given)
    says whether retrying still makes sense after a busy error."""
    deadline = time.monotonic() + BUSY_DEADLINE
    backoff = _FIRST_BACKOFF
    while True:
        try:
            return await op()
        except sqlite3.OperationalError as exc:
            if (timed_out := regex_timeout(exc)) is not None:
                raise timed_out from None
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
            if still_valid is not None and not still_valid():
                raise
            logger.debug("%s is busy (%s); retrying", where, exc)
        await anyio.sleep(backoff * random.uniform(0.5, 1.5))
        backoff = min(backoff * 2, _MAX_BACKOFF)


async def _open_reader(file: Path) -> _Reader:
    """A read-only connection to the store's database (its schema is already made)."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(file, isolation_level=None)

    reader = _Reader(connector, iter_chunk_size=64)
    try:
        await reader
        await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await reader.execute("PRAGMA query_only = ON")
        await reader.create_function("regexp", 2, regexp, deterministic=True)
    except BaseException:
        await _close_quietly(reader)
        raise
    return reader


def _open_inline_reader(file: Path) -> sqlite3.Connection:
    """The read-only connection used on the event loop's thread (see `Store.run_inline`):
    it never waits for a lock. Not tied to the thread that opened it: a store closed at
    interpreter exit may be closed from another."""
    conn = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA query_only = ON")
        conn.create_function("regexp", 2, regexp, deterministic=True)
    except BaseException:
        conn.close()
        raise
    return conn


async def _close_quietly(db: aiosqlite.Connection) -> None:
    """Close a connection and stop its thread, whatever happens (even when cancelled)."""
    with anyio.CancelScope(shield=True):
        try:
            await db.close()
        except Exception:
            logger.debug("closing an SQLite connection failed", exc_info=True)
            with contextlib.suppress(Exception):
                db.stop()
