"""`copy`: collections from one client to another, resumable and checked.

A record is *already there* when the destination holds its id: a re-run adds only the
others, so copying twice, or again after an interruption, gives the same result as copying
once (each write is one batch, and a batch is written whole or not at all). At the end each
collection is verified: its record count on both sides, and a sample of records compared
field by field, embeddings bit for bit.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from achroma.api.client import AsyncClient
from achroma.api.collection import AsyncCollection
from achroma.api.configuration import DEFAULT_HNSW, LEGACY_FUNCTION, Recorded
from achroma.errors import NotFoundError
from achroma.progress import Progress
from achroma.transfer.pages import INCLUDE, Page, Record, SourceCollection, read_pages

# What a write carries when the destination does not say (Chroma's own default is larger).
DEFAULT_BATCH_SIZE = 1000
DEFAULT_SAMPLE = 100
# The parts of a configuration that must agree for records to mean the same on both sides.
CONFIGURATION_KEYS = ("hnsw", "spann", "embedding_function")


class SourceClient(Protocol):
    """What a copy reads collections from (`AsyncClient` is one)."""

    async def list_collections(self) -> Sequence[SourceCollection]: ...

    async def get_collection(self, name: str) -> SourceCollection: ...


class ConfigurationMismatchError(ValueError):
    """The destination already holds the collection, configured otherwise."""


@dataclass
class CollectionReport:
    """How the copy of one collection went."""

    name: str
    source_count: int
    destination_count: int = 0
    copied: int = 0
    already_there: int = 0
    sampled: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


async def copy(
    source: SourceClient,
    destination: AsyncClient,
    collections: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
    allow_different_configuration: bool = False,
    sample: int = DEFAULT_SAMPLE,
) -> list[CollectionReport]:
    """Copy collections (all of them by default) from `source` to `destination`, with their
    ids, float32 embeddings (never re-embedded), documents, metadatas, URIs, metadata and
    configuration (HNSW settings and embedding function record).

    Resumable: records whose id the destination holds are skipped. Each report holds the
    counts and the mismatches found by the final check (count, and `sample` records compared
    field by field).

    Example::

        src = await achroma.AsyncPersistentClient("./chroma")
        dst = await achroma.AsyncHttpClient(host="db.example.com", port=8000)
        for report in await achroma.copy(src, dst):
            print(report.name, report.copied, report.mismatches)

    Raises:
        ConfigurationMismatchError: if a destination collection exists with another
            configuration (unless `allow_different_configuration`).
    """
    names = list(collections) if collections else [c.name for c in await source.list_collections()]
    return [
        await copy_collection(
            await source.get_collection(name),
            destination,
            progress=progress,
            allow_different_configuration=allow_different_configuration,
            sample=sample,
        )
        for name in names
    ]


async def copy_collection(
    source: SourceCollection,
    destination: AsyncClient,
    *,
    name: str | None = None,
    progress: Progress | None = None,
    allow_different_configuration: bool = False,
    sample: int = DEFAULT_SAMPLE,
) -> CollectionReport:
    """Copy one collection into `destination` (as `name`, by default its own); see `copy`."""
    progress = progress or Progress()
    name = name or source.name
    report = CollectionReport(name, await source.count())
    target = await destination_collection(destination, name, source, allow_different_configuration)
    check_existing = await target.count() > 0  # into an empty one, every record is new
    batch_size = await destination.get_max_batch_size()
    batch_size = batch_size if batch_size > 0 else DEFAULT_BATCH_SIZE
    sampler = Sampler(sample, seed=name)
    progress.start(f"copy {name}", report.source_count)
    try:
        async for page in read_pages(source, batch_size):
            sampler.add(page)
            todo = page.without(await present(target, page.ids)) if check_existing else page
            for chunk in todo.chunks(batch_size):
                await write(target, chunk)
            report.copied += len(todo)
            report.already_there += len(page) - len(todo)
            progress.advance(len(page))
    finally:
        progress.done()
    await verify(target, report, sampler.records)
    return report


async def destination_collection(
    destination: AsyncClient, name: str, source: SourceCollection, allow_different: bool
) -> AsyncCollection:
    """The destination's collection `name`, created like `source` if missing."""
    configuration = source.configuration_json
    try:
        target = await destination.get_collection(name, embedding_function=None)
    except NotFoundError:
        return await destination.create_collection(
            name,
            configuration=creatable(configuration),
            metadata=source.metadata,
            embedding_function=None,
        )
    differing = configuration_differences(configuration, target.configuration_json)
    if differing and not allow_different:
        raise ConfigurationMismatchError(
            f"Collection {name} exists in the destination with a different configuration "
            f"({', '.join(differing)}); allow_different_configuration=True "
            "(--allow-different-configuration) copies into it anyway"
        )
    return target


def creatable(configuration: dict[str, Any]) -> dict[str, Any]:
    """`configuration=` recreating a stored configuration: its embedding function record
    is kept as it is, not rebuilt into a function (which might need keys or a model)."""
    created = {key: configuration.get(key) for key in CONFIGURATION_KEYS}
    created["embedding_function"] = Recorded(created["embedding_function"])
    return created


def configuration_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The parts of two stored configurations that differ, as `hnsw.space`-style names."""
    differing = []
    for key in CONFIGURATION_KEYS:
        x, y = _normal(key, a.get(key)), _normal(key, b.get(key))
        if isinstance(x, dict) and isinstance(y, dict) and key != "embedding_function":
            differing += [f"{key}.{k}" for k in sorted(x.keys() | y.keys()) if x.get(k) != y.get(k)]
        elif x != y:
            differing.append(key)
    return differing


def _normal(key: str, value: Any) -> Any:
    """A part of a configuration with what is left out spelled out, so that, e.g., a
    collection created with no configuration equals one created with the defaults."""
    if key == "hnsw":
        return {**DEFAULT_HNSW, **(value or {})}
    if key == "embedding_function":
        return value or LEGACY_FUNCTION
    return value or {}


async def present(target: AsyncCollection, ids: list[str]) -> set[str]:
    return set((await target.get(ids=ids, include=[]))["ids"])


async def write(target: AsyncCollection, page: Page) -> None:
    if page:
        # Columns keep None where a record has no such field: chromadb's annotations do not
        # say so, its add (and achroma's) accepts it.
        columns: dict[str, Any] = {
            "metadatas": page.metadatas,
            "documents": page.documents,
            "uris": page.uris,
        }
        await target.add(ids=page.ids, embeddings=page.embeddings, **columns)


class Sampler:
    """A uniform sample of up to `size` records of a stream (reservoir sampling), so that
    the check needs no second read of the source."""

    def __init__(self, size: int, seed: str) -> None:
        self.size, self.seen = size, 0
        self.records: list[Record] = []
        self._random = random.Random(seed)

    def add(self, page: Page) -> None:
        for i in range(len(page)):
            self.seen += 1
            if len(self.records) < self.size:
                self.records.append(page.record(i))
            elif (slot := self._random.randrange(self.seen)) < self.size:
                self.records[slot] = page.record(i)


async def verify(target: AsyncCollection, report: CollectionReport, sample: list[Record]) -> None:
    """Fill in the report's destination count, and its mismatches: a count that differs,
    and sampled records missing or different in the destination."""
    report.destination_count = await target.count()
    if report.destination_count != report.source_count:
        report.mismatches.append(
            f"count: {report.source_count} in the source, "
            f"{report.destination_count} in the destination"
        )
    report.sampled = len(sample)
    if not sample:
        return
    result = await target.get(ids=[r.id for r in sample], include=INCLUDE)
    copies = {r.id: r for r in Page.from_result(result).records()}
    for record in sample:
        copied = copies.get(record.id)
        if copied is None:
            report.mismatches.append(f"{record.id!r}: missing in the destination")
        elif differing := record.differences(copied):
            report.mismatches.append(f"{record.id!r}: {', '.join(differing)} differ")
