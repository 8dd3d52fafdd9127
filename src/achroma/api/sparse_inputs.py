"""Sparse embedding by a collection's schema, as chromadb's client does it
(``CollectionCommon._apply_sparse_embeddings_to_metadatas`` and ``_embed_knn_string_queries``):

- on add, upsert and update, a sparse vector index with an embedding function and a
  ``source_key`` fills its metadata key from the document (``#document``) or from the
  source key's string value, for each record that does not carry the key already;
- a string `Knn` query on that key is embedded by the same function (``embed_query``).

Sparse functions are sync (BM25 is CPU work): they run in a worker thread.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from achroma.core.schema_rules import DOCUMENT_KEY
from achroma.embeddings.protocol import validate_sparse_embedding_function
from achroma.schema import Schema, SparseVectorIndexConfig


def sparse_targets(schema: Schema) -> dict[str, SparseVectorIndexConfig]:
    """The keys whose enabled sparse index has an embedding function and a source key."""
    targets = {}
    for key, value_types in schema.keys.items():
        sparse = value_types.sparse_vector
        index = sparse.sparse_vector_index if sparse is not None else None
        if index is None or not index.enabled:
            continue
        config = index.config
        if config.embedding_function is not None and config.source_key is not None:
            targets[key] = config
    return targets


async def _sparse_embed(function: Any, texts: list[str], *, is_query: bool = False) -> Any:
    method = function.embed_query if is_query else function
    return await anyio.to_thread.run_sync(method, texts)


async def apply_sparse_embeddings(
    schema: Schema, metadatas: list[Any] | None, documents: list[Any] | None
) -> list[Any] | None:
    """`metadatas` with each sparse target key filled in where it is missing (a record with
    no metadata gets some; one left with none stays None)."""
    targets = sparse_targets(schema)
    if not targets:
        return metadatas
    if metadatas is None:
        if documents is None:
            return None
        metadatas = [None] * len(documents)
    updated: list[dict[str, Any]] = [dict(m) if m is not None else {} for m in metadatas]
    for target, config in targets.items():
        function = config.embedding_function
        validate_sparse_embedding_function(function)
        inputs: list[str] = []
        positions: list[int] = []
        for position, metadata in enumerate(updated):
            if target in metadata:
                continue
            if config.source_key == DOCUMENT_KEY:
                source = (
                    documents[position]
                    if documents is not None and position < len(documents)
                    else None
                )
            else:
                source = metadata.get(config.source_key or "")
            if isinstance(source, str):
                inputs.append(source)
                positions.append(position)
        if not inputs:
            continue
        vectors = await _sparse_embed(function, inputs)
        if len(vectors) != len(positions):
            raise ValueError("Sparse embedding function returned unexpected number of embeddings.")
        for position, vector in zip(positions, vectors, strict=True):
            updated[position][target] = vector
    return [m or None for m in updated]


async def embed_sparse_query(schema: Schema, key: str, text: str) -> Any:
    """The sparse vector of a string `Knn` query on metadata key `key`, by the key's sparse
    embedding function; chromadb's ValueError when the schema gives it none."""
    value_types = schema.keys.get(key)
    if value_types is None:
        raise ValueError(
            f"Cannot embed string query for key '{key}': key not found in schema. Please "
            "provide an embedded vector or configure an embedding function for this key in "
            "the schema."
        )
    sparse = value_types.sparse_vector
    index = sparse.sparse_vector_index if sparse is not None else None
    if index is not None and index.enabled and index.config.embedding_function is not None:
        function = index.config.embedding_function
        validate_sparse_embedding_function(function)
        vectors = await _sparse_embed(function, [text], is_query=True)
        if not vectors or len(vectors) != 1:
            raise ValueError("Sparse embedding function returned unexpected number of embeddings")
        return vectors[0]
    raise ValueError(
        f"Cannot embed string query for key '{key}': no embedding function configured for "
        "this key in the schema. Please provide an embedded vector or configure an embedding "
        "function."
    )
