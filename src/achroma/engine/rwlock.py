"""`RWLock`: many readers or one writer, for one event loop.

A vector index takes many concurrent searches but one change at a time. Taking or releasing
the lock does not yield when it is free, so an uncontended search pays for no scheduling;
every state change happens on the one event-loop thread, so the counters need no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class RWLock:
    """Many readers (searches) or one writer (add/remove/load); waiting writers go first."""

    def __init__(self) -> None:
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0
        # Set (and replaced) whenever the lock may have become free for a waiter.
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[None]:
        while self._writer or self._waiting_writers:
            await self._changed.wait()
        self._readers += 1
        try:
            yield
        finally:
            self._readers -= 1
            if self._readers == 0:
                self._notify()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        self._waiting_writers += 1
        try:
            while self._writer or self._readers:
                await self._changed.wait()
        except BaseException:
            self._waiting_writers -= 1
            self._notify()  # readers held back by this writer may go on
            raise
        self._waiting_writers -= 1
        self._writer = True
        try:
            yield
        finally:
            self._writer = False
            self._notify()
