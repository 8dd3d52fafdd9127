"""Data survives close and re-open; paths are independent; clients share a path's store; a
store whose directory was deleted while open writes nothing there again."""

from __future__ import annotations

import json
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


DOCS_ID = "11111111-2222-3333-4444-555555555555"
EMPTY_ID = "11111111-2222-3333-4444-666666666666"
CONFIGURATION = {
    "hnsw": {"space": "l2", "ef_construction": 100, "ef_search": 100},
    "spann": None,
    "embedding_function": None,
}


def _old_store(path: Path, version: int) -> None:
    """A store at schema `version`: collections 'docs' (three records with metadata and
    documents) and 'empty'."""
    path.mkdir(exist_ok=True)
    with sqlite3.connect(path / "achroma.sqlite3") as con:
        for step in MIGRATIONS[:version]:
            con.executescript(step)
        con.execute(f"PRAGMA user_version = {version}")
        for cid, name, dimension, seq in ((DOCS_ID, "docs", 2, 1), (EMPTY_ID, "empty", None, 0)):
            con.execute(
                "INSERT INTO collections (id, name, database_id, configuration, dimension, seq)"
                " VALUES (?, ?, '00000000-0000-0000-0000-000000000000', ?, ?, ?)",
                (cid, name, json.dumps(CONFIGURATION), dimension, seq),
            )
        for key, (rid, tag, document) in enumerate(
            (("a", "red", "The Fox"), ("b", "blue", "the fox"), ("c", "red", "no match"))
        ):
            con.execute(
                "INSERT INTO records (key, collection_id, id, seq, embedding, document, metadata)"
                " VALUES (?, ?, ?, 1, ?, ?, ?)",
                (
                    key + 1,
                    DOCS_ID,
                    rid,
                    np.asarray([1.0, float(key)], dtype=np.float32).tobytes(),
                    document,
                    json.dumps({"tag": tag}),
                ),
            )
            con.execute(
                "INSERT INTO record_metadata (key, collection_id, name, kind, is_list, value)"
                " VALUES (?, ?, 'tag', 's', 0, ?)",
                (key + 1, DOCS_ID, tag),
            )


async def test_a_store_from_before_record_counts_is_counted_when_opened(tmp_path: Path) -> None:
    # As the schema was before the step that counts records.
    step = next(i for i, script in enumerate(MIGRATIONS) if "record_count" in script)
    _old_store(tmp_path, step)
    client = await achroma.AsyncPersistentClient(tmp_path)
    try:
        assert await (await client.get_collection("docs")).count() == 3
        assert await (await client.get_collection("empty")).count() == 0
    finally:
        await client.close()


async def test_a_store_from_before_collection_numbers_migrates_in_place(tmp_path: Path) -> None:
    step = next(i for i, script in enumerate(MIGRATIONS) if "ADD COLUMN number" in script)
    _old_store(tmp_path, step)
    client = await achroma.AsyncPersistentClient(tmp_path)
    try:
        docs = await client.get_collection("docs")
        assert (await docs.get(where={"tag": "red"}))["ids"] == ["a", "c"]
        assert (await docs.get(where={"tag": {"$ne": "red"}}))["ids"] == ["b"]
        # The full-text index was remade without positions: $contains is still exact.
        assert (await docs.get(where_document={"$contains": "Fox"}))["ids"] == ["a"]
        assert (await docs.get(where_document={"$contains": "he fox"}))["ids"] == ["b"]
        fresh = await client.create_collection("fresh", embedding_function=None)
        await fresh.add(ids=["z"], embeddings=[[0.0, 1.0]], metadatas=[{"tag": "red"}])
        assert (await fresh.get(where={"tag": "red"}))["ids"] == ["z"]
        assert (await docs.get(where={"tag": "red"}))["ids"] == ["a", "c"]
    finally:
        await client.close()
    with sqlite3.connect(tmp_path / "achroma.sqlite3") as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        numbers = dict(con.execute("SELECT name, number FROM collections"))
        assert len(set(numbers.values())) == 3 and None not in numbers.values()
        rows = con.execute("SELECT collection, count(*) FROM record_metadata GROUP BY 1")
        assert dict(rows) == {numbers["docs"]: 3, numbers["fresh"]: 1}
        columns = {row[1] for row in con.execute("PRAGMA table_info(record_metadata)")}
        assert "collection_id" not in columns
        (sql,) = con.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'documents_fts'"
        ).fetchone()
        assert "detail=none" in sql
