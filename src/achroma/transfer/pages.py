"""Pages of records as they travel between stores, and the field-by-field equality of two
copies of a record (embeddings compared as float32 bits)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from achroma.core.models import GetResult, Include

# Everything a record holds: what a copy reads, writes and compares.
INCLUDE: list[Include] = ["embeddings", "documents", "metadatas", "uris"]

# A request carries at most about this many bytes of JSON (Chroma's servers take just under
# 40 MiB), whatever the batch size allows.
REQUEST_BUDGET = 16 * 1024 * 1024
# The first page is small: the size of the records decides how many the next ones hold.
FIRST_PAGE = 256
# Bytes of JSON per float32 of an embedding, at worst ("-0.123456789012345678,").
FLOAT_BYTES = 24


class SourceCollection(Protocol):
    """What a copy reads from a collection (`AsyncCollection` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def metadata(self) -> dict[str, Any] | None: ...

    @property
    def configuration_json(self) -> dict[str, Any]: ...

    async def count(self) -> int: ...

    async def get(
        self,
        ids: Any = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        include: list[Include] = ...,
    ) -> GetResult: ...


class Record(NamedTuple):
    """One record; its embedding as little-endian float32 bytes."""

    id: str
    embedding: bytes | None
    document: str | None
    metadata: dict[str, Any] | None
    uri: str | None

    def differences(self, other: Record) -> list[str]:
        """The fields in which `other` differs (types count: 1, 1.0 and True differ)."""
        return [
            field
            for field in ("embedding", "document", "metadata", "uri")
            if not same(getattr(self, field), getattr(other, field))
        ]


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, recursively; NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def as_float32(embeddings: Any) -> npt.NDArray[np.float32] | None:
    """Embeddings as a 2-d little-endian float32 array (None stays None). Values a store
    returns as float64 were float32 to begin with, so the cast is exact."""
    if embeddings is None or not len(embeddings):
        return None
    array = np.asarray(embeddings, dtype="<f4")
    return array.reshape(len(array), -1) if array.ndim != 2 else array


@dataclass
class Page:
    """Consecutive records of a collection, one list per field (None: none has it)."""

    ids: list[str]
    embeddings: npt.NDArray[np.float32] | None
    documents: list[str | None] | None
    metadatas: list[dict[str, Any] | None] | None
    uris: list[str | None] | None

    @classmethod
    def from_result(cls, result: GetResult) -> Page:
        return cls(
            list(result["ids"]),
            as_float32(result.get("embeddings")),
            _column(result.get("documents")),
            _column(_no_empty(result.get("metadatas"))),
            _column(result.get("uris")),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dimension(self) -> int | None:
        if self.embeddings is None or not len(self.embeddings):
            return None
        return int(self.embeddings.shape[1])

    def record(self, i: int) -> Record:
        return Record(
            self.ids[i],
            self.embeddings[i].tobytes() if self.embeddings is not None else None,
            self.documents[i] if self.documents is not None else None,
            self.metadatas[i] if self.metadatas is not None else None,
            self.uris[i] if self.uris is not None else None,
        )

    def records(self) -> Iterator[Record]:
        return (self.record(i) for i in range(len(self)))

    def select(self, rows: Sequence[int]) -> Page:
        def pick(values: list[Any] | None) -> Any:
            return [values[i] for i in rows] if values is not None else None

        return Page(
            [self.ids[i] for i in rows],
            self.embeddings[list(rows)] if self.embeddings is not None else None,
            pick(self.documents),
            pick(self.metadatas),
            pick(self.uris),
        )

    def without(self, ids: set[str]) -> Page:
        """The records whose id is not in `ids`."""
        if not ids:
            return self
        return self.select([i for i, id_ in enumerate(self.ids) if id_ not in ids])

    def record_bytes(self) -> int:
        """The most bytes of JSON one of these records may take on the wire (at worst 6
        per character, escaped as \\uXXXX; a metadata's repr is about its JSON size)."""
        if not self.ids:
            return 1
        n = len(self)
        documents = self.documents or [None] * n
        uris = self.uris or [None] * n
        metadatas = self.metadatas or [None] * n
        rows = zip(self.ids, documents, uris, metadatas, strict=True)
        texts = max(
            6 * (len(id_) + len(document or "") + len(uri or "")) + 2 * len(repr(metadata))
            for id_, document, uri, metadata in rows
        )
        return FLOAT_BYTES * (self.dimension or 0) + texts + 64

    def chunks(self, batch_size: int) -> Iterator[Page]:
        """This page in writes of at most `batch_size` records and about REQUEST_BUDGET
        bytes each."""
        size = rows_per_request(self.record_bytes(), batch_size)
        for start in range(0, len(self), size):
            yield self.select(range(start, min(start + size, len(self))))


def _column(values: Any) -> Any:
    """A field's values, or None when no record has one (so that writes leave it out)."""
    if values is None:
        return None
    values = list(values)
    return values if any(v is not None for v in values) else None


def _no_empty(metadatas: Any) -> Any:
    """Metadatas with {} as None: chromadb gives {} for a record that has a URI and no
    metadata, and a write takes None there, never {}."""
    if metadatas is None:
        return None
    return [m if m else None for m in metadatas]


def rows_per_request(record_bytes: int, batch_size: int) -> int:
    return max(1, min(batch_size, REQUEST_BUDGET // max(1, record_bytes)))


async def read_pages(source: SourceCollection, batch_size: int) -> AsyncIterator[Page]:
    """Every record of `source` in its order, in pages sized for requests of `batch_size`
    records and about REQUEST_BUDGET bytes. Reads until a page comes back empty, so that a
    server capping its pages below the limit asked for loses nothing."""
    offset, limit = 0, min(batch_size, FIRST_PAGE)
    largest = 1
    while True:
        page = Page.from_result(await source.get(limit=limit, offset=offset, include=INCLUDE))
        if not page:
            return
        yield page
        offset += len(page)
        largest = max(largest, page.record_bytes())
        limit = rows_per_request(largest, batch_size)
