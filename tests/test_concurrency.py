"""Concurrent writes and queries on one collection, and an event loop that keeps running."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

import achroma
from achroma.engine import executor
from loop_ticks import ticks_while

pytestmark = pytest.mark.anyio


async def test_concurrent_adds_and_queries_are_consistent(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path)
    col = await client.create_collection("busy", embedding_function=None)
    rng = np.random.default_rng(0)
    vectors = {f"{w}-{i}": rng.standard_normal(16) for w in range(8) for i in range(100)}
    found: list[bool] = []

    async def writer(w: int) -> None:
        for start in range(0, 100, 20):
            ids = [f"{w}-{i}" for i in range(start, start + 20)]
            await col.add(ids=ids, embeddings=[vectors[i] for i in ids])
            # Read your writes: each acknowledged vector is its own nearest neighbour.
            result = await col.query(query_embeddings=[vectors[ids[0]]], n_results=1)
            found.append(result["ids"][0][0] == ids[0])

    async with anyio.create_task_group() as tg:
        for w in range(8):
            tg.start_soon(writer, w)
    assert all(found) and len(found) == 40
    assert await col.count() == 800
    await client.close()


async def test_event_loop_keeps_running_during_a_large_add() -> None:
    client = await achroma.AsyncEphemeralClient()
    col = await client.create_collection("loop", embedding_function=None)
    data = np.random.default_rng(1).standard_normal((5000, 128)).astype(np.float32)
    _, ticks, _ = await ticks_while(
        col.add(ids=[str(i) for i in range(len(data))], embeddings=data), 0
    )
    # The index build runs in a worker thread, so the loop served the ticker meanwhile.
    assert ticks > 100
    await client.close()


async def test_deletes_and_updates_race_with_queries_without_stale_results() -> None:
    client = await achroma.AsyncEphemeralClient()
    col = await client.create_collection("race", embedding_function=None)
    data = np.random.default_rng(2).standard_normal((400, 8))
    await col.add(ids=[str(i) for i in range(400)], embeddings=data)
    deleted: set[str] = set()

    async def deleter() -> None:
        for i in range(0, 400, 2):
            await col.delete(ids=[str(i)])
            deleted.add(str(i))

    async def querier() -> None:
        for _ in range(50):
            before = set(deleted)
            result: Any = await col.query(query_embeddings=data[:20], n_results=5)
            for ids in result["ids"]:
                assert not (set(ids) & before)

    async with anyio.create_task_group() as tg:
        tg.start_soon(deleter)
        tg.start_soon(querier)
    assert await col.count() == 200
    await client.close()


async def test_a_cancelled_query_holds_the_index_until_its_search_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path)
    col = await client.create_collection("cancelled", embedding_function=None)
    vectors = np.random.default_rng(1).standard_normal((50, 8))
    await col.add(ids=[str(i) for i in range(50)], embeddings=vectors)
    await col.query(query_embeddings=vectors[:1], n_results=1)  # the index is open
    finished: list[float] = []
    ranked = executor._ranked_now

    def slow(*args: Any) -> Any:
        time.sleep(0.3)
        try:
            return ranked(*args)
        finally:
            finished.append(time.monotonic())

    monkeypatch.setattr(executor, "_ranked_now", slow)
    with anyio.move_on_after(0.05):
        await col.query(query_embeddings=vectors[:1], n_results=1)
    # The cancelled read returned once its worker was done with the index, not before.
    assert finished and finished[0] <= time.monotonic()
    monkeypatch.undo()
    await col.add(ids=["late"], embeddings=vectors[:1] + 1)  # the index takes writes again
    result = await col.query(query_embeddings=vectors[:1] + 1, n_results=1)
    assert result["ids"] == [["late"]]
    await client.close()
