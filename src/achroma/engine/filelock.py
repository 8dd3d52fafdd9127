"""`FileLock`: an exclusive lock on a lock file, shared by every process that opens it.

POSIX uses `fcntl.flock`, Windows `msvcrt.locking`. Each acquisition opens its own file
descriptor, so the lock also excludes other threads, other tasks and other `FileLock` objects
of the same process, not only other processes. The operating system drops the lock when its
holder exits, however it exits (kill -9 included).

`async with lock:` never blocks the event loop: it tries without blocking and sleeps a
little (cancellably) between tries. `with lock:` blocks its thread. Neither is reentrant:
acquiring a lock its own task or thread already holds raises `RuntimeError` rather than
waiting forever (two `FileLock` objects on one file taken by one task or thread do wait
forever, as two processes would).

The lock file is created when missing, but never its directory: when the directory is gone,
acquiring raises `FileNotFoundError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import anyio

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

# Sleeps between non-blocking tries: short first (locks here are held for milliseconds),
# growing to a cap that bounds the hand-over delay.
FIRST_WAIT = 0.001
MAX_WAIT = 0.05


class FileLock:
    """An inter-process exclusive lock on the file at `path`.

    `timeout` (seconds, None: wait forever) makes acquiring raise `TimeoutError` instead of
    waiting longer.
    """

    def __init__(self, path: Path, *, timeout: float | None = None) -> None:
        self.path = Path(path)
        self.timeout = timeout
        # The descriptor holding the lock, and who holds it (a thread or a task id).
        self._fd: int | None = None
        self._owner: tuple[str, int] | None = None

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def __repr__(self) -> str:
        state = "locked" if self.locked else "unlocked"
        return f"<FileLock {str(self.path)!r} {state}>"

    # --- async ---

    async def __aenter__(self) -> FileLock:
        owner = ("task", anyio.get_current_task().id)
        self._refuse_reentry(owner)
        deadline = self._deadline()
        fd: int | None = None
        wait = FIRST_WAIT
        try:
            while True:
                fd, held = self._attempt(fd, block=False)
                if held:
                    break
                if fd is not None:  # held by another: wait a little
                    _check_deadline(deadline, self.path)
                    await anyio.sleep(wait)
                    wait = min(wait * 2, MAX_WAIT)
        except BaseException:
            if fd is not None:
                os.close(fd)  # closing drops the lock too, if it was taken
            raise
        self._fd, self._owner = fd, owner
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    # --- sync (for threads) ---

    def __enter__(self) -> FileLock:
        owner = ("thread", threading.get_ident())
        self._refuse_reentry(owner)
        deadline = self._deadline()
        fd: int | None = None
        wait = FIRST_WAIT
        try:
            while True:
                fd, held = self._attempt(fd, block=deadline is None)
                if held:
                    break
                if fd is not None:
                    _check_deadline(deadline, self.path)
                    time.sleep(wait)
                    wait = min(wait * 2, MAX_WAIT)
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        self._fd, self._owner = fd, owner
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    # --- internals ---

    def _attempt(self, fd: int | None, block: bool) -> tuple[int | None, bool]:
        """One try: the descriptor to go on with (None: try again at once, on a fresh one)
        and whether the lock is now held through it."""
        if fd is None:
            fd = self._open()
        if block:
            _lock_blocking(fd)
        elif not _try_lock(fd):
            return fd, False
        if self._is_current(fd):
            return fd, True
        os.close(fd)  # the file was replaced while we waited: lock the new one
        return None, False

    def _refuse_reentry(self, owner: tuple[str, int]) -> None:
        if self._fd is not None and self._owner == owner:
            raise RuntimeError(f"{self!r} is already held by this {owner[0]}; it is not reentrant")

    def _deadline(self) -> float | None:
        return None if self.timeout is None else time.monotonic() + self.timeout

    def _open(self) -> int:
        """A new descriptor on the lock file, created if missing (FileNotFoundError when its
        directory is gone: directories are never created here)."""
        cloexec = getattr(os, "O_CLOEXEC", 0)
        flags = os.O_RDWR | os.O_CREAT | cloexec | getattr(os, "O_BINARY", 0)
        try:
            return os.open(self.path, flags, 0o666)
        except PermissionError:
            # Another user's lock file we may read but not write: flock needs no write access.
            if sys.platform == "win32":
                raise
            return os.open(self.path, os.O_RDONLY | cloexec)

    def _is_current(self, fd: int) -> bool:
        """Whether the locked `fd` is still the file at `path` (not removed or replaced while
        we waited for it, which would leave us holding a lock nobody else sees)."""
        if sys.platform == "win32":  # an open file cannot be removed there
            return True
        mine = os.fstat(fd)
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)

    def _release(self) -> None:
        fd = self._fd
        if fd is None:
            raise RuntimeError(f"{self!r} is not held")
        # Forget the holder before unlocking: the next holder may be another thread.
        self._fd = self._owner = None
        try:
            _unlock(fd)
        finally:
            os.close(fd)


def _check_deadline(deadline: float | None, path: Path) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise TimeoutError(f"timed out waiting for the lock file {path}")


if sys.platform == "win32":
    # msvcrt locks byte ranges: every holder locks byte 0 (locking past the end is allowed).
    _BUSY_ERRNOS = {errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)}

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in _BUSY_ERRNOS:
                return False
            raise
        return True

    def _lock_blocking(fd: int) -> None:
        # LK_LOCK gives up after 10 s; wait as long as it takes instead.
        wait = FIRST_WAIT
        while not _try_lock(fd):
            time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):  # closing the descriptor releases it anyway
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock_blocking(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks this thread only

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):  # closing the descriptor releases it anyway
            fcntl.flock(fd, fcntl.LOCK_UN)
