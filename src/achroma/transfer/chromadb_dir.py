"""A directory written by chromadb's own `PersistentClient`, read as a copy's source through
an installed chromadb, each call in a worker thread so that the event loop never blocks."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from achroma.core.defaults import DEFAULT_DATABASE, DEFAULT_TENANT
from achroma.core.models import GetResult, Include

INSTALL = "pip install chromadb==1.5.9"
# chromadb's store, and achroma's (a directory holding both is achroma's).
CHROMADB_FILE = "chroma.sqlite3"
ACHROMA_FILE = "achroma.sqlite3"

T = TypeVar("T")


class ChromadbMissingError(ImportError):
    """Reading a chromadb directory needs chromadb installed."""


def is_chromadb_directory(path: str | Path) -> bool:
    path = Path(path)
    return (path / CHROMADB_FILE).is_file() and not (path / ACHROMA_FILE).exists()


def _chromadb() -> Any:
    try:
        return importlib.import_module("chromadb")
    except ImportError as exc:
        raise ChromadbMissingError(
            f"Reading a directory written by chromadb needs chromadb installed: {INSTALL}"
        ) from exc


class ChromadbDirectory:
    """A copy's source over `chromadb.PersistentClient(path)`; its calls run one at a time
    in worker threads. Open one with `await ChromadbDirectory.open(path)`."""

    def __init__(self, client: Any, limiter: anyio.CapacityLimiter) -> None:
        self._client = client
        self._limiter = limiter

    @classmethod
    async def open(
        cls, path: str | Path, tenant: str = DEFAULT_TENANT, database: str = DEFAULT_DATABASE
    ) -> ChromadbDirectory:
        chromadb = _chromadb()
        settings = chromadb.config.Settings(anonymized_telemetry=False)
        limiter = anyio.CapacityLimiter(1)
        client = await _in_thread(
            limiter,
            functools.partial(
                chromadb.PersistentClient,
                path=str(path),
                settings=settings,
                tenant=tenant,
                database=database,
            ),
        )
        return cls(client, limiter)

    async def list_collections(self) -> list[ChromadbCollection]:
        found = await _in_thread(self._limiter, self._client.list_collections)
        return [ChromadbCollection(c, self._limiter) for c in found]

    async def get_collection(self, name: str) -> ChromadbCollection:
        found = await _in_thread(
            self._limiter,
            functools.partial(self._client.get_collection, name, embedding_function=None),
        )
        return ChromadbCollection(found, self._limiter)

    async def close(self) -> None:
        """Nothing to release: chromadb keeps its store open for the process."""


class ChromadbCollection:
    """A chromadb collection as a copy's source."""

    def __init__(self, collection: Any, limiter: anyio.CapacityLimiter) -> None:
        self._collection = collection
        self._limiter = limiter

    @property
    def name(self) -> str:
        return str(self._collection.name)

    @property
    def metadata(self) -> dict[str, Any] | None:
        metadata = self._collection.metadata
        return dict(metadata) if metadata else None

    @property
    def configuration_json(self) -> dict[str, Any]:
        return dict(self._collection.configuration_json)

    async def count(self) -> int:
        return int(await _in_thread(self._limiter, self._collection.count))

    async def get(
        self,
        ids: Any = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        include: list[Include] = ["metadatas", "documents"],  # noqa: B006 (chromadb's)
    ) -> GetResult:
        call = functools.partial(
            self._collection.get, ids=ids, limit=limit, offset=offset, include=include
        )
        result: GetResult = dict(await _in_thread(self._limiter, call))  # type: ignore[assignment]
        return result


async def _in_thread(limiter: anyio.CapacityLimiter, call: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(call, limiter=limiter)
