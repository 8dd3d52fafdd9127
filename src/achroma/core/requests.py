"""Read and delete requests as the client classes hand them to a backend: validated,
normalised, typed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from achroma.core.filters import DocumentNode, WhereNode
from achroma.core.models import Include
from achroma.core.search_filter import SearchNode


@dataclass(frozen=True)
class RecordFilter:
    """Which records a request reads or deletes: all of them, or those matching every part
    given (ids, metadata filter, document filter; filters parsed by `core.filters`; a
    Search's filter, which mixes all three, as `mixed`)."""

    ids: list[str] | None = None
    where: WhereNode | None = None
    where_document: DocumentNode | None = None
    mixed: SearchNode | None = None

    @property
    def has_predicate(self) -> bool:
        """Whether a metadata, document or Search filter is given."""
        return self.where is not None or self.where_document is not None or self.mixed is not None

    @property
    def is_all(self) -> bool:
        return self.ids is None and not self.has_predicate


@dataclass(frozen=True)
class GetRequest:
    """`Collection.get`: records in insertion order, paged."""

    filter: RecordFilter = field(default_factory=RecordFilter)
    limit: int | None = None
    offset: int | None = None
    include: tuple[Include, ...] = ("metadatas", "documents")


@dataclass(frozen=True)
class QueryRequest:
    """`Collection.query`: the `n_results` nearest records to each row of `embeddings`."""

    embeddings: npt.NDArray[np.float32]
    n_results: int
    filter: RecordFilter = field(default_factory=RecordFilter)
    include: tuple[Include, ...] = ("metadatas", "documents", "distances")


@dataclass(frozen=True)
class DeleteRequest:
    """`Collection.delete`: records matching `filter`, at most `limit` of them."""

    filter: RecordFilter
    limit: int | None = None
