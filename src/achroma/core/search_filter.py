"""A Search's `filter`: metadata, document and id tests in one tree.

Unlike `get`'s separate `where` and `where_document`, a Search filter may mix them under one
`$or`: ``{"$or": [{"#id": {"$in": ["a"]}}, {"#document": {"$contains": "x"}}, {"n": 1}]}``.
Metadata leaves are `core.filters` leaves, parsed with `get`'s rules; `#document` leaves are
`DocumentMatch`; `#id` leaves are `IdMatch`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, Union, cast

from achroma.core.filters import (
    MAX_DEPTH,
    Comparison,
    Contains,
    DocumentMatch,
    Junction,
    JunctionOp,
    Membership,
    parse_where,
    parse_where_document,
)
from achroma.errors import InvalidArgumentError

IdOp = Literal["$in", "$nin"]


@dataclass(frozen=True)
class IdMatch:
    """`{"#id": {"$eq" | "$in" | ...: ...}}`: the record's id is (`$in`) or is not among `ids`."""

    op: IdOp
    ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"#id": {self.op: list(self.ids)}}


SearchNode: TypeAlias = Union[
    Comparison, Membership, Contains, DocumentMatch, IdMatch, "Junction[SearchNode]"
]

_ID_OPS = {"$eq": "$in", "$in": "$in", "$ne": "$nin", "$nin": "$nin"}
_DOCUMENT_OPS = ("$contains", "$not_contains", "$regex", "$not_regex")


def parse_search_filter(node: Any) -> SearchNode:
    """The tree of a Search `filter`, or an `InvalidArgumentError`/`ValueError` naming the fault."""
    return _node(node, 0)


def _node(node: Any, depth: int) -> SearchNode:
    if not isinstance(node, dict) or len(node) != 1:
        raise InvalidArgumentError(
            f"Expected filter to be a dict with exactly one key, got {node!r}"
        )
    ((key, value),) = node.items()
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise InvalidArgumentError(f"Expected {key} to be a non-empty list, got {value!r}")
        if depth >= MAX_DEPTH:
            raise InvalidArgumentError(
                f"Expected filter to nest $and and $or at most {MAX_DEPTH} levels deep"
            )
        clauses = tuple(_node(clause, depth + 1) for clause in value)
        if len(clauses) == 1:
            return clauses[0]
        return Junction(cast(JunctionOp, key), clauses)
    if not isinstance(key, str):
        raise InvalidArgumentError(f"Expected filter key to be a str, got {key!r}")
    if key == "#id":
        return _id_match(value)
    if key == "#document":
        return _document_match(value)
    if key == "#embedding":
        raise InvalidArgumentError(
            "Cannot filter using metadata key '#embedding' because indexing is disabled"
        )
    if (
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) in ("$regex", "$not_regex")
    ):
        raise InvalidArgumentError(
            f"Cannot filter metadata key '{key}' with {next(iter(value))}: "
            "regular expressions apply to #document only"
        )
    # `get`'s rules; '#'-keys other than the above are plain metadata names (none is ever
    # stored, so they match nothing), as in Chroma.
    leaf = parse_where({"_": value})
    assert not isinstance(leaf, Junction)
    return dataclasses.replace(leaf, key=key)


def _id_match(value: Any) -> IdMatch:
    if not isinstance(value, dict) or len(value) != 1:
        value = {"$eq": value}
    ((op, operand),) = value.items()
    if op not in _ID_OPS:
        raise InvalidArgumentError(
            f"Expected #id operator to be one of $eq, $ne, $in, $nin, got {op}"
        )
    ids = operand if op in ("$in", "$nin") else [operand]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidArgumentError(f"Expected #id operand to be str ids, got {operand!r}")
    return IdMatch(cast(IdOp, _ID_OPS[op]), tuple(ids))


def _document_match(value: Any) -> DocumentMatch:
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in _DOCUMENT_OPS:
        raise InvalidArgumentError(
            "Cannot filter using metadata key '#document' with type 'Str' because indexing "
            "is disabled"
        )
    match = parse_where_document(value)
    assert isinstance(match, DocumentMatch)  # one of the four leaf operators
    return match
