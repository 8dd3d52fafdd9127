"""The embedding functions under chromadb's module path (``achroma.embeddings`` holds them).

Submodules stand in for chromadb's modules that integrations import one function from, such
as ``chromadb.utils.embedding_functions.chroma_bm25_embedding_function``.
"""

from achroma.embeddings import *  # noqa: F403
from achroma.embeddings import __all__ as __all__
