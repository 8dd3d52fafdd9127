"""chromadb's ``chroma_bm25_embedding_function`` module path (`achroma.embeddings.bm25`)."""

from achroma.embeddings.bm25 import (
    DEFAULT_AVG_DOC_LENGTH,
    DEFAULT_B,
    DEFAULT_CHROMA_BM25_STOPWORDS,
    DEFAULT_K,
    DEFAULT_TOKEN_MAX_LENGTH,
    NAME,
    ChromaBm25Config,
    ChromaBm25EmbeddingFunction,
)

__all__ = [
    "DEFAULT_AVG_DOC_LENGTH",
    "DEFAULT_B",
    "DEFAULT_CHROMA_BM25_STOPWORDS",
    "DEFAULT_K",
    "DEFAULT_TOKEN_MAX_LENGTH",
    "NAME",
    "ChromaBm25Config",
    "ChromaBm25EmbeddingFunction",
]
