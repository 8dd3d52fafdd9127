"""chromadb's ``chromadb.api``: the client interfaces, the collection and its configuration
types, and every name of ``chromadb.api.types``."""

from achroma.api import types
from achroma.api.client import AsyncAdminAPI
from achroma.api.client import AsyncClient as AsyncClientAPI
from achroma.api.types import *  # noqa: F403
from achroma.api.types import __all__ as _types_all
from achroma.chromadb.api.collection_configuration import (
    CollectionConfiguration,
    CreateCollectionConfiguration,
    UpdateCollectionConfiguration,
)
from achroma.chromadb.api.models.AsyncCollection import AsyncCollection
from achroma.chromadb.api.models.Collection import Collection
from achroma.sync_api import AdminAPI, ClientAPI

__all__ = [
    *_types_all,
    "AdminAPI",
    "AsyncAdminAPI",
    "AsyncClientAPI",
    "AsyncCollection",
    "ClientAPI",
    "Collection",
    "CollectionConfiguration",
    "CreateCollectionConfiguration",
    "UpdateCollectionConfiguration",
    "types",
]
