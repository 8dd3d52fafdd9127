"""`Where`: the filter of a `Search`, as a tree of predicates with chromadb's wire form.

Predicates are built by `Key` (``K("n") > 5``) or directly (``Gt("n", 5)``), combined with
``&`` and ``|`` (which flatten: ``a & b & c`` is one `And` of three), and serialised by
`Where.to_dict` to the JSON the server reads (``{"n": {"$gt": 5}}``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Final

# What `$contains` / `$not_contains` compare with: a scalar metadata value (or, on
# ``#document``, a substring).
LiteralValue = str | int | float | bool

DOCUMENT_KEY: Final = "#document"


class Where(ABC):
    """A filter expression: a predicate on one key, or an `And` / `Or` of filters."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The filter's wire form, e.g. ``{"$and": [{"cat": {"$eq": "a"}}, ...]}``."""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Where:
        """Read a filter in wire form (``{"f": v}`` is shorthand for ``{"f": {"$eq": v}}``).

        A ``$and`` / ``$or`` needs at least one condition; a single one stands for itself.
        Raises chromadb's `TypeError` / `ValueError` for malformed input.
        """
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Where, got {type(data).__name__}")
        if not data:
            raise ValueError("Where dict cannot be empty")
        for op in ("$and", "$or"):
            if op in data:
                return _logical(op, data)
        if len(data) != 1:
            raise ValueError(f"Where dict must contain exactly one field, got {len(data)}")
        field, condition = next(iter(data.items()))
        if not isinstance(field, str):
            raise TypeError(f"Field name must be a string, got {type(field).__name__}")
        if not isinstance(condition, dict):
            return Eq(field, condition)
        if not condition:
            raise ValueError(f"Operator dict for field '{field}' cannot be empty")
        if len(condition) != 1:
            raise ValueError(f"Operator dict for field '{field}' must contain exactly one operator")
        op, value = next(iter(condition.items()))
        return _predicate(field, op, value)

    def __and__(self, other: Where) -> And:
        if not isinstance(other, Where):
            return NotImplemented
        return And(_flat(self, And) + _flat(other, And))

    def __or__(self, other: Where) -> Or:
        if not isinstance(other, Where):
            return NotImplemented
        return Or(_flat(self, Or) + _flat(other, Or))


@dataclass(frozen=True)
class And(Where):
    """All of `conditions` hold."""

    conditions: list[Where]

    def to_dict(self) -> dict[str, Any]:
        return {"$and": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class Or(Where):
    """At least one of `conditions` holds."""

    conditions: list[Where]

    def to_dict(self) -> dict[str, Any]:
        return {"$or": [c.to_dict() for c in self.conditions]}


@dataclass(frozen=True)
class _Predicate(Where):
    """A test of the value at one key; subclasses name the wire operator and the operand."""

    OP: ClassVar[str]
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {self.OP: self._operand()}}

    @abstractmethod
    def _operand(self) -> Any: ...


@dataclass(frozen=True)
class _ValuePredicate(_Predicate):
    value: Any

    def _operand(self) -> Any:
        return self.value


@dataclass(frozen=True)
class Eq(_ValuePredicate):
    """The value at `key` equals `value`."""

    OP = "$eq"


@dataclass(frozen=True)
class Ne(_ValuePredicate):
    """The value at `key` differs from `value` (records without the key match)."""

    OP = "$ne"


@dataclass(frozen=True)
class Gt(_ValuePredicate):
    """The value at `key` is greater than `value`."""

    OP = "$gt"


@dataclass(frozen=True)
class Gte(_ValuePredicate):
    """The value at `key` is at least `value`."""

    OP = "$gte"


@dataclass(frozen=True)
class Lt(_ValuePredicate):
    """The value at `key` is less than `value`."""

    OP = "$lt"


@dataclass(frozen=True)
class Lte(_ValuePredicate):
    """The value at `key` is at most `value`."""

    OP = "$lte"


@dataclass(frozen=True)
class Contains(_ValuePredicate):
    """On ``#document``, a substring test; on a metadata key, array membership."""

    OP = "$contains"


@dataclass(frozen=True)
class NotContains(_ValuePredicate):
    """The negation of `Contains` (records without the key match)."""

    OP = "$not_contains"


@dataclass(frozen=True)
class _ListPredicate(_Predicate):
    values: list[Any]

    def _operand(self) -> Any:
        return self.values


@dataclass(frozen=True)
class In(_ListPredicate):
    """The value at `key` is one of `values`."""

    OP = "$in"


@dataclass(frozen=True)
class Nin(_ListPredicate):
    """The value at `key` is none of `values` (records without the key match)."""

    OP = "$nin"


@dataclass(frozen=True)
class _PatternPredicate(_Predicate):
    pattern: str

    def _operand(self) -> Any:
        return self.pattern


@dataclass(frozen=True)
class Regex(_PatternPredicate):
    """The value at `key` (in practice ``#document``) matches the regular expression."""

    OP = "$regex"


@dataclass(frozen=True)
class NotRegex(_PatternPredicate):
    """The value at `key` does not match the regular expression."""

    OP = "$not_regex"


SearchWhere = Where


def check_document_operand(op: str, key: str, value: object) -> None:
    """chromadb's check on `Key.contains` / `Key.not_contains`: on ``#document``, a string."""
    if key == DOCUMENT_KEY and not isinstance(value, str):
        raise TypeError(f"{op} on #document requires a string pattern")


def _flat(where: Where, kind: type[And] | type[Or]) -> list[Where]:
    return list(where.conditions) if isinstance(where, kind) else [where]


def _logical(op: str, data: dict[str, Any]) -> Where:
    conditions = data[op]
    if not isinstance(conditions, list):
        raise TypeError(f"{op} must be a list, got {type(conditions).__name__}")
    if not conditions:
        raise ValueError(f"{op} requires at least one condition")
    if len(data) > 1:
        raise ValueError(f"{op} cannot be combined with other fields in the same dict")
    parsed = [Where.from_dict(c) for c in conditions]
    if len(parsed) == 1:
        return parsed[0]
    # Folded with the operator, so nested conditions of the same kind flatten as in chromadb.
    result = parsed[0]
    for condition in parsed[1:]:
        result = result & condition if op == "$and" else result | condition
    return result


_VALUE_OPS: dict[str, type[_ValuePredicate]] = {cls.OP: cls for cls in (Eq, Ne, Gt, Gte, Lt, Lte)}
_LIST_OPS: dict[str, type[_ListPredicate]] = {cls.OP: cls for cls in (In, Nin)}
_CONTAINS_OPS: dict[str, type[_ValuePredicate]] = {cls.OP: cls for cls in (Contains, NotContains)}
_PATTERN_OPS: dict[str, type[_PatternPredicate]] = {cls.OP: cls for cls in (Regex, NotRegex)}


def _predicate(field: str, op: str, value: Any) -> Where:
    if op in _VALUE_OPS:
        return _VALUE_OPS[op](field, value)
    if op in _LIST_OPS:
        if not isinstance(value, list):
            raise TypeError(f"{op} requires a list, got {type(value).__name__}")
        return _LIST_OPS[op](field, value)
    if op in _CONTAINS_OPS:
        if not isinstance(value, (str, int, float, bool)):
            raise TypeError(f"{op} requires a str, int, float, or bool, got {type(value).__name__}")
        check_document_operand(op, field, value)
        return _CONTAINS_OPS[op](field, value)
    if op in _PATTERN_OPS:
        if not isinstance(value, str):
            raise TypeError(f"{op} requires a string pattern, got {type(value).__name__}")
        return _PATTERN_OPS[op](field, value)
    raise ValueError(f"Unknown operator: {op}")
