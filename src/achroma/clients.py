"""Client constructors, async and sync.

Async constructors are awaited (`client = await AsyncPersistentClient(path)`), like Chroma's
`AsyncHttpClient`. Every sync constructor runs its async twin on achroma's private event loop
and wraps the result in its sync class (generated into `achroma.sync_api`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from achroma import sync
from achroma.api.client import AsyncAdminAPI, AsyncClient
from achroma.backend.base import Backend
from achroma.config import Settings, get_settings
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.engine.engine import close_all_on_this_loop
from achroma.engine.local import LocalBackend
from achroma.http.client import HttpBackend
from achroma.http.client_auth import scope_from_identity

# The sync classes' home before they were generated; these imports keep that path.
from achroma.sync_api import AdminAPI as AdminAPI
from achroma.sync_api import ClientAPI as ClientAPI
from achroma.sync_api import Collection as Collection

A = TypeVar("A")
W = TypeVar("W", bound=sync.SyncWrapper[Any])

sync.on_shutdown(close_all_on_this_loop)


# --- async constructors ---


async def _local_backend(settings: Settings) -> Backend:
    path = settings.persist_directory if settings.is_persistent else None
    return await LocalBackend.open(path, allow_reset=settings.allow_reset)


async def _backend_for(settings: Settings) -> Backend:
    if settings.uses_http():
        backend = HttpBackend.from_settings(settings)
        await backend.connect()
        return backend
    return await _local_backend(settings)


async def _client(settings: Settings, tenant: str | None, database: str | None) -> AsyncClient:
    backend = await _backend_for(settings)
    try:
        if settings.chroma_overwrite_singleton_tenant_database_access_from_auth:
            identity = await backend.get_user_identity()
            tenant, database = scope_from_identity(identity, tenant, database)
        tenant, database = tenant or DEFAULT_TENANT, database or DEFAULT_DATABASE
        client = AsyncClient(backend, settings, tenant, database)
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


def _http_settings(
    settings: Settings | None, host: Any, port: Any, ssl: Any, headers: dict[str, str] | None
) -> Settings:
    """Settings for an HTTP client; the host and port must agree with any the settings name."""
    base = settings if settings is not None else get_settings()
    host, port = str(host), int(port)
    if base.chroma_server_host and base.chroma_server_host != host:
        raise ValueError(
            f"Chroma server host provided in settings[{base.chroma_server_host}] is different "
            f"to the one provided in HttpClient: [{host}]"
        )
    if base.chroma_server_http_port and base.chroma_server_http_port != port:
        raise ValueError(
            f"Chroma server http port provided in settings[{base.chroma_server_http_port}] is "
            f"different to the one provided in HttpClient: [{port}]"
        )
    return base.model_copy(
        update={
            "chroma_api_impl": "achroma.http",
            "chroma_server_host": host,
            "chroma_server_http_port": port,
            "chroma_server_ssl_enabled": bool(ssl),
            "chroma_server_headers": headers,
        }
    )


async def AsyncHttpClient(  # noqa: N802
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncClient:
    """An async client of a Chroma-compatible server (`achroma run` or Chroma's own).

    Example::

        client = await achroma.AsyncHttpClient(host="localhost", port=8000)
        collection = await client.get_or_create_collection("docs", embedding_function=None)

    Raises:
        ValueError: if `settings` name a different host or port.
    """
    return await _client(
        _http_settings(settings, host, port, ssl, headers), str(tenant), str(database)
    )


async def AsyncCloudClient(  # noqa: N802
    tenant: str | None = None,
    database: str | None = None,
    api_key: str | None = None,
    settings: Settings | None = None,
    *,
    cloud_host: str = "api.trychroma.com",
    cloud_port: int = 443,
    enable_ssl: bool = True,
) -> AsyncClient:
    """An async client of Chroma Cloud (or of any server taking an API token).

    The key comes from `api_key` or `CHROMA_API_KEY`; the tenant and database from the
    arguments, `CHROMA_TENANT`/`CHROMA_DATABASE`, or the key's identity when it reaches
    exactly one of each.

    Raises:
        ValueError: without an API key.
    """
    api_key = api_key or os.environ.get("CHROMA_API_KEY")
    if not api_key:
        raise ValueError(
            "Missing required arguments: api_key. Please provide them or set the environment "
            "variables: CHROMA_API_KEY"
        )
    base = settings if settings is not None else get_settings()
    cloud = base.model_copy(
        update={
            "chroma_api_impl": "achroma.http",
            "chroma_server_host": str(cloud_host),
            "chroma_server_http_port": int(cloud_port),
            "chroma_server_ssl_enabled": bool(enable_ssl),
            "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
            "chroma_client_auth_credentials": str(api_key),
            "chroma_auth_token_transport_header": "X-Chroma-Token",
            "chroma_overwrite_singleton_tenant_database_access_from_auth": True,
        }
    )
    return await _client(
        cloud,
        tenant or os.environ.get("CHROMA_TENANT"),
        database or os.environ.get("CHROMA_DATABASE"),
    )


async def AsyncAdminClient(  # noqa: N802
    settings: Settings | None = None,
) -> AsyncAdminAPI:
    """An async admin client (tenants and databases) of the kind the settings select."""
    settings = settings if settings is not None else get_settings()
    return AsyncAdminAPI(await _backend_for(settings), settings)


def _construct(
    sync_type: type[W], async_ctor: Callable[..., Awaitable[A]], *args: Any, **kwargs: Any
) -> W:
    async def construct() -> A:
        return await async_ctor(*args, **kwargs)

    return sync_type(sync.run(construct))


# --- sync constructors ---


def PersistentClient(  # noqa: N802
    path: str | Path = "./chroma",
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """A client whose data lives on disk in `path` (created if missing)."""
    return _construct(ClientAPI, AsyncPersistentClient, path, settings, tenant, database)


def EphemeralClient(  # noqa: N802
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """An in-memory client. Ephemeral clients of one process share one store, as in Chroma."""
    return _construct(ClientAPI, AsyncEphemeralClient, settings, tenant, database)


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
    return _construct(ClientAPI, AsyncClientFromSettings, settings, tenant, database)


def HttpClient(  # noqa: N802
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """A client of a Chroma-compatible server (`achroma run` or Chroma's own).

    Raises:
        ValueError: if `settings` name a different host or port.
    """
    return _construct(
        ClientAPI, AsyncHttpClient, host, port, ssl, headers, settings, tenant, database
    )


def CloudClient(  # noqa: N802
    tenant: str | None = None,
    database: str | None = None,
    api_key: str | None = None,
    settings: Settings | None = None,
    *,
    cloud_host: str = "api.trychroma.com",
    cloud_port: int = 443,
    enable_ssl: bool = True,
) -> ClientAPI:
    """A client of Chroma Cloud (see `AsyncCloudClient`).

    Raises:
        ValueError: without an API key (argument or `CHROMA_API_KEY`).
    """
    return _construct(
        ClientAPI,
        functools.partial(
            AsyncCloudClient,
            cloud_host=cloud_host,
            cloud_port=cloud_port,
            enable_ssl=enable_ssl,
        ),
        tenant,
        database,
        api_key,
        settings,
    )


def AdminClient(settings: Settings | None = None) -> AdminAPI:  # noqa: N802
    """A client for tenant and database management."""
    return _construct(AdminAPI, AsyncAdminClient, settings)
