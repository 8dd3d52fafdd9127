"""SQL for records: rows, their metadata index, tombstones and per-collection sequence numbers.

Every write runs inside one `Store.transaction()` and is given the collection's next `seq`.
Lists of ids or keys travel as one JSON parameter (`json_each`), so no batch hits SQLite's
bound-variable limit; ids holding a NUL are bound one by one (see `id_in`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
import numpy as np

from achroma.core import schema_rules
from achroma.core.requests import RecordFilter
from achroma.core.sparse import is_sparse_wire, metadata_from_wire, metadata_to_wire
from achroma.engine.filter_sql import (
    MAX_PARAMETERS,
    Rows,
    SqlFilter,
    compile_mixed,
    compile_where,
    compile_where_document,
    is_selective,
    kind_of,
    with_clause,
)
from achroma.engine.index import Keys, Vectors
from achroma.engine.store import retry_busy
from achroma.errors import InvalidArgumentError, NotFoundError

# Metadata keys Chroma reserves for itself: accepted on write, never stored or returned.
INTERNAL_PREFIX = "chroma:"


@dataclass
class Row:
    """One stored record, with the columns a read asked for (others None)."""

    key: int
    id: str
    embedding: bytes | None
    document: str | None
    uri: str | None
    metadata: str | None


# One round trip to aiosqlite's thread each (execute + fetch + close would be three). A read
# rarely meets a lock in WAL mode (another process's crash recovery, its last close), and
# then waits for it like a write does.


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> Any:
    return next(iter(await _all(db, sql, params)), None)


async def _all(db: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return list(await retry_busy("the store", lambda: db.execute_fetchall(sql, params)))


def _json(values: Iterable[Any]) -> str:
    return json.dumps(list(values))


# SQLite's json_each ends a string at its first NUL, so such ids are bound one by one, up to
# this many in one request (SQLite allows 32,766 bound variables).
MAX_NUL_IDS = 30_000


def id_in(column: str, ids: list[str]) -> tuple[str, list[Any]]:
    """SQL (and its parameters) testing that `column` is one of `ids`."""
    encoded = _json(ids)
    if "\\u0000" not in encoded:  # json.dumps writes NUL as \u0000
        return f"{column} IN (SELECT value FROM json_each(?))", [encoded]
    with_nul = [i for i in ids if "\x00" in i]
    if len(with_nul) > MAX_NUL_IDS:
        raise InvalidArgumentError(
            f"ids: at most {MAX_NUL_IDS} ids containing NUL per request, got {len(with_nul)}"
        )
    plain = [i for i in ids if "\x00" not in i]
    marks = ", ".join("?" * len(with_nul))
    return (
        f"({column} IN (SELECT value FROM json_each(?)) OR {column} IN ({marks}))",
        [_json(plain), *with_nul],
    )


# --- collection state ---


async def collection_state(db: aiosqlite.Connection, collection_id: str) -> tuple[int, int | None]:
    """(seq, dimension) of a collection; NotFoundError if it was deleted."""
    row = await _one(db, "SELECT seq, dimension FROM collections WHERE id = ?", (collection_id,))
    if row is None:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    return int(row[0]), row[1]


async def set_state(
    db: aiosqlite.Connection, collection_id: str, seq: int, dimension: int | None
) -> None:
    await db.execute(
        "UPDATE collections SET seq = ?, dimension = ? WHERE id = ?",
        (seq, dimension, collection_id),
    )


async def count(db: aiosqlite.Connection, collection_id: str) -> int:
    row = await _one(db, "SELECT count(*) FROM records WHERE collection_id = ?", (collection_id,))
    return int(row[0])


# --- writes ---


def encode_metadata(metadata: dict[str, Any] | None) -> str | None:
    """Metadata as stored: JSON, sparse vectors in their tagged form."""
    if metadata is None:
        return None
    return json.dumps(
        metadata_to_wire({k: v for k, v in metadata.items() if not k.startswith(INTERNAL_PREFIX)})
    )


def decode_metadata(encoded: str) -> dict[str, Any]:
    decoded: dict[str, Any] = metadata_from_wire(json.loads(encoded))
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
    items: Iterable[tuple[int, str | None]],
    indexed: Indexed,
) -> None:
    rows: list[tuple[Any, ...]] = []
    postings: list[tuple[Any, ...]] = []
    for key, encoded in items:
        if encoded is not None:
            rows += _metadata_rows(key, collection_id, json.loads(encoded), postings, indexed)
    if rows:
        await db.executemany(
            "INSERT INTO record_metadata (key, collection_id, name, kind, is_list, value) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    if postings:
        await db.executemany(
            "INSERT INTO sparse_postings (key, collection_id, name, term, value) "
            "VALUES (?, ?, ?, ?, ?)",
            postings,
        )


async def existing(
    db: aiosqlite.Connection, collection_id: str, ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """The stored records among `ids`: id -> (key, encoded metadata)."""
    match, params = id_in("id", ids)
    rows = await _all(
        db,
        f"SELECT id, key, metadata FROM records WHERE collection_id = ? AND {match}",
        (collection_id, *params),
    )
    return {r[0]: (r[1], r[2]) for r in rows}


@dataclass(frozen=True)
class Inserts:
    """New records, column by column (metadata encoded, None values dropped)."""

    ids: list[str]
    embeddings: Vectors
    documents: list[str | None]
    uris: list[str | None]
    metadatas: list[str | None]


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
    row = await _one(db, "SELECT seq FROM sqlite_sequence WHERE name = 'records'", ())
    first = (int(row[0]) if row else 0) + 1
    ids, metadatas = inserts.ids, inserts.metadatas
    keys = np.arange(first, first + len(ids), dtype=np.uint64)
    await db.executemany(
        "INSERT INTO records (key, collection_id, id, seq, embedding, document, uri, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (int(k), collection_id, i, seq, e.tobytes(), d, u, m)
            for k, i, e, d, u, m in zip(
                keys,
                ids,
                inserts.embeddings,
                inserts.documents,
                inserts.uris,
                metadatas,
                strict=False,
            )
        ],
    )
    await _index_metadata(
        db,
        collection_id,
        zip((int(k) for k in keys), metadatas, strict=False),
        indexes_of(schema),
    )
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
        changed_keys = _json(k for k, _ in changed)
        for table in ("record_metadata", "sparse_postings"):
            await db.execute(
                f"DELETE FROM {table} WHERE key IN (SELECT value FROM json_each(?))",
                (changed_keys,),
            )
        await _index_metadata(db, collection_id, changed, indexes_of(schema))


async def delete(db: aiosqlite.Connection, collection_id: str, seq: int, keys: list[int]) -> None:
    encoded = _json(keys)
    await db.execute(
        "DELETE FROM records WHERE key IN (SELECT value FROM json_each(?))", (encoded,)
    )
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
        "INSERT INTO record_metadata (key, collection_id, name, kind, is_list, value) "
        "SELECT t.key, ?, m.name, m.kind, m.is_list, m.value FROM record_metadata m "
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
        "UPDATE collections SET seq = 1, dimension = "
        "(SELECT dimension FROM collections WHERE id = ?) WHERE id = ?",
        (source_id, target_id),
    )


# --- reads ---


def _order(ids: list[str] | None) -> str:
    # Given ids, SQLite must look them up through the (collection_id, id) index and sort
    # the few rows; `+` stops it walking the whole collection in key order instead.
    return "ORDER BY +r.key" if ids is not None else "ORDER BY r.key"


def _selection(collection_id: str, selection: RecordFilter) -> tuple[str, str, list[Any]]:
    """(`WITH` prefix, condition, parameters of both) selecting the matching records."""
    prefix, prefix_params, cond, params = _selection_parts(collection_id, selection)
    return prefix, cond, [*prefix_params, *params]


def _selection_parts(
    collection_id: str, selection: RecordFilter
) -> tuple[str, list[Any], str, list[Any]]:
    """`_selection` with the prefix's parameters and the condition's apart."""
    rows = Rows.of_collection(collection_id)
    ids, where = selection.ids, selection.where
    # With a selective metadata filter, `+` keeps SQLite from walking the whole collection
    # through its index and makes it start from the (few) matching keys instead.
    driven_by_keys = ids is None and any(
        node is not None and is_selective(node) for node in (where, selection.mixed)
    )
    conds = ["+r.collection_id = ?" if driven_by_keys else "r.collection_id = ?"]
    params: list[Any] = [collection_id]
    if ids is not None:
        match, match_params = id_in("r.id", ids)
        conds.append(match)
        params += match_params
    filters = _filters(rows, selection)
    prefix, prefix_params = with_clause(filters)
    for f in filters:
        conds.append(f.condition)
        params += f.params
    _check_parameters([*prefix_params, *params])
    return prefix, prefix_params, " AND ".join(conds), params


def _check_parameters(params: list[Any]) -> None:
    """Each filter is held to MAX_PARAMETERS on its own; together (with NUL ids bound one by
    one) they must stay below SQLite's default bound-variable limit too."""
    if len(params) > MAX_PARAMETERS:
        raise InvalidArgumentError(
            f"Expected ids, where and where_document together to need at most "
            f"{MAX_PARAMETERS} SQL parameters, got {len(params)}: split the request"
        )


def _filters(rows: Rows, selection: RecordFilter) -> list[SqlFilter]:
    filters = []
    if selection.where is not None:
        filters.append(compile_where(selection.where, rows))
    if selection.where_document is not None:
        filters.append(compile_where_document(selection.where_document, rows))
    if selection.mixed is not None:
        filters.append(compile_mixed(selection.mixed, rows))
    return filters


def _columns(embeddings: bool, documents: bool, uris: bool, metadatas: bool) -> str:
    return ", ".join(
        [
            "r.key",
            "r.id",
            "r.embedding" if embeddings else "NULL",
            "r.document" if documents else "NULL",
            "r.uri" if uris else "NULL",
            "r.metadata" if metadatas else "NULL",
        ]
    )


async def select_keys(
    db: aiosqlite.Connection,
    collection_id: str,
    selection: RecordFilter,
    limit: int | None = None,
) -> list[int]:
    """Keys of the selected records, in insertion order."""
    prefix, cond, params = _selection(collection_id, selection)
    order = _order(selection.ids)
    rows = await _all(
        db,
        f"{prefix}SELECT r.key FROM records r WHERE {cond} {order} LIMIT ?",
        [*params, -1 if limit is None else limit],
    )
    return [r[0] for r in rows]


async def filter_keys(
    db: aiosqlite.Connection, keys: list[int], selection: RecordFilter
) -> set[int]:
    """Those of `keys` whose records pass the selection's filters (its ids aside), each
    record tested on its own."""
    among = Rows.among_keys(_json(keys))
    filters = _filters(among, selection)
    prefix, params = with_clause(filters)
    conds = [among.condition, *(f.condition for f in filters)]
    params += [*among.params, *(p for f in filters for p in f.params)]
    _check_parameters(params)
    sql = f"{prefix}SELECT r.key FROM records r WHERE {' AND '.join(conds)}"
    rows = await _all(db, sql, params)
    return {r[0] for r in rows}


async def select_rows(
    db: aiosqlite.Connection,
    collection_id: str,
    selection: RecordFilter,
    limit: int | None,
    offset: int | None,
    columns: dict[str, bool],
) -> list[Row]:
    """The selected records in insertion order, paged."""
    prefix, cond, params = _selection(collection_id, selection)
    order = _order(selection.ids)
    rows = await _all(
        db,
        f"{prefix}SELECT {_columns(**columns)} FROM records r "
        f"WHERE {cond} {order} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset or 0],
    )
    return [Row(*r) for r in rows]


async def rows_by_key(
    db: aiosqlite.Connection, keys: Iterable[int], columns: dict[str, bool]
) -> dict[int, Row]:
    rows = await _all(
        db,
        f"SELECT {_columns(**columns)} FROM records r "
        "WHERE r.key IN (SELECT value FROM json_each(?))",
        (_json(keys),),
    )
    return {r[0]: Row(*r) for r in rows}


async def vectors(
    db: aiosqlite.Connection, keys: list[int], dimension: int
) -> tuple[Keys, Vectors]:
    """Stored vectors of `keys`, in key order."""
    rows = await _all(
        db,
        "SELECT key, embedding FROM records "
        "WHERE key IN (SELECT value FROM json_each(?)) ORDER BY key",
        (_json(keys),),
    )
    return _unpack(rows, dimension)


async def vector_slice(
    db: aiosqlite.Connection,
    collection_id: str,
    after_key: int,
    limit: int,
    dimension: int,
    up_to_seq: int | None = None,
) -> tuple[Keys, Vectors]:
    """Up to `limit` vectors of the collection with keys above `after_key`, in key order;
    with `up_to_seq`, only records last written at that seq or before (a rebuild numbered
    `up_to_seq` leaves later writes to the catch-up, which replays them)."""
    rows = await _all(
        db,
        "SELECT key, embedding FROM records WHERE key > ? AND collection_id = ? "
        "AND seq <= ? ORDER BY key LIMIT ?",
        (after_key, collection_id, 2**63 - 1 if up_to_seq is None else up_to_seq, limit),
    )
    return _unpack(rows, dimension)


def _unpack(rows: list[Any], dimension: int) -> tuple[Keys, Vectors]:
    keys = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
    if not rows:
        return keys, np.empty((0, dimension), dtype=np.float32)
    flat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return keys, flat.reshape(len(rows), dimension)


async def changes_since(
    db: aiosqlite.Connection, collection_id: str, seq: int, dimension: int
) -> tuple[Keys, Keys, Vectors]:
    """What the index must apply to move past `seq`: (removed keys, changed keys, vectors)."""
    removed = await _all(
        db, "SELECT key FROM tombstones WHERE collection_id = ? AND seq > ?", (collection_id, seq)
    )
    changed = await _all(
        db,
        "SELECT key, embedding FROM records WHERE collection_id = ? AND seq > ?",
        (collection_id, seq),
    )
    keys, vecs = _unpack(changed, dimension)
    return np.array([r[0] for r in removed], dtype=np.uint64), keys, vecs


# --- sparse vectors ---


async def sparse_dots(
    db: aiosqlite.Connection,
    collection_id: str,
    selection: RecordFilter,
    name: str,
    weights: dict[int, float],
    limit: int,
) -> list[tuple[int, float]]:
    """The `limit` selected records with the largest dot product between their sparse vector
    under `name` and `weights` (term -> weight), largest first, ties in key order. Records
    sharing no term with the query are not candidates."""
    if not weights:
        return []
    prefix, prefix_params, cond, params = _selection_parts(collection_id, selection)
    query = _json([term, weight] for term, weight in weights.items())
    rows = await _all(
        db,
        f"{prefix}SELECT p.key, sum(p.value * json_extract(q.value, '$[1]')) AS dot "
        "FROM json_each(?) q CROSS JOIN sparse_postings p "
        "ON p.collection_id = ? AND p.name = ? AND p.term = json_extract(q.value, '$[0]') "
        f"JOIN records r ON r.key = p.key WHERE {cond} "
        "GROUP BY p.key ORDER BY dot DESC, p.key LIMIT ?",
        [*prefix_params, query, collection_id, name, *params, limit],
    )
    return [(int(r[0]), float(r[1])) for r in rows]


async def term_counts(
    db: aiosqlite.Connection, collection_id: str, name: str, terms: list[int]
) -> dict[int, int]:
    """How many of the collection's records have each of `terms` in their vector at `name`."""
    rows = await _all(
        db,
        "SELECT term, count(*) FROM sparse_postings WHERE collection_id = ? AND name = ? "
        "AND term IN (SELECT value FROM json_each(?)) GROUP BY term",
        (collection_id, name, _json(terms)),
    )
    return {int(r[0]): int(r[1]) for r in rows}
