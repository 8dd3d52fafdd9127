"""The index configurations a `Schema` holds, as chromadb 1.5.9's pydantic models.

Each takes only its own fields (anything else is a pydantic `ValidationError`, a
`ValueError`). `VectorIndexConfig` and `SparseVectorIndexConfig` carry an embedding function
and a ``source_key``, the field their vectors are computed from.
"""

from __future__ import annotations

import inspect
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from achroma.embeddings.default import DefaultEmbeddingFunction
from achroma.embeddings.protocol import Space, validate_embedding_function

DOCUMENT_KEY = "#document"
EMBEDDING_KEY = "#embedding"


def key_name(key: Any) -> Any:
    """A `Key` (anything with a str ``name``, such as ``K.DOCUMENT``) as its name; any other
    value unchanged."""
    if not isinstance(key, str) and isinstance(getattr(key, "name", None), str):
        return key.name
    return key


def _reject_fields(cls: type[BaseModel], data: Any, valid: frozenset[str]) -> Any:
    if isinstance(data, dict):
        invalid = [k for k in data if k not in valid]
        if len(invalid) == 1:
            message = f"'{invalid[0]}' is not a valid field for {cls.__name__}. "
        elif invalid:
            listed = ", ".join(f"'{k}'" for k in invalid)
            message = f"Invalid fields for {cls.__name__}: {listed}. "
        else:
            return data
        raise PydanticCustomError("invalid_field", message, {"invalid_fields": invalid})
    return data


def _source_key(value: Any) -> str | None:
    if value is None:
        return None
    value = key_name(value)
    if not isinstance(value, str):
        raise ValueError(f"source_key must be str or Key, got {type(value).__name__}")
    if value.startswith("#") and value != DOCUMENT_KEY:
        raise ValueError(
            "source_key cannot begin with '#'. "
            "The only valid key starting with '#' is Key.DOCUMENT or '#document'."
        )
    return value


class FtsIndexConfig(BaseModel):
    """Full-text (trigram) search over documents: ``$contains`` / ``$regex`` filters on
    ``#document``. No parameters."""

    model_config = ConfigDict(extra="forbid")


class StringInvertedIndexConfig(BaseModel):
    """The inverted index that serves filters on string metadata. No parameters."""

    model_config = ConfigDict(extra="forbid")


class IntInvertedIndexConfig(BaseModel):
    """The inverted index that serves filters on int metadata. No parameters."""

    model_config = ConfigDict(extra="forbid")


class FloatInvertedIndexConfig(BaseModel):
    """The inverted index that serves filters on float metadata. No parameters."""

    model_config = ConfigDict(extra="forbid")


class BoolInvertedIndexConfig(BaseModel):
    """The inverted index that serves filters on bool metadata. No parameters."""

    model_config = ConfigDict(extra="forbid")


class HnswIndexConfig(BaseModel):
    """HNSW parameters of the dense vector index (the local index); unset ones take the
    server's defaults."""

    ef_construction: int | None = None
    max_neighbors: int | None = None
    ef_search: int | None = None
    num_threads: int | None = None
    batch_size: int | None = None
    sync_threshold: int | None = None
    resize_factor: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _only_known_fields(cls, data: Any) -> Any:
        return _reject_fields(cls, data, frozenset(cls.model_fields))


# chromadb accepts (and drops) these SPANN parameters it does not model.
_SPANN_ACCEPTED = frozenset(
    {
        "search_nprobe",
        "search_rng_factor",
        "search_rng_epsilon",
        "nreplica_count",
        "write_nprobe",
        "write_rng_factor",
        "write_rng_epsilon",
        "split_threshold",
        "num_samples_kmeans",
        "initial_lambda",
        "reassign_neighbor_count",
        "merge_threshold",
        "num_centers_to_merge_to",
        "ef_construction",
        "ef_search",
        "max_neighbors",
        "center_drift_threshold",
        "quantize",
    }
)


class SpannIndexConfig(BaseModel):
    """SPANN parameters of the dense vector index (Chroma's distributed index); kept and
    sent, but achroma's local index is HNSW."""

    search_nprobe: int | None = None
    write_nprobe: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None
    max_neighbors: int | None = None
    reassign_neighbor_count: int | None = None
    split_threshold: int | None = None
    merge_threshold: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _only_known_fields(cls, data: Any) -> Any:
        return _reject_fields(cls, data, _SPANN_ACCEPTED)


class VectorIndexConfig(BaseModel):
    """The dense vector index on ``#embedding``: distance, embedding function and HNSW or
    SPANN parameters.

    Example::

        hnsw = HnswIndexConfig(ef_search=200)
        Schema().create_index(VectorIndexConfig(space="cosine", hnsw=hnsw))
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    space: Space | None = None
    embedding_function: Any | None = DefaultEmbeddingFunction()
    source_key: str | None = None
    hnsw: HnswIndexConfig | None = None
    spann: SpannIndexConfig | None = None

    @field_validator("source_key", mode="before")
    @classmethod
    def _check_source_key(cls, value: Any) -> str | None:
        return _source_key(value)

    @field_validator("embedding_function", mode="before")
    @classmethod
    def _check_embedding_function(cls, value: Any) -> Any:
        if value is None:
            return None
        if not callable(value):
            raise ValueError("embedding_function must be callable or None")
        validate_embedding_function(value)
        return value


def _check_sparse_function(function: Any) -> None:
    got = inspect.signature(type(function).__call__).parameters.keys()
    if list(got) != ["self", "input"]:
        raise ValueError(
            "Expected SparseEmbeddingFunction.__call__ to have the following signature: "
            f"odict_keys(['self', 'input']), got {got}\n"
            "Please see https://docs.trychroma.com/guides/embeddings for details of the "
            "SparseEmbeddingFunction interface.\n"
        )


class SparseVectorIndexConfig(BaseModel):
    """A sparse vector index on one metadata key (at most one per collection); ``bm25``
    scales queries by inverse document frequency.

    Example::

        Schema().create_index(SparseVectorIndexConfig(bm25=True), key="sparse")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    embedding_function: Any | None = None
    source_key: str | None = None
    bm25: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _only_known_fields(cls, data: Any) -> Any:
        return _reject_fields(cls, data, frozenset({*cls.model_fields, "algorithm"}))

    @field_validator("source_key", mode="before")
    @classmethod
    def _check_source_key(cls, value: Any) -> str | None:
        return _source_key(value)

    @field_validator("embedding_function", mode="before")
    @classmethod
    def _check_embedding_function(cls, value: Any) -> Any:
        if value is None:
            return None
        if not callable(value):
            raise ValueError(
                "embedding_function must be a callable SparseEmbeddingFunction or None"
            )
        _check_sparse_function(value)
        return value


IndexConfig = Union[  # noqa: UP007 (a runtime alias on Python 3.10)
    FtsIndexConfig,
    VectorIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    IntInvertedIndexConfig,
    FloatInvertedIndexConfig,
    BoolInvertedIndexConfig,
]
