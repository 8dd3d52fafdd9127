"""A persistent store's read connections (issue 13, item 4): a slow read holds up neither the
writer nor other reads, and a read never sees a write transaction half done."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import anyio
import pytest

from achroma.engine.store import READERS, Store

pytestmark = pytest.mark.anyio

# About a second of SQLite work on this machine: a statement that only counts.
SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    "SELECT count(*) FROM n"
)


async def test_a_persistent_store_reads_on_connections_of_its_own(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        assert len(store.readers) == READERS
        assert store.db is not store.writer
        assert await store.read("PRAGMA query_only") == [(1,)]
    finally:
        await store.close()


async def test_the_in_memory_store_reads_on_its_writer() -> None:
    store = await Store.open(None)
    try:
        assert store.readers == [] and store.db is store.writer
    finally:
        await store.close()


async def test_a_slow_read_does_not_hold_up_other_reads_or_writes(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    finished: dict[str, float] = {}

    async def slow() -> None:
        await store.read(SLOW)
        finished["slow"] = time.monotonic()

    async def quick() -> None:
        await anyio.sleep(0.05)  # the slow statement has started
        assert await store.read("SELECT count(*) FROM tenants") == [(1,)]
        async with store.transaction() as db:
            await db.execute("INSERT INTO tenants (name) VALUES ('quick')")
        finished["quick"] = time.monotonic()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            tg.start_soon(quick)
    finally:
        await store.close()
    assert finished["quick"] < finished["slow"]


async def test_a_read_never_sees_a_write_transaction_half_done(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    count = "SELECT count(*) FROM tenants WHERE name = 'half'"
    try:
        async with store.transaction() as db:
            await db.execute("INSERT INTO tenants (name) VALUES ('half')")
            assert await store.read(count) == [(0,)]
        assert await store.read(count) == [(1,)]
    finally:
        await store.close()


async def test_stop_ends_every_connection_thread(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    for stopped in store.stop():
        await stopped
    with pytest.raises(ValueError, match="Connection closed|no active connection"):
        await store.readers[0].execute("SELECT 1")
    with pytest.raises(ValueError, match="Connection closed|no active connection"):
        await store.writer.execute("SELECT 1")


async def test_reads_started_together_run_on_different_connections(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    threads: set[int] = set()

    def read(conn: sqlite3.Connection) -> None:
        threads.add(threading.get_ident())
        time.sleep(0.05)
        conn.execute("SELECT 1").fetchall()

    try:
        async with anyio.create_task_group() as tg:
            for _ in range(READERS):
                tg.start_soon(store.run, read)
    finally:
        await store.close()
    assert len(threads) == READERS
