"""The embedding functions under chromadb's module path (``achroma.embeddings`` holds them)."""

from achroma.embeddings import *  # noqa: F403
from achroma.embeddings import __all__ as __all__
