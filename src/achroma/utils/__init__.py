"""chromadb's ``utils`` package path, so that code written against
``chromadb.utils.embedding_functions`` finds the same names under ``import achroma as chromadb``."""

from achroma.utils import embedding_functions

__all__ = ["embedding_functions"]
