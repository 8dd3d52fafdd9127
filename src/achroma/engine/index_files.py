"""The saved index of one collection: immutable generations behind an atomically replaced pointer.

    indexes/<id>.json              the pointer: generation, seq, dimension, space, sizes, checksum
    indexes/<id>.<gen>.usearch     the HNSW graph of that generation
    indexes/<id>.<gen>.npz         its vector groups and hash table (`VectorGroups`)
    indexes/<id>.lock              held while a generation is written and the pointer replaced

A generation's files are written under fresh names, flushed to disk and renamed into place
before the pointer names them, so a reader never sees a half-written file, and several
processes saving at once never write to one file. A process that has mapped an older
generation keeps reading it after a newer one replaces it (an unlinked file lives on while
mapped). Before a file is mapped, its size and the checksum of its first bytes are checked
against the pointer: a file that does not match is never mapped (a truncated HNSW file can
crash the process when mapped); the index is rebuilt from SQLite instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from achroma.engine.filelock import FileLock

FORMAT = 2
# Bytes at the start of a graph file covered by the pointer's checksum (USearch's headers).
HEAD_BYTES = 1 << 16


@dataclass
class Saved:
    """A saved generation, mapped read-only."""

    graph: Index
    groups: dict[str, npt.NDArray[np.uint64]]
    seq: int
    churn: int


class IndexFiles:
    """The files of one collection's index in `directory`."""

    def __init__(self, directory: Path, collection_id: str) -> None:
        self.dir = directory
        self.id = collection_id
        self.pointer = directory / f"{collection_id}.json"

    def _graph_file(self, generation: str) -> Path:
        return self.dir / f"{self.id}.{generation}.usearch"

    def _groups_file(self, generation: str) -> Path:
        return self.dir / f"{self.id}.{generation}.npz"

    def _read_pointer(self) -> dict[str, Any] | None:
        try:
            meta: dict[str, Any] = json.loads(self.pointer.read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None

    # --- loading ---

    def load(self, dimension: int, space: str) -> Saved | None:
        """Map the current generation read-only; None when there is none or it fails a check.

        Blocking: run it in a worker thread.
        """
        for _ in range(3):  # a concurrent save may replace the generation under us
            meta = self._read_pointer()
            if meta is None or meta.get("dimension") != dimension or meta.get("space") != space:
                return None
            try:
                return self._load(meta)
            except FileNotFoundError:
                if self._read_pointer() == meta:
                    return None
            except (OSError, ValueError, KeyError, RuntimeError):
                return None
        return None

    def _load(self, meta: dict[str, Any]) -> Saved | None:
        generation = str(meta["generation"])
        graph_file, groups_file = self._graph_file(generation), self._groups_file(generation)
        with open(graph_file, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(HEAD_BYTES)
        if size != meta["graph_bytes"] or zlib.crc32(head) != meta["graph_head_crc"]:
            return None
        raw = groups_file.read_bytes()
        if len(raw) != meta["groups_bytes"] or zlib.crc32(raw) != meta["groups_crc"]:
            return None
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            groups = {name: npz[name] for name in npz.files}
        graph = Index.restore(str(graph_file), view=True)
        if graph is None or len(graph) != meta["nodes"]:
            return None
        return Saved(graph, groups, int(meta["seq"]), int(meta.get("churn", 0)))

    # --- saving ---

    def save(
        self,
        graph: Index,
        groups: dict[str, npt.NDArray[np.uint64]],
        meta: dict[str, Any],
        force: bool,
    ) -> bool:
        """Write a new generation and point at it, unless one as new (`meta["seq"]`) is
        already saved (`force`: replace it anyway). Blocking: run it in a worker thread.

        Never creates the store's directory: raises FileNotFoundError when it is gone.
        """
        if not self.dir.parent.is_dir():
            raise FileNotFoundError(self.dir.parent)
        self.dir.mkdir(exist_ok=True)
        with FileLock(self.dir / f"{self.id}.lock"):
            current = self._read_pointer()
            if current is not None and not force and int(current["seq"]) >= int(meta["seq"]):
                return False
            generation = uuid.uuid4().hex[:16]
            graph_file = self._graph_file(generation)
            tmp = graph_file.with_name(graph_file.name + ".tmp")
            graph.save(str(tmp))
            _flush(tmp)
            with open(tmp, "rb") as f:
                head = f.read(HEAD_BYTES)
            graph_bytes = tmp.stat().st_size
            os.replace(tmp, graph_file)
            buffer = io.BytesIO()
            np.savez(
                buffer, hashes=groups["hashes"], nodes=groups["nodes"], members=groups["members"]
            )
            raw = buffer.getvalue()
            _write_durably(self._groups_file(generation), raw)
            pointer = {
                **meta,
                "format": FORMAT,
                "generation": generation,
                "nodes": len(graph),
                "graph_bytes": graph_bytes,
                "graph_head_crc": zlib.crc32(head),
                "groups_bytes": len(raw),
                "groups_crc": zlib.crc32(raw),
            }
            _write_durably(self.pointer, json.dumps(pointer).encode())
            _flush_directory(self.dir)
            self._remove_generations(keep=generation)
        return True

    def _remove_generations(self, keep: str | None) -> None:
        """Delete every file of this collection but the pointer, the lock and `keep`'s."""
        kept = {self.pointer.name, f"{self.id}.lock"}
        if keep is not None:
            kept |= {self._graph_file(keep).name, self._groups_file(keep).name}
        for f in self.dir.glob(f"{self.id}.*"):
            if f.name not in kept:
                with contextlib.suppress(OSError):
                    f.unlink()

    def remove(self) -> None:
        """Delete all of this collection's index files (its collection is gone)."""
        if not self.dir.is_dir():
            return
        self._remove_generations(keep=None)
        for f in (self.pointer, self.dir / f"{self.id}.lock"):
            with contextlib.suppress(OSError):
                f.unlink()


def _flush(file: Path) -> None:
    fd = os.open(file, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(file: Path, data: bytes) -> None:
    tmp = file.with_name(f"{file.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, file)


def _flush_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
