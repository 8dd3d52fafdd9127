"""chromadb's ``utils`` package path, so that code written against
``chromadb.utils.embedding_functions`` and ``chromadb.utils.data_loaders`` finds the same
names under ``import achroma as chromadb``."""

from achroma.utils import data_loaders, embedding_functions

__all__ = ["data_loaders", "embedding_functions"]
