"""A collection schema's server-side rules, as chromadb 1.5.9's server applies them, over the
schema's JSON (``Schema.serialize_to_json()``'s shape); no embedding function is built.

- `validate_schema`: what a server refuses in a schema it is sent;
- `reconcile`: the schema and configuration a new collection gets from what it was sent;
- `discover_keys`: the per-key entries that writes add for metadata keys not seen before;
- `filter_check`, `fts_check`, `sparse_knn_check`: the refusal of a filter
  (or a sparse query) on an index the schema turned off;
- `sparse_index_key`: the collection's one sparse vector index, if any.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from achroma.core.sparse import SPARSE_VECTOR_TYPE, TYPE_KEY, SparseVector
from achroma.errors import InvalidArgumentError

Json = dict[str, Any]

DOCUMENT_KEY: Final = "#document"
EMBEDDING_KEY: Final = "#embedding"
# Metadata keys under this prefix are the system's, never given schema entries.
CHROMA_PREFIX: Final = "chroma:"

# A local server's HNSW parameters for a vector index that names none.
HNSW_DEFAULTS: Final[Json] = {
    "ef_construction": 100,
    "max_neighbors": 16,
    "ef_search": 100,
    "num_threads": 2,
    "batch_size": 100,
    "sync_threshold": 1000,
    "resize_factor": 1.2,
}
DEFAULT_SPACE: Final = "l2"
# What a collection's configuration keeps of the HNSW parameters (threads and batch size
# live in the schema only).
CONFIGURATION_HNSW: Final = (
    "ef_construction",
    "ef_search",
    "max_neighbors",
    "resize_factor",
    "sync_threshold",
)

# Each value type's index that filters use, and its name in chromadb's error messages.
FILTER_INDEX: Final = {
    "string": ("string_inverted_index", "Str"),
    "int": ("int_inverted_index", "Int"),
    "float": ("float_inverted_index", "Float"),
    "bool": ("bool_inverted_index", "Bool"),
    "sparse_vector": ("sparse_vector_index", "SparseVector"),
}


def _off(enabled: bool) -> Json:
    return {"enabled": enabled, "config": {}}


def _vector(enabled: bool, source_key: str | None) -> Json:
    config: Json = {"space": DEFAULT_SPACE}
    if source_key is not None:
        config["source_key"] = source_key
    config["hnsw"] = dict(HNSW_DEFAULTS)
    return {"enabled": enabled, "config": config}


def default_schema() -> Json:
    """The schema of a collection created with neither schema nor configuration (a local
    server's: HNSW parameters filled in, no embedding function)."""
    return {
        "defaults": {
            "string": {"fts_index": _off(False), "string_inverted_index": _off(True)},
            "float_list": {"vector_index": _vector(False, None)},
            "sparse_vector": {
                "sparse_vector_index": {
                    "enabled": False,
                    "config": {"embedding_function": {"type": "unknown"}, "bm25": False},
                }
            },
            "int": {"int_inverted_index": _off(True)},
            "float": {"float_inverted_index": _off(True)},
            "bool": {"bool_inverted_index": _off(True)},
        },
        "keys": {
            DOCUMENT_KEY: {
                "string": {"fts_index": _off(True), "string_inverted_index": _off(False)}
            },
            EMBEDDING_KEY: {"float_list": {"vector_index": _vector(True, DOCUMENT_KEY)}},
        },
    }


# --- validation ---


def _index(value_types: Mapping[str, Any], value_type: str, index: str) -> Any:
    return (value_types.get(value_type) or {}).get(index)


def _enabled(value_types: Mapping[str, Any], value_type: str, index: str) -> bool:
    found = _index(value_types, value_type, index)
    return bool(found is not None and found.get("enabled"))


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"Validation error: schema: {message}")


def _cmek_valid(cmek: Any) -> bool:
    # The server's pattern: word characters in each part, matched anywhere.
    resource = cmek.get("gcp") if isinstance(cmek, dict) else None
    return isinstance(resource, str) and bool(
        re.search(r"projects/\w+/locations/\w+/keyRings/\w+/cryptoKeys/\w+", resource)
    )


def validate_schema(schema: Json) -> None:
    """Raise `InvalidArgumentError` with chromadb's message for a schema its server refuses."""
    for field in ("defaults", "keys"):
        if not isinstance(schema.get(field), dict):
            raise InvalidArgumentError(f"Invalid schema: missing field `{field}`")
    defaults = schema["defaults"]
    if _enabled(defaults, "float_list", "vector_index"):
        raise _invalid(
            "Vector index cannot be enabled by default. It can only be enabled on #embedding field."
        )
    vector = _index(defaults, "float_list", "vector_index") or {}
    config = vector.get("config") or {}
    if config.get("hnsw") is not None and config.get("spann") is not None:
        raise _invalid("Both spann and hnsw config cannot be present at the same time.")
    if _enabled(defaults, "sparse_vector", "sparse_vector_index"):
        raise _invalid(
            "Sparse vector index cannot be enabled by default. Please enable sparse vector "
            "index on specific keys. At most one sparse vector index is allowed for the "
            "collection."
        )
    if _enabled(defaults, "string", "fts_index"):
        raise _invalid(
            "Full text search / regular expression index cannot be enabled by default. It can "
            "only be enabled on #document field."
        )
    sparse_keys: list[str] = []
    for key, value_types in schema["keys"].items():
        _validate_key(key, value_types, sparse_keys)
    cmek = schema.get("cmek")
    if cmek is not None and not _cmek_valid(cmek):
        raise _invalid(f"CMEK does not match expected pattern: Gcp({_rust_str(cmek)})")


def _rust_str(cmek: Any) -> str:
    resource = cmek.get("gcp") if isinstance(cmek, dict) else cmek
    return '"' + str(resource).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _validate_key(key: str, value_types: Json, sparse_keys: list[str]) -> None:
    if key.startswith("#") and key not in (DOCUMENT_KEY, EMBEDDING_KEY):
        raise _invalid(
            f"key cannot begin with '#'. Keys starting with '#' are reserved for system use: {key}"
        )
    present = {t for t, v in value_types.items() if v is not None}
    if key == DOCUMENT_KEY and present - {"string"}:
        raise _invalid(f"Document field cannot have any value types other than string: {key}")
    if key == EMBEDDING_KEY and present - {"float_list"}:
        raise _invalid(f"Embedding field cannot have any value types other than float_list: {key}")
    vector = _index(value_types, "float_list", "vector_index")
    if vector is not None:
        if vector.get("enabled") and key != EMBEDDING_KEY:
            raise _invalid(f"Vector index can only be enabled on #embedding field: {key}")
        source = (vector.get("config") or {}).get("source_key")
        if source is not None and source != DOCUMENT_KEY:
            raise _invalid("Vector index can only source from #document")
    sparse = _index(value_types, "sparse_vector", "sparse_vector_index")
    if sparse is not None:
        config = sparse.get("config") or {}
        if sparse.get("enabled"):
            sparse_keys.append(key)
            if len(sparse_keys) > 1:
                listed = ", ".join(f'"{k}"' for k in sparse_keys)
                raise _invalid(
                    f"At most one sparse vector index is allowed for the collection: [{listed}]"
                )
            if config.get("source_key") is not None and config.get("embedding_function") is None:
                raise _invalid(
                    "If source_key is provided then embedding_function must also be provided "
                    "since there is no default embedding function."
                )
        source = config.get("source_key")
        if source is not None and source.startswith("#") and source != DOCUMENT_KEY:
            raise _invalid(
                "source_key cannot begin with '#'. The only valid key starting with '#' is "
                "Key.DOCUMENT or '#document'."
            )
    if _enabled(value_types, "string", "fts_index") and key != DOCUMENT_KEY:
        raise _invalid(
            "Full text search / regular expression index can only be enabled on #document "
            f"field: {key}"
        )
    if _enabled(value_types, "string", "string_inverted_index") and key == DOCUMENT_KEY:
        raise _invalid(f"String inverted index can not be enabled on #document key: {key}")


# --- reconciliation ---


def _function_is_default(function: Any) -> bool:
    # A legacy function asks for something (the caller embeds); an unknown one does not.
    return (
        function is None
        or function.get("type") == "unknown"
        or (function.get("type") == "known" and function.get("name") == "default")
    )


def _vector_config_is_default(config: Json, source_key: str | None) -> bool:
    if not _function_is_default(config.get("embedding_function")):
        return False
    if config.get("space") not in (None, DEFAULT_SPACE):
        return False
    if config.get("source_key") != source_key:
        return False
    if config.get("spann") is not None:
        return False
    hnsw = config.get("hnsw")
    return hnsw is None or all(hnsw.get(k) == v for k, v in HNSW_DEFAULTS.items())


def is_default_schema(schema: Json) -> bool:
    """Whether `schema` asks for nothing but the defaults (an embedding function called
    ``default`` and the default HNSW parameters count as defaults), as the server decides."""
    if schema.get("cmek") is not None:
        return False
    defaults = schema.get("defaults") or {}
    for value_type, (index, _) in FILTER_INDEX.items():
        if value_type == "sparse_vector":
            continue
        found = _index(defaults, value_type, index)
        if found is not None and not found.get("enabled"):
            return False
    if _enabled(defaults, "string", "fts_index"):
        return False
    vector = _index(defaults, "float_list", "vector_index")
    if vector is not None and (
        vector.get("enabled") or not _vector_config_is_default(vector.get("config") or {}, None)
    ):
        return False
    sparse = _index(defaults, "sparse_vector", "sparse_vector_index")
    if sparse is not None:
        config = sparse.get("config") or {}
        if (
            sparse.get("enabled")
            or not _function_is_default(config.get("embedding_function"))
            or config.get("source_key") is not None
            or config.get("bm25") not in (None, False)
        ):
            return False
    keys = schema.get("keys") or {}
    if set(keys) - {DOCUMENT_KEY, EMBEDDING_KEY}:
        return False
    embedding = keys.get(EMBEDDING_KEY)
    if embedding is not None:
        if {t for t, v in embedding.items() if v is not None} - {"float_list"}:
            return False
        vector = _index(embedding, "float_list", "vector_index")
        if vector is not None and (
            not vector.get("enabled")
            or not _vector_config_is_default(vector.get("config") or {}, DOCUMENT_KEY)
        ):
            return False
    document = keys.get(DOCUMENT_KEY)
    if document is not None:
        if {t for t, v in document.items() if v is not None} - {"string"}:
            return False
        fts = _index(document, "string", "fts_index")
        if fts is not None and not fts.get("enabled"):
            return False
        if _enabled(document, "string", "string_inverted_index"):
            return False
    return True


def is_default_configuration(configuration: Json) -> bool:
    """Whether a stored configuration (``{"hnsw", "spann", "embedding_function"}``) asks for
    nothing but the defaults."""
    hnsw = configuration.get("hnsw") or {}
    if hnsw.get("space", DEFAULT_SPACE) != DEFAULT_SPACE or configuration.get("spann"):
        return False
    if any(hnsw.get(k, v) != v for k, v in HNSW_DEFAULTS.items()):
        return False
    return _function_is_default(configuration.get("embedding_function"))


def _merge_fields(default: Json | None, user: Json | None) -> Json | None:
    if default is None or user is None:
        return copy.deepcopy(user if default is None else default)
    merged = copy.deepcopy(default)
    merged.update({k: copy.deepcopy(v) for k, v in user.items() if v is not None})
    return merged


def _merge_vector(default: Json, user: Json) -> Json:
    config: Json = {}
    for field in ("space", "embedding_function", "source_key"):
        value = user.get(field)
        if value is None:
            value = default.get(field)
        if value is not None:
            config[field] = copy.deepcopy(value)
    hnsw = _merge_fields(default.get("hnsw"), user.get("hnsw"))
    if hnsw is not None:
        config["hnsw"] = hnsw
    return config


def _merge_value_types(default: Json, user: Json) -> Json:
    merged = copy.deepcopy(default)
    for value_type, indexes in user.items():
        if indexes is None:
            continue
        if merged.get(value_type) is None:
            merged[value_type] = copy.deepcopy(indexes)
            continue
        for index, entry in indexes.items():
            if entry is None:
                continue
            base = merged[value_type].get(index)
            if base is None:
                merged[value_type][index] = copy.deepcopy(entry)
            elif index == "vector_index":
                config = _merge_vector(base.get("config") or {}, entry.get("config") or {})
                merged[value_type][index] = {"enabled": entry["enabled"], "config": config}
            elif index == "sparse_vector_index":
                config = _merge_fields(base.get("config"), entry.get("config")) or {}
                merged[value_type][index] = {"enabled": entry["enabled"], "config": config}
            else:
                merged[value_type][index] = copy.deepcopy(entry)
    return merged


def merge_with_defaults(schema: Json | None) -> Json:
    """`schema` over `default_schema()`: what it leaves out comes from the defaults, field by
    field inside vector and sparse configurations. SPANN parameters are dropped: the local
    vector index is HNSW."""
    base = default_schema()
    if schema is None:
        return base
    merged: Json = {"defaults": _merge_value_types(base["defaults"], schema.get("defaults", {}))}
    keys = base["keys"]
    for key, value_types in schema.get("keys", {}).items():
        keys[key] = (
            _merge_value_types(keys[key], value_types)
            if key in keys
            else copy.deepcopy(value_types)
        )
    merged["keys"] = keys
    if schema.get("cmek") is not None:
        merged["cmek"] = copy.deepcopy(schema["cmek"])
    return merged


def _set_function(schema: Json, function: Any) -> None:
    for value_types in (schema["defaults"], schema["keys"][EMBEDDING_KEY]):
        config = value_types["float_list"]["vector_index"]["config"]
        config["embedding_function"] = copy.deepcopy(function)


def schema_from_configuration(configuration: Json) -> Json:
    """The schema a collection created with `configuration` (and no schema) gets."""
    schema = default_schema()
    hnsw = configuration.get("hnsw") or {}
    space = hnsw.get("space") or DEFAULT_SPACE
    params = {k: v if hnsw.get(k) is None else hnsw[k] for k, v in HNSW_DEFAULTS.items()}
    for value_types in (schema["defaults"], schema["keys"][EMBEDDING_KEY]):
        config = value_types["float_list"]["vector_index"]["config"]
        config["space"] = space
        config["hnsw"] = dict(params)
    if configuration.get("embedding_function") is not None:
        _set_function(schema, configuration["embedding_function"])
    return schema


def _vector_config(schema: Json) -> Json:
    for value_types in (schema["keys"].get(EMBEDDING_KEY) or {}, schema["defaults"]):
        vector = _index(value_types, "float_list", "vector_index")
        if vector is not None:
            return vector.get("config") or {}
    return {}


def configuration_from_schema(schema: Json) -> Json:
    """The stored configuration that mirrors `schema`'s vector index (on ``#embedding``)."""
    config = _vector_config(schema)
    hnsw_params = config.get("hnsw") or {}
    hnsw: Json = {"space": config.get("space") or DEFAULT_SPACE}
    for field in CONFIGURATION_HNSW:
        value = hnsw_params.get(field)
        hnsw[field] = HNSW_DEFAULTS[field] if value is None else value
    return {
        "hnsw": hnsw,
        "spann": None,
        "embedding_function": copy.deepcopy(config.get("embedding_function")),
    }


def reconcile(schema: Json | None, configuration: Json | None) -> tuple[Json, Json]:
    """The schema and configuration a new collection gets, as chromadb's server decides:

    - a schema that asks for more than the defaults together with such a configuration
      fails (``InvalidArgumentError``);
    - a schema is merged over the server's defaults;
    - a default schema with a configuration that is not takes its schema from the
      configuration; with a default configuration it is the default schema, carrying the
      configuration's embedding function;
    - the configuration returned mirrors the schema's vector index.
    """
    if (
        schema is not None
        and configuration is not None
        and not is_default_schema(schema)
        and not is_default_configuration(configuration)
    ):
        raise InvalidArgumentError(
            "Failed to reconcile schema: Cannot set both collection config and schema "
            "simultaneously"
        )
    merged = merge_with_defaults(schema)
    if configuration is None:
        result = merged
    elif not is_default_configuration(configuration):
        result = schema_from_configuration(configuration)
    elif is_default_schema(merged):
        result = default_schema()
        if configuration.get("embedding_function") is not None:
            _set_function(result, configuration["embedding_function"])
    else:
        result = merged
    return result, configuration_from_schema(result)


# --- writes ---


def value_type_of(value: Any) -> str | None:
    """The schema value type of a metadata value or filter operand (a list: its items'
    type); None for None and an empty list."""
    if isinstance(value, list | tuple):
        return value_type_of(value[0]) if value else None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, SparseVector) or (
        isinstance(value, dict) and value.get(TYPE_KEY) == SPARSE_VECTOR_TYPE
    ):
        return "sparse_vector"
    return None


def discover_keys(
    schema: Json, metadatas: Iterable[Mapping[str, Any] | None] | None
) -> Json | None:
    """`schema` with an entry for each metadata key and value type it has not seen (a copy of
    the defaults for that type); None if nothing is new."""
    updated: Json | None = None
    for metadata in metadatas or ():
        for key, value in (metadata or {}).items():
            value_type = value_type_of(value)
            if value_type is None or key.startswith(CHROMA_PREFIX):
                continue
            current = updated if updated is not None else schema
            entry = current["keys"].get(key)
            if entry is not None and entry.get(value_type) is not None:
                continue
            default = current["defaults"].get(value_type)
            if default is None:
                continue
            if updated is None:
                updated = copy.deepcopy(schema)
            updated["keys"].setdefault(key, {})[value_type] = copy.deepcopy(default)
    return updated


# --- reads ---


def index_enabled(schema: Json, key: str, value_type: str) -> bool:
    """Whether filters on `key` with values of `value_type` have their index: the key's entry
    for the type if it has one, else the defaults'."""
    index, _ = FILTER_INDEX[value_type]
    value_types = schema["keys"].get(key)
    if value_types is None or value_types.get(value_type) is None:
        value_types = schema["defaults"]
    found = _index(value_types, value_type, index)
    if found is None:
        raise InvalidArgumentError(
            f"Schema is malformed: missing index configuration for metadata key '{key}' with "
            f"type '{value_type}'"
        )
    return bool(found.get("enabled"))


def filter_check(schema: Json, key: str, value_type: str) -> None:
    """Refuse a filter on `key` with a `value_type` operand whose index is off."""
    if not index_enabled(schema, key, value_type):
        name = FILTER_INDEX[value_type][1]
        raise InvalidArgumentError(
            f"Cannot filter using metadata key '{key}' with type '{name}' because indexing is "
            "disabled"
        )


def fts_enabled(schema: Json) -> bool:
    """Whether documents are full-text indexed (``#document``'s FTS index, else the
    defaults')."""
    value_types = schema["keys"].get(DOCUMENT_KEY) or {}
    if value_types.get("string") is None:
        value_types = schema["defaults"]
    return _enabled(value_types, "string", "fts_index")


def fts_check(schema: Json) -> None:
    """Refuse a document filter (``$contains``, ``$regex``, ...) when full-text search is off."""
    if not fts_enabled(schema):
        raise InvalidArgumentError(
            "Cannot filter using full-text search because FTS indexing is disabled"
        )


def sparse_knn_check(schema: Json, key: str) -> None:
    """Refuse a sparse-vector query on a key without an enabled sparse vector index."""
    filter_check(schema, key, "sparse_vector")


def sparse_index_key(schema: Json) -> tuple[str, Json] | None:
    """The key with the collection's enabled sparse vector index and that index's config
    (``bm25``, ``source_key``, ``embedding_function``); None if it has none."""
    for key, value_types in schema["keys"].items():
        index = _index(value_types, "sparse_vector", "sparse_vector_index")
        if index is not None and index.get("enabled"):
            return key, index.get("config") or {}
    return None


# What `modify(configuration=...)` may change in a vector index's parameters.
_HNSW_UPDATABLE: Final = (
    "ef_search",
    "num_threads",
    "batch_size",
    "sync_threshold",
    "resize_factor",
)
_SPANN_UPDATABLE: Final = ("search_nprobe", "ef_search")


def apply_configuration_update(schema: Json, update: Mapping[str, Any]) -> Json:
    """`schema` with a `modify(configuration=...)` change mirrored into its vector index
    configs (the defaults' and `#embedding`'s), as Chroma keeps the two in step."""
    updated = copy.deepcopy(schema)
    configs = [
        value_types.get("float_list", {}).get("vector_index", {}).get("config")
        for value_types in (
            updated.get("defaults", {}),
            updated.get("keys", {}).get(EMBEDDING_KEY, {}),
        )
    ]
    for config in configs:
        if not isinstance(config, dict):
            continue
        for kind, fields in (("hnsw", _HNSW_UPDATABLE), ("spann", _SPANN_UPDATABLE)):
            change = update.get(kind)
            if isinstance(change, Mapping) and isinstance(config.get(kind), dict):
                config[kind].update(
                    {k: v for k, v in change.items() if k in fields and v is not None}
                )
        if update.get("embedding_function") is not None:
            config["embedding_function"] = update["embedding_function"]
    return updated
