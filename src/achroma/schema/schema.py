"""`Schema`: which indexes a collection builds, by value type and by key, as chromadb 1.5.9
has it; its JSON is the ``schema`` of chromadb's collection models."""

from __future__ import annotations

import warnings
from copy import deepcopy
from typing import Any

from achroma.embeddings.registry import (
    known_embedding_functions,
    sparse_known_embedding_functions,
)
from achroma.schema.cmek import Cmek
from achroma.schema.configs import (
    DOCUMENT_KEY,
    EMBEDDING_KEY,
    FtsIndexConfig,
    IndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    VectorIndexConfig,
    key_name,
)
from achroma.schema.values import (
    SLOTS,
    Slot,
    ValueTypes,
    get_index,
    set_index,
    slot_for,
)

_RESERVED = "key cannot begin with '#'. Keys starting with '#' are reserved for system use."


class Schema:
    """A collection's index configuration: ``defaults`` per value type, per-key overrides
    in ``keys``, and an optional ``cmek``.

    A new schema indexes every string, int, float and bool metadata value, full-text
    indexes documents (``#document``) and vector-indexes embeddings (``#embedding``).
    `create_index` and `delete_index` turn indexes on and off, and chain::

        schema = (
            Schema()
            .create_index(VectorIndexConfig(space="cosine"))
            .delete_index(StringInvertedIndexConfig(), key="notes")
            .create_index(SparseVectorIndexConfig(bm25=True), key="sparse")
        )
        collection = await client.create_collection("docs", schema=schema)
    """

    defaults: ValueTypes
    keys: dict[str, ValueTypes]
    cmek: Cmek | None

    def __init__(self) -> None:
        self.defaults = ValueTypes()
        self.keys = {}
        self.cmek = None
        for slot in SLOTS:
            # Full-text and vector indexes are per key; sparse ones cost too much to be default.
            on = slot.config not in (FtsIndexConfig, VectorIndexConfig, SparseVectorIndexConfig)
            set_index(self.defaults, slot, on, slot.config())
        document = self.keys[DOCUMENT_KEY] = ValueTypes()
        set_index(document, _slot(FtsIndexConfig), True, FtsIndexConfig())
        set_index(document, _slot(StringInvertedIndexConfig), False, StringInvertedIndexConfig())
        embedding = self.keys[EMBEDDING_KEY] = ValueTypes()
        vector = VectorIndexConfig(source_key=DOCUMENT_KEY)
        set_index(embedding, _slot(VectorIndexConfig), True, vector)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return (self.defaults, self.keys, self.cmek) == (other.defaults, other.keys, other.cmek)

    def __repr__(self) -> str:
        return f"Schema(defaults={self.defaults!r}, keys={self.keys!r}, cmek={self.cmek!r})"

    def create_index(self, config: IndexConfig | None = None, key: Any = None) -> Schema:
        """Turn an index on: in the defaults (no `key`) or for one metadata key.

        A `VectorIndexConfig` (without a key) sets the vector index's configuration; an
        `FtsIndexConfig` is allowed only on ``"#document"``; a `SparseVectorIndexConfig`
        needs a key, and only one key may have one. Raises `ValueError` otherwise.
        """
        key = key_name(key)
        if config is None and key is None:
            raise ValueError(
                "Cannot enable all index types globally. Must specify either config or key."
            )
        if key is not None and key == EMBEDDING_KEY:
            raise ValueError(
                f"Cannot create index on special key '{key}'. This key is managed "
                "automatically by the system. Invoke create_index(VectorIndexConfig(...)) "
                "without specifying a key to configure the vector index globally."
            )
        if key == DOCUMENT_KEY and not isinstance(config, FtsIndexConfig):
            raise ValueError(
                f"Cannot create index on special key '{key}' with this config. "
                "Only FtsIndexConfig is allowed for #document."
            )
        if key is not None and key.startswith("#") and key != DOCUMENT_KEY:
            raise ValueError(_RESERVED)
        if isinstance(config, VectorIndexConfig):
            if key is not None:
                raise ValueError(
                    "Vector index cannot be enabled on specific keys. Use "
                    "create_index(config=VectorIndexConfig(...)) without specifying a key to "
                    "configure the vector index globally."
                )
            self._set_vector_config(config)
            return self
        if isinstance(config, FtsIndexConfig) and key != DOCUMENT_KEY:
            raise ValueError(
                "FTS index can only be enabled on #document key. "
                "Use create_index(config=FtsIndexConfig(), key='#document')"
            )
        if isinstance(config, SparseVectorIndexConfig) and key is None:
            raise ValueError(
                "Sparse vector index must be created on a specific key. Please specify a key "
                "using: create_index(config=SparseVectorIndexConfig(...), key='your_key')"
            )
        if config is None:
            raise ValueError(
                f"Cannot enable all index types for key '{key}'. Please specify a specific "
                "index configuration."
            )
        if key is None:
            self._set_default(config, True)
        else:
            self._set_for_key(key, config, True)
        return self

    def delete_index(self, config: IndexConfig | None = None, key: Any = None) -> Schema:
        """Turn an index off: in the defaults (no `key`) or for one metadata key.

        Vector and sparse vector indexes cannot be turned off, and full-text search only on
        ``"#document"``. Raises `ValueError` otherwise.
        """
        key = key_name(key)
        if config is None and key is None:
            raise ValueError("Cannot disable all indexes. Must specify either config or key.")
        if key is not None and key == EMBEDDING_KEY:
            raise ValueError("Cannot modify #embedding. Currently not supported")
        if key == DOCUMENT_KEY and not isinstance(config, FtsIndexConfig):
            raise ValueError(
                f"Cannot delete index on special key '{key}' with this config. "
                "Only FtsIndexConfig is allowed for #document."
            )
        if key is not None and key.startswith("#") and key != DOCUMENT_KEY:
            raise ValueError(_RESERVED)
        if isinstance(config, VectorIndexConfig):
            raise ValueError("Deleting vector index is not currently supported.")
        if isinstance(config, SparseVectorIndexConfig):
            raise ValueError("Deleting sparse vector index is not currently supported.")
        if isinstance(config, FtsIndexConfig) and key != DOCUMENT_KEY:
            raise ValueError("Deleting FTS index is only supported on #document key.")
        if config is None:
            raise ValueError(
                f"Cannot disable all index types for key '{key}'. Please specify a specific "
                "index configuration."
            )
        if key is None:
            self._set_default(config, False)
        else:
            self._set_for_key(key, config, False)
        return self

    def set_cmek(self, cmek: Cmek | None) -> Schema:
        """Set (or, with None, remove) the customer-managed encryption key; chainable."""
        self.cmek = cmek
        return self

    def _set_vector_config(self, config: VectorIndexConfig) -> None:
        # The defaults keep their (off) state; #embedding stays on and keeps its source key.
        slot = _slot(VectorIndexConfig)
        default = get_index(self.defaults, slot)
        set_index(self.defaults, slot, default.enabled, config)
        current = get_index(self.keys[EMBEDDING_KEY], slot)
        embedding = VectorIndexConfig(
            space=config.space,
            embedding_function=config.embedding_function,
            hnsw=config.hnsw,
            spann=config.spann,
            source_key=current.config.source_key,
        )
        set_index(self.keys[EMBEDDING_KEY], slot, current.enabled, embedding)

    def _set_default(self, config: IndexConfig, enabled: bool) -> None:
        slot = slot_for(config)
        if slot is not None:
            set_index(self.defaults, slot, enabled, config)

    def _set_for_key(self, key: str, config: IndexConfig, enabled: bool) -> None:
        if isinstance(config, SparseVectorIndexConfig) and enabled:
            self._check_one_sparse_index(key)
            if config.source_key is not None and config.embedding_function is None:
                raise ValueError(
                    "If source_key is provided then embedding_function must also be provided "
                    f"since there is no default embedding function. Config: {config}"
                )
        value_types = self.keys.setdefault(key, ValueTypes())
        slot = slot_for(config)
        if slot is not None:
            set_index(value_types, slot, enabled, config)

    def _check_one_sparse_index(self, key: str) -> None:
        slot = _slot(SparseVectorIndexConfig)
        for other, value_types in self.keys.items():
            index = get_index(value_types, slot)
            if other != key and index is not None and index.enabled:
                raise ValueError(
                    f"Cannot enable sparse vector index on key '{key}'. A sparse vector index "
                    f"is already enabled on key '{other}'. Only one sparse vector index is "
                    "allowed per collection."
                )

    def serialize_to_json(self) -> dict[str, Any]:
        """The JSON chromadb sends as a collection's ``schema`` (embedding functions as
        ``{"name", "type": "known", "config"}``)."""
        result: dict[str, Any] = {
            "defaults": _value_types_to_json(self.defaults),
            "keys": {key: _value_types_to_json(v) for key, v in self.keys.items()},
        }
        if self.cmek is not None:
            result["cmek"] = self.cmek.to_dict()
        return result

    @classmethod
    def deserialize_from_json(cls, json_data: dict[str, Any]) -> Schema:
        """The schema `serialize_to_json` (or a server) gave; registered embedding functions
        are rebuilt, others become None with a warning."""
        schema = cls.__new__(cls)
        schema.defaults = _value_types_from_json(json_data.get("defaults", {}))
        schema.keys = {
            key: _value_types_from_json(value) for key, value in json_data.get("keys", {}).items()
        }
        cmek = json_data.get("cmek")
        schema.cmek = None if cmek is None else Cmek.from_dict(cmek)
        return schema


def _slot(config: type[Any]) -> Slot:
    return next(slot for slot in SLOTS if slot.config is config)


def _value_types_to_json(value_types: ValueTypes) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for slot in SLOTS:
        value = getattr(value_types, slot.value_attr)
        if value is None:
            continue
        entry = result.setdefault(slot.value_json, {})
        index = getattr(value, slot.index_attr)
        if index is not None:
            entry[slot.index_attr] = {
                "enabled": index.enabled,
                "config": _config_to_json(index.config),
            }
    return result


def _config_to_json(config: Any) -> dict[str, Any]:
    result: dict[str, Any] = config.model_dump(exclude_none=True)
    if isinstance(config, VectorIndexConfig):
        _vector_function_to_json(config, result)
    elif isinstance(config, SparseVectorIndexConfig):
        function = config.embedding_function
        if function is None:
            result["embedding_function"] = {"type": "unknown"}
        else:
            if hasattr(function, "validate_config"):
                function.validate_config(function.get_config())
            result["embedding_function"] = _known(function)
    return result


def _known(function: Any) -> dict[str, Any]:
    return {"name": function.name(), "type": "known", "config": function.get_config()}


def _vector_function_to_json(config: VectorIndexConfig, result: dict[str, Any]) -> None:
    function = config.embedding_function
    if function is None:
        result["embedding_function"] = {"type": "legacy"}
        return
    # As chromadb: a function that cannot describe itself is recorded as legacy.
    try:
        if function.is_legacy():
            result["embedding_function"] = {"type": "legacy"}
            return
        if hasattr(function, "validate_config"):
            function.validate_config(function.get_config())
        result["embedding_function"] = _known(function)
        if config.space is None:
            result["space"] = function.default_space()
        elif config.space not in function.supported_spaces():
            warnings.warn(
                f"space {config.space} is not supported by {function.name()}. "
                f"Supported spaces: {function.supported_spaces()}",
                UserWarning,
                stacklevel=4,
            )
    except Exception:
        result["embedding_function"] = {"type": "legacy"}


def _value_types_from_json(data: dict[str, Any]) -> ValueTypes:
    value_types = ValueTypes()
    for slot in SLOTS:
        if slot.value_json not in data:
            continue
        value = getattr(value_types, slot.value_attr)
        if value is None:
            value = slot.value_type()
            setattr(value_types, slot.value_attr, value)
        entry = data[slot.value_json]
        if slot.index_attr in entry:
            index = entry[slot.index_attr]
            config = _config_from_json(slot, deepcopy(index.get("config", {})))
            set_index(value_types, slot, index.get("enabled", True), config)
    return value_types


def _config_from_json(slot: Slot, data: dict[str, Any]) -> Any:
    function = data.get("embedding_function")
    if slot.config is VectorIndexConfig and function is not None:
        data["embedding_function"] = _function_from_json(function, known_embedding_functions)
        if data["embedding_function"] is not None and data.get("space") is None:
            data["space"] = data["embedding_function"].default_space()
    elif slot.config is SparseVectorIndexConfig and function is not None:
        if function.get("type") == "unknown":
            data["embedding_function"] = None
        else:
            data["embedding_function"] = _function_from_json(
                function, sparse_known_embedding_functions, "sparse "
            )
    return slot.config(**data)


def _function_from_json(data: dict[str, Any], known: dict[str, type], kind: str = "") -> Any:
    if data.get("type") == "legacy":
        return None
    try:
        return known[data["name"]].build_from_config(data["config"])  # type: ignore[attr-defined]
    except Exception as exc:
        warnings.warn(
            f"Could not reconstruct {kind}embedding function {data.get('name', 'unknown')}: "
            f"{exc}. Setting to None.",
            UserWarning,
            stacklevel=5,
        )
        return None
