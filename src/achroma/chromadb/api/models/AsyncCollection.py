"""chromadb's ``chromadb.api.models.AsyncCollection``: the async collection."""

from achroma.api.collection import AsyncCollection

__all__ = ["AsyncCollection"]
