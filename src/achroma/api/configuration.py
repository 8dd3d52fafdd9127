"""Collection configuration: Chroma's `configuration={"hnsw": {...}}` and legacy `hnsw:*`
metadata keys, normalised into one stored dict."""

from __future__ import annotations

import copy
from typing import Any

from achroma.errors import InvalidArgumentError

SPACES = ("l2", "cosine", "ip")

DEFAULT_HNSW: dict[str, Any] = {
    "space": "l2",
    "ef_construction": 100,
    "ef_search": 100,
    "max_neighbors": 16,
    "resize_factor": 1.2,
    "sync_threshold": 1000,
}

# Legacy metadata keys (chromadb < 1.0) and the configuration field each sets.
LEGACY_KEYS = {
    "hnsw:space": "space",
    "hnsw:construction_ef": "ef_construction",
    "hnsw:search_ef": "ef_search",
    "hnsw:M": "max_neighbors",
    "hnsw:resize_factor": "resize_factor",
    "hnsw:sync_threshold": "sync_threshold",
}

# Fields that may change on a live collection.
MUTABLE_HNSW = ("ef_search", "num_threads", "batch_size", "sync_threshold", "resize_factor")


def _check_hnsw(hnsw: dict[str, Any]) -> None:
    for key, value in hnsw.items():
        if key not in DEFAULT_HNSW and key not in ("num_threads", "batch_size"):
            raise InvalidArgumentError(f"Invalid HNSW config parameter: {key}")
        if key == "space":
            if value not in SPACES:
                raise InvalidArgumentError(
                    f"Invalid space: {value}. Expected one of {', '.join(SPACES)}"
                )
        elif key == "resize_factor":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise InvalidArgumentError(f"Invalid value for {key}: {value}")
        elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidArgumentError(f"Invalid value for {key}: {value}")


def build_configuration(
    configuration: dict[str, Any] | None, metadata: dict[str, Any] | None
) -> dict[str, Any]:
    """The stored configuration for a new collection."""
    hnsw = dict(DEFAULT_HNSW)
    for meta_key, field in LEGACY_KEYS.items():
        if metadata and meta_key in metadata:
            hnsw[field] = metadata[meta_key]
    given = dict(configuration or {})
    if given.get("hnsw"):
        if not isinstance(given["hnsw"], dict):
            raise InvalidArgumentError("Expected configuration['hnsw'] to be a dict")
        hnsw.update(given["hnsw"])
    _check_hnsw(hnsw)
    return {"hnsw": hnsw, "spann": None, "embedding_function": given.get("embedding_function")}


def update_configuration(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Apply `modify(configuration=...)`: only search-time HNSW fields may change."""
    updated = copy.deepcopy(current)
    for key, value in (change.get("hnsw") or {}).items():
        if key not in MUTABLE_HNSW:
            raise InvalidArgumentError(
                f"Cannot modify HNSW parameter '{key}' of an existing collection"
            )
        updated["hnsw"][key] = value
    _check_hnsw(updated["hnsw"])
    if "embedding_function" in change:
        updated["embedding_function"] = change["embedding_function"]
    return updated


def space_of(configuration: dict[str, Any]) -> str:
    return str((configuration.get("hnsw") or DEFAULT_HNSW).get("space", "l2"))
