"""Reads cheaper than a thread hand-off run on the event loop's thread while they are the
only read (issue 16, goal 1), and on the read connections' threads when others are in flight.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import anyio
import numpy as np
import pytest

import achroma
from achroma.engine.store import Store
from loop_ticks import ticks_while

pytestmark = pytest.mark.anyio


def _thread(conn: sqlite3.Connection) -> int:
    conn.execute("SELECT 1").fetchall()
    return threading.get_ident()


async def test_a_lone_quick_read_runs_on_the_loop_thread(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        assert await store.run_inline(_thread) == threading.get_ident()
        assert await store.run(_thread) != threading.get_ident()
    finally:
        await store.close()


async def test_quick_reads_started_together_also_use_the_threads(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    seen: list[int] = []

    async def read() -> None:
        seen.append(await store.run_inline(_thread))

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(read)
    finally:
        await store.close()
    loop_thread = threading.get_ident()
    assert seen.count(loop_thread) < len(seen)  # the rest were handed off


async def test_a_busy_inline_read_is_retried_on_a_thread(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    loop_thread = threading.get_ident()
    calls: list[int] = []

    def read(conn: sqlite3.Connection) -> str:
        calls.append(threading.get_ident())
        if threading.get_ident() == loop_thread:
            raise sqlite3.OperationalError("database is locked")
        return "read"

    try:
        assert await store.run_inline(read) == "read"
    finally:
        await store.close()
    assert calls[0] == loop_thread and calls[-1] != loop_thread


async def test_an_error_of_an_inline_read_is_raised(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)

    def read(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT * FROM no_such_table")

    try:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            await store.run_inline(read)
        assert await store.run_inline(_thread) == threading.get_ident()  # not left busy
    finally:
        await store.close()


async def test_the_inline_connection_is_read_only(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)

    def write(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO tenants (name) VALUES ('x')")

    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
            await store.run_inline(write)
    finally:
        await store.close()


async def test_queries_in_a_tight_loop_leave_the_loop_to_other_tasks(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(path=str(tmp_path))
    try:
        collection = await client.create_collection("inline", embedding_function=None)
        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((200, 8)).astype(np.float32)
        await collection.add(ids=[str(i) for i in range(200)], embeddings=vectors)

        async def queries() -> list[list[str]]:
            found = []
            for i in range(100):  # no other await between them
                result = await collection.query(query_embeddings=vectors[i], n_results=1)
                found.append(result["ids"][0])
            return found

        found, ticks, _ = await ticks_while(queries(), 0)
        assert found == [[str(i)] for i in range(100)]
        assert ticks >= 50  # the ticker ran between the queries
    finally:
        await client.close()


async def test_a_write_is_seen_by_the_next_inline_read(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(path=str(tmp_path))
    try:
        collection = await client.create_collection("inline", embedding_function=None)
        for i in range(30):
            await collection.add(ids=[f"r{i}"], embeddings=[[float(i), 1.0]])
            assert await collection.count() == i + 1
            got = await collection.get(ids=[f"r{i}"])
            assert got["ids"] == [f"r{i}"]
            hit = await collection.query(query_embeddings=[[float(i), 1.0]], n_results=1)
            assert hit["ids"] == [[f"r{i}"]]
    finally:
        await client.close()


@pytest.mark.parametrize("size", [3, 300])  # 300: checked on a worker thread
async def test_a_large_bad_batch_fails_as_a_small_one_and_writes_nothing(
    tmp_path: Path, size: int
) -> None:
    client = await achroma.AsyncPersistentClient(path=str(tmp_path))
    try:
        collection = await client.create_collection("offloop", embedding_function=None)
        metadatas: list[dict[str, object]] = [{"n": i} for i in range(size)]
        metadatas[-1] = {"n": [1, "mixed"]}
        with pytest.raises(ValueError, match="metadata") as small_or_large:
            await collection.add(
                ids=[str(i) for i in range(size)],
                embeddings=np.ones((size, 4), dtype=np.float32),
                metadatas=metadatas,  # type: ignore[arg-type]
            )
        assert type(small_or_large.value).__name__ in {"ValueError", "InvalidArgumentError"}
        assert await collection.count() == 0
        await collection.add(
            ids=[str(i) for i in range(size)], embeddings=np.ones((size, 4), dtype=np.float32)
        )
        assert await collection.count() == size
    finally:
        await client.close()
