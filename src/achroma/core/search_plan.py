"""`Collection.search` requests, typed: each Search's filter, rank tree, group-by, page and
selected fields, parsed from its wire JSON (what `Search.to_dict()` gives and what Chroma's
`/search` route takes) and checked once, on every transport alike.

Rank nodes evaluate as Chroma's server does (see `engine.search_rank`); each keeps the
field names of its JSON operator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from achroma.core.requests import RecordFilter
from achroma.core.search_filter import parse_search_filter
from achroma.core.sparse import SparseVector, is_sparse_wire
from achroma.errors import InvalidArgumentError

UnaryOp = Literal["$abs", "$exp", "$log"]
BinaryOp = Literal["$sub", "$div"]
FoldOp = Literal["$sum", "$mul", "$max", "$min"]
READ_LEVELS = ("index_and_wal", "index_only", "index_and_bounded_wal")
# Chroma's field names; `#id` is not one, so selecting it names a metadata field.
DOCUMENT, EMBEDDING, METADATA, SCORE = "#document", "#embedding", "#metadata", "#score"
FIELDS = (DOCUMENT, EMBEDDING, METADATA, SCORE)


@dataclass(frozen=True)
class KnnRank:
    """`$knn`: the `limit` nearest filtered records to `query`, scored by distance (or by
    0-based position, `return_rank`); records outside the list score `default`."""

    query: npt.NDArray[np.float32] | SparseVector
    key: str
    limit: int
    default: float | None
    return_rank: bool

    @property
    def sparse(self) -> bool:
        return isinstance(self.query, SparseVector)


@dataclass(frozen=True)
class ValRank:
    value: float


@dataclass(frozen=True)
class UnaryRank:
    op: UnaryOp
    rank: Rank


@dataclass(frozen=True)
class BinaryRank:
    op: BinaryOp
    left: Rank
    right: Rank


@dataclass(frozen=True)
class FoldRank:
    op: FoldOp
    ranks: tuple[Rank, ...]


Rank: TypeAlias = KnnRank | ValRank | UnaryRank | BinaryRank | FoldRank


@dataclass(frozen=True)
class GroupBy:
    """Keep the best `k` records per distinct tuple of `keys`' metadata values, ordered by
    `order_keys` (`#score` or metadata fields), ascending (`$min_k`) or descending (`$max_k`)."""

    keys: tuple[str, ...]
    descending: bool
    order_keys: tuple[str, ...]
    k: int


@dataclass(frozen=True)
class SearchPlan:
    """One Search of a batch."""

    filter: RecordFilter
    rank: Rank | None
    group_by: GroupBy | None
    offset: int
    limit: int | None
    select: tuple[str, ...]
    # The JSON it was parsed from: what an HTTP backend sends.
    wire: dict[str, Any] = field(compare=False, repr=False)

    def knns(self) -> list[KnnRank]:
        """The rank's `$knn` nodes, depth first, left to right."""
        found: list[KnnRank] = []
        if self.rank is not None:
            _collect_knns(self.rank, found)
        return found


@dataclass(frozen=True)
class SearchRequest:
    searches: tuple[SearchPlan, ...]
    read_level: str = "index_and_wal"


def parse_search_request(searches: Any, read_level: Any = "index_and_wal") -> SearchRequest:
    """A `/search` body's parts, typed; `InvalidArgumentError` naming the faulty field."""
    if not isinstance(searches, list):
        raise InvalidArgumentError(f"Expected searches to be a list, got {searches!r}")
    if read_level not in READ_LEVELS:
        raise InvalidArgumentError(
            f"Expected read_level to be one of {', '.join(READ_LEVELS)}, got {read_level!r}"
        )
    plans = []
    for i, search in enumerate(searches):
        try:
            plans.append(parse_search(search))
        except (InvalidArgumentError, ValueError, TypeError) as exc:
            raise InvalidArgumentError(f"searches[{i}]: {exc}") from None
    return SearchRequest(tuple(plans), read_level)


def parse_search(wire: Any) -> SearchPlan:
    """One Search's JSON (`Search.to_dict()`), typed and checked."""
    if not isinstance(wire, dict):
        raise InvalidArgumentError(f"Expected a search to be an object, got {wire!r}")
    unknown = set(wire) - {"filter", "rank", "group_by", "limit", "select"}
    if unknown:
        raise InvalidArgumentError(f"Unknown search fields: {sorted(unknown)}")
    where = wire.get("filter")
    selection = RecordFilter() if where is None else RecordFilter(mixed=parse_search_filter(where))
    rank = None if wire.get("rank") is None else _rank(wire["rank"], 0)
    group_by = _group_by(wire.get("group_by") or {})
    if group_by is not None and rank is None:
        raise InvalidArgumentError("group_by requires a rank")
    offset, limit = _limit(wire.get("limit") or {})
    return SearchPlan(
        filter=selection,
        rank=rank,
        group_by=group_by,
        offset=offset,
        limit=limit,
        select=_select(wire.get("select") or {}),
        wire=wire,
    )


# Rank trees deeper than this are refused rather than recursed into.
MAX_RANK_DEPTH = 64


def _rank(node: Any, depth: int) -> Rank:
    if depth > MAX_RANK_DEPTH:
        raise InvalidArgumentError(f"Expected rank to nest at most {MAX_RANK_DEPTH} levels")
    if not isinstance(node, dict) or len(node) != 1:
        raise InvalidArgumentError(f"Expected rank to be an object with one operator, got {node!r}")
    ((op, operand),) = node.items()
    if op == "$knn":
        return _knn(operand)
    if op == "$val":
        return ValRank(_number("$val", operand))
    if op in ("$abs", "$exp", "$log"):
        return UnaryRank(cast(UnaryOp, op), _rank(operand, depth + 1))
    if op in ("$sub", "$div"):
        if not isinstance(operand, dict) or set(operand) != {"left", "right"}:
            raise InvalidArgumentError(f"Expected {op} to have left and right, got {operand!r}")
        return BinaryRank(
            cast(BinaryOp, op),
            _rank(operand["left"], depth + 1),
            _rank(operand["right"], depth + 1),
        )
    if op in ("$sum", "$mul", "$max", "$min"):
        if not isinstance(operand, list) or not operand:
            raise InvalidArgumentError(f"Expected {op} to be a non-empty list, got {operand!r}")
        return FoldRank(cast(FoldOp, op), tuple(_rank(r, depth + 1) for r in operand))
    raise InvalidArgumentError(f"Unknown rank operator: {op}")


def _knn(operand: Any) -> KnnRank:
    if not isinstance(operand, dict) or "query" not in operand:
        raise InvalidArgumentError(f"Expected $knn to have a query, got {operand!r}")
    unknown = set(operand) - {"query", "key", "limit", "default", "return_rank"}
    if unknown:
        raise InvalidArgumentError(f"Unknown $knn fields: {sorted(unknown)}")
    key = operand.get("key", EMBEDDING)
    if not isinstance(key, str):
        raise InvalidArgumentError(f"Expected $knn key to be a str, got {key!r}")
    limit = operand.get("limit", 16)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise InvalidArgumentError(f"Expected $knn limit to be a positive int, got {limit!r}")
    default = operand.get("default")
    return_rank = operand.get("return_rank", False)
    if not isinstance(return_rank, bool):
        raise InvalidArgumentError(f"Expected $knn return_rank to be a bool, got {return_rank!r}")
    query = operand["query"]
    parsed: npt.NDArray[np.float32] | SparseVector
    if is_sparse_wire(query) or (isinstance(query, dict) and set(query) == {"indices", "values"}):
        # chromadb sends the tagged form; its sparse embedding functions' plain dicts too.
        try:
            parsed = SparseVector(query["indices"], query["values"], query.get("tokens"))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidArgumentError(f"Invalid sparse $knn query: {exc}") from None
    elif isinstance(query, list) and query and all(_is_number(v) for v in query):
        parsed = np.asarray(query, dtype=np.float32)
        if not np.isfinite(parsed).all():
            raise InvalidArgumentError("Expected $knn query to hold finite numbers")
    elif isinstance(query, str):
        raise InvalidArgumentError(
            "A $knn query string must be embedded before it is sent (Collection.search does)"
        )
    else:
        raise InvalidArgumentError(
            f"Expected $knn query to be one dense vector or a sparse vector, got {query!r}"
        )
    return KnnRank(
        query=parsed,
        key=key,
        limit=limit,
        default=None if default is None else _number("$knn default", default),
        return_rank=return_rank,
    )


def _group_by(wire: Any) -> GroupBy | None:
    if not isinstance(wire, dict):
        raise InvalidArgumentError(f"Expected group_by to be an object, got {wire!r}")
    keys, aggregate = wire.get("keys"), wire.get("aggregate")
    if not keys and not aggregate:
        return None
    if not keys or not aggregate:
        raise InvalidArgumentError("group_by needs both keys and an aggregate")
    group_keys = _names("group_by keys", keys)
    for key in group_keys:
        if key.startswith("#"):
            raise InvalidArgumentError(f"group_by keys must be metadata fields, got {key}")
    if not isinstance(aggregate, dict) or len(aggregate) != 1:
        raise InvalidArgumentError(f"Expected one group_by aggregate, got {aggregate!r}")
    ((op, spec),) = aggregate.items()
    if op not in ("$min_k", "$max_k") or not isinstance(spec, dict):
        raise InvalidArgumentError(f"Expected aggregate $min_k or $max_k, got {op!r}")
    order_keys = _names("aggregate keys", spec.get("keys"))
    for key in order_keys:
        if key.startswith("#") and key != SCORE:
            raise InvalidArgumentError(
                f"aggregate keys must be metadata fields or #score, got {key}"
            )
    k = spec.get("k")
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        raise InvalidArgumentError(f"Expected aggregate k to be a positive int, got {k!r}")
    return GroupBy(group_keys, op == "$max_k", order_keys, k)


def _limit(wire: Any) -> tuple[int, int | None]:
    if not isinstance(wire, dict):
        raise InvalidArgumentError(f"Expected limit to be an object, got {wire!r}")
    offset, limit = wire.get("offset", 0), wire.get("limit")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidArgumentError(f"Expected limit offset to be an int >= 0, got {offset!r}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise InvalidArgumentError(f"Expected limit limit to be an int >= 0, got {limit!r}")
    return offset, limit


def _select(wire: Any) -> tuple[str, ...]:
    if not isinstance(wire, dict):
        raise InvalidArgumentError(f"Expected select to be an object, got {wire!r}")
    keys = _names("select keys", wire.get("keys", []), allow_empty=True)
    # Chroma's order: its four fields first (in this order), then metadata fields by name.
    fields = [f for f in FIELDS if f in keys]
    return (*fields, *sorted(set(keys) - set(FIELDS)))


def _names(what: str, value: Any, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise InvalidArgumentError(f"Expected {what} to be a list of str, got {value!r}")
    if not all(isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"Expected {what} to be a list of str, got {value!r}")
    return tuple(dict.fromkeys(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(what: str, value: Any) -> float:
    if not _is_number(value) or not math.isfinite(value):
        raise InvalidArgumentError(f"Expected {what} to be a finite number, got {value!r}")
    return float(value)


def _collect_knns(rank: Rank, found: list[KnnRank]) -> None:
    if isinstance(rank, KnnRank):
        found.append(rank)
    elif isinstance(rank, UnaryRank):
        _collect_knns(rank.rank, found)
    elif isinstance(rank, BinaryRank):
        _collect_knns(rank.left, found)
        _collect_knns(rank.right, found)
    elif isinstance(rank, FoldRank):
        for r in rank.ranks:
            _collect_knns(r, found)
