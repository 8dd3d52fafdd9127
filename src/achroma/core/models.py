"""Plain data passed between the client classes and a backend, and the result shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict
from uuid import UUID

import numpy as np
import numpy.typing as npt

MetadataValue = str | int | float | bool | list[str] | list[int] | list[float] | list[bool]
Metadata = dict[str, MetadataValue]
Where = dict[str, Any]
WhereDocument = dict[str, Any]
Include = Literal["documents", "embeddings", "metadatas", "distances", "uris", "data"]
Embedding = npt.NDArray[np.float32]


class Tenant(TypedDict):
    name: str


class Database(TypedDict):
    id: UUID
    name: str
    tenant: str


@dataclass(frozen=True)
class UserIdentity:
    """Who the client is, as the server sees it."""

    user_id: str
    tenant: str | None
    databases: list[str]


@dataclass
class CollectionModel:
    """A collection as a backend stores it (the wire's `Collection` object)."""

    id: UUID
    name: str
    configuration: dict[str, Any]
    metadata: dict[str, Any] | None
    tenant: str
    database: str
    dimension: int | None = None
    version: int = 0
    log_position: int = 0
    schema: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def hnsw(self) -> dict[str, Any]:
        """The HNSW part of the configuration (a copy; empty when none is recorded)."""
        return dict(self.configuration.get("hnsw") or {})


class GetResult(TypedDict):
    ids: list[str]
    embeddings: Any
    documents: list[str | None] | None
    uris: list[str | None] | None
    data: Any
    metadatas: list[Metadata | None] | None
    included: list[Include]


class DeleteResult(TypedDict):
    deleted: int


class QueryResult(TypedDict):
    ids: list[list[str]]
    embeddings: Any
    documents: list[list[str | None]] | None
    uris: list[list[str | None]] | None
    data: Any
    metadatas: list[list[Metadata | None]] | None
    distances: list[list[float]] | None
    included: list[Include]
