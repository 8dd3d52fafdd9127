"""chromadb's ``utils`` package path, so that code written against
``chromadb.utils.embedding_functions``, ``chromadb.utils.data_loaders`` and
``chromadb.utils.batch_utils`` finds the same names under ``import achroma as chromadb``."""

from achroma.utils import batch_utils, data_loaders, embedding_functions

__all__ = ["batch_utils", "data_loaders", "embedding_functions"]
