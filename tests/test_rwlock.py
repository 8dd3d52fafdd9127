"""The index's reader-writer lock: readers share, a writer is alone, waiting writers go first,
and a cancelled waiter leaves the lock usable."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio
import pytest

from achroma.engine.rwlock import RWLock

pytestmark = pytest.mark.anyio


async def _most_inside(enter: Callable[[], AbstractAsyncContextManager[None]], tasks: int) -> int:
    """How many of `tasks` concurrent holders were inside the lock at once, at most."""
    inside = most = 0

    async def hold() -> None:
        nonlocal inside, most
        async with enter():
            inside += 1
            most = max(most, inside)
            await anyio.sleep(0.005)
            inside -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(hold)
    return most


async def test_readers_hold_the_lock_together() -> None:
    assert await _most_inside(RWLock().read, 5) == 5


async def test_writers_exclude_each_other() -> None:
    assert await _most_inside(RWLock().write, 4) == 1


async def test_a_writer_waits_for_readers_and_then_goes_before_new_readers() -> None:
    lock, events = RWLock(), []
    first_reader_in = anyio.Event()

    async def read(name: str, delay: float) -> None:
        await anyio.sleep(delay)
        async with lock.read():
            events.append(f"{name} in")
            first_reader_in.set()
            await anyio.sleep(0.02)
            events.append(f"{name} out")

    async def write() -> None:
        await first_reader_in.wait()
        async with lock.write():
            events.append("writer in")
            await anyio.sleep(0.01)
            events.append("writer out")

    async with anyio.create_task_group() as tg:
        tg.start_soon(read, "r1", 0)
        tg.start_soon(write)
        tg.start_soon(read, "r2", 0.005)  # arrives while the writer waits
    assert events == ["r1 in", "r1 out", "writer in", "writer out", "r2 in", "r2 out"]


async def test_a_cancelled_waiting_writer_lets_blocked_readers_in() -> None:
    lock = RWLock()
    reader_done = anyio.Event()

    async def late_reader() -> None:
        async with lock.read():
            reader_done.set()

    async with lock.read(), anyio.create_task_group() as tg:
        with anyio.move_on_after(0.02):
            async with anyio.create_task_group() as writers:
                writers.start_soon(lambda: _hold(lock))
                await anyio.sleep(0.005)
                tg.start_soon(late_reader)  # held back by the waiting writer
                await anyio.sleep(0.05)
        with anyio.fail_after(1):
            await reader_done.wait()


async def _hold(lock: RWLock) -> None:
    async with lock.write():
        pass
