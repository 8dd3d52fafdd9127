"""`AsyncClient` and `AsyncAdminClient`: the async client API, thin over a `Backend`."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from achroma.api.collection import DEFAULT_EMBEDDING_FUNCTION, AsyncCollection
from achroma.api.configuration import build_configuration
from achroma.api.models import CollectionModel, Database, Tenant, UserIdentity
from achroma.api.validation import (
    validate_collection_name,
    validate_limit_offset,
    validate_metadata,
    validate_tenant_or_database_name,
)
from achroma.backend.base import Backend
from achroma.config import Settings
from achroma.errors import NotFoundError

DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"


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

    async def __aenter__(self) -> Any:
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
        return self._tenant

    @property
    def database(self) -> str:
        return self._database

    async def _check_tenant_database(self, tenant: str, database: str) -> None:
        try:
            await self._backend.get_tenant(tenant)
        except NotFoundError:
            raise ValueError(
                f"Could not connect to tenant {tenant}. Are you sure it exists?"
            ) from None
        try:
            await self._backend.get_database(database, tenant)
        except NotFoundError:
            raise ValueError(
                f"Could not connect to database {database} for tenant {tenant}. "
                "Are you sure it exists?"
            ) from None

    async def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        """Scope this client to another tenant (and database)."""
        await self._check_tenant_database(tenant, database)
        self._tenant, self._database = tenant, database

    async def set_database(self, database: str) -> None:
        """Scope this client to another database of its tenant."""
        await self._check_tenant_database(self._tenant, database)
        self._database = database

    async def get_max_batch_size(self) -> int:
        """The largest number of records one write may carry."""
        return await self._backend.get_max_batch_size()

    async def get_user_identity(self) -> UserIdentity:
        return await self._backend.get_user_identity()

    async def reset(self) -> bool:
        """Delete everything. Refused unless the settings have `allow_reset=True`."""
        return await self._backend.reset()

    def clear_system_cache(self) -> None:
        """Kept for compatibility: achroma holds no per-process system cache to clear."""

    def _wrap(
        self, model: CollectionModel, embedding_function: Any, data_loader: Any
    ) -> AsyncCollection:
        return AsyncCollection(self, model, embedding_function, data_loader)

    async def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[AsyncCollection]:
        """The collections of the current database, oldest first."""
        validate_limit_offset(limit, offset)
        models = await self._backend.list_collections(self._tenant, self._database, limit, offset)
        return [self._wrap(m, DEFAULT_EMBEDDING_FUNCTION, None) for m in models]

    async def count_collections(self) -> int:
        """How many collections the current database holds."""
        return await self._backend.count_collections(self._tenant, self._database)

    async def create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
        get_or_create: bool = False,
    ) -> AsyncCollection:
        """Create a collection; with `get_or_create=True` return the existing one instead of
        failing (its metadata and configuration are then left as they are)."""
        validate_collection_name(name)
        if metadata is not None:
            validate_metadata(metadata, "create_collection", allow_none_values=False)
        stored = build_configuration(configuration, metadata)
        model = await self._backend.create_collection(
            name, self._tenant, self._database, metadata, stored, get_or_create
        )
        return self._wrap(model, embedding_function, data_loader)

    async def get_collection(
        self,
        name: str,
        embedding_function: Any = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        """The collection called `name`; `NotFoundError` if there is none."""
        model = await self._backend.get_collection(name, self._tenant, self._database)
        return self._wrap(model, embedding_function, data_loader)

    async def get_or_create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        """The collection called `name`, created first if it does not exist."""
        return await self.create_collection(
            name,
            schema=schema,
            configuration=configuration,
            metadata=metadata,
            embedding_function=embedding_function,
            data_loader=data_loader,
            get_or_create=True,
        )

    async def delete_collection(self, name: str) -> None:
        """Delete a collection and all its records."""
        await self._backend.delete_collection(name, self._tenant, self._database)


class AsyncAdminAPI(_BackendUser):
    """Tenant and database management."""

    def __repr__(self) -> str:
        return "AsyncAdminAPI()"

    async def create_tenant(self, name: str) -> None:
        validate_tenant_or_database_name(name, "Tenant")
        await self._backend.create_tenant(name)

    async def get_tenant(self, name: str) -> Tenant:
        return await self._backend.get_tenant(name)

    async def list_tenants(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[Tenant]:
        validate_limit_offset(limit, offset)
        return await self._backend.list_tenants(limit, offset)

    async def create_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        validate_tenant_or_database_name(name, "Database")
        await self._backend.create_database(name, tenant)

    async def get_database(self, name: str, tenant: str = DEFAULT_TENANT) -> Database:
        return await self._backend.get_database(name, tenant)

    async def list_databases(
        self, limit: int | None = None, offset: int | None = None, tenant: str = DEFAULT_TENANT
    ) -> list[Database]:
        validate_limit_offset(limit, offset)
        return await self._backend.list_databases(tenant, limit, offset)

    async def delete_database(self, name: str, tenant: str = DEFAULT_TENANT) -> None:
        await self._backend.delete_database(name, tenant)
