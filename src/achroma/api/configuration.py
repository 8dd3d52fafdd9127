"""Collection configuration: Chroma's `configuration={"hnsw": {...}}` and legacy `hnsw:*`
metadata keys, normalised into one stored dict.

chromadb reads a configuration in two steps, and so does this module: its Python client turns
the argument into JSON (`create_json`, `update_json`); then, once the other arguments have been
converted, its Rust layer parses that JSON (`create_configuration`, `parse_update`). The errors
of each step, and their order, are chromadb's.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from dataclasses import dataclass
from typing import Any

from achroma.embeddings import embedding_function_to_config
from achroma.emulation.serde_config import CREATE, SPACES, UPDATE, deserialize
from achroma.errors import InvalidArgumentError

DEFAULT_HNSW: dict[str, Any] = {
    "space": "l2",
    "ef_construction": 100,
    "ef_search": 100,
    "max_neighbors": 16,
    "resize_factor": 1.2,
    "sync_threshold": 1000,
}

# Legacy metadata keys (chromadb < 1.0) and the HNSW field each sets.
LEGACY_KEYS = {
    "hnsw:space": "space",
    "hnsw:construction_ef": "ef_construction",
    "hnsw:search_ef": "ef_search",
    "hnsw:M": "max_neighbors",
    "hnsw:num_threads": "num_threads",
    "hnsw:resize_factor": "resize_factor",
    "hnsw:sync_threshold": "sync_threshold",
    "hnsw:batch_size": "batch_size",
}

# What `modify(configuration={"hnsw": ...})` changes: in the store (chromadb's Rust layer),
# and in the handle's cached configuration (its Python client).
STORED_UPDATES = ("ef_search", "max_neighbors", "resize_factor", "sync_threshold")
HANDLE_UPDATES = ("ef_search", "num_threads", "batch_size", "sync_threshold", "resize_factor")


def _filled(fields: dict[str, Any]) -> dict[str, Any]:
    """The stored HNSW fields: those given, defaults for the rest (thread and batch sizes are
    accepted and not kept, as in chromadb)."""
    hnsw = dict(DEFAULT_HNSW)
    hnsw.update({k: v for k, v in fields.items() if k in DEFAULT_HNSW and v is not None})
    hnsw["resize_factor"] = float(hnsw["resize_factor"])
    return hnsw


# --- create ---


@dataclass(frozen=True)
class Recorded:
    """An embedding function's record as a client sent it (None: it sent none); a server
    keeps it as it is, as Chroma's does."""

    record: dict[str, Any] | None


def create_json(
    configuration: Any, metadata: Any = None, embedding_function: Any = None
) -> str | None:
    """A create's `configuration` as chromadb's client hands it on (None: nothing to parse).

    `embedding_function` is the one the collection records: the configuration's, else the
    caller's. Its name and config are recorded, and where neither the configuration nor the
    ``hnsw:space`` metadata gives a distance, the function's default space is used (with
    chromadb's warning for a space the function does not support). A dict is a function
    `Recorded` is a function's record received as JSON (by a server, from a client)."""
    if not configuration and embedding_function is None:
        return None
    configuration = configuration or {}
    hnsw, spann = configuration.get("hnsw"), configuration.get("spann")
    if hnsw is not None and spann is not None:
        raise ValueError("hnsw and spann cannot both be provided")
    if embedding_function is None:
        recorded: Any = LEGACY_FUNCTION
    elif isinstance(embedding_function, Recorded):
        recorded = embedding_function.record
    else:
        recorded, hnsw, spann = _record_function(embedding_function, hnsw, spann, metadata)
    return json.dumps({"hnsw": hnsw, "spann": spann, "embedding_function": recorded})


LEGACY_FUNCTION: dict[str, Any] = {"type": "legacy"}


def _record_function(
    function: Any, hnsw: Any, spann: Any, metadata: Any
) -> tuple[dict[str, Any], Any, Any]:
    """chromadb's recording of a function object, with its default-space rule."""
    try:
        if function.is_legacy():
            return LEGACY_FUNCTION, hnsw, spann
        if hnsw is None and spann is None and (metadata or {}).get("hnsw:space") is None:
            hnsw = {"space": function.default_space()}
        hnsw = _with_space(function, hnsw)
        spann = _with_space(function, spann)
        if hnsw is None and spann is None:
            _check_space(function, metadata.get("hnsw:space"))
        return embedding_function_to_config(function), hnsw, spann
    except Exception as exc:
        warnings.warn(f"legacy embedding function config: {exc}", DeprecationWarning, 3)
        return LEGACY_FUNCTION, hnsw, spann


def _with_space(function: Any, index: Any) -> Any:
    if index is None:
        return None
    if index.get("space") is None:
        index = {**index, "space": function.default_space()}
    _check_space(function, index.get("space"))
    return index


def _check_space(function: Any, space: Any) -> None:
    supported = function.supported_spaces()
    if space not in supported:
        warnings.warn(
            f"space {space} is not supported by {function.name()}. Supported spaces: {supported}",
            UserWarning,
            stacklevel=5,
        )


def _legacy_ok(field: str, value: Any) -> bool:
    if field == "space":
        return isinstance(value, str) and value in SPACES
    if isinstance(value, bool):
        return False
    if field == "resize_factor":
        return isinstance(value, int | float) and math.isfinite(value)
    return isinstance(value, int) and 0 <= value < 2**63


def _legacy_hnsw(metadata: dict[str, Any]) -> dict[str, Any]:
    """The HNSW fields set by legacy `hnsw:*` metadata keys; an unknown key or a bad value
    fails the whole create, as in chromadb."""
    fields = {}
    for key, value in metadata.items():
        if not key.startswith("hnsw:"):
            continue
        field = LEGACY_KEYS.get(key)
        if field is None or not _legacy_ok(field, value):
            raise InvalidArgumentError("Failed to parse hnsw parameters from segment metadata")
        fields[field] = value
    return fields


def create_configuration(text: str | None, metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The stored configuration of a new collection, from `create_json`'s text and the
    (converted) metadata. Legacy metadata keys count only when the configuration leaves HNSW
    at its defaults; a SPANN configuration becomes HNSW with its space (there is no SPANN
    index locally, as in chromadb)."""
    parsed = deserialize(text, CREATE) if text is not None else {}
    hnsw, spann = parsed.get("hnsw"), parsed.get("spann")
    legacy = _legacy_hnsw(metadata) if metadata is not None else {}
    if spann is not None:
        stored = _filled({"space": spann.get("space")})
    elif hnsw is None or _filled(hnsw) == DEFAULT_HNSW:
        stored = _filled(legacy)
    else:
        stored = _filled(hnsw)
    # The function's record is kept as given: its config is the function's own business.
    recorded = json.loads(text).get("embedding_function") if text is not None else None
    return {"hnsw": stored, "spann": None, "embedding_function": recorded}


# --- modify ---


def update_json(configuration: Any) -> str | None:
    """A modify's `configuration` as chromadb's client hands it on (None: no change)."""
    if not configuration:
        return None
    hnsw = configuration.get("hnsw")  # AttributeError if no dict, as in chromadb
    spann, ef = configuration.get("spann"), configuration.get("embedding_function")
    if hnsw is None and spann is None and ef is None:
        return "{}"
    # The embedding function's own JSON is left out: nothing in it is checked here.
    ef_json = None if ef is None else {"type": "known"}
    return json.dumps({"hnsw": hnsw, "spann": spann, "embedding_function": ef_json})


@dataclass(frozen=True)
class ConfigurationUpdate:
    """A checked `modify(configuration=...)`."""

    hnsw: dict[str, Any]
    """The HNSW fields given (as parsed)."""
    given_hnsw: Any
    """`configuration["hnsw"]` as given, which chromadb copies into the handle."""
    spann: bool
    embedding_function: Any


def parse_update(text: str | None, configuration: Any) -> ConfigurationUpdate | None:
    """`update_json`'s text read as chromadb's Rust layer reads it."""
    if text is None:
        return None
    parsed = deserialize(text, UPDATE)
    if parsed.get("hnsw") is not None and parsed.get("spann") is not None:
        raise InvalidArgumentError("Multiple vector index configurations provided")
    return ConfigurationUpdate(
        hnsw=parsed.get("hnsw") or {},
        given_hnsw=configuration.get("hnsw"),
        spann=configuration.get("spann") is not None,
        embedding_function=configuration.get("embedding_function"),
    )


def check_update_target(update: ConfigurationUpdate | None) -> None:
    """Every collection here has an HNSW index: a SPANN change is refused (chromadb refuses
    it too, though only after writing the rest of the modify)."""
    if update is not None and update.spann:
        raise ValueError("Trying to update SPANN config but schema has HNSW")


def updated_configuration(current: dict[str, Any], update: ConfigurationUpdate) -> dict[str, Any]:
    """The stored configuration after `update`."""
    updated = copy.deepcopy(current)
    hnsw = {k: v for k, v in (current.get("hnsw") or {}).items() if k in DEFAULT_HNSW}
    for field in STORED_UPDATES:
        if update.hnsw.get(field) is not None:
            hnsw[field] = update.hnsw[field]
    updated["hnsw"] = _filled(hnsw)
    if update.embedding_function is not None:
        updated["embedding_function"] = update.embedding_function
    return updated


def handle_configuration(current: dict[str, Any], update: ConfigurationUpdate) -> dict[str, Any]:
    """A handle's cached configuration after `update`: chromadb's client copies the given
    values (but not a None, which the index could not use)."""
    updated = copy.deepcopy(current)
    given = update.given_hnsw if isinstance(update.given_hnsw, dict) else {}
    for field in HANDLE_UPDATES:
        if given.get(field) is not None:
            updated["hnsw"][field] = given[field]
    if update.embedding_function is not None:
        updated["embedding_function"] = update.embedding_function
    return updated
