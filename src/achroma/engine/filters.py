"""Compile validated `where` / `where_document` filters into parameterised SQL.

Each compiler returns a boolean SQL expression over the `records` row aliased `r`, and its
parameters. User values and keys only ever travel as parameters.

Semantics follow chromadb 1.5.9:
- `$eq`/`$ne`/`$in`/`$nin` and ranges compare scalars only, never list elements; int and float
  compare numerically, bool is its own type, str is case-sensitive.
- `$contains`/`$not_contains` match list elements of exactly the operand's type.
- The negative operators (`$ne`, `$nin`, `$not_contains`) also match records lacking the key.
- `$regex` uses Rust's regex dialect, as Chroma does (see `achroma.emulation.rust_regex`).
- Document `$contains` is a case-sensitive substring test; a missing document never matches a
  positive document filter and always matches a negative one.
"""

from __future__ import annotations

import json
from typing import Any

from achroma.core.models import Where, WhereDocument
from achroma.emulation.rust_regex import compile_pattern

Sql = tuple[str, list[Any]]

# The full-text index matches substrings of at least this many characters.
TRIGRAM = 3

_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NEGATIONS = {"$ne": "$eq", "$nin": "$in", "$not_contains": "$contains"}


def kind_of(value: Any) -> str:
    """The type tag stored in `record_metadata.kind`."""
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, float):
        return "f"
    return "s"


def _kind_test(value: Any, exact: bool) -> Sql:
    kind = kind_of(value)
    if kind in ("i", "f") and not exact:
        return "m.kind IN ('i', 'f')", []
    return "m.kind = ?", [kind]


def _stored(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _matching_keys(collection_id: str | None, name: str, op: str, operand: Any) -> Sql:
    """Keys of records whose metadata `name` satisfies the positive operator `op`.

    With a collection id, not correlated with the outer row, so SQLite builds the key set
    once from the (collection_id, name, kind, value) index. Without one, correlated: it
    looks at the outer row's own metadata only (cheap for a few rows).
    """
    if collection_id is None:
        conds, params = ["m.key = r.key", "m.name = ?"], [name]
    else:
        conds, params = ["m.collection_id = ?", "m.name = ?"], [collection_id, name]
    if op == "$contains":
        kind_sql, kind_params = _kind_test(operand, exact=True)
        conds += ["m.is_list = 1", kind_sql, "m.value = ?"]
        params += [*kind_params, _stored(operand)]
    else:
        conds.append("m.is_list = 0")
        if op in _RANGES:
            conds += ["m.kind IN ('i', 'f')", f"m.value {_RANGES[op]} ?"]
            params.append(operand)
        elif op == "$eq":
            kind_sql, kind_params = _kind_test(operand, exact=False)
            conds += [kind_sql, "m.value = ?"]
            params += [*kind_params, _stored(operand)]
        else:  # $in: the operands share one type (validated)
            kind_sql, kind_params = _kind_test(operand[0], exact=False)
            conds += [kind_sql, "m.value IN (SELECT value FROM json_each(?))"]
            params += [*kind_params, _json_list(operand)]
    return "SELECT m.key FROM record_metadata m WHERE " + " AND ".join(conds), params


def _json_list(values: list[Any]) -> str:
    return json.dumps([_stored(v) for v in values])


def compile_where(where: Where, collection_id: str | None) -> Sql:
    """SQL for a validated `where` filter on the records of one collection.

    `collection_id=None` compiles a per-row test, for checking a few known keys.
    """
    ((key, value),) = where.items()
    if key in ("$and", "$or"):
        parts = [compile_where(clause, collection_id) for clause in value]
        joiner = " AND " if key == "$and" else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]
    if isinstance(value, dict):
        ((op, operand),) = value.items()
    else:
        op, operand = "$eq", value
    negated = op in _NEGATIONS
    sub, params = _matching_keys(collection_id, key, _NEGATIONS[op] if negated else op, operand)
    if collection_id is None:
        return f"{'NOT ' if negated else ''}EXISTS ({sub})", params
    return f"r.key {'NOT IN' if negated else 'IN'} ({sub})", params


def is_selective(where: Where) -> bool:
    """Whether the filter only admits records found through the metadata index (no
    negations at its root), so SQLite should start from the matching keys."""
    ((key, value),) = where.items()
    if key == "$and":
        return any(is_selective(w) for w in value)
    if key == "$or":
        return all(is_selective(w) for w in value)
    op = next(iter(value)) if isinstance(value, dict) else "$eq"
    return op not in _NEGATIONS


def compile_where_document(where_document: WhereDocument, per_row: bool = False) -> Sql:
    """SQL for a validated `where_document` filter (`per_row`: for a few known keys, so
    without the full-text index)."""
    ((op, operand),) = where_document.items()
    if op in ("$and", "$or"):
        parts = [compile_where_document(clause, per_row) for clause in operand]
        joiner = " AND " if op == "$and" else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]
    params: list[Any] = []
    if op in ("$contains", "$not_contains"):
        positive = "(r.document IS NOT NULL AND instr(r.document, ?) > 0)"
        if len(operand) >= TRIGRAM and not per_row:
            # The trigram index narrows to candidates; instr keeps the exact semantics.
            positive = (
                "(r.key IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?) "
                "AND instr(r.document, ?) > 0)"
            )
            params.append('"' + operand.replace('"', '""') + '"')
    else:
        positive = "(r.document IS NOT NULL AND regexp(?, r.document))"
    params.append(operand)
    if op.startswith("$not_"):
        return f"NOT {positive}", params
    return positive, params


def regexp(pattern: str, text: str | None) -> bool:
    """SQLite `regexp(pattern, text)`: an unanchored search, as Chroma's `$regex`, in time
    linear in `text` (RE2, see `achroma.emulation.rust_regex`); compiled patterns are cached."""
    return text is not None and compile_pattern(pattern).is_match(text)
