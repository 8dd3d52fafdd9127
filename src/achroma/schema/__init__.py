"""A collection's schema: which indexes it builds for each value type and metadata key, as
chromadb 1.5.9's ``Schema`` and index configuration classes.

Example::

    from achroma.schema import Schema, StringInvertedIndexConfig, VectorIndexConfig

    schema = (
        Schema()
        .create_index(VectorIndexConfig(space="cosine"))
        .delete_index(StringInvertedIndexConfig(), key="notes")
    )
"""

from achroma.schema.cmek import Cmek, CmekProvider
from achroma.schema.configs import (
    DOCUMENT_KEY,
    EMBEDDING_KEY,
    BoolInvertedIndexConfig,
    FloatInvertedIndexConfig,
    FtsIndexConfig,
    HnswIndexConfig,
    IndexConfig,
    IntInvertedIndexConfig,
    SpannIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    VectorIndexConfig,
)
from achroma.schema.schema import Schema
from achroma.schema.values import (
    BoolInvertedIndexType,
    BoolValueType,
    FloatInvertedIndexType,
    FloatListValueType,
    FloatValueType,
    FtsIndexType,
    IntInvertedIndexType,
    IntValueType,
    SparseVectorIndexType,
    SparseVectorValueType,
    StringInvertedIndexType,
    StringValueType,
    ValueTypes,
    VectorIndexType,
)

__all__ = [
    "DOCUMENT_KEY",
    "EMBEDDING_KEY",
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
]
