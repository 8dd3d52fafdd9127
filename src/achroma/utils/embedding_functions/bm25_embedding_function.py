"""chromadb's ``bm25_embedding_function`` module path (`achroma.embeddings.fastembed_bm25`)."""

from achroma.embeddings.fastembed_bm25 import (
    Bm25EmbeddingFunction,
    Bm25EmbeddingFunctionQueryConfig,
    TaskType,
)

__all__ = ["Bm25EmbeddingFunction", "Bm25EmbeddingFunctionQueryConfig", "TaskType"]
