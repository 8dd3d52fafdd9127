"""achroma: an embedded, asyncio-first vector database speaking the Chroma client API.

Example::

    import achroma as chromadb

    client = chromadb.PersistentClient(path="./chroma")
    collection = client.get_or_create_collection("docs", embedding_function=None)
    collection.add(ids=["a"], embeddings=[[0.1, 0.2]])
"""

from achroma import utils  # chromadb.utils.embedding_functions, under the alias
from achroma._version import __version__
from achroma.api.client import AsyncAdminAPI, AsyncClient
from achroma.api.collection import AsyncCollection
from achroma.api.types import (
    URI,
    CollectionMetadata,
    IDs,
    Metadata,
    Metadatas,
    UpdateCollectionMetadata,
    UpdateMetadata,
    URIs,
    Where,
    WhereDocument,
)
from achroma.clients import (
    AdminAPI,
    AdminClient,
    AsyncAdminClient,
    AsyncCloudClient,
    AsyncEphemeralClient,
    AsyncHttpClient,
    AsyncPersistentClient,
    ClientAPI,
    CloudClient,
    Collection,
    EphemeralClient,
    HttpClient,
    PersistentClient,
    RustClient,
)
from achroma.clients import ClientFromSettings as Client
from achroma.config import Settings, configure, get_settings
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.core.models import (
    CollectionModel,
    Database,
    GetResult,
    Include,
    QueryResult,
    Tenant,
    UserIdentity,
)
from achroma.core.sparse import SparseVector
from achroma.drop_in import install_as_chromadb
from achroma.embeddings import Documents, EmbeddingFunction, Embeddings
from achroma.errors import (
    ChromaError,
    DuplicateIDError,
    InvalidArgumentError,
    InvalidDimensionException,
    NotFoundError,
)
from achroma.schema import (
    BoolInvertedIndexConfig,
    Cmek,
    FloatInvertedIndexConfig,
    FtsIndexConfig,
    HnswIndexConfig,
    IntInvertedIndexConfig,
    Schema,
    SpannIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    VectorIndexConfig,
)
from achroma.search import K, Key, Knn, ReadLevel, Rrf, Search
from achroma.transfer import copy

AsyncClientAPI = AsyncClient


__all__ = [
    "AdminAPI",
    "AdminClient",
    "AsyncAdminAPI",
    "AsyncAdminClient",
    "AsyncClient",
    "AsyncClientAPI",
    "AsyncCloudClient",
    "AsyncCollection",
    "AsyncEphemeralClient",
    "AsyncHttpClient",
    "AsyncPersistentClient",
    "ChromaError",
    "Client",
    "ClientAPI",
    "CloudClient",
    "Collection",
    "CollectionMetadata",
    "CollectionModel",
    "configure",
    "copy",
    "Database",
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "Documents",
    "DuplicateIDError",
    "EmbeddingFunction",
    "Embeddings",
    "EphemeralClient",
    "get_settings",
    "GetResult",
    "HttpClient",
    "IDs",
    "Include",
    "install_as_chromadb",
    "InvalidArgumentError",
    "InvalidDimensionException",
    "K",
    "Key",
    "Knn",
    "Metadata",
    "Metadatas",
    "NotFoundError",
    "PersistentClient",
    "QueryResult",
    "ReadLevel",
    "Rrf",
    "RustClient",
    "Search",
    "Settings",
    "SparseVector",
    "Tenant",
    "UpdateCollectionMetadata",
    "UpdateMetadata",
    "URI",
    "URIs",
    "UserIdentity",
    "utils",
    "Where",
    "WhereDocument",
    "__version__",
    "BoolInvertedIndexConfig",
    "Cmek",
    "FloatInvertedIndexConfig",
    "FtsIndexConfig",
    "HnswIndexConfig",
    "IntInvertedIndexConfig",
    "Schema",
    "SpannIndexConfig",
    "SparseVectorIndexConfig",
    "StringInvertedIndexConfig",
    "VectorIndexConfig",
]
