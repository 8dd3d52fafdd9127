"""chromadb's ``chromadb.api.async_client``: the async client classes."""

from achroma.api.client import AsyncAdminAPI as AsyncAdminClient
from achroma.api.client import AsyncClient

__all__ = ["AsyncAdminClient", "AsyncClient"]
