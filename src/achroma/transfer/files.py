"""Export files: one collection in a portable file, JSON lines or (with pyarrow) Parquet.

JSON lines: a header line, then one record per line::

    {"format": "achroma-export", "version": 1, "collection": "docs", "metadata": {...},
     "configuration": {...}, "dimension": 384, "count": 1200}
    {"id": "a", "embedding": "<base64>", "document": "...", "metadata": {...}, "uri": null}

An embedding is the base64 of its little-endian float32 bytes: exact to the bit (decimal
text would round-trip only through careful float formatting, and take four times the
space). Strings are JSON strings written as ASCII, so NUL and every code point survive.

Parquet: the header (as JSON) in the schema's ``achroma`` metadata key; columns ``id``,
``embedding`` (fixed-size lists of float32), ``document``, ``metadata`` (JSON text, since
values differ in type from record to record) and ``uri``.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

import anyio
import anyio.to_thread
import numpy as np

from achroma.api.client import AsyncClient
from achroma.core.models import GetResult, Include
from achroma.progress import Progress
from achroma.transfer.copy import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_SAMPLE,
    CollectionReport,
    copy_collection,
)
from achroma.transfer.pages import Page, Record, SourceCollection, read_pages

Format = Literal["jsonl", "parquet"]
FORMAT_NAME = "achroma-export"
FORMAT_VERSION = 1
PARQUET_KEY = b"achroma"
PARQUET_INSTALL = "pip install 'achroma[parquet]'"


def file_format(path: str | Path, format: Format | None = None) -> Format:
    """The format given, else the one the file name implies (``.parquet``: Parquet)."""
    if format is not None:
        return format
    return "parquet" if Path(path).suffix.lower() in (".parquet", ".pq") else "jsonl"


def _pyarrow() -> tuple[Any, Any]:
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError as exc:
        raise ImportError(f"Parquet files need pyarrow: {PARQUET_INSTALL}") from exc


def _header(source: SourceCollection, count: int, dimension: int | None) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "collection": source.name,
        "metadata": source.metadata,
        "configuration": source.configuration_json,
        "dimension": dimension,
        "count": count,
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


# --- writing ---


class _JsonLinesWriter:
    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self._file: BinaryIO = path.open("wb")
        self._file.write(_dumps(header) + b"\n")

    def write(self, page: Page) -> None:
        self._file.writelines(
            _dumps(
                {
                    "id": r.id,
                    "embedding": base64.b64encode(r.embedding).decode("ascii")
                    if r.embedding is not None
                    else None,
                    "document": r.document,
                    "metadata": r.metadata,
                    "uri": r.uri,
                }
            )
            + b"\n"
            for r in page.records()
        )

    def close(self) -> None:
        self._file.close()


class _ParquetWriter:
    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self._pa, pq = _pyarrow()
        pa, dimension = self._pa, header["dimension"]
        vector = pa.list_(pa.float32(), dimension) if dimension else pa.list_(pa.float32())
        self._schema = pa.schema(
            [
                ("id", pa.string()),
                ("embedding", vector),
                ("document", pa.string()),
                ("metadata", pa.string()),
                ("uri", pa.string()),
            ],
            metadata={PARQUET_KEY: _dumps(header)},
        )
        self._writer = pq.ParquetWriter(str(path), self._schema)

    def write(self, page: Page) -> None:
        pa, n = self._pa, len(page)
        if page.embeddings is not None:
            values = pa.array(page.embeddings.reshape(-1), type=pa.float32())
            embeddings = pa.FixedSizeListArray.from_arrays(values, page.embeddings.shape[1])
            embeddings = embeddings.cast(self._schema.field("embedding").type)
        else:
            embeddings = pa.nulls(n, self._schema.field("embedding").type)
        metadatas = page.metadatas or [None] * n
        columns = [
            pa.array(page.ids, pa.string()),
            embeddings,
            pa.array(page.documents or [None] * n, pa.string()),
            pa.array([json.dumps(m) if m is not None else None for m in metadatas], pa.string()),
            pa.array(page.uris or [None] * n, pa.string()),
        ]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))

    def close(self) -> None:
        self._writer.close()


async def export_collection(
    source: SourceCollection,
    file: str | Path,
    *,
    format: Format | None = None,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write every record of `source` to `file` (see the module for the formats) and return
    how many. The file appears whole or not at all: it is written beside, then renamed."""
    progress = progress or Progress()
    path, kind = Path(file), file_format(file, format)
    partial = path.with_name(path.name + ".partial")
    count = await source.count()
    writer: _JsonLinesWriter | _ParquetWriter | None = None
    written = 0

    def opened(dimension: int | None) -> _JsonLinesWriter | _ParquetWriter:
        header = _header(source, count, dimension)
        return (_ParquetWriter if kind == "parquet" else _JsonLinesWriter)(partial, header)

    progress.start(f"export {source.name}", count)
    try:
        async for page in read_pages(source, batch_size):
            if writer is None:
                writer = await anyio.to_thread.run_sync(opened, page.dimension)
            await anyio.to_thread.run_sync(writer.write, page)
            written += len(page)
            progress.advance(len(page))
        if writer is None:
            writer = await anyio.to_thread.run_sync(opened, None)
        await anyio.to_thread.run_sync(writer.close)
        writer = None
        os.replace(partial, path)
    finally:
        progress.done()
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return written


# --- reading ---


def _record(line: bytes) -> Record:
    r = json.loads(line)
    embedding = base64.b64decode(r["embedding"]) if r["embedding"] is not None else None
    return Record(r["id"], embedding, r["document"], r["metadata"], r["uri"])


def _json_lines(path: Path) -> tuple[dict[str, Any], Iterator[Record]]:
    with path.open("rb") as file:
        first = file.readline()
    try:
        header = json.loads(first or b"null")
    except ValueError:
        header = None  # not JSON: ExportFile says what it is not

    def records() -> Iterator[Record]:
        with path.open("rb") as file:
            file.readline()
            yield from (_record(line) for line in file if line.strip())

    return header, records()


def _parquet(path: Path) -> tuple[dict[str, Any], Iterator[Record]]:
    _, pq = _pyarrow()
    parquet = pq.ParquetFile(str(path))
    metadata = parquet.schema_arrow.metadata or {}
    header = json.loads(metadata.get(PARQUET_KEY, b"null"))

    def records() -> Iterator[Record]:
        for batch in parquet.iter_batches():
            columns = batch.to_pydict()
            embedding = batch.column("embedding")
            vectors: list[bytes | None]
            if embedding.null_count == 0 and header.get("dimension"):
                flat = embedding.flatten().to_numpy().astype("<f4")
                vectors = [row.tobytes() for row in flat.reshape(len(batch), -1)]
            else:
                vectors = [
                    np.asarray(v, "<f4").tobytes() if v is not None else None
                    for v in columns["embedding"]
                ]
            for i, id_ in enumerate(columns["id"]):
                meta = columns["metadata"][i]
                yield Record(
                    id_,
                    vectors[i],
                    columns["document"][i],
                    json.loads(meta) if meta is not None else None,
                    columns["uri"][i],
                )

    return header, records()


class ExportFile:
    """An export file as a copy's source (read in order, once). Open one with
    `ExportFile.open(path)`."""

    def __init__(self, header: dict[str, Any], records: Iterator[Record]) -> None:
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise ValueError("Not an achroma export file (its header is missing)")
        if header.get("version") != FORMAT_VERSION:
            raise ValueError(f"Unsupported export format version {header.get('version')!r}")
        self.header = header
        self._records = records
        self._position = 0

    @classmethod
    def open(cls, file: str | Path, format: Format | None = None) -> ExportFile:
        path = Path(file)
        reader = _parquet if file_format(path, format) == "parquet" else _json_lines
        return cls(*reader(path))

    @property
    def name(self) -> str:
        return str(self.header["collection"])

    @property
    def metadata(self) -> dict[str, Any] | None:
        metadata: dict[str, Any] | None = self.header.get("metadata")
        return metadata

    @property
    def configuration_json(self) -> dict[str, Any]:
        configuration: dict[str, Any] = self.header.get("configuration") or {}
        return configuration

    async def count(self) -> int:
        return int(self.header.get("count") or 0)

    async def get(
        self,
        ids: Any = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        include: list[Include] = ["metadatas", "documents"],  # noqa: B006
    ) -> GetResult:
        if ids is not None or (offset or 0) != self._position:
            raise ValueError("An export file is read in order, from its start")
        records = await anyio.to_thread.run_sync(self._take, limit)
        self._position += len(records)
        dimension = self.header.get("dimension")
        embeddings = None
        if records and all(r.embedding is not None for r in records):
            raw = b"".join(r.embedding for r in records if r.embedding is not None)
            embeddings = np.frombuffer(raw, "<f4").reshape(len(records), dimension or -1)
        return GetResult(
            ids=[r.id for r in records],
            embeddings=embeddings,
            documents=[r.document for r in records],
            uris=[r.uri for r in records],
            data=None,
            metadatas=[r.metadata for r in records],
            included=list(include),
        )

    def _take(self, limit: int | None) -> list[Record]:
        taken: list[Record] = []
        for record in self._records:
            taken.append(record)
            if limit is not None and len(taken) >= limit:
                break
        return taken


async def import_collection(
    destination: AsyncClient,
    file: str | Path,
    *,
    name: str | None = None,
    format: Format | None = None,
    progress: Progress | None = None,
    allow_different_configuration: bool = False,
    sample: int = DEFAULT_SAMPLE,
) -> CollectionReport:
    """Add the records of an export file to `destination` (into `name`, by default the
    collection it was exported from), resumably and checked, as `copy` does."""
    source = await anyio.to_thread.run_sync(ExportFile.open, file, format)
    return await copy_collection(
        source,
        destination,
        name=name,
        progress=progress,
        allow_different_configuration=allow_different_configuration,
        sample=sample,
    )
