"""A `Collection.search` argument as the JSON a backend takes: `Search` objects through their
`to_dict()`, dicts as they are (deep-copied, so embedding string queries never changes the
caller's object)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


def search_json(search: Any) -> dict[str, Any]:
    """One Search's wire JSON."""
    if isinstance(search, dict):
        return copy.deepcopy(search)
    to_dict = getattr(search, "to_dict", None)
    if to_dict is None:
        raise TypeError(f"Expected a Search, got {type(search).__name__}")
    wire = to_dict()
    if not isinstance(wire, dict):
        raise TypeError(f"Expected a Search, got {type(search).__name__}")
    return copy.deepcopy(wire)


def string_knns(node: Any) -> Iterator[dict[str, Any]]:
    """The `$knn` operands inside a Search's JSON whose query is a string."""
    if isinstance(node, dict):
        knn = node.get("$knn")
        if isinstance(knn, dict) and isinstance(knn.get("query"), str):
            yield knn
        for value in node.values():
            yield from string_knns(value)
    elif isinstance(node, list):
        for value in node:
            yield from string_knns(value)
