"""`where` and `where_document` filters as a small typed tree, parsed and validated once.

`parse_where` and `parse_where_document` check a filter with chromadb 1.5.9's rules (the
same exception classes, messages and order of checks) and return its tree; `to_json()`
gives the wire form back (a bare value comes back as `$eq`):

    tree = parse_where({"$and": [{"year": {"$gte": 2000}}, {"lang": "en"}]})
    # Junction("$and", (Comparison("year", "$gte", 2000), Comparison("lang", "$eq", "en")))
    tree.to_json()  # {"$and": [{"year": {"$gte": 2000}}, {"lang": {"$eq": "en"}}]}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar, Union, cast

from achroma.core.text import is_utf8
from achroma.emulation.rust_regex import RegexSyntaxError, compile_pattern
from achroma.errors import InvalidArgumentError

Scalar: TypeAlias = str | int | float | bool
CompareOp = Literal["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]
MembershipOp = Literal["$in", "$nin"]
ContainsOp = Literal["$contains", "$not_contains"]
DocumentOp = Literal["$contains", "$not_contains", "$regex", "$not_regex"]
JunctionOp = Literal["$and", "$or"]

WHERE_OPERATORS = (
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$ne",
    "$eq",
    "$in",
    "$nin",
    "$contains",
    "$not_contains",
)
DOCUMENT_OPERATORS = ("$contains", "$not_contains", "$regex", "$not_regex", "$and", "$or")
NEGATIONS = {
    "$ne": "$eq",
    "$nin": "$in",
    "$not_contains": "$contains",
    "$not_regex": "$regex",
}
# Nesting of `$and`/`$or` accepted (chromadb's serde_json stops near 63 levels); deeper
# filters would only exhaust Python's recursion limit on the way to SQL.
MAX_DEPTH = 128

_SCALAR = (str, int, float, bool)


@dataclass(frozen=True)
class Comparison:
    """`{key: {op: value}}` on a scalar metadata value (`{key: value}` is `$eq`)."""

    key: str
    op: CompareOp
    value: Scalar

    def to_json(self) -> dict[str, Any]:
        return {self.key: {self.op: self.value}}


@dataclass(frozen=True)
class Membership:
    """`{key: {"$in" | "$nin": [values]}}`: the values share one type."""

    key: str
    op: MembershipOp
    values: tuple[Scalar, ...]

    def to_json(self) -> dict[str, Any]:
        return {self.key: {self.op: list(self.values)}}


@dataclass(frozen=True)
class Contains:
    """`{key: {"$contains" | "$not_contains": value}}` on a list metadata value."""

    key: str
    op: ContainsOp
    value: Scalar

    def to_json(self) -> dict[str, Any]:
        return {self.key: {self.op: self.value}}


@dataclass(frozen=True)
class DocumentMatch:
    """`{op: text}`: a substring or (Rust-dialect) regex test on the document."""

    op: DocumentOp
    text: str

    def to_json(self) -> dict[str, Any]:
        return {self.op: self.text}


class _Node(Protocol):
    def to_json(self) -> dict[str, Any]: ...


Clause = TypeVar("Clause", bound=_Node)


@dataclass(frozen=True)
class Junction(Generic[Clause]):
    """`{"$and" | "$or": [clauses]}`, with at least two clauses."""

    op: JunctionOp
    clauses: tuple[Clause, ...]

    def to_json(self) -> dict[str, Any]:
        return {self.op: [c.to_json() for c in self.clauses]}


WhereNode: TypeAlias = Union[Comparison, Membership, Contains, "Junction[WhereNode]"]
DocumentNode: TypeAlias = Union[DocumentMatch, "Junction[DocumentNode]"]


def is_negative(node: WhereNode | DocumentNode) -> bool:
    """Whether a leaf also matches records lacking its key (or document)."""
    return not isinstance(node, Junction) and node.op in NEGATIONS


# --- where ---


def parse_where(where: Any) -> WhereNode:
    """The tree of a `where` filter, or chromadb's error for a malformed one."""
    return _where(where, 0)


def _where(where: Any, depth: int) -> WhereNode:
    if not isinstance(where, dict):
        raise ValueError(f"Expected where to be a dict, got {where}")
    if len(where) != 1:
        raise ValueError(f"Expected where to have exactly one operator, got {where}")
    ((key, value),) = where.items()
    if not isinstance(key, str):
        raise ValueError(f"Expected where key to be a str, got {key}")
    if key in ("$and", "$or"):
        if not isinstance(value, list):
            raise ValueError(
                f"Expected where value for $and or $or to be a list of where expressions, "
                f"got {value}"
            )
        if len(value) < 2:
            raise ValueError(
                "Expected where value for $and or $or to be a list with at least two where "
                f"expressions, got {value}"
            )
        _check_depth("where", depth)
        op = cast(JunctionOp, key)
        return Junction(op, tuple(_where(clause, depth + 1) for clause in value))
    if key.startswith("#"):
        raise InvalidArgumentError(
            f"Cannot filter using metadata key '{key}' with type 'Str' because indexing is disabled"
        )
    if isinstance(value, _SCALAR):
        return Comparison(key, "$eq", value)
    if not isinstance(value, dict):
        raise ValueError(
            f"Expected where value to be a str, int, float, or operator expression, got {value}"
        )
    if len(value) != 1:
        raise ValueError(f"Expected operator expression to have exactly one operator, got {value}")
    ((op, operand),) = value.items()
    if op not in WHERE_OPERATORS:
        raise ValueError(
            "Expected where operator to be one of $gt, $gte, $lt, $lte, $ne, $eq, $in, $nin, "
            f"$contains, $not_contains, got {op}"
        )
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if isinstance(operand, bool):
            raise InvalidArgumentError("Invalid where clause")
        if not isinstance(operand, (int, float)):
            raise ValueError(
                f"Expected operand value to be an int or a float for operator {op}, got {operand}"
            )
        return Comparison(key, op, operand)
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise ValueError(
                f"Expected operand value to be an list for operator {op}, got {operand}"
            )
        if not operand or len({type(v) for v in operand}) != 1:
            raise ValueError(
                "Expected where operand value to be a non-empty list, and all values to be of "
                f"the same type got {operand}"
            )
        if not all(isinstance(v, _SCALAR) for v in operand):
            raise InvalidArgumentError("Invalid where clause")
        return Membership(key, op, tuple(operand))
    if op in ("$contains", "$not_contains"):
        if not isinstance(operand, _SCALAR):
            raise ValueError(
                "Expected operand value to be a str, int, float, or bool for operator "
                f"{op}, got {operand}"
            )
        return Contains(key, op, operand)
    # $eq, $ne
    if operand is None:
        raise ValueError(
            "Expected where operand value to be a str, int, float, bool, or list of those "
            f"type, got {operand}"
        )
    if not isinstance(operand, _SCALAR):
        raise InvalidArgumentError("Invalid where clause")
    return Comparison(key, op, operand)


# --- where_document ---


def parse_where_document(where_document: Any) -> DocumentNode:
    """The tree of a `where_document` filter, or chromadb's error for a malformed one."""
    return _document(where_document, 0)


def _document(where_document: Any, depth: int) -> DocumentNode:
    if not isinstance(where_document, dict):
        raise ValueError(f"Expected where document to be a dictionary, got {where_document}")
    if len(where_document) != 1:
        raise ValueError(
            f"Expected where document to have exactly one operator, got {where_document}"
        )
    ((op, operand),) = where_document.items()
    if op not in DOCUMENT_OPERATORS:
        raise ValueError(
            "Expected where document operator to be one of $contains, $not_contains, $regex, "
            f"$not_regex, $and, $or, got {op}"
        )
    if op in ("$and", "$or"):
        if not isinstance(operand, list):
            raise ValueError(
                "Expected where document value for $and or $or to be a list of where document "
                f"expressions, got {operand}"
            )
        if len(operand) < 2:
            raise ValueError(
                "Expected document value for $and or $or to be a list with at least two where "
                f"document expressions, got {operand}"
            )
        _check_depth("where_document", depth)
        return Junction(op, tuple(_document(c, depth + 1) for c in operand))
    if not isinstance(operand, str):
        raise ValueError(
            f"Expected where document operand value for operator {op} to be a str, got {operand}"
        )
    if not operand:
        raise ValueError(
            f"Expected where document operand value for operator {op} to be a non-empty str"
        )
    if op in ("$regex", "$not_regex"):
        _check_regex(operand)
    return DocumentMatch(op, operand)


def check_sendable(where: WhereNode | None, where_document: DocumentNode | None) -> None:
    """chromadb's refusal, when the request is sent, of filters JSON cannot carry: NaN or
    infinite numbers, and strings with lone surrogates."""
    if where is not None and not _sendable(where):
        raise InvalidArgumentError("Invalid where clause")
    if where_document is not None and not _sendable(where_document):
        raise InvalidArgumentError("Invalid where document clause")


def _sendable(node: WhereNode | DocumentNode) -> bool:
    if isinstance(node, Junction):
        return all(_sendable(c) for c in node.clauses)
    if isinstance(node, DocumentMatch):
        return _sendable_value(node.text)
    values = node.values if isinstance(node, Membership) else (node.value,)
    return _sendable_value(node.key) and all(_sendable_value(v) for v in values)


def _sendable_value(value: Scalar) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return not isinstance(value, str) or is_utf8(value)


def _check_depth(name: str, depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise InvalidArgumentError(
            f"Expected {name} to nest $and and $or at most {MAX_DEPTH} levels deep"
        )


def _check_regex(pattern: str) -> None:
    if not _sendable_value(pattern):
        return  # refused as chromadb does when the request is sent (`check_sendable`)
    try:
        compile_pattern(pattern)
    except RegexSyntaxError as exc:
        message = str(exc)
        if message.startswith("regex parse error"):
            message = f"Regex syntax errror: {message}"  # sic: Chroma's spelling
        raise InvalidArgumentError(message) from None
