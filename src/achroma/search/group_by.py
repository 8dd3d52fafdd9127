"""`GroupBy`: keep the best `k` records per group of metadata values (`MinK` / `MaxK`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from achroma.search.key import Key, key_name

# One key or a list of them, as chromadb's ``OneOrMany[Union[Key, str]]``.
Keys = Key | str | list[Key | str]


class Aggregate(ABC):
    """Which records of each group to keep: `MinK` or `MaxK`."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The wire form, e.g. ``{"$min_k": {"keys": ["#score"], "k": 3}}``."""

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Aggregate:
        """Read ``{"$min_k": {...}}`` or ``{"$max_k": {...}}``, with chromadb's checks."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Aggregate, got {type(data).__name__}")
        if not data:
            raise ValueError("Aggregate dict cannot be empty")
        if len(data) != 1:
            raise ValueError(f"Aggregate dict must contain exactly one operator, got {len(data)}")
        op, spec = next(iter(data.items()))
        kind = {"$min_k": MinK, "$max_k": MaxK}.get(op)
        if kind is None:
            raise ValueError(f"Unknown aggregate operator: {op}")
        if not isinstance(spec, dict):
            raise TypeError(f"{op} requires a dict, got {type(spec).__name__}")
        for required in ("keys", "k"):
            if required not in spec:
                raise ValueError(f"{op} requires '{required}' field")
        keys, k = spec["keys"], spec["k"]
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"{op} keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise ValueError(f"{op} keys cannot be empty")
        if not isinstance(k, int):
            raise TypeError(f"{op} k must be an integer, got {type(k).__name__}")
        if k <= 0:
            raise ValueError(f"{op} k must be positive, got {k}")
        return kind(keys=_as_keys(keys), k=k)


@dataclass(frozen=True)
class MinK(Aggregate):
    """Keep the `k` records with the smallest values of `keys` (compared as a tuple)."""

    keys: Keys
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"$min_k": {"keys": key_names(self.keys), "k": self.k}}


@dataclass(frozen=True)
class MaxK(Aggregate):
    """Keep the `k` records with the largest values of `keys` (compared as a tuple)."""

    keys: Keys
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"$max_k": {"keys": key_names(self.keys), "k": self.k}}


@dataclass(frozen=True)
class GroupBy:
    """Group ranked records by the values of metadata `keys`; keep `aggregate`'s pick of each.

    Example::

        GroupBy(keys=K("cat"), aggregate=MinK(keys=K.SCORE, k=2))   # the best 2 per "cat"

    Without keys or without an aggregate it groups nothing and serialises to ``{}``.
    """

    keys: Keys = field(default_factory=list)
    aggregate: Aggregate | None = None

    def to_dict(self) -> dict[str, Any]:
        if not self.keys or self.aggregate is None:
            return {}
        return {"keys": key_names(self.keys), "aggregate": self.aggregate.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> GroupBy:
        """Read the wire form; ``{}`` is no grouping."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for GroupBy, got {type(data).__name__}")
        if not data:
            return GroupBy()
        for required in ("keys", "aggregate"):
            if required not in data:
                raise ValueError(f"GroupBy requires '{required}' field")
        keys, aggregate = data["keys"], data["aggregate"]
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"GroupBy keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise ValueError("GroupBy keys cannot be empty")
        if not isinstance(aggregate, dict):
            raise TypeError(f"GroupBy aggregate must be a dict, got {type(aggregate).__name__}")
        return GroupBy(keys=_as_keys(keys), aggregate=Aggregate.from_dict(aggregate))


def key_names(keys: Keys) -> list[str]:
    """The wire names of one key or a list of keys."""
    return [key_name(k) for k in (keys if isinstance(keys, list) else [keys])]


def _as_keys(names: list[Any] | tuple[Any, ...]) -> list[Key | str]:
    return [Key(n) if isinstance(n, str) else n for n in names]
