"""The saved index of one collection: immutable generations behind an atomically replaced pointer.

    indexes/<id>.json              the pointer: format, generation, seq, dimension, space,
                                   sizes, checksums
    indexes/<id>.<gen>.usearch     the HNSW graph of that generation (format 3: without the
                                   live nodes' vectors, see `graph_file`; format 2: USearch's
                                   own file, vectors included)
    indexes/<id>.<gen>.npz         its vector groups and hash table (`VectorGroups`)
    indexes/<id>.lock              held while a generation is written and the pointer replaced

A generation's files are written under fresh names, flushed to disk and renamed into place
before the pointer names them, so a reader never sees a half-written file, and several
processes saving at once never write to one file. Before a file is read, its size and
checksum are checked against the pointer (format 3: of the whole graph file, which is read
into memory; format 2: of its first bytes, as the file is mapped, and a truncated HNSW file
can crash the process when mapped); a file that does not match is never used: the index is
rebuilt from SQLite instead. A process that has mapped an older format 2 generation keeps
reading it after a newer one replaces it (an unlinked file lives on while mapped).

Format 3 (written since the graph file left out the vectors) puts the vectors back from
SQLite on load (`VectorIndex.load`); format 2 files, written by earlier versions, are still
read, and replaced by format 3 at the next save.
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
from achroma.engine.graph_file import FREE_KEY, GraphFile, GraphFileError, strip

FORMAT = 3
# Pointer formats this version reads.
READ_FORMATS = (2, 3)
# Bytes at the start of a format 2 graph file covered by its pointer's checksum.
HEAD_BYTES = 1 << 16


@dataclass
class Saved:
    """A saved generation: a USearch index mapped read-only (format 2), or a graph file
    still to be given its vectors from SQLite (format 3)."""

    graph: Index | None
    stripped: GraphFile | None
    groups: dict[str, npt.NDArray[np.uint64]]
    seq: int
    churn: int
    nodes: int


class _Unusable(Exception):
    """The saved index fails a check; the message says which, naming the file."""


class _Missing(_Unusable):
    """A file the pointer names is gone: a concurrent save may have replaced it."""

    def __init__(self, message: str, meta: dict[str, Any]) -> None:
        super().__init__(message)
        self.meta = meta  # the pointer that named it


@dataclass
class _Verified:
    """A generation whose pointer and files passed every check."""

    meta: dict[str, Any]
    graph_file: Path
    graph: bytes  # the graph file's contents (format 3; format 2 files are mapped)
    groups: bytes  # the groups file's contents


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

    def _name(self, file: Path) -> str:
        return f"{self.dir.name}/{file.name}"

    def _pointer_json(self) -> Any:
        name = self._name(self.pointer)
        try:
            return json.loads(self.pointer.read_text())
        except FileNotFoundError:
            raise _Unusable(f"{name} is missing") from None
        except OSError as exc:
            raise _Unusable(f"{name} cannot be read: {exc}") from None
        except ValueError:
            raise _Unusable(f"{name} is not valid JSON") from None

    def _pointer(self) -> dict[str, Any]:
        meta = self._pointer_json()
        if not isinstance(meta, dict) or meta.get("format") not in READ_FORMATS:
            raise _Unusable(
                f"{self._name(self.pointer)} is not a format {FORMAT} (or 2) index pointer"
            )
        return meta

    def _read_pointer(self) -> dict[str, Any] | None:
        try:
            return self._pointer()
        except _Unusable:
            return None

    def saved_seq(self) -> int:
        """The seq of the saved generation (0: none saved)."""
        meta = self._read_pointer()
        return int(meta["seq"]) if meta is not None and "seq" in meta else 0

    def generation(self) -> str | None:
        """The generation the pointer names (whatever its format); None when there is no
        readable pointer or it names none. Its files are the ones not to delete."""
        try:
            meta = self._pointer_json()
        except _Unusable:
            return None
        generation = meta.get("generation") if isinstance(meta, dict) else None
        return str(generation) if generation is not None else None

    # --- loading ---

    def problem(self, dimension: int, space: str) -> str | None:
        """Why the saved index fails a check of its files (pointer, sizes, checksums), naming
        the file; None when it passes them all. Blocking: run it in a worker thread.

        `load` runs the same checks; it can still refuse files that pass them (USearch
        cannot restore the graph, or its node count differs from the pointer's).
        """
        try:
            self._verified(dimension, space)
        except _Unusable as refused:
            return str(refused)
        return None

    def load(self, dimension: int, space: str) -> Saved | None:
        """Map the current generation read-only; None when there is none or it fails a check.

        Blocking: run it in a worker thread.
        """
        for _ in range(3):  # a concurrent save may replace the generation under us
            try:
                return self._map(self._verified(dimension, space))
            except _Missing as missing:
                if self._read_pointer() == missing.meta:
                    return None
            except (_Unusable, OSError, ValueError, KeyError, RuntimeError, GraphFileError):
                return None
        return None

    def _verified(self, dimension: int, space: str) -> _Verified:
        """The current generation, once its pointer and files pass every check; raises
        `_Unusable` saying which failed."""
        meta = self._pointer()
        if meta.get("dimension") != dimension:
            saved = meta.get("dimension")
            raise _Unusable(f"it was saved for dimension {saved}, the collection has {dimension}")
        if meta.get("space") != space:
            saved = meta.get("space")
            raise _Unusable(f"it was saved for space {saved!r}, the collection uses {space!r}")
        generation = str(meta.get("generation"))
        graph_file = self._graph_file(generation)
        if meta["format"] == 2:
            self._checked(graph_file, HEAD_BYTES, meta, "graph_bytes", "graph_head_crc")
            graph = b""
        else:
            graph = self._checked(graph_file, -1, meta, "graph_bytes", "graph_crc")
        groups = self._checked(
            self._groups_file(generation), -1, meta, "groups_bytes", "groups_crc"
        )
        return _Verified(meta, graph_file, graph, groups)

    def _checked(
        self, file: Path, head_bytes: int, meta: dict[str, Any], size_key: str, crc_key: str
    ) -> bytes:
        """The first `head_bytes` of `file` (-1: all of it), once its size and their
        checksum match the pointer's."""
        name, pointer = self._name(file), self._name(self.pointer)
        try:
            with open(file, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                head = f.read(head_bytes)
        except FileNotFoundError:
            raise self._missing(file, meta) from None
        except OSError as exc:
            raise _Unusable(f"{name} cannot be read: {exc}") from None
        if size != meta.get(size_key):
            raise _Unusable(
                f"{name} is {size} bytes, {pointer} says {meta.get(size_key)} (truncated?)"
            )
        if zlib.crc32(head) != meta.get(crc_key):
            raise _Unusable(f"{name} does not match the checksum in {pointer}")
        return head

    def _missing(self, file: Path, meta: dict[str, Any]) -> _Missing:
        message = f"{self._name(file)} (named by {self._name(self.pointer)}) is missing"
        return _Missing(message, meta)

    def _map(self, verified: _Verified) -> Saved | None:
        meta = verified.meta
        with np.load(io.BytesIO(verified.groups), allow_pickle=False) as npz:
            groups = {name: npz[name] for name in npz.files}
        seq, churn, nodes = int(meta["seq"]), int(meta.get("churn", 0)), int(meta["nodes"])
        if meta["format"] != 2:
            stripped = GraphFile(verified.graph)
            if int(np.count_nonzero(stripped.keys != FREE_KEY)) != nodes:
                return None
            return Saved(None, stripped, groups, seq, churn, nodes)
        try:
            graph = Index.restore(str(verified.graph_file), view=True)
        except FileNotFoundError:
            raise self._missing(verified.graph_file, meta) from None
        if graph is None or len(graph) != nodes:
            return None
        return Saved(graph, None, groups, seq, churn, nodes)

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
            # USearch writes the whole index (vectors included) to a scratch file, never
            # flushed, that the graph file is read from without the live nodes' vectors.
            scratch = graph_file.with_name(graph_file.name + ".tmp")
            try:
                graph.save(str(scratch))
                stripped = strip(scratch)
            finally:
                with contextlib.suppress(OSError):
                    scratch.unlink()
            _write_durably(graph_file, stripped)
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
                "graph_bytes": len(stripped),
                "graph_crc": zlib.crc32(stripped),
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
