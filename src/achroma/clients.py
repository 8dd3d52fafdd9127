"""Client constructors, async and sync, and the sync classes made by the one wrapper.

Async constructors are awaited (`client = await AsyncPersistentClient(path)`), like Chroma's
`AsyncHttpClient`. Every sync constructor runs its async twin on achroma's private event loop
and wraps the result; the sync classes have no method bodies of their own.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from achroma import sync
from achroma.api.client import DEFAULT_DATABASE, DEFAULT_TENANT, AsyncAdminAPI, AsyncClient
from achroma.api.collection import AsyncCollection
from achroma.backend.base import Backend
from achroma.config import Settings, get_settings
from achroma.engine.local import LocalBackend
from achroma.engine.store import close_all_on_this_loop

sync.on_shutdown(close_all_on_this_loop)


# --- async constructors ---


async def _local_backend(settings: Settings) -> Backend:
    path = settings.persist_directory if settings.is_persistent else None
    return await LocalBackend.open(path, allow_reset=settings.allow_reset)


async def _backend_for(settings: Settings) -> Backend:
    if settings.uses_http():
        raise NotImplementedError("the HTTP backend is not available yet")
    return await _local_backend(settings)


async def _client(settings: Settings, tenant: str, database: str) -> AsyncClient:
    backend = await _backend_for(settings)
    client = AsyncClient(backend, settings, tenant, database)
    try:
        await client.set_tenant(tenant, database)
    except BaseException:
        await backend.close()
        raise
    return client


def _with_path(settings: Settings | None, path: str | os.PathLike[str] | None) -> Settings:
    base = settings if settings is not None else get_settings()
    if path is None:
        return base.model_copy(update={"is_persistent": False})
    return base.model_copy(update={"is_persistent": True, "persist_directory": str(path)})


async def AsyncPersistentClient(  # noqa: N802  (Chroma's constructor names)
    path: str | Path = "./chroma",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncClient:
    """An async client whose data lives on disk in `path` (created if missing)."""
    return await _client(_with_path(settings, path), tenant, database)


async def AsyncEphemeralClient(  # noqa: N802
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncClient:
    """An async in-memory client; its data is gone when its last client closes."""
    return await _client(_with_path(settings, None), tenant, database)


async def AsyncClientFromSettings(  # noqa: N802
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncClient:
    """An async client of the kind the settings select (local or HTTP, persistent or not)."""
    return await _client(settings if settings is not None else get_settings(), tenant, database)


async def AsyncAdminClient(  # noqa: N802
    settings: Settings | None = None,
) -> AsyncAdminAPI:
    """An async admin client (tenants and databases) of the kind the settings select."""
    settings = settings if settings is not None else get_settings()
    return AsyncAdminAPI(await _backend_for(settings), settings)


# --- sync classes ---


class _SyncContext(sync.SyncWrapper):
    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()  # type: ignore[attr-defined]


@sync.blocking(AsyncClient)
class ClientAPI(_SyncContext):
    """The sync client: every method of `AsyncClient`, blocking."""


@sync.blocking(AsyncAdminAPI)
class AdminAPI(_SyncContext):
    """The sync admin client: every method of `AsyncAdminClient`, blocking."""


@sync.blocking(AsyncCollection)
class Collection(sync.SyncWrapper):
    """The sync collection: every method of `AsyncCollection`, blocking."""


def _construct(async_ctor: Any, *args: Any, **kwargs: Any) -> Any:
    return sync.to_sync(sync.run(functools.partial(async_ctor, *args, **kwargs)))


# --- sync constructors ---


def PersistentClient(  # noqa: N802
    path: str | Path = "./chroma",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """A client whose data lives on disk in `path` (created if missing)."""
    return _construct(AsyncPersistentClient, path, settings, tenant, database)  # type: ignore[no-any-return]


def EphemeralClient(  # noqa: N802
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """An in-memory client. Ephemeral clients of one process share one store, as in Chroma."""
    return _construct(AsyncEphemeralClient, settings, tenant, database)  # type: ignore[no-any-return]


def RustClient(  # noqa: N802
    path: str | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """Chroma's Rust-backed client: here the same local engine, ephemeral without a path."""
    if path is None:
        return EphemeralClient(settings, tenant, database)
    return PersistentClient(path, settings, tenant, database)


def ClientFromSettings(  # noqa: N802
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """`chromadb.Client(settings)`: a client of the kind the settings select."""
    return _construct(AsyncClientFromSettings, settings, tenant, database)  # type: ignore[no-any-return]


def AdminClient(settings: Settings | None = None) -> AdminAPI:  # noqa: N802
    """A client for tenant and database management."""
    return _construct(AsyncAdminClient, settings)  # type: ignore[no-any-return]
