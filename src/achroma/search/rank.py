"""`Rank`: the scoring expression of a `Search` (lower scores rank first), in chromadb's wire form.

Leaves are `Knn` (distance to a query, or its position in the Knn's list) and `Val`
(a constant); arithmetic on them builds the tree, wrapping plain numbers in `Val`::

    Knn(query=[0.1, 0.2]) * 0.8 + Val(0.5) * 0.2   # {"$sum": [{"$mul": [...]}, {"$mul": [...]}]}

`Sum`, `Mul`, `Max` and `Min` flatten (``a + b + c`` is one `Sum`). `Rrf` is no wire operator:
it compiles to ``-sum(w_i / (k + rank_i))`` when serialised.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from achroma.core.sparse import SPARSE_VECTOR_TYPE, TYPE_KEY, SparseVector
from achroma.search.dense import read_dense_query
from achroma.search.key import Key, key_name

Number = int | float
# A dense vector (list or array), a sparse one, or a text the collection embeds at search time.
KnnQuery = str | list[float] | SparseVector | npt.NDArray[Any]


class Rank(ABC):
    """A rank expression; combine with ``+ - * /``, unary ``-``, `abs`, `exp`, `log`, `max`,
    `min`."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The expression's wire form, e.g. ``{"$knn": {"query": [...], ...}}``."""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Rank:
        """Read an expression in wire form, with chromadb's checks and error messages.

        A dense ``$knn`` query is read as one float32 vector (so 0.1 becomes
        0.10000000149011612 when written again); ``$sum``, ``$mul``, ``$max`` and ``$min``
        need at least two operands.
        """
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Rank, got {type(data).__name__}")
        if not data:
            raise ValueError("Rank dict cannot be empty")
        if len(data) != 1:
            raise ValueError(f"Rank dict must contain exactly one operator, got {len(data)}")
        op, operand = next(iter(data.items()))
        parse = _PARSERS.get(op)
        if parse is None:
            raise ValueError(f"Unknown rank operator: {op}")
        return parse(op, operand)

    def __add__(self, other: Rank | Number) -> Sum:
        right = _rank(other)
        if right is None:
            return NotImplemented
        return Sum(_flat(self, Sum) + _flat(right, Sum))

    def __radd__(self, other: Number) -> Sum:
        return Val(other) + self

    def __sub__(self, other: Rank | Number) -> Sub:
        right = _rank(other)
        if right is None:
            return NotImplemented
        return Sub(self, right)

    def __rsub__(self, other: Number) -> Sub:
        return Sub(Val(other), self)

    def __mul__(self, other: Rank | Number) -> Mul:
        right = _rank(other)
        if right is None:
            return NotImplemented
        return Mul(_flat(self, Mul) + _flat(right, Mul))

    def __rmul__(self, other: Number) -> Mul:
        return Val(other) * self

    def __truediv__(self, other: Rank | Number) -> Div:
        right = _rank(other)
        if right is None:
            return NotImplemented
        return Div(self, right)

    def __rtruediv__(self, other: Number) -> Div:
        return Div(Val(other), self)

    def __neg__(self) -> Mul:
        return Mul([Val(-1), self])

    def __abs__(self) -> Abs:
        return Abs(self)

    def abs(self) -> Abs:
        """``|self|``."""
        return Abs(self)

    def exp(self) -> Exp:
        """``e ** self``."""
        return Exp(self)

    def log(self) -> Log:
        """The natural logarithm of `self`."""
        return Log(self)

    def max(self, other: Rank | Number) -> Max:
        """The larger of `self` and `other`."""
        right = _required_rank(other)
        return Max(_flat(self, Max) + _flat(right, Max))

    def min(self, other: Rank | Number) -> Min:
        """The smaller of `self` and `other`."""
        right = _required_rank(other)
        return Min(_flat(self, Min) + _flat(right, Min))


@dataclass(frozen=True)
class Val(Rank):
    """A constant score."""

    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"$val": self.value}


@dataclass(frozen=True)
class Knn(Rank):
    """The distance from each record's vector at `key` to `query`: the `limit` nearest only.

    Args:
        query: a dense vector (list or numpy array), a `SparseVector` (for a sparse index on
            a metadata key), or a str, embedded by the collection when the search runs.
        key: ``K.EMBEDDING`` (the default) or the metadata key of a sparse index.
        limit: how many nearest records the Knn yields.
        default: the score of records outside those `limit` (None: such records are
            dropped from the whole expression).
        return_rank: score by the 0-based position in the list instead of the distance,
            as `Rrf` needs.
    """

    query: KnnQuery
    key: Key | str = Key.EMBEDDING
    limit: int = 16
    default: float | None = None
    return_rank: bool = False

    def to_dict(self) -> dict[str, Any]:
        query: Any = self.query
        if isinstance(query, SparseVector):
            query = query.to_dict()
        elif isinstance(query, np.ndarray):
            query = query.tolist()
        wire: dict[str, Any] = {"query": query, "key": key_name(self.key), "limit": self.limit}
        if self.default is not None:
            wire["default"] = self.default
        if self.return_rank:
            wire["return_rank"] = True
        return {"$knn": wire}


@dataclass(frozen=True)
class _Variadic(Rank):
    OP = ""
    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {self.OP: [r.to_dict() for r in self.ranks]}


@dataclass(frozen=True)
class Sum(_Variadic):
    """The sum of `ranks`."""

    OP = "$sum"


@dataclass(frozen=True)
class Mul(_Variadic):
    """The product of `ranks`."""

    OP = "$mul"


@dataclass(frozen=True)
class Max(_Variadic):
    """The largest of `ranks`."""

    OP = "$max"


@dataclass(frozen=True)
class Min(_Variadic):
    """The smallest of `ranks`."""

    OP = "$min"


@dataclass(frozen=True)
class _Binary(Rank):
    OP = ""
    left: Rank
    right: Rank

    def to_dict(self) -> dict[str, Any]:
        return {self.OP: {"left": self.left.to_dict(), "right": self.right.to_dict()}}


@dataclass(frozen=True)
class Sub(_Binary):
    """``left - right``."""

    OP = "$sub"


@dataclass(frozen=True)
class Div(_Binary):
    """``left / right``."""

    OP = "$div"


@dataclass(frozen=True)
class _Unary(Rank):
    OP = ""
    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {self.OP: self.rank.to_dict()}


@dataclass(frozen=True)
class Abs(_Unary):
    """``|rank|``."""

    OP = "$abs"


@dataclass(frozen=True)
class Exp(_Unary):
    """``e ** rank``."""

    OP = "$exp"


@dataclass(frozen=True)
class Log(_Unary):
    """The natural logarithm of `rank`."""

    OP = "$log"


@dataclass(frozen=True)
class Rrf(Rank):
    """Reciprocal rank fusion: ``-sum(w_i / (k + rank_i))``, negated so that lower is better.

    Give each `Knn` in `ranks` ``return_rank=True`` so that it yields positions, not
    distances. `weights` default to 1 each; ``normalize=True`` scales them to sum to 1.
    Checked (with chromadb's `ValueError` messages) when serialised, not when built.

    Example::

        Rrf([Knn(query=dense, return_rank=True), Knn(query=sparse, key="sv", return_rank=True)])
    """

    ranks: list[Rank]
    k: int = 60
    weights: list[float] | None = None
    normalize: bool = False

    def to_dict(self) -> dict[str, Any]:
        return self.compile().to_dict()

    def compile(self) -> Rank:
        """The expression this fusion stands for, built from the wire operators."""
        if not self.ranks:
            raise ValueError("RRF requires at least one rank")
        if self.k <= 0:
            raise ValueError(f"k must be positive, got {self.k}")
        if self.weights is not None:
            if len(self.weights) != len(self.ranks):
                raise ValueError(
                    f"Number of weights ({len(self.weights)}) must match number of ranks "
                    f"({len(self.ranks)})"
                )
            if any(w < 0.0 for w in self.weights):
                raise ValueError("All weights must be non-negative")
        weights = self.weights or [1.0] * len(self.ranks)
        if self.normalize:
            total = sum(weights)
            if total == 0:
                raise ValueError("Sum of weights must be positive when normalize=True")
            weights = [w / total for w in weights]
        terms = [w / (self.k + rank) for w, rank in zip(weights, self.ranks, strict=True)]
        fused: Rank = terms[0]
        for term in terms[1:]:
            fused = fused + term
        return -fused


def _rank(value: object) -> Rank | None:
    if isinstance(value, Rank):
        return value
    if isinstance(value, (int, float)):
        return Val(value)
    return None


def _required_rank(value: Rank | Number) -> Rank:
    rank = _rank(value)
    if rank is None:
        raise TypeError(f"Expected a Rank or a number, got {type(value).__name__}")
    return rank


def _flat(rank: Rank, kind: type[_Variadic]) -> list[Rank]:
    return list(rank.ranks) if isinstance(rank, kind) else [rank]


# Parsing the wire form.


def _parse_val(op: str, value: Any) -> Rank:
    if not isinstance(value, (int, float)):
        raise TypeError(f"$val requires a number, got {type(value).__name__}")
    return Val(value)


def _parse_knn(op: str, spec: Any) -> Rank:
    if not isinstance(spec, dict):
        raise TypeError(f"$knn requires a dict, got {type(spec).__name__}")
    if "query" not in spec:
        raise ValueError("$knn requires 'query' field")
    query = spec["query"]
    if isinstance(query, dict):
        if query.get(TYPE_KEY) != SPARSE_VECTOR_TYPE:
            raise ValueError(f"Expected dict with {TYPE_KEY}='{SPARSE_VECTOR_TYPE}', got {query}")
        query = SparseVector.from_dict(query)
    elif isinstance(query, (list, tuple, np.ndarray)):
        query = read_dense_query(query)
    else:
        raise TypeError(
            "$knn query must be a list, numpy array, or SparseVector dict, "
            f"got {type(query).__name__}"
        )
    key = spec.get("key", "#embedding")
    if not isinstance(key, str):
        raise TypeError(f"$knn key must be a string, got {type(key).__name__}")
    limit = spec.get("limit", 16)
    if not isinstance(limit, int):
        raise TypeError(f"$knn limit must be an integer, got {type(limit).__name__}")
    if limit <= 0:
        raise ValueError(f"$knn limit must be positive, got {limit}")
    return_rank = spec.get("return_rank", False)
    if not isinstance(return_rank, bool):
        raise TypeError(f"$knn return_rank must be a boolean, got {type(return_rank).__name__}")
    return Knn(query, key, limit, spec.get("default"), return_rank)


def _parse_variadic(op: str, operands: Any) -> Rank:
    if not isinstance(operands, (list, tuple)):
        raise TypeError(f"{op} requires a list, got {type(operands).__name__}")
    if len(operands) < 2:
        raise ValueError(f"{op} requires at least 2 ranks, got {len(operands)}")
    kind = _VARIADIC[op]
    # chromadb folds the operands with the operator, which flattens nested ones of the same kind.
    return kind([flat for r in operands for flat in _flat(Rank.from_dict(r), kind)])


def _parse_binary(op: str, operands: Any) -> Rank:
    if not isinstance(operands, dict):
        raise TypeError(
            f"{op} requires a dict with 'left' and 'right', got {type(operands).__name__}"
        )
    if "left" not in operands or "right" not in operands:
        raise ValueError(f"{op} requires 'left' and 'right' fields")
    left = Rank.from_dict(operands["left"])
    right = Rank.from_dict(operands["right"])
    return Sub(left, right) if op == "$sub" else Div(left, right)


def _parse_unary(op: str, operand: Any) -> Rank:
    if not isinstance(operand, dict):
        raise TypeError(f"{op} requires a rank dict, got {type(operand).__name__}")
    return _UNARY[op](Rank.from_dict(operand))


_VARIADIC: dict[str, type[_Variadic]] = {cls.OP: cls for cls in (Sum, Mul, Max, Min)}
_UNARY: dict[str, type[_Unary]] = {cls.OP: cls for cls in (Abs, Exp, Log)}
_PARSERS: dict[str, Callable[[str, Any], Rank]] = {
    "$val": _parse_val,
    "$knn": _parse_knn,
    **{op: _parse_variadic for op in _VARIADIC},
    "$sub": _parse_binary,
    "$div": _parse_binary,
    **{op: _parse_unary for op in _UNARY},
}
