"""Embedding functions known by name, and how a collection's configuration records them.

A collection stores ``{"type": "known", "name": ..., "config": ...}`` for a function that can
be rebuilt (it has ``name``, ``get_config`` and ``build_from_config`` and is registered) and
``{"type": "legacy"}`` for one that cannot, exactly as chromadb 1.5.9 does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, overload

from achroma.embeddings.default import DefaultEmbeddingFunction, ONNXMiniLM_L6_V2
from achroma.embeddings.openai import OpenAIEmbeddingFunction
from achroma.embeddings.runner import is_async
from achroma.embeddings.sentence_transformer import SentenceTransformerEmbeddingFunction

T = TypeVar("T", bound=type)

known_embedding_functions: dict[str, type] = {
    "default": DefaultEmbeddingFunction,
    "onnx_mini_lm_l6_v2": ONNXMiniLM_L6_V2,
    "sentence_transformer": SentenceTransformerEmbeddingFunction,
    "openai": OpenAIEmbeddingFunction,
}


@overload
def register_embedding_function(ef_class: T) -> T: ...
@overload
def register_embedding_function(ef_class: None = None) -> Callable[[T], T]: ...
def register_embedding_function(ef_class: T | None = None) -> T | Callable[[T], T]:
    """Register a class under its ``name()`` so collections can rebuild it from their
    configuration. Use as ``@register_embedding_function`` or call it with the class."""

    def register(cls: T) -> T:
        try:
            known_embedding_functions[getattr(cls, "name")()] = cls  # noqa: B009
        except Exception as exc:
            raise ValueError(f"Failed to register embedding function: {exc}") from exc
        return cls

    return register(ef_class) if ef_class is not None else register


# Sparse embedding functions (for sparse vector indexes in a collection's schema), by name.
sparse_known_embedding_functions: dict[str, type] = {}


@overload
def register_sparse_embedding_function(ef_class: T) -> T: ...
@overload
def register_sparse_embedding_function(ef_class: None = None) -> Callable[[T], T]: ...
def register_sparse_embedding_function(ef_class: T | None = None) -> T | Callable[[T], T]:
    """Register a sparse embedding function class under its ``name()``, so a collection's
    schema can rebuild it; a decorator, or call it with the class."""

    def register(cls: T) -> T:
        try:
            sparse_known_embedding_functions[getattr(cls, "name")()] = cls  # noqa: B009
        except Exception as exc:
            raise ValueError(f"Failed to register sparse embedding function: {exc}") from exc
        return cls

    return register(ef_class) if ef_class is not None else register


def config_to_embedding_function(config: dict[str, Any]) -> Any:
    """Build a registered function from ``{"name": ..., "config": {...}}``."""
    if "name" not in config:
        raise ValueError("Config must contain a 'name' field.")
    cls = known_embedding_functions.get(config["name"])
    if cls is None:
        raise ValueError(f"Unsupported embedding function: {config['name']}")
    return cls.build_from_config(config.get("config", {}))  # type: ignore[attr-defined]


def embedding_function_to_config(function: Any) -> dict[str, Any]:
    """What a collection's configuration records for `function` (None: legacy)."""
    if function is None:
        return {"type": "legacy"}
    try:
        if function.is_legacy():
            return {"type": "legacy"}
        name = function.name()
        config = {"name": name, "type": "known", "config": function.get_config()}
        # As chromadb, remember the class so the collection can be reopened; but an async
        # variant does not displace the sync function registered under the same name.
        if not (is_async(function) and name in known_embedding_functions):
            register_embedding_function(type(function))
        return config
    except Exception as exc:
        warnings.warn(f"legacy embedding function config: {exc}", DeprecationWarning, 2)
        return {"type": "legacy"}


def embedding_function_from_config(config: dict[str, Any] | None) -> Any:
    """Rebuild the function a collection's configuration records; None for none or legacy."""
    if config is None or config.get("type") == "legacy":
        return None
    try:
        name = config["name"]
    except KeyError:
        raise ValueError(f"Embedding function name not found in config: {config}") from None
    cls = known_embedding_functions.get(name)
    if cls is None:
        raise ValueError(
            f"Embedding function {name} not found. Add @register_embedding_function "
            "decorator to the class definition."
        )
    try:
        return cls.build_from_config(config.get("config", {}))  # type: ignore[attr-defined]
    except Exception as exc:
        raise ValueError(
            f"Could not build embedding function {name} from config {config.get('config')}: {exc}"
        ) from exc


def _name(function: Any) -> Any:
    return function.name()


def validate_embedding_function_conflict_on_create(
    embedding_function: Any, configuration_ef: Any
) -> None:
    """chromadb's check of ``create_collection(embedding_function=A, configuration=
    {"embedding_function": B})``: A other than the default must equal B by name."""
    if embedding_function is None or configuration_ef is None:
        return
    name = _name(embedding_function)
    if name != "default" and name != _name(configuration_ef):
        raise ValueError(
            "Multiple embedding functions provided. Please provide only one. Embedding "
            f"function conflict: {name} vs {_name(configuration_ef)}"
        )


def validate_embedding_function_conflict_on_get(
    embedding_function: Any, persisted_ef_config: dict[str, Any] | None
) -> None:
    """chromadb's check of ``get_collection(embedding_function=A)`` against the function the
    collection recorded: A other than the default must have the recorded name."""
    if persisted_ef_config is None or embedding_function is None:
        return
    name = _name(embedding_function)
    persisted = persisted_ef_config.get("name")
    if name != "default" and persisted is not None and persisted != name:
        raise ValueError(
            "An embedding function already exists in the collection configuration, and a new "
            "one is provided. If this is intentional, please embed documents separately. "
            f"Embedding function conflict: new: {name} vs persisted: {persisted}"
        )


def overwrite_embedding_function(existing: Any, update: Any) -> Any:
    """chromadb's rule for ``modify(configuration={"embedding_function": update})``: the
    new function must have the old one's name and accept the config change; a legacy
    function on either side keeps the old one (with a warning)."""
    if existing.is_legacy() or update.is_legacy():
        warnings.warn("cannot update legacy embedding function config", DeprecationWarning, 2)
        return existing
    if _name(existing) != _name(update):
        raise ValueError(
            "Cannot update embedding function: incompatible types "
            f"({_name(existing)} vs {_name(update)})"
        )
    update.validate_config_update(existing.get_config(), update.get_config())
    return update
