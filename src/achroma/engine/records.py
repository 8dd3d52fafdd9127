"""SQL for records: rows, their metadata index, tombstones and per-collection sequence numbers
and record counts.

Every write runs inside one `Store.transaction()` and is given the collection's next `seq`;
it keeps the collection's `record_count` in the same transaction, so `count()` reads one
row and is exact after any crash. Reads are plain functions in `reads`, wrapped here for
callers holding an aiosqlite connection (each one hand-off to that connection's thread).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite
import numpy as np

from achroma.core import schema_rules
from achroma.core.requests import RecordFilter
from achroma.core.sparse import TYPE_KEY, is_sparse_wire, metadata_from_wire, metadata_to_wire
from achroma.engine import reads
from achroma.engine.filter_sql import kind_of
from achroma.engine.index import Keys, Vectors
from achroma.engine.reads import Row, json_list
from achroma.engine.store import call, retry_busy

__all__ = ["Row"]

P = ParamSpec("P")
T = TypeVar("T")

# Metadata keys Chroma reserves for itself: accepted on write, never stored or returned.
INTERNAL_PREFIX = "chroma:"


async def _on(
    db: aiosqlite.Connection,
    fn: Callable[Concatenate[sqlite3.Connection, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    # A read rarely meets a lock in WAL mode (another process's crash recovery, its last
    # close), and then waits for it like a write does.
    return await retry_busy("the store", lambda: call(db, fn, *args, **kwargs))


# --- reads, on an aiosqlite connection (see `reads`) ---


async def collection_state(db: aiosqlite.Connection, collection_id: str) -> tuple[int, int | None]:
    """(seq, dimension) of a collection; NotFoundError if it was deleted."""
    return await _on(db, reads.collection_state, collection_id)


async def count(db: aiosqlite.Connection, collection_id: str) -> int:
    """The collection's record count (one row); NotFoundError if it was deleted."""
    return await _on(db, reads.count, collection_id)


async def count_rows(db: aiosqlite.Connection, collection_id: str) -> int:
    """The collection's records counted one by one."""
    return await _on(db, reads.count_rows, collection_id)


async def existing(
    db: aiosqlite.Connection, collection_id: str, ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """The stored records among `ids`: id -> (key, encoded metadata)."""
    return await _on(db, reads.existing, collection_id, ids)


async def select_keys(
    db: aiosqlite.Connection,
    collection_id: str,
    selection: RecordFilter,
    limit: int | None = None,
) -> list[int]:
    """Keys of the selected records, in insertion order."""
    return await _on(db, reads.select_keys, collection_id, selection, limit)


async def select_rows(
    db: aiosqlite.Connection,
    collection_id: str,
    selection: RecordFilter,
    limit: int | None,
    offset: int | None,
    columns: dict[str, bool],
) -> list[Row]:
    """The selected records in insertion order, paged."""
    return await _on(db, reads.select_rows, collection_id, selection, limit, offset, columns)


async def rows_by_key(
    db: aiosqlite.Connection, keys: Iterable[int], columns: dict[str, bool]
) -> dict[int, Row]:
    return await _on(db, reads.rows_by_key, list(keys), columns)


async def vectors(
    db: aiosqlite.Connection, keys: list[int], dimension: int
) -> tuple[Keys, Vectors]:
    """Stored vectors of `keys`, in key order."""
    return await _on(db, reads.vectors, keys, dimension)


async def vector_slice(
    db: aiosqlite.Connection,
    collection_id: str,
    after_key: int,
    limit: int,
    dimension: int,
    up_to_seq: int | None = None,
) -> tuple[Keys, Vectors]:
    return await _on(db, reads.vector_slice, collection_id, after_key, limit, dimension, up_to_seq)


async def changes_since(
    db: aiosqlite.Connection, collection_id: str, seq: int, dimension: int
) -> tuple[Keys, Keys, Vectors]:
    """What the index must apply to move past `seq`: (removed keys, changed keys, vectors)."""
    return await _on(db, reads.changes_since, collection_id, seq, dimension)


async def sparse_dots(
    db: aiosqlite.Connection,
    collection_id: str,
    selection: RecordFilter,
    name: str,
    weights: dict[int, float],
    limit: int,
) -> list[tuple[int, float]]:
    """See `reads.sparse_dots`."""
    return await _on(db, reads.sparse_dots, collection_id, selection, name, weights, limit)


async def term_counts(
    db: aiosqlite.Connection, collection_id: str, name: str, terms: list[int]
) -> dict[int, int]:
    """See `reads.term_counts`."""
    return await _on(db, reads.term_counts, collection_id, name, terms)


# --- collection state ---


async def set_state(
    db: aiosqlite.Connection, collection_id: str, seq: int, dimension: int | None
) -> None:
    await db.execute(
        "UPDATE collections SET seq = ?, dimension = ? WHERE id = ?",
        (seq, dimension, collection_id),
    )


async def _add_to_count(db: aiosqlite.Connection, collection_id: str, change: int) -> None:
    """Keep `record_count` in step, inside the write's transaction."""
    if change:
        await db.execute(
            "UPDATE collections SET record_count = record_count + ? WHERE id = ?",
            (change, collection_id),
        )


# --- writes ---


def encode_metadata(metadata: dict[str, Any] | None) -> str | None:
    """Metadata as stored: JSON, sparse vectors in their tagged form."""
    if metadata is None:
        return None
    return json.dumps(
        metadata_to_wire({k: v for k, v in metadata.items() if not k.startswith(INTERNAL_PREFIX)})
    )


def decode_metadata(encoded: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(encoded)
    if TYPE_KEY in encoded:  # (most metadata holds no sparse vector: skip the scan)
        decoded = metadata_from_wire(decoded)
    return decoded


def _value_type(value: Any) -> str | None:
    if is_sparse_wire(value):
        return "sparse_vector"
    return schema_rules.value_type_of(value)


Indexed = Callable[[str, str], bool]


def indexes_of(schema: dict[str, Any] | None) -> Indexed:
    """Whether values of a key and value type are indexed, by `schema` (None: all are):
    the inverted index for scalars, the sparse vector index for sparse vectors."""
    if schema is None:
        return lambda name, value_type: True
    known: dict[tuple[str, str], bool] = {}

    def indexed(name: str, value_type: str) -> bool:
        found = known.get((name, value_type))
        if found is None:
            found = known[name, value_type] = schema_rules.index_enabled(schema, name, value_type)
        return found

    return indexed


# Kind tag and schema value type of the exact scalar types (bool before int: a subclass).
_SCALAR_KINDS: dict[type, tuple[str, str]] = {
    str: ("s", "string"),
    bool: ("b", "bool"),
    int: ("i", "int"),
    float: ("f", "float"),
}


def _metadata_rows(
    key: int,
    collection_id: str,
    metadata: dict[str, Any],
    postings: list[tuple[Any, ...]],
    indexed: Indexed,
) -> list[tuple[Any, ...]]:
    """Rows of the per-value metadata index; a sparse vector's terms go to `postings`. Keys
    and types whose index the schema disables get none."""
    rows = []
    for name, value in metadata.items():
        if name.startswith(INTERNAL_PREFIX):
            continue
        scalar = _SCALAR_KINDS.get(type(value))
        if scalar is not None:  # the common case, without the general type tests below
            if indexed(name, scalar[1]):
                stored = int(value) if scalar[0] == "b" else value
                rows.append((key, collection_id, name, scalar[0], 0, stored))
            continue
        value_type = _value_type(value)
        if value_type is None or not indexed(name, value_type):
            continue
        if value_type == "sparse_vector":
            postings += [
                (key, collection_id, name, term, weight)
                for term, weight in zip(value["indices"], value["values"], strict=True)
            ]
        elif isinstance(value, list):
            rows += [
                (key, collection_id, name, kind_of(v), 1, int(v) if isinstance(v, bool) else v)
                for v in value
            ]
        else:
            stored = int(value) if isinstance(value, bool) else value
            rows.append((key, collection_id, name, kind_of(value), 0, stored))
    return rows


async def _index_metadata(
    db: aiosqlite.Connection,
    collection_id: str,
    items: Iterable[tuple[int, dict[str, Any] | None]],
    indexed: Indexed,
) -> None:
    """Index the metadata of records, given (key, metadata as decoded from its JSON)."""
    rows: list[tuple[Any, ...]] = []
    postings: list[tuple[Any, ...]] = []
    for key, decoded in items:
        if decoded is not None:
            rows += _metadata_rows(key, collection_id, decoded, postings, indexed)
    if rows:
        await db.executemany(
            "INSERT INTO record_metadata (key, collection, name, kind, is_list, value) "
            "VALUES (?, (SELECT number FROM collections WHERE id = ?), ?, ?, ?, ?)",
            rows,
        )
    if postings:
        await db.executemany(
            "INSERT INTO sparse_postings (key, collection_id, name, term, value) "
            "VALUES (?, ?, ?, ?, ?)",
            postings,
        )


@dataclass(frozen=True)
class Inserts:
    """New records, column by column (metadata encoded, None values dropped)."""

    ids: list[str]
    embeddings: Vectors
    documents: list[str | None]
    uris: list[str | None]
    metadatas: list[str | None]
    # The metadatas as `json.loads` gives them back (None, or a None item: decode that), so
    # the per-value index is built without parsing what was just encoded.
    decoded: list[dict[str, Any] | None] | None = None


@dataclass(frozen=True)
class Updates:
    """Changes to stored records by key. None in `embeddings`, `documents`, `uris` keeps the
    stored value; `metadatas` holds each record's final (merged) metadata, rewritten in the
    per-value index only where `metadata_changed`."""

    keys: list[int]
    embeddings: Vectors | None
    documents: list[str | None]
    uris: list[str | None]
    metadatas: list[str | None]
    metadata_changed: list[bool]


async def insert(
    db: aiosqlite.Connection,
    collection_id: str,
    seq: int,
    inserts: Inserts,
    schema: dict[str, Any] | None = None,
) -> Keys:
    """Insert new records; returns their keys (consecutive, in batch order). The columns
    have equal lengths (checked by `check_lengths`). `schema`: the collection's, whose
    disabled indexes are not built (None: every value is indexed)."""
    found = list(
        await db.execute_fetchall("SELECT seq FROM sqlite_sequence WHERE name = 'records'")
    )
    first = (int(found[0][0]) if found else 0) + 1
    ids, metadatas = inserts.ids, inserts.metadatas
    keys = np.arange(first, first + len(ids), dtype=np.uint64)
    key_list = range(first, first + len(ids))
    await db.executemany(
        "INSERT INTO records (key, collection_id, id, seq, embedding, document, uri, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (k, collection_id, i, seq, e.tobytes(), d, u, m)
            for k, i, e, d, u, m in zip(
                key_list,
                ids,
                inserts.embeddings,
                inserts.documents,
                inserts.uris,
                metadatas,
                strict=False,
            )
        ],
    )
    given = inserts.decoded or [None] * len(ids)
    decoded = [
        json.loads(m) if d is None and m is not None else d
        for m, d in zip(metadatas, given, strict=False)
    ]
    await _index_metadata(
        db, collection_id, zip(key_list, decoded, strict=False), indexes_of(schema)
    )
    await _add_to_count(db, collection_id, len(keys))
    return keys


async def update(
    db: aiosqlite.Connection,
    collection_id: str,
    seq: int,
    updates: Updates,
    schema: dict[str, Any] | None = None,
) -> None:
    """Overwrite fields of existing records (see `Updates`; `schema` as for `insert`)."""
    keys, metadatas = updates.keys, updates.metadatas
    blobs = (
        [None] * len(keys)
        if updates.embeddings is None
        else [e.tobytes() for e in updates.embeddings]
    )
    await db.executemany(
        "UPDATE records SET seq = ?, embedding = coalesce(?, embedding), "
        "document = coalesce(?, document), uri = coalesce(?, uri), metadata = ? WHERE key = ?",
        list(
            zip(
                [seq] * len(keys),
                blobs,
                updates.documents,
                updates.uris,
                metadatas,
                keys,
                strict=False,
            )
        ),
    )
    changed = [
        (k, m) for k, m, c in zip(keys, metadatas, updates.metadata_changed, strict=False) if c
    ]
    if changed:
        changed_keys = json_list(k for k, _ in changed)
        for table in ("record_metadata", "sparse_postings"):
            await db.execute(
                f"DELETE FROM {table} WHERE key IN (SELECT value FROM json_each(?))",
                (changed_keys,),
            )
        decoded = [(k, json.loads(m) if m is not None else None) for k, m in changed]
        await _index_metadata(db, collection_id, decoded, indexes_of(schema))


async def delete(db: aiosqlite.Connection, collection_id: str, seq: int, keys: list[int]) -> None:
    encoded = json_list(keys)
    deleted = await db.execute(
        "DELETE FROM records WHERE key IN (SELECT value FROM json_each(?))", (encoded,)
    )
    # Rows of this statement alone (not the triggers' or the cascades').
    await _add_to_count(db, collection_id, -deleted.rowcount)
    await db.execute(
        "INSERT INTO tombstones (collection_id, key, seq) SELECT ?, value, ? FROM json_each(?)",
        (collection_id, seq, encoded),
    )


async def copy(db: aiosqlite.Connection, source_id: str, target_id: str) -> None:
    """Copy every record of one collection into another (empty) one, keeping their order."""
    await db.execute(
        "INSERT INTO records (collection_id, id, seq, embedding, document, uri, metadata) "
        "SELECT ?, id, 1, embedding, document, uri, metadata FROM records "
        "WHERE collection_id = ? ORDER BY key",
        (target_id, source_id),
    )
    await db.execute(
        "INSERT INTO record_metadata (key, collection, name, kind, is_list, value) "
        "SELECT t.key, (SELECT number FROM collections WHERE id = ?), m.name, m.kind, "
        "m.is_list, m.value FROM record_metadata m "
        "JOIN records s ON s.key = m.key JOIN records t ON t.collection_id = ? AND t.id = s.id "
        "WHERE s.collection_id = ?",
        (target_id, target_id, source_id),
    )
    await db.execute(
        "INSERT INTO sparse_postings (key, collection_id, name, term, value) "
        "SELECT t.key, ?, p.name, p.term, p.value FROM sparse_postings p "
        "JOIN records s ON s.key = p.key JOIN records t ON t.collection_id = ? AND t.id = s.id "
        "WHERE s.collection_id = ?",
        (target_id, target_id, source_id),
    )
    await db.execute(
        "UPDATE collections SET seq = 1, (dimension, record_count) = "
        "(SELECT dimension, record_count FROM collections WHERE id = ?) WHERE id = ?",
        (source_id, target_id),
    )
