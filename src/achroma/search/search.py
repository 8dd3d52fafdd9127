"""`Search`: one search request (filter, rank, grouping, page, projection), and its parts
`Limit` and `Select`.

Built directly or by chaining immutable builders; `Search.to_dict` is the wire form the
server reads (always the five keys ``filter``, ``rank``, ``group_by``, ``limit``, ``select``)::

    Search().where(K("cat") == "a").rank(Knn(query=[0.1, 0.2])).limit(10).select(K.DOCUMENT)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from achroma.search.group_by import GroupBy
from achroma.search.key import Key, key_name
from achroma.search.rank import Rank
from achroma.search.where import Where

T = TypeVar("T")
A = TypeVar("A")

_SEARCH_FIELDS = ("filter", "rank", "group_by", "limit", "select")


@dataclass(frozen=True)
class Limit:
    """Skip `offset` results, then return at most `limit` (None: all the rest)."""

    offset: int = 0
    limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"offset": self.offset}
        if self.limit is not None:
            wire["limit"] = self.limit
        return wire

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Limit:
        """Read ``{"offset": n, "limit": m}`` (both optional): offset >= 0, limit > 0."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Limit, got {type(data).__name__}")
        offset = data.get("offset", 0)
        if not isinstance(offset, int):
            raise TypeError(f"Limit offset must be an integer, got {type(offset).__name__}")
        if offset < 0:
            raise ValueError(f"Limit offset must be non-negative, got {offset}")
        limit = data.get("limit")
        if limit is not None:
            if not isinstance(limit, int):
                raise TypeError(f"Limit limit must be an integer, got {type(limit).__name__}")
            if limit <= 0:
                raise ValueError(f"Limit limit must be positive, got {limit}")
        _refuse_unexpected("Limit", data, {"offset", "limit"})
        return Limit(offset=offset, limit=limit)


@dataclass(frozen=True)
class Select:
    """The fields each result carries besides its id: ``K.DOCUMENT``, ``K.EMBEDDING``,
    ``K.METADATA``, ``K.SCORE``, or metadata keys (the metadata narrowed to them)."""

    keys: set[Key | str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        # In set iteration order, which the server ignores.
        return {"keys": list(dict.fromkeys(key_name(k) for k in self.keys))}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Select:
        """Read ``{"keys": [...]}``."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Select, got {type(data).__name__}")
        keys = data.get("keys", [])
        if not isinstance(keys, (list, tuple, set)):
            raise TypeError(f"Select keys must be a list/tuple/set, got {type(keys).__name__}")
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"Select key must be a string, got {type(k).__name__}")
        _refuse_unexpected("Select", data, {"keys"})
        return Select(keys={Key(k) for k in keys})


class Search:
    """A search: which records (`where`), in which order (`rank`), grouped how (`group_by`),
    which page (`limit`), with which fields (`select`).

    Each argument takes its object or its wire-form dict; `limit` also takes an int
    (``Limit(limit=n)``) and `select` a list or set of key names. The builders return a new
    `Search` and leave this one unchanged.

    Example::

        Search(where={"cat": "a"}, rank=Knn(query=[0.1, 0.2]), limit=10, select=["#score"])
    """

    def __init__(
        self,
        where: Where | dict[str, Any] | None = None,
        rank: Rank | dict[str, Any] | None = None,
        group_by: GroupBy | dict[str, Any] | None = None,
        limit: Limit | dict[str, Any] | int | None = None,
        select: Select | dict[str, Any] | list[str] | set[str] | None = None,
    ) -> None:
        self._where = _read(where, Where, Where.from_dict, None, "where", "a Where object, dict")
        self._rank = _read(rank, Rank, Rank.from_dict, None, "rank", "a Rank object, dict")
        self._group_by = _read(
            group_by, GroupBy, GroupBy.from_dict, GroupBy(), "group_by", "a GroupBy object, dict"
        )
        self._limit: Limit
        if isinstance(limit, int):
            self._limit = Limit.from_dict({"limit": limit, "offset": 0})
        else:
            self._limit = _read(
                limit, Limit, Limit.from_dict, Limit(), "limit", "a Limit object, dict, int"
            )
        self._select: Select
        if isinstance(select, (list, set)):
            self._select = Select.from_dict({"keys": list(select)})
        else:
            self._select = _read(
                select,
                Select,
                Select.from_dict,
                Select(),
                "select",
                "a Select object, dict, list, set",
            )

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Search:
        """Read the wire form of `to_dict` (every key optional)."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Search, got {type(data).__name__}")
        _refuse_unexpected("Search", data, set(_SEARCH_FIELDS))
        return Search(
            where=data.get("filter"),
            rank=data.get("rank"),
            group_by=data.get("group_by"),
            limit=data.get("limit"),
            select=data.get("select"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"filter", "rank", "group_by", "limit", "select"}``."""
        return {
            "filter": None if self._where is None else self._where.to_dict(),
            "rank": None if self._rank is None else self._rank.to_dict(),
            "group_by": self._group_by.to_dict(),
            "limit": self._limit.to_dict(),
            "select": self._select.to_dict(),
        }

    def where(self, where: Where | dict[str, Any] | None) -> Search:
        """This search with filter `where` (None: no filter)."""
        return self._with(where=where)

    def rank(self, rank_expr: Rank | dict[str, Any] | None) -> Search:
        """This search ranked by `rank_expr` (None: in insertion order)."""
        return self._with(rank=rank_expr)

    def group_by(self, group_by: GroupBy | dict[str, Any] | None) -> Search:
        """This search grouped by `group_by` (None: no grouping)."""
        return self._with(group_by=group_by)

    def limit(self, limit: int, offset: int = 0) -> Search:
        """This search paged: skip `offset`, then at most `limit` (taken as given, unchecked)."""
        return self._with(limit=Limit(offset=offset, limit=limit))

    def select(self, *keys: Key | str) -> Search:
        """This search returning the fields `keys` (none: ids only)."""
        return self._with(select=Select(keys=set(keys)))

    def select_all(self) -> Search:
        """This search returning document, embedding, metadata and score."""
        every: set[Key | str] = {Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE}
        return self._with(select=Select(keys=every))

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={value!r}" for name, value in self._parts().items())
        return f"Search({parts})"

    def _parts(self) -> dict[str, Any]:
        return {
            "where": self._where,
            "rank": self._rank,
            "group_by": self._group_by,
            "limit": self._limit,
            "select": self._select,
        }

    def _with(self, **changes: Any) -> Search:
        return Search(**{**self._parts(), **changes})


def _read(
    value: object,
    kind: type[object],
    parse: Callable[[dict[str, Any]], T],
    absent: A,
    name: str,
    accepted: str,
) -> T | A:
    """`value` as a `kind`: itself, parsed from its dict, or `absent` for None."""
    if value is None:
        return absent
    if isinstance(value, kind):
        return cast(T, value)
    if isinstance(value, dict):
        return parse(value)
    raise TypeError(f"{name} must be {accepted}, or None, got {type(value).__name__}")


def _refuse_unexpected(kind: str, data: dict[str, Any], allowed: Iterable[str]) -> None:
    unexpected = set(data) - set(allowed)
    if unexpected:
        raise ValueError(f"Unexpected keys in {kind} dict: {unexpected}")
