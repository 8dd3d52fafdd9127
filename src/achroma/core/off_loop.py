"""Where a batch's CPU work runs: on the event loop when the batch is small, on a worker
thread when it is large.

Checking or encoding thousands of records takes longer than the loop may stall (its budget
is 20 ms); a hand-off costs more than the work of a small batch. On a worker thread the GIL
still lets the loop run beside the work (it is released every few milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")

# Batches of more records than this are worked on a worker thread.
OFF_LOOP_RECORDS = 256


async def for_batch(size: int, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` for a batch of `size` records: inline when small, else on a worker
    thread."""
    if size > OFF_LOOP_RECORDS:
        return await anyio.to_thread.run_sync(fn, *args)
    return fn(*args)
