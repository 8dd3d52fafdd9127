"""chromadb's ``chromadb.base_types``: `SparseVector`, its wire tag, and the value types."""

from achroma.core.models import Metadata, Where, WhereDocument
from achroma.core.sparse import SPARSE_VECTOR_TYPE as SPARSE_VECTOR_TYPE_VALUE
from achroma.core.sparse import TYPE_KEY, SparseVector
from achroma.search.where import LiteralValue

__all__ = [
    "SPARSE_VECTOR_TYPE_VALUE",
    "TYPE_KEY",
    "LiteralValue",
    "Metadata",
    "SparseVector",
    "Where",
    "WhereDocument",
]
