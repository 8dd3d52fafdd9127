"""Data survives close and re-open; paths are independent; clients share a path's store; a
store whose directory was deleted while open writes nothing there again."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import achroma
from achroma.engine.migrations import MIGRATIONS

pytestmark = pytest.mark.anyio


async def test_collections_survive_reopen(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path)
    col = await client.create_collection("docs", metadata={"a": 1})
    await client.close()

    reopened = await achroma.AsyncPersistentClient(tmp_path)
    again = await reopened.get_collection("docs")
    assert again.id == col.id
    assert again.metadata == {"a": 1}
    await reopened.close()


async def test_tenants_survive_reopen(tmp_path: Path) -> None:
    admin = await achroma.AsyncAdminClient(
        achroma.Settings(is_persistent=True, persist_directory=str(tmp_path))
    )
    await admin.create_tenant("acme")
    await admin.create_database("one", "acme")
    await admin.close()
    client = await achroma.AsyncPersistentClient(tmp_path, tenant="acme", database="one")
    assert client.tenant == "acme"
    await client.close()


async def test_two_clients_on_one_path_share_the_store(tmp_path: Path) -> None:
    a = await achroma.AsyncPersistentClient(tmp_path)
    b = await achroma.AsyncPersistentClient(tmp_path)
    await a.create_collection("docs")
    assert [c.name for c in await b.list_collections()] == ["docs"]
    await a.close()
    # b still works after a closed: the store closes with its last client.
    assert await b.count_collections() == 1
    await b.close()


async def test_different_paths_are_independent(tmp_path: Path) -> None:
    a = await achroma.AsyncPersistentClient(tmp_path / "a")
    b = await achroma.AsyncPersistentClient(tmp_path / "b")
    await a.create_collection("docs")
    assert await b.count_collections() == 0
    await a.close()
    await b.close()


async def test_store_is_sqlite_in_wal_mode_with_schema_version(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path)
    await client.close()
    files = list(tmp_path.iterdir())
    db_file = tmp_path / "achroma.sqlite3"
    assert db_file in files
    with sqlite3.connect(db_file) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_ephemeral_client_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    client = achroma.EphemeralClient()
    client.create_collection("docs")
    client.close()
    assert list(tmp_path.iterdir()) == []


def test_sync_ephemeral_clients_share_data_like_chroma() -> None:
    a = achroma.EphemeralClient()
    b = achroma.EphemeralClient()
    a.create_collection("shared-docs")
    assert b.get_collection("shared-docs").name == "shared-docs"
    a.close()
    b.close()


async def test_async_ephemeral_clients_share_a_store_until_all_close() -> None:
    a = await achroma.AsyncEphemeralClient()
    await a.create_collection("shared-docs", embedding_function=None)
    b = await achroma.AsyncEphemeralClient()
    assert [c.name for c in await b.list_collections()] == ["shared-docs"]
    await a.close()
    assert [c.name for c in await b.list_collections()] == ["shared-docs"]
    await b.close()
    fresh = await achroma.AsyncEphemeralClient()
    assert await fresh.list_collections() == []
    await fresh.close()


def _deleted_while_open(directory: str) -> Any:
    client = achroma.PersistentClient(directory)
    col = client.create_collection("docs", embedding_function=None)
    vectors = np.random.default_rng(0).standard_normal((50, 8))
    col.add(ids=[str(i) for i in range(50)], embeddings=vectors)
    col.query(query_embeddings=vectors[:1], n_results=1)  # an open index, unsaved
    shutil.rmtree(directory)
    return client


def test_a_store_deleted_while_open_is_not_written_again(caplog: pytest.LogCaptureFixture) -> None:
    with tempfile.TemporaryDirectory() as parent:
        directory = os.path.join(parent, "chroma")
        client = _deleted_while_open(directory)
        with caplog.at_level(logging.WARNING, logger="achroma"):
            client.close()
        assert not os.path.exists(directory)
    warnings = [r for r in caplog.records if r.name == "achroma" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "deleted while it was open" in warnings[0].getMessage()


def test_a_store_deleted_while_open_is_not_written_again_at_exit(tmp_path: Path) -> None:
    """The TemporaryDirectory pattern of users' tests: the directory goes before the client
    is closed, which then happens at interpreter exit."""
    script = textwrap.dedent(
        """
        import tempfile
        import numpy as np
        import achroma

        with tempfile.TemporaryDirectory() as directory:
            client = achroma.PersistentClient(directory)
            col = client.create_collection("docs", embedding_function=None)
            vectors = np.random.default_rng(0).standard_normal((50, 8))
            col.add(ids=[str(i) for i in range(50)], embeddings=vectors)
            col.query(query_embeddings=vectors[:1], n_results=1)
        print(directory)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert not os.path.exists(done.stdout.strip())
    # Python's last-resort handler prints the one warning, and nothing else is said.
    assert done.stderr.count("deleted while it was open") == 1, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr


async def test_a_store_from_before_record_counts_is_counted_when_opened(tmp_path: Path) -> None:
    client = await achroma.AsyncPersistentClient(tmp_path)
    col = await client.create_collection("docs", embedding_function=None)
    await col.add(ids=["a", "b", "c"], embeddings=[[1.0, 0.0]] * 3)
    other = await client.create_collection("empty", embedding_function=None)
    await client.close()
    # As the schema was before the step that counts records.
    step = next(i for i, script in enumerate(MIGRATIONS) if "record_count" in script)
    with sqlite3.connect(tmp_path / "achroma.sqlite3") as con:
        con.execute("ALTER TABLE collections DROP COLUMN record_count")
        con.execute(f"PRAGMA user_version = {step}")
    client = await achroma.AsyncPersistentClient(tmp_path)
    try:
        assert await (await client.get_collection("docs")).count() == 3
        assert await (await client.get_collection(other.name)).count() == 0
    finally:
        await client.close()
