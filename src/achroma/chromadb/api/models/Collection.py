"""chromadb's ``chromadb.api.models.Collection``: the sync collection."""

from achroma.sync_api import Collection

__all__ = ["Collection"]
