"""Measuring that the event loop stays free: count a ticker's turns while awaiting work."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

import anyio

T = TypeVar("T")


async def ticks_while(work: Awaitable[T], interval: float) -> tuple[T, int, float]:
    """Await `work` while a ticker sleeps `interval` between turns; return the result, the
    ticker's turns and the elapsed seconds. A blocked loop gives few turns."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(interval)

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        started = time.perf_counter()
        result = await work
        elapsed = time.perf_counter() - started
        tg.cancel_scope.cancel()
    return result, ticks, elapsed
