"""Compile parsed `where` / `where_document` trees into parameterised SQL.

Each compiler returns a boolean SQL condition over the `records` row aliased `r`, its
parameters, and the common table expressions it refers to. User values and keys only ever
travel as parameters.

Semantics follow chromadb 1.5.9:
- `$eq`/`$ne`/`$in`/`$nin` and ranges compare scalars only, never list elements; int and float
  compare numerically, bool is its own type, str is case-sensitive.
- `$contains`/`$not_contains` match list elements of exactly the operand's type.
- The negative operators (`$ne`, `$nin`, `$not_contains`) also match records lacking the key.
- `$regex` uses Rust's regex dialect, as Chroma does (see `achroma.emulation.rust_regex`).
- Document `$contains` is a case-sensitive substring test; a missing document never matches a
  positive document filter and always matches a negative one.

SQLite's parser has a fixed stack of 100 entries (until 3.45: about 25 nested `(a AND (b OR
...` levels) and an expression depth limit of 1,000 (a chain `a OR b OR ...` is that deep),
and one subquery per leaf gets slow past a few thousand. So the tree is first reshaped:
same-operator chains are flattened; sibling leaves that only widen a union (positive ones
under `$or`, negative ones under `$and`) merge, per operator and kind, into one lookup over a
JSON list of (key, operand) pairs; what stays wider than `WIDTH` is split into a balanced
tree. Then any `$and`/`$or` nested `HOIST_DEPTH` levels deep is compiled into a CTE of its
own (the keys it admits), which its parent tests with `IN`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from achroma.core.filters import (
    Comparison,
    Contains,
    DocumentMatch,
    DocumentNode,
    Junction,
    JunctionOp,
    Membership,
    Scalar,
    WhereNode,
    is_negative,
)
from achroma.core.search_filter import IdMatch, SearchNode
from achroma.emulation.rust_regex import RegexTimeout, compile_pattern
from achroma.errors import InvalidArgumentError

Sql = tuple[str, list[Any]]

# The full-text index matches substrings of at least this many characters.
TRIGRAM = 3
# A `$contains` looks up at most this many of its trigrams in the full-text index.
MAX_TRIGRAMS = 32
# Clauses joined in one flat chain: its expression depth, far below SQLite's 1,000.
WIDTH = 64
# `$and`/`$or` levels nested in one SQL expression before the next goes to a CTE: each level
# takes about 4 of the parser's 100 stack entries.
HOIST_DEPTH = 8
# Bound parameters one filter may use: SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32,766
# (some builds allow more); the rest of the statement needs a few.
MAX_PARAMETERS = 32_000

_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_OPERATORS = {**_RANGES, "$eq": "=", "$contains": "="}
_KIND_LITERALS = {"b": "'b'", "i": "'i'", "f": "'f'", "s": "'s'"}


def kind_of(value: Any) -> str:
    """The type tag stored in `record_metadata.kind`."""
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, float):
        return "f"
    return "s"


@dataclass(frozen=True)
class Rows:
    """The records a filter is compiled for: a collection's (found through the metadata
    index), or a few known keys, each row tested on its own (`collection_id` None)."""

    condition: str
    params: tuple[Any, ...]
    collection_id: str | None

    @classmethod
    def of_collection(cls, collection_id: str) -> Rows:
        return cls("r.collection_id = ?", (collection_id,), collection_id)

    @classmethod
    def among_keys(cls, keys_json: str) -> Rows:
        return cls("r.key IN (SELECT value FROM json_each(?))", (keys_json,), None)


@dataclass
class SqlFilter:
    """A compiled filter: `condition` (with `params`) refers to the CTEs in `ctes` (each
    `name(key) AS (...)`), whose parameters come first, in `cte_params`."""

    condition: str
    params: list[Any]
    ctes: list[str] = field(default_factory=list)
    cte_params: list[Any] = field(default_factory=list)


def with_clause(filters: Sequence[SqlFilter]) -> Sql:
    """The `WITH ...` prefix of a statement using `filters` (empty if none needs one)."""
    ctes = [cte for f in filters for cte in f.ctes]
    if not ctes:
        return "", []
    return "WITH " + ", ".join(ctes) + " ", [p for f in filters for p in f.cte_params]


# --- where ---


def compile_where(where: WhereNode, rows: Rows, name: str = "where") -> SqlFilter:
    """SQL for a `where` tree on `rows`."""
    return _Compiler(rows, name, lambda leaf: _metadata_test(rows.collection_id, leaf)).run(
        _reshaped(where, _merge_alternatives)
    )


@dataclass(frozen=True)
class AnyOf:
    """Sibling leaves of one operator and kind merged into one test over (key, operand)
    pairs: a record passes if its metadata passes any pair (`negated`: none)."""

    op: str  # "$eq", a range, or "$contains"
    kind: str  # the SQL test of `m.kind`
    pairs: tuple[tuple[str, Scalar], ...]
    negated: bool


MetadataLeaf = Comparison | Membership | Contains | AnyOf


def _metadata_test(collection_id: str | None, leaf: MetadataLeaf) -> Sql:
    negated = leaf.negated if isinstance(leaf, AnyOf) else is_negative(leaf)
    sub, params = _matching_keys(collection_id, leaf)
    if collection_id is None:
        return f"{'NOT ' if negated else ''}EXISTS ({sub})", params
    return f"r.key {'NOT IN' if negated else 'IN'} ({sub})", params


def _matching_keys(collection_id: str | None, leaf: MetadataLeaf) -> Sql:
    """Keys of records whose metadata satisfies the positive form of `leaf`.

    With a collection id, not correlated with the outer row, so SQLite builds the key set
    once from the (collection number, name, kind, value) index. Without one, correlated: it
    looks at the outer row's own metadata only (cheap for a few rows).
    """
    params: list[Any]
    if collection_id is None:
        conds, params = ["m.key = r.key"], []
    else:
        conds = ["m.collection = (SELECT number FROM collections WHERE id = ?)"]
        params = [collection_id]
    if isinstance(leaf, AnyOf):
        # One lookup per pair, from the pairs' JSON list: no parameter nor expression per leaf.
        conds += [
            "m.name = json_extract(p.value, '$[0]')",
            f"m.is_list = {int(leaf.op == '$contains')}",
            leaf.kind,
            f"m.value {_OPERATORS[leaf.op]} json_extract(p.value, '$[1]')",
        ]
        pairs = json.dumps([[key, _stored(value)] for key, value in leaf.pairs])
        return (
            "SELECT m.key FROM json_each(?) p CROSS JOIN record_metadata m WHERE "
            + " AND ".join(conds),
            [pairs, *params],
        )
    conds.append("m.name = ?")
    params.append(leaf.key)
    if isinstance(leaf, Contains):
        conds += ["m.is_list = 1", _kind_test(leaf.value, exact=True), "m.value = ?"]
        params.append(_stored(leaf.value))
    elif isinstance(leaf, Membership):
        values = [_stored(v) for v in leaf.values]
        if any(_has_nul(v) for v in values):
            # json_each would end those strings at their NUL: each is bound on its own.
            listed, values_params = ", ".join("?" * len(values)), values
        else:
            listed, values_params = "SELECT value FROM json_each(?)", [json.dumps(values)]
        conds += [
            "m.is_list = 0",
            _kind_test(leaf.values[0], exact=False),
            f"m.value IN ({listed})",
        ]
        params += values_params
    elif leaf.op in _RANGES:
        conds += ["m.is_list = 0", "m.kind IN ('i', 'f')", f"m.value {_RANGES[leaf.op]} ?"]
        params.append(leaf.value)
    else:  # $eq, $ne
        conds += ["m.is_list = 0", _kind_test(leaf.value, exact=False), "m.value = ?"]
        params.append(_stored(leaf.value))
    return "SELECT m.key FROM record_metadata m WHERE " + " AND ".join(conds), params


def _kind_test(value: Any, exact: bool) -> str:
    kind = kind_of(value)
    if kind in ("i", "f") and not exact:
        return "m.kind IN ('i', 'f')"
    return f"m.kind = {_KIND_LITERALS[kind]}"


def _stored(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def _has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def _merge_alternatives(op: JunctionOp, clauses: list[Any]) -> list[Any]:
    """Sibling leaves that only widen a union, as one `AnyOf` per operator and kind: under
    `$or`, the positive leaves; under `$and`, the negative ones (`not a and not b` is `not
    (a or b)`). A leaf alone in its group stays as it is. Range bounds on one key are first
    reduced to the one that decides (`_bounds`)."""
    clauses = _bounds(op, clauses)
    negated = op == "$and"
    groups: dict[tuple[str, str], list[Any]] = {}
    for clause in clauses:
        if (shape := _union_shape(clause, negated)) is not None:
            groups.setdefault(shape, []).append(clause)
    merged: list[Any] = []
    for clause in clauses:
        shape = _union_shape(clause, negated)
        if shape is None or len(groups[shape]) == 1:
            merged.append(clause)
        elif groups[shape][0] is clause:
            pairs = tuple(pair for c in groups[shape] for pair in _pairs(c))
            merged.append(AnyOf(shape[0], shape[1], pairs, negated))
    return merged


def _bounds(op: JunctionOp, clauses: list[Any]) -> list[Any]:
    """Sibling range tests on one key reduced to one lower and one upper bound: under `$and`
    the tightest (`n > 3 and n > 5` is `n > 5`), under `$or` the loosest. Ranges match
    numeric scalars only, so this keeps the meaning exactly."""
    best: dict[tuple[str, bool], Comparison] = {}
    for clause in clauses:
        if isinstance(clause, Comparison) and clause.op in _RANGES:
            side = (clause.key, clause.op in ("$gt", "$gte"))
            kept = best.get(side)
            best[side] = clause if kept is None else _decisive(op, kept, clause)
    if len(best) == sum(isinstance(c, Comparison) and c.op in _RANGES for c in clauses):
        return clauses  # nothing to reduce
    out, placed = [], set()
    for clause in clauses:
        if isinstance(clause, Comparison) and clause.op in _RANGES:
            side = (clause.key, clause.op in ("$gt", "$gte"))
            if side not in placed:
                placed.add(side)
                out.append(best[side])
        else:
            out.append(clause)
    return out


def _decisive(op: JunctionOp, a: Comparison, b: Comparison) -> Comparison:
    """Of two bounds on the same side of one key, the one that decides their `op`."""
    lower = a.op in ("$gt", "$gte")

    # A bound's strength: its value, and at an equal value the strict one is tighter.
    def tightness(c: Comparison) -> tuple[float, int]:
        value = float(c.value)
        strict = int(c.op in ("$gt", "$lt"))
        return (value, strict) if lower else (-value, strict)

    tighter = a if tightness(a) >= tightness(b) else b
    looser = b if tighter is a else a
    return tighter if op == "$and" else looser


def _union_shape(clause: Any, negated: bool) -> tuple[str, str] | None:
    """(positive operator, kind test) of a leaf whose negation is `negated`, else None."""
    if isinstance(clause, AnyOf):  # merged already, in a sub-tree flattened into this one
        return (clause.op, clause.kind) if clause.negated == negated else None
    if isinstance(clause, (Junction, DocumentMatch, IdMatch)) or is_negative(clause) != negated:
        return None
    if any(_has_nul(value) for _, value in _pairs(clause)):
        return None  # merged pairs travel as JSON, which SQLite's json_each cuts at NUL
    if isinstance(clause, Membership):
        return "$eq", _kind_test(clause.values[0], exact=False)
    if isinstance(clause, Contains):
        return "$contains", _kind_test(clause.value, exact=True)
    assert isinstance(clause, Comparison)
    if clause.op in _RANGES:
        return clause.op, "m.kind IN ('i', 'f')"
    return "$eq", _kind_test(clause.value, exact=False)


def _pairs(clause: MetadataLeaf) -> list[tuple[str, Scalar]] | tuple[tuple[str, Scalar], ...]:
    if isinstance(clause, AnyOf):
        return clause.pairs
    if isinstance(clause, Membership):
        return [(clause.key, v) for v in clause.values]
    return [(clause.key, clause.value)]


def is_selective(where: WhereNode | SearchNode) -> bool:
    """Whether the filter only admits records found through the metadata index (no
    negations at its root), so SQLite should start from the matching keys."""
    if isinstance(where, Junction):
        test = any if where.op == "$and" else all
        return test(is_selective(w) for w in where.clauses)
    if isinstance(where, (IdMatch, DocumentMatch)):
        return False
    return not is_negative(where)


# --- where_document ---


def compile_where_document(
    where_document: DocumentNode, rows: Rows, name: str = "where_document"
) -> SqlFilter:
    """SQL for a `where_document` tree on `rows` (a few known keys go without the full-text
    index)."""
    per_row = rows.collection_id is None
    return _Compiler(rows, name, lambda leaf: _document_test(leaf, per_row)).run(
        _reshaped(where_document, None)
    )


def _document_test(leaf: DocumentNode, per_row: bool) -> Sql:
    assert isinstance(leaf, DocumentMatch)
    params: list[Any] = []
    text = leaf.text
    if leaf.op in ("$contains", "$not_contains"):
        # chromadb hands the text to SQLite as a C string: it ends at the first NUL.
        text = text.split("\x00", 1)[0]
        positive = "(r.document IS NOT NULL AND instr(r.document, ?) > 0)"
        if len(text) >= TRIGRAM and not per_row:
            # The trigram index narrows to candidates (documents holding each of the text's
            # trigrams: it keeps no positions, so no phrase); instr keeps the exact semantics.
            positive = (
                "(r.key IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?) "
                "AND instr(r.document, ?) > 0)"
            )
            params.append(trigram_query(text))
    else:
        positive = "(r.document IS NOT NULL AND regexp(?, r.document))"
    params.append(text)
    if is_negative(leaf):
        return f"NOT {positive}", params
    return positive, params


def trigram_query(text: str) -> str:
    """An FTS5 query for the documents holding every trigram of `text` (of 3+ characters):
    its distinct trigrams, at most MAX_TRIGRAMS of them spread over the text, ANDed."""
    grams = list(dict.fromkeys(text[i : i + TRIGRAM] for i in range(len(text) - TRIGRAM + 1)))
    if len(grams) > MAX_TRIGRAMS:
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return " AND ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


def regexp(pattern: str, text: str | None) -> bool:
    """SQLite `regexp(pattern, text)`: an unanchored search, as Chroma's `$regex`, in time
    linear in `text` (RE2, see `achroma.emulation.rust_regex`); compiled patterns are cached.

    SQLite reports any exception out of it as "user-defined function raised exception", so a
    timed-out fallback leaves its message for `regex_timeout` to turn into the caller's
    error."""
    try:
        return text is not None and compile_pattern(pattern).is_match(text)
    except RegexTimeout as exc:
        _timeouts.append(str(exc))
        raise


# Messages of fallback searches cut off inside SQLite (appended on SQLite's thread, taken on
# the caller's; a list's append and pop are atomic).
_timeouts: list[str] = []


def regex_timeout(exc: Exception) -> InvalidArgumentError | None:
    """The error to raise for a statement that failed because a `$regex` timed out."""
    if "user-defined function raised exception" not in str(exc) or not _timeouts:
        return None
    message = _timeouts.pop()
    _timeouts.clear()
    return InvalidArgumentError(message)


# --- a Search's filter ---


def compile_mixed(node: SearchNode, rows: Rows, name: str = "filter") -> SqlFilter:
    """SQL for a Search filter tree on `rows`: metadata leaves as in `where`, `#document`
    leaves as in `where_document`, `#id` leaves against the record's id."""
    per_row = rows.collection_id is None

    def leaf(node: Any) -> Sql:
        if isinstance(node, DocumentMatch):
            return _document_test(node, per_row)
        if isinstance(node, IdMatch):
            return _id_test(node)
        return _metadata_test(rows.collection_id, node)

    return _Compiler(rows, name, leaf).run(_reshaped(node, _merge_alternatives))


def _id_test(leaf: IdMatch) -> Sql:
    ids = list(leaf.ids)
    if any("\x00" in i for i in ids):
        # json_each would end those ids at their NUL: each is bound on its own.
        test = f"r.id IN ({', '.join('?' * len(ids))})"
        params: list[Any] = ids
    else:
        test, params = "r.id IN (SELECT value FROM json_each(?))", [json.dumps(ids)]
    return (f"NOT {test}" if leaf.op == "$nin" else test), params


# --- shaping and emitting either tree ---

Node = TypeVar("Node", WhereNode, DocumentNode, SearchNode)


def _reshaped(node: Node, merge: Callable[[JunctionOp, list[Node]], list[Node]] | None) -> Node:
    """`node` with same-operator chains flattened, (optionally) alternatives merged, and
    junctions wider than `WIDTH` split into a balanced tree."""
    if not isinstance(node, Junction):
        return node
    clauses: list[Node] = []
    for clause in node.clauses:
        clause = _reshaped(clause, merge)
        if isinstance(clause, Junction) and clause.op == node.op:
            clauses += clause.clauses
        else:
            clauses.append(clause)
    if merge is not None:
        clauses = merge(node.op, clauses)
    if len(clauses) == 1:
        return clauses[0]
    while len(clauses) > WIDTH:
        chunks = [clauses[i : i + WIDTH] for i in range(0, len(clauses), WIDTH)]
        clauses = [Junction(node.op, tuple(c)) if len(c) > 1 else c[0] for c in chunks]
    return Junction(node.op, tuple(clauses))


class _Compiler:
    def __init__(self, rows: Rows, name: str, leaf: Callable[[Any], Sql]) -> None:
        self.rows = rows
        self.name = name
        self.leaf = leaf
        self.result = SqlFilter("", [])

    def run(self, node: WhereNode | DocumentNode | SearchNode) -> SqlFilter:
        self.result.condition, self.result.params = self.emit(node, 0)
        used = len(self.result.params) + len(self.result.cte_params)
        if used > MAX_PARAMETERS:
            raise InvalidArgumentError(
                f"Expected {self.name} to need at most {MAX_PARAMETERS} SQL parameters, "
                f"got {used}: split the filter, or merge its alternatives into $in lists"
            )
        return self.result

    def emit(self, node: WhereNode | DocumentNode | SearchNode, depth: int) -> Sql:
        if not isinstance(node, Junction):
            return self.leaf(node)
        if depth == HOIST_DEPTH:
            return self.hoist(node)
        parts = [self.emit(clause, depth + 1) for clause in node.clauses]
        joiner = " AND " if node.op == "$and" else " OR "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]

    def hoist(self, node: WhereNode | DocumentNode | SearchNode) -> Sql:
        sql, params = self.emit(node, 0)
        cte = f"{self.name}_{len(self.result.ctes)}"
        self.result.ctes.append(
            f"{cte}(key) AS (SELECT r.key FROM records r WHERE {self.rows.condition} AND {sql})"
        )
        self.result.cte_params += [*self.rows.params, *params]
        return f"r.key IN (SELECT key FROM {cte})", []
