"""chromadb's ``chromadb.api.client``: the sync client classes and ``SharedSystemClient``."""

from __future__ import annotations

from abc import ABC
from typing import Any, ClassVar

from achroma.sync_api import AdminAPI as AdminClient
from achroma.sync_api import ClientAPI as Client


# A virtual base (the sync classes are registered, not derived), so it has no abstract method.
class SharedSystemClient(ABC):  # noqa: B024
    """chromadb's base of its clients, which caches one system per settings.

    achroma's clients share nothing per process, so there is nothing to clear; every client
    and admin client is an instance of it, as in chromadb.
    """

    # Tests written for chromadb reset the cache by assigning this (chromadb's spelling).
    _identifer_to_system: ClassVar[dict[str, Any]] = {}

    @classmethod
    def clear_system_cache(cls) -> None:
        """Kept for compatibility: achroma holds no per-process system cache to clear."""
        cls._identifer_to_system.clear()


SharedSystemClient.register(Client)
SharedSystemClient.register(AdminClient)

__all__ = ["AdminClient", "Client", "SharedSystemClient"]
