"""Plain data passed between the client classes and a backend, and the result shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypedDict, Union
from uuid import UUID

import numpy as np
import numpy.typing as npt

MetadataValue = str | int | float | bool | list[str] | list[int] | list[float] | list[bool]
Metadata: TypeAlias = Mapping[str, MetadataValue]
Include = Literal["documents", "embeddings", "metadatas", "distances", "uris", "data"]
Embedding = npt.NDArray[np.float32]

# The filter grammar, with chromadb's names (`chromadb.base_types`).
LiteralValue: TypeAlias = str | int | float | bool
LogicalOperator = Literal["$and", "$or"]
WhereOperator = Literal["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]
InclusionExclusionOperator = Literal["$in", "$nin"]
ArrayContainsOperator = Literal["$contains", "$not_contains"]
OperatorExpression: TypeAlias = Union[  # noqa: UP007 (a runtime alias on Python 3.10)
    dict[WhereOperator | LogicalOperator, LiteralValue],
    dict[InclusionExclusionOperator, list[LiteralValue]],
    dict[ArrayContainsOperator, LiteralValue],
]
Where: TypeAlias = dict[str, Union[LiteralValue, OperatorExpression, list["Where"]]]  # noqa: UP007
WhereDocumentOperator = Literal["$contains", "$not_contains", "$regex", "$not_regex", "$and", "$or"]
WhereDocument: TypeAlias = dict[WhereDocumentOperator, Union[str, list["WhereDocument"]]]  # noqa: UP007


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


@dataclass
class IndexingStatus:
    """How far the vector index has caught up with the collection's writes (batches)."""

    num_indexed_ops: int
    num_unindexed_ops: int
    total_ops: int
    op_indexing_progress: float


class GetResult(TypedDict):
    """`Collection.get`'s records in columnar form; fields not included are None."""

    ids: list[str]
    embeddings: npt.NDArray[np.float64] | None
    documents: list[str | None] | None
    uris: list[str | None] | None
    data: list[Any] | None
    metadatas: list[Metadata | None] | None
    included: list[Include]


class DeleteResult(TypedDict):
    deleted: int


class QueryResult(TypedDict):
    """`Collection.query`'s records, one columnar batch per query, nearest first."""

    ids: list[list[str]]
    embeddings: list[npt.NDArray[np.float64]] | None
    documents: list[list[str | None]] | None
    uris: list[list[str | None]] | None
    data: list[list[Any]] | None
    metadatas: list[list[Metadata | None]] | None
    distances: list[list[float]] | None
    included: list[Include]
