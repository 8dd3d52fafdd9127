"""Planning a write: which ids of a batch are inserted, which update stored records, and
the final (merged) metadata of each."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from achroma.core.records import RecordBatch
from achroma.core.sparse import metadata_to_wire
from achroma.engine.index import Keys, Vectors
from achroma.engine.records import INTERNAL_PREFIX, Inserts, Updates, encode_metadata

logger = logging.getLogger("achroma")


@dataclass(frozen=True)
class WritePlan:
    """What one write does to SQLite, and which of the updated records get a new vector."""

    inserts: Inserts
    updates: Updates
    vector_keys: Keys = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    vectors: Vectors | None = None

    @property
    def empty(self) -> bool:
        return not self.inserts.ids and not self.updates.keys

    def all_vectors(self, new_keys: Keys) -> Vectors:
        """Vectors of the inserted records, then of the updated ones (as `new_keys`,
        `vector_keys`)."""
        parts = [self.inserts.embeddings] if len(new_keys) else []
        if self.vectors is not None:
            parts.append(self.vectors)
        if len(parts) == 1:  # (the plan's own copy already: no second one)
            return np.ascontiguousarray(parts[0], dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def merge_metadata(stored: str | None, change: dict[str, Any]) -> str | None:
    """Chroma's update semantics: keys are merged in, None removes a key, and a record left
    with no keys has no metadata."""
    merged: dict[str, Any] = json.loads(stored) if stored is not None else {}
    for key, value in change.items():
        if key.startswith(INTERNAL_PREFIX):
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return json.dumps(metadata_to_wire(merged)) if merged else None


# Types whose values `json.loads(json.dumps(v))` gives back as they are.
_PLAIN = frozenset((str, int, float, bool))


def _new_metadata(metadata: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
    """A new record's metadata as stored (None values dropped; see `encode_metadata`), and
    as decoding that JSON gives it back (None: decode it)."""
    if metadata is None:
        return None, None
    kept = {k: v for k, v in metadata.items() if v is not None}
    if not kept:
        return None, None
    if any(k.startswith(INTERNAL_PREFIX) for k in kept):
        return encode_metadata(kept), None
    wire = metadata_to_wire(kept)
    encoded = json.dumps(wire)
    for v in wire.values():
        kind = type(v)
        if kind not in _PLAIN and not (kind is list and type(v[0]) in _PLAIN):
            return encoded, None  # (validated lists are non-empty, of one type)
    return encoded, wire


def plan_write(
    batch: RecordBatch,
    stored: dict[str, tuple[int, str | None]],
    insert_new: bool,
    change_existing: bool,
) -> WritePlan:
    n = len(batch)
    new_rows = [i for i in range(n) if batch.ids[i] not in stored] if insert_new else []
    old_rows = [i for i in range(n) if batch.ids[i] in stored] if change_existing else []
    if not insert_new:
        missing = [batch.ids[i] for i in range(n) if batch.ids[i] not in stored]
        if missing:
            logger.warning(
                "update: ignoring %d ids that do not exist: %s",
                len(missing),
                ", ".join(missing[:10]),
            )

    def column(values: list[Any] | None, rows: list[int]) -> list[Any]:
        return [values[i] for i in rows] if values is not None else [None] * len(rows)

    embeddings = batch.embeddings
    encoded = [_new_metadata(m) for m in column(batch.metadatas, new_rows)]
    inserts = Inserts(
        ids=[batch.ids[i] for i in new_rows],
        embeddings=(
            embeddings[new_rows] if embeddings is not None else np.empty((0, 0), np.float32)
        ),
        documents=column(batch.documents, new_rows),
        uris=column(batch.uris, new_rows),
        metadatas=[m for m, _ in encoded],
        decoded=[d for _, d in encoded],
    )
    keys = [stored[batch.ids[i]][0] for i in old_rows]
    changes = column(batch.metadatas, old_rows)
    metadatas = [
        stored[batch.ids[i]][1]
        if change is None
        else merge_metadata(stored[batch.ids[i]][1], change)
        for i, change in zip(old_rows, changes, strict=False)
    ]
    updates = Updates(
        keys=keys,
        embeddings=embeddings[old_rows] if embeddings is not None else None,
        documents=column(batch.documents, old_rows),
        uris=column(batch.uris, old_rows),
        metadatas=metadatas,
        metadata_changed=[c is not None for c in changes],
    )
    if embeddings is not None and old_rows:
        return WritePlan(inserts, updates, np.asarray(keys, dtype=np.uint64), embeddings[old_rows])
    return WritePlan(inserts, updates)
