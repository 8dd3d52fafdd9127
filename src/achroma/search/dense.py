"""The reading of a dense ``$knn`` query from its wire form, with chromadb's checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

_EMBEDDING_DTYPES = (np.float16, np.float32, np.float64, np.int32, np.int64)


def read_dense_query(query: Any) -> npt.NDArray[Any]:
    """chromadb's reading of a dense ``$knn`` query: number lists become float32 arrays,
    arrays keep their dtype, and exactly one vector is allowed."""
    if len(query) == 0:
        raise ValueError(f"Expected Embeddings to be non-empty list or numpy array, got {query}")
    vectors: list[Any] | None = None
    if isinstance(query, np.ndarray):
        if query.ndim in (1, 2):
            vectors = [query] if query.ndim == 1 else list(query)
    elif isinstance(query, list):
        first = query[0]
        if _is_number(first):
            vectors = [np.array(query, dtype=np.float32)]
        elif isinstance(first, np.ndarray):
            vectors = query
        elif isinstance(first, list) and first and _is_number(first[0]):
            vectors = [np.array(row, dtype=np.float32) for row in query]
    if vectors is None:
        raise ValueError(
            "Expected embeddings to be a list of floats or ints, a list of lists, a numpy "
            f"array, or a list of numpy arrays, got {query}"
        )
    if len(vectors) != 1:
        raise ValueError("$knn requires exactly one query embedding")
    vector = vectors[0]
    if vector.ndim == 0:
        raise ValueError(f"Expected a 1-dimensional array, got a 0-dimensional array {vector}")
    if vector.size == 0:
        raise ValueError(
            "Expected each embedding in the embeddings to be a 1-dimensional numpy array with "
            "at least 1 int/float value. Got a 1-dimensional numpy array with no values at pos 0"
        )
    if vector.dtype not in _EMBEDDING_DTYPES:
        raise ValueError(
            "Expected each value in the embedding to be a int or float, got an embedding with "
            f"{vector.dtype} - {vector}"
        )
    result: npt.NDArray[Any] = vector
    return result


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
