"""SQL reads of records, as plain functions on a `sqlite3.Connection`.

They run on a connection's own thread: the executor calls several of them (the collection's
state, the filter, the rows) in one hand-off through `Store.run`, and `records` wraps each
one for callers holding an aiosqlite connection (`records.count(db, ...)` and friends).

Lists of ids or keys travel as one JSON parameter (`json_each`), so no read hits SQLite's
bound-variable limit; ids holding a NUL are bound one by one (see `id_in`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from achroma.core.requests import RecordFilter
from achroma.engine.filter_sql import (
    MAX_PARAMETERS,
    Rows,
    SqlFilter,
    compile_mixed,
    compile_where,
    compile_where_document,
    is_selective,
    with_clause,
)
from achroma.engine.index import Keys, Vectors
from achroma.errors import InvalidArgumentError, NotFoundError


class Row(NamedTuple):
    """One stored record, with the columns a read asked for (others None). A tuple: a
    query builds one per hit, and a dataclass costs three times as much to build."""

    key: int
    id: str
    embedding: bytes | None
    document: str | None
    uri: str | None
    metadata: str | None


def _all(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _one(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> Any:
    return conn.execute(sql, params).fetchone()


def json_list(values: Iterable[Any]) -> str:
    return json.dumps(list(values))


# SQLite's json_each ends a string at its first NUL, so such ids are bound one by one, up to
# this many in one request (SQLite allows 32,766 bound variables).
MAX_NUL_IDS = 30_000


def id_in(column: str, ids: list[str]) -> tuple[str, list[Any]]:
    """SQL (and its parameters) testing that `column` is one of `ids`."""
    encoded = json_list(ids)
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
        [json_list(plain), *with_nul],
    )


# --- collection state ---


def collection_state(conn: sqlite3.Connection, collection_id: str) -> tuple[int, int | None]:
    """(seq, dimension) of a collection; NotFoundError if it was deleted."""
    row = _one(conn, "SELECT seq, dimension FROM collections WHERE id = ?", (collection_id,))
    if row is None:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    return int(row[0]), row[1]


def count(conn: sqlite3.Connection, collection_id: str) -> int:
    """How many records the collection holds: the count its writes keep (`record_count`, one
    row, whatever the size); NotFoundError if it was deleted."""
    row = _one(conn, "SELECT record_count FROM collections WHERE id = ?", (collection_id,))
    if row is None:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    return int(row[0])


def count_rows(conn: sqlite3.Connection, collection_id: str) -> int:
    """The collection's records counted one by one (what `count` must always equal)."""
    row = _one(conn, "SELECT count(*) FROM records WHERE collection_id = ?", (collection_id,))
    return int(row[0])


def existing(
    conn: sqlite3.Connection, collection_id: str, ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """The stored records among `ids`: id -> (key, encoded metadata)."""
    match, params = id_in("id", ids)
    rows = _all(
        conn,
        f"SELECT id, key, metadata FROM records WHERE collection_id = ? AND {match}",
        (collection_id, *params),
    )
    return {r[0]: (r[1], r[2]) for r in rows}


# --- selections ---


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


def select_keys(
    conn: sqlite3.Connection,
    collection_id: str,
    selection: RecordFilter,
    limit: int | None = None,
) -> list[int]:
    """Keys of the selected records, in insertion order."""
    prefix, cond, params = _selection(collection_id, selection)
    order = _order(selection.ids)
    rows = _all(
        conn,
        f"{prefix}SELECT r.key FROM records r WHERE {cond} {order} LIMIT ?",
        [*params, -1 if limit is None else limit],
    )
    return [r[0] for r in rows]


def filter_keys(conn: sqlite3.Connection, keys: list[int], selection: RecordFilter) -> set[int]:
    """Those of `keys` whose records pass the selection's filters (its ids aside), each
    record tested on its own."""
    among = Rows.among_keys(json_list(keys))
    filters = _filters(among, selection)
    prefix, params = with_clause(filters)
    conds = [among.condition, *(f.condition for f in filters)]
    params += [*among.params, *(p for f in filters for p in f.params)]
    _check_parameters(params)
    sql = f"{prefix}SELECT r.key FROM records r WHERE {' AND '.join(conds)}"
    return {r[0] for r in _all(conn, sql, params)}


def select_rows(
    conn: sqlite3.Connection,
    collection_id: str,
    selection: RecordFilter,
    limit: int | None,
    offset: int | None,
    columns: dict[str, bool],
) -> list[Row]:
    """The selected records in insertion order, paged."""
    prefix, cond, params = _selection(collection_id, selection)
    order = _order(selection.ids)
    rows = _all(
        conn,
        f"{prefix}SELECT {_columns(**columns)} FROM records r "
        f"WHERE {cond} {order} LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset or 0],
    )
    return [Row._make(r) for r in rows]


# Up to this many keys are bound one parameter each: for a page of results, cheaper than
# parsing them from JSON.
BOUND_KEYS = 256


def key_in(column: str, keys: Sequence[int]) -> tuple[str, Sequence[Any]]:
    """SQL (and its parameters) testing that integer `column` is one of `keys`."""
    if len(keys) <= BOUND_KEYS:
        return f"{column} IN ({', '.join('?' * len(keys))})", keys
    return f"{column} IN (SELECT value FROM json_each(?))", [json_list(keys)]


def rows_by_key(
    conn: sqlite3.Connection, keys: Iterable[int], columns: dict[str, bool]
) -> dict[int, Row]:
    match, params = key_in("r.key", list(keys))
    rows = _all(conn, f"SELECT {_columns(**columns)} FROM records r WHERE {match}", params)
    return {r[0]: Row._make(r) for r in rows}


def state_and_rows(
    conn: sqlite3.Connection, collection_id: str, keys: Iterable[int], columns: dict[str, bool]
) -> tuple[tuple[int, int | None], dict[int, Row]]:
    """The collection's (seq, dimension) and the rows of `keys`, read by one statement, so
    from one snapshot; NotFoundError if the collection was deleted."""
    match, params = key_in("r.key", list(keys))
    # `+` makes SQLite find each key by its rowid, not through the (collection_id) index.
    found = _all(
        conn,
        f"SELECT c.seq, c.dimension, {_columns(**columns)} FROM collections c "
        f"LEFT JOIN records r ON {match} AND +r.collection_id = c.id WHERE c.id = ?",
        [*params, collection_id],
    )
    if not found:
        raise NotFoundError(f"Collection [{collection_id}] does not exist")
    state = (int(found[0][0]), found[0][1])
    return state, {r[2]: Row._make(r[2:]) for r in found if r[2] is not None}


# --- vectors ---


def vectors(conn: sqlite3.Connection, keys: list[int], dimension: int) -> tuple[Keys, Vectors]:
    """Stored vectors of `keys`, in key order."""
    rows = _all(
        conn,
        "SELECT key, embedding FROM records "
        "WHERE key IN (SELECT value FROM json_each(?)) ORDER BY key",
        (json_list(keys),),
    )
    return _unpack(rows, dimension)


# A slice read as one row stays below this (SQLite's limit on one value is 1e9 bytes): a
# caller asking for more rows gets fewer.
_PACKED_SLICE_BYTES = 64 << 20
# One row: the slice's keys and its embeddings, each concatenated by SQLite in the same pass,
# so in the same order (`vector_slice` makes it key order, whatever SQLite's is).
_PACKED_SLICE = (
    "SELECT group_concat(key), CAST(group_concat(embedding, x'') AS BLOB) FROM "
    "(SELECT key, embedding FROM records WHERE key > ? AND collection_id = ? AND seq <= ? "
    "ORDER BY key LIMIT ?)"
)


def vector_slice(
    conn: sqlite3.Connection,
    collection_id: str,
    after_key: int,
    limit: int,
    dimension: int,
    up_to_seq: int | None = None,
) -> tuple[Keys, Vectors]:
    """Up to `limit` vectors of the collection with keys above `after_key`, in key order
    (no more than `_PACKED_SLICE_BYTES` of them); with `up_to_seq`, only records last
    written at that seq or before (a rebuild numbered `up_to_seq` leaves later writes to
    the catch-up, which replays them). Read as one row rather than one a record: a row a
    record costs a Python object or two each, and hands the GIL back and forth with every
    one (the threads placing vectors meanwhile wait for it)."""
    seq = 2**63 - 1 if up_to_seq is None else up_to_seq
    limit = min(limit, max(1, _PACKED_SLICE_BYTES // (4 * dimension)))
    keys_text, blob = conn.execute(_PACKED_SLICE, (after_key, collection_id, seq, limit)).fetchone()
    if keys_text is None:
        return np.empty(0, dtype=np.uint64), np.empty((0, dimension), dtype=np.float32)
    keys = np.fromstring(keys_text, dtype=np.uint64, sep=",")
    if len(blob) != len(keys) * 4 * dimension:
        raise ValueError(f"the embeddings of a slice of records are not of dimension {dimension}")
    vectors = np.frombuffer(blob, dtype=np.float32).reshape(len(keys), dimension)
    if len(keys) > 1 and not bool((keys[1:] > keys[:-1]).all()):
        order = np.argsort(keys)
        keys, vectors = keys[order], vectors[order]
    return keys, vectors


def _unpack(rows: list[Any], dimension: int) -> tuple[Keys, Vectors]:
    keys = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
    if not rows:
        return keys, np.empty((0, dimension), dtype=np.float32)
    flat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    return keys, flat.reshape(len(rows), dimension)


def changes_since(
    conn: sqlite3.Connection, collection_id: str, seq: int, dimension: int
) -> tuple[Keys, Keys, Vectors]:
    """What the index must apply to move past `seq`: (removed keys, changed keys, vectors)."""
    removed = _all(
        conn,
        "SELECT key FROM tombstones WHERE collection_id = ? AND seq > ?",
        (collection_id, seq),
    )
    changed = _all(
        conn,
        "SELECT key, embedding FROM records WHERE collection_id = ? AND seq > ?",
        (collection_id, seq),
    )
    keys, vecs = _unpack(changed, dimension)
    return np.array([r[0] for r in removed], dtype=np.uint64), keys, vecs


# --- sparse vectors ---


def sparse_dots(
    conn: sqlite3.Connection,
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
    query = json_list([term, weight] for term, weight in weights.items())
    rows = _all(
        conn,
        f"{prefix}SELECT p.key, sum(p.value * json_extract(q.value, '$[1]')) AS dot "
        "FROM json_each(?) q CROSS JOIN sparse_postings p "
        "ON p.collection_id = ? AND p.name = ? AND p.term = json_extract(q.value, '$[0]') "
        f"JOIN records r ON r.key = p.key WHERE {cond} "
        "GROUP BY p.key ORDER BY dot DESC, p.key LIMIT ?",
        [*prefix_params, query, collection_id, name, *params, limit],
    )
    return [(int(r[0]), float(r[1])) for r in rows]


def term_counts(
    conn: sqlite3.Connection, collection_id: str, name: str, terms: list[int]
) -> dict[int, int]:
    """How many of the collection's records have each of `terms` in their vector at `name`."""
    rows = _all(
        conn,
        "SELECT term, count(*) FROM sparse_postings WHERE collection_id = ? AND name = ? "
        "AND term IN (SELECT value FROM json_each(?)) GROUP BY term",
        (collection_id, name, json_list(terms)),
    )
    return {int(r[0]): int(r[1]) for r in rows}
