"""The SRC and DST of `achroma copy` as clients: an achroma persistent path, an
``http(s)://host:port`` Chroma-API server (achroma's or Chroma's, Chroma Cloud included), or,
as a source only, a directory written by chromadb's own `PersistentClient`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from achroma.api.client import AsyncClient
from achroma.clients import AsyncHttpClient, AsyncPersistentClient
from achroma.config import get_settings
from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.transfer.chromadb_dir import ACHROMA_FILE, ChromadbDirectory, is_chromadb_directory
from achroma.transfer.copy import SourceClient


@dataclass(frozen=True)
class Endpoint:
    """Where records come from or go, and how to reach a server there.

    `token` is sent as Chroma's token auth does (``Authorization: Bearer``); `headers` are
    sent as they are (e.g. ``{"X-Chroma-Token": ...}`` for Chroma Cloud).
    """

    location: str
    token: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE

    @property
    def is_http(self) -> bool:
        return self.location.startswith(("http://", "https://"))


async def _http_client(endpoint: Endpoint) -> AsyncClient:
    url = urlsplit(endpoint.location)
    if url.path not in ("", "/") or url.query or not url.hostname:
        raise ValueError(f"Expected a server as http(s)://host:port, got {endpoint.location!r}")
    ssl = url.scheme == "https"
    update: dict[str, Any] = {}
    if endpoint.token is not None:
        update = {
            "chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
            "chroma_client_auth_credentials": endpoint.token,
        }
    return await AsyncHttpClient(
        host=url.hostname,
        port=url.port or (443 if ssl else 80),
        ssl=ssl,
        headers=dict(endpoint.headers) or None,
        settings=get_settings().model_copy(update=update),
        tenant=endpoint.tenant,
        database=endpoint.database,
    )


@contextlib.asynccontextmanager
async def open_source(endpoint: Endpoint) -> AsyncIterator[SourceClient]:
    """A client reading `endpoint`, closed on leaving."""
    source: AsyncClient | ChromadbDirectory
    path = Path(endpoint.location)
    if endpoint.is_http:
        source = await _http_client(endpoint)
    elif is_chromadb_directory(path):
        source = await ChromadbDirectory.open(path, endpoint.tenant, endpoint.database)
    elif (path / ACHROMA_FILE).is_file():
        source = await AsyncPersistentClient(
            path, tenant=endpoint.tenant, database=endpoint.database
        )
    else:
        raise FileNotFoundError(
            f"{endpoint.location} is neither an achroma store nor a directory written by chromadb"
        )
    try:
        yield source
    finally:
        await source.close()


@contextlib.asynccontextmanager
async def open_destination(endpoint: Endpoint) -> AsyncIterator[AsyncClient]:
    """A client writing to `endpoint` (a path is created if missing), closed on leaving."""
    if endpoint.is_http:
        destination = await _http_client(endpoint)
    elif is_chromadb_directory(endpoint.location):
        raise ValueError(
            f"{endpoint.location} is a directory written by chromadb: achroma writes only its "
            "own stores (copy into a new path, or into a server)"
        )
    else:
        destination = await AsyncPersistentClient(
            endpoint.location, tenant=endpoint.tenant, database=endpoint.database
        )
    try:
        yield destination
    finally:
        await destination.close()
