"""`AsyncClient` and `AsyncAdminClient`: the async client API, thin over a `Backend`."""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from achroma.api.collection import AsyncCollection
from achroma.api.configuration import create_configuration, create_json
from achroma.api.embedding_inputs import DEFAULT_EMBEDDING_FUNCTION, CollectionEmbeddingFunction
from achroma.api.types import CollectionMetadata
from achroma.api.validation import (
    collection_name_problem,
    convert_metadata,
    metadata_problem,
    raise_invalid,
    require_bool,
    require_str,
    u32_argument,
    validate_database_name,
    validate_tenant_name,
)
from achroma.backend.base import Backend
from achroma.config import Settings
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.core.models import CollectionModel, Database, Tenant, UserIdentity
from achroma.data_loaders import DataLoader, Loadable
from achroma.embeddings import (
    validate_embedding_function_conflict_on_create,
    validate_embedding_function_conflict_on_get,
)
from achroma.errors import ChromaError, InvalidArgumentError
from achroma.schema import Schema

_Self = TypeVar("_Self", bound="_BackendUser")


def check_recorded_function(embedding_function: Any, model: CollectionModel) -> None:
    """chromadb's refusal of a function other than the one the collection recorded."""
    validate_embedding_function_conflict_on_get(
        embedding_function, model.configuration.get("embedding_function")
    )


def schema_json(schema: Any) -> dict[str, Any] | None:
    """A create's `schema` as sent to the backend: its JSON (a dict is JSON already: a
    server receiving a client's); None when none is given."""
    if schema is None or isinstance(schema, dict):
        return schema
    serialized: dict[str, Any] = schema.serialize_to_json()
    return serialized


class _BackendUser:
    """Shared by both client classes: a backend, settings and closing."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self._backend = backend
        self._settings = settings

    def get_settings(self) -> Settings:
        """The settings this client was created with."""
        return self._settings

    async def close(self) -> None:
        """Release the client's resources; the store closes when its last client closes."""
        await self._backend.close()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def heartbeat(self) -> int:
        """Server time in nanoseconds since the epoch."""
        return await self._backend.heartbeat()

    async def get_version(self) -> str:
        """The achroma version string."""
        return await self._backend.get_version()

    async def _get_tenant(self, name: str) -> Tenant:
        return await self._backend.get_tenant(require_str(name, "name"))

    async def _get_database(self, name: str, tenant: str) -> Database:
        require_str(name, "name")
        require_str(tenant, "tenant")
        validate_database_name(name)
        return await self._backend.get_database(name, tenant)


class AsyncClient(_BackendUser):
    """The async Chroma client API over one backend, scoped to a tenant and database.

    Create one with `await achroma.AsyncPersistentClient(path)`,
    `await achroma.AsyncEphemeralClient()` or `await achroma.AsyncHttpClient(...)`.
    """

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        super().__init__(backend, settings)
        self._tenant = tenant
        self._database = database

    def __repr__(self) -> str:
        return f"AsyncClient(tenant={self._tenant!r}, database={self._database!r})"

    @property
    def tenant(self) -> str:
        """The tenant this client is scoped to."""
        return self._tenant

    @property
    def database(self) -> str:
        """The database this client is scoped to."""
        return self._database

    async def _check_tenant_database(self, tenant: str, database: str) -> None:
        # As chromadb: Chroma's errors pass through, others become a ValueError for the
        # tenant; for the database, every error passes through.
        try:
            await self._get_tenant(tenant)
        except ChromaError:
            raise
        except Exception:
            raise ValueError(
                f"Could not connect to tenant {tenant}. Are you sure it exists?"
            ) from None
        await self._get_database(database, tenant)

    async def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        """Scope this client to another tenant (and database); if either does not exist,
        raise `NotFoundError` and keep the current scope."""
        await self._check_tenant_database(tenant, database)
        self._tenant, self._database = tenant, database

    async def set_database(self, database: str) -> None:
        """Scope this client to another database of its tenant; if it does not exist, raise
        `NotFoundError` and keep the current scope."""
        await self._check_tenant_database(self._tenant, database)
        self._database = database

    async def get_max_batch_size(self) -> int:
        """The largest number of records one write may carry."""
        return await self._backend.get_max_batch_size()

    async def get_user_identity(self) -> UserIdentity:
        """Who the server takes this client to be (user, tenant, databases); the local
        engine answers the default tenant and database."""
        return await self._backend.get_user_identity()

    async def reset(self) -> bool:
        """Delete everything. Refused unless the settings have `allow_reset=True`."""
        return await self._backend.reset()

    def clear_system_cache(self) -> None:
        """Kept for compatibility: achroma holds no per-process system cache to clear."""

    def _wrap(
        self, model: CollectionModel, embedding_function: Any, data_loader: Any
    ) -> AsyncCollection:
        return AsyncCollection(self._backend, model, embedding_function, data_loader)

    async def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[AsyncCollection]:
        """The collections of the current database, oldest first."""
        limit, offset = u32_argument(limit, "limit"), u32_argument(offset, "offset")
        models = await self._backend.list_collections(self._tenant, self._database, limit, offset)
        return [self._wrap(m, DEFAULT_EMBEDDING_FUNCTION, None) for m in models]

    async def count_collections(self) -> int:
        """How many collections the current database holds."""
        return await self._backend.count_collections(self._tenant, self._database)

    async def create_collection(
        self,
        name: str,
        schema: Schema | None = None,
        configuration: dict[str, Any] | None = None,
        metadata: CollectionMetadata | None = None,
        embedding_function: CollectionEmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: DataLoader[Loadable] | None = None,
        get_or_create: bool = False,
    ) -> AsyncCollection:
        """Create a collection; with `get_or_create=True` return the existing one instead of
        failing (its metadata, configuration and schema are then left as they are).

        `schema` (an `achroma.Schema`) chooses the indexes: which metadata keys and value
        types are filterable, full-text search on documents, one sparse vector index (with
        an embedding function filling it from the documents). With a schema, give the
        embedding function in its vector index rather than `embedding_function`: a schema
        and a configuration that both ask for more than the defaults are refused, as by
        Chroma's server.

        Every argument is checked first, existing collection or not, in chromadb's order.
        """
        configuration_ef = (configuration or {}).get("embedding_function")
        validate_embedding_function_conflict_on_create(embedding_function, configuration_ef)
        recorded = configuration_ef if configuration_ef is not None else embedding_function
        text = create_json(configuration, metadata, recorded)
        require_str(name, "name")
        metadata = convert_metadata(metadata, "metadata", allow_none=False)
        require_bool(get_or_create, "get_or_create")
        stored = create_configuration(text, metadata)
        raise_invalid(name=collection_name_problem(name), metadata=metadata_problem(metadata))
        model = await self._backend.create_collection(
            name,
            self._tenant,
            self._database,
            metadata,
            stored,
            get_or_create,
            schema=schema_json(schema),
        )
        return self._wrap(model, embedding_function, data_loader)

    async def get_collection(
        self,
        name: str,
        embedding_function: CollectionEmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: DataLoader[Loadable] | None = None,
    ) -> AsyncCollection:
        """The collection called `name`; `NotFoundError` if there is none."""
        require_str(name, "name")
        model = await self._backend.get_collection(name, self._tenant, self._database)
        check_recorded_function(embedding_function, model)
        return self._wrap(model, embedding_function, data_loader)

    async def get_collection_by_id(
        self,
        id: UUID,
        embedding_function: CollectionEmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: DataLoader[Loadable] | None = None,
    ) -> AsyncCollection:
        """The collection with this id in the current database; `NotFoundError` if none."""
        model = await self._backend.get_collection_by_id(
            _collection_uuid(id), self._tenant, self._database
        )
        check_recorded_function(embedding_function, model)
        return self._wrap(model, embedding_function, data_loader)

    async def get_or_create_collection(
        self,
        name: str,
        schema: Schema | None = None,
        configuration: dict[str, Any] | None = None,
        metadata: CollectionMetadata | None = None,
        embedding_function: CollectionEmbeddingFunction | None = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: DataLoader[Loadable] | None = None,
    ) -> AsyncCollection:
        """The collection called `name`, created first if it does not exist."""
        collection = await self.create_collection(
            name,
            schema=schema,
            configuration=configuration,
            metadata=metadata,
            embedding_function=embedding_function,
            data_loader=data_loader,
            get_or_create=True,
        )
        check_recorded_function(embedding_function, collection.model)
        return collection

    async def delete_collection(self, name: str) -> None:
        """Delete a collection and all its records."""
        require_str(name, "name")
        await self._backend.delete_collection(name, self._tenant, self._database)


class AsyncAdminAPI(_BackendUser):
    """Tenant and database management."""

    def __repr__(self) -> str:
        return "AsyncAdminAPI()"

    async def create_tenant(self, name: str) -> None:
        """Create a tenant (a name of at least 3 characters)."""
        validate_tenant_name(require_str(name, "name"))
        await self._backend.create_tenant(name)

    async def get_tenant(self, name: str) -> Tenant:
        """The tenant called `name`; `NotFoundError` if there is none."""
        return await self._get_tenant(name)

    async def list_tenants(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[Tenant]:
        """The tenants, oldest first (chromadb's local admin client has no such method)."""
        limit, offset = u32_argument(limit, "limit"), u32_argument(offset, "offset")
        return await self._backend.list_tenants(limit, offset)

    async def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        """Create a database (a name of at least 3 bytes) in `tenant`."""
        require_str(name, "name")
        require_str(tenant, "tenant")
        validate_database_name(name)
        await self._backend.create_database(name, tenant)

    async def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Database:
        """The database called `name` in `tenant`; `NotFoundError` if there is none."""
        return await self._get_database(name, tenant)

    async def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> list[Database]:
        """The databases of `tenant` ordered by name (none for a tenant that does not exist)."""
        limit, offset = u32_argument(limit, "limit"), u32_argument(offset, "offset")
        return await self._backend.list_databases(require_str(tenant, "tenant"), limit, offset)

    async def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        """Delete a database and all its collections."""
        require_str(name, "name")
        require_str(tenant, "tenant")
        await self._backend.delete_database(name, tenant)


def _collection_uuid(value: Any) -> UUID:
    """A collection id given as a UUID or its text, as chromadb takes it."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise InvalidArgumentError(
            "Validation error: collection_id: Invalid collection ID format, expected UUID"
        ) from None
