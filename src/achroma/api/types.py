"""The type names of chromadb's ``chromadb.api.types``, for code that imports them from there."""

from __future__ import annotations

from typing import Any, TypeVar, Union

from achroma.api.record_inputs import is_image
from achroma.core.models import (
    GetResult,
    Include,
    Metadata,
    MetadataValue,
    QueryResult,
    Where,
    WhereDocument,
)
from achroma.core.sparse import SparseVector
from achroma.data_loaders import URI, DataLoader, Loadable, URIs
from achroma.embeddings.protocol import (
    AsyncEmbeddingFunction,
    Document,
    Documents,
    Embeddable,
    Embedding,
    EmbeddingFunction,
    Embeddings,
    Image,
    Images,
    PyEmbedding,
    Space,
    SparseEmbeddingFunction,
    SparseVectors,
    validate_sparse_embedding_function,
    validate_sparse_vectors,
)
from achroma.schema import (
    BoolInvertedIndexConfig,
    BoolInvertedIndexType,
    BoolValueType,
    Cmek,
    CmekProvider,
    FloatInvertedIndexConfig,
    FloatInvertedIndexType,
    FloatListValueType,
    FloatValueType,
    FtsIndexConfig,
    FtsIndexType,
    HnswIndexConfig,
    IndexConfig,
    IntInvertedIndexConfig,
    IntInvertedIndexType,
    IntValueType,
    Schema,
    SpannIndexConfig,
    SparseVectorIndexConfig,
    SparseVectorIndexType,
    SparseVectorValueType,
    StringInvertedIndexConfig,
    StringInvertedIndexType,
    StringValueType,
    ValueTypes,
    VectorIndexConfig,
    VectorIndexType,
)
from achroma.search import ReadLevel, SearchResult, SearchResultRow

T = TypeVar("T")
OneOrMany = Union[T, list[T]]  # noqa: UP007 (a runtime alias on Python 3.10)
ID = str
IDs = list[ID]
Metadatas = list[Metadata]
CollectionMetadata = dict[str, Any]
UpdateMetadata = dict[str, Union[MetadataValue, None]]  # noqa: UP007
UpdateCollectionMetadata = UpdateMetadata


def is_document(target: Any) -> bool:
    """A document is a str (chromadb's rule)."""
    return isinstance(target, str)


__all__ = [
    "ID",
    "IDs",
    "URI",
    "URIs",
    "AsyncEmbeddingFunction",
    "CollectionMetadata",
    "DataLoader",
    "Document",
    "Documents",
    "Embeddable",
    "Embedding",
    "EmbeddingFunction",
    "Embeddings",
    "GetResult",
    "Image",
    "Images",
    "Include",
    "Loadable",
    "Metadata",
    "Metadatas",
    "OneOrMany",
    "PyEmbedding",
    "QueryResult",
    "ReadLevel",
    "SearchResult",
    "SearchResultRow",
    "Space",
    "SparseEmbeddingFunction",
    "SparseVector",
    "SparseVectors",
    "UpdateCollectionMetadata",
    "UpdateMetadata",
    "Where",
    "WhereDocument",
    "is_document",
    "is_image",
    "BoolInvertedIndexConfig",
    "BoolInvertedIndexType",
    "BoolValueType",
    "Cmek",
    "CmekProvider",
    "FloatInvertedIndexConfig",
    "FloatInvertedIndexType",
    "FloatListValueType",
    "FloatValueType",
    "FtsIndexConfig",
    "FtsIndexType",
    "HnswIndexConfig",
    "IndexConfig",
    "IntInvertedIndexConfig",
    "IntInvertedIndexType",
    "IntValueType",
    "Schema",
    "SpannIndexConfig",
    "SparseVectorIndexConfig",
    "SparseVectorIndexType",
    "SparseVectorValueType",
    "StringInvertedIndexConfig",
    "StringInvertedIndexType",
    "StringValueType",
    "ValueTypes",
    "VectorIndexConfig",
    "VectorIndexType",
    "validate_sparse_embedding_function",
    "validate_sparse_vectors",
]
