"""Indexes a collection's schema disables are not built: no per-value metadata rows for a
disabled key or type, no sparse postings without a sparse index, no full-text rows when FTS
is off; and the full-text index stays exact for every collection, those made before schemas
(migrated from schema version 5) included.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import anyio
import pytest

import achroma
from achroma import (
    FtsIndexConfig,
    IntInvertedIndexConfig,
    Schema,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
)
from achroma.engine import check, migrations
from achroma.engine.store import DB_FILE

METADATAS = [
    {"cat": "x", "n": 1, "f": 1.5, "tags": ["p", "q"], "sp": achroma.SparseVector([1], [1.0])},
    {"cat": "y", "n": 2, "f": 2.5, "other": achroma.SparseVector([2], [0.5])},
]


def _restricted() -> Schema:
    return (
        Schema()
        .delete_index(StringInvertedIndexConfig(), key="cat")
        .delete_index(IntInvertedIndexConfig())
        .delete_index(FtsIndexConfig(), key="#document")
        .create_index(SparseVectorIndexConfig(), key="sp")
    )


def _fill(collection: achroma.Collection) -> None:
    collection.add(
        ids=["a", "b"],
        embeddings=[[1.0, 0.0], [0.0, 1.0]],
        metadatas=METADATAS,  # type: ignore[arg-type]
        documents=["hello there", "world wide"],
    )


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path / DB_FILE)


def _metadata_rows(db: sqlite3.Connection, cid: str) -> set[tuple[str, str]]:
    rows = db.execute(
        "SELECT DISTINCT name, kind FROM record_metadata "
        "WHERE collection = (SELECT number FROM collections WHERE id = ?)",
        (cid,),
    )
    return set(rows.fetchall())


def _posting_keys(db: sqlite3.Connection, cid: str) -> set[str]:
    rows = db.execute("SELECT DISTINCT name FROM sparse_postings WHERE collection_id = ?", (cid,))
    return {r[0] for r in rows}


def _fts_rows(db: sqlite3.Connection, cid: str) -> int:
    (count,) = db.execute(
        "SELECT count(*) FROM documents_fts_docsize d JOIN records r ON r.key = d.id "
        "WHERE r.collection_id = ?",
        (cid,),
    ).fetchone()
    return int(count)


def _fts_is_sound(db: sqlite3.Connection) -> None:
    db.execute("INSERT INTO documents_fts (documents_fts, rank) VALUES ('integrity-check', 1)")


def _errors(path: Path) -> list[str]:
    found = anyio.run(lambda: check.check(path, fts_integrity=True))
    return [f.message for f in found if f.severity == "error"]


def test_disabled_indexes_get_no_rows(tmp_path: Path) -> None:
    client = achroma.PersistentClient(tmp_path)
    restricted = client.create_collection("restricted", schema=_restricted())
    plain = client.create_collection("plain")
    for collection in (restricted, plain):
        _fill(collection)
    # Updates rewrite the rows by the same rules.
    restricted.update(ids=["b"], metadatas=[{"cat": "z", "n": 3, "s": "kept"}])
    with _db(tmp_path) as db:
        assert _metadata_rows(db, str(restricted.id)) == {("f", "f"), ("tags", "s"), ("s", "s")}
        assert _posting_keys(db, str(restricted.id)) == {"sp"}
        assert _fts_rows(db, str(restricted.id)) == 0
        assert _metadata_rows(db, str(plain.id)) == {
            ("cat", "s"),
            ("n", "i"),
            ("f", "f"),
            ("tags", "s"),
        }
        # No sparse index on the plain collection: its sparse values get no postings.
        assert _posting_keys(db, str(plain.id)) == set()
        assert _fts_rows(db, str(plain.id)) == 2
        _fts_is_sound(db)
    # Filters that are allowed still find what they should.
    assert restricted.get(where={"f": 1.5})["ids"] == ["a"]
    assert restricted.get(where={"s": "kept"})["ids"] == ["b"]
    assert plain.get(where_document={"$contains": "wide"})["ids"] == ["b"]
    client.close()
    assert _errors(tmp_path) == []


def test_deleting_records_and_collections_keeps_the_fts_index_exact(tmp_path: Path) -> None:
    client = achroma.PersistentClient(tmp_path)
    restricted = client.create_collection("restricted", schema=_restricted())
    plain = client.create_collection("plain")
    for collection in (restricted, plain):
        _fill(collection)
    restricted.update(ids=["a"], documents=["changed"], embeddings=[[1.0, 0.0]])
    plain.update(ids=["a"], documents=["changed"], embeddings=[[1.0, 0.0]])
    restricted.delete(ids=["b"])
    plain.delete(ids=["b"])
    fork = restricted.fork("restricted-fork")
    with _db(tmp_path) as db:
        assert _fts_rows(db, str(fork.id)) == 0
        _fts_is_sound(db)
    client.delete_collection("restricted")
    assert plain.get(where_document={"$contains": "change"})["ids"] == ["a"]
    client.delete_collection("plain")
    with _db(tmp_path) as db:
        _fts_is_sound(db)
        assert db.execute("SELECT count(*) FROM documents_fts_docsize").fetchone()[0] == 0
    client.close()
    assert _errors(tmp_path) == []


OLD_ID = "11111111-2222-3333-4444-555555555555"


def _version_5_store(path: Path) -> None:
    """A store as achroma left it before schemas: one collection, two records."""
    path.mkdir()
    with sqlite3.connect(path / DB_FILE) as db:
        for step in migrations.MIGRATIONS[:5]:
            db.executescript(step)
        db.execute("PRAGMA user_version = 5")
        configuration = {
            "hnsw": {"space": "cosine", "ef_construction": 100, "ef_search": 100},
            "spann": None,
            "embedding_function": None,
        }
        db.execute(
            "INSERT INTO collections (id, name, database_id, configuration, dimension, seq)"
            " VALUES (?, 'old', '00000000-0000-0000-0000-000000000000', ?, 2, 1)",
            (OLD_ID, json.dumps(configuration)),
        )
        blob = bytes(8)
        for key, document in ((1, "old hello"), (2, "old world")):
            db.execute(
                "INSERT INTO records (key, collection_id, id, seq, embedding, document)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                (key, OLD_ID, f"r{key}", blob, document),
            )


def test_a_store_from_before_schemas_migrates_and_keeps_full_text_search(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store"
    _version_5_store(path)
    client = achroma.PersistentClient(path)
    old = client.get_collection("old", embedding_function=None)
    # Its schema is the one its configuration implies.
    assert old.schema.keys["#embedding"].float_list.vector_index.config.space == "cosine"
    assert old.get(where_document={"$contains": "world"})["ids"] == ["r2"]
    old.delete(ids=["r1"])
    old.add(ids=["r3"], embeddings=[[0.0, 1.0]], documents=["new hello"], metadatas=[{"k": 1}])
    assert old.get(where_document={"$contains": "hello"})["ids"] == ["r3"]
    assert "k" in client.get_collection("old", embedding_function=None).schema.keys
    with _db(path) as db:
        _fts_is_sound(db)
    client.close()
    assert _errors(path) == []


@pytest.mark.parametrize("schema_fts", [True, False])
def test_the_fts_flag_follows_the_schema(tmp_path: Path, schema_fts: bool) -> None:
    schema = Schema() if schema_fts else Schema().delete_index(FtsIndexConfig(), key="#document")
    client = achroma.PersistentClient(tmp_path)
    made = client.create_collection("docs", schema=schema, embedding_function=None)
    client.close()
    with _db(tmp_path) as db:
        (flag,) = db.execute("SELECT fts FROM collections WHERE id = ?", (str(made.id),)).fetchone()
    assert flag == int(schema_fts)
