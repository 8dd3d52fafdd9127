"""Data survives close and re-open; paths are independent; clients share a path's store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import achroma

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
