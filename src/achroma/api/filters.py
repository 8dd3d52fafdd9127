"""Validation of `where` and `where_document` filters, with chromadb 1.5.9's rules."""

from __future__ import annotations

from typing import Any

from achroma.emulation.rust_regex import RegexSyntaxError, compile_pattern
from achroma.errors import InvalidArgumentError

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
_SCALAR = (str, int, float, bool)


def validate_where(where: Any) -> None:
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
        for clause in value:
            validate_where(clause)
        return
    if key == "#document" or (key.startswith("#")):
        raise InvalidArgumentError(
            f"Cannot filter using metadata key '{key}' with type 'Str' because indexing is disabled"
        )
    if isinstance(value, _SCALAR):
        return
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
    elif op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise ValueError(
                f"Expected operand value to be an list for operator {op}, got {operand}"
            )
        if not operand or not _same_type(operand):
            raise ValueError(
                "Expected where operand value to be a non-empty list, and all values to be of "
                f"the same type got {operand}"
            )
        if not all(isinstance(v, _SCALAR) for v in operand):
            raise InvalidArgumentError("Invalid where clause")
    elif op in ("$contains", "$not_contains"):
        if not isinstance(operand, _SCALAR):
            raise ValueError(
                "Expected operand value to be a str, int, float, or bool for operator "
                f"{op}, got {operand}"
            )
    else:  # $eq, $ne
        if operand is None:
            raise ValueError(
                "Expected where operand value to be a str, int, float, bool, or list of those "
                f"type, got {operand}"
            )
        if not isinstance(operand, _SCALAR):
            raise InvalidArgumentError("Invalid where clause")


def _same_type(values: list[Any]) -> bool:
    return len({type(v) for v in values}) == 1


def validate_where_document(where_document: Any) -> None:
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
        for clause in operand:
            validate_where_document(clause)
        return
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


def _check_regex(pattern: str) -> None:
    try:
        compile_pattern(pattern)
    except RegexSyntaxError as exc:
        message = str(exc)
        if message.startswith("regex parse error"):
            message = f"Regex syntax errror: {message}"  # sic: Chroma's spelling
        raise InvalidArgumentError(message) from None
